-- M3P elections: effective-date rules (before the plan year, within 24 hours, retroactive when processed
-- late), urgent point-of-sale elections re-processing their claim, one active election per member and
-- year, opt-out and cancellation, automatic renewal, the ledger fed by claims, the prior-year outreach list.
BEGIN;
SELECT plan(47);

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
FROM unnest(ARRAY['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M']) AS c;
INSERT INTO member.coverage_spans (member_id, plan_id, effective_date, termination_date)
SELECT
    m.member_id,
    p.plan_id,
    '2024-01-01',
    CASE WHEN m.cardholder_id = 'M3PJ' THEN date '2025-12-31' END
FROM member.members AS m
INNER JOIN plan.plans AS p ON p.plan_code = CASE WHEN m.cardholder_id = 'M3PC' THEN 'M3P-COMM' ELSE 'M3P-PD' END
WHERE m.cardholder_id LIKE 'M3P_';

-- A partition is created below (the ledger triggers must reach it): take the claims table before any
-- claim, so a file running in parallel waits instead of deadlocking halfway. Not before the fixtures:
-- other files insert the same pharmacy NPI, and waiting for their commit while holding this lock (which
-- they need next) is a deadlock.
LOCK TABLE claims.claims IN ACCESS EXCLUSIVE MODE;

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

-- ---------------------------------------------------------------------------------------------------
-- effective dates
-- ---------------------------------------------------------------------------------------------------
SELECT is(
    api.ppp_elect(pg_temp.member('A'), 'mail', '2024-12-15 14:00+00', 2025) ->> 'effective_date', '2025-01-01',
    'an election received before the plan year takes effect on January 1'
);
SELECT results_eq(
    $$SELECT source, status, acceptance_notice_on, plan_id FROM ppp.elections WHERE member_id = pg_temp.member('A')$$,
    $$SELECT 'mail', 'active', DATE '2024-12-15', plan_id FROM plan.plans WHERE plan_code = 'M3P-PD'$$,
    'the election records its source, the acceptance notice date and the member''s Part D plan'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('A'), 'web', '2025-02-01 10:00+00')$$, '23505', NULL,
    'a second active election for the same member and year is refused'
);
SELECT throws_like(
    $$INSERT INTO ppp.elections (member_id, plan_year, source, received_at, effective_date, end_date)
      VALUES (pg_temp.member('F'), 2025, 'web', '2025-01-01', '2025-01-01', '2025-01-31'),
          (pg_temp.member('F'), 2025, 'web', '2025-03-01', '2025-03-01', NULL)$$,
    '%elections_one_active_per_member_year%', 'the table itself keeps one active election per member and year'
);
SELECT is(
    api.ppp_elect(pg_temp.member('B'), 'phone', '2025-03-10 15:00+00', NULL, '2025-03-11 09:00+00')
    ->> 'effective_date',
    '2025-03-11',
    'an election during the year processed within 24 hours takes effect when processed'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('C'), 'web', '2025-03-10 15:00+00')$$, 'P0001',
    format('member %s has no Medicare Part D coverage on 2025-03-10', pg_temp.member('C')),
    'a member without Part D coverage cannot elect'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(-1, 'web', '2025-03-10 15:00+00')$$, 'P0002', 'member -1 not found',
    'an unknown member is refused'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('F'), 'fax', '2025-03-10 15:00+00')$$,
    '22023',
    'unknown M3P election source "fax"',
    'an unknown source is refused'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('F'), 'web', '2025-03-10 15:00+00', 2027)$$, '22023',
    'an election received on 2025-03-10 cannot be for plan year 2027',
    'an election for a plan year that is neither this one nor the next is refused'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('F'), 'web', '2025-03-10 15:00+00', NULL, '2025-03-10 14:00+00')$$, '22023',
    NULL, 'an election processed before it was received is refused'
);

