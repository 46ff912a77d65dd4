-- M3P end to end through adjudication: claims sent to api.adjudicate / api.reverse for Part D members of
-- the 2025 defined standard benefit (deductible 590, then 25% to the 2,000 threshold), the program amounts
-- they move into ppp.ledger, ppp.run_billing month by month, statements compared with the reference's
-- examples E1 and E2; a reversal after billing; an urgent point-of-sale election after a
-- likely-to-benefit notice; a participant's claim adjudicated in a batch.
BEGIN;
SELECT plan(20);

SET LOCAL timezone = 'UTC';
SELECT tap.setup_adjudication();
SELECT tap.add_member(c, 'TPD', '1950-01-01', 'F', '2024-01-01') FROM unnest(ARRAY['E1M', 'E2M', 'RVM', 'POSM']) AS c;

CREATE FUNCTION pg_temp.member(p_cardholder text) RETURNS bigint
LANGUAGE sql STABLE
AS $$SELECT m.member_id FROM member.members AS m WHERE m.cardholder_id = p_cardholder$$;

CREATE FUNCTION pg_temp.statements(p_cardholder text)
RETURNS TABLE (month integer, oop numeric, months integer, cap numeric, billed numeric, remaining numeric)
LANGUAGE sql STABLE
AS $$
    SELECT extract(MONTH FROM s.billing_month)::integer, s.oop_this_month, s.months_remaining::integer,
        s.max_monthly_cap, s.amount_billed, s.balance_after
    FROM ppp.statements AS s
    WHERE s.member_id = pg_temp.member(p_cardholder)
    ORDER BY s.billing_month
$$;

SELECT api.ppp_elect(pg_temp.member(c), 'mail', '2024-12-15 10:00+00', 2025)
FROM unnest(ARRAY['E1M', 'E2M', 'RVM']) AS c;

-- Prices of the fixture: ELIQUIS 30 tablets = 500.00 allowed; generic atorvastatin = 2.00 MAC a tablet + 1.00.
-- E1: one claim of 6,230.00 allowed in January: 590 deductible + 25% of 5,640 = 2,000.00, all into the program.
SELECT results_eq(
    $$SELECT (r ->> 'transaction_response_status'), (r ->> 'patient_pay_amount')::numeric,
        (r ->> 'm3p_amount')::numeric,
        (r ->> 'amount_collected_from_patient')::numeric
      FROM api.adjudicate(tap.claim('E1M', '99999000101', '2025-01-10', 3114.5, 30, '9100001')) AS r$$,
    $$VALUES ('P', 2000.00, 2000.00, 0.00)$$,
    'a participant''s claim is paid with patient pay 2,000.00 moved into the program: the pharmacy collects $0'
);
-- E2: 500 a month January-April: ELIQUIS (500 of deductible), then 1,730 allowed (90 deductible + 25% of
-- 1,640), 2,000 allowed twice (25%), reaching the 2,000 threshold in April.
SELECT results_eq(
    $$SELECT (api.adjudicate(tap.claim('E2M', c.ndc, c.dos, c.quantity, 30, c.rx)) ->> 'm3p_amount')::numeric
      FROM (VALUES ('99999000301', DATE '2025-01-15', 30, '9200001'), ('99999000101', '2025-02-15', 864.5, '9200002'),
          ('99999000101', '2025-03-15', 999.5, '9200003'), ('99999000101', '2025-04-15', 999.5, '9200004'))
          AS c (ndc, dos, quantity, rx)$$,
    $$VALUES (500.00), (500.00), (500.00), (500.00)$$,
    'E2''s four claims each move 500.00 into the program'
);
SELECT is(
    (
        SELECT sum(amount) FROM ppp.ledger
        WHERE member_id = pg_temp.member('E2M')
    ), 2000.00,
    'the ledger holds the 2,000.00 moved into the program'
);
SELECT is(
    (api.adjudicate(tap.claim('RVM', '99999000301', '2025-01-10', 30, 30, '9300001')) ->> 'm3p_amount')::numeric,
    500.00,
    'R''s January claim moves 500.00 into the program'
);

