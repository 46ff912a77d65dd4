-- Health checks: what a DBA looks at every day. They report warnings (act soon) and information; none of
-- them means the data is wrong (that is ops.check_consistency). Runbook: sql/health_check.sql;
-- `pbm db check --health`.

-- Bloat estimate from the planner statistics (pg_stats average widths, reltuples): what the table or
-- B-tree index would take packed at its fill factor, against what it takes. An estimate: tables without
-- statistics (never analyzed) are left out, TOAST is ignored, alignment padding is approximated.
CREATE OR REPLACE VIEW ops.bloat AS
WITH settings AS (
    SELECT current_setting('block_size')::numeric AS bs
),

table_widths AS (
    SELECT
        s.schemaname,
        s.tablename,
        sum((1 - s.null_frac::numeric) * s.avg_width) AS row_width,
        count(*) AS columns_with_statistics
    FROM pg_catalog.pg_stats AS s
    GROUP BY s.schemaname, s.tablename
),

tables AS (
    SELECT
        c.oid::regclass AS object_name,
        'table' AS object_kind,
        c.oid::regclass AS table_name,
        c.relpages::numeric * st.bs AS actual_bytes,
        -- 24-byte tuple header + 4-byte line pointer per row; 24-byte page header
        ceil(
            c.reltuples::numeric * (24 + 4 + ceil(w.row_width / 8) * 8) / (st.bs - 24)
            / (coalesce((
                SELECT o.option_value::numeric FROM pg_catalog.pg_options_to_table(c.reloptions) AS o
                WHERE o.option_name = 'fillfactor'
            ), 100) / 100)
        ) * st.bs AS expected_bytes
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    INNER JOIN table_widths AS w ON n.nspname = w.schemaname AND c.relname = w.tablename
    CROSS JOIN settings AS st
    WHERE
        c.relkind IN ('r', 'm') AND c.reltuples > 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        -- every column analyzed (ANALYZE of a few columns would make the row look narrow)
        AND w.columns_with_statistics = (
            SELECT count(*) FROM pg_catalog.pg_attribute AS a
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        )
),

index_widths AS (
    SELECT
        x.indexrelid,
        sum((1 - s.null_frac::numeric) * s.avg_width) AS key_width
    FROM pg_catalog.pg_index AS x
    CROSS JOIN LATERAL unnest(x.indkey::smallint[]) AS k (attnum)
    INNER JOIN pg_catalog.pg_attribute AS a ON x.indrelid = a.attrelid AND k.attnum = a.attnum
    INNER JOIN pg_catalog.pg_class AS t ON x.indrelid = t.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON t.relnamespace = n.oid
    INNER JOIN
        pg_catalog.pg_stats AS s
        ON n.nspname = s.schemaname AND t.relname = s.tablename AND a.attname = s.attname
    -- plain column keys only (an expression key has no column statistics here)
    WHERE NOT (0 = any(x.indkey::smallint[]))
    GROUP BY x.indexrelid
    HAVING count(*) = max(x.indnatts)
),

indexes AS (
    SELECT
        i.oid::regclass AS object_name,
        'index' AS object_kind,
        x.indrelid::regclass AS table_name,
        i.relpages::numeric * st.bs AS actual_bytes,
        -- 8-byte index tuple header + 4-byte line pointer per entry; 24-byte page header and 16-byte
        -- B-tree special space; the metapage
        (ceil(
            i.reltuples::numeric * (8 + 4 + ceil(w.key_width / 8) * 8) / (st.bs - 40)
            / (coalesce((
                SELECT o.option_value::numeric FROM pg_catalog.pg_options_to_table(i.reloptions) AS o
                WHERE o.option_name = 'fillfactor'
            ), 90) / 100)
        ) + 1) * st.bs AS expected_bytes
    FROM pg_catalog.pg_index AS x
    INNER JOIN pg_catalog.pg_class AS i ON x.indexrelid = i.oid
    INNER JOIN pg_catalog.pg_am AS am ON i.relam = am.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON i.relnamespace = n.oid
    INNER JOIN index_widths AS w ON x.indexrelid = w.indexrelid
    CROSS JOIN settings AS st
    WHERE
        am.amname = 'btree' AND i.relkind = 'i' AND i.reltuples > 0
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
)

