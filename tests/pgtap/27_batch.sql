-- Batch adjudication gives the one-by-one results, worked by hand: the Part D year of 21_part_d_phases in
-- one batch, with a duplicate, a refill-too-soon chain and step therapy met inside the batch.
BEGIN;
SELECT plan(24);
SELECT tap.setup_adjudication();
SELECT tap.add_member('BP1', 'TPD', '1950-05-01', 'F', '2025-01-01');
SELECT tap.add_member('BR1', 'TCOMM', '1970-01-01', 'F', '2025-01-01');
SELECT tap.add_member('BS1', 'TCOMM', '1970-01-01', 'M', '2025-01-01');
SELECT tap.add_member('BS2', 'TCOMM', '1970-01-01', 'M', '2025-01-01');

-- Lines deliberately out of date order: the batch processes by date of service, then line.
CREATE TEMP TABLE b ON COMMIT DROP AS
SELECT tap.stage_batch(ARRAY[
    tap.claim('BP1', '99999000301', '2025-03-12', 300, 30, '1003'),
    tap.claim('BP1', '99999000301', '2025-01-10', 30, 30, '1001'),
    tap.claim('BP1', '99999000301', '2025-02-10', 30, 30, '1002'),
    tap.claim('BP1', '99999000301', '2025-04-11', 30, 30, '1004'),
    tap.claim('BP1', '99999000301', '2025-05-11', 30, 30, '1005'),
    tap.claim('BP1', '99999000301', '2025-05-11', 30, 30, '1005'),
    tap.claim('BR1', '99999000101', '2025-06-01', 30, 30, '7001'),
    tap.claim('BR1', '99999000101', '2025-06-27', 30, 30, '7001', 1),
    tap.claim('BR1', '99999000101', '2025-07-20', 30, 30, '7001', 2),
    tap.claim('BS1', '99999000801', '2025-03-05', 30, 30, '8101'),
    tap.claim('BS1', '99999000901', '2025-03-01', 60, 30, '8102'),
    tap.claim('BS2', '99999000801', '2025-03-05', 30, 30, '8201'),
    tap.claim('NOBODY', '99999000101', '2025-03-05', 30, 30, '8301')
]) AS batch_id;
CREATE FUNCTION pg_temp.bid() RETURNS bigint LANGUAGE sql AS 'SELECT b.batch_id FROM b';

SELECT results_eq(
    $$SELECT claims_count, paid_count, rejected_count, duplicate_count
      FROM claims.adjudicate_batch(pg_temp.bid(), '2025-12-31')$$,
    $$VALUES (13::bigint, 9::bigint, 3::bigint, 1::bigint)$$,
    '13 claims: 9 paid, 3 rejected (refill too soon, step therapy, unknown cardholder), 1 duplicate'
);
CREATE TEMP TABLE r ON COMMIT DROP AS
SELECT c.* FROM claims.claims AS c
WHERE c.batch_id = pg_temp.bid();

SELECT results_eq(
    $$SELECT patient_pay_amount FROM r WHERE cardholder_id = 'BP1' AND transaction_response_status = 'P'
      ORDER BY date_of_service$$,
    $$VALUES (500.00), (192.50), (1245.50), (62.00), (0.00)$$,
    'the Part D year in one batch: $500.00, $192.50, $1,245.50, $62.00, $0.00 as claim by claim'
);
SELECT results_eq(
    'SELECT amount_applied_to_deductible, amount_of_coinsurance FROM r WHERE rx_number = ''1002''',
    $$VALUES (90.00, 102.50)$$, 'the deductible crossing split: $90.00 + $102.50'
);
SELECT results_eq(
    'SELECT stage_initial_amount, stage_catastrophic_amount FROM r WHERE rx_number = ''1004''',
    $$VALUES (248.00, 252.00)$$, 'the threshold crossing split: $248.00 initial, $252.00 catastrophic'
);
SELECT results_eq(
    $$SELECT deductible_accumulated, oop_accumulated, gross_cost_accumulated FROM claims.accumulators a
      JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'BP1'$$,
    $$VALUES (590.00, 2000.00, 6982.00)$$, 'the accumulators end at $590.00, $2,000.00 and $6,982.00'
);
SELECT is(
    (
        SELECT array_agg(batch_line_no ORDER BY claim_id) FROM r
        WHERE cardholder_id = 'BP1'
    ),
    ARRAY[2, 3, 1, 4, 5, 6], 'claim ids follow the processing order (date of service, then line)'
);
SELECT is(
    (
        SELECT transaction_response_status::text FROM r
        WHERE batch_line_no = 6
    ), 'D',
    'the second May 11 line is a duplicate'
);
SELECT is(
    (
        SELECT duplicate_of_claim_id FROM r
        WHERE batch_line_no = 6), (
        SELECT claim_id FROM r
        WHERE batch_line_no = 5
    ),
    'of the claim of line 5 of the same batch'
);
SELECT is(
    claims.response_of((
        SELECT claim_id FROM r
        WHERE batch_line_no = 6
    ), '2025-05-11') ->> 'patient_pay_amount',
    '0.00', 'whose response it carries'
);

