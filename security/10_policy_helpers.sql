-- What a pharmacy or member login may see, looked up for current_user in security.logins. Policies call
-- these inside a scalar subquery, so each query reads the mapping once (an InitPlan), not once per row.
-- current_user changes only through SET ROLE, which needs membership in the target role: a client cannot
-- SET its way into another pharmacy's or member's rows.

CREATE OR REPLACE FUNCTION security.login_pharmacy_npi()
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN (
    SELECT l.pharmacy_npi::text
    FROM security.logins AS l
    WHERE l.login_name = current_user AND l.role_name = 'pbm_pharmacy'
);
COMMENT ON FUNCTION security.login_pharmacy_npi() IS
'The pharmacy NPI the current login is mapped to (security.logins), NULL when it is not a mapped pharmacy login.';

CREATE OR REPLACE FUNCTION security.login_member_id()
RETURNS bigint
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN (
    SELECT l.member_id
    FROM security.logins AS l
    WHERE l.login_name = current_user AND l.role_name = 'pbm_member'
);
COMMENT ON FUNCTION security.login_member_id() IS
'The member the current login is mapped to (security.logins), NULL when it is not a mapped member login.';

-- The pbm schemas by kind. One place that says which schema holds PHI, which is audited, and which
-- roles may use it.
CREATE OR REPLACE FUNCTION security.schemas()
RETURNS TABLE (schema_name name, is_phi boolean, is_audited boolean, usage_roles name[])
LANGUAGE sql
IMMUTABLE
BEGIN ATOMIC
    SELECT
        v.schema_name::name,
        v.is_phi,
        v.is_audited,
        v.usage_roles::name[]
    FROM (
        VALUES
        -- DBA checks and partition lifecycle: operations staff may run the checks (their findings name
        -- members, which pbm_admin may read anyway); changing partitions needs the owner
        ('ops', FALSE, FALSE, '{pbm_admin}'),
        ('ref', FALSE, TRUE, '{pbm_admin,pbm_etl}'),
        ('plan', FALSE, TRUE, '{pbm_admin,pbm_etl}'),
        ('drug', FALSE, TRUE, '{pbm_admin,pbm_etl}'),
        ('network', FALSE, TRUE, '{pbm_admin,pbm_etl}'),
        ('member', TRUE, TRUE, '{pbm_admin,pbm_etl,pbm_member}'),
        ('claims', TRUE, TRUE, '{pbm_admin,pbm_etl,pbm_pharmacy,pbm_member}'),
        ('claims_archive', FALSE, FALSE, '{}'),
        ('claims_work', FALSE, FALSE, '{pbm_etl}'),
        ('ppp', TRUE, TRUE, '{pbm_admin,pbm_etl,pbm_member}'),
        ('etl', FALSE, FALSE, '{pbm_admin,pbm_etl}'),
        ('audit', FALSE, FALSE, '{pbm_auditor}'),
        ('reporting', FALSE, FALSE, '{pbm_admin,pbm_analyst,pbm_bi}'),
        -- the pseudonym key and the member-to-pseudonym map: the owner's refresh functions only
        ('reporting_private', FALSE, FALSE, '{}'),
        (
            'api', FALSE, FALSE,
            '{pbm_admin,pbm_etl,pbm_switch,pbm_analyst,pbm_bi,pbm_pharmacy,pbm_member,pbm_auditor}'
        ),
        ('security', FALSE, TRUE, '{pbm_admin,pbm_etl,pbm_auditor,pbm_pharmacy,pbm_member}')
    ) AS v (schema_name, is_phi, is_audited, usage_roles);
END;
COMMENT ON FUNCTION security.schemas() IS
'The pbm schemas: PHI (row-level security, forced, and audit on every table), audited (audit on every table), and the roles granted USAGE.';

