-- Runbook: refresh of the reporting schema (materialized views and the claim fact).
--
-- What: brings reporting up to date in one transaction: member pseudonyms, the months of the claim fact whose
--       claims changed (every month with full=on), then every materialized view of reporting concurrently in
--       dependency order, so BI sessions keep reading the previous data until the commit
--       (api.refresh_reporting, the same as `pbm report refresh`); prints each step and the refresh log.
-- When: nightly after the ETL loads and the batch adjudication (after `pbm etl nightly` in the same cron
--       entry), after the monthly M3P billing run, and with full=on after a change to the reporting rules.
-- How:  psql -X -v ON_ERROR_STOP=1 -d pbm -f sql/refresh_reporting.sql
--           -v full=on     rebuild every month of the claim fact (default off: changed months only)
--       As the owner, pbm_admin or pbm_etl. Safe to re-run: a second run with nothing changed rebuilds no
--       month; a concurrent run waits for the first (advisory lock).
\if :{?full}
\else
\set full off
\endif

\echo '== refresh steps'
SELECT
    r.step,
    r.rows_written,
    r.seconds
FROM api.refresh_reporting(:'full') AS r;

\echo '== last refreshes'
SELECT
    l.refresh_id,
    l.started_at,
    l.finished_at,
    l.full_rebuild,
    cardinality(l.months_rebuilt) AS months_rebuilt,
    l.fact_rows_written,
    l.views_refreshed
FROM reporting.refresh_log AS l
ORDER BY l.refresh_id DESC
LIMIT 3;
