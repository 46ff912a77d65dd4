-- Nightly feeds: batches (one per file, recognised by checksum), text staging tables (one per feed
-- layout of etl/layouts.py), reject rules and per-row rejects. The loading functions live in
-- procedures/etl/; docs/etl.md describes the feeds and rules.

-- The batch a staging row belongs to: set by etl.begin_batch for the loading transaction, read by the
-- staging tables' default so COPY needs no batch column in the file.
CREATE FUNCTION etl.current_batch_id()
RETURNS bigint
LANGUAGE sql
STABLE
RETURN nullif(current_setting('pbm.etl_batch_id', TRUE), '')::bigint;
COMMENT ON FUNCTION etl.current_batch_id() IS
'The etl batch being loaded in this transaction (setting pbm.etl_batch_id, set by etl.begin_batch); NULL outside a load.';

CREATE TABLE etl.feeds (
    feed text PRIMARY KEY,
    staging_table regclass NOT NULL UNIQUE,
    target text NOT NULL,
    natural_key text[] NOT NULL,
    description text NOT NULL
);
COMMENT ON TABLE etl.feeds IS
'The feed kinds pbmdb loads; their file layouts are etl/layouts.py (FEEDS), their load order LOAD_ORDER.';
COMMENT ON COLUMN etl.feeds.staging_table IS 'Text staging table holding the most recent file of the feed';
COMMENT ON COLUMN etl.feeds.target IS 'Core tables the good rows are merged into';
COMMENT ON COLUMN etl.feeds.natural_key IS
'Staging columns identifying a record: two lines with the same key are duplicates (identical) or conflicting (different)';

CREATE TABLE etl.reject_rules (
    rule text PRIMARY KEY CONSTRAINT reject_rules_rule_is_snake_case CHECK (rule ~ '^[a-z][a-z0-9_]*$'),
    scope text NOT NULL CONSTRAINT reject_rules_scope_is_known CHECK (scope IN ('file', 'line', 'value', 'row')),
    description text NOT NULL
);
COMMENT ON TABLE etl.reject_rules IS
'Why a line (or a whole file) was refused. file: nothing of the file is loaded; line: the line could not be read into columns; value: one column''s value is wrong; row: the row conflicts with itself, other rows or the database.';

INSERT INTO etl.reject_rules (rule, scope, description) VALUES
('empty_file', 'file', 'The file is empty (0 bytes).'),
('wrong_encoding', 'file', 'The file is not UTF-8 text: it starts with a UTF-16 or UTF-32 byte order mark.'),
(
    'unexpected_header',
    'file',
    'The header line is not the layout''s: the column name expected at this position differs.'
),
('truncated_file', 'file', 'The file does not end with a line break: its last line was cut off in transfer.'),
('invalid_encoding', 'line', 'The line is not valid UTF-8 or contains NUL bytes (bad bytes shown as \xNN).'),
('blank_line', 'line', 'An empty line between data lines.'),
('malformed_csv', 'line', 'Unbalanced or misplaced double quotes: the line cannot be split into columns.'),
('wrong_column_count', 'line', 'The line has more or fewer columns than the layout.'),
('required', 'value', 'A required value is missing.'),
('bad_format', 'value', 'The value does not have the layout''s format (length, characters).'),
('bad_date', 'value', 'Not a valid calendar date in the layout''s format (YYYY-MM-DD; YYYYMMDD in DE-SynPUF files).'),
('bad_timestamp', 'value', 'Not a valid ISO 8601 timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM|Z]).'),
('bad_number', 'value', 'Not a number, or more digits or decimals than the column holds.'),
('negative_amount', 'value', 'A money amount or quantity below zero.'),
('not_positive', 'value', 'A value that must be greater than zero is zero.'),
('out_of_range', 'value', 'A number outside the range the column allows.'),
('bad_code', 'value', 'Not one of the codes the column allows.'),
('bad_npi', 'value', 'Not a valid NPI: 10 digits starting 1 or 2 with a Luhn check digit (80840 prefix).'),
('bad_ndc', 'value', 'Not an 11-digit NDC (5-4-2, digits only).'),
('bad_mbi', 'value', 'Not a valid Medicare Beneficiary Identifier (11 characters, CMS format).'),
('end_before_start', 'row', 'An end date before the start date.'),
('date_in_future', 'row', 'A date after the file''s date (or another date it must precede).'),
('inconsistent', 'row', 'Values of the row contradict each other (the detail says which).'),
('unknown_member', 'row', 'No member with this cardholder ID and person code (or DE-SynPUF beneficiary).'),
('unknown_plan', 'row', 'No plan with this plan code.'),
('unknown_drug', 'row', 'No drug with this NDC in the drug catalog.'),
('unknown_drug_group', 'row', 'No drug in the catalog belongs to this drug group.'),
('unknown_pharmacy', 'row', 'No pharmacy with this NPI.'),
('unknown_network', 'row', 'No network with this code.'),
('unknown_contract', 'row', 'No network contract with this code.'),
('unknown_mac_list', 'row', 'No MAC list with this code.'),
('duplicate_row', 'row', 'The line repeats an earlier line of the file exactly; the earlier line is loaded.'),
(
    'conflicting_duplicate',
    'row',
    'Another line of the file has the same key with different values; none of them is loaded.'
),
('overlapping_span', 'row', 'The date span would overlap another span of the same record (file or database).'),
('key_in_use', 'row', 'A unique identifier of the row already belongs to another record.');

