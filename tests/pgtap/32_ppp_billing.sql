-- M3P billing end to end: claims of participants -> ppp.ledger -> ppp.run_billing month by month ->
-- statements, compared to the reference's examples E1 and E2 and to cases worked by hand; reversals after
-- billing (credit on the next statement, credit on an unpaid statement, refund), late claims, re-runs.
BEGIN;
SELECT plan(30);

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
FROM unnest(ARRAY['1', '2', 'S', 'D', 'V', 'R', 'C', 'L', 'N']) AS c;
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

-- A reversal as adjudication writes it: a B2 row (status A) linked to the original, which is marked.
CREATE FUNCTION pg_temp.reverse_claim(p_claim_id bigint, p_at timestamptz) RETURNS bigint
LANGUAGE sql
AS $$
    WITH b2 AS (
        INSERT INTO claims.claims (
            transaction_code, received_at, date_of_service, member_id, plan_id, plan_year, pharmacy_id,
            transaction_response_status, reversal_of_claim_id, oop_delta
        )
        SELECT 'B2', p_at, o.date_of_service, o.member_id, o.plan_id, o.plan_year, o.pharmacy_id, 'A', o.claim_id,
            -o.oop_delta
        FROM claims.claims AS o WHERE o.claim_id = p_claim_id
        RETURNING claim_id
    )
    UPDATE claims.claims AS o SET reversed_by_claim_id = b2.claim_id, reversed_at = p_at
    FROM b2 WHERE o.claim_id = p_claim_id
    RETURNING b2.claim_id
$$;


-- Members (cardholder M3P + letter):
--   1  E1: elects before 2025; 2,000 on January 10.
--   2  E2: elects before 2025; 500 on the 15th of January, February, March, April.
--   S  pays 4.00 at the pharmacy in January, February and March, elects on April 1, then 617 / 4 / 4 / 124 /
--      4 / 4 / 124 / 4 / 4 from April to December.
--   D  pays 1,000 (March) and 650.50 (June) at the pharmacy, elects on December 1, then 300 + 49.50.
--   V  elects before 2025; 600 + 600 in January; the second claim is reversed on February 10 (after billing).
--   R  elects before 2025; 1,200 in January, pays January's bill, then the claim is reversed: refund.
--   C  like R without paying: the reversal credit settles January's open bill.
--   L  elects before 2025; a claim dated March 31 arrives after March was billed.
--   N  elects before 2025; no costs at all.
SELECT api.ppp_elect(pg_temp.member(c), 'mail', '2024-12-15 14:00+00', 2025)
FROM unnest(ARRAY['1', '2', 'V', 'R', 'C', 'L', 'N']) AS c;

SELECT pg_temp.paid_claim('1', '2025-01-10', 2000.00, TRUE);
SELECT pg_temp.paid_claim('2', make_date(2025, m, 15), 500.00, TRUE) FROM generate_series(1, 4) AS m;
SELECT pg_temp.paid_claim('S', make_date(2025, m, 5), 4.00) FROM generate_series(1, 3) AS m;
SELECT api.ppp_elect(pg_temp.member('S'), 'phone', '2025-04-01 09:00+00');
SELECT pg_temp.paid_claim('S', make_date(2025, m, 10), c, TRUE)
FROM unnest(ARRAY[4, 5, 6, 7, 8, 9, 10, 11, 12], ARRAY[617.00, 4, 4, 124, 4, 4, 124, 4, 4]) AS t (m, c);
SELECT pg_temp.paid_claim('D', '2025-03-03', 1000.00);
SELECT pg_temp.paid_claim('D', '2025-06-03', 650.50);
SELECT api.ppp_elect(pg_temp.member('D'), 'web', '2025-12-01 08:00+00');
SELECT pg_temp.paid_claim('D', '2025-12-05', 300.00, TRUE);
SELECT pg_temp.paid_claim('D', '2025-12-20', 49.50, TRUE);
SELECT pg_temp.paid_claim('V', '2025-01-10', 600.00, TRUE);
SELECT pg_temp.paid_claim('V', '2025-01-20', 600.00, TRUE);
SELECT pg_temp.paid_claim('R', '2025-01-10', 1200.00, TRUE);
SELECT pg_temp.paid_claim('C', '2025-01-10', 1200.00, TRUE);

