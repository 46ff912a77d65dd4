-- The partition lifecycle of the monthly partitioned tables (claims.claims by date_of_service, audit.log
-- by logged_at): create months ahead, archive old claim months (detach to claims_archive, dump, drop),
-- drop audit months past retention. The work is done by the functions the migrations made
-- (claims.create_month_partitions, claims.detach_month_partition, audit.create_month_partitions,
-- audit.drop_month_partition); these add the schedule, the guards and the record. Runbook:
-- sql/partition_maintenance.sql.
--
-- DETACH PARTITION ... CONCURRENTLY is not possible here: PostgreSQL refuses it on a table with a
-- default partition, and both tables have one (nothing is ever lost). A plain DETACH takes an ACCESS
-- EXCLUSIVE lock on the parent for a moment: run it with a lock_timeout (the runbook does).

CREATE OR REPLACE VIEW ops.partitions AS
SELECT
    i.inhparent::regclass AS parent_table,
    c.oid::regclass AS partition_name,
    pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bounds,
    pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
    to_date(substring(c.relname FROM '_y([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM') AS month,
    c.reltuples::bigint AS estimated_rows,
    pg_catalog.pg_total_relation_size(c.oid) AS total_bytes
FROM pg_catalog.pg_partitioned_table AS pt
INNER JOIN pg_catalog.pg_inherits AS i ON pt.partrelid = i.inhparent
INNER JOIN pg_catalog.pg_class AS c ON i.inhrelid = c.oid
INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema');
COMMENT ON VIEW ops.partitions IS
'Every partition of every partitioned table of the database (claims.claims, audit.log, and any added later): bounds, default or not, the month its name says (<table>_yYYYYmMM), estimated rows (reltuples; -1 = never analyzed) and size with indexes.';
COMMENT ON COLUMN ops.partitions.month IS 'First day of the month the partition holds, from its name; NULL for the default partition';

CREATE OR REPLACE FUNCTION ops.archived_claim_years()
RETURNS TABLE (plan_year smallint)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT DISTINCT extract(YEAR FROM m.month)::smallint AS plan_year
    FROM (
        SELECT a.month
        FROM ops.archived_partitions AS a
        WHERE a.parent_table = 'claims.claims'
        UNION
        -- months detached by hand with claims.detach_month_partition and not recorded here
        SELECT to_date(substring(c.relname FROM '^claims_y([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM') AS month
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        WHERE n.nspname = 'claims_archive' AND c.relkind = 'r' AND c.relname ~ '^claims_y[0-9]{4}m[0-9]{2}$'
    ) AS m
    -- a month attached again (restored from the archive) is complete again
    WHERE
        NOT EXISTS (
            SELECT
            FROM ops.partitions AS p
            WHERE p.parent_table = 'claims.claims'::regclass AND p.month = m.month
        )
    ORDER BY plan_year;
END;
COMMENT ON FUNCTION ops.archived_claim_years() IS
'Plan years with at least one month of claims no longer attached to claims.claims (archived by ops.archive_claims_month, or detached by hand into claims_archive): the accumulator and M3P ledger checks leave them out.';

CREATE OR REPLACE FUNCTION ops.create_partitions_ahead(p_months integer DEFAULT 12, p_as_of date DEFAULT current_date)
RETURNS TABLE (parent_table text, partition_name text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_from date := date_trunc('month', p_as_of)::date;
    v_to date := (date_trunc('month', p_as_of) + make_interval(months => p_months))::date;
BEGIN
    IF p_as_of IS NULL OR p_months IS NULL OR p_months NOT BETWEEN 0 AND 120 THEN
        RAISE EXCEPTION 'create_partitions_ahead needs a date and 0 to 120 months ahead (got % and %)', p_as_of, p_months
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT 'claims.claims', 'claims.' || n
    FROM claims.create_month_partitions(v_from, v_to) AS n;
    RETURN QUERY
    SELECT 'audit.log', 'audit.' || n
    FROM audit.create_month_partitions(v_from, v_to) AS n;
END;
$$;
COMMENT ON FUNCTION ops.create_partitions_ahead(integer, date) IS
'Creates the monthly partitions of claims.claims and audit.log from the month of p_as_of to p_months months after it that do not exist yet (claims.create_month_partitions, audit.create_month_partitions: rows of those months waiting in a default partition move in); returns the partitions created. Safe to re-run. Monthly, as the owner.';

CREATE OR REPLACE FUNCTION ops.archive_claims_month(p_month date, p_as_of date DEFAULT current_date)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_month date := date_trunc('month', p_month)::date;
    v_keep_from date := make_date(extract(YEAR FROM p_as_of)::integer - 1, 1, 1);
    v_partition text := format('claims.%I', format('claims_y%sm%s', to_char(p_month, 'YYYY'), to_char(p_month, 'MM')));
    v_rows bigint;
    v_table text;
BEGIN
    IF p_month IS NULL OR p_as_of IS NULL THEN
        RAISE EXCEPTION 'archive_claims_month needs the month and the business date' USING ERRCODE = '22023';
    END IF;
    IF v_month >= v_keep_from THEN
        RAISE EXCEPTION 'claims of % are kept in claims.claims: only months before % may be archived',
            to_char(v_month, 'YYYY-MM'), to_char(v_keep_from, 'YYYY-MM')
            USING ERRCODE = '55000',
            DETAIL = 'The current and the previous plan year stay attached (accumulators, reversals, M3P, PDE reconciliation).';
    END IF;
    IF to_regclass(v_partition) IS NULL THEN
        RAISE EXCEPTION 'no partition % for month %', v_partition, to_char(v_month, 'YYYY-MM')
            USING ERRCODE = '42P01', HINT = 'See the partitions with: SELECT * FROM ops.partitions';
    END IF;
    -- Counted before the detach, so the exclusive lock on claims.claims is held only for the detach itself.
    EXECUTE format('SELECT count(*) FROM %s', v_partition) INTO v_rows;
    v_table := claims.detach_month_partition(v_month);
    INSERT INTO ops.archived_partitions AS a (parent_table, month, table_name, row_count)
    VALUES ('claims.claims', v_month, v_table, v_rows)
    ON CONFLICT ON CONSTRAINT archived_partitions_one_row_per_month DO UPDATE
        SET table_name = excluded.table_name, row_count = excluded.row_count, detached_at = excluded.detached_at,
            dumped_to = NULL, dropped_at = NULL;
    RETURN v_table;
END;
$$;
COMMENT ON FUNCTION ops.archive_claims_month(date, date) IS
'Detaches the claims.claims partition of p_month into schema claims_archive (claims.detach_month_partition) and records it in ops.archived_partitions with its row count; refuses months of the plan year of p_as_of and the one before (55000). Returns the archived table. As the owner, with a lock_timeout.';

CREATE OR REPLACE FUNCTION ops.archive_claims_months(p_before date, p_as_of date DEFAULT current_date)
RETURNS TABLE (month date, table_name text, row_count bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v_month date;
BEGIN
    IF p_before IS NULL THEN
        RAISE EXCEPTION 'archive_claims_months needs the first month to keep' USING ERRCODE = '22023';
    END IF;
    -- One detach per partition (DDL): the loop is over months, not rows.
    FOR v_month IN
        SELECT p.month FROM ops.partitions AS p
        WHERE p.parent_table = 'claims.claims'::regclass AND p.month < date_trunc('month', p_before)::date
        ORDER BY p.month
    LOOP
        table_name := ops.archive_claims_month(v_month, p_as_of);
        month := v_month;
        SELECT a.row_count INTO row_count FROM ops.archived_partitions AS a
        WHERE a.parent_table = 'claims.claims' AND a.month = v_month;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION ops.archive_claims_months(date, date) IS
'Archives (ops.archive_claims_month) every attached claims.claims month before the month of p_before, oldest first; returns each month with its archived table and row count. Nothing to do: no row.';

CREATE OR REPLACE FUNCTION ops.drop_archived_month(p_month date, p_dumped_to text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_archived ops.archived_partitions;
BEGIN
    IF nullif(trim(p_dumped_to), '') IS NULL THEN
        RAISE EXCEPTION 'say where the dump of the archived month went before dropping it' USING ERRCODE = '22023',
            HINT = 'pg_dump -Fc -t claims_archive.claims_yYYYYmMM -f FILE, check it with pg_restore --list FILE, then pass FILE';
    END IF;
    SELECT * INTO v_archived FROM ops.archived_partitions AS a
    WHERE a.parent_table = 'claims.claims' AND a.month = date_trunc('month', p_month)::date
    FOR UPDATE;
    IF v_archived.archived_partition_id IS NULL OR v_archived.dropped_at IS NOT NULL
        OR to_regclass(v_archived.table_name) IS NULL THEN
        RAISE EXCEPTION 'no archived claims table for month % to drop', to_char(p_month, 'YYYY-MM')
            USING ERRCODE = '42P01', HINT = 'See SELECT * FROM ops.archived_partitions';
    END IF;
    EXECUTE format('DROP TABLE %s', v_archived.table_name);
    UPDATE ops.archived_partitions AS a SET dumped_to = p_dumped_to, dropped_at = now()
    WHERE a.archived_partition_id = v_archived.archived_partition_id;
    RETURN v_archived.table_name;
END;
$$;
COMMENT ON FUNCTION ops.drop_archived_month(date, text) IS
'Drops the archived claims table of p_month (claims_archive) once the DBA has dumped it, recording where the dump went (p_dumped_to, required); returns the dropped table.';

CREATE OR REPLACE FUNCTION ops.drop_expired_audit_months(p_as_of date DEFAULT current_date)
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    v_month date;
BEGIN
    IF p_as_of IS NULL THEN
        RAISE EXCEPTION 'drop_expired_audit_months needs the business date' USING ERRCODE = '22023';
    END IF;
    FOR v_month IN
        SELECT p.month FROM ops.partitions AS p
        WHERE p.parent_table = 'audit.log'::regclass AND p.month < (date_trunc('month', p_as_of) - interval '6 years')::date
        ORDER BY p.month
    LOOP
        RETURN NEXT audit.drop_month_partition(v_month);
    END LOOP;
END;
$$;
COMMENT ON FUNCTION ops.drop_expired_audit_months(date) IS
'Audit retention: drops every audit.log month older than six years before p_as_of (audit.drop_month_partition, which checks the six years again); returns the partitions dropped. Owner only.';
