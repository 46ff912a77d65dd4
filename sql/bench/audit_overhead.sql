-- What the audit triggers cost on claims.claims, measured on this database (every run rolled back):
--   bulk: INSERT ... SELECT of -v rows=N synthetic claims (1,000,000 for the figures), without the audit trigger, with
--         it (as the owner), and with it as pbm_etl (forced row-level security, the batch path);
--   bulk: UPDATE of 100,000 of them, without and with the audit trigger;
--   real time: 5,000 one-row INSERT statements, without and with the audit trigger.
-- Run: pbm db psql -v rows=1000000 -f sql/bench/audit_overhead.sql   (as a superuser; about 2 minutes)
-- Each line of output is a NOTICE: case, rows, milliseconds, rows per second.

SELECT set_config('bench.rows', :'rows', FALSE);

CREATE OR REPLACE FUNCTION pg_temp.bench_insert(p_case text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_rows integer := current_setting('bench.rows')::integer;
    v_start timestamptz := clock_timestamp();
    v_ms numeric;
BEGIN
    INSERT INTO claims.claims (
        claim_id, transaction_code, batch_id, batch_line_no, bin, pcn, group_id, cardholder_id, person_code,
        patient_date_of_birth, patient_gender_code, date_of_service, service_provider_id, prescriber_id,
        product_id, quantity_dispensed, days_supply, fill_number, daw_code, rx_number, date_prescription_written,
        ingredient_cost_submitted, dispensing_fee_submitted, usual_and_customary_charge, gross_amount_due,
        member_id, plan_id, plan_year, pharmacy_id, tier, transaction_response_status, reject_codes,
        ingredient_cost_paid, dispensing_fee_paid, total_amount_paid, basis_of_reimbursement, pricing_source,
        patient_pay_amount, amount_applied_to_deductible, amount_of_copay, amount_of_coinsurance,
        amount_attributed_to_product_selection, stage_deductible_amount, stage_initial_amount,
        stage_catastrophic_amount, accumulated_deductible_amount, remaining_deductible_amount,
        accumulated_oop_amount, remaining_oop_amount, deductible_delta, oop_delta, gross_cost_delta
    )
    SELECT
        nextval('claims.claim_id_seq'), 'B1', -1, g, '610014', 'BENCH', 'GRP1', 'BENCH' || (g % 100000), '01',
        date '1950-01-01' + (g % 20000), 1 + g % 2, date '2026-01-01' + (g % 330), '1234567893', '1234567893',
        '00002759701', 30, 30, 0, 0, (10000000 + g)::text, date '2025-12-01', 100.00, 2.00, 120.00, 102.00,
        g % 100000, 1, 2026, 1, 1, 'P', '{}', 90.00, 2.00, 82.00, 1, 'AWP', 10.00, 0, 10.00, 0, 0, 0, 92.00, 0,
        0, 0, 10.00, 1990.00, 0, 10.00, 92.00
    FROM generate_series(1, v_rows) AS g;
    v_ms := round(extract(EPOCH FROM clock_timestamp() - v_start) * 1000);
    RAISE NOTICE 'insert %: % rows in % ms (% rows/s)', p_case, v_rows, v_ms, round(v_rows / v_ms * 1000);
END;
$$;

CREATE OR REPLACE FUNCTION pg_temp.bench_update(p_case text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_ms numeric;
    v_rows bigint;
BEGIN
    UPDATE claims.claims SET m3p_ltb_notice = TRUE
    WHERE batch_id = -1 AND batch_line_no <= 100000;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_ms := round(extract(EPOCH FROM clock_timestamp() - v_start) * 1000);
    RAISE NOTICE 'update %: % rows in % ms (% rows/s)', p_case, v_rows, v_ms, round(v_rows / v_ms * 1000);
END;
$$;

CREATE OR REPLACE FUNCTION pg_temp.bench_single_rows(p_case text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_ms numeric;
BEGIN
    FOR g IN 1..5000 LOOP
        INSERT INTO claims.claims (claim_id, batch_id, date_of_service, transaction_response_status, reject_codes)
        VALUES (nextval('claims.claim_id_seq'), -2, date '2026-06-01' + g % 30, 'R', '{65}');
    END LOOP;
    v_ms := round(extract(EPOCH FROM clock_timestamp() - v_start) * 1000, 1);
    RAISE NOTICE 'one-row inserts %: 5000 statements in % ms (% us each)', p_case, v_ms, round(v_ms / 5, 1);
END;
$$;

-- Three rounds, alternating, so a busy neighbour on a shared machine hits both sides alike.
BEGIN;
ALTER TABLE claims.claims DISABLE TRIGGER audit_insert;
SELECT pg_temp.bench_insert('without audit');
ROLLBACK;
BEGIN;
SELECT pg_temp.bench_insert('with audit (owner)');
ROLLBACK;
BEGIN;
SET LOCAL ROLE pbm_etl;
SELECT pg_temp.bench_insert('with audit (pbm_etl, forced RLS)');
ROLLBACK;
BEGIN;
ALTER TABLE claims.claims DISABLE TRIGGER audit_insert;
SELECT pg_temp.bench_insert('without audit');
ROLLBACK;
BEGIN;
SELECT pg_temp.bench_insert('with audit (owner)');
ROLLBACK;
BEGIN;
SET LOCAL ROLE pbm_etl;
SELECT pg_temp.bench_insert('with audit (pbm_etl, forced RLS)');
ROLLBACK;
BEGIN;
ALTER TABLE claims.claims DISABLE TRIGGER audit_insert;
SELECT pg_temp.bench_insert('without audit');
ROLLBACK;
BEGIN;
SELECT pg_temp.bench_insert('with audit (owner)');
ROLLBACK;
BEGIN;
SET LOCAL ROLE pbm_etl;
SELECT pg_temp.bench_insert('with audit (pbm_etl, forced RLS)');
ROLLBACK;

-- Bulk update of 100,000 rows (each audited in full).
BEGIN;
ALTER TABLE claims.claims DISABLE TRIGGER audit_insert, DISABLE TRIGGER audit_update;
SELECT pg_temp.bench_insert('(setup)');
SELECT pg_temp.bench_update('without audit');
ROLLBACK;
BEGIN;
ALTER TABLE claims.claims DISABLE TRIGGER audit_insert;
SELECT pg_temp.bench_insert('(setup)');
SELECT pg_temp.bench_update('with audit');
ROLLBACK;

-- Real time: the statement-level trigger's fixed cost per statement.
BEGIN;
ALTER TABLE claims.claims DISABLE TRIGGER audit_insert;
SELECT pg_temp.bench_single_rows('without audit');
ROLLBACK;
BEGIN;
SELECT pg_temp.bench_single_rows('with audit');
ROLLBACK;
