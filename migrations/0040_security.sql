-- Security foundations: the pbm group roles (cluster-wide, created idempotently), the login mapping that
-- row-level security is keyed on, the append-only audit log partitioned by month, the non-production
-- marker that `pbm db mask` requires, and the event trigger that secures objects other areas create
-- later. The policies, grants and audit triggers themselves live in security/ (repeatable).

-- ---------------------------------------------------------------------------------------------------
-- Group roles. Roles belong to the cluster, not to this database: another pbm database of the same
-- server (a test run, a masked copy) may have created them already, or may be creating them right now.
-- ---------------------------------------------------------------------------------------------------
DO $$
DECLARE
    v_role text;
    v_existing record;
BEGIN
    FOREACH v_role IN ARRAY ARRAY[
        'pbm_owner', 'pbm_admin', 'pbm_etl', 'pbm_switch', 'pbm_analyst', 'pbm_bi', 'pbm_pharmacy',
        'pbm_member', 'pbm_auditor'
    ]
    LOOP
        SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcanlogin INTO v_existing
        FROM pg_catalog.pg_roles AS r
        WHERE r.rolname = v_role;
        IF NOT found THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created a moment ago by the migration of another database of this cluster
            END;
        ELSIF v_existing.rolsuper OR v_existing.rolbypassrls OR v_existing.rolcreaterole THEN
            RAISE EXCEPTION 'role % exists with SUPERUSER, BYPASSRLS or CREATEROLE: refusing to use it as a pbm group role',
                v_role
                USING ERRCODE = '42501',
                HINT = format('ALTER ROLE %I NOSUPERUSER NOBYPASSRLS NOCREATEROLE, then migrate again', v_role);
        ELSIF v_existing.rolcanlogin THEN
            RAISE WARNING 'role % can log in; pbm group roles should be NOLOGIN (logins are granted one of them)',
                v_role;
        END IF;
    END LOOP;
END;
$$;

COMMENT ON ROLE pbm_owner IS 'pbm group role: owns every object of the pbm schemas; migrations, partition maintenance, audit retention.';
COMMENT ON ROLE pbm_admin IS 'pbm group role: operations staff; plan configuration, member corrections, api functions.';
COMMENT ON ROLE pbm_etl IS 'pbm group role: nightly feeds and batch jobs (staging, eligibility merge, batch adjudication, billing).';
COMMENT ON ROLE pbm_switch IS 'pbm group role: the pharmacy switch; EXECUTE on the real-time api functions only.';
COMMENT ON ROLE pbm_analyst IS 'pbm group role: analysts; SELECT on the de-identified reporting schema only.';
COMMENT ON ROLE pbm_bi IS 'pbm group role: BI tools; read-only SELECT on the de-identified reporting schema only.';
COMMENT ON ROLE pbm_pharmacy IS 'pbm group role: a pharmacy login sees its own claims (security.logins maps it to an NPI).';
COMMENT ON ROLE pbm_member IS 'pbm group role: a member login sees their own records (security.logins maps it to a member).';
COMMENT ON ROLE pbm_auditor IS 'pbm group role: compliance; reads the audit log and the login mapping.';

-- ---------------------------------------------------------------------------------------------------
-- Login mapping: what a login may see. Policies read it for current_user, which a client cannot SET.
-- ---------------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS security;
COMMENT ON SCHEMA security IS
'Access control: the login mapping row-level security is keyed on, policy helpers, grants and masking (security/).';

