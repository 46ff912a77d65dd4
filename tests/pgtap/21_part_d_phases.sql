-- Medicare Part D 2025 defined standard benefit, worked by hand: deductible $590, 25% coinsurance,
-- $0 after the $2,000 out-of-pocket threshold; crossing claims split to the cent; insulin at most $35
-- per month supply without deductible; ACIP vaccines $0; M3P participant pays $0 at the pharmacy;
-- the likely-to-benefit notice at $600.
-- ELIQUIS x 30 = AWP 20.00 * 0.83 * 30 + 2.00 fee = 500.00 allowed; x 300 = 4,980.00 + 2.00 = 4,982.00.
BEGIN;
SELECT plan(42);
SELECT tap.setup_adjudication();
SELECT tap.add_member('PD1', 'TPD', '1950-05-01', 'F', '2025-01-01');

CREATE TEMP TABLE r ON COMMIT DROP AS
SELECT
    1 AS n,
    c.*
FROM tap.adjudicate(tap.claim('PD1', '99999000301', '2025-01-10', 30, 30, '1001')) AS c;
INSERT INTO r SELECT
    2,
    c.*
FROM tap.adjudicate(tap.claim('PD1', '99999000301', '2025-02-10', 30, 30, '1002')) AS c;
INSERT INTO r SELECT
    3,
    c.*
FROM tap.adjudicate(tap.claim('PD1', '99999000301', '2025-03-12', 300, 30, '1003')) AS c;
INSERT INTO r SELECT
    4,
    c.*
FROM tap.adjudicate(tap.claim('PD1', '99999000301', '2025-04-11', 30, 30, '1004')) AS c;
INSERT INTO r SELECT
    5,
    c.*
FROM tap.adjudicate(tap.claim('PD1', '99999000301', '2025-05-11', 30, 30, '1005')) AS c;

SELECT results_eq(
    'SELECT transaction_response_status::text FROM r ORDER BY n',
    $$VALUES ('P'), ('P'), ('P'), ('P'), ('P')$$,
    'all five fills are paid'
);
SELECT results_eq(
    'SELECT ingredient_cost_paid, dispensing_fee_paid FROM r ORDER BY n',
    $$VALUES (498.00, 2.00), (498.00, 2.00), (4980.00, 2.00), (498.00, 2.00), (498.00, 2.00)$$,
    'priced AWP-17% plus the $2.00 brand fee'
);
-- Fill 1: all $500.00 in the deductible.
SELECT is(patient_pay_amount, 500.00, 'fill 1: the member pays the whole $500.00 in the deductible') FROM r
WHERE n = 1;
SELECT is(amount_applied_to_deductible, 500.00, 'fill 1: $500.00 applied to the deductible (517-FH)')
FROM r
WHERE n = 1;
SELECT is(remaining_deductible_amount, 90.00, 'fill 1: $90.00 of the deductible remains (513-FD)') FROM r
WHERE n = 1;
SELECT is(total_amount_paid, 0.00, 'fill 1: the plan pays nothing') FROM r
WHERE n = 1;
-- Fill 2 crosses the deductible: $90.00 deductible + 25% of $410.00 = $102.50.
SELECT is(amount_applied_to_deductible, 90.00, 'fill 2: the last $90.00 of the deductible') FROM r
WHERE n = 2;
SELECT is(amount_of_coinsurance, 102.50, 'fill 2: 25% of the remaining $410.00 = $102.50') FROM r
WHERE n = 2;
SELECT is(patient_pay_amount, 192.50, 'fill 2: patient pays $192.50 (split exactly at the deductible)')
FROM r
WHERE n = 2;
SELECT is(total_amount_paid, 307.50, 'fill 2: plan pays $307.50') FROM r
WHERE n = 2;
SELECT results_eq(
    'SELECT stage_deductible_amount, stage_initial_amount, stage_catastrophic_amount FROM r WHERE n = 2',
    $$VALUES (90.00, 410.00, 0.00)$$, 'fill 2: benefit stages $90.00 deductible, $410.00 initial'
);
SELECT is(accumulated_deductible_amount, 590.00, 'fill 2: deductible met at $590.00 (512-FC)') FROM r
WHERE n = 2;
SELECT is(accumulated_oop_amount, 692.50, 'fill 2: out of pocket $692.50') FROM r
WHERE n = 2;
-- Fill 3: 25% of $4,982.00.
SELECT is(amount_of_coinsurance, 1245.50, 'fill 3: 25% of $4,982.00 = $1,245.50') FROM r
WHERE n = 3;
SELECT is(accumulated_oop_amount, 1938.00, 'fill 3: out of pocket $1,938.00') FROM r
WHERE n = 3;
-- Fill 4 crosses the $2,000 threshold: only $62.00 of the $125.00 coinsurance is owed.
SELECT is(patient_pay_amount, 62.00, 'fill 4: pays $62.00, the rest of the way to $2,000') FROM r
WHERE n = 4;
SELECT is(total_amount_paid, 438.00, 'fill 4: plan pays $438.00') FROM r
WHERE n = 4;
SELECT results_eq(
    'SELECT stage_deductible_amount, stage_initial_amount, stage_catastrophic_amount FROM r WHERE n = 4',
    $$VALUES (0.00, 248.00, 252.00)$$,
    'fill 4: $248.00 of the cost in initial coverage ($62.00 is 25% of it), $252.00 catastrophic'
);
SELECT is(accumulated_oop_amount, 2000.00, 'fill 4: out of pocket reaches exactly $2,000.00') FROM r
WHERE n = 4;
SELECT is(remaining_oop_amount, 0.00, 'fill 4: nothing remains to the threshold') FROM r
WHERE n = 4;
-- Fill 5: catastrophic, $0.
SELECT is(patient_pay_amount, 0.00, 'fill 5: $0 in the catastrophic phase') FROM r
WHERE n = 5;
SELECT is(stage_catastrophic_amount, 500.00, 'fill 5: all $500.00 catastrophic') FROM r
WHERE n = 5;
SELECT is(
    (SELECT sum(patient_pay_amount) FROM r), 2000.00,
    'over the year the member paid exactly the $2,000.00 threshold'
);
SELECT is(
    (SELECT sum(amount_applied_to_deductible) FROM r), 590.00, 'of which exactly the $590.00 deductible'
);
SELECT results_eq(
    $$SELECT deductible_accumulated, oop_accumulated, gross_cost_accumulated FROM claims.accumulators a
      JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'PD1' AND a.plan_year = 2025$$,
    $$VALUES (590.00, 2000.00, 6982.00)$$,
    'accumulators: deductible $590.00, out of pocket $2,000.00, gross cost $6,982.00'
);
SELECT is(m3p_ltb_notice, TRUE, 'fill 3 ($1,245.50 out of pocket >= $600) carries the M3P likely-to-benefit notice')
FROM r
WHERE n = 3;
SELECT is(m3p_ltb_notice, FALSE, 'fill 1 ($500.00) does not') FROM r
WHERE n = 1;
SELECT is(
    claims.response_of(claim_id, date_of_service) ->> 'approved_message_code', '056',
    'the notice is approved message code 056 in the response'
) FROM r
WHERE n = 3;
SELECT is(
    claims.response_of(claim_id, date_of_service) -> 'benefit_phases', '["initial_coverage", "catastrophic"]'::jsonb,
    'the response names the phases fill 4 touched'
) FROM r
WHERE n = 4;

