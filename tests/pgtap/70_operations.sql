-- Operations: the consistency checks find nothing on claims adjudicated through the real paths (api.adjudicate,
-- claims.adjudicate_batch, api.reverse), and name the member with expected and actual amounts worked out by hand
-- once an accumulator, a reversal, a rejected claim or the M3P ledger is tampered with; partitions are created
-- ahead and old claim months archived with their record.
BEGIN;
SELECT plan(26);

SET LOCAL timezone = 'UTC';
SELECT tap.setup_adjudication();
SELECT tap.add_member(c, p, '1950-01-01', 'F', '2024-01-01')
FROM (VALUES ('OPS1', 'TPD'), ('OPS2', 'TCOMM'), ('OPS3', 'TPD')) AS m (c, p);
-- Partition DDL below needs the claims table to itself: take the lock after the fixtures (which insert what
-- other files insert too), so a file running in parallel waits for this one instead of deadlocking.
LOCK TABLE claims.claims IN ACCESS EXCLUSIVE MODE;

CREATE FUNCTION pg_temp.member(p_cardholder text) RETURNS bigint
LANGUAGE sql STABLE
AS $$SELECT m.member_id FROM member.members AS m WHERE m.cardholder_id = p_cardholder$$;

-- Real time, OPS1 (Part D: $590 deductible, then 25%): ELIQUIS x 30 = 20.00 * 0.83 * 30 + 2.00 = 500.00 allowed.
-- January: 500.00 all deductible. February: 90.00 deductible + 25% of 410.00 = 102.50 -> 192.50, then reversed.
SELECT api.adjudicate(tap.claim('OPS1', '99999000301', '2025-01-10', 30, 30, '7001'));
SELECT api.adjudicate(tap.claim('OPS1', '99999000301', '2025-02-10', 30, 30, '7002'));
SELECT api.reverse(
    '{"service_provider_id": "1234567893", "rx_number": "7002", "fill_number": 0, "date_of_service": "20250210"}'
);
-- An unknown cardholder: rejected (52), no member, no deltas.
SELECT api.adjudicate(tap.claim('NOBODY', '99999000301', '2025-01-10', 30, 30, '7003'));

-- Batch, OPS2 (commercial: $200 deductible on tiers 3-5, tier 1 $10 copay, tier 3 $50 copay):
-- atorvastatin x 30 = MAC 2.00 * 30 + 1.00 = 61.00 -> 10.00 copay; ELIQUIS 500.00 -> 200.00 deductible + 50.00.
SELECT claims.adjudicate_batch(tap.stage_batch(ARRAY[
    tap.claim('OPS2', '99999000101', '2025-01-10', 30, 30, '7101'),
    tap.claim('OPS2', '99999000301', '2025-01-20', 30, 30, '7102')
]), '2025-12-31');

-- M3P, OPS3: a participant's 500.00 January claim (all deductible) moves 500.00 into the program.
SELECT api.ppp_elect(pg_temp.member('OPS3'), 'mail', '2024-12-15 10:00+00', 2025);
SELECT api.adjudicate(tap.claim('OPS3', '99999000301', '2025-01-10', 30, 30, '7201'));

SELECT results_eq(
    $$SELECT m.cardholder_id::text, a.deductible_accumulated, a.oop_accumulated, a.gross_cost_accumulated
      FROM claims.accumulators AS a JOIN member.members AS m USING (member_id)
      WHERE m.cardholder_id IN ('OPS1', 'OPS2', 'OPS3') ORDER BY 1$$,
    $$VALUES ('OPS1', 500.00, 500.00, 500.00), ('OPS2', 200.00, 260.00, 561.00), ('OPS3', 500.00, 500.00, 500.00)$$,
    'the accumulators are the hand-computed sums (the February claim of OPS1 reversed)'
);
SELECT is(
    (
        SELECT sum(l.amount) FROM ppp.ledger AS l
        WHERE l.member_id = pg_temp.member('OPS3')
    ), 500.00,
    'the M3P ledger holds the participant''s 500.00'
);
SELECT is_empty('SELECT * FROM ops.check_consistency()', 'consistent data: no finding from any consistency check');
SELECT is(
    (
        SELECT count(*)::int FROM ops.checks
        WHERE kind = 'consistency'
    ), 5,
    'five consistency checks: accumulators, reversals, claim deltas, M3P ledger, M3P billing'
);