CREATE TABLE security.logins (
    login_name name PRIMARY KEY,
    role_name name NOT NULL CONSTRAINT logins_role_is_a_pbm_group_role CHECK (
        role_name IN (
            'pbm_owner', 'pbm_admin', 'pbm_etl', 'pbm_switch', 'pbm_analyst', 'pbm_bi', 'pbm_pharmacy',
            'pbm_member', 'pbm_auditor'
        )
    ),
    pharmacy_npi char(10) REFERENCES network.pharmacies (npi),
    member_id bigint REFERENCES member.members (member_id),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by name NOT NULL DEFAULT session_user,
    CONSTRAINT logins_pharmacy_logins_have_exactly_a_pharmacy CHECK (
        (role_name = 'pbm_pharmacy') = (pharmacy_npi IS NOT NULL)
    ),
    CONSTRAINT logins_member_logins_have_exactly_a_member CHECK ((role_name = 'pbm_member') = (member_id IS NOT NULL))
);
COMMENT ON TABLE security.logins IS
'One row per database login made by `pbm user create`: its pbm group role and, for pharmacy and member logins, the pharmacy NPI or member whose rows it may see. Row-level security reads it for current_user.';
COMMENT ON COLUMN security.logins.login_name IS 'The PostgreSQL login (a cluster-wide role) this row scopes in this database';
COMMENT ON COLUMN security.logins.role_name IS 'The pbm group role the login was granted';
COMMENT ON COLUMN security.logins.pharmacy_npi IS 'Pharmacy logins: the NPI (NCPDP 201-B1) whose claims the login sees';
COMMENT ON COLUMN security.logins.member_id IS 'Member logins: the member whose records the login sees';
COMMENT ON COLUMN security.logins.created_by IS 'Session user that created the login';
CREATE INDEX logins_member_idx ON security.logins (member_id) WHERE member_id IS NOT NULL;
CREATE INDEX logins_pharmacy_idx ON security.logins (pharmacy_npi) WHERE pharmacy_npi IS NOT NULL;

-- ---------------------------------------------------------------------------------------------------
-- Non-production marker: `pbm db mask` rewrites PHI in place and runs only where this says so.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE pbm_meta.environment (
    singleton boolean PRIMARY KEY DEFAULT TRUE CONSTRAINT environment_is_one_row CHECK (singleton),
    environment text NOT NULL CONSTRAINT environment_is_known CHECK (environment IN ('production', 'non-production')),
    database_name name NOT NULL,
    database_oid oid NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT now(),
    marked_by name NOT NULL DEFAULT session_user,
    masked_at timestamptz
);
COMMENT ON TABLE pbm_meta.environment IS
'Whether this database is production or a non-production copy. No row = production. The marker names the database (name and oid) it was set in, so a copy (CREATE DATABASE ... TEMPLATE, pg_dump/restore) is not non-production until marked again.';
COMMENT ON COLUMN pbm_meta.environment.database_oid IS
'pg_database oid when marked; a copy gets a new oid, which voids the marker';
COMMENT ON COLUMN pbm_meta.environment.masked_at IS 'When pbm db mask last replaced the identifying data';

-- ---------------------------------------------------------------------------------------------------
-- Audit log: append-only, partitioned by month of logged_at.
-- ---------------------------------------------------------------------------------------------------
CREATE SEQUENCE audit.log_audit_id_seq AS bigint;
COMMENT ON SEQUENCE audit.log_audit_id_seq IS 'Audit entry identifiers (identity columns are not allowed on partitioned tables in PostgreSQL 15).';