-- Processed late (more than 24 hours): effective retroactively 24 hours after receipt; a claim paid at the
-- pharmacy in the gap is re-processed under the program and what the member paid is refunded.
SELECT pg_temp.paid_claim('D', '2025-03-10', 25.00);
SELECT pg_temp.paid_claim('D', '2025-03-12', 80.00);
SELECT is(
    api.ppp_elect(pg_temp.member('D'), 'web', '2025-03-10 15:00+00', NULL, '2025-03-13 11:00+00') ->> 'effective_date',
    '2025-03-11',
    'an election processed more than 24 hours after receipt takes effect 24 hours after receipt (retroactively)'
);
SELECT results_eq(
    $$SELECT date_of_service, patient_pay_amount, m3p_amount FROM claims.claims
      WHERE member_id = pg_temp.member('D') ORDER BY date_of_service$$,
    $$VALUES (DATE '2025-03-10', 25.00, 0.00), (DATE '2025-03-12', 80.00, 80.00)$$,
    'the claim inside the retroactive period moves into the program; the one before the effective date does not'
);
SELECT results_eq(
    $$SELECT reason, amount, created_on FROM ppp.refunds WHERE member_id = pg_temp.member('D')$$,
    $$VALUES ('retroactive_election', 80.00, DATE '2025-03-13')$$,
    'the cost sharing the member paid at the pharmacy for it is refunded'
);
SELECT results_eq(
    $$SELECT l.entry_type, l.service_date, l.amount, u.amount
      FROM ppp.ledger AS l LEFT JOIN ppp.unbilled AS u ON l.ledger_entry_id = u.ledger_entry_id
      WHERE l.member_id = pg_temp.member('D')$$,
    $$VALUES ('reprocessed', DATE '2025-03-12', 80.00, 80.00)$$,
    'the program ledger records the re-processed claim, not billed yet'
);

-- ---------------------------------------------------------------------------------------------------
-- urgent point-of-sale election
-- ---------------------------------------------------------------------------------------------------
SELECT pg_temp.paid_claim('E', '2025-05-02', 700.00, FALSE, '2025-05-02 10:00+00');
SELECT is(
    api.ppp_elect(
        pg_temp.member('E'), 'point_of_sale', '2025-05-05 09:59+00', NULL, NULL,
        (
            SELECT claim_id FROM claims.claims
            WHERE member_id = pg_temp.member('E')
        )
    ) -> 'reprocessed_claims' -> 0 ->> 'pharmacy_collects',
    '0',
    'an urgent election within 72 hours of the adjudication re-processes the claim: the pharmacy collects $0'
);
SELECT results_eq(
    $$SELECT e.effective_date, e.source, e.urgent_claim_id = c.claim_id, c.m3p_amount
      FROM ppp.elections AS e INNER JOIN claims.claims AS c ON c.member_id = e.member_id
      WHERE e.member_id = pg_temp.member('E')$$,
    $$VALUES (DATE '2025-05-02', 'point_of_sale', TRUE, 700.00)$$,
    'the urgent election takes effect on the claim''s date of service and names the claim; its cost is in the program'
);
SELECT is(
    (
        SELECT count(*)::int FROM ppp.refunds
        WHERE member_id = pg_temp.member('E')
    ), 0,
    'nothing is refunded for the urgent claim (the member had not paid it)'
);
SELECT pg_temp.paid_claim('F', '2025-05-02', 900.00, FALSE, '2025-05-02 10:00+00');
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('F'), 'point_of_sale', '2025-05-05 10:01+00', NULL, NULL,
        (SELECT claim_id FROM claims.claims WHERE member_id = pg_temp.member('F')))$$,
    '22023', NULL,
    'an urgent election more than 72 hours after the adjudication is refused'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('F'), 'point_of_sale', '2025-05-03 10:00+00')$$, '22023', NULL,
    'a point-of-sale election must name its claim'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('F'), 'point_of_sale', '2025-05-03 10:00+00', NULL, NULL,
        (SELECT claim_id FROM claims.claims WHERE member_id = pg_temp.member('E')))$$,
    '22023', NULL,
    'a point-of-sale election cannot name another member''s claim'
);
SELECT throws_ok(
    $$SELECT api.ppp_elect(pg_temp.member('F'), 'web', '2025-05-03 10:00+00', NULL, NULL,
        (SELECT claim_id FROM claims.claims WHERE member_id = pg_temp.member('F')))$$,
    '22023', NULL,
    'only a point-of-sale election names a claim'
);