-- Refill too soon inside the batch (reference example: June 1, June 27 early, July 20 too soon).
SELECT results_eq(
    $$SELECT transaction_response_status::text, reject_codes::text [] FROM r WHERE cardholder_id = 'BR1'
      ORDER BY date_of_service$$,
    $$VALUES ('P', '{}'::text []), ('P', '{}'::text []), ('R', '{79}'::text [])$$,
    'June 1 and June 27 paid, July 20 refused 79'
);
SELECT is(
    (
        SELECT next_available_fill_date FROM r
        WHERE cardholder_id = 'BR1' AND reject_codes = '{79}'
    ), '2025-07-24'::date,
    'next available fill date July 24, counted over both earlier fills of the batch'
);
SELECT is(
    (
        SELECT previous_fill_date FROM r
        WHERE cardholder_id = 'BR1' AND reject_codes = '{79}'
    ), '2025-06-27'::date,
    'previous fill June 27'
);

-- Step therapy: metformin of March 1 (line 11) comes before sitagliptin of March 5 (line 10).
SELECT is(
    (
        SELECT transaction_response_status::text FROM r
        WHERE rx_number = '8101'
    ), 'P',
    'sitagliptin is paid: the metformin claim earlier in the batch met step therapy'
);
SELECT is(
    (
        SELECT reject_codes::text[] FROM r
        WHERE rx_number = '8201'
    ), '{608}', 'without metformin: 608'
);
SELECT is((
    SELECT reject_codes::text[] FROM r
    WHERE rx_number = '8301'
), '{52}', 'unknown cardholder: 52');

-- Summary, reject reasons, status, and re-running.
SELECT
    is((
        SELECT status FROM claims.batches
        WHERE batch_id = pg_temp.bid()
    ), 'adjudicated', 'batch adjudicated');
SELECT results_eq(
    'SELECT code::text, claims FROM claims.batch_reject_reasons WHERE batch_id = pg_temp.bid() ORDER BY code',
    $$VALUES ('52', 1::bigint), ('608', 1::bigint), ('79', 1::bigint)$$,
    'reject reasons of the batch'
);
SELECT is(
    (
        SELECT total_amount_paid FROM claims.batch_summary
        WHERE batch_id = pg_temp.bid()
    ),
    (
        SELECT sum(total_amount_paid) FROM r
        WHERE transaction_response_status = 'P'
    ),
    'the summary''s plan paid is the sum of its paid claims'
);
SELECT results_eq(
    'SELECT claims_count, passes FROM claims.adjudicate_batch(pg_temp.bid())',
    $$VALUES (13::bigint, 0)$$, 're-running the batch reports it and does nothing'
);
SELECT is(
    (
        SELECT count(*)::int FROM claims.claims
        WHERE batch_id = pg_temp.bid()
    ), 13, 'still 13 claims'
);
SELECT is(
    (
        SELECT a.oop_accumulated
        FROM claims.accumulators AS a
        INNER JOIN member.members AS m ON a.member_id = m.member_id
        WHERE m.cardholder_id = 'BP1'
    ),
    2000.00, 'and the accumulators did not move'
);

-- A batch after real-time history: a paid real-time fill is the base of the batch's accumulators.
SELECT tap.add_member('BH1', 'TPD', '1950-05-01', 'F', '2025-01-01');
SELECT tap.adjudicate(tap.claim('BH1', '99999000301', '2025-01-10', 30, 30, '9001'));
CREATE TEMP TABLE b2 ON COMMIT DROP AS
SELECT tap.stage_batch(ARRAY[
    tap.claim('BH1', '99999000301', '2025-02-10', 30, 30, '9002'),
    tap.claim('BH1', '99999000301', '2025-01-10', 30, 30, '9001')
]) AS batch_id;
CREATE FUNCTION pg_temp.bid2() RETURNS bigint LANGUAGE sql AS 'SELECT b2.batch_id FROM b2';
SELECT claims.adjudicate_batch(pg_temp.bid2(), '2025-12-31');
SELECT is(
    (
        SELECT patient_pay_amount FROM claims.claims
        WHERE batch_id = pg_temp.bid2() AND rx_number = '9002'
    ),
    192.50, 'the batch starts from the stored accumulators: $90.00 deductible left, + 25% of $410.00'
);
SELECT is(
    (
        SELECT transaction_response_status::text FROM claims.claims
        WHERE batch_id = pg_temp.bid2() AND rx_number = '9001'
    ),
    'D', 'a resubmission of a stored paid claim is a duplicate'
);
SELECT is(
    (
        SELECT count(*)::int FROM claims.claims
        WHERE rx_number = '9001' AND transaction_response_status = 'P'
    ), 1,
    'never paid twice'
);

SELECT * FROM finish();
ROLLBACK;
