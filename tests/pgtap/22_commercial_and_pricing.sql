-- Commercial benefit and pricing, worked by hand. Contract: generics AWP-72% or MAC when lower + $1.00,
-- brands AWP-17% + $2.00. Plan: tier copays $10/$30/$50, deductible $200 on tiers 3-5, specialty tier 5
-- 25% coinsurance (min $25, max $250), out-of-pocket maximum $1,000, DAW 2 brand penalty.
-- ATORVASTATIN x 30: MAC 2.00 * 30 = 60.00 < AWP 10.00 * 0.28 * 30 = 84.00 -> 60.00 + 1.00 = 61.00.
BEGIN;
SELECT plan(35);
SELECT tap.setup_adjudication();
SELECT tap.add_member('CM1', 'TCOMM', '1975-01-01', 'F', '2025-01-01');
SELECT tap.add_member('CM2', 'TCOMM', '1975-01-01', 'M', '2025-01-01');
SELECT tap.add_member('CM3', 'TCOMM', '1975-01-01', 'F', '2025-01-01');
SELECT tap.add_member('CM4', 'TCOMM', '1975-01-01', 'M', '2025-01-01');

CREATE TEMP TABLE r (n int, c claims.claims) ON COMMIT DROP;
INSERT INTO r SELECT
    1,
    c
FROM tap.adjudicate(tap.claim('CM1', '99999000101', '2025-01-10', 30, 30, '5001')) AS c;
INSERT INTO r SELECT
    2,
    c
FROM tap.adjudicate(tap.claim('CM1', '99999000101', '2025-02-06', 90, 90, '5002')) AS c;
INSERT INTO r SELECT
    3,
    c
FROM tap.adjudicate(tap.claim('CM1', '99999000301', '2025-02-10', 30, 30, '5003')) AS c;
INSERT INTO r SELECT
    4,
    c
FROM tap.adjudicate(tap.claim('CM1', '99999000301', '2025-03-12', 30, 30, '5004')) AS c;
INSERT INTO r SELECT
    5,
    c
FROM tap.adjudicate(tap.claim(
    'CM2', '99999000201', '2025-01-10', 30, 30, '5005', 0,
    '{"daw_code": 2}'
)) AS c;
INSERT INTO r SELECT
    6,
    c
FROM tap.adjudicate(tap.claim(
    'CM2', '99999000201', '2025-02-10', 30, 30, '5006', 0,
    '{"daw_code": 1}'
)) AS c;
INSERT INTO r SELECT
    7,
    c
FROM tap.adjudicate(tap.claim(
    'CM3', '99999000101', '2025-01-10', 30, 30, '5007', 0,
    '{"usual_and_customary_charge": 12.00}'
)) AS c;
INSERT INTO r SELECT
    8,
    c
FROM tap.adjudicate(tap.claim(
    'CM3', '99999000101', '2025-06-10', 30, 30, '5008', 0,
    '{"ingredient_cost_submitted": 5.00, "dispensing_fee_submitted": 1.00, "gross_amount_due": 6.00}'
)) AS c;

-- Pricing.
SELECT results_eq(
    'SELECT (c).ingredient_cost_paid, (c).dispensing_fee_paid, (c).basis_of_reimbursement, (c).pricing_source
     FROM r WHERE n = 1',
    $$VALUES (60.00, 1.00, 6::smallint, 'MAC')$$,
    'generic priced at MAC ($60.00 < AWP-72% $84.00) plus the $1.00 generic fee, basis 6 (MAC)'
);
SELECT results_eq(
    'SELECT (c).ingredient_cost_paid, (c).basis_of_reimbursement, (c).pricing_source FROM r WHERE n = 3',
    $$VALUES (498.00, 3::smallint, 'AWP')$$, 'brand priced AWP-17%, basis 3 (AWP-x%)'
);
SELECT results_eq(
    'SELECT (c).ingredient_cost_paid, (c).dispensing_fee_paid, (c).basis_of_reimbursement, (c).pricing_source
     FROM r WHERE n = 7',
    $$VALUES (12.00, 0.00, 4::smallint, 'U&C')$$,
    'usual & customary $12.00 below the $61.00 contract price: paid at U&C, basis 4'
);
SELECT is((c).patient_pay_amount, 10.00, 'U&C claim: the member pays the $10.00 tier 1 copay') FROM r
WHERE n = 7;
SELECT is((c).total_amount_paid, 2.00, 'U&C claim: the plan pays $2.00') FROM r
WHERE n = 7;
SELECT results_eq(
    'SELECT (c).ingredient_cost_paid + (c).dispensing_fee_paid, (c).basis_of_reimbursement, (c).pricing_source
     FROM r WHERE n = 8',
    $$VALUES (6.00, 1::smallint, 'SUBMITTED')$$,
    'a submitted ingredient cost ($5.00) below the contract ($60.00) ...'
);