-- One row per statement of a member, in the columns of the reference's tables.
CREATE FUNCTION pg_temp.statements(p_letter text)
RETURNS TABLE (month integer, oop numeric, months integer, cap numeric, billed numeric, remaining numeric)
LANGUAGE sql STABLE
AS $$
    SELECT extract(MONTH FROM s.billing_month)::integer, s.oop_this_month, s.months_remaining::integer,
        s.max_monthly_cap, s.amount_billed, s.balance_after
    FROM ppp.statements AS s
    WHERE s.member_id = pg_temp.member(p_letter)
    ORDER BY s.billing_month
$$;

-- ---------------------------------------------------------------------------------------------------
-- January
-- ---------------------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT statements_written, participants, amount_billed, credits_issued
      FROM ppp.run_billing('2025-01-01', '2025-02-01')$$,
    $$VALUES (7, 7, 833.35, 0.00)$$,
    'January: 7 participants billed (E1, E2, V, R, C 166.67 each, L and N nothing) = 833.35'
);
SELECT results_eq(
    $$SELECT issued_on, due_date, settled_on FROM ppp.statements
      WHERE member_id IN (pg_temp.member('1'), pg_temp.member('N')) ORDER BY amount_billed DESC$$,
    $$VALUES (DATE '2025-02-01', DATE '2025-02-28', NULL::date),
        (DATE '2025-02-01', DATE '2025-02-28', DATE '2025-02-01')$$,
    'January''s statements are due at the end of February; a statement billing nothing is settled when issued'
);

-- Between the January and February runs: R pays January, then V's second claim and R's and C's claims are reversed.
SELECT is(
    api.ppp_record_payment(pg_temp.member('R'), 166.67, '2025-02-05', 'check', 'CHK-100') ->> 'applied', '166.67',
    'R pays January''s bill'
);
SELECT pg_temp.reverse_claim(
    (
        SELECT claim_id FROM claims.claims
        WHERE member_id = pg_temp.member('V') AND date_of_service = '2025-01-20'
    ),
    '2025-02-10 10:00+00'
);
SELECT
    pg_temp.reverse_claim(
        (
            SELECT claim_id FROM claims.claims
            WHERE member_id = pg_temp.member(c) AND transaction_code = 'B1'
        ),
        '2025-02-20 10:00+00'
    )
FROM unnest(ARRAY['R', 'C']) AS c;

SELECT ppp.run_billing(make_date(2025, m, 1), make_date(2025, m + 1, 1)) FROM generate_series(2, 3) AS m;

-- After March was billed, a claim of L dated March 31 arrives.
SELECT pg_temp.paid_claim('L', '2025-03-31', 300.00, TRUE, '2025-04-01 08:00+00');

SELECT ppp.run_billing(make_date(2025, m, 1), make_date(2025, m + 1, 1)) FROM generate_series(4, 6) AS m;
-- After June was billed, a claim of N dated June 20 arrives; June is billed again by mistake.
SELECT pg_temp.paid_claim('N', '2025-06-20', 70.00, TRUE, '2025-07-01 20:00+00');
SELECT is(
    (SELECT statements_written FROM ppp.run_billing('2025-06-01', '2025-07-02')), 0,
    're-running June writes nothing: no member is billed twice'
);
SELECT is(
    (
        SELECT sum(amount) FROM ppp.unbilled
        WHERE member_id = pg_temp.member('N')
    ), 70.00,
    'the re-run leaves the late claim of N, already billed for June, unbilled for the next month'
);
SELECT throws_ok(
    $$SELECT ppp.run_billing('2025-05-01', '2025-07-02')$$,
    '55000',
    'month 2025-05 cannot be billed: 2025-06 was billed already',
    'months are billed in order'
);
SELECT throws_ok(
    $$SELECT ppp.run_billing('2025-07-01', '2025-07-31')$$, '22023',
    'month 2025-07 cannot be billed before it is over (run date 2025-07-31)',
    'a month is not billed before it is over'
);
SELECT ppp.run_billing(make_date(2025, m, 1), make_date(2025, m + 1, 1)) FROM generate_series(7, 11) AS m;
SELECT ppp.run_billing('2025-12-01', '2026-01-02');
SELECT is(
    (SELECT statements_written FROM ppp.run_billing('2025-12-01', '2026-01-05')), 0,
    're-running December writes nothing'
);