-- Who besides the owner may create objects in a schema: the batch adjudicator rebuilds its scratch table
-- (CREATE TABLE AS) at every run, as pbm_etl.
CREATE OR REPLACE FUNCTION security.schema_creators()
RETURNS TABLE (schema_name name, role_name name)
LANGUAGE sql
IMMUTABLE
BEGIN ATOMIC
    SELECT
        v.schema_name::name,
        v.role_name::name
    FROM (VALUES ('claims_work', 'pbm_etl')) AS v (schema_name, role_name);
END;
COMMENT ON FUNCTION security.schema_creators() IS
'Roles other than pbm_owner granted CREATE on a pbm schema (scratch schemas only).';

-- Table privileges, the one source of truth: every table and view of a pbm schema gets exactly these
-- (security.secure_object revokes anything else from the pbm roles). table_name NULL = every table of
-- the schema. Pharmacy and member logins additionally get SELECT on the PHI tables that carry their
-- scoping column (service_provider_id, member_id), where a policy limits them to their own rows.
CREATE OR REPLACE FUNCTION security.table_privileges()
RETURNS TABLE (schema_name name, table_name name, role_name name, privileges text)
LANGUAGE sql
IMMUTABLE
BEGIN ATOMIC
    SELECT
        v.schema_name::name,
        v.table_name::name,
        v.role_name::name,
        v.privileges
    FROM (
        VALUES
        ('ref', NULL, 'pbm_admin', 'SELECT'),
        ('ref', NULL, 'pbm_etl', 'SELECT'),
        ('plan', NULL, 'pbm_admin', 'SELECT, INSERT, UPDATE, DELETE'),
        ('plan', NULL, 'pbm_etl', 'SELECT'),
        ('drug', NULL, 'pbm_admin', 'SELECT, INSERT, UPDATE, DELETE'),
        ('drug', NULL, 'pbm_etl', 'SELECT, INSERT, UPDATE'),
        ('network', NULL, 'pbm_admin', 'SELECT, INSERT, UPDATE, DELETE'),
        ('network', NULL, 'pbm_etl', 'SELECT, INSERT, UPDATE'),
        ('member', NULL, 'pbm_admin', 'SELECT, INSERT, UPDATE'),
        ('member', NULL, 'pbm_etl', 'SELECT, INSERT, UPDATE'),
        -- the history trigger replaces a version changed twice on one day
        ('member', 'member_history', 'pbm_admin', 'DELETE'),
        ('member', 'member_history', 'pbm_etl', 'DELETE'),
        ('claims', NULL, 'pbm_admin', 'SELECT'),
        ('claims', NULL, 'pbm_etl', 'SELECT, INSERT, UPDATE'),
        -- a claims file whose every line was rejected leaves no empty claims batch behind
        ('claims', 'batches', 'pbm_etl', 'DELETE'),
        ('ppp', NULL, 'pbm_admin', 'SELECT, INSERT, UPDATE'),
        ('ppp', NULL, 'pbm_etl', 'SELECT, INSERT, UPDATE'),
        -- scratch tables of claims.adjudicate_batch (PHI, emptied every run)
        ('claims_work', NULL, 'pbm_etl', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'),
        ('etl', NULL, 'pbm_admin', 'SELECT'),
        ('etl', NULL, 'pbm_etl', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'),
        ('audit', NULL, 'pbm_auditor', 'SELECT'),
        ('reporting', NULL, 'pbm_admin', 'SELECT'),
        ('reporting', NULL, 'pbm_analyst', 'SELECT'),
        ('reporting', NULL, 'pbm_bi', 'SELECT'),
        ('ops', NULL, 'pbm_admin', 'SELECT'),
        ('security', 'logins', 'pbm_admin', 'SELECT'),
        ('security', 'logins', 'pbm_auditor', 'SELECT'),
        ('security', 'logins', 'pbm_pharmacy', 'SELECT'),
        ('security', 'logins', 'pbm_member', 'SELECT')
    ) AS v (schema_name, table_name, role_name, privileges);
END;
COMMENT ON FUNCTION security.table_privileges() IS
'The table privileges of the pbm roles by schema (table_name NULL = all its tables): the only source of table grants; anything else is revoked when an object is secured.';

-- Who owns a relation: pbm_owner, except the tables pbm_etl empties and refills at every run (feed staging,
-- the batch adjudicator's scratch tables). TRUNCATE ... RESTART IDENTITY and ANALYZE need ownership in
-- PostgreSQL 15; those tables are neither audited nor under row-level security, and hold nothing pbm_etl
-- does not write itself.
CREATE OR REPLACE FUNCTION security.relation_owner(p_schema name, p_relation name)
RETURNS name
LANGUAGE sql
IMMUTABLE
RETURN
CASE
    WHEN p_schema = 'claims_work' OR (p_schema = 'etl' AND p_relation LIKE 'stage\_%') THEN 'pbm_etl'
    ELSE 'pbm_owner'
END::name;
COMMENT ON FUNCTION security.relation_owner(name, name) IS
'The role that owns a relation of a pbm schema: pbm_etl for etl.stage_* and claims_work.* (emptied and refilled by it), pbm_owner for everything else.';

CREATE OR REPLACE FUNCTION security.group_roles()
RETURNS name[]
LANGUAGE sql
IMMUTABLE
RETURN ARRAY[
    'pbm_owner', 'pbm_admin', 'pbm_etl', 'pbm_switch', 'pbm_analyst', 'pbm_bi', 'pbm_pharmacy', 'pbm_member',
    'pbm_auditor'
]::name[];
COMMENT ON FUNCTION security.group_roles() IS 'The nine pbm group roles (NOLOGIN; every login is granted exactly one).';

-- Who may call which api function (by name, whatever its arguments). security.secure_object grants
-- EXECUTE by this list as a function is created; PUBLIC never may. An api function nobody is listed for
-- can be called by nobody but the owner (and a catalog test says so).
CREATE OR REPLACE FUNCTION security.api_privileges()
RETURNS TABLE (function_name name, role_name name)
LANGUAGE sql
IMMUTABLE
BEGIN ATOMIC
    SELECT
        v.function_name::name,
        v.role_name::name
    FROM (
        VALUES
        -- real-time adjudication: the switch, and operations staff answering pharmacies
        ('adjudicate', 'pbm_switch'),
        ('adjudicate', 'pbm_admin'),
        ('reverse', 'pbm_switch'),
        ('reverse', 'pbm_admin'),
        ('eligibility', 'pbm_switch'),
        ('eligibility', 'pbm_admin'),
        ('formulary_lookup', 'pbm_switch'),
        ('formulary_lookup', 'pbm_admin'),
        -- prior authorization workflow: operations staff (clinical review)
        ('pa_submit', 'pbm_admin'),
        ('pa_request_information', 'pbm_admin'),
        ('pa_information_received', 'pbm_admin'),
        ('pa_approve', 'pbm_admin'),
        ('pa_deny', 'pbm_admin'),
        ('pa_withdraw', 'pbm_admin'),
        -- M3P: elections and opt-outs taken by operations staff (the function takes any member_id, so no
        -- member login may call it), payments also from payment files
        ('ppp_elect', 'pbm_admin'),
        ('ppp_opt_out', 'pbm_admin'),
        ('ppp_record_payment', 'pbm_admin'),
        ('ppp_record_payment', 'pbm_etl'),
        -- PHI lookups: operations staff, logged
        ('member_lookup', 'pbm_admin')
    ) AS v (function_name, role_name);
END;
COMMENT ON FUNCTION security.api_privileges() IS
'Which pbm roles may EXECUTE which api function (by name). Add a line here with every new api function.';

-- The rules above changed: apply them to what exists (on a fresh database security.secure_all does not
-- exist yet; security/30_secure_objects.sql ends with it).
DO $$
BEGIN
    IF to_regprocedure('security.secure_all()') IS NOT NULL THEN
        EXECUTE 'SELECT security.secure_all()';
    END IF;
END;
$$;