-- Tamper with OPS1's out-of-pocket accumulator: 450.00 instead of 500.00.
UPDATE claims.accumulators SET oop_accumulated = 450.00
WHERE member_id = pg_temp.member('OPS1') AND plan_year = 2025;
SELECT results_eq(
    'SELECT check_name, severity, key, member_id, plan_year, detail FROM ops.check_consistency()',
    $$VALUES (
        'accumulators_match_paid_claims', 'error', format('member %s, plan year 2025', pg_temp.member('OPS1')),
        pg_temp.member('OPS1'), 2025::smallint,
        'oop_accumulated: expected 500.00 (sum over 1 paid, not reversed claim(s)), actual 450.00, difference -50.00'
    )$$,
    'a tampered accumulator is the one finding: member, plan year, expected 500.00 and actual 450.00'
);
UPDATE claims.accumulators SET oop_accumulated = 500.00
WHERE member_id = pg_temp.member('OPS1') AND plan_year = 2025;

-- OPS2's accumulator row lost: 10.00 + 250.00 out of pocket and 61.00 + 500.00 gross cost are missing.
CREATE TEMP TABLE saved ON COMMIT DROP AS
SELECT * FROM claims.accumulators
WHERE member_id = pg_temp.member('OPS2');
DELETE FROM claims.accumulators
WHERE member_id = pg_temp.member('OPS2');
SELECT results_eq(
    'SELECT detail FROM ops.check_accumulators()',
    $$VALUES
    ('deductible_accumulated: expected 200.00 (sum over 2 paid, not reversed claim(s)), actual 0.00 (no accumulator row), difference -200.00'),
    ('gross_cost_accumulated: expected 561.00 (sum over 2 paid, not reversed claim(s)), actual 0.00 (no accumulator row), difference -561.00'),
    ('oop_accumulated: expected 260.00 (sum over 2 paid, not reversed claim(s)), actual 0.00 (no accumulator row), difference -260.00')$$,
    'a missing accumulator row: one finding per accumulator the paid claims add to'
);
SELECT is(
    (SELECT count(*)::int FROM ops.check_accumulators(2024::smallint)), 0,
    'the check can be limited to a plan year (nothing in 2024)'
);
INSERT INTO claims.accumulators SELECT * FROM saved;

-- The reversal of OPS1's February claim carrying -100.00 out of pocket instead of -192.50.
UPDATE claims.claims SET oop_delta = -100.00
WHERE rx_number = '7002' AND transaction_code = 'B2';
SELECT results_eq(
    'SELECT check_name, member_id, detail FROM ops.check_consistency()',
    $$SELECT 'reversals_mirror_their_claims', pg_temp.member('OPS1'),
        format('deltas (deductible, oop, gross cost): expected -90.00, -192.50, -500.00 (claim %s negated), '
            || 'actual -90.00, -100.00, -500.00', c.claim_id)
      FROM claims.claims AS c WHERE c.rx_number = '7002' AND c.transaction_code = 'B1'$$,
    'a reversal that does not mirror its claim is found, with the negated deltas expected'
);
UPDATE claims.claims SET oop_delta = -192.50
WHERE rx_number = '7002' AND transaction_code = 'B2';