SELECT
    b.object_name,
    b.object_kind,
    b.table_name,
    b.actual_bytes::bigint AS actual_bytes,
    least(b.expected_bytes, b.actual_bytes)::bigint AS expected_bytes,
    greatest(b.actual_bytes - b.expected_bytes, 0)::bigint AS bloat_bytes,
    round(greatest(b.actual_bytes - b.expected_bytes, 0) / nullif(b.actual_bytes, 0), 3) AS bloat_ratio
FROM (
    SELECT * FROM tables
    UNION ALL
    SELECT * FROM indexes
) AS b;
COMMENT ON VIEW ops.bloat IS
'Estimated bloat of every analyzed table (all columns analyzed), materialized view and B-tree index: actual size (relpages), the size its rows would take packed at its fill factor (from pg_stats widths and reltuples), the difference and its share of the actual size. An estimate: run ANALYZE first; TOAST is not counted.';

CREATE OR REPLACE FUNCTION ops.health_partitions(p_as_of date, p_months_ahead integer DEFAULT 3)
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v record;
    v_rows bigint;
    v_first date;
    v_last date;
BEGIN
    -- Months ahead: every table partitioned by month (it has partitions named <table>_yYYYYmMM) must have
    -- this month and the next p_months_ahead.
    RETURN QUERY
    SELECT
        'partitions_ahead'::text, 'warning'::text, format('%s %s', t.parent_table, to_char(m.month, 'YYYY-MM')),
        NULL::bigint, NULL::smallint,
        format(
            'no partition for %s yet: its rows would go to the default partition (run sql/partition_maintenance.sql)',
            to_char(m.month, 'YYYY-MM')
        )
    FROM (
        SELECT DISTINCT p.parent_table FROM ops.partitions AS p
        WHERE p.month IS NOT NULL
    ) AS t
    CROSS JOIN LATERAL generate_series(
        date_trunc('month', p_as_of), date_trunc('month', p_as_of) + make_interval(months => p_months_ahead),
        interval '1 month'
    ) AS g (m)
    CROSS JOIN LATERAL (SELECT g.m::date AS month) AS m
    WHERE NOT EXISTS (
        SELECT FROM ops.partitions AS p
        WHERE p.parent_table = t.parent_table AND p.month = m.month
    )
    ORDER BY t.parent_table::text, m.month;

    -- Rows in a default partition: dates no monthly partition covers (create those months).
    FOR v IN
        SELECT p.partition_name, a.attname
        FROM ops.partitions AS p
        INNER JOIN pg_catalog.pg_partitioned_table AS pt ON p.parent_table = pt.partrelid
        INNER JOIN pg_catalog.pg_attribute AS a ON pt.partrelid = a.attrelid AND pt.partattrs[0] = a.attnum
        WHERE p.is_default
        ORDER BY p.partition_name::text
    LOOP
        EXECUTE format('SELECT count(*), min(%1$I)::date, max(%1$I)::date FROM %2$s', v.attname, v.partition_name)
        INTO v_rows, v_first, v_last;
        IF v_rows > 0 THEN
            check_name := 'default_partition_rows';
            severity := 'warning';
            key := v.partition_name::text;
            member_id := NULL;
            plan_year := NULL;
            detail := format(
                '%s row(s) with %s from %s to %s: create the monthly partitions for those dates (they move in)',
                v_rows, v.attname, v_first, v_last
            );
            RETURN NEXT;
        END IF;
    END LOOP;

    -- Archived claim months still in the database (dump them, then ops.drop_archived_month).
    RETURN QUERY
    SELECT
        'archived_month_not_dropped'::text, 'info'::text, c.oid::regclass::text, NULL::bigint, NULL::smallint,
        format(
            'detached %s, %s row(s): pg_dump -Fc -t %s, then SELECT ops.drop_archived_month(month, dump file)',
            coalesce(to_char(a.detached_at, 'YYYY-MM-DD'), 'by hand'), coalesce(a.row_count::text, 'unknown'),
            c.oid::regclass
        )
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    LEFT JOIN ops.archived_partitions AS a ON a.table_name = c.oid::regclass::text AND a.dropped_at IS NULL
    WHERE n.nspname = 'claims_archive' AND c.relkind = 'r'
    ORDER BY c.relname;

    -- Audit months past the six-year retention.
    RETURN QUERY
    SELECT
        'audit_retention_due'::text, 'info'::text, p.partition_name::text, NULL::bigint, NULL::smallint,
        format(
            'audit entries of %s are older than six years: SELECT * FROM ops.drop_expired_audit_months(%L)',
            to_char(p.month, 'YYYY-MM'), p_as_of
        )
    FROM ops.partitions AS p
    WHERE p.parent_table = 'audit.log'::regclass AND p.month < (date_trunc('month', p_as_of) - interval '6 years')::date
    ORDER BY p.month;