CREATE TABLE etl.batches (
    batch_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed text NOT NULL REFERENCES etl.feeds (feed),
    file_name text NOT NULL,
    file_sha256 text NOT NULL CONSTRAINT batches_file_sha256_is_hex CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    file_bytes bigint NOT NULL CONSTRAINT batches_file_bytes_not_negative CHECK (file_bytes >= 0),
    reload_of_batch_id bigint REFERENCES etl.batches (batch_id),
    effective_date date NOT NULL,
    effective_date_source text NOT NULL CONSTRAINT batches_effective_date_source_is_known CHECK (
        effective_date_source IN ('option', 'file name', 'file modified')
    ),
    staging_method text CONSTRAINT batches_staging_method_is_known CHECK (
        staging_method IN ('copy_csv', 'line_by_line')
    ),
    status text NOT NULL DEFAULT 'loading' CONSTRAINT batches_status_is_known CHECK (
        status IN ('loading', 'completed', 'rejected')
    ),
    rows_received integer NOT NULL DEFAULT 0 CONSTRAINT batches_rows_received_not_negative CHECK (rows_received >= 0),
    rows_loaded integer NOT NULL DEFAULT 0 CONSTRAINT batches_rows_loaded_not_negative CHECK (rows_loaded >= 0),
    rows_rejected integer NOT NULL DEFAULT 0 CONSTRAINT batches_rows_rejected_not_negative CHECK (rows_rejected >= 0),
    rows_inserted integer NOT NULL DEFAULT 0,
    rows_updated integer NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    claims_batch_id bigint REFERENCES claims.batches (batch_id),
    CONSTRAINT batches_received_is_loaded_plus_rejected CHECK (rows_received = rows_loaded + rows_rejected),
    CONSTRAINT batches_rejected_file_loads_nothing CHECK (status <> 'rejected' OR rows_loaded = 0),
    CONSTRAINT batches_finished_when_not_loading CHECK ((status = 'loading') = (finished_at IS NULL)),
    CONSTRAINT batches_reload_is_forced CHECK (reload_of_batch_id IS NULL OR reload_of_batch_id < batch_id)
);
COMMENT ON TABLE etl.batches IS
'One row per feed file loaded. The whole load (this row, staging, rejects, merge) is one transaction: a batch is completed or rejected, never half done; a killed load leaves no row and the next run loads the file again.';
COMMENT ON COLUMN etl.batches.file_name IS 'Name of the file as received (no directory)';
COMMENT ON COLUMN etl.batches.file_sha256 IS 'SHA-256 of the file''s bytes: the same file is recognised and not loaded twice';
COMMENT ON COLUMN etl.batches.reload_of_batch_id IS
'Set when the same file was loaded again on purpose (pbm etl load --force): the batch it repeats';
COMMENT ON COLUMN etl.batches.effective_date IS
'The file''s date: when its changes take effect (demographic history valid_from, future-date checks)';
COMMENT ON COLUMN etl.batches.effective_date_source IS
'Where the effective date came from: the --effective-date option, a date in the file name, or the file''s modification time';
COMMENT ON COLUMN etl.batches.staging_method IS
'copy_csv: COPY parsed the file straight into staging; line_by_line: a structural problem made the loader stage raw lines and split them in SQL';
COMMENT ON COLUMN etl.batches.status IS
'completed: good rows merged (bad rows in etl.rejects); rejected: a file-level problem, nothing merged; loading: only ever seen inside the loading transaction';
COMMENT ON COLUMN etl.batches.rows_received IS 'Data lines in the file (the header line excluded)';
COMMENT ON COLUMN etl.batches.rows_loaded IS 'Lines merged into the core tables (received = loaded + rejected, always)';
COMMENT ON COLUMN etl.batches.rows_rejected IS 'Lines refused with at least one reason in etl.rejects (all of them when the file is rejected)';
COMMENT ON COLUMN etl.batches.rows_inserted IS 'Core rows the merge inserted (all target tables of the feed)';
COMMENT ON COLUMN etl.batches.rows_updated IS 'Core rows the merge changed; rows already equal to the file are left alone and not counted';
COMMENT ON COLUMN etl.batches.claims_batch_id IS
'Claims feeds: the claims.batches row holding the good claim requests, handed to claims.adjudicate_batch';