-- Tier copays and the brand-tier deductible.
SELECT is((c).amount_of_copay, 10.00, 'tier 1 generic, 30 days: $10.00 copay') FROM r
WHERE n = 1;
SELECT is((c).total_amount_paid, 51.00, 'plan pays $51.00 of $61.00') FROM r
WHERE n = 1;
SELECT is((c).amount_of_copay, 30.00, 'tier 1 generic, 90 days = three month supplies: $30.00') FROM r
WHERE n = 2;
SELECT is((c).ingredient_cost_paid + (c).dispensing_fee_paid, 181.00, '90 tablets at MAC: $180.00 + $1.00')
FROM r
WHERE n = 2;
SELECT results_eq(
    'SELECT (c).amount_applied_to_deductible, (c).amount_of_copay, (c).patient_pay_amount FROM r WHERE n = 3',
    $$VALUES (200.00, 50.00, 250.00)$$, 'tier 3 brand: the $200.00 deductible first, then the $50.00 copay'
);
SELECT results_eq(
    'SELECT (c).amount_applied_to_deductible, (c).amount_of_copay, (c).patient_pay_amount FROM r WHERE n = 4',
    $$VALUES (0.00, 50.00, 50.00)$$, 'next tier 3 fill: deductible met, $50.00 copay'
);
SELECT is((c).amount_applied_to_deductible, 0.00, 'tier 1 claims skip the deductible (it applies to tiers 3-5)')
FROM r
WHERE n = 1;

-- DAW brand penalty: LIPITOR $500.00, its generic $61.00.
SELECT
    is(
        (c).amount_attributed_to_product_selection,
        439.00,
        'DAW 2 (patient choice): brand penalty $500.00 - $61.00 = $439.00 (519-FJ)'
    )
FROM r
WHERE n = 5;
SELECT is((c).amount_of_copay, 30.00, 'plus the tier 2 copay on the generic-equivalent cost') FROM r
WHERE n = 5;
SELECT is((c).patient_pay_amount, 469.00, 'DAW 2: the member pays $469.00') FROM r
WHERE n = 5;
SELECT is((c).total_amount_paid, 31.00, 'DAW 2: the plan pays $31.00') FROM r
WHERE n = 5;
SELECT is((c).oop_delta, 30.00, 'the penalty does not count toward the out-of-pocket maximum') FROM r
WHERE n = 5;
SELECT is((c).amount_attributed_to_product_selection, 0.00, 'DAW 1 (prescriber): no penalty under this plan')
FROM r
WHERE n = 6;
SELECT is((c).patient_pay_amount, 30.00, 'DAW 1: just the $30.00 copay') FROM r
WHERE n = 6;

-- Specialty coinsurance with its maximum and minimum, then the out-of-pocket maximum. HUMIRA needs a PA.
SELECT api.pa_submit('CM4', '01', '99999000601', '1000000012', 'standard', '2025-01-02 09:00');
SELECT api.pa_approve(
    (
        SELECT pa_number FROM claims.prior_authorizations
        ORDER BY prior_authorization_id DESC LIMIT 1
    ),
    '2025-01-01', '2025-12-31', NULL, '2025-01-03 09:00'
);
INSERT INTO r SELECT
    11,
    c
FROM tap.adjudicate(tap.claim('CM4', '99999000601', '2025-01-15', 100, 30, '6001')) AS c;
INSERT INTO r SELECT
    12,
    c
FROM tap.adjudicate(tap.claim('CM4', '99999000601', '2025-02-14', 4, 30, '6002')) AS c;
INSERT INTO r SELECT
    13,
    c
FROM tap.adjudicate(tap.claim('CM4', '99999000601', '2025-03-16', 100, 30, '6003')) AS c;
INSERT INTO r SELECT
    14,
    c
FROM tap.adjudicate(tap.claim('CM4', '99999000601', '2025-04-15', 100, 30, '6004')) AS c;
INSERT INTO r SELECT
    15,
    c