END;
$$;
COMMENT ON FUNCTION ops.health_partitions(date, integer) IS
'Health: monthly partitions missing from the month of p_as_of to p_months_ahead months later (claims.claims, audit.log, any table partitioned by month), rows waiting in a default partition, archived claim months not yet dumped and dropped, audit months past retention.';

CREATE OR REPLACE FUNCTION ops.health_sessions(
    p_long interval DEFAULT '5 minutes',
    p_idle interval DEFAULT '1 minute'
)
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        s.check_name,
        'warning' AS severity,
        format('pid %s', s.pid) AS key,
        NULL::bigint AS member_id,
        NULL::smallint AS plan_year,
        format(
            '%s for %s: database %s, user %s, application %s%s; query: %s', s.state, s.duration, s.datname,
            s.usename, coalesce(nullif(s.application_name, ''), '-'),
            CASE WHEN cardinality(s.blocked_by) > 0 THEN format(', waiting for pid %s', s.blocked_by) ELSE '' END,
            left(regexp_replace(s.query, '\s+', ' ', 'g'), 200)
        ) AS detail
    FROM (
        SELECT
            a.pid,
            a.datname,
            a.usename,
            a.application_name,
            a.state,
            a.query,
            pg_catalog.pg_blocking_pids(a.pid) AS blocked_by,
            CASE
                WHEN a.state LIKE 'idle in transaction%' AND a.state_change < now() - p_idle THEN 'idle_in_transaction'
                WHEN a.state <> 'idle' AND a.xact_start < now() - p_long THEN 'long_running_transaction'
                WHEN cardinality(pg_catalog.pg_blocking_pids(a.pid)) > 0 AND a.state_change < now() - p_idle
                    THEN 'blocked_session'
            END AS check_name,
            date_trunc('second', now() - CASE
                WHEN a.state LIKE 'idle in transaction%' THEN a.state_change ELSE a.xact_start
            END) AS duration
        FROM pg_catalog.pg_stat_activity AS a
        WHERE a.backend_type = 'client backend' AND a.pid <> pg_catalog.pg_backend_pid()
    ) AS s
    WHERE s.check_name IS NOT NULL
    UNION ALL
    SELECT
        'old_prepared_transaction' AS check_name,
        'warning' AS severity,
        format('gid %s', x.gid) AS key,
        NULL::bigint AS member_id,
        NULL::smallint AS plan_year,
        format(
            'prepared %s ago by %s in %s: it holds locks and the xmin horizon (COMMIT PREPARED or ROLLBACK PREPARED)',
            date_trunc('second', now() - x.prepared), x.owner, x.database
        ) AS detail
    FROM pg_catalog.pg_prepared_xacts AS x
    WHERE x.prepared < now() - p_long
    ORDER BY key;