-- A reversed claim that lost its link to the reversal.
UPDATE claims.claims SET reversed_by_claim_id = -1
WHERE rx_number = '7002' AND transaction_code = 'B1';
SELECT results_eq(
    $$SELECT check_name, key FROM ops.check_reversals() WHERE key LIKE 'claim %'$$,
    $$SELECT 'reversals_mirror_their_claims', format('claim %s', c.claim_id)
      FROM claims.claims AS c WHERE c.rx_number = '7002' AND c.transaction_code = 'B1'$$,
    'a claim marked reversed by a claim that is not its reversal is found'
);
UPDATE claims.claims SET reversed_by_claim_id = NULL
WHERE rx_number = '7002' AND transaction_code = 'B1';
-- Not reversed any more, the February claim counts again: 500.00 + 90.00 deductible, 500.00 + 192.50 out of
-- pocket, 500.00 + 500.00 gross cost expected, the accumulators still as after the reversal.
SELECT results_eq(
    $$SELECT detail FROM ops.check_accumulators()$$,
    $$VALUES
    ('deductible_accumulated: expected 590.00 (sum over 2 paid, not reversed claim(s)), actual 500.00, difference -90.00'),
    ('gross_cost_accumulated: expected 1000.00 (sum over 2 paid, not reversed claim(s)), actual 500.00, difference -500.00'),
    ('oop_accumulated: expected 692.50 (sum over 2 paid, not reversed claim(s)), actual 500.00, difference -192.50')$$,
    'and the claim no longer reversed counts again: the accumulators miss its deltas'
);
UPDATE claims.claims AS c SET reversed_by_claim_id = r.claim_id
FROM claims.claims AS r
WHERE c.rx_number = '7002' AND c.transaction_code = 'B1' AND r.rx_number = '7002' AND r.transaction_code = 'B2';

-- A rejected claim carrying a gross cost delta of 5.00.
UPDATE claims.claims SET gross_cost_delta = 5.00
WHERE rx_number = '7003';
SELECT results_eq(
    'SELECT check_name, member_id, detail FROM ops.check_consistency()',
    $$VALUES ('claim_deltas_agree_with_amounts', NULL::bigint,
        'status R adds nothing to the accumulators: expected deltas 0.00, 0.00, 0.00, actual 0.00, 0.00, 5.00')$$,
    'a rejected claim with an accumulator delta is found'
);
UPDATE claims.claims SET gross_cost_delta = 0
WHERE rx_number = '7003';

-- A paid claim whose gross cost delta is not its allowed amount (61.00).
UPDATE claims.claims SET gross_cost_delta = 60.00
WHERE rx_number = '7101';
SELECT results_eq(
    $$SELECT detail FROM ops.check_claim_deltas()$$,
    $$VALUES ('gross_cost_delta: expected 61.00 (ingredient cost paid + dispensing fee paid), actual 60.00')$$,
    'a paid claim''s gross cost delta must be its allowed amount'
);
UPDATE claims.claims SET gross_cost_delta = 61.00
WHERE rx_number = '7101';

-- The M3P ledger with 25.00 no claim explains (and not queued for billing).
INSERT INTO ppp.ledger (member_id, plan_year, claim_id, service_date, entry_type, amount)
SELECT
    c.member_id,
    2025,
    c.claim_id,
    c.date_of_service,
    'adjustment',
    25.00
FROM claims.claims AS c
WHERE c.rx_number = '7201';
SELECT results_eq(
    $$SELECT check_name, member_id, detail FROM ops.check_consistency() ORDER BY check_name$$,
    $$VALUES
    ('m3p_billing_balances', pg_temp.member('OPS3'),
        format('program costs of a member and year: ledger <> billed on statements + unbilled: plan year 2025: '
            || 'ledger 525.00, billed 0, unbilled 500.00')),
    ('m3p_ledger_matches_claims', pg_temp.member('OPS3'),
        'ppp.ledger: expected 500.00 (M3P amounts of 1 paid, not reversed claim(s)), actual 525.00')$$,
    'an M3P ledger entry no claim explains: found by the ledger check and by the billing check'
);
DELETE FROM ppp.ledger
WHERE entry_type = 'adjustment' AND amount = 25.00;
SELECT is_empty('SELECT * FROM ops.check_consistency()', 'consistent again once every tampering is undone');

