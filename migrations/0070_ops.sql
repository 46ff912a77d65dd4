-- Operations: schema ops holds what a DBA runs and reads (consistency checks for `pbm db check`, health
-- checks, the partition lifecycle); the functions are repeatable (procedures/ops/), the record of
-- archived claim months lives here. See docs/operations.md.

CREATE SCHEMA ops;
COMMENT ON SCHEMA ops IS
'DBA operations: consistency checks (pbm db check, ops.check_consistency), health checks (ops.check_health), partition maintenance and the record of archived claim months.';

CREATE TABLE ops.archived_partitions (
    archived_partition_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_table text NOT NULL CONSTRAINT archived_partitions_parent_is_claims CHECK (parent_table = 'claims.claims'),
    month date NOT NULL CONSTRAINT archived_partitions_month_is_first_day CHECK (extract(DAY FROM month) = 1),
    table_name text NOT NULL,
    row_count bigint NOT NULL CONSTRAINT archived_partitions_row_count_not_negative CHECK (row_count >= 0),
    detached_at timestamptz NOT NULL DEFAULT now(),
    dumped_to text,
    dropped_at timestamptz,
    CONSTRAINT archived_partitions_one_row_per_month UNIQUE (parent_table, month),
    CONSTRAINT archived_partitions_dropped_only_after_a_dump CHECK (dropped_at IS NULL OR dumped_to IS NOT NULL)
);
COMMENT ON TABLE ops.archived_partitions IS
'One row per month of claims.claims detached by ops.archive_claims_month (kept in schema claims_archive until dumped and dropped). Plan years with an archived month are left out of the accumulator and M3P ledger checks: their claims are no longer all in claims.claims.';
COMMENT ON COLUMN ops.archived_partitions.parent_table IS 'The partitioned table the month was detached from';
COMMENT ON COLUMN ops.archived_partitions.month IS 'First day of the month (of date_of_service)';
COMMENT ON COLUMN ops.archived_partitions.table_name IS 'The detached table, e.g. claims_archive.claims_y2023m01';
COMMENT ON COLUMN ops.archived_partitions.row_count IS 'Rows of the month when it was detached';
COMMENT ON COLUMN ops.archived_partitions.detached_at IS 'When it was detached';
COMMENT ON COLUMN ops.archived_partitions.dumped_to IS 'Where the DBA says the pg_dump of the table went (ops.drop_archived_month)';
COMMENT ON COLUMN ops.archived_partitions.dropped_at IS 'When the detached table was dropped after its dump';