CREATE UNIQUE INDEX batches_file_loaded_once ON etl.batches (feed, file_sha256) WHERE reload_of_batch_id IS NULL;
COMMENT ON INDEX etl.batches_file_loaded_once IS
'A file (by content) is loaded once per feed; a second loader of the same file waits for the first and then finds it';
CREATE INDEX batches_reload_of_idx ON etl.batches (reload_of_batch_id) WHERE reload_of_batch_id IS NOT NULL;
CREATE INDEX batches_claims_batch_idx ON etl.batches (claims_batch_id) WHERE claims_batch_id IS NOT NULL;
CREATE INDEX batches_feed_started_idx ON etl.batches (feed, started_at);

CREATE TABLE etl.rejects (
    reject_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id bigint NOT NULL REFERENCES etl.batches (batch_id),
    line_no integer NOT NULL CONSTRAINT rejects_line_no_not_negative CHECK (line_no >= 0),
    column_name text,
    value text,
    rule text NOT NULL REFERENCES etl.reject_rules (rule),
    detail text
);
COMMENT ON TABLE etl.rejects IS
'Every rule a line failed: one row per (line, column, rule). A line is loaded only when it has no row here.';
COMMENT ON COLUMN etl.rejects.line_no IS
'Line of the file, counted from 1 = the header line; 0 = the file as a whole (e.g. an empty file)';
COMMENT ON COLUMN etl.rejects.column_name IS 'The layout column at fault; NULL for line- and file-level rules';
COMMENT ON COLUMN etl.rejects.value IS 'The value as received (for line-level rules the whole line)';
COMMENT ON COLUMN etl.rejects.detail IS 'What was expected, or which other line or record it conflicts with';
CREATE INDEX rejects_batch_line_idx ON etl.rejects (batch_id, line_no);
CREATE INDEX rejects_rule_idx ON etl.rejects (rule);

-- ---------------------------------------------------------------------------------------------------
-- Staging: one UNLOGGED table per layout, every column text, holding the most recent file of the feed
-- (emptied when the next file of the feed is loaded; concurrent loads of one feed wait for each other).
-- line_no is the file's line number (header = 1): COPY numbers the lines through the identity.
-- raw_line is filled only when the loader had to stage raw lines (a structural problem in the file).
-- ---------------------------------------------------------------------------------------------------
CREATE UNLOGGED TABLE etl.stage_eligibility (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    cardholder_id text,
    person_code text,
    relationship_code text,
    first_name text,
    last_name text,
    date_of_birth text,
    gender text,
    address_line1 text,
    city text,
    state text,
    zip5 text,
    mbi text,
    plan_code text,
    coverage_effective_date text,
    coverage_termination_date text,
    termination_reason text
);

