-- The checks as one list, and the two entry points: ops.check_consistency() (every consistency check;
-- `pbm db check` fails on any row) and ops.check_health(as_of) (every health check; warnings).
-- A consistency check is a function ops.check_<name>() callable without arguments; a health check is a
-- function ops.health_<name>(...). Adding one is adding the function: the list is read from the catalog.

CREATE OR REPLACE VIEW ops.checks AS
SELECT
    CASE WHEN p.proname LIKE 'check\_%' THEN 'consistency' ELSE 'health' END AS kind,
    p.proname::text AS check_function,
    p.oid::regprocedure AS signature,
    obj_description(p.oid, 'pg_proc') AS description
FROM pg_catalog.pg_proc AS p
INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
WHERE
    n.nspname = 'ops' AND (p.proname LIKE 'check\_%' OR p.proname LIKE 'health\_%')
    AND p.proname NOT IN ('check_consistency', 'check_health');
COMMENT ON VIEW ops.checks IS
'The consistency checks (ops.check_*, run by ops.check_consistency and pbm db check) and health checks (ops.health_*, run by ops.check_health and pbm db check --health), with what each checks.';

CREATE OR REPLACE FUNCTION ops.check_consistency()
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_function text;
BEGIN
    -- One query per check (a handful), each set-based over its tables.
    FOR v_function IN
        SELECT c.check_function FROM ops.checks AS c
        WHERE c.kind = 'consistency'
        ORDER BY c.check_function
    LOOP
        RETURN QUERY EXECUTE format('SELECT * FROM ops.%I()', v_function);
    END LOOP;
END;
$$;
COMMENT ON FUNCTION ops.check_consistency() IS
'Runs every consistency check (ops.checks of kind consistency: accumulators against paid claims, reversals, claim deltas, M3P ledger and billing) and returns their findings: check name, severity (error), key (member and plan year, or claim), member_id, plan_year and a detail with expected and actual. No row = consistent. pbm db check exits 1 on any row.';

CREATE OR REPLACE FUNCTION ops.check_health(p_as_of date DEFAULT current_date)
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF p_as_of IS NULL THEN
        RAISE EXCEPTION 'check_health needs the business date' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT * FROM ops.health_partitions(p_as_of);
    RETURN QUERY SELECT * FROM ops.health_jobs(p_as_of);
    RETURN QUERY SELECT * FROM ops.health_sessions();
    RETURN QUERY SELECT * FROM ops.health_storage();
    RETURN QUERY SELECT * FROM ops.health_wraparound();
    RETURN QUERY SELECT * FROM ops.health_replication();
END;
$$;
COMMENT ON FUNCTION ops.check_health(date) IS
'Runs every health check with its default thresholds as of p_as_of (partitions ahead and default partition rows, scheduled jobs, sessions, bloat and indexes, wraparound, replication) and returns their findings (severity warning or info). For the thresholds call the ops.health_* functions themselves.';