-- ---------------------------------------------------------------------------------------------------
-- opt-out, re-election, cancellation
-- ---------------------------------------------------------------------------------------------------
SELECT is(
    api.ppp_opt_out(pg_temp.member('A'), '2025-06-15 16:00+00') ->> 'end_date', '2025-06-15',
    'an opt-out ends the participation on the day the request arrived'
);
SELECT results_eq(
    $$SELECT status, termination_reason, termination_requested_at, termination_notice_on FROM ppp.elections
      WHERE member_id = pg_temp.member('A')$$,
    $$VALUES ('opted_out', 'voluntary', TIMESTAMPTZ '2025-06-15 16:00+00', DATE '2025-06-15')$$,
    'the opt-out is recorded with its request time and notice date'
);
SELECT is(
    api.ppp_elect(pg_temp.member('A'), 'web', '2025-06-15 18:00+00') ->> 'effective_date', '2025-06-16',
    'electing again the same day starts the new participation after the ended one'
);
SELECT throws_ok(
    $$SELECT api.ppp_opt_out(pg_temp.member('F'), '2025-06-15 16:00+00')$$, 'P0002', NULL,
    'opting out without an active election is refused'
);
SELECT is(
    api.ppp_elect(pg_temp.member('G'), 'phone', '2025-11-20 10:00+00', 2026) ->> 'effective_date', '2026-01-01',
    'an election for next year made in November takes effect on January 1'
);
SELECT is(
    api.ppp_opt_out(pg_temp.member('G'), '2025-12-01 10:00+00', 2026) ->> 'status', 'cancelled',
    'opting out before the election takes effect cancels it'
);
SELECT results_eq(
    $$SELECT (SELECT count(*)::int FROM ppp.elections WHERE member_id = pg_temp.member('G')),
        (SELECT array_agg(event_type ORDER BY election_event_id) FROM ppp.election_events
         WHERE member_id = pg_temp.member('G'))$$,
    $$VALUES (0, ARRAY['elected', 'cancelled'])$$,
    'a cancelled election is gone; its events remain'
);