-- ---------------------------------------------------------------------------------------------------
-- the reference's examples, end to end
-- ---------------------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT * FROM pg_temp.statements('1')$$,
    $$VALUES
    (1, 2000.00, 12, 166.67, 166.67, 1833.33), (2, 0.00, 11, 166.67, 166.67, 1666.66),
    (3, 0.00, 10, 166.67, 166.67, 1499.99), (4, 0.00, 9, 166.67, 166.67, 1333.32),
    (5, 0.00, 8, 166.67, 166.67, 1166.65), (6, 0.00, 7, 166.66, 166.66, 999.99),
    (7, 0.00, 6, 166.67, 166.67, 833.32), (8, 0.00, 5, 166.66, 166.66, 666.66),
    (9, 0.00, 4, 166.67, 166.67, 499.99), (10, 0.00, 3, 166.66, 166.66, 333.33),
    (11, 0.00, 2, 166.67, 166.67, 166.66), (12, 0.00, 1, 166.66, 166.66, 0.00)$$,
    'E1 end to end: a 2,000 claim in January, twelve monthly statements equal to the reference to the cent'
);
SELECT results_eq(
    $$SELECT * FROM pg_temp.statements('2')$$,
    $$VALUES
    (1, 500.00, 12, 166.67, 166.67, 333.33), (2, 500.00, 11, 75.76, 75.76, 757.57),
    (3, 500.00, 10, 125.76, 125.76, 1131.81), (4, 500.00, 9, 181.31, 181.31, 1450.50),
    (5, 0.00, 8, 181.31, 181.31, 1269.19), (6, 0.00, 7, 181.31, 181.31, 1087.88),
    (7, 0.00, 6, 181.31, 181.31, 906.57), (8, 0.00, 5, 181.31, 181.31, 725.26),
    (9, 0.00, 4, 181.32, 181.32, 543.94), (10, 0.00, 3, 181.31, 181.31, 362.63),
    (11, 0.00, 2, 181.32, 181.32, 181.31), (12, 0.00, 1, 181.31, 181.31, 0.00)$$,
    'E2 end to end: 500 claims January to April, twelve monthly statements equal to the reference to the cent'
);
SELECT results_eq(
    $$SELECT first_month, incurred_before_election FROM ppp.statements
      WHERE member_id = pg_temp.member('2') ORDER BY billing_month LIMIT 2$$,
    $$VALUES (TRUE, 0.00), (FALSE, NULL)$$,
    'only the first statement uses the first-month formula, with the costs incurred before the election'
);

