-- M3P payments and past-due tracking: payments settle the oldest open statement first (partly, across
-- statements, overpayments refunded, repeated references recorded once), past-due notices and the grace
-- period of two calendar months, termination for failure to pay, preclusion from the next year, reports.
BEGIN;
SELECT plan(27);

SET LOCAL timezone = 'UTC';
SELECT set_config('pbm.effective_date', '2024-01-01', TRUE);

INSERT INTO network.networks (network_code, name) VALUES ('M3P-NET', 'M3P test network');
INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
VALUES ('1234567893', '7654321', 'M3P Test Pharmacy', '1 Main St', 'Austin', 'TX', '78701', 'retail');
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, contract_number, pbp_id, network_id)
SELECT
    v.plan_code,
    v.name,
    v.plan_type,
    '610999',
    'M3PTEST',
    v.group_id,
    v.contract_number,
    v.pbp_id,
    n.network_id
FROM (
    VALUES
    ('M3P-PD', 'Part D test plan', 'medicare_part_d', 'PDGRP', 'S1234', '001'),
    ('M3P-COMM', 'Commercial test plan', 'commercial', 'COMMGRP', NULL, NULL)
) AS v (plan_code, name, plan_type, group_id, contract_number, pbp_id)
CROSS JOIN network.networks AS n
WHERE n.network_code = 'M3P-NET';

INSERT INTO member.members (
    cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5
)
SELECT
    'M3P' || c,
    'Test',
    'Member ' || c,
    '1950-01-01',
    'F',
    '1 Elm St',
    'Austin',
    'TX',
    '78701'
FROM unnest(ARRAY['P', 'O', 'X']) AS c;
INSERT INTO member.coverage_spans (member_id, plan_id, effective_date, termination_date)
SELECT
    m.member_id,
    p.plan_id,
    '2024-01-01',
    NULL
FROM member.members AS m
INNER JOIN plan.plans AS p ON p.plan_code = 'M3P-PD'
WHERE m.cardholder_id LIKE 'M3P_';

CREATE FUNCTION pg_temp.member(p_letter text) RETURNS bigint
LANGUAGE sql STABLE
AS $$SELECT m.member_id FROM member.members AS m WHERE m.cardholder_id = 'M3P' || p_letter$$;

-- A paid claim as adjudication writes it: 25% coinsurance = patient pay, all in the initial stage.
CREATE FUNCTION pg_temp.paid_claim(
    p_letter text, p_dos date, p_patient_pay numeric, p_m3p boolean DEFAULT FALSE, p_received timestamptz DEFAULT NULL
) RETURNS bigint
LANGUAGE sql
AS $$
    INSERT INTO claims.claims (
        transaction_code, received_at, date_of_service, cardholder_id, person_code, service_provider_id, rx_number,
        fill_number, days_supply, quantity_dispensed, member_id, plan_id, plan_year, pharmacy_id,
        transaction_response_status, ingredient_cost_paid, dispensing_fee_paid, total_amount_paid, patient_pay_amount,
        amount_applied_to_deductible, amount_of_copay, amount_of_coinsurance, amount_attributed_to_product_selection,
        stage_deductible_amount, stage_initial_amount, stage_catastrophic_amount, oop_delta, m3p_amount
    )
    SELECT 'B1', coalesce(p_received, p_dos + time '10:00'), p_dos, m.cardholder_id, '01', '1234567893',
        lpad((random() * 1e9)::bigint::text, 9, '0'), 0, 30, 30, m.member_id, cs.plan_id,
        extract(YEAR FROM p_dos), (SELECT pharmacy_id FROM network.pharmacies WHERE npi = '1234567893'),
        'P', 4 * p_patient_pay, 0, 3 * p_patient_pay, p_patient_pay, 0, 0, p_patient_pay, 0,
        0, 4 * p_patient_pay, 0, p_patient_pay, CASE WHEN p_m3p THEN p_patient_pay ELSE 0 END
    FROM member.members AS m
    INNER JOIN member.coverage_spans AS cs ON cs.member_id = m.member_id
    WHERE m.cardholder_id = 'M3P' || p_letter
    RETURNING claim_id
$$;


-- The plan precludes members terminated for failure to pay from electing the next year.
INSERT INTO ppp.plan_options (plan_id, preclude_after_termination)
SELECT
    plan_id,
    TRUE
FROM plan.plans
WHERE plan_code = 'M3P-PD';

-- P: 1,200 in January and never pays. O: 600 in January, pays late but within the grace period.
-- X: 120 in January, pays 150.
SELECT api.ppp_elect(pg_temp.member(c), 'mail', '2024-12-15 14:00+00', 2025) FROM unnest(ARRAY['P', 'O', 'X']) AS c;
SELECT pg_temp.paid_claim('P', '2025-01-10', 1200.00, TRUE);
SELECT pg_temp.paid_claim('O', '2025-01-10', 600.00, TRUE);
SELECT pg_temp.paid_claim('X', '2025-01-10', 120.00, TRUE);

