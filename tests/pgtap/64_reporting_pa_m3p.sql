-- Prior authorization turnaround and overdue requests; M3P participation, elections, opt-outs and
-- terminations. Hand-built requests and elections (timestamps in UTC).
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(9);

\ir ../fixtures/reporting_entities.sql

-- PA1 standard, decided after 24 h (approved, due 72 h);    PA2 standard, decided after 108 h (denied, late);
-- PA3 expedited, decided after 6 h (due 24 h);              PA4 standard, still in review, due 05-31 09:00;
-- PA5 expedited, still received, due 06-03 12:00;           PA6 standard (June), decided after 36 h.
INSERT INTO claims.prior_authorizations (
    pa_number, member_id, drug_group, urgency, status, received_at, due_at, decided_at, decision_reason,
    effective_date, expiration_date
)
SELECT
    v.pa_number,
    m.member_id,
    v.drug_group,
    v.urgency,
    v.status,
    v.received_at::timestamptz,
    v.due_at::timestamptz,
    v.decided_at::timestamptz,
    v.decision_reason,
    v.effective_date::date,
    v.expiration_date::date
FROM (
    VALUES
    (
        'PA1', 'RPT0001', 'APIXABAN 5MG TAB', 'standard', 'approved', '2025-05-01 08:00+00', '2025-05-04 08:00+00',
        '2025-05-02 08:00+00', NULL, '2025-05-02', '2026-05-01'
    ),
    (
        'PA2', 'RPT0002', 'APIXABAN 5MG TAB', 'standard', 'denied', '2025-05-10 00:00+00', '2025-05-13 00:00+00',
        '2025-05-14 12:00+00', 'criteria not met', NULL, NULL
    ),
    (
        'PA3', 'RPT0003', 'OXYCODONE 5MG TAB', 'expedited', 'approved', '2025-05-20 10:00+00', '2025-05-21 10:00+00',
        '2025-05-20 16:00+00', NULL, '2025-05-20', '2025-06-19'
    ),
    (
        'PA4', 'RPT0004', 'OXYCODONE 5MG TAB', 'standard', 'in_review', '2025-05-28 09:00+00', '2025-05-31 09:00+00',
        NULL, NULL, NULL, NULL
    ),
    (
        'PA5', 'RPT0005', 'APIXABAN 5MG TAB', 'expedited', 'received', '2025-06-02 12:00+00', '2025-06-03 12:00+00',
        NULL, NULL, NULL, NULL
    ),
    (
        'PA6', 'RPT0001', 'LISINOPRIL 10MG TAB', 'standard', 'approved', '2025-06-05 00:00+00', '2025-06-08 00:00+00',
        '2025-06-06 12:00+00', NULL, '2025-06-06', '2026-06-05'
    )
)
    AS v (
        pa_number, cardholder_id, drug_group, urgency, status, received_at, due_at, decided_at, decision_reason,
        effective_date, expiration_date
    )
INNER JOIN member.members AS m ON v.cardholder_id = m.cardholder_id;

-- M3P: RPT0001 from 01-11 through the year; RPT0002 02-21 to 04-30, opted out; RPT0003 03-06 to 05-31,
-- terminated. A February claim of RPT0001 moved its 40.00 cost share into the program; a March claim of
-- RPT0004 (not participating) flagged the likely-to-benefit notice.
INSERT INTO ppp.elections (member_id, plan_year, source, received_at, effective_date, end_date, status)
SELECT
    m.member_id,
    2025,
    v.source,
    v.received_at::timestamptz,
    v.effective_date::date,
    v.end_date::date,
    v.status
FROM (
    VALUES
    ('RPT0001', 'web', '2025-01-10 15:00+00', '2025-01-11', NULL, 'active'),
    ('RPT0002', 'phone', '2025-02-20 10:00+00', '2025-02-21', '2025-04-30', 'opted_out'),
    ('RPT0003', 'mail', '2025-03-05 10:00+00', '2025-03-06', '2025-05-31', 'terminated')
) AS v (cardholder_id, source, received_at, effective_date, end_date, status)
INNER JOIN member.members AS m ON v.cardholder_id = m.cardholder_id;
DO $$
BEGIN
    PERFORM pg_temp.paid_claim(
        'M01', '2025-02-05', 'RPT0001', '11111111102', '1000000012', 150.00, 40.00, 30, 30, 3, p_m3p => 40.00
    );
    PERFORM pg_temp.paid_claim('M02', '2025-03-05', 'RPT0004', '11111111105', '1000000020', 40.00, 10.00, 20, 5, 2);
    UPDATE claims.claims SET m3p_ltb_notice = TRUE WHERE rx_number = 'M02';