FROM tap.adjudicate(tap.claim('CM4', '99999000601', '2025-05-15', 100, 30, '6005')) AS c;
INSERT INTO r SELECT
    16,
    c
FROM tap.adjudicate(tap.claim('CM4', '99999000601', '2025-06-14', 100, 30, '6006')) AS c;
SELECT is(
    (c).prior_authorization_number,
    (
        SELECT pa.pa_number FROM claims.prior_authorizations AS pa
        ORDER BY pa.prior_authorization_id LIMIT 1
    ),
    'the paid specialty claim returns the PA number that paid it (498-PY)'
) FROM r
WHERE n = 11;
SELECT results_eq(
    'SELECT (c).amount_applied_to_deductible, (c).amount_of_coinsurance, (c).patient_pay_amount FROM r WHERE n = 11',
    $$VALUES (200.00, 250.00, 450.00)$$,
    '$1,662.00 specialty fill: $200.00 deductible, 25% of $1,462.00 = $365.50 capped at the $250.00 maximum'
);
SELECT is((c).amount_of_coinsurance, 25.00, '$68.40 fill: 25% = $17.10 raised to the $25.00 minimum')
FROM r
WHERE n = 12;
SELECT is((c).patient_pay_amount, 250.00, 'third fill: $250.00') FROM r
WHERE n = 13;
SELECT is((c).accumulated_oop_amount, 975.00, 'after the fourth fill: $975.00 out of pocket') FROM r
WHERE n = 14;
SELECT is((c).patient_pay_amount, 25.00, 'fifth fill: only the last $25.00 to the $1,000.00 maximum')
FROM r
WHERE n = 15;
SELECT results_eq(
    'SELECT (c).stage_initial_amount, (c).stage_catastrophic_amount FROM r WHERE n = 15',
    $$VALUES (166.20, 1495.80)$$,
    'fifth fill split: $166.20 before the maximum ($25.00 is its share of the $250.00), $1,495.80 after'
);
SELECT is((c).patient_pay_amount, 0.00, 'sixth fill: $0 once the maximum is met') FROM r
WHERE n = 16;
SELECT is(
    (
        SELECT sum((c).patient_pay_amount) FROM r
        WHERE n BETWEEN 11 AND 16
    ), 1000.00,
    'the specialty member paid exactly the $1,000.00 maximum'
);

-- The ledger: accumulators equal the sums of the deltas of every member's claims.
SELECT is(
    (
        SELECT count(*)::int FROM claims.accumulators AS a
        CROSS JOIN
            LATERAL (
                SELECT
                    coalesce(sum(c.deductible_delta), 0) AS d,
                    coalesce(sum(c.oop_delta), 0) AS o,
                    coalesce(sum(c.gross_cost_delta), 0) AS g
                FROM claims.claims AS c
                WHERE c.member_id = a.member_id AND c.plan_year = a.plan_year
            ) AS l
        WHERE (a.deductible_accumulated, a.oop_accumulated, a.gross_cost_accumulated) IS DISTINCT FROM (l.d, l.o, l.g)
    ),
    0, 'every accumulator equals the sum of its claims'' ledger deltas'
);
SELECT is(
    (
        SELECT count(*)::int FROM r
        WHERE (c).transaction_response_status = 'P'
    ), 14, 'all fourteen claims were paid'
);
SELECT is(
    (
        SELECT count(*)::int
        FROM r
        WHERE
            (c).patient_pay_amount <> (c).amount_applied_to_deductible + (c).amount_of_copay
            + (c).amount_of_coinsurance + (c).amount_attributed_to_product_selection
    ), 0,
    'patient pay equals the sum of its components on every claim'
);
SELECT is(
    (
        SELECT count(*)::int
        FROM r
        WHERE
            (c).total_amount_paid <> (c).ingredient_cost_paid + (c).dispensing_fee_paid
            - (c).patient_pay_amount
    ), 0,
    'plan paid = allowed - patient pay on every claim'
);
SELECT is((c).patient_pay_amount, 6.00, '... is paid as submitted: tier 1 copay $10.00 capped at the $6.00 cost')
FROM r
WHERE n = 8;
SELECT is((c).total_amount_paid, 0.00, 'and the plan pays nothing') FROM r
WHERE n = 8;

SELECT * FROM finish();
ROLLBACK;