CREATE UNLOGGED TABLE etl.stage_drugs (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    ndc11 text,
    ndc_package_code text,
    drug_name text,
    generic_name text,
    strength text,
    dosage_form text,
    route text,
    multi_source_code text,
    therapeutic_class text,
    drug_group text,
    dea_schedule text,
    is_insulin text,
    is_vaccine text,
    is_specialty text,
    unit_of_measure text,
    package_size text,
    market_end_date text
);

CREATE UNLOGGED TABLE etl.stage_drug_prices (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    ndc11 text,
    price_type text,
    mac_list_code text,
    unit_price text,
    effective_date text,
    end_date text
);

CREATE UNLOGGED TABLE etl.stage_pharmacies (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    npi text,
    ncpdp_id text,
    name text,
    address_line1 text,
    city text,
    state text,
    zip5 text,
    pharmacy_type text
);

CREATE UNLOGGED TABLE etl.stage_network (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    network_code text,
    pharmacy_npi text,
    contract_code text,
    effective_date text,
    termination_date text
);

CREATE UNLOGGED TABLE etl.stage_prescribers (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    npi text,
    dea_number text,
    first_name text,
    last_name text,
    specialty text,
    state text,
    deactivated_on text
);

CREATE UNLOGGED TABLE etl.stage_prior_authorizations (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    pa_number text,
    cardholder_id text,
    person_code text,
    drug_group text,
    prescriber_npi text,
    urgency text,
    status text,
    received_at text,
    decided_at text,
    decision_reason text,
    effective_date text,
    expiration_date text,
    approved_quantity text
);

CREATE UNLOGGED TABLE etl.stage_claims (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    bin text,
    pcn text,
    group_id text,
    cardholder_id text,
    person_code text,
    patient_date_of_birth text,
    patient_gender_code text,
    date_of_service text,
    service_provider_id text,
    prescriber_id text,
    product_id text,
    quantity_dispensed text,
    days_supply text,
    fill_number text,
    daw_code text,
    rx_number text,
    date_prescription_written text,
    submission_clarification_code text,
    prior_authorization_number_submitted text,
    ingredient_cost_submitted text,
    dispensing_fee_submitted text,
    usual_and_customary_charge text,
    gross_amount_due text
);

CREATE UNLOGGED TABLE etl.stage_desynpuf_pde (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    desynpuf_id text,
    pde_id text,
    srvc_dt text,
    prod_srvc_id text,
    qty_dspnsd_num text,
    days_suply_num text,
    ptnt_pay_amt text,
    tot_rx_cst_amt text
);

CREATE UNLOGGED TABLE etl.stage_desynpuf_beneficiary (
    batch_id bigint NOT NULL DEFAULT etl.current_batch_id(),
    line_no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2) NOT NULL,
    raw_line text,
    desynpuf_id text,
    bene_birth_dt text,
    bene_death_dt text,
    bene_sex_ident_cd text,
    bene_race_cd text,
    bene_esrd_ind text,
    sp_state_code text,
    bene_county_cd text,
    bene_hi_cvrage_tot_mons text,
    bene_smi_cvrage_tot_mons text,
    bene_hmo_cvrage_tot_mons text,
    plan_cvrg_mos_num text,
    sp_alzhdmta text,
    sp_chf text,
    sp_chrnkidn text,
    sp_cncr text,
    sp_copd text,
    sp_depressn text,
    sp_diabetes text,
    sp_ischmcht text,
    sp_osteoprs text,
    sp_ra_oa text,
    sp_strketia text,
    medreimb_ip text,
    benres_ip text,
    pppymt_ip text,
    medreimb_op text,
    benres_op text,
    pppymt_op text,
    medreimb_car text,
    benres_car text,
    pppymt_car text
);

