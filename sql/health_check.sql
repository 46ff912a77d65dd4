-- Runbook: database health check.
--
-- What: every health check of ops.check_health (monthly partitions missing ahead, rows in a default partition,
--       archived months not dropped, audit retention due, scheduled jobs behind: claim batches, reporting
--       refresh, M3P billing; long-running, idle-in-transaction and blocked sessions, old prepared
--       transactions; estimated table and index bloat, dead rows, invalid and unused indexes; sequences near
--       their limit, transaction id age; replication lag, inactive slots, failing WAL archiving, connections),
--       then the raw views a DBA looks at: sessions, replication, the largest relations and their bloat.
--       Warnings mean act soon; none of them means data is wrong (that is sql/accumulator_check.sql).
-- When: daily (morning), before maintenance windows, and whenever something is slow.
-- How:  psql -X -v ON_ERROR_STOP=1 -d pbm -f sql/health_check.sql
--           -v as_of=2026-11-23   business date for the partition and job checks (default today)
--       As a superuser or a member of pg_monitor (to see every session's query), or the owner. Read-only: safe
--       to run at any time. Bloat figures are estimates from the planner statistics: ANALYZE first.
\if :{?as_of}
\else
\set as_of ''
\endif

\echo '== findings (no row: nothing to report)'
SELECT
    h.severity,
    h.check_name,
    h.key,
    h.detail
FROM ops.check_health(coalesce(nullif(:'as_of', '')::date, current_date)) AS h
ORDER BY h.severity DESC, h.check_name ASC, h.key ASC;

\echo '== sessions by state'
SELECT
    a.datname,
    a.state,
    count(*) AS sessions,
    max(date_trunc('second', now() - a.xact_start)) AS oldest_transaction
FROM pg_stat_activity AS a
WHERE a.backend_type = 'client backend'
GROUP BY a.datname, a.state
ORDER BY a.datname, a.state;

\echo '== replicas (no row: none connected)'
SELECT
    r.application_name,
    r.client_addr,
    r.state,
    r.sync_state,
    r.write_lag,
    r.flush_lag,
    r.replay_lag,
    pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)) AS replay_behind
FROM pg_stat_replication AS r
WHERE NOT pg_is_in_recovery();

\echo '== the 15 largest tables and indexes with their estimated bloat'
SELECT
    b.object_name,
    b.object_kind,
    pg_size_pretty(b.actual_bytes) AS actual_size,
    pg_size_pretty(b.bloat_bytes) AS estimated_bloat,
    b.bloat_ratio
FROM ops.bloat AS b
ORDER BY b.actual_bytes DESC
LIMIT 15;

\echo '== tables most in need of vacuum'
SELECT
    t.relid::regclass AS table_name,
    t.n_live_tup,
    t.n_dead_tup,
    greatest(t.last_vacuum, t.last_autovacuum) AS last_vacuum,
    greatest(t.last_analyze, t.last_autoanalyze) AS last_analyze
FROM pg_stat_user_tables AS t
ORDER BY t.n_dead_tup DESC
LIMIT 10;