CREATE FUNCTION pg_temp.statement_id(p_letter text, p_month date) RETURNS bigint
LANGUAGE sql STABLE
AS $$
    SELECT s.statement_id FROM ppp.statements AS s
    WHERE s.member_id = pg_temp.member(p_letter) AND s.billing_month = p_month
$$;

SELECT ppp.run_billing('2025-01-01', '2025-02-01');

-- ---------------------------------------------------------------------------------------------------
-- payments
-- ---------------------------------------------------------------------------------------------------
-- X was billed 120.00 for January (the lesser of the costs and the 166.67 cap) and pays 150.00.
SELECT results_eq(
    $$SELECT (r ->> 'applied')::numeric, (r ->> 'refunded')::numeric,
        (r -> 'allocations' -> 0 ->> 'statement_settled')::boolean
      FROM api.ppp_record_payment(pg_temp.member('X'), 150.00, '2025-02-10', 'ach', 'ACH-1') AS r$$,
    $$VALUES (120.00, 30.00, TRUE)$$,
    'a payment settles the open statement; the 30.00 no statement needs is refunded'
);
SELECT results_eq(
    $$SELECT reason, amount, created_on FROM ppp.refunds WHERE member_id = pg_temp.member('X')$$,
    $$VALUES ('overpayment', 30.00, DATE '2025-02-10')$$,
    'the overpayment is a refund record'
);
SELECT is(
    api.ppp_record_payment(pg_temp.member('X'), 150.00, '2025-02-11', 'ach', 'ACH-1') ->> 'duplicate', 'true',
    'the same payment reference again is the same payment'
);
SELECT is(
    (
        SELECT count(*)::int FROM ppp.payments
        WHERE member_id = pg_temp.member('X')
    ), 1, 'it is recorded once'
);
SELECT throws_ok(
    $$SELECT api.ppp_record_payment(pg_temp.member('X'), 15.00, '2025-02-11', 'ach', 'ACH-1')$$, '23505', NULL,
    'a known reference with another amount is refused'
);
SELECT throws_ok(
    $$SELECT api.ppp_record_payment(pg_temp.member('X'), 10.005, '2025-02-11')$$, '22023', NULL,
    'an amount with fractions of a cent is refused, not rounded'
);
SELECT throws_ok(
    $$SELECT api.ppp_record_payment(pg_temp.member('X'), -5, '2025-02-11')$$, '22023', NULL,
    'a negative amount is refused'
);
SELECT throws_ok(
    $$SELECT api.ppp_record_payment(pg_temp.member('X'), 5, '2025-02-11', 'bitcoin')$$, '22023',
    'unknown payment method "bitcoin"', 'an unknown method is refused'
);
SELECT throws_ok(
    $$SELECT api.ppp_record_payment(-1, 5, '2025-02-11')$$,
    'P0002',
    'member -1 not found',
    'an unknown member is refused'
);

-- ---------------------------------------------------------------------------------------------------
-- past due: notices and grace period
-- ---------------------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT * FROM ppp.process_past_due('2025-03-01')$$,
    $$VALUES (2, 0, 0, 0)$$,
    'March 1: January''s statements of P and O (due February 28) are past due: two notices'
);
SELECT results_eq(
    $$SELECT past_due_notice_on, grace_period_ends_on FROM ppp.statements
      WHERE statement_id = pg_temp.statement_id('P', '2025-01-01')$$,
    $$VALUES (DATE '2025-03-01', DATE '2025-04-30')$$,
    'the notice is dated and the grace period runs two calendar months, March and April'
);
SELECT ppp.run_billing('2025-02-01', '2025-03-01');
SELECT
    is(
        (SELECT notices_sent FROM ppp.process_past_due('2025-04-01')),
        2,
        'April 1: February''s statements are past due too'
    );
SELECT ppp.run_billing('2025-03-01', '2025-04-01');

-- O (January 166.67, February (600 - 166.67) / 11 = 39.39, March 393.94 / 10 = 39.39) pays 200.00 on
-- April 10: January is settled, 33.33 goes to February (6.06 left); then 45.45 on April 20 settles February
-- (6.06) and March (39.39).
SELECT results_eq(
    $$SELECT a ->> 'billing_month', (a ->> 'amount')::numeric, (a ->> 'statement_settled')::boolean
      FROM jsonb_array_elements(api.ppp_record_payment(pg_temp.member('O'), 200.00, '2025-04-10', 'check') -> 'allocations') AS a$$,
    $$VALUES ('2025-01', 166.67, TRUE), ('2025-02', 33.33, FALSE)$$,
    'a payment settles the oldest open statement first and the rest goes to the next'
);
SELECT results_eq(
    $$SELECT a ->> 'billing_month', (a ->> 'amount')::numeric, (a ->> 'statement_settled')::boolean
      FROM jsonb_array_elements(api.ppp_record_payment(pg_temp.member('O'), 45.45, '2025-04-20', 'card') -> 'allocations') AS a$$,
    $$VALUES ('2025-02', 6.06, TRUE), ('2025-03', 39.39, TRUE)$$,
    'the next payment settles the rest of February and March'
);
SELECT results_eq(
    $$SELECT billing_month, amount_paid, settled_on, status FROM ppp.statement_history
      WHERE member_id = pg_temp.member('O') ORDER BY billing_month$$,
    $$VALUES (DATE '2025-01-01', 166.67, DATE '2025-04-10', 'settled'),
        (DATE '2025-02-01', 39.39, DATE '2025-04-20', 'settled'),
        (DATE '2025-03-01', 39.39, DATE '2025-04-20', 'settled')$$,
    'O''s statement history: the old statements are settled'
);
SELECT results_eq(
    $$SELECT * FROM ppp.process_past_due('2025-04-30')$$,
    $$VALUES (0, 0, 0, 0)$$,
    'April 30, the last day of the grace period: nobody is terminated yet'
);

