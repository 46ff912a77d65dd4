-- Securing objects: every table, view, sequence, function and type of a pbm schema is owned by pbm_owner
-- and carries exactly the grants of security.table_privileges(); every table of a PHI schema has row-level
-- security enabled and forced with the standard policies; every table of a PHI or audited schema has the
-- audit triggers. The event trigger pbm_secure_new_objects (migration 0040) calls security.secure_object
-- for each object as it is created, so tables other areas add later are protected the moment they exist;
-- this file ends by securing everything that exists (security.secure_all).

CREATE OR REPLACE FUNCTION security.put_policy(
    p_table regclass, p_name name, p_command text, p_roles name[], p_using text, p_check text
)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_roles text := (SELECT string_agg(quote_ident(r), ', ' ORDER BY r) FROM unnest(p_roles) AS r);
    v_definition text := format(
        'FOR %s TO %s USING (%s)%s', p_command, v_roles, p_using,
        CASE WHEN p_check IS NOT NULL THEN format(' WITH CHECK (%s)', p_check) ELSE '' END
    );
    v_comment text;
    v_exists boolean;
BEGIN
    -- The definition a policy was made with is its comment: an unchanged policy is left alone, so securing
    -- a table again takes no lock on it.
    SELECT obj_description(p.oid, 'pg_policy') INTO v_comment
    FROM pg_catalog.pg_policy AS p
    WHERE p.polrelid = p_table AND p.polname = p_name;
    v_exists := found;
    IF v_exists AND v_comment IS NOT DISTINCT FROM 'security.put_policy: ' || v_definition THEN
        RETURN;
    END IF;
    IF v_exists THEN
        EXECUTE format('DROP POLICY %I ON %s', p_name, p_table);
    END IF;
    EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE %s', p_name, p_table, v_definition);
    EXECUTE format('COMMENT ON POLICY %I ON %s IS %L', p_name, p_table, 'security.put_policy: ' || v_definition);
END;
$$;
COMMENT ON FUNCTION security.put_policy(regclass, name, text, name[], text, text) IS
'Creates policy p_name on p_table (permissive, p_command, roles, USING and WITH CHECK), or remakes it when its definition (kept as its comment) changed; leaves an unchanged policy alone.';

CREATE OR REPLACE FUNCTION security.has_column(p_table regclass, p_column name)
RETURNS boolean
LANGUAGE sql
STABLE
RETURN EXISTS (
    SELECT
    FROM pg_catalog.pg_attribute AS a
    WHERE a.attrelid = p_table AND a.attname = p_column AND a.attnum > 0 AND NOT a.attisdropped  -- noqa: RF03
);
COMMENT ON FUNCTION security.has_column(regclass, name) IS 'True when p_table has a (not dropped) column p_column.';

CREATE OR REPLACE FUNCTION security.protect_phi_table(p_table regclass)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_rls boolean;
    v_forced boolean;
BEGIN
    SELECT c.relrowsecurity, c.relforcerowsecurity INTO v_rls, v_forced
    FROM pg_catalog.pg_class AS c
    WHERE c.oid = p_table;
    IF NOT v_rls THEN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
    END IF;
    -- Forced: the owner, and so every SECURITY DEFINER api function, goes through the policies too. Its
    -- access is the explicit policy below, not an invisible bypass, and a restrictive policy binds it.
    IF NOT v_forced THEN
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', p_table);
    END IF;
    -- The service roles see every row; what they may do is their table privileges. A constant true
    -- costs nothing per row, so a 1,000,000-row batch INSERT pays no policy overhead.
    PERFORM security.put_policy(
        p_table, 'service_roles_all_rows', 'ALL', '{pbm_owner,pbm_admin,pbm_etl}', 'true', 'true'
    );
    IF security.has_column(p_table, 'member_id') THEN
        PERFORM security.put_policy(
            p_table, 'member_own_rows', 'SELECT', '{pbm_member}', 'member_id = (SELECT security.login_member_id())',
            NULL
        );
    END IF;
    IF security.has_column(p_table, 'service_provider_id') THEN
        PERFORM security.put_policy(
            p_table, 'pharmacy_own_rows', 'SELECT', '{pbm_pharmacy}',
            'service_provider_id = (SELECT security.login_pharmacy_npi())', NULL
        );
    END IF;