INSERT INTO etl.feeds (feed, staging_table, target, natural_key, description) VALUES
(
    'eligibility', 'etl.stage_eligibility', 'member.members, member.coverage_spans',
    '{cardholder_id,person_code,plan_code,coverage_effective_date}',
    'Members and coverage spans from plan sponsors: adds, demographic changes (kept as history), span changes '
    || 'and terminations.'
),
(
    'drugs', 'etl.stage_drugs', 'drug.drugs', '{ndc11}',
    'Drug catalog by NDC-11 from the drug data vendor.'
),
(
    'drug_prices', 'etl.stage_drug_prices', 'drug.prices', '{ndc11,price_type,mac_list_code,effective_date}',
    'Unit prices (AWP, WAC, NADAC, MAC) with effective dates; a new price closes the open one before it.'
),
(
    'pharmacies', 'etl.stage_pharmacies', 'network.pharmacies', '{npi}',
    'Dispensing pharmacies (NPI, NCPDP ID, address, type).'
),
(
    'network', 'etl.stage_network', 'network.participations', '{network_code,pharmacy_npi,effective_date}',
    'Network participation of pharmacies under a contract between two dates.'
),
(
    'prescribers', 'etl.stage_prescribers', 'network.prescribers', '{npi}',
    'Prescribers known to the plan (NPI, DEA number, specialty).'
),
(
    'prior_authorizations', 'etl.stage_prior_authorizations',
    'claims.prior_authorizations, claims.prior_authorization_events', '{pa_number}',
    'Prior authorization requests and decisions from the clinical (utilization management) vendor.'
),
(
    'claims', 'etl.stage_claims', 'claims.batches, claims.batch_claims',
    '{service_provider_id,rx_number,fill_number}',
    'NCPDP B1 claim requests in CSV, staged as a claims batch for batch adjudication.'
),
(
    'desynpuf_pde', 'etl.stage_desynpuf_pde', 'claims.prescription_drug_events', '{pde_id}',
    'CMS DE-SynPUF Prescription Drug Events: already adjudicated fills (patient pay, total cost).'
),
(
    'desynpuf_beneficiary', 'etl.stage_desynpuf_beneficiary', 'member.members, member.coverage_spans', '{desynpuf_id}',
    'CMS DE-SynPUF Beneficiary Summary (one file per year): members and Part D coverage under the DE-SynPUF plan.'
);

-- Comments on the staging tables and every staging column (generated from the catalog: the column
-- order of a staging table is the feed's layout, checked against etl/layouts.py by a test).
DO $$
DECLARE
    v_feed record;
BEGIN
    FOR v_feed IN SELECT f.feed, f.staging_table FROM etl.feeds AS f LOOP
        EXECUTE format(
            'COMMENT ON TABLE %s IS %L', v_feed.staging_table,
            format('Staging of the %s feed: the most recent file, one row per line, every value as text exactly as received.', v_feed.feed)
        );
        EXECUTE format('COMMENT ON COLUMN %s.batch_id IS %L', v_feed.staging_table, 'The etl.batches row of the file');
        EXECUTE format(
            'COMMENT ON COLUMN %s.line_no IS %L', v_feed.staging_table,
            'Line of the file (the header is line 1)'
        );
        EXECUTE format(
            'COMMENT ON COLUMN %s.raw_line IS %L', v_feed.staging_table,
            'The line as received, kept only when the file was staged line by line (structural problems)'
        );
        EXECUTE (
            SELECT string_agg(
                format(
                    'COMMENT ON COLUMN %s.%I IS %L', v_feed.staging_table, a.attname,
                    format('Column %s of the %s layout, as received', a.attnum - 3, v_feed.feed)
                ),
                '; '
            )
            FROM pg_catalog.pg_attribute AS a
            WHERE a.attrelid = v_feed.staging_table AND a.attnum > 3 AND NOT a.attisdropped
        );
    END LOOP;
END;
$$;