-- A non-participant's 816.50 claim (ELIQUIS 90 tablets: 1,496 allowed, 590 + 25% of 906) gets the
-- likely-to-benefit notice; an urgent election at the pharmacy re-processes it.
SELECT results_eq(
    $$SELECT (r ->> 'patient_pay_amount')::numeric, (r ->> 'amount_collected_from_patient')::numeric,
        (r ->> 'm3p_likely_to_benefit_notice')::boolean, r ->> 'approved_message_code'
      FROM api.adjudicate(tap.claim('POSM', '99999000301', '2025-03-10', 90, 90, '9400001')) AS r$$,
    $$VALUES (816.50, 816.50, TRUE, '056')$$,
    'a non-participant''s claim above the 600 threshold carries the likely-to-benefit notice (message 056)'
);
SELECT results_eq(
    $$SELECT r ->> 'effective_date', (r -> 'reprocessed_claims' -> 0 ->> 'm3p_amount')::numeric,
        (r -> 'reprocessed_claims' -> 0 ->> 'pharmacy_collects')::numeric
      FROM api.ppp_elect(
          pg_temp.member('POSM'), 'point_of_sale', now() + interval '2 hours', NULL, NULL,
          (SELECT claim_id FROM claims.claims WHERE rx_number = '9400001')
      ) AS r$$,
    $$VALUES ('2025-03-10', 816.50, 0.00)$$,
    'an urgent election within 72 hours re-processes the claim under the program: the pharmacy collects $0'
);
SELECT is(
    (
        SELECT claims.response_of(claim_id, date_of_service) ->> 'amount_collected_from_patient'
        FROM claims.claims
        WHERE rx_number = '9400001'
    )::numeric,
    0.00,
    'the re-processed claim''s response now says $0 to collect'
);
SELECT results_eq(
    $$SELECT (r ->> 'patient_pay_amount')::numeric, (r ->> 'm3p_amount')::numeric, r ->> 'm3p_likely_to_benefit_notice'
      FROM api.adjudicate(tap.claim('POSM', '99999000301', '2025-06-10', 30, 30, '9400002')) AS r$$,
    $$VALUES (125.00, 125.00, NULL)$$,
    'the next claim of the new participant goes into the program (25% of 500) without a notice'
);

-- The same member's July claim arrives in a nightly batch: claims.adjudicate_batch moves it into the program too.
SELECT claims.adjudicate_batch(
    tap.stage_batch(ARRAY[tap.claim('POSM', '99999000301', '2025-07-10', 30, 30, '9400003')]), '2025-12-31'
);
SELECT results_eq(
    $$SELECT l.entry_type, l.amount, c.batch_id IS NOT NULL
      FROM ppp.ledger AS l INNER JOIN claims.claims AS c ON l.claim_id = c.claim_id
      WHERE c.rx_number = '9400003'$$,
    $$VALUES ('claim', 125.00, TRUE)$$,
    'a claim adjudicated in a batch for a participant enters the ledger like a real-time one'
);

SELECT ppp.run_billing('2025-01-01', '2025-02-01');

-- R's claim is reversed after January was billed.
SELECT is(
    api.reverse(jsonb_build_object(
        'service_provider_id', '1234567893', 'rx_number', '9300001', 'fill_number', 0, 'date_of_service', '20250110'
    )) ->> 'transaction_response_status',
    'A',
    'the reversal is accepted'
);
SELECT results_eq(
    $$SELECT l.entry_type, l.service_date, l.amount, u.ledger_entry_id IS NOT NULL
      FROM ppp.ledger AS l LEFT JOIN ppp.unbilled AS u ON l.ledger_entry_id = u.ledger_entry_id
      WHERE l.member_id = pg_temp.member('RVM') ORDER BY l.ledger_entry_id$$,
    $$VALUES ('claim', DATE '2025-01-10', 500.00, FALSE), ('reversal', DATE '2025-01-10', -500.00, TRUE)$$,
    'the reversal adds a negative ledger entry on the original date, not billed yet'
);

SELECT ppp.run_billing(make_date(2025, m, 1), make_date(2025, m + 1, 1)) FROM generate_series(2, 11) AS m;
SELECT ppp.run_billing('2025-12-01', '2026-01-02');