END;
COMMENT ON FUNCTION ops.health_sessions(interval, interval) IS
'Health: client sessions idle in a transaction for more than p_idle, transactions running longer than p_long, sessions blocked for more than p_idle (with the pids blocking them), prepared transactions older than p_long. They hold locks and keep VACUUM from removing dead rows.';

CREATE OR REPLACE FUNCTION ops.health_storage(
    p_min_bytes bigint DEFAULT 10485760,
    p_ratio numeric DEFAULT 0.5
)
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        b.object_kind || '_bloat' AS check_name,
        'warning' AS severity,
        b.object_name::text AS key,
        NULL::bigint AS member_id,
        NULL::smallint AS plan_year,
        format(
            'estimated %s of %s bloat (%s%%; packed it would take about %s): %s',
            pg_catalog.pg_size_pretty(b.bloat_bytes),
            pg_catalog.pg_size_pretty(b.actual_bytes),
            round(100 * b.bloat_ratio),
            pg_catalog.pg_size_pretty(b.expected_bytes),
            CASE
                WHEN b.object_kind = 'index' THEN 'REINDEX INDEX CONCURRENTLY ' || b.object_name::text
                ELSE 'check autovacuum; pg_repack or VACUUM FULL in a maintenance window'
            END
        ) AS detail
    FROM ops.bloat AS b
    WHERE b.bloat_bytes >= p_min_bytes AND b.bloat_ratio >= p_ratio
    UNION ALL
    SELECT
        'dead_rows' AS check_name,
        'warning' AS severity,
        t.relid::regclass::text AS key,
        NULL::bigint AS member_id,
        NULL::smallint AS plan_year,
        format(
            '%s dead rows, %s live; last vacuum %s: autovacuum is behind '
            || '(check long transactions, then VACUUM (VERBOSE))',
            t.n_dead_tup, t.n_live_tup,
            coalesce(to_char(greatest(t.last_vacuum, t.last_autovacuum), 'YYYY-MM-DD HH24:MI'), 'never')
        ) AS detail
    FROM pg_catalog.pg_stat_user_tables AS t
    WHERE t.n_dead_tup >= 100000 AND t.n_dead_tup > 0.2 * t.n_live_tup
    UNION ALL
    SELECT
        'invalid_index' AS check_name,
        'warning' AS severity,
        x.indexrelid::regclass::text AS key,
        NULL::bigint AS member_id,
        NULL::smallint AS plan_year,
        format(
            'invalid index on %s (a failed CREATE INDEX CONCURRENTLY?): DROP INDEX CONCURRENTLY, then create it again',
            x.indrelid::regclass
        ) AS detail
    FROM pg_catalog.pg_index AS x
    INNER JOIN pg_catalog.pg_class AS i ON x.indexrelid = i.oid
    WHERE NOT x.indisvalid AND i.relkind = 'i'
    UNION ALL
    SELECT
        'unused_index' AS check_name,
        'info' AS severity,
        u.indexrelid::regclass::text AS key,
        NULL::bigint AS member_id,
        NULL::smallint AS plan_year,
        format(
            'never scanned since statistics were reset (%s), %s: drop it if no query needs it (on every replica too)',
            coalesce(to_char(d.stats_reset, 'YYYY-MM-DD'), 'server start'),
            pg_catalog.pg_size_pretty(pg_catalog.pg_relation_size(u.indexrelid))
        ) AS detail
    FROM pg_catalog.pg_stat_user_indexes AS u
    INNER JOIN pg_catalog.pg_index AS x ON u.indexrelid = x.indexrelid
    CROSS JOIN pg_catalog.pg_stat_database AS d
    WHERE
        d.datname = current_database()
        AND u.idx_scan = 0 AND NOT x.indisunique AND NOT x.indisprimary
        AND NOT EXISTS (
            SELECT FROM pg_catalog.pg_constraint AS k
            WHERE k.conindid = u.indexrelid
        )
        AND pg_catalog.pg_relation_size(u.indexrelid) >= p_min_bytes
    ORDER BY check_name, key;