CREATE TABLE audit.log (
    audit_id bigint NOT NULL DEFAULT nextval('audit.log_audit_id_seq'),
    logged_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    txid bigint NOT NULL DEFAULT txid_current(),
    db_user name NOT NULL DEFAULT session_user,
    app_user text DEFAULT nullif(current_setting('pbm.app_user', TRUE), ''),
    client_addr inet DEFAULT inet_client_addr(),
    application_name text DEFAULT nullif(current_setting('application_name', TRUE), ''),
    action text NOT NULL CONSTRAINT log_action_is_known CHECK (
        action IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'READ', 'MASK')
    ),
    object_name text NOT NULL,
    row_key jsonb,
    member_id bigint,
    old_values jsonb,
    new_values jsonb,
    changed_columns text[],
    row_count bigint NOT NULL DEFAULT 1 CONSTRAINT log_row_count_not_negative CHECK (row_count >= 0),
    key_ranges int8multirange,
    details jsonb,
    PRIMARY KEY (audit_id, logged_at),
    CONSTRAINT log_updates_name_their_changed_columns CHECK (action <> 'UPDATE' OR changed_columns IS NOT NULL),
    CONSTRAINT log_compact_rows_are_inserts_or_deletes_with_key_ranges CHECK (
        key_ranges IS NULL OR (action IN ('INSERT', 'DELETE') AND new_values IS NULL AND old_values IS NULL)
    ),
    CONSTRAINT log_row_entries_count_one_row CHECK (key_ranges IS NOT NULL OR action = 'MASK' OR row_count = 1)
) PARTITION BY RANGE (logged_at);
COMMENT ON TABLE audit.log IS
'Append-only audit log: every insert, update, delete and truncate of PHI, plan configuration and login mapping tables (statement-level triggers with transition tables), PHI reads through api functions, and masking. UPDATE, DELETE and TRUNCATE are refused for everyone; retention drops whole months (audit.drop_month_partition, owner only). Partitioned by month of logged_at.';
COMMENT ON COLUMN audit.log.logged_at IS 'When: the start of the statement that made the change (statement_timestamp())';
COMMENT ON COLUMN audit.log.txid IS 'Transaction id (txid_current()): entries of one transaction share it';
COMMENT ON COLUMN audit.log.db_user IS 'The authenticated database login (session_user), unchanged by SET ROLE and by SECURITY DEFINER functions';
COMMENT ON COLUMN audit.log.app_user IS 'Application user behind the login when the client says so (setting pbm.app_user; informational)';
COMMENT ON COLUMN audit.log.client_addr IS 'Client IP address (NULL over a unix socket)';
COMMENT ON COLUMN audit.log.action IS
'INSERT, UPDATE, DELETE, TRUNCATE (one entry per row removed), READ (PHI returned by an api function) or MASK (pbm db mask)';
COMMENT ON COLUMN audit.log.object_name IS 'schema.table changed, or the api function that read';
COMMENT ON COLUMN audit.log.row_key IS 'Primary key of the row as a JSON object (compact entries: the grouping key, if any)';
COMMENT ON COLUMN audit.log.member_id IS 'The member the row belongs to, when the table has member_id (accounting of disclosures)';
COMMENT ON COLUMN audit.log.old_values IS 'DELETE/TRUNCATE: the whole row; UPDATE: the changed columns before';
COMMENT ON COLUMN audit.log.new_values IS 'INSERT: the whole row; UPDATE: the changed columns after; NULL on compact entries';
COMMENT ON COLUMN audit.log.changed_columns IS 'UPDATE: the columns whose value changed, in column order (empty when none did)';
COMMENT ON COLUMN audit.log.row_count IS 'Rows this entry stands for: 1, or the rows of a compact INSERT entry';
COMMENT ON COLUMN audit.log.key_ranges IS
'Compact INSERT and DELETE entries (audit.tables): the key values inserted or deleted, as ranges; the rows themselves (or the rows they copy) hold the values';
COMMENT ON COLUMN audit.log.details IS 'Extra context: for READ the lookup made and the rows returned';

CREATE INDEX log_member_idx ON audit.log (member_id, logged_at) WHERE member_id IS NOT NULL;
CREATE INDEX log_txid_idx ON audit.log (txid);

CREATE TABLE audit.log_default PARTITION OF audit.log DEFAULT;
COMMENT ON TABLE audit.log_default IS 'Audit entries whose month has no partition yet (nothing is lost; audit.create_month_partitions moves them).';

CREATE TABLE audit.tables (
    schema_name name NOT NULL,
    table_name name NOT NULL,
    insert_mode text NOT NULL DEFAULT 'full' CONSTRAINT tables_insert_mode_is_known CHECK (
        insert_mode IN ('full', 'compact')
    ),
    delete_mode text NOT NULL DEFAULT 'full' CONSTRAINT tables_delete_mode_is_known CHECK (
        delete_mode IN ('full', 'compact')
    ),
    range_column name,
    group_columns name[] NOT NULL DEFAULT '{}',
    reason text NOT NULL,
    PRIMARY KEY (schema_name, table_name),
    CONSTRAINT tables_compact_needs_a_range_column CHECK (
        (insert_mode = 'compact' OR delete_mode = 'compact') = (range_column IS NOT NULL)
    )
);
COMMENT ON TABLE audit.tables IS
'How inserts (and deletes) of an audited table are logged when not in full (one entry per row with the whole row): compact = one entry per statement (and group) with the count and the ranges of an integer key column. Only for append-mostly tables, and queues whose rows copy audited rows; see docs/decisions.';
COMMENT ON COLUMN audit.tables.delete_mode IS
'compact only for a queue whose rows are copies of rows audited elsewhere (the key finds the old values there)';
COMMENT ON COLUMN audit.tables.range_column IS 'Integer key column whose inserted values are recorded as ranges';
COMMENT ON COLUMN audit.tables.group_columns IS 'Key columns that, with range_column, make up the primary key: one entry per group';