END;
$$;

CREATE TEMP TABLE refreshed ON COMMIT DROP AS SELECT * FROM reporting.refresh();

-- Turnaround in May, standard: PA1 24 h on time, PA2 108 h late, PA4 open. Average 66, median 66,
-- 90th percentile 24 + 0.9 x (108 - 24) = 99.6.
SELECT results_eq(
    $$SELECT * FROM reporting.pa_turnaround()$$,
    $$VALUES
      ('2025-05-01'::date, 'expedited', 1::bigint, 1::bigint, 1::bigint, 0::bigint, 1::bigint, 0::bigint, 0::bigint,
       100.00::numeric, 6.00::numeric, 6.00::numeric, 6.00::numeric, 6.00::numeric),
      ('2025-05-01', 'standard', 3, 2, 1, 1, 1, 1, 1, 50.00, 66.00, 66.00, 99.60, 108.00),
      ('2025-06-01', 'expedited', 1, 0, 0, 0, 0, 0, 1, NULL, NULL, NULL, NULL, NULL),
      ('2025-06-01', 'standard', 1, 1, 1, 0, 1, 0, 0, 100.00, 36.00, 36.00, 36.00, 36.00)$$,
    'PA turnaround by month of receipt and urgency'
);
SELECT results_eq(
    $$SELECT drug_group, urgency, status, due_at, hours_overdue FROM reporting.pa_overdue('2025-06-04 12:00+00')$$,
    $$VALUES ('OXYCODONE 5MG TAB', 'standard', 'in_review', '2025-05-31 09:00+00'::timestamptz, 99.00::numeric),
             ('APIXABAN 5MG TAB', 'expedited', 'received', '2025-06-03 12:00+00', 24.00)$$,
    'overdue at 06-04 12:00: PA4 by 4 days 3 hours, PA5 by 24 hours'
);
SELECT results_eq(
    $$SELECT drug_group, hours_overdue FROM reporting.pa_overdue('2025-06-01 09:00+00')$$,
    $$VALUES ('OXYCODONE 5MG TAB', 24.00::numeric)$$,
    'overdue at 06-01 09:00: only PA4'
);
SELECT is(
    (SELECT count(*) FROM reporting.pa_overdue('2025-05-31 09:00+00')), 0::bigint,
    'a request is not overdue at its due time'
);
SELECT ok(
    (
        SELECT bool_and(pa_key ~ '^[0-9a-f]{16}$' AND member_key ~ '^[0-9a-f]{16}$')
        FROM reporting.fact_prior_authorizations
    ),
    'requests are pseudonymous (pa_key, member_key)'
);

-- M3P participants: January 1; February 2; March and April 3; May 2 (RPT0001, RPT0003); June to
-- December 1.
SELECT results_eq(
    $$SELECT * FROM reporting.m3p_participation('2025-01-01', '2025-06-30')$$,
    $$VALUES
      ('2025-01-01'::date, 1::bigint, 1::bigint, 0::bigint, 0::bigint, 0.00::numeric, 0::bigint, 0::bigint),
      ('2025-02-01', 2, 1, 0, 0, 40.00, 1, 0),
      ('2025-03-01', 3, 1, 0, 0, 0.00, 0, 1),
      ('2025-04-01', 3, 0, 1, 0, 0.00, 0, 0),
      ('2025-05-01', 2, 0, 0, 1, 0.00, 0, 0),
      ('2025-06-01', 1, 0, 0, 0, 0.00, 0, 0)$$,
    'M3P by month: participants, new elections, opt-outs, terminations, cost share moved, notices'
);
SELECT is(
    (SELECT count(*) FROM reporting.m3p_participation()), 12::bigint,
    'one row per month of 2025 with a participant'
);
SELECT results_eq(
    $$SELECT source, effective_date, last_participation_date, status
      FROM reporting.fact_m3p_elections ORDER BY effective_date$$,
    $$VALUES ('web', '2025-01-11'::date, '2025-12-31'::date, 'active'),
             ('phone', '2025-02-21', '2025-04-30', 'opted_out'),
             ('mail', '2025-03-06', '2025-05-31', 'terminated')$$,
    'elections with their last day of participation (December 31 when open)'
);
SELECT ok(
    (SELECT bool_and(election_key ~ '^[0-9a-f]{16}$') FROM reporting.fact_m3p_elections),
    'elections are pseudonymous'
);

SELECT * FROM finish();
ROLLBACK;
