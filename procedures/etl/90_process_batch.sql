-- After COPY: the rest of a batch in one call (same transaction as etl.begin_batch and the COPY).

CREATE OR REPLACE FUNCTION etl.process_batch(
    p_batch_id bigint,
    p_rows_received integer,
    p_staging_method text,
    p_bad_encoding_lines integer[] DEFAULT '{}'
)
RETURNS etl.batches
LANGUAGE plpgsql
AS $$
DECLARE
    v_batch etl.batches;
    v_staging regclass;
    v_staged integer;
    v_loaded integer;
    v_inserted integer;
    v_updated integer;
    v_rejected integer;
    v_year integer;
    v_clock timestamptz := clock_timestamp();
    v_phases jsonb := '{}';
BEGIN
    SELECT b.* INTO v_batch FROM etl.batches AS b WHERE b.batch_id = p_batch_id FOR UPDATE;
    IF NOT FOUND OR v_batch.status <> 'loading' THEN
        RAISE EXCEPTION 'batch % is not being loaded', p_batch_id
            USING ERRCODE = '55000', HINT = 'open a batch with etl.begin_batch in the same transaction';
    END IF;
    SELECT f.staging_table INTO v_staging FROM etl.feeds AS f WHERE f.feed = v_batch.feed;
    v_year := extract(YEAR FROM v_batch.effective_date);

    -- Nothing lost at the door: every data line of the file is a staging row.
    EXECUTE format('SELECT count(*) FROM %s WHERE batch_id = $1', v_staging) INTO v_staged USING p_batch_id;
    IF v_staged <> p_rows_received THEN
        RAISE EXCEPTION 'batch %: the file has % data lines but % were staged', p_batch_id, p_rows_received, v_staged
            USING ERRCODE = 'XX000';
    END IF;

    IF p_staging_method = 'line_by_line' THEN
        PERFORM etl.split_raw_lines(p_batch_id, p_bad_encoding_lines);
    ELSIF cardinality(p_bad_encoding_lines) > 0 THEN
        RAISE EXCEPTION 'batch %: lines with bad bytes must be staged line by line', p_batch_id USING ERRCODE = '22023';
    END IF;
    -- Fresh statistics for the planner: the table held another file (another batch id) a moment ago, and a
    -- plan made for one row of this batch would read a million lines in nested loops.
    EXECUTE format('ANALYZE %s (batch_id, line_no)', v_staging);
    v_phases := v_phases || jsonb_build_object('split', etl.seconds_since(v_clock));
    v_clock := clock_timestamp();

    PERFORM etl.reject_duplicates(p_batch_id);
    v_phases := v_phases || jsonb_build_object('duplicates', etl.seconds_since(v_clock));
    v_clock := clock_timestamp();

    CASE v_batch.feed
        WHEN 'drugs' THEN PERFORM etl.validate_drugs(p_batch_id);
        WHEN 'drug_prices' THEN PERFORM etl.validate_drug_prices(p_batch_id);
        WHEN 'pharmacies' THEN PERFORM etl.validate_pharmacies(p_batch_id);
        WHEN 'network' THEN PERFORM etl.validate_network(p_batch_id);
        WHEN 'prescribers' THEN PERFORM etl.validate_prescribers(p_batch_id);
        WHEN 'eligibility' THEN PERFORM etl.validate_eligibility(p_batch_id, v_batch.effective_date);
        WHEN 'desynpuf_beneficiary' THEN
            PERFORM etl.desynpuf_plan_id();
            PERFORM etl.validate_desynpuf_beneficiary(p_batch_id, v_year);
        WHEN 'prior_authorizations' THEN PERFORM etl.validate_prior_authorizations(p_batch_id);
        WHEN 'claims' THEN PERFORM etl.validate_claims(p_batch_id, v_batch.effective_date);
        WHEN 'desynpuf_pde' THEN PERFORM etl.validate_desynpuf_pde(p_batch_id);
        ELSE
            RAISE EXCEPTION 'no loader for feed %', v_batch.feed USING ERRCODE = '0A000';
    END CASE;
    v_phases := v_phases || jsonb_build_object('validate', etl.seconds_since(v_clock));
    v_clock := clock_timestamp();

    CASE v_batch.feed
        WHEN 'drugs' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_drugs(p_batch_id) AS m;
        WHEN 'drug_prices' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_drug_prices(p_batch_id) AS m;
        WHEN 'pharmacies' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_pharmacies(p_batch_id) AS m;
        WHEN 'network' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_network(p_batch_id) AS m;
        WHEN 'prescribers' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_prescribers(p_batch_id) AS m;
        WHEN 'eligibility' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_eligibility(p_batch_id, v_batch.effective_date) AS m;
        WHEN 'desynpuf_beneficiary' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_desynpuf_beneficiary(p_batch_id, v_year) AS m;
        WHEN 'prior_authorizations' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_prior_authorizations(p_batch_id) AS m;
        WHEN 'claims' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_claims(p_batch_id) AS m;
        WHEN 'desynpuf_pde' THEN
            SELECT m.loaded, m.inserted, m.updated INTO v_loaded, v_inserted, v_updated FROM etl.merge_desynpuf_pde(p_batch_id) AS m;
    END CASE;
    IF v_batch.feed = 'eligibility' THEN
        PERFORM etl.scrub_mbis(p_batch_id);
    END IF;
    v_phases := v_phases || jsonb_build_object('merge', etl.seconds_since(v_clock));

    SELECT count(DISTINCT r.line_no) INTO v_rejected FROM etl.rejects AS r WHERE r.batch_id = p_batch_id;
    IF v_loaded + v_rejected <> p_rows_received THEN
        RAISE EXCEPTION 'batch %: % lines received but % loaded and % rejected', p_batch_id, p_rows_received,
            v_loaded, v_rejected
            USING ERRCODE = 'XX000';
    END IF;

    UPDATE etl.batches AS b
    SET status = 'completed',
        staging_method = p_staging_method,
        rows_received = p_rows_received,
        rows_loaded = v_loaded,
        rows_rejected = v_rejected,
        rows_inserted = v_inserted,
        rows_updated = v_updated,
        finished_at = clock_timestamp(),
        phase_seconds = v_phases
    WHERE b.batch_id = p_batch_id
    RETURNING b.* INTO v_batch;
    RETURN v_batch;
END;
$$;
COMMENT ON FUNCTION etl.process_batch(bigint, integer, text, integer[]) IS
'Finishes a batch after COPY: checks every data line was staged, records line-level, duplicate and feed rejects, merges the good lines and closes the batch (received = loaded + rejected, or it raises and the transaction leaves nothing).';