END;
$$;
COMMENT ON FUNCTION security.protect_phi_table(regclass) IS
'Row-level security, enabled and forced, on a PHI table: service roles (owner, admin, ETL) all rows; pbm_member its own rows where the table has member_id; pbm_pharmacy its own rows where it has service_provider_id. Idempotent.';

CREATE OR REPLACE FUNCTION security.audit_function_name(p_table regclass)
RETURNS name
LANGUAGE sql
STABLE
RETURN (
    SELECT
        CASE
            WHEN length(format('_audit_%s_%s', n.nspname, c.relname)) <= 63
                THEN format('_audit_%s_%s', n.nspname, c.relname)
            ELSE format('_audit_%s', c.oid)
        END::name
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE c.oid = p_table
);
COMMENT ON FUNCTION security.audit_function_name(regclass) IS
'The name of the generated audit trigger function of p_table in api: _audit_<schema>_<table>.';

CREATE OR REPLACE FUNCTION security.enable_audit(p_table regclass)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_name name := security.audit_function_name(p_table);
    v_function regprocedure;
    v_source text := audit.trigger_source(p_table);
BEGIN
    -- The table's own trigger function, (re)made when its source changed (a column added, say).
    IF NOT EXISTS (
        SELECT
        FROM pg_catalog.pg_proc AS p
        WHERE p.pronamespace = 'api'::regnamespace AND p.proname = v_name AND p.prosrc = v_source
    ) THEN
        EXECUTE format(
            'CREATE OR REPLACE FUNCTION api.%I() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER '
            'SET search_path = pg_catalog, public AS %L', v_name, v_source
        );
        EXECUTE format(
            'COMMENT ON FUNCTION api.%I() IS %L', v_name,
            format('Audit trigger of %s (statement level, transition tables), generated by security.enable_audit.', p_table)
        );
    END IF;
    v_function := format('api.%I()', v_name)::regprocedure;
    -- Made inside the event trigger's own work, it is secured here: a SECURITY DEFINER function must
    -- never stay with the superuser that ran the migration.
    IF (SELECT p.proowner FROM pg_catalog.pg_proc AS p WHERE p.oid = v_function) <> 'pbm_owner'::regrole THEN
        EXECUTE format('ALTER FUNCTION %s OWNER TO pbm_owner', v_function);
    END IF;
    IF has_function_privilege('public', v_function, 'EXECUTE') THEN
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    END IF;
    IF (
        SELECT count(*)
        FROM pg_catalog.pg_trigger AS t
        WHERE
            t.tgrelid = p_table AND t.tgfoid = v_function
            AND t.tgname IN ('audit_insert', 'audit_update', 'audit_delete', 'audit_truncate')
    ) = 4 THEN
        RETURN;
    END IF;
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER audit_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION %s', p_table, v_function
    );
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER audit_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows '
        'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %s', p_table, v_function
    );
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER audit_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION %s', p_table, v_function
    );
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER audit_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s',
        p_table, v_function
    );
END;
$$;
COMMENT ON FUNCTION security.enable_audit(regclass) IS
'Audits p_table: generates its trigger function api._audit_<schema>_<table> (audit.trigger_source) when new or changed, and puts the four statement-level triggers audit_insert, audit_update, audit_delete and audit_truncate on it. Idempotent.';

CREATE OR REPLACE FUNCTION security.on_audit_tables_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_table regclass;
BEGIN
    -- A table's insert mode changed: regenerate its trigger function.
    FOR v_table IN
        SELECT to_regclass(format('%I.%I', t.schema_name, t.table_name))
        FROM audit.tables AS t
    LOOP
        IF v_table IS NOT NULL AND EXISTS (
            SELECT FROM pg_catalog.pg_trigger AS t
            WHERE t.tgrelid = v_table AND t.tgname = 'audit_insert'
        ) THEN
            PERFORM security.enable_audit(v_table);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION security.on_audit_tables_change() IS