SELECT results_eq(
    $$SELECT * FROM pg_temp.statements('E1M')$$,
    $$VALUES
    (1, 2000.00, 12, 166.67, 166.67, 1833.33), (2, 0.00, 11, 166.67, 166.67, 1666.66),
    (3, 0.00, 10, 166.67, 166.67, 1499.99), (4, 0.00, 9, 166.67, 166.67, 1333.32),
    (5, 0.00, 8, 166.67, 166.67, 1166.65), (6, 0.00, 7, 166.66, 166.66, 999.99),
    (7, 0.00, 6, 166.67, 166.67, 833.32), (8, 0.00, 5, 166.66, 166.66, 666.66),
    (9, 0.00, 4, 166.67, 166.67, 499.99), (10, 0.00, 3, 166.66, 166.66, 333.33),
    (11, 0.00, 2, 166.67, 166.67, 166.66), (12, 0.00, 1, 166.66, 166.66, 0.00)$$,
    'E1 through adjudication: twelve statements equal to the reference to the cent'
);
SELECT results_eq(
    $$SELECT * FROM pg_temp.statements('E2M')$$,
    $$VALUES
    (1, 500.00, 12, 166.67, 166.67, 333.33), (2, 500.00, 11, 75.76, 75.76, 757.57),
    (3, 500.00, 10, 125.76, 125.76, 1131.81), (4, 500.00, 9, 181.31, 181.31, 1450.50),
    (5, 0.00, 8, 181.31, 181.31, 1269.19), (6, 0.00, 7, 181.31, 181.31, 1087.88),
    (7, 0.00, 6, 181.31, 181.31, 906.57), (8, 0.00, 5, 181.31, 181.31, 725.26),
    (9, 0.00, 4, 181.32, 181.32, 543.94), (10, 0.00, 3, 181.31, 181.31, 362.63),
    (11, 0.00, 2, 181.32, 181.32, 181.31), (12, 0.00, 1, 181.31, 181.31, 0.00)$$,
    'E2 through adjudication: twelve statements equal to the reference to the cent'
);
-- R: January billed 166.67 of 500 (333.33 left); the reversal leaves 333.33 - 500 = -166.67: February bills
-- nothing and credits 166.67, which settles January's unpaid bill.
SELECT results_eq(
    $$SELECT month, oop, billed, remaining FROM pg_temp.statements('RVM') WHERE month <= 3$$,
    $$VALUES (1, 500.00, 166.67, 333.33), (2, -500.00, 0.00, 0.00), (3, 0.00, 0.00, 0.00)$$,
    'a reversal through api.reverse after billing: nothing more billed'
);
SELECT results_eq(
    $$SELECT amount_paid, amount_credited, status FROM ppp.statement_history
      WHERE member_id = pg_temp.member('RVM') AND billing_month = '2025-01-01'$$,
    $$VALUES (0.00, 166.67, 'settled')$$,
    'the over-billed 166.67 is credited to January''s statement'
);
-- POSM: participation from March 10, nothing incurred before: March cap 2,000 / 10 = 200.00 < 816.50;
-- April 616.50 / 9 = 68.50, May 548.00 / 8 = 68.50, June (479.50 + 125) / 7 = 86.357.. -> 86.36.
SELECT results_eq(
    $$SELECT month, oop, cap, billed, remaining FROM pg_temp.statements('POSM') WHERE month <= 6$$,
    $$VALUES (3, 816.50, 200.00, 200.00, 616.50), (4, 0.00, 68.50, 68.50, 548.00), (5, 0.00, 68.50, 68.50, 479.50),
        (6, 125.00, 86.36, 86.36, 518.14)$$,
    'the urgent election''s claim is billed from March, its first month'
);
-- July (batch claim): (518.14 + 125) / 6 = 107.19, 535.95 left.
SELECT results_eq(
    $$SELECT month, oop, cap, billed, remaining FROM pg_temp.statements('POSM') WHERE month = 7$$,
    $$VALUES (7, 125.00, 107.19, 107.19, 535.95)$$,
    'the batch-adjudicated claim is billed on July''s statement'
);
SELECT is(
    (
        SELECT incurred_before_election FROM ppp.statements
        WHERE member_id = pg_temp.member('POSM') AND first_month
    ),
    0.00,
    'nothing was incurred before the urgent election (the claim itself is in the program)'
);
SELECT is(
    (
        SELECT count(*)::int FROM ppp.statements
        WHERE billing_month = '2025-12-01' AND balance_after <> 0
    ), 0,
    'every December balance is zero'
);
SELECT is_empty($$SELECT * FROM ppp.check()$$, 'ppp.check() is clean');

SELECT * FROM finish();
ROLLBACK;
