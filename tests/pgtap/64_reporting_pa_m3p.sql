-- Prior authorization turnaround and overdue requests; M3P participation, elections, opt-outs and
-- terminations. Hand-built requests and elections (timestamps in UTC).
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(13);

\ir ../fixtures/reporting/entities.sql

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
INSERT INTO ppp.elections (
    member_id, plan_year, source, received_at, effective_date, end_date, status, termination_reason,
    termination_requested_at, termination_notice_on
)
SELECT
    m.member_id,
    2025,
    v.source,
    v.received_at::timestamptz,
    v.effective_date::date,
    v.end_date::date,
    v.status,
    v.termination_reason,
    v.termination_requested_at::timestamptz,
    v.termination_notice_on::date
FROM (
    VALUES
    ('RPT0001', 'web', '2025-01-10 15:00+00', '2025-01-11', NULL, 'active', NULL, NULL, NULL),
    (
        'RPT0002', 'phone', '2025-02-20 10:00+00', '2025-02-21', '2025-04-30', 'opted_out', 'voluntary',
        '2025-04-30 09:00+00', NULL
    ),
    (
        'RPT0003', 'mail', '2025-03-05 10:00+00', '2025-03-06', '2025-05-31', 'terminated', 'failure_to_pay', NULL,
        '2025-06-01'
    )
)
    AS v (
        cardholder_id, source, received_at, effective_date, end_date, status, termination_reason,
        termination_requested_at, termination_notice_on
    )
INNER JOIN member.members AS m ON v.cardholder_id = m.cardholder_id;

-- Statements (hand-built; the M3P area's billing run is tested in 3x): RPT0001 billed 40.00 for February,
-- paid on 03-20; RPT0002 billed 100.00 for March, paid 30.00, past-due notice; RPT0003 billed 90.00 for
-- March (cap (2000 - 500) / 10 = 150.00), nothing paid, past-due notice, grace period over on 05-31.
INSERT INTO ppp.statements (
    member_id, plan_year, billing_month, run_id, participating, first_month, month_of_year, months_remaining,
    oop_threshold, incurred_before_election, balance_before, oop_this_month, max_monthly_cap, amount_billed,
    balance_after, issued_on, due_date, amount_settled, settled_on, past_due_notice_on, grace_period_ends_on
)
SELECT
    m.member_id,
    2025,
    v.billing_month::date,
    1,
    TRUE,
    TRUE,
    v.month_of_year,
    13 - v.month_of_year,
    2000.00,
    v.incurred,
    0 AS balance_before,
    v.oop AS oop_this_month,
    v.cap,
    v.oop AS amount_billed,
    0 AS balance_after,
    v.issued_on::date,
    v.due_date::date,
    v.settled,
    v.settled_on::date,
    v.notice_on::date,
    v.grace_ends::date
FROM (
    VALUES
    ('RPT0001', '2025-02-01', 2, 0.00, 40.00, 181.82, '2025-03-01', '2025-03-31', 40.00, '2025-03-20', NULL, NULL),
    (
        'RPT0002', '2025-03-01', 3, 0.00, 100.00, 200.00, '2025-04-01', '2025-04-30', 30.00, NULL, '2025-05-05',
        '2025-07-31'
    ),
    (
        'RPT0003', '2025-03-01', 3, 500.00, 90.00, 150.00, '2025-04-01', '2025-04-30', 0.00, NULL, '2025-05-05',
        '2025-05-31'
    )
)
    AS v (
        cardholder_id, billing_month, month_of_year, incurred, oop, cap, issued_on, due_date, settled, settled_on,
        notice_on, grace_ends
    )
INNER JOIN member.members AS m ON v.cardholder_id = m.cardholder_id;
WITH payments AS (
    INSERT INTO ppp.payments (member_id, payment_type, received_on, amount, method, reference, applied_amount)
    SELECT
        m.member_id,
        'payment',
        v.received_on::date,
        v.amount,
        v.method,
        v.reference,
        v.amount AS applied_amount
    FROM (VALUES ('RPT0001', '2025-03-20', 40.00, 'ach', 'P1'), ('RPT0002', '2025-04-25', 30.00, 'card', 'P2'))
        AS v (cardholder_id, received_on, amount, method, reference)
    INNER JOIN member.members AS m ON v.cardholder_id = m.cardholder_id
    RETURNING payment_id, member_id, amount, received_on
)

INSERT INTO ppp.payment_allocations (payment_id, statement_id, member_id, amount, allocated_on)
SELECT
    p.payment_id,
    s.statement_id,
    p.member_id,
    p.amount,
    p.received_on
FROM payments AS p
INNER JOIN ppp.statements AS s ON p.member_id = s.member_id;

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

-- Billed vs collected: February 40.00 billed, 40.00 collected; March 100.00 + 90.00 = 190.00 billed,
-- 30.00 collected (15.79 %), 70.00 + 90.00 = 160.00 open, all of it past due.
SELECT results_eq(
    $$SELECT billing_month, plan_year::int, statements, participating_statements, oop_posted, amount_billed,
             amount_collected, amount_credited, amount_open, amount_past_due, collection_rate_pct
      FROM reporting.m3p_billed_vs_collected()$$,
    $$VALUES ('2025-02-01'::date, 2025, 1::bigint, 1::bigint, 40.00::numeric, 40.00::numeric, 40.00::numeric,
              0::numeric, 0.00::numeric, 0::numeric, 100.00::numeric),
             ('2025-03-01', 2025, 2, 2, 190.00, 190.00, 30.00, 0, 160.00, 160.00, 15.79)$$,
    'M3P billed vs collected by billing month'
);
SELECT results_eq(
    $$SELECT amount_open, days_past_due, in_grace_period, election_status
      FROM reporting.m3p_past_due('2025-06-15')$$,
    $$VALUES (90.00::numeric, 46, FALSE, 'terminated'), (70.00, 46, TRUE, 'opted_out')$$,
    'past due on 06-15: RPT0003 90.00 (grace period over, terminated), RPT0002 70.00 (in grace, opted out)'
);
SELECT is_empty($$SELECT * FROM reporting.m3p_past_due('2025-04-30')$$, 'nothing is past due on its due date');
SELECT results_eq(
    $$SELECT status, termination_reason, end_date, termination_notice_on, amount_open
      FROM reporting.m3p_terminations('2025-01-01', '2025-12-31')$$,
    $$VALUES ('opted_out', 'voluntary', '2025-04-30'::date, NULL::date, 70.00::numeric),
             ('terminated', 'failure_to_pay', '2025-05-31', '2025-06-01', 90.00)$$,
    'terminations: the opt-out and the termination for failure to pay, with what each member still owes'
);

SELECT * FROM finish();
ROLLBACK;
