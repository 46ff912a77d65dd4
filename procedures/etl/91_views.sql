-- Operational views of the ETL.

CREATE OR REPLACE VIEW etl.pending_adjudication AS
SELECT
    b.batch_id,
    b.file_name,
    b.effective_date,
    b.claims_batch_id,
    cb.status AS claims_batch_status,
    b.rows_loaded
FROM etl.batches AS b
INNER JOIN claims.batches AS cb ON b.claims_batch_id = cb.batch_id
WHERE cb.status = 'received';
COMMENT ON VIEW etl.pending_adjudication IS
'Claims feed batches whose staged claims (claims.batches status received) have not been adjudicated yet: a load run with --stage-only, or a run stopped between staging and adjudication. pbm etl nightly adjudicates them first.';
