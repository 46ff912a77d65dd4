-- Runbook: partition maintenance of the monthly partitioned tables (claims.claims, audit.log).
--
-- What: creates the monthly partitions of claims.claims and audit.log from the month of as_of to
--       months_ahead months later (ops.create_partitions_ahead; rows of those months waiting in a default
--       partition move in); with archive_before, archives every claim month before it (detached into schema
--       claims_archive and recorded in ops.archived_partitions: ops.archive_claims_months); with
--       audit_retention=on, drops the audit months older than six years (ops.drop_expired_audit_months);
--       then shows the partitions, what is still missing, and the pg_dump commands for archived months.
-- When: monthly, on the 1st before the nightly load (cron), and after loading old claim history. Archiving
--       and audit retention: once a year, in a quiet hour, after the backup.
-- How:  psql -X -v ON_ERROR_STOP=1 -d pbm -f sql/partition_maintenance.sql
--           -v months_ahead=12           months ahead to create (default 12)
--           -v as_of=2026-12-01          business date (default today)
--           -v archive_before=2017-01-01 archive the claim months before this month (default: archive nothing;
--                                        the current and previous plan year are always kept)
--           -v audit_retention=on        drop audit months older than six years (default off)
--       As the owner (a member of pbm_owner) or a superuser. Safe to re-run: what exists is left alone, what
--       was archived stays archived.
-- Locks: attaching takes a SHARE UPDATE EXCLUSIVE lock on the parent (traffic goes on); detaching takes an
--       ACCESS EXCLUSIVE lock on it for a moment. DETACH PARTITION ... CONCURRENTLY is not possible: both
--       tables have a default partition. lock_timeout below makes the runbook give up (and fail) rather than
--       queue every claim behind a long transaction: find it with sql/health_check.sql and run again.
\if :{?months_ahead}
\else
\set months_ahead 12
\endif
\if :{?as_of}
\else
\set as_of ''
\endif
\if :{?audit_retention}
\else
\set audit_retention off
\endif

SET lock_timeout = '5s';

\echo '== partitions created (none: they all exist already)'
SELECT
    p.parent_table,
    p.partition_name
FROM ops.create_partitions_ahead(:'months_ahead', coalesce(nullif(:'as_of', '')::date, current_date)) AS p;

\if :{?archive_before}
\echo '== claim months archived into claims_archive'
SELECT
    a.month,
    a.table_name,
    a.row_count
FROM ops.archive_claims_months(:'archive_before', coalesce(nullif(:'as_of', '')::date, current_date)) AS a;
\endif

\if :audit_retention
\echo '== audit months dropped (older than six years)'
SELECT d.dropped FROM ops.drop_expired_audit_months(coalesce(nullif(:'as_of', '')::date, current_date)) AS d (dropped);
\endif

\echo '== partitions by table'
SELECT
    p.parent_table,
    count(*) FILTER (WHERE NOT p.is_default) AS monthly_partitions,
    min(p.month) AS first_month,
    max(p.month) AS last_month,
    sum(greatest(p.estimated_rows, 0)) AS estimated_rows,
    pg_size_pretty(sum(p.total_bytes)) AS total_size
FROM ops.partitions AS p
GROUP BY p.parent_table
ORDER BY p.parent_table::text;

\echo '== still to do (missing months ahead, rows in a default partition, archived months to dump and drop)'
SELECT
    h.check_name,
    h.key,
    h.detail
FROM ops.health_partitions(coalesce(nullif(:'as_of', '')::date, current_date), :'months_ahead') AS h;

\echo '== dump each archived month, check the dump, then drop it:'
SELECT
    format(
        'pg_dump -Fc -t %s -f %s.dump "$PBM_DSN" && pg_restore --list %s.dump >/dev/null && '
        || 'psql "$PBM_DSN" -c "SELECT ops.drop_archived_month(%L, %L)"',
        a.table_name, a.table_name, a.table_name, a.month, a.table_name || '.dump'
    ) AS command
FROM ops.archived_partitions AS a
WHERE a.dropped_at IS NULL
ORDER BY a.month;
