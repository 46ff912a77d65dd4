-- The security model as the catalog shows it: the group roles, ownership, where privileged code lives,
-- who may use which schema and table, and that objects created later (by any area) are secured the
-- moment they exist.
BEGIN;
SELECT plan(31);

SELECT is(
    (
        SELECT count(*)::int FROM pg_roles AS r
        WHERE
            r.rolname = any(security.group_roles()) AND NOT r.rolcanlogin AND NOT r.rolsuper
            AND NOT r.rolbypassrls AND NOT r.rolcreaterole AND NOT r.rolcreatedb
    ),
    9, 'the nine pbm group roles exist, NOLOGIN, without superuser, BYPASSRLS, CREATEROLE or CREATEDB'
);
SELECT is_empty(
    $$SELECT r.rolname FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.member
      JOIN pg_roles g ON g.oid = am.roleid
      WHERE g.rolname = ANY(security.group_roles()) AND r.rolname = ANY(security.group_roles())$$,
    'no group role is a member of another'
);
SELECT is_empty(
    $$SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas()) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND c.relowner <> security.relation_owner(n.nspname, c.relname)::regrole
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')
                 AND d.refobjid IN (SELECT t.oid FROM pg_class t WHERE t.relowner = c.relowner)))$$,
    'every table, view and sequence of the pbm schemas is owned by pbm_owner (ETL staging and scratch by pbm_etl)'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas()) AND p.proowner <> 'pbm_owner'::regrole$$,
    'every function of the pbm schemas is owned by pbm_owner'
);
SELECT is_empty(
    $$SELECT n.nspname FROM pg_namespace n
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas()) AND n.nspowner <> 'pbm_owner'::regrole$$,
    'every pbm schema is owned by pbm_owner'
);
SELECT is_empty(
    $$SELECT n.nspname FROM pg_namespace n
      WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'public', 'pbm_meta', 'tap')
        AND n.nspname NOT IN (SELECT schema_name FROM security.schemas())$$,
    'every schema is known to security.schemas() (a new schema says who may use it, and whether it holds PHI)'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.prosecdef AND n.nspname IN (SELECT schema_name FROM security.schemas()) AND n.nspname <> 'api'$$,
    'SECURITY DEFINER functions live only in api'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.prosecdef AND n.nspname = 'api'
        AND NOT coalesce('search_path=pg_catalog, public' = ANY(p.proconfig), false)$$,
    'every SECURITY DEFINER function pins search_path = pg_catalog, public'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'api' AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
    'no api function is executable by PUBLIC'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'api' AND p.proname NOT LIKE '\_%'
        AND NOT EXISTS (SELECT FROM unnest(security.group_roles()) r
                        WHERE r <> 'pbm_owner' AND has_function_privilege(r, p.oid, 'EXECUTE'))$$,
    'every api function may be called by some pbm role (list new ones in security.api_privileges())'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'api' AND p.proname LIKE '\_%'
        AND EXISTS (SELECT FROM unnest(security.group_roles()) r
                    WHERE r <> 'pbm_owner' AND has_function_privilege(r, p.oid, 'EXECUTE'))$$,
    'private api helpers (_audit_* triggers) are granted to no role'
);
SELECT is_empty(
    $$SELECT c.oid::regclass::text || ' ' || a.grantee::regrole::text
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL aclexplode(c.relacl) a
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas())
        AND a.grantee <> 0 AND a.grantee::regrole::text <> ALL(security.group_roles())$$,
    'no role outside the pbm group roles holds a privilege on a pbm table (logins get them through their role)'
);
SELECT is_empty(
    $$SELECT r.rolname || ' ' || c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN (VALUES ('pbm_analyst'), ('pbm_bi'), ('pbm_switch')) AS r (rolname)
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas()) AND n.nspname <> 'reporting'
        AND c.relkind IN ('r', 'p', 'v', 'm')
        AND has_table_privilege(r.rolname, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')$$,
    'analysts, BI and the switch hold no privilege on any table or view outside reporting'
);
SELECT is_empty(
    $$SELECT r.rolname || ' ' || c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN (VALUES ('pbm_analyst'), ('pbm_bi')) AS r (rolname)
      WHERE n.nspname = 'reporting' AND has_table_privilege(r.rolname, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')$$,
    'analysts and BI only read reporting'
);
SELECT is(
    (
        SELECT array_agg(n.nspname::text ORDER BY n.nspname) FROM pg_namespace AS n
        WHERE
            n.nspname IN (SELECT s.schema_name FROM security.schemas() AS s)
            AND has_schema_privilege('pbm_bi', n.oid, 'USAGE')
    ),
    ARRAY['api', 'reporting'], 'pbm_bi may use schemas api and reporting only'
);
SELECT is_empty(
    $$SELECT n.nspname || ' ' || r FROM pg_namespace n CROSS JOIN unnest(security.group_roles()) r
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas()) AND r <> 'pbm_owner'
        AND has_schema_privilege(r, n.oid, 'CREATE')
        AND (n.nspname, r) NOT IN (SELECT c.schema_name, c.role_name FROM security.schema_creators() AS c)$$,
    'nobody but pbm_owner may create objects in the pbm schemas (pbm_etl its scratch schema claims_work)'
);
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('audit', 'security') AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
        AND obj_description(c.oid, 'pg_class') IS NULL
      UNION ALL
      SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('audit', 'security', 'api') AND obj_description(p.oid, 'pg_proc') IS NULL$$,
    'every table and function of audit, security and api has a comment'
);
SELECT ok(
    EXISTS (
        SELECT FROM pg_event_trigger
        WHERE evtname = 'pbm_secure_new_objects' AND evtenabled = 'O'
    ),
    'the event trigger that secures new objects is enabled'
);
SELECT is(
    (
        SELECT array_agg(a.privilege_type ORDER BY a.privilege_type) FROM pg_database AS d
        CROSS JOIN LATERAL aclexplode(d.datacl) AS a
        WHERE d.datname = current_database() AND a.grantee = 0
    ),
    NULL, 'PUBLIC may neither connect to this database nor create temporary tables in it'
);
SELECT ok(
    has_database_privilege('pbm_pharmacy', current_database(), 'CONNECT')
    AND NOT has_database_privilege('pbm_bi', current_database(), 'TEMPORARY'),
    'the pbm roles connect; BI creates no temporary tables'
);

