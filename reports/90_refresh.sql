-- Refreshing reporting: the member pseudonyms, the months of the claim fact that changed, then every
-- materialized view of reporting concurrently (BI sessions keep reading), in dependency order, all in
-- one transaction so every dashboard shows the same data. `pbm report refresh` and the nightly ETL call
-- reporting.refresh(); the key rotation rebuilds everything.

CREATE OR REPLACE VIEW reporting.materialized_views AS
WITH RECURSIVE matviews AS (
    SELECT c.oid
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE c.relkind = 'm' AND n.nspname IN ('reporting', 'reporting_private')
),

edges AS (
    SELECT DISTINCT
        rw.ev_class AS dependent,
        d.refobjid AS dependency
    FROM pg_catalog.pg_rewrite AS rw
    INNER JOIN pg_catalog.pg_depend AS d
        ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND rw.oid = d.objid
    WHERE
        rw.ev_class IN (SELECT m.oid FROM matviews AS m)
        AND d.refobjid IN (SELECT m.oid FROM matviews AS m)
        AND d.refobjid <> rw.ev_class
),

levels AS (
    SELECT
        m.oid,
        0 AS depth
    FROM matviews AS m
    UNION ALL
    SELECT
        e.dependent,
        l.depth + 1 AS depth
    FROM levels AS l
    INNER JOIN edges AS e ON l.oid = e.dependency
)

SELECT
    l.oid::regclass AS view_name,
    max(l.depth) AS refresh_level
FROM levels AS l
GROUP BY l.oid;
COMMENT ON VIEW reporting.materialized_views IS
'The materialized views reporting.refresh() refreshes, with their level: a view is refreshed after the views it reads (higher level = later).';
COMMENT ON COLUMN reporting.materialized_views.view_name IS 'Materialized view';
COMMENT ON COLUMN reporting.materialized_views.refresh_level IS '0 reads only tables; n reads views of level n-1 or lower';

CREATE OR REPLACE FUNCTION reporting.refresh(p_full boolean DEFAULT FALSE)
RETURNS TABLE (step text, rows_written bigint, seconds numeric)
LANGUAGE plpgsql
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_step_started timestamptz;
    v_months date[] := '{}';
    v_fact_rows bigint := 0;
    v_views integer := 0;
    v_view regclass;
    v record;
BEGIN
    -- One refresh at a time (a second caller waits).
    PERFORM pg_catalog.pg_advisory_xact_lock(7143210060);

    v_step_started := clock_timestamp();
    step := 'member pseudonyms';
    rows_written := reporting_private.refresh_member_keys(p_full);
    seconds := round(extract(EPOCH FROM clock_timestamp() - v_step_started)::numeric, 3);
    RETURN NEXT;

    v_step_started := clock_timestamp();
    FOR v IN SELECT * FROM reporting.refresh_fact_claims(p_full) LOOP
        v_months := v_months || v.month;
        v_fact_rows := v_fact_rows + CASE WHEN v.action = 'rebuilt' THEN v.fact_rows ELSE 0 END;
    END LOOP;
    IF cardinality(v_months) > 0 THEN
        ANALYZE reporting.fact_claims;
    END IF;
    step := format('fact_claims (%s month(s) rebuilt)', cardinality(v_months));
    rows_written := v_fact_rows;
    seconds := round(extract(EPOCH FROM clock_timestamp() - v_step_started)::numeric, 3);
    RETURN NEXT;

    FOR v_view IN
        SELECT mv.view_name FROM reporting.materialized_views AS mv
        ORDER BY mv.refresh_level, mv.view_name::text
    LOOP
        v_step_started := clock_timestamp();
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v_view);
        v_views := v_views + 1;
        step := v_view::text;
        rows_written := NULL;
        seconds := round(extract(EPOCH FROM clock_timestamp() - v_step_started)::numeric, 3);
        RETURN NEXT;
    END LOOP;

    INSERT INTO reporting.refresh_log (
        started_at, finished_at, full_rebuild, months_rebuilt, fact_rows_written, views_refreshed
    )
    VALUES (v_started, clock_timestamp(), p_full, v_months, v_fact_rows, v_views);
    step := 'total';
    rows_written := v_fact_rows;
    seconds := round(extract(EPOCH FROM clock_timestamp() - v_started)::numeric, 3);
    RETURN NEXT;
END;
$$;
COMMENT ON FUNCTION reporting.refresh(boolean) IS
'Brings reporting up to date in one transaction: member pseudonyms, the months of reporting.fact_claims whose claims changed (all months when p_full), then every materialized view of reporting concurrently in dependency order; logs the run in reporting.refresh_log and returns one row per step with rows written and seconds. Run by the owner (pbm report refresh, the nightly ETL).';
REVOKE ALL ON FUNCTION reporting.refresh(boolean) FROM public;

CREATE OR REPLACE FUNCTION reporting.rotate_pseudonym_key()
RETURNS TABLE (step text, rows_written bigint, seconds numeric)
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE reporting_private.pseudonym_key SET secret = public.gen_random_bytes(32), created_at = now();
    RETURN QUERY SELECT * FROM reporting.refresh(TRUE);
END;
$$;
COMMENT ON FUNCTION reporting.rotate_pseudonym_key() IS
'Replaces the pseudonym key with a new random one and rebuilds reporting in full: every member and claim pseudonym changes (after a suspected disclosure, or to cut the link with extracts already handed out).';
REVOKE ALL ON FUNCTION reporting.rotate_pseudonym_key() FROM public;

-- The nightly ETL (role pbm_etl) refreshes reporting through this: REFRESH MATERIALIZED VIEW needs the
-- views' owner, so the function runs as its owner (pbm_owner once the security area secures it).
CREATE OR REPLACE FUNCTION api.refresh_reporting(p_full boolean DEFAULT FALSE)
RETURNS TABLE (step text, rows_written bigint, seconds numeric)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
BEGIN ATOMIC
    SELECT
        r.step,
        r.rows_written,
        r.seconds
    FROM reporting.refresh(p_full) AS r;
END;
COMMENT ON FUNCTION api.refresh_reporting(boolean) IS
'Brings reporting up to date (reporting.refresh: member pseudonyms, changed months of the claim fact, every materialized view concurrently), as the owner of reporting; p_full rebuilds every month. Returns one row per step with rows written and seconds. For the nightly ETL and administrators.';
REVOKE ALL ON FUNCTION api.refresh_reporting(boolean) FROM public;

-- EXECUTE for the roles of the security area, once they exist.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pbm_etl')
        AND EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pbm_admin') THEN
        GRANT EXECUTE ON FUNCTION api.refresh_reporting(boolean) TO pbm_etl, pbm_admin;
    END IF;
END;
$$;