'Trigger on audit.tables: regenerates the audit trigger functions of audited tables, so an insert mode takes effect at once.';

CREATE OR REPLACE TRIGGER regenerate_audit_functions
AFTER INSERT OR UPDATE OR DELETE ON audit.tables
FOR EACH STATEMENT EXECUTE FUNCTION security.on_audit_tables_change();

CREATE OR REPLACE FUNCTION security.desired_privileges(p_relation regclass)
RETURNS TABLE (role_name name, privilege text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH
    rel AS (
        SELECT
            n.nspname,
            c.relname,
            c.relkind,
            s.is_phi
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        INNER JOIN security.schemas() AS s ON n.nspname = s.schema_name
        WHERE c.oid = p_relation  -- noqa: RF02
    ),

    rules AS (
        SELECT
            p.role_name,
            p.privileges
        FROM security.table_privileges() AS p
        INNER JOIN rel ON p.schema_name = rel.nspname
        WHERE p.table_name IS NULL OR p.table_name = rel.relname
    )

    -- tables: the rules of their schema (and table)
    SELECT DISTINCT
        r.role_name,
        btrim(x.privilege) AS privilege
    FROM rules AS r
    CROSS JOIN LATERAL unnest(string_to_array(r.privileges, ',')) AS x (privilege)
    CROSS JOIN rel
    WHERE rel.relkind IN ('r', 'p', 'f')
    UNION
    -- views and materialized views: read only
    SELECT
        r.role_name,
        'SELECT' AS privilege
    FROM rules AS r
    CROSS JOIN rel
    WHERE rel.relkind IN ('v', 'm') AND r.privileges ~ 'SELECT'
    UNION
    -- sequences: for the roles that insert into the schema's tables
    SELECT
        r.role_name,
        x.privilege
    FROM rules AS r
    CROSS JOIN rel
    CROSS JOIN (VALUES ('USAGE'), ('SELECT')) AS x (privilege)
    WHERE rel.relkind = 'S' AND r.privileges ~ 'INSERT'
    UNION
    -- PHI tables: pharmacy and member logins read the tables carrying their scoping column
    SELECT
        v.role_name::name AS role_name,
        'SELECT' AS privilege
    FROM rel
    CROSS JOIN (VALUES ('pbm_member', 'member_id'), ('pbm_pharmacy', 'service_provider_id')) AS v (role_name, col)
    WHERE rel.is_phi AND rel.relkind IN ('r', 'p') AND security.has_column(p_relation, v.col::name)  -- noqa: RF02
    EXCEPT
    -- the owner holds every privilege anyway
    SELECT
        security.relation_owner(rel.nspname, rel.relname) AS role_name,
        x.privilege
    FROM rel
    CROSS JOIN (
        VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'), ('REFERENCES'), ('TRIGGER'), ('USAGE')
    ) AS x (privilege);
END;
COMMENT ON FUNCTION security.desired_privileges(regclass) IS
'The privileges the pbm roles should hold on a table, view or sequence of a pbm schema, by security.table_privileges().';

CREATE OR REPLACE FUNCTION security.granted_privileges(p_relation regclass)
RETURNS TABLE (role_name name, privilege text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        coalesce(r.rolname, 'public') AS role_name,
        a.privilege_type AS privilege
    FROM pg_catalog.pg_class AS c
    CROSS JOIN LATERAL aclexplode(c.relacl) AS a
    LEFT JOIN pg_catalog.pg_roles AS r ON a.grantee = r.oid
    WHERE
        c.oid = p_relation AND a.grantee <> c.relowner  -- noqa: RF02
        AND (a.grantee = 0 OR r.rolname = any(security.group_roles()));
END;
COMMENT ON FUNCTION security.granted_privileges(regclass) IS
'The privileges PUBLIC and the pbm roles (but the owner) hold on a relation now.';

CREATE OR REPLACE FUNCTION security.secure_relation(p_relation oid)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
    v_kind text;
    v_object text;
    v_grant record;
    v_owner name;
    v_others text;
BEGIN
    SELECT c.oid::regclass AS rel, n.nspname, c.relname, c.relkind, c.relispartition, c.relowner, s.is_phi, s.is_audited
    INTO v
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    INNER JOIN security.schemas() AS s ON n.nspname = s.schema_name
    WHERE c.oid = p_relation;
    IF NOT found OR v.relkind NOT IN ('r', 'p', 'v', 'm', 'S', 'f') THEN
        RETURN;
    END IF;
    v_kind := CASE v.relkind
        WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
        ELSE 'TABLE'
    END;
    v_object := CASE WHEN v.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END;
    -- A sequence owned by a column (identity, serial) follows its table: ALTER TABLE ... OWNER moves it.
    v_owner := security.relation_owner(v.nspname, v.relname);
    v_others := (
        SELECT string_agg(quote_ident(r), ', ') FROM unnest(security.group_roles()) AS r WHERE r <> v_owner
    );
    -- (Only a member of the target role may hand an object to it: a DBA who is not is left as is.)
    IF v.relowner <> v_owner::regrole AND pg_has_role(current_user, v_owner, 'MEMBER') AND NOT (
        v.relkind = 'S' AND EXISTS (
            SELECT
            FROM pg_catalog.pg_depend AS d
            WHERE
                d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = v.rel AND d.objsubid = 0
                AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
        )
    ) THEN
        EXECUTE format('ALTER %s %s OWNER TO %I', v_kind, v.rel, v_owner);
    END IF;
    -- Partitions are reached through their parent, whose grants, policies and triggers apply; only the
    -- owner may touch a partition directly.
    IF v.relispartition THEN
        RETURN;
    END IF;

    -- Grants: exactly security.desired_privileges(); written only when they differ, so securing an object
    -- again changes no catalog row (concurrent GRANTs on one table would fail).
    IF EXISTS (
        SELECT d.role_name, d.privilege FROM security.desired_privileges(v.rel) AS d
        EXCEPT
        SELECT g.role_name, g.privilege FROM security.granted_privileges(v.rel) AS g
    ) OR EXISTS (
        SELECT g.role_name, g.privilege FROM security.granted_privileges(v.rel) AS g
        EXCEPT
        SELECT d.role_name, d.privilege FROM security.desired_privileges(v.rel) AS d
    ) THEN
        EXECUTE format('REVOKE ALL ON %s %s FROM PUBLIC, %s', v_object, v.rel, v_others);
        FOR v_grant IN
            SELECT d.role_name, string_agg(d.privilege, ', ') AS privileges
            FROM security.desired_privileges(v.rel) AS d
            GROUP BY d.role_name
        LOOP
            EXECUTE format('GRANT %s ON %s %s TO %I', v_grant.privileges, v_object, v.rel, v_grant.role_name);
        END LOOP;
    END IF;

    IF v.is_phi AND v.relkind IN ('r', 'p') THEN
        PERFORM security.protect_phi_table(v.rel);
    END IF;
    IF v.is_audited AND v.relkind IN ('r', 'p') THEN
        PERFORM security.enable_audit(v.rel);
    END IF;
END;
$$;
COMMENT ON FUNCTION security.secure_relation(oid) IS
'Secures one table, view, materialized view or sequence of a pbm schema: owner by security.relation_owner(), grants by security.table_privileges(), row-level security on PHI tables, audit triggers on PHI and audited tables.';

CREATE OR REPLACE FUNCTION security.secure_routine(p_routine oid)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
    v_role name;
BEGIN
    SELECT p.oid::regprocedure AS fn, n.nspname, p.proname, p.proowner, p.prokind INTO v
    FROM pg_catalog.pg_proc AS p
    INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
    INNER JOIN security.schemas() AS s ON n.nspname = s.schema_name
    WHERE p.oid = p_routine;
    IF NOT found THEN
        RETURN;
    END IF;
    IF v.proowner <> 'pbm_owner'::regrole THEN
        EXECUTE format('ALTER ROUTINE %s OWNER TO pbm_owner', v.fn);
    END IF;
    -- api functions are callable by the roles their own file grants EXECUTE to, never by PUBLIC.
    IF v.nspname = 'api' AND has_function_privilege('public', v.fn, 'EXECUTE') THEN
        EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', v.fn);
    END IF;
    FOR v_role IN
        SELECT a.role_name
        FROM security.api_privileges() AS a
        WHERE
            v.nspname = 'api' AND a.function_name = v.proname
            AND NOT has_function_privilege(a.role_name, v.fn, 'EXECUTE')
    LOOP
        EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO %I', v.fn, v_role);
    END LOOP;
END;
$$;
COMMENT ON FUNCTION security.secure_routine(oid) IS
'Secures one function or procedure of a pbm schema: owner pbm_owner; in api, EXECUTE revoked from PUBLIC and granted to the roles security.api_privileges() lists for its name.';

CREATE OR REPLACE FUNCTION security.secure_type(p_type oid)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
BEGIN
    SELECT t.oid::regtype AS typ, t.typtype, t.typowner INTO v
    FROM pg_catalog.pg_type AS t
    INNER JOIN pg_catalog.pg_namespace AS n ON t.typnamespace = n.oid
    INNER JOIN security.schemas() AS s ON n.nspname = s.schema_name
    -- a table's row type and array types follow their table or element
    WHERE t.oid = p_type AND t.typrelid = 0 AND t.typelem = 0;
    IF found AND v.typowner <> 'pbm_owner'::regrole THEN
        EXECUTE format('ALTER %s %s OWNER TO pbm_owner', CASE WHEN v.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END, v.typ);
    END IF;
END;
$$;
COMMENT ON FUNCTION security.secure_type(oid) IS 'Gives a type or domain of a pbm schema to pbm_owner.';

CREATE OR REPLACE FUNCTION security.secure_object(p_classid oid, p_objid oid)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_previous text := coalesce(current_setting('pbm.securing', TRUE), '');
BEGIN
    -- A superuser or a member of pbm_owner secures anything. pbm_etl creates only its scratch tables
    -- (claims_work): a table an ETL login creates belongs to that login until it is handed to pbm_etl here,
    -- so that the next ETL login may drop it and the login itself may be dropped.
    IF NOT pg_catalog.pg_has_role(current_user, 'pbm_owner', 'MEMBER') AND NOT (
        p_classid = 'pg_catalog.pg_class'::regclass
        AND EXISTS (
            SELECT
            FROM pg_catalog.pg_class AS c
            INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
            WHERE
                c.oid = p_objid
                AND pg_catalog.pg_has_role(current_user, security.relation_owner(n.nspname, c.relname), 'MEMBER')
                AND security.relation_owner(n.nspname, c.relname) <> 'pbm_owner'
        )
    ) THEN
        RETURN;
    END IF;
    -- The DDL below fires the event trigger again; this setting tells it to stand aside.
    PERFORM set_config('pbm.securing', 'on', TRUE);
    IF p_classid = 'pg_catalog.pg_class'::regclass THEN
        PERFORM security.secure_relation(p_objid);
    ELSIF p_classid = 'pg_catalog.pg_proc'::regclass THEN
        PERFORM security.secure_routine(p_objid);
    ELSIF p_classid = 'pg_catalog.pg_type'::regclass THEN
        PERFORM security.secure_type(p_objid);
    END IF;
    PERFORM set_config('pbm.securing', v_previous, TRUE);
END;
$$;
COMMENT ON FUNCTION security.secure_object(oid, oid) IS
'Secures one object (pg_class, pg_proc or pg_type entry) of a pbm schema; called by the event trigger pbm_secure_new_objects.';

CREATE OR REPLACE FUNCTION security.secure_schemas()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_creator name;
    v record;
    v_others text := (
        SELECT string_agg(quote_ident(r), ', ') FROM unnest(security.group_roles()) AS r WHERE r <> 'pbm_owner'
    );
BEGIN
    FOR v IN
        SELECT s.schema_name, s.usage_roles, n.nspowner
        FROM security.schemas() AS s
        INNER JOIN pg_catalog.pg_namespace AS n ON s.schema_name = n.nspname
    LOOP
        IF v.nspowner <> 'pbm_owner'::regrole THEN
            EXECUTE format('ALTER SCHEMA %I OWNER TO pbm_owner', v.schema_name);
        END IF;
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC, %s', v.schema_name, v_others);
        FOR v_creator IN
            SELECT c.role_name FROM security.schema_creators() AS c
            WHERE c.schema_name = v.schema_name
        LOOP
            EXECUTE format('GRANT CREATE ON SCHEMA %I TO %I', v.schema_name, v_creator);
        END LOOP;
        IF cardinality(v.usage_roles) > 0 THEN
            EXECUTE format(
                'GRANT USAGE ON SCHEMA %I TO %s', v.schema_name,
                (SELECT string_agg(quote_ident(r), ', ') FROM unnest(v.usage_roles) AS r)
            );
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION security.secure_schemas() IS
'Gives the pbm schemas to pbm_owner; USAGE only to the roles security.schemas() lists, CREATE only to those security.schema_creators() lists.';

CREATE OR REPLACE FUNCTION security.secure_database()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    -- Database privileges are not copied by CREATE DATABASE ... TEMPLATE: a copy gets them here again
    -- (pbm db migrate --force, pbm db mask, or SELECT security.secure_all()).
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format(
        'GRANT CONNECT ON DATABASE %I TO %s', current_database(),
        (SELECT string_agg(quote_ident(r), ', ') FROM unnest(security.group_roles()) AS r)
    );
    EXECUTE format(
        'GRANT TEMPORARY ON DATABASE %I TO pbm_owner, pbm_admin, pbm_etl, pbm_analyst', current_database()
    );
END;
$$;
COMMENT ON FUNCTION security.secure_database() IS
'CONNECT on this database only to the pbm group roles (and superusers); TEMPORARY to owner, admin, ETL and analyst.';

CREATE OR REPLACE FUNCTION security.secure_all()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
    v_previous text := coalesce(current_setting('pbm.securing', TRUE), '');
BEGIN
    PERFORM set_config('pbm.securing', 'on', TRUE);
    PERFORM audit.create_month_partitions(
        date_trunc('month', current_date)::date, (date_trunc('month', current_date) + interval '12 months')::date
    );
    PERFORM security.secure_schemas();
    PERFORM security.secure_database();
    FOR v IN
        SELECT c.oid
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        INNER JOIN security.schemas() AS s ON n.nspname = s.schema_name
        ORDER BY c.relispartition, c.oid
    LOOP
        PERFORM security.secure_relation(v.oid);
    END LOOP;
    FOR v IN
        SELECT p.oid
        FROM pg_catalog.pg_proc AS p
        INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
        INNER JOIN security.schemas() AS s ON n.nspname = s.schema_name
    LOOP
        PERFORM security.secure_routine(v.oid);
    END LOOP;
    FOR v IN
        SELECT t.oid
        FROM pg_catalog.pg_type AS t
        INNER JOIN pg_catalog.pg_namespace AS n ON t.typnamespace = n.oid
        INNER JOIN security.schemas() AS s ON n.nspname = s.schema_name
    LOOP
        PERFORM security.secure_type(v.oid);
    END LOOP;
    -- The non-production marker decides whether pbm db mask may run: its changes are on record too.
    PERFORM security.enable_audit('pbm_meta.environment');
    -- Generated audit functions no trigger uses any more (their table was dropped or renamed).
    FOR v IN
        SELECT p.oid::regprocedure AS fn
        FROM pg_catalog.pg_proc AS p
        WHERE
            p.pronamespace = 'api'::regnamespace AND p.proname LIKE '\_audit\_%'
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS t WHERE t.tgfoid = p.oid)
    LOOP
        EXECUTE format('DROP FUNCTION %s', v.fn);
    END LOOP;
    PERFORM set_config('pbm.securing', v_previous, TRUE);
END;
$$;
COMMENT ON FUNCTION security.secure_all() IS
'Secures every object of the pbm schemas (see security.secure_object), the schemas and the database, and makes the next 12 monthly audit partitions. Idempotent; run by pbm db migrate when security/ changes.';

SELECT security.secure_all();