END;
COMMENT ON FUNCTION ops.health_storage(bigint, numeric) IS
'Health: tables and B-tree indexes with an estimated bloat of at least p_min_bytes and p_ratio of their size (ops.bloat), tables with many dead rows (autovacuum behind), invalid indexes, and indexes of at least p_min_bytes never scanned since the statistics were reset (information).';

CREATE OR REPLACE FUNCTION ops.health_wraparound(p_ratio numeric DEFAULT 0.8)
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        'sequence_near_limit' AS check_name,
        'warning' AS severity,
        format('%I.%I', s.schemaname, s.sequencename) AS key,
        NULL::bigint AS member_id,
        NULL::smallint AS plan_year,
        format(
            '%s used of %s (%s%%): widen the column and the sequence (ALTER SEQUENCE ... AS bigint) before it runs out',
            s.last_value, s.max_value, round(100.0 * s.last_value / s.max_value, 1)
        ) AS detail
    FROM pg_catalog.pg_sequences AS s
    WHERE s.increment_by > 0 AND s.last_value IS NOT NULL AND s.last_value >= p_ratio * s.max_value
    UNION ALL
    SELECT
        'transaction_id_age' AS check_name,
        'warning' AS severity,
        d.datname::text AS key,
        NULL::bigint AS member_id,
        NULL::smallint AS plan_year,
        format(
            'oldest unfrozen transaction id is %s transactions old (wraparound at about 2,100,000,000): '
            || 'find what holds the xmin horizon back, then VACUUM (FREEZE) the oldest tables',
            pg_catalog.age(d.datfrozenxid)
        ) AS detail
    FROM pg_catalog.pg_database AS d
    WHERE pg_catalog.age(d.datfrozenxid) > 1000000000
    ORDER BY check_name, key;
END;
COMMENT ON FUNCTION ops.health_wraparound(numeric) IS
'Health: ascending sequences past p_ratio of their maximum, databases whose oldest unfrozen transaction id is more than a billion transactions old (wraparound is near two billion).';

CREATE OR REPLACE FUNCTION ops.health_replication(p_max_lag interval DEFAULT '1 minute')
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF pg_catalog.pg_is_in_recovery() THEN
        -- A standby: how far behind the primary it replays.
        RETURN QUERY
        SELECT
            'standby_replay_lag'::text, 'warning'::text, 'this standby'::text, NULL::bigint, NULL::smallint,
            format('last transaction replayed %s ago', date_trunc('second', now() - pg_catalog.pg_last_xact_replay_timestamp()))
        WHERE now() - pg_catalog.pg_last_xact_replay_timestamp() > p_max_lag;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT
        'replication_lag'::text, 'warning'::text,
        format('replica %s (%s)', coalesce(nullif(r.application_name, ''), '-'), coalesce(host(r.client_addr), 'local')),
        NULL::bigint, NULL::smallint,
        format(
            'state %s, sync %s, replay lag %s, %s of WAL not replayed yet', r.state, r.sync_state,
            coalesce(r.replay_lag::text, 'none measured'),
            pg_catalog.pg_size_pretty(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), r.replay_lsn))
        )
    FROM pg_catalog.pg_stat_replication AS r
    WHERE r.state <> 'streaming' OR r.replay_lag > p_max_lag;

    RETURN QUERY
    SELECT
        'inactive_replication_slot'::text, 'warning'::text, format('slot %s', s.slot_name), NULL::bigint, NULL::smallint,
        format(
            '%s slot not in use keeps %s of WAL (and the xmin horizon): drop it if its consumer is gone '
            || '(SELECT pg_drop_replication_slot(%L))',
            s.slot_type, pg_catalog.pg_size_pretty(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.restart_lsn)),
            s.slot_name
        )
    FROM pg_catalog.pg_replication_slots AS s
    WHERE NOT s.active;

    RETURN QUERY
    SELECT
        'wal_archiving_failing'::text, 'warning'::text, 'archiver'::text, NULL::bigint, NULL::smallint,
        format(
            'last failure %s (%s), last success %s: point-in-time recovery is at risk and WAL piles up',
            a.last_failed_time, a.last_failed_wal, coalesce(a.last_archived_time::text, 'never')
        )
    FROM pg_catalog.pg_stat_archiver AS a
    WHERE a.last_failed_time IS NOT NULL AND a.last_failed_time > coalesce(a.last_archived_time, '-infinity');

    RETURN QUERY
    SELECT
        'connections'::text, 'warning'::text, 'max_connections'::text, NULL::bigint, NULL::smallint,
        format('%s of %s connections in use', c.used, c.allowed)
    FROM (
        SELECT count(*) AS used, current_setting('max_connections')::integer AS allowed
        FROM pg_catalog.pg_stat_activity AS a
        WHERE a.backend_type = 'client backend'
    ) AS c
    WHERE c.used > 0.8 * c.allowed;