-- Partitions ahead: May to July 2031 for claims.claims and audit.log, then nothing more to create.
SELECT results_eq(
    $$SELECT parent_table, partition_name FROM ops.create_partitions_ahead(2, '2031-05-15') ORDER BY 1, 2$$,
    $$VALUES ('audit.log', 'audit.log_y2031m05'), ('audit.log', 'audit.log_y2031m06'),
        ('audit.log', 'audit.log_y2031m07'), ('claims.claims', 'claims.claims_y2031m05'),
        ('claims.claims', 'claims.claims_y2031m06'), ('claims.claims', 'claims.claims_y2031m07')$$,
    'create_partitions_ahead creates the month of the date and the two after it, for claims and audit'
);
SELECT is(
    (SELECT count(*)::int FROM ops.create_partitions_ahead(2, '2031-05-15')), 0,
    'running it again creates nothing'
);
SELECT is(
    (
        SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class AS c
        WHERE c.oid = 'claims.claims_y2031m06'::regclass
    ),
    'FOR VALUES FROM (''2031-06-01'') TO (''2031-07-01'')', 'the June partition holds June'
);
SELECT results_eq(
    $$SELECT key FROM ops.health_partitions('2031-05-15', 3) WHERE check_name = 'partitions_ahead'$$,
    $$VALUES ('audit.log 2031-08'), ('claims.claims 2031-08')$$,
    'the health check names the months still missing three months ahead'
);
SELECT throws_ok(
    $$SELECT * FROM ops.create_partitions_ahead(-1, '2031-05-15')$$, '22023', NULL,
    'a negative number of months is refused'
);

-- Archiving: 1990-01 holds a claim; the accumulator of 1990 has no claim behind it until the month is archived.
SELECT claims.create_month_partitions('1990-01-01', '1990-01-31');
INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes)
VALUES (-70, '1990-01-15', 'R', '{52}');
INSERT INTO claims.accumulators (member_id, plan_year, oop_accumulated) VALUES (pg_temp.member('OPS1'), 1990, 7.00);
SELECT is(
    (SELECT detail FROM ops.check_accumulators(1990::smallint)),
    'oop_accumulated: expected 0.00 (sum over 0 paid, not reversed claim(s)), actual 7.00, difference +7.00',
    'an accumulator no claim explains is found'
);
SELECT throws_ok(
    $$SELECT ops.archive_claims_month('2024-03-01', '2025-06-01')$$, '55000', NULL,
    'months of the previous plan year are kept'
);
SELECT is(
    ops.archive_claims_month('1990-01-01', '2025-06-01'), 'claims_archive.claims_y1990m01',
    'archive_claims_month detaches the month into claims_archive'
);
SELECT results_eq(
    $$SELECT month, table_name, row_count, dropped_at IS NULL FROM ops.archived_partitions$$,
    $$VALUES ('1990-01-01'::date, 'claims_archive.claims_y1990m01', 1::bigint, TRUE)$$,
    'and records it with its row count'
);
SELECT is_empty(
    'SELECT * FROM ops.check_accumulators()',
    'plan years with an archived month are left out of the accumulator check'
);
SELECT throws_ok(
    $$SELECT ops.drop_archived_month('1990-01-01', '')$$, '22023', NULL,
    'an archived month is dropped only once its dump is named'
);
SELECT ops.drop_archived_month('1990-01-01', '/backup/claims_y1990m01.dump');
SELECT results_eq(
    $$SELECT dumped_to, dropped_at IS NOT NULL, to_regclass(table_name) IS NULL FROM ops.archived_partitions$$,
    $$VALUES ('/backup/claims_y1990m01.dump', TRUE, TRUE)$$,
    'dropping records where the dump went and removes the table'
);

SELECT * FROM finish();
ROLLBACK;