-- ---------------------------------------------------------------------------------------------------
-- automatic renewal
-- ---------------------------------------------------------------------------------------------------
SELECT api.ppp_elect(pg_temp.member('H'), 'web', '2025-02-01 10:00+00');
SELECT api.ppp_elect(pg_temp.member('J'), 'web', '2025-02-01 10:00+00');
SELECT is(
    api.ppp_opt_out(pg_temp.member('H'), '2025-11-20 10:00+00', 2026) ->> 'status', 'renewal_declined',
    'opting out of next year before the renewal exists declines the renewal'
);
SELECT throws_ok(
    $$SELECT ppp.renew_elections(2025, '2024-12-10')$$, '22023', NULL,
    'there is no automatic renewal into 2025'
);
-- Renewed: A (second 2025 election), B, D, E. Not renewed: H (declined), J (Part D coverage ends 2025-12-31),
-- G (cancelled), F and C (no election).
SELECT is(
    ppp.renew_elections(2026, '2025-12-10'), 4, 'renewal into 2026 renews the four 2025 participants who qualify'
);
SELECT set_eq(
    $$SELECT m.cardholder_id, e.source, e.effective_date, e.renewal_notice_on, p.plan_year
      FROM ppp.elections AS e
      INNER JOIN member.members AS m ON m.member_id = e.member_id
      INNER JOIN ppp.elections AS p ON p.election_id = e.renewed_from_election_id
      WHERE e.plan_year = 2026$$,
    $$VALUES ('M3PA', 'renewal', DATE '2026-01-01', DATE '2025-12-10', 2025::smallint),
        ('M3PB', 'renewal', DATE '2026-01-01', DATE '2025-12-10', 2025::smallint),
        ('M3PD', 'renewal', DATE '2026-01-01', DATE '2025-12-10', 2025::smallint),
        ('M3PE', 'renewal', DATE '2026-01-01', DATE '2025-12-10', 2025::smallint)$$,
    'renewals take effect January 1, record the notice date and link the previous year''s election'
);
SELECT is(ppp.renew_elections(2026, '2025-12-11'), 0, 'running the renewal again renews nobody twice');
SELECT is(
    api.ppp_opt_out(pg_temp.member('E'), '2025-12-20 10:00+00') ->> 'renewals_cancelled', '1',
    'opting out of this year in December also cancels the renewal that has not started'
);
SELECT is(
    (
        SELECT count(*)::int FROM ppp.elections
        WHERE member_id = pg_temp.member('E') AND plan_year = 2026
    ), 0,
    'the cancelled renewal is gone'
);

-- ---------------------------------------------------------------------------------------------------
-- the ledger fed by claims
-- ---------------------------------------------------------------------------------------------------
SELECT pg_temp.paid_claim('B', '2025-04-02', 120.00, TRUE);
SELECT pg_temp.paid_claim('B', '2025-04-03', 30.00, FALSE);
SELECT results_eq(
    $$SELECT entry_type, service_date, amount FROM ppp.ledger WHERE member_id = pg_temp.member('B')$$,
    $$VALUES ('claim', DATE '2025-04-02', 120.00)$$,
    'a claim with an M3P amount enters the ledger; a claim without one does not'
);
SELECT pg_temp.reverse_claim(
    (
        SELECT claim_id FROM claims.claims
        WHERE member_id = pg_temp.member('B') AND m3p_amount = 120
    ),
    '2025-04-20 10:00+00'
);
SELECT results_eq(
    $$SELECT l.entry_type, l.service_date, l.amount, l.reversal_claim_id = c.reversed_by_claim_id
      FROM ppp.ledger AS l INNER JOIN claims.claims AS c ON c.claim_id = l.claim_id
      WHERE l.member_id = pg_temp.member('B') ORDER BY l.ledger_entry_id$$,
    $$VALUES ('claim', DATE '2025-04-02', 120.00, NULL), ('reversal', DATE '2025-04-02', -120.00, TRUE)$$,
    'reversing it adds a negative entry on the original date of service, naming the reversal'
);
SELECT pg_temp.reverse_claim(
    (
        SELECT claim_id FROM claims.claims
        WHERE member_id = pg_temp.member('B') AND patient_pay_amount = 30
    ),
    '2025-04-20 10:00+00'
);
SELECT is(
    (
        SELECT count(*)::int FROM ppp.ledger
        WHERE member_id = pg_temp.member('B')
    ), 2,
    'reversing a claim outside the program writes nothing to the ledger'
);
SELECT ok(
    (
        SELECT bool_and(t.tgenabled = 'O')
        FROM pg_trigger AS t
        WHERE t.tgrelid = 'claims.claims_default'::regclass AND t.tgname LIKE 'ppp_ledger_on_%'
    ) AND (
        SELECT count(*) = 3 FROM pg_trigger AS t
        WHERE t.tgrelid = 'claims.claims_default'::regclass AND t.tgname LIKE 'ppp_ledger_on_%'
    ),
    'the ledger triggers reach every partition of claims.claims'
);
SELECT claims.create_month_partitions('2031-01-01', '2031-01-31');
SELECT is(
    (
        SELECT count(*)::int FROM pg_trigger AS t
        WHERE t.tgrelid = 'claims.claims_y2031m01'::regclass AND t.tgname LIKE 'ppp_ledger_on_%'
    ), 3,
    'a partition created later gets the ledger triggers too'
);

