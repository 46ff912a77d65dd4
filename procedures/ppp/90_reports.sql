-- M3P reports: views in ppp (PHI: member ids; the reporting schema publishes de-identified versions).

CREATE OR REPLACE VIEW ppp.participants_by_month AS
SELECT
    m.month::date AS month,
    e.plan_year,
    count(DISTINCT e.member_id) AS participants,
    count(*) FILTER (WHERE date_trunc('month', e.effective_date) = m.month) AS periods_started,
    count(*) FILTER (
        WHERE date_trunc('month', e.effective_date) = m.month AND e.source = 'renewal'
    ) AS renewed,
    count(*) FILTER (WHERE e.status = 'opted_out' AND date_trunc('month', e.end_date) = m.month) AS opted_out,
    count(*) FILTER (WHERE e.status = 'terminated' AND date_trunc('month', e.end_date) = m.month) AS terminated
FROM ppp.elections AS e
CROSS JOIN
    LATERAL generate_series(
        date_trunc('month', e.effective_date),
        date_trunc('month', coalesce(e.end_date, make_date(e.plan_year, 12, 31))),
        interval '1 month'
    ) AS m (month)
GROUP BY m.month, e.plan_year;
COMMENT ON VIEW ppp.participants_by_month IS
'M3P participation by calendar month: members participating at some point of the month, periods started (of which renewals), opt-outs and terminations for failure to pay taking effect that month.';

CREATE OR REPLACE VIEW ppp.statement_history AS
WITH a AS (
    SELECT
        pa.statement_id,
        sum(pa.amount) FILTER (WHERE p.payment_type = 'payment') AS paid,
        sum(pa.amount) FILTER (WHERE p.payment_type = 'credit') AS credited
    FROM ppp.payment_allocations AS pa
    INNER JOIN ppp.payments AS p ON pa.payment_id = p.payment_id
    GROUP BY pa.statement_id
)

SELECT
    s.member_id,
    s.plan_year,
    s.billing_month,
    s.statement_id,
    s.issued_on,
    s.due_date,
    s.participating,
    s.first_month,
    s.incurred_before_election,
    s.balance_before,
    s.oop_this_month,
    s.months_remaining,
    s.max_monthly_cap,
    s.amount_billed,
    s.credit_amount,
    s.balance_after,
    coalesce(a.paid, 0) AS amount_paid,
    coalesce(a.credited, 0) AS amount_credited,
    s.amount_billed - s.amount_settled AS amount_open,
    s.settled_on,
    s.past_due_notice_on,
    s.grace_period_ends_on,
    CASE
        WHEN s.settled_on IS NOT NULL THEN 'settled'
        WHEN s.past_due_notice_on IS NOT NULL THEN 'past_due'
        ELSE 'open'
    END AS status
FROM ppp.statements AS s
LEFT JOIN a ON s.statement_id = a.statement_id;
COMMENT ON VIEW ppp.statement_history IS
'Every M3P statement of every member with what was paid and credited against it and its status (settled, past_due after the notice, open); filter on member_id and order by billing_month for one member''s history.';

CREATE OR REPLACE VIEW ppp.billed_vs_collected AS
SELECT
    h.billing_month,
    h.plan_year,
    count(*) AS statements,
    count(*) FILTER (WHERE h.participating) AS participants,
    sum(h.oop_this_month) AS oop_posted,
    sum(h.amount_billed) AS amount_billed,
    sum(h.amount_paid) AS amount_collected,
    sum(h.amount_credited) AS amount_credited,
    sum(h.amount_open) AS amount_open,
    sum(h.amount_open) FILTER (WHERE h.status = 'past_due') AS amount_past_due,
    round(sum(h.amount_paid) / nullif(sum(h.amount_billed), 0), 4) AS collection_rate
FROM ppp.statement_history AS h
GROUP BY h.billing_month, h.plan_year;
COMMENT ON VIEW ppp.billed_vs_collected IS
'M3P billed vs collected by billing month: amounts billed, collected (member payments), credited (reversals), still open and past due, and the collection rate.';

CREATE OR REPLACE FUNCTION ppp.past_due_as_of(p_as_of date)
RETURNS TABLE (
    member_id bigint,
    statement_id bigint,
    plan_year smallint,
    billing_month date,
    amount_billed numeric,
    amount_open numeric,
    due_date date,
    days_past_due integer,
    past_due_notice_on date,
    grace_period_ends_on date,
    in_grace_period boolean,
    election_status text
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        s.member_id,
        s.statement_id,
        s.plan_year,
        s.billing_month,
        s.amount_billed,
        s.amount_billed - s.amount_settled AS amount_open,
        s.due_date,
        arg.as_of - s.due_date AS days_past_due,
        s.past_due_notice_on,
        s.grace_period_ends_on,
        s.grace_period_ends_on IS NULL OR arg.as_of <= s.grace_period_ends_on AS in_grace_period,
        (
            SELECT e.status FROM ppp.elections AS e
            WHERE e.member_id = s.member_id
            ORDER BY e.effective_date DESC
            LIMIT 1
        ) AS election_status
    FROM (SELECT p_as_of AS as_of) AS arg
    INNER JOIN ppp.statements AS s ON arg.as_of > s.due_date
    WHERE s.settled_on IS NULL
    ORDER BY s.due_date ASC, s.member_id ASC;
END;
COMMENT ON FUNCTION ppp.past_due_as_of(date) IS
'M3P statements past due on p_as_of: open amount, days past due, notice and grace period, and the member''s latest election status.';

CREATE OR REPLACE VIEW ppp.past_due AS
SELECT * FROM ppp.past_due_as_of(current_date);
COMMENT ON VIEW ppp.past_due IS 'M3P statements past due today (ppp.past_due_as_of(current_date)).';

CREATE OR REPLACE VIEW ppp.terminations AS
SELECT
    e.election_id,
    e.member_id,
    e.plan_year,
    e.status,
    e.termination_reason,
    e.source,
    e.effective_date,
    e.end_date,
    e.termination_requested_at,
    e.termination_notice_on,
    e.terminated_for_statement_id,
    s.due_date AS unpaid_statement_due_date,
    s.past_due_notice_on,
    s.grace_period_ends_on,
    exists(
        SELECT 1 FROM ppp.preclusions AS p
        WHERE p.election_id = e.election_id
    ) AS precluded_next_year,
    ppp.amount_owed(e.member_id) AS amount_owed_now
FROM ppp.elections AS e
LEFT JOIN ppp.statements AS s ON e.terminated_for_statement_id = s.statement_id
WHERE e.status IN ('opted_out', 'terminated');
COMMENT ON VIEW ppp.terminations IS
'M3P participations that ended early: opt-outs (with when the request arrived) and terminations for failure to pay (with the unpaid statement, its past-due notice and grace period, the termination notice date and whether the member is precluded next year), and what each member still owes.';