-- Objects another area creates later are secured as they are created.
CREATE TABLE ppp.t40_statements (
    statement_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL,
    amount numeric(12, 2) NOT NULL
);
SELECT is(
    (
        SELECT relowner::regrole::text FROM pg_class
        WHERE oid = 'ppp.t40_statements'::regclass
    ), 'pbm_owner',
    'a new PHI table belongs to pbm_owner'
);
SELECT ok(
    (
        SELECT relrowsecurity AND relforcerowsecurity FROM pg_class
        WHERE oid = 'ppp.t40_statements'::regclass
    ),
    'a new PHI table has row-level security enabled and forced'
);
SELECT policies_are(
    'ppp', 't40_statements', ARRAY['service_roles_all_rows', 'member_own_rows'],
    'a new PHI table with member_id gets the service and member policies'
);
SELECT triggers_are(
    'ppp', 't40_statements', ARRAY['audit_insert', 'audit_update', 'audit_delete', 'audit_truncate'],
    'a new PHI table gets the audit triggers'
);
SELECT ok(
    has_table_privilege('pbm_member', 'ppp.t40_statements', 'SELECT')
    AND has_table_privilege('pbm_etl', 'ppp.t40_statements', 'INSERT')
    AND NOT has_table_privilege('pbm_pharmacy', 'ppp.t40_statements', 'SELECT')
    AND NOT has_table_privilege('pbm_analyst', 'ppp.t40_statements', 'SELECT'),
    'a new PHI table gets the grants of its schema (members and ETL yes, pharmacies and analysts no)'
);
ALTER TABLE ppp.t40_statements ADD COLUMN service_provider_id varchar(15);
SELECT policies_are(
    'ppp', 't40_statements', ARRAY['service_roles_all_rows', 'member_own_rows', 'pharmacy_own_rows'],
    'adding service_provider_id to a PHI table adds the pharmacy policy'
);
CREATE FUNCTION api.t40_hello() RETURNS text LANGUAGE sql STABLE RETURN 'hello';
SELECT ok(
    NOT has_function_privilege('public', 'api.t40_hello()', 'EXECUTE')
    AND (
        SELECT proowner = 'pbm_owner'::regrole FROM pg_proc
        WHERE oid = 'api.t40_hello()'::regprocedure
    ),
    'a new api function belongs to pbm_owner and PUBLIC may not execute it'
);
CREATE FUNCTION api.eligibility(p_test integer) RETURNS integer LANGUAGE sql IMMUTABLE RETURN p_test;
SELECT ok(
    has_function_privilege('pbm_switch', 'api.eligibility(integer)', 'EXECUTE')
    AND NOT has_function_privilege('pbm_bi', 'api.eligibility(integer)', 'EXECUTE'),
    'a new api function gets EXECUTE for the roles security.api_privileges() lists for its name, and only those'
);
CREATE VIEW reporting.t40_counts AS SELECT 1 AS claims;
SELECT ok(
    has_table_privilege('pbm_bi', 'reporting.t40_counts', 'SELECT')
    AND has_table_privilege('pbm_analyst', 'reporting.t40_counts', 'SELECT')
    AND NOT has_table_privilege('pbm_bi', 'reporting.t40_counts', 'INSERT'),
    'a new reporting view is readable by analysts and BI, writable by neither'
);
CREATE TABLE plan.t40_rules (rule_id bigint PRIMARY KEY, rule text NOT NULL);
SELECT triggers_are(
    'plan', 't40_rules', ARRAY['audit_insert', 'audit_update', 'audit_delete', 'audit_truncate'],
    'a new plan configuration table is audited'
);
SELECT ok(
    NOT (
        SELECT relrowsecurity FROM pg_class
        WHERE oid = 'plan.t40_rules'::regclass
    ),
    'plan configuration is not PHI: no row-level security there'
);

SELECT * FROM finish();
ROLLBACK;