-- ---------------------------------------------------------------------------------------------------
-- prior-year outreach list (2026 on)
-- ---------------------------------------------------------------------------------------------------
-- K: 1,500 in February + 500 on September 30 = 2,000 = the 2025 threshold: listed.
-- L: 1,999.99 by September: not listed. M: 1,500 by September, 600 in October: not listed.
-- B: 2,100 in January, but already renewed for 2026: not listed.
SELECT pg_temp.paid_claim('K', '2025-02-01', 1500.00);
SELECT pg_temp.paid_claim('K', '2025-09-30', 500.00);
SELECT pg_temp.paid_claim('L', '2025-02-01', 1999.99);
SELECT pg_temp.paid_claim('M', '2025-02-01', 1500.00);
SELECT pg_temp.paid_claim('M', '2025-10-01', 600.00);
SELECT pg_temp.paid_claim('B', '2025-01-15', 2100.00);
SELECT results_eq(
    $$SELECT member_id, prior_year_oop, threshold FROM ppp.outreach_list(2026)$$,
    $$VALUES (pg_temp.member('K'), 2000.00, 2000.00)$$,
    'the 2026 outreach list: out-of-pocket January-September 2025 at least the 2025 threshold, no 2026 election'
);
SELECT pg_temp.reverse_claim(
    (
        SELECT claim_id FROM claims.claims
        WHERE member_id = pg_temp.member('K') AND patient_pay_amount = 500
    ),
    '2025-10-02 10:00+00'
);
SELECT is(
    (SELECT count(*)::int FROM ppp.outreach_list(2026)), 0, 'a reversed claim does not count toward the outreach list'
);
SELECT throws_ok(
    $$SELECT * FROM ppp.outreach_list(2025)$$, '22023', NULL, 'the prior-year outreach list starts with 2026'
);

-- ---------------------------------------------------------------------------------------------------
-- the catalog
-- ---------------------------------------------------------------------------------------------------
SELECT is(
    (
        SELECT array_agg(p.oid::regprocedure::text ORDER BY 1)
        FROM pg_proc AS p
        WHERE p.pronamespace = 'api'::regnamespace AND p.proname LIKE 'ppp\_%' AND NOT p.prosecdef
    ),
    NULL,
    'every api.ppp_* function is SECURITY DEFINER'
);
SELECT is(
    (
        SELECT array_agg(p.oid::regprocedure::text ORDER BY 1)
        FROM pg_proc AS p
        WHERE
            p.pronamespace = 'api'::regnamespace AND p.proname LIKE 'ppp\_%'
            AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, public'], FALSE)
    ),
    NULL,
    'every api.ppp_* function pins search_path = pg_catalog, public'
);
SELECT is(
    (
        SELECT array_agg(c.oid::regclass::text ORDER BY 1)
        FROM pg_class AS c
        WHERE
            c.relnamespace = 'ppp'::regnamespace AND c.relkind IN ('r', 'v', 'p')
            AND obj_description(c.oid, 'pg_class') IS NULL
    ),
    NULL,
    'every ppp table and view has a comment'
);
SELECT is(
    (
        SELECT array_agg(p.oid::regprocedure::text ORDER BY 1)
        FROM pg_proc AS p
        WHERE
            p.pronamespace IN ('ppp'::regnamespace, 'api'::regnamespace)
            AND (p.pronamespace = 'ppp'::regnamespace OR p.proname LIKE 'ppp\_%')
            AND obj_description(p.oid, 'pg_proc') IS NULL
    ),
    NULL,
    'every ppp function and api.ppp_* function has a comment'
);

SELECT * FROM finish();
ROLLBACK;