-- ---------------------------------------------------------------------------------------------------
-- hand-worked cases
-- ---------------------------------------------------------------------------------------------------
-- S: April is the first month: cap (2000 - 12.00) / 9 = 220.89 (see 30_ppp_formula for the arithmetic).
SELECT results_eq(
    $$SELECT * FROM pg_temp.statements('S')$$,
    $$VALUES
    (4, 617.00, 9, 220.89, 220.89, 396.11), (5, 4.00, 8, 50.01, 50.01, 350.10), (6, 4.00, 7, 50.59, 50.59, 303.51),
    (7, 124.00, 6, 71.25, 71.25, 356.26), (8, 4.00, 5, 72.05, 72.05, 288.21), (9, 4.00, 4, 73.05, 73.05, 219.16),
    (10, 124.00, 3, 114.39, 114.39, 228.77), (11, 4.00, 2, 116.39, 116.39, 116.38), (12, 4.00, 1, 120.38, 120.38, 0.00)$$,
    'election in April after 12.00 paid at the pharmacy: statements from April, first-month cap from T minus 12.00'
);
SELECT is(
    (
        SELECT incurred_before_election FROM ppp.statements
        WHERE member_id = pg_temp.member('S') AND first_month
    ), 12.00,
    'the costs incurred before the election are read from the claims of the plan year before the effective date'
);
SELECT results_eq(
    $$SELECT * FROM pg_temp.statements('D')$$,
    $$VALUES (12, 349.50, 1, 349.50, 349.50, 0.00)$$,
    'December election after 1,650.50 incurred: one statement, cap 2000 - 1650.50 = 349.50, balance cleared'
);
-- V: January 1,200 -> 166.67 billed, 1,033.33 left. The 600 reversal posts on February: (1033.33 - 600) / 11 =
-- 39.3936 -> 39.39; then 393.94 / 10 -> 39.39; 354.55 / 9 -> 39.39; 315.16 / 8 = 39.395 -> 39.40 (half up);
-- 275.76 / 7 -> 39.39; 236.37 / 6 = 39.395 -> 39.40; 196.97 / 5 -> 39.39; 157.58 / 4 = 39.395 -> 39.40;
-- 118.18 / 3 -> 39.39; 78.79 / 2 = 39.395 -> 39.40; December 39.39. Total 600.00 = 1,200 - 600.
SELECT results_eq(
    $$SELECT * FROM pg_temp.statements('V')$$,
    $$VALUES
    (1, 1200.00, 12, 166.67, 166.67, 1033.33), (2, -600.00, 11, 39.39, 39.39, 393.94),
    (3, 0.00, 10, 39.39, 39.39, 354.55), (4, 0.00, 9, 39.39, 39.39, 315.16), (5, 0.00, 8, 39.40, 39.40, 275.76),
    (6, 0.00, 7, 39.39, 39.39, 236.37), (7, 0.00, 6, 39.40, 39.40, 196.97), (8, 0.00, 5, 39.39, 39.39, 157.58),
    (9, 0.00, 4, 39.40, 39.40, 118.18), (10, 0.00, 3, 39.39, 39.39, 78.79), (11, 0.00, 2, 39.40, 39.40, 39.39),
    (12, 0.00, 1, 39.39, 39.39, 0.00)$$,
    'a reversal after billing is a credit on the next statement: it lowers what is left to bill'
);
-- R: January billed 166.67 and paid; the reversal of the 1,200 claim leaves 1,033.33 - 1,200 = -166.67:
-- February bills nothing and credits 166.67, which no open statement needs: refunded.
SELECT results_eq(
    $$SELECT oop_this_month, amount_billed, credit_amount, balance_after FROM ppp.statements
      WHERE member_id = pg_temp.member('R') AND billing_month = '2025-02-01'$$,
    $$VALUES (-1200.00, 0.00, 166.67, 0.00)$$,
    'a reversal beyond what was still unbilled: nothing billed, the over-billed 166.67 credited'
);
SELECT results_eq(
    $$SELECT reason, amount, created_on FROM ppp.refunds WHERE member_id = pg_temp.member('R')$$,
    $$VALUES ('reversal', 166.67, DATE '2025-03-01')$$,
    'January was already paid: the credit becomes a refund record'
);
SELECT is(
    (
        SELECT sum(amount_billed) FROM ppp.statements
        WHERE member_id = pg_temp.member('R')
    ), 166.67,
    'nothing more is billed to R after the reversal'
);
-- C: same as R but January's bill was not paid: the credit settles it, nothing to refund.
SELECT results_eq(
    $$SELECT h.billing_month, h.amount_billed, h.amount_paid, h.amount_credited, h.status
      FROM ppp.statement_history AS h WHERE h.member_id = pg_temp.member('C') AND h.billing_month <= '2025-02-01'
      ORDER BY h.billing_month$$,
    $$VALUES (DATE '2025-01-01', 166.67, 0.00, 166.67, 'settled'), (DATE '2025-02-01', 0.00, 0.00, 0.00, 'settled')$$,
    'a reversal credit settles the unpaid statement it over-billed'
);
SELECT is(
    (
        SELECT count(*)::int FROM ppp.refunds
        WHERE member_id = pg_temp.member('C')
    ), 0,
    'and nothing is refunded'
);
-- N: nothing until the late June 20 claim (70), billed in July after the re-run of June: 70 / 6 = 11.67.
SELECT results_eq(
    $$SELECT month, oop, billed, remaining FROM pg_temp.statements('N') WHERE month BETWEEN 6 AND 8$$,
    $$VALUES (6, 0.00, 0.00, 0.00), (7, 70.00, 11.67, 58.33), (8, 0.00, 11.67, 46.66)$$,
    'the claim left by the re-run is billed on the next month''s statement'
);
-- L: the late March 31 claim (300) is posted on April's statement: 300 / 9 = 33.33.
SELECT results_eq(
    $$SELECT month, oop, billed, remaining FROM pg_temp.statements('L') WHERE month BETWEEN 3 AND 4$$,
    $$VALUES (3, 0.00, 0.00, 0.00), (4, 300.00, 33.33, 266.67)$$,
    'a claim arriving after its month was billed is posted on the next statement'
);
SELECT results_eq(
    $$SELECT l.service_date, l.amount, u.ledger_entry_id IS NULL
      FROM ppp.ledger AS l LEFT JOIN ppp.unbilled AS u ON l.ledger_entry_id = u.ledger_entry_id
      WHERE l.member_id = pg_temp.member('L')$$,
    $$VALUES (date '2025-03-31', 300.00, TRUE)$$,
    'its ledger entry keeps its March date and is no longer unbilled'
);