-- ---------------------------------------------------------------------------------------------------
-- termination for failure to pay
-- ---------------------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT * FROM ppp.process_past_due('2025-05-01')$$,
    $$VALUES (1, 1, 1, 0)$$,
    'May 1: P''s March bill is past due (a notice); January''s is unpaid after the grace period: terminated, precluded'
);
SELECT results_eq(
    $$SELECT status, termination_reason, end_date, termination_notice_on,
        terminated_for_statement_id = pg_temp.statement_id('P', '2025-01-01')
      FROM ppp.elections WHERE member_id = pg_temp.member('P')$$,
    $$VALUES ('terminated', 'failure_to_pay', DATE '2025-04-30', DATE '2025-05-01', TRUE)$$,
    'P''s participation ends April 30; the termination notice is dated May 1, when it takes effect'
);
SELECT is(
    (
        SELECT status FROM ppp.elections
        WHERE member_id = pg_temp.member('O')
    ), 'active',
    'O, who paid within the grace period, still participates'
);
SELECT ppp.run_billing('2025-04-01', '2025-05-01');
SELECT ppp.run_billing('2025-05-01', '2025-06-01');
-- P: January 166.67 (1,033.33 left); 1033.33 / 11 = 93.94 (939.39); 939.39 / 10 = 93.94 (845.45);
-- 845.45 / 9 = 93.94 (751.51); 751.51 / 8 = 93.93875 -> 93.94 (657.57).
SELECT results_eq(
    $$SELECT billing_month, participating, amount_billed, balance_after FROM ppp.statements
      WHERE member_id = pg_temp.member('P') ORDER BY billing_month$$,
    $$VALUES (DATE '2025-01-01', TRUE, 166.67, 1033.33), (DATE '2025-02-01', TRUE, 93.94, 939.39),
        (DATE '2025-03-01', TRUE, 93.94, 845.45), (DATE '2025-04-01', TRUE, 93.94, 751.51),
        (DATE '2025-05-01', FALSE, 93.94, 657.57)$$,
    'a terminated member still owes the balance: it keeps being billed monthly'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('P'), 'web', '2025-06-10 10:00+00')$$, 'P0001', NULL,
    'a member terminated this year cannot elect again while statements are past due'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('P'), 'web', '2025-11-20 10:00+00', 2026)$$, 'P0001',
    format('member %s is precluded from M3P in 2026 (terminated for failure to pay)', pg_temp.member('P')),
    'the plan precludes P from electing in 2026'
);
SELECT is(
    ppp.renew_elections(2026, '2025-12-10'), 2, 'renewal into 2026 renews O and X, not the terminated P'
);

-- ---------------------------------------------------------------------------------------------------
-- reports
-- ---------------------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT status, end_date, termination_notice_on, unpaid_statement_due_date, past_due_notice_on,
        grace_period_ends_on,
        precluded_next_year, amount_owed_now
      FROM ppp.terminations WHERE member_id = pg_temp.member('P')$$,
    $$VALUES ('terminated', DATE '2025-04-30', DATE '2025-05-01', DATE '2025-02-28', DATE '2025-03-01',
        DATE '2025-04-30',
        TRUE, 1200.00)$$,
    'terminations: the unpaid statement, its notice and grace period, the termination notice; P still owes all 1,200.00'
);
SELECT results_eq(
    $$SELECT billing_month, amount_open, days_past_due, in_grace_period, election_status
      FROM ppp.past_due_as_of('2025-06-01') WHERE member_id = pg_temp.member('P') ORDER BY billing_month$$,
    $$VALUES (DATE '2025-01-01', 166.67, 93, FALSE, 'terminated'), (DATE '2025-02-01', 93.94, 62, FALSE, 'terminated'),
        (DATE '2025-03-01', 93.94, 32, TRUE, 'terminated'), (DATE '2025-04-01', 93.94, 1, TRUE, 'terminated')$$,
    'past due on June 1: P''s four unpaid statements with days past due and grace periods'
);
SELECT results_eq(
    $$SELECT participants, opted_out, terminated FROM ppp.participants_by_month WHERE month = '2025-04-01'$$,
    $$VALUES (3::bigint, 0::bigint, 1::bigint)$$,
    'participants by month: three in April, one termination taking effect that month'
);

SELECT is_empty(
    $$SELECT * FROM ppp.check()$$,
    'ppp.check(): costs, balances, allocations and refunds all reconcile'
);

SELECT * FROM finish();
ROLLBACK;
