-- Refill too soon (reject 79, DUR reason ER): the supply on hand accumulates over paid fills of the same
-- drug group, so early refills never move the anchor (reference §3.2: June 1 + 30 and an early June 27
-- refill are judged against July 31). Plan threshold 75%: at most floor(25% of 30) = 7 days on hand.
BEGIN;
SELECT plan(16);
SELECT tap.setup_adjudication();
SELECT tap.add_member('RT1', 'TCOMM', '1970-01-01', 'F', '2025-01-01');
SELECT tap.add_member('RT2', 'TCOMM', '1970-01-01', 'F', '2025-01-01');

CREATE TEMP TABLE r (n int, c claims.claims) ON COMMIT DROP;
-- The reference's example: June 1 (30 days), June 27 (4 days left: allowed), then July 20 / July 24.
INSERT INTO r SELECT
    1,
    c
FROM tap.adjudicate(tap.claim('RT1', '99999000101', '2025-06-01', 30, 30, '7001')) AS c;
INSERT INTO r SELECT
    2,
    c
FROM tap.adjudicate(tap.claim('RT1', '99999000101', '2025-06-27', 30, 30, '7001', 1)) AS c;
INSERT INTO r SELECT
    3,
    c
FROM tap.adjudicate(tap.claim('RT1', '99999000101', '2025-07-20', 30, 30, '7001', 2)) AS c;
INSERT INTO r SELECT
    4,
    c
FROM tap.adjudicate(tap.claim('RT1', '99999000101', '2025-07-23', 30, 30, '7001', 2)) AS c;
INSERT INTO r SELECT
    5,
    c
FROM tap.adjudicate(tap.claim('RT1', '99999000101', '2025-07-24', 30, 30, '7001', 2)) AS c;

SELECT is((c).transaction_response_status::text, 'P', 'June 27: 4 days on hand (<= 7): paid') FROM r
WHERE n = 2;
SELECT is((c).reject_codes::text[], '{79}', 'July 20: 11 days on hand (supply runs to July 31): 79 Refill Too Soon')
FROM r
WHERE n = 3;
SELECT is((c).dur_reason_code::text, 'ER', 'with DUR reason for service ER (overuse)') FROM r
WHERE n = 3;
SELECT is((c).next_available_fill_date, '2025-07-24'::date, 'next available fill date: July 31 - 7 days = July 24')
FROM r
WHERE n = 3;
SELECT is((c).previous_fill_date, '2025-06-27'::date, 'previous date of fill (530-FU): June 27') FROM r
WHERE n = 3;
SELECT is((c).previous_fill_quantity, 30.000, 'quantity of previous fill (531-FV): 30') FROM r
WHERE n = 3;
SELECT is((c).reject_codes::text[], '{79}', 'July 23: still 8 days on hand: 79') FROM r
WHERE n = 4;
SELECT is((c).transaction_response_status::text, 'P', 'July 24: 7 days on hand: paid') FROM r
WHERE n = 5;
SELECT is(
    claims.response_of((c).claim_id, (c).date_of_service) #>> '{dur_response,reason_for_service_code}', 'ER',
    'the response carries the DUR segment'
) FROM r
WHERE n = 3;

-- Without accumulation a last-fill-only check would have paid July 20 (June 27 + 30 = July 27, 7 days).
-- The generic and the brand of one drug group share the supply.
INSERT INTO r SELECT
    6,
    c
FROM tap.adjudicate(tap.claim('RT1', '99999000201', '2025-08-10', 30, 30, '7002')) AS c;
SELECT is((c).reject_codes::text[], '{79}', 'LIPITOR on Aug 10 while atorvastatin lasts to Aug 30: 79')
FROM r
WHERE n = 6;

-- Vacation supply override (SCC 3) lets an early refill through.
INSERT INTO r SELECT
    7,
    c
FROM tap.adjudicate(tap.claim(
    'RT1', '99999000101', '2025-08-10', 30, 30, '7001', 3,
    '{"submission_clarification_code": 3}'
)) AS c;
SELECT is((c).transaction_response_status::text, 'P', 'SCC 3 (vacation supply) overrides refill too soon')
FROM r
WHERE n = 7;

-- Rejected fills do not add to the supply; a reversed fill stops counting.
INSERT INTO r SELECT
    8,
    c
FROM tap.adjudicate(tap.claim('RT2', '99999000101', '2025-03-01', 30, 30, '7101')) AS c;
INSERT INTO r SELECT
    9,
    c
FROM tap.adjudicate(tap.claim('RT2', '99999000101', '2025-03-10', 30, 30, '7102')) AS c;
INSERT INTO r SELECT
    10,
    c
FROM tap.adjudicate(tap.claim('RT2', '99999000101', '2025-03-24', 30, 30, '7103')) AS c;
SELECT is((c).reject_codes::text[], '{79}', 'March 10: 21 days on hand: 79') FROM r
WHERE n = 9;
SELECT is((c).transaction_response_status::text, 'P', 'March 24: 7 days on hand (the rejected fill added none): paid')
FROM r
WHERE n = 10;
SELECT is(
    (api.reverse(jsonb_build_object(
        'service_provider_id', '1234567893', 'rx_number', '7103', 'fill_number', 0,
        'date_of_service', '20250324'
    ))) ->> 'transaction_response_status', 'A',
    'the March 24 fill is reversed'
);
INSERT INTO r SELECT
    11,
    c
FROM tap.adjudicate(tap.claim('RT2', '99999000101', '2025-03-25', 30, 30, '7104')) AS c;
SELECT is((c).transaction_response_status::text, 'P', 'March 25: the reversed fill no longer counts: paid')
FROM r
WHERE n = 11;
-- Outside the 180-day lookback nothing counts: a fill on 2025-09-21 is more than 180 days after March.
INSERT INTO r SELECT
    12,
    c
FROM tap.adjudicate(tap.claim('RT2', '99999000101', '2025-09-22', 30, 30, '7105')) AS c;
SELECT is((c).transaction_response_status::text, 'P', 'history older than the lookback is ignored') FROM r
WHERE n = 12;

SELECT * FROM finish();
ROLLBACK;