-- ---------------------------------------------------------------------------------------------------
-- invariants over every member
-- ---------------------------------------------------------------------------------------------------
SELECT is(
    (
        SELECT count(*)::int FROM ppp.unbilled
        WHERE service_date <= '2025-12-31'
    ), 0,
    'after December every program cost of 2025 is billed: nothing of 2025 is left unbilled'
);
SELECT is(
    (
        SELECT count(*)::int
        FROM (
            SELECT
                s.member_id,
                sum(s.oop_this_month) AS billed
            FROM ppp.statements AS s
            GROUP BY s.member_id
        ) AS b
        FULL JOIN (
            SELECT
                l.member_id,
                sum(l.amount) AS incurred
            FROM ppp.ledger AS l
            GROUP BY l.member_id
        ) AS i ON b.member_id = i.member_id
        WHERE coalesce(b.billed, 0) <> coalesce(i.incurred, 0)
    ), 0,
    'for every member, the costs on the statements add up to the ledger: each cost billed exactly once'
);
SELECT is(
    (
        SELECT count(*)::int
        FROM (
            SELECT
                s.member_id,
                sum(s.amount_billed) - sum(s.credit_amount) AS net_billed
            FROM ppp.statements AS s
            GROUP BY s.member_id
        ) AS b
        FULL JOIN (
            SELECT
                l.member_id,
                sum(l.amount) AS incurred
            FROM ppp.ledger AS l
            GROUP BY l.member_id
        ) AS i ON b.member_id = i.member_id
        WHERE coalesce(b.net_billed, 0) <> coalesce(i.incurred, 0)
    ), 0,
    'for every member, billed minus credited = out-of-pocket costs incurred while participating'
);
SELECT is(
    (
        SELECT count(*)::int FROM ppp.statements
        WHERE billing_month = '2025-12-01' AND balance_after <> 0
    ), 0,
    'every December balance is zero'
);

-- ---------------------------------------------------------------------------------------------------
-- reports
-- ---------------------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT statements, participants, amount_billed, amount_collected, amount_credited, amount_open
      FROM ppp.billed_vs_collected WHERE billing_month = '2025-01-01'$$,
    $$VALUES (7::bigint, 7::bigint, 833.35, 166.67, 166.67, 500.01)$$,
    'billed vs collected for January: R paid, C credited, E1, E2 and V still open'
);
SELECT results_eq(
    $$SELECT participants, periods_started FROM ppp.participants_by_month WHERE month = '2025-04-01'$$,
    $$VALUES (8::bigint, 1::bigint)$$,
    'participants in April: the seven who elected before the year and S, who started in April'
);

SELECT is_empty(
    $$SELECT * FROM ppp.check()$$,
    'ppp.check(): costs, balances, allocations and refunds all reconcile'
);

SELECT * FROM finish();
ROLLBACK;
