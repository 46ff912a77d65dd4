-- Faster nightly loads (docs/decisions/0009-etl-validation-in-two-passes.md): a calendar to turn date text
-- into dates with one hash join instead of a pattern test per value, per-phase timings on batches,
-- no autovacuum on staging (each load empties it), and no per-row foreign key check from prescription
-- drug events to their batch (provenance only).

CREATE TABLE etl.calendar (
    day date PRIMARY KEY,
    iso text NOT NULL UNIQUE,
    yyyymmdd text NOT NULL UNIQUE
);
COMMENT ON TABLE etl.calendar IS
'Every day from 1880-01-01 to 2099-12-31 in the two date formats of the feeds: a hash join on the text turns a valid date text into a date (a day outside the range falls back to etl.iso_date / etl.yyyymmdd_date).';
COMMENT ON COLUMN etl.calendar.iso IS 'The day as YYYY-MM-DD (pbmdb layouts)';
COMMENT ON COLUMN etl.calendar.yyyymmdd IS 'The day as YYYYMMDD (CMS DE-SynPUF files)';

INSERT INTO etl.calendar (day, iso, yyyymmdd)
SELECT
    d::date AS day,
    to_char(d, 'YYYY-MM-DD') AS iso,
    to_char(d, 'YYYYMMDD') AS yyyymmdd
FROM generate_series('1880-01-01'::date, '2099-12-31'::date, interval '1 day') AS d;

ALTER TABLE etl.batches ADD COLUMN phase_seconds jsonb;
COMMENT ON COLUMN etl.batches.phase_seconds IS
'Seconds spent in each phase of the load in the database (split, duplicates, validate, merge), for tuning';

ALTER TABLE etl.stage_eligibility SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_drugs SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_drug_prices SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_pharmacies SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_network SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_prescribers SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_prior_authorizations SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_claims SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_desynpuf_pde SET (autovacuum_enabled = FALSE);
ALTER TABLE etl.stage_desynpuf_beneficiary SET (autovacuum_enabled = FALSE);

ALTER TABLE claims.prescription_drug_events DROP CONSTRAINT prescription_drug_events_etl_batch_id_fkey;
DROP INDEX claims.prescription_drug_events_batch_idx;
DROP INDEX claims.prescription_drug_events_date_idx;
COMMENT ON COLUMN claims.prescription_drug_events.etl_batch_id IS
'The etl.batches row that loaded or last changed the event (provenance; not a foreign key, so a load does not check it row by row)';

-- Comments the first ETL migrations left out.
COMMENT ON COLUMN etl.batches.file_bytes IS 'Size of the file in bytes';
COMMENT ON COLUMN etl.batches.started_at IS 'When the loading transaction began';
COMMENT ON COLUMN etl.batches.finished_at IS 'When the batch was closed (completed or rejected), in the same transaction';
COMMENT ON COLUMN etl.feeds.description IS 'What the feed carries and where it comes from';
COMMENT ON COLUMN etl.reject_rules.scope IS
'file: the whole file is refused; line: the line cannot be read into columns; value: one column; row: the row against itself, other rows or the database';
COMMENT ON COLUMN etl.reject_rules.description IS 'What the rule means, for the people who fix the files';
COMMENT ON COLUMN etl.ssa_state_codes.ssa_state_code IS 'SSA state code (1-63, 97-99), as in DE-SynPUF SP_STATE_CODE';
COMMENT ON COLUMN etl.ssa_state_codes.name IS 'State, territory or region abroad';
COMMENT ON COLUMN etl.ssa_state_codes.usps_code IS 'USPS code stored in member.members.state; XX for addresses abroad';