END;
$$;
COMMENT ON FUNCTION ops.health_replication(interval) IS
'Health: replicas not streaming or replaying more than p_max_lag behind (pg_stat_replication; on a standby its own replay delay), replication slots not in use (they keep WAL), failing WAL archiving (PITR at risk), connections above 80% of max_connections.';

CREATE OR REPLACE FUNCTION ops.health_jobs(p_as_of date)
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_previous_month date := (date_trunc('month', p_as_of) - interval '1 month')::date;
BEGIN
    RETURN QUERY
    SELECT
        'claim_batch_not_adjudicated'::text, 'warning'::text, format('batch %s', b.batch_id), NULL::bigint, NULL::smallint,
        format(
            '%s since %s (%s, %s): SELECT * FROM claims.adjudicate_batch(%s)', b.status,
            to_char(b.received_at, 'YYYY-MM-DD HH24:MI'), b.source, coalesce(b.file_name, 'no file'), b.batch_id
        )
    FROM claims.batches AS b
    WHERE b.status IN ('received', 'pending') AND b.received_at < p_as_of - 1
    ORDER BY b.batch_id;

    RETURN QUERY
    SELECT
        'reporting_not_refreshed'::text, 'warning'::text, 'reporting'::text, NULL::bigint, NULL::smallint,
        format(
            'last refresh %s: run sql/refresh_reporting.sql (or pbm report refresh)',
            coalesce(to_char(max(l.finished_at), 'YYYY-MM-DD HH24:MI'), 'never')
        )
    FROM reporting.refresh_log AS l
    HAVING
        coalesce(max(l.finished_at), '-infinity') < p_as_of - 1
        AND EXISTS (SELECT FROM claims.claims AS c);

    IF v_previous_month >= date '2025-01-01' THEN
        RETURN QUERY
        SELECT
            'm3p_month_not_billed'::text, 'warning'::text, format('M3P %s', to_char(v_previous_month, 'YYYY-MM')),
            NULL::bigint, NULL::smallint,
            format(
                '%s member(s) participated in %s and the month has no billing run: run sql/m3p_billing.sql -v month=%s',
                count(*), to_char(v_previous_month, 'YYYY-MM'), to_char(v_previous_month, 'YYYY-MM')
            )
        FROM ppp.elections AS e
        WHERE
            e.effective_date < (v_previous_month + interval '1 month')::date
            AND coalesce(e.end_date, 'infinity') >= v_previous_month
            AND NOT EXISTS (SELECT FROM ppp.billing_runs AS r WHERE r.billing_month = v_previous_month)
        HAVING count(*) > 0;
    END IF;
END;
$$;
COMMENT ON FUNCTION ops.health_jobs(date) IS
'Health of the scheduled jobs as of p_as_of: claim batches staged more than a day and not adjudicated, reporting not refreshed for more than a day while claims exist, the month before p_as_of not billed for M3P although members participated in it.';