INSERT INTO audit.tables (schema_name, table_name, insert_mode, range_column, group_columns, reason)
VALUES
(
    'claims', 'claims', 'compact', 'claim_id', '{}',
    'Append-mostly, the batch adjudication hot path: a claim is never rewritten but for its reversal links, '
    || 'which are audited in full.'
),
(
    'claims', 'batch_claims', 'compact', 'line_no', '{batch_id}',
    'Staged requests exactly as submitted, written once per nightly file of up to 1,000,000 lines.'
),
(
    'ppp', 'statements', 'compact', 'statement_id', '{}',
    'Written once per participant and month by ppp.run_billing (1,000,000 a run); settlement and notices '
    || 'are later updates, audited in full.'
),
(
    'ppp', 'ledger', 'compact', 'ledger_entry_id', '{}',
    'Append-only by design (M3P decision): entries are never changed, only added.'
);
INSERT INTO audit.tables (schema_name, table_name, insert_mode, delete_mode, range_column, group_columns, reason)
VALUES (
    'ppp', 'unbilled', 'compact', 'compact', 'ledger_entry_id', '{}',
    'A queue of ppp.ledger entries (same key, copied values) consumed by the billing run: the ledger row '
    || 'holds what an entry said.'
);

-- Immutability: refuse UPDATE, DELETE and TRUNCATE on the log and on every one of its partitions, for
-- everyone, superusers included (statement-level triggers fire even when no row matches). Retention
-- detaches and drops whole months instead.
CREATE FUNCTION audit.refuse_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = '42501',
            HINT = 'Old months are removed whole by the owner''s retention job: audit.drop_month_partition(month)';
END;
$$;
COMMENT ON FUNCTION audit.refuse_change() IS
'Trigger: refuses UPDATE, DELETE and TRUNCATE on audit.log and its partitions (42501).';

CREATE FUNCTION audit.protect_log_table(p_table regclass)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER refuse_update_delete BEFORE UPDATE OR DELETE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()', p_table
    );
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER refuse_truncate BEFORE TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()', p_table
    );
END;
$$;
COMMENT ON FUNCTION audit.protect_log_table(regclass) IS
'Puts the refuse_update_delete and refuse_truncate triggers on p_table (the audit log or one of its partitions).';

SELECT audit.protect_log_table('audit.log');
SELECT audit.protect_log_table('audit.log_default');