-- Insulin: LANTUS 10 mL (30 days) = 20.00 * 0.83 * 10 + 2.00 = 168.00; 25% = 42.00 > $35 cap.
SELECT tap.add_member('PD2', 'TPD', '1948-02-02', 'M', '2025-01-01');
CREATE TEMP TABLE i ON COMMIT DROP AS
SELECT
    1 AS n,
    c.*
FROM tap.adjudicate(tap.claim('PD2', '99999000401', '2025-01-05', 10, 30, '2001')) AS c;
INSERT INTO i SELECT
    2,
    c.*
FROM tap.adjudicate(tap.claim('PD2', '99999000401', '2025-02-04', 30, 90, '2002')) AS c;
SELECT is(patient_pay_amount, 35.00, 'insulin, one month supply, in the deductible phase: $35.00, not $168.00')
FROM i
WHERE n = 1;
SELECT is(amount_applied_to_deductible, 0.00, 'insulin skips the deductible') FROM i
WHERE n = 1;
SELECT is(accumulated_deductible_amount, 0.00, 'and does not count toward it') FROM i
WHERE n = 1;
SELECT is(patient_pay_amount, 105.00, 'insulin, 90 days (three month supplies): at most $105.00 (25% would be $125.00)')
FROM i
WHERE n = 2;
SELECT is(accumulated_oop_amount, 140.00, 'both insulin fills count toward the out-of-pocket threshold')
FROM i
WHERE n = 2;

-- ACIP vaccine: $0, no deductible. SHINGRIX = 100.00 * 0.83 + 2.00 = 85.00.
SELECT tap.add_member('PD3', 'TPD', '1945-03-03', 'F', '2025-01-01');
CREATE TEMP TABLE v ON COMMIT DROP AS
SELECT c.* FROM tap.adjudicate(tap.claim('PD3', '99999000501', '2025-03-01', 1, 1, '3001')) AS c;
SELECT is(patient_pay_amount, 0.00, 'an ACIP vaccine costs the member $0') FROM v;
SELECT is(total_amount_paid, 85.00, 'the plan pays the whole $85.00') FROM v;
SELECT is(accumulated_deductible_amount, 0.00, 'the vaccine does not touch the deductible') FROM v;

-- M3P participant: the pharmacy collects $0, the cost share moves into the program.
SELECT tap.add_member('PD4', 'TPD', '1944-04-04', 'M', '2025-01-01');
INSERT INTO ppp.elections (member_id, plan_year, source, received_at, effective_date)
SELECT
    member_id,
    2025,
    'phone',
    '2025-01-02 10:00',
    '2025-01-03'
FROM member.members
WHERE cardholder_id = 'PD4';
CREATE TEMP TABLE m ON COMMIT DROP AS
SELECT c.* FROM tap.adjudicate(tap.claim('PD4', '99999000301', '2025-01-10', 30, 30, '4001')) AS c;
SELECT is(patient_pay_amount, 500.00, 'the participant''s cost share is unchanged: $500.00 in the deductible') FROM m;
SELECT is(m3p_amount, 500.00, 'all $500.00 moves into the payment plan') FROM m;
SELECT is(
    claims.response_of(claim_id, date_of_service) ->> 'amount_collected_from_patient', '0.00',
    'the pharmacy collects $0.00'
) FROM m;
SELECT is(total_amount_paid, 0.00, 'what the plan pays the pharmacy is unchanged') FROM m;
SELECT is(m3p_ltb_notice, FALSE, 'a participant gets no likely-to-benefit notice') FROM m;

SELECT * FROM finish();
ROLLBACK;