CREATE FUNCTION audit.create_month_partitions(p_from date, p_to date)
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    v_month date;
    v_name text;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'audit.create_month_partitions needs p_from <= p_to (got % and %)', p_from, p_to
            USING ERRCODE = '22023';
    END IF;
    FOR v_month IN
        SELECT generate_series(date_trunc('month', p_from), date_trunc('month', p_to), interval '1 month')::date
    LOOP
        v_name := format('log_y%sm%s', to_char(v_month, 'YYYY'), to_char(v_month, 'MM'));
        CONTINUE WHEN to_regclass(format('audit.%I', v_name)) IS NOT NULL;
        EXECUTE format('CREATE TABLE audit.%I (LIKE audit.log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        PERFORM audit.protect_log_table(format('audit.%I', v_name)::regclass);
        -- Entries of this month that landed in the default partition move into the new one (the one
        -- maintenance move the immutability trigger lets through: same rows, same values).
        ALTER TABLE audit.log_default DISABLE TRIGGER refuse_update_delete;
        EXECUTE format(
            'WITH moved AS (DELETE FROM audit.log_default WHERE logged_at >= %L AND logged_at < %L RETURNING *) '
            'INSERT INTO audit.%I SELECT * FROM moved',
            v_month, (v_month + interval '1 month')::date, v_name
        );
        ALTER TABLE audit.log_default ENABLE TRIGGER refuse_update_delete;
        EXECUTE format(
            'ALTER TABLE audit.log ATTACH PARTITION audit.%I FOR VALUES FROM (%L) TO (%L)',
            v_name, v_month, (v_month + interval '1 month')::date
        );
        EXECUTE format(
            'COMMENT ON TABLE audit.%I IS %L', v_name,
            format('Audit entries logged in %s (monthly partition of audit.log).', to_char(v_month, 'YYYY-MM'))
        );
        RETURN NEXT v_name;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION audit.create_month_partitions(date, date) IS
'Creates the monthly partitions of audit.log covering p_from..p_to that do not exist yet (moving any entries of those months out of the default partition); returns the names created. Owner only.';

CREATE FUNCTION audit.drop_month_partition(p_month date)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_name text := format('log_y%sm%s', to_char(p_month, 'YYYY'), to_char(p_month, 'MM'));
BEGIN
    IF p_month >= (date_trunc('month', statement_timestamp()) - interval '6 years')::date THEN
        RAISE EXCEPTION 'audit entries of % are less than 6 years old and are kept', to_char(p_month, 'YYYY-MM')
            USING ERRCODE = '42501',
            DETAIL = 'HIPAA (45 CFR 164.316(b)(2)) asks for 6 years of retention of security documentation.';
    END IF;
    IF to_regclass(format('audit.%I', v_name)) IS NULL THEN
        RAISE EXCEPTION 'no partition audit.% for month %', v_name, to_char(p_month, 'YYYY-MM')
            USING ERRCODE = '42P01';
    END IF;
    EXECUTE format('ALTER TABLE audit.log DETACH PARTITION audit.%I', v_name);
    EXECUTE format('DROP TABLE audit.%I', v_name);
    RETURN format('audit.%I', v_name);
END;
$$;
COMMENT ON FUNCTION audit.drop_month_partition(date) IS
'Retention job (owner only): detaches and drops the audit partition of p_month, which must be more than 6 years old. The only way audit entries ever go away.';

SELECT count(*) AS audit_partitions_created
FROM audit.create_month_partitions(
    date_trunc('month', current_date)::date, (date_trunc('month', current_date) + interval '12 months')::date
);

-- ---------------------------------------------------------------------------------------------------
-- New objects are secured as they are created: an event trigger hands every table, view, sequence,
-- function and type created in a pbm schema to security.secure_object (security/, repeatable), which
-- gives it to pbm_owner, grants by the rules, and for PHI tables turns on row-level security and the
-- audit triggers. Before the repeatable exists (a fresh database, during its migrations) nothing
-- happens here: security/ then secures everything in one sweep.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION security.on_ddl_command_end()
RETURNS event_trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_object record;
BEGIN
    -- Anyone's DDL fires this (a temporary table of an analyst, say). Only the owner's members and pbm_etl
    -- (in its scratch schema) create objects in pbm schemas, and only they may use schema security.
    IF NOT pg_catalog.has_schema_privilege('security', 'USAGE') THEN
        RETURN;
    END IF;
    IF coalesce(current_setting('pbm.securing', TRUE), '') = 'on'
        OR to_regprocedure('security.secure_object(oid,oid)') IS NULL THEN
        RETURN;
    END IF;
    FOR v_object IN
        SELECT DISTINCT c.classid, c.objid
        FROM pg_catalog.pg_event_trigger_ddl_commands() AS c
        WHERE c.schema_name IS NOT NULL AND c.schema_name !~ '^pg_' AND c.schema_name <> 'public'
            AND c.command_tag IN (
                'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'CREATE VIEW', 'CREATE MATERIALIZED VIEW',
                'CREATE SEQUENCE', 'CREATE FUNCTION', 'CREATE PROCEDURE', 'CREATE TYPE', 'CREATE DOMAIN',
                'ALTER TABLE'
            )
    LOOP
        EXECUTE 'SELECT security.secure_object($1, $2)' USING v_object.classid, v_object.objid;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION security.on_ddl_command_end() IS
'Event trigger: passes objects created (or tables altered) in pbm schemas to security.secure_object.';

DO $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) THEN
        CREATE EVENT TRIGGER pbm_secure_new_objects ON ddl_command_end
        EXECUTE FUNCTION security.on_ddl_command_end();
        COMMENT ON EVENT TRIGGER pbm_secure_new_objects IS
        'Secures objects as they are created in pbm schemas (owner, grants, row-level security, audit).';
    ELSE
        RAISE WARNING 'not a superuser: event trigger pbm_secure_new_objects not created'
            USING HINT = 'After each migration run SELECT security.secure_all() (pbm db migrate --force does it).';
    END IF;
END;
$$;
