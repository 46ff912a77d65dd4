-- Medicare Prescription Payment Plan (M3P), de-identified from the ppp tables of the M3P area: elections
-- and participation per month (participants, new elections, opt-outs, terminations, cost share moved
-- in), statements with what was paid (billed vs collected, past due), terminations. Read from the ppp
-- tables, not from the M3P area's PHI views, so neither area's repeatable files block the other's.

DROP FUNCTION IF EXISTS reporting.m3p_participation(date, date);
DROP FUNCTION IF EXISTS reporting.m3p_billed_vs_collected(date, date);
DROP FUNCTION IF EXISTS reporting.m3p_past_due(date, integer);
DROP FUNCTION IF EXISTS reporting.m3p_terminations(date, date);
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_m3p_billing;
DROP MATERIALIZED VIEW IF EXISTS reporting.m3p_statements;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_m3p_participation;
DROP MATERIALIZED VIEW IF EXISTS reporting.fact_m3p_elections;

CREATE MATERIALIZED VIEW reporting.fact_m3p_elections AS
SELECT
    reporting_private.pseudonym(k.secret, 'election', e.election_id) AS election_key,
    mk.member_key,
    e.plan_year,
    e.plan_id AS plan_key,
    e.source,
    e.received_at::date AS received_date,
    e.effective_date,
    e.end_date,
    coalesce(e.end_date, make_date(e.plan_year, 12, 31)) AS last_participation_date,
    e.status,
    e.termination_reason,
    e.termination_notice_on
FROM ppp.elections AS e
CROSS JOIN reporting_private.pseudonym_key AS k
LEFT JOIN reporting_private.member_keys AS mk ON e.member_id = mk.member_id;
CREATE UNIQUE INDEX fact_m3p_elections_key_idx ON reporting.fact_m3p_elections (election_key);
CREATE INDEX fact_m3p_elections_member_idx ON reporting.fact_m3p_elections (member_key, effective_date);
COMMENT ON MATERIALIZED VIEW reporting.fact_m3p_elections IS
'M3P elections, de-identified: one row per election with its plan year, source, participation dates and status.';
COMMENT ON COLUMN reporting.fact_m3p_elections.election_key IS 'Pseudonym of the election (keyed hash, 16 hex digits)';
COMMENT ON COLUMN reporting.fact_m3p_elections.member_key IS 'Member pseudonym (dim_member)';
COMMENT ON COLUMN reporting.fact_m3p_elections.plan_year IS 'Plan year of the election';
COMMENT ON COLUMN reporting.fact_m3p_elections.plan_key IS 'Part D plan on the effective date (dim_plan)';
COMMENT ON COLUMN reporting.fact_m3p_elections.termination_reason IS 'voluntary (opt-out) or failure_to_pay';
COMMENT ON COLUMN reporting.fact_m3p_elections.termination_notice_on IS 'Date of the termination notice';
COMMENT ON COLUMN reporting.fact_m3p_elections.source IS 'phone, web, mail, point_of_sale or renewal';
COMMENT ON COLUMN reporting.fact_m3p_elections.received_date IS 'Day the election request was received';
COMMENT ON COLUMN reporting.fact_m3p_elections.effective_date IS 'First day of participation';
COMMENT ON COLUMN reporting.fact_m3p_elections.end_date IS 'Last day of participation when it ended early (opt-out, termination); NULL = through December 31';
COMMENT ON COLUMN reporting.fact_m3p_elections.last_participation_date IS 'end_date, or December 31 of the plan year';
COMMENT ON COLUMN reporting.fact_m3p_elections.status IS 'active, opted_out, terminated (failure to pay after the grace period) or ended';

CREATE MATERIALIZED VIEW reporting.monthly_m3p_participation AS
WITH participants AS (
    SELECT
        g.m::date AS month,
        e.plan_year,
        count(DISTINCT e.member_key) AS participants
    FROM reporting.fact_m3p_elections AS e
    CROSS JOIN
        LATERAL generate_series(
            date_trunc('month', e.effective_date), date_trunc('month', e.last_participation_date), interval '1 month'
        ) AS g (m)
    GROUP BY g.m, e.plan_year
),

starts AS (
    SELECT
        date_trunc('month', e.effective_date)::date AS month,
        e.plan_year,
        count(*) AS new_elections
    FROM reporting.fact_m3p_elections AS e
    GROUP BY date_trunc('month', e.effective_date), e.plan_year
),

ends AS (
    SELECT
        date_trunc('month', e.end_date)::date AS month,
        e.plan_year,
        count(*) FILTER (WHERE e.status = 'opted_out') AS opt_outs,
        count(*) FILTER (WHERE e.status = 'terminated') AS terminations
    FROM reporting.fact_m3p_elections AS e
    WHERE e.end_date IS NOT NULL
    GROUP BY date_trunc('month', e.end_date), e.plan_year
),

claims AS (
    SELECT
        f.month,
        coalesce(sum(f.m3p_amount) FILTER (WHERE f.is_paid), 0) AS m3p_amount,
        count(*) FILTER (WHERE f.is_paid AND f.m3p_amount > 0) AS m3p_claims,
        count(*) FILTER (WHERE f.m3p_ltb_notice) AS likely_to_benefit_notices
    FROM reporting.fact_claims AS f
    WHERE f.m3p_amount > 0 OR f.m3p_ltb_notice
    GROUP BY f.month
),

months AS (
    SELECT
        p.month,
        p.plan_year
    FROM participants AS p
    UNION
    SELECT
        c.month,
        extract(YEAR FROM c.month)::smallint AS plan_year
    FROM claims AS c
)

SELECT
    mo.month,
    mo.plan_year,
    coalesce(p.participants, 0) AS participants,
    coalesce(s.new_elections, 0) AS new_elections,
    coalesce(e.opt_outs, 0) AS opt_outs,
    coalesce(e.terminations, 0) AS terminations,
    coalesce(c.m3p_amount, 0) AS m3p_amount,
    coalesce(c.m3p_claims, 0) AS m3p_claims,
    coalesce(c.likely_to_benefit_notices, 0) AS likely_to_benefit_notices
FROM months AS mo
LEFT JOIN participants AS p ON mo.month = p.month AND mo.plan_year = p.plan_year
LEFT JOIN starts AS s ON mo.month = s.month AND mo.plan_year = s.plan_year
LEFT JOIN ends AS e ON mo.month = e.month AND mo.plan_year = e.plan_year
LEFT JOIN claims AS c ON mo.month = c.month;
CREATE UNIQUE INDEX monthly_m3p_participation_key_idx ON reporting.monthly_m3p_participation (month, plan_year);
COMMENT ON MATERIALIZED VIEW reporting.monthly_m3p_participation IS
'M3P per month: participants (members participating on at least one day), new elections taking effect, opt-outs and terminations ending participation that month, and the cost share paid claims moved into the program.';
COMMENT ON COLUMN reporting.monthly_m3p_participation.month IS 'First day of the month';
COMMENT ON COLUMN reporting.monthly_m3p_participation.plan_year IS 'Plan year';
COMMENT ON COLUMN reporting.monthly_m3p_participation.participants IS 'Members participating on at least one day of the month';
COMMENT ON COLUMN reporting.monthly_m3p_participation.new_elections IS 'Elections whose first day of participation is in the month';
COMMENT ON COLUMN reporting.monthly_m3p_participation.opt_outs IS 'Elections that ended in the month because the member opted out';
COMMENT ON COLUMN reporting.monthly_m3p_participation.terminations IS 'Elections terminated in the month (failure to pay after the grace period)';
COMMENT ON COLUMN reporting.monthly_m3p_participation.m3p_amount IS 'Member cost share of net paid claims moved into the program';
COMMENT ON COLUMN reporting.monthly_m3p_participation.m3p_claims IS 'Net paid claims with an amount moved into the program';
COMMENT ON COLUMN reporting.monthly_m3p_participation.likely_to_benefit_notices IS 'Claims flagging the likely-to-benefit notice to the pharmacy';

CREATE FUNCTION reporting.m3p_participation(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31'
)
RETURNS TABLE (
    month date,
    participants bigint,
    new_elections bigint,
    opt_outs bigint,
    terminations bigint,
    m3p_amount numeric,
    m3p_claims bigint,
    likely_to_benefit_notices bigint
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        m.month,
        m.participants,
        m.new_elections,
        m.opt_outs,
        m.terminations,
        m.m3p_amount,
        m.m3p_claims,
        m.likely_to_benefit_notices
    FROM reporting.monthly_m3p_participation AS m
    WHERE m.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
    ORDER BY m.month;
END;
COMMENT ON FUNCTION reporting.m3p_participation(date, date) IS
'M3P by month (months starting in p_from..p_to): participants, new elections, opt-outs, terminations, and the cost share of paid claims moved into the program.';

CREATE MATERIALIZED VIEW reporting.m3p_statements AS
-- The M3P area's statement history (amounts paid, credited and open, status), pseudonymized.
SELECT
    reporting_private.pseudonym(k.secret, 'statement', s.statement_id) AS statement_key,
    mk.member_key,
    s.plan_year,
    s.billing_month,
    s.participating,
    s.first_month,
    s.oop_this_month,
    s.max_monthly_cap,
    s.amount_billed,
    s.amount_paid,
    s.amount_credited,
    s.amount_open,
    s.balance_after,
    s.issued_on,
    s.due_date,
    s.settled_on,
    s.past_due_notice_on,
    s.grace_period_ends_on,
    s.status
FROM ppp.statement_history AS s
CROSS JOIN reporting_private.pseudonym_key AS k
LEFT JOIN reporting_private.member_keys AS mk ON s.member_id = mk.member_id;
CREATE UNIQUE INDEX m3p_statements_key_idx ON reporting.m3p_statements (statement_key);
CREATE INDEX m3p_statements_open_idx ON reporting.m3p_statements (due_date) WHERE settled_on IS NULL;
COMMENT ON MATERIALIZED VIEW reporting.m3p_statements IS
'M3P monthly statements, de-identified: billed, paid, credited and still open, due date, past-due notice and grace period, status (settled, past_due after the notice, open) as of the last refresh.';
COMMENT ON COLUMN reporting.m3p_statements.statement_key IS 'Pseudonym of the statement (keyed hash, 16 hex digits)';
COMMENT ON COLUMN reporting.m3p_statements.member_key IS 'Member pseudonym (dim_member)';
COMMENT ON COLUMN reporting.m3p_statements.plan_year IS 'Plan year';
COMMENT ON COLUMN reporting.m3p_statements.billing_month IS 'First day of the month billed';
COMMENT ON COLUMN reporting.m3p_statements.participating IS 'The member participated during the month';
COMMENT ON COLUMN reporting.m3p_statements.first_month IS 'First statement of the member in the plan year';
COMMENT ON COLUMN reporting.m3p_statements.oop_this_month IS 'Out-of-pocket costs moved into the program and billed on the statement';
COMMENT ON COLUMN reporting.m3p_statements.max_monthly_cap IS 'Maximum monthly cap';
COMMENT ON COLUMN reporting.m3p_statements.amount_billed IS 'Amount billed';
COMMENT ON COLUMN reporting.m3p_statements.amount_paid IS 'Paid by the member so far';
COMMENT ON COLUMN reporting.m3p_statements.amount_credited IS 'Settled by reversal credits so far';
COMMENT ON COLUMN reporting.m3p_statements.amount_open IS 'Billed and not yet settled';
COMMENT ON COLUMN reporting.m3p_statements.balance_after IS 'Costs not yet billed after the statement';
COMMENT ON COLUMN reporting.m3p_statements.issued_on IS 'Issue date';
COMMENT ON COLUMN reporting.m3p_statements.due_date IS 'Payment due date';
COMMENT ON COLUMN reporting.m3p_statements.settled_on IS 'Date settled in full (NULL while open)';
COMMENT ON COLUMN reporting.m3p_statements.past_due_notice_on IS 'Date of the notice for failure to pay';
COMMENT ON COLUMN reporting.m3p_statements.grace_period_ends_on IS 'Last day of the grace period';
COMMENT ON COLUMN reporting.m3p_statements.status IS 'settled, past_due (notice sent) or open';

CREATE MATERIALIZED VIEW reporting.monthly_m3p_billing AS
SELECT
    s.billing_month,
    s.plan_year,
    count(*) AS statements,
    count(*) FILTER (WHERE s.participating) AS participating_statements,
    sum(s.oop_this_month) AS oop_posted,
    sum(s.amount_billed) AS amount_billed,
    sum(s.amount_paid) AS amount_collected,
    sum(s.amount_credited) AS amount_credited,
    sum(s.amount_open) AS amount_open,
    coalesce(sum(s.amount_open) FILTER (WHERE s.status = 'past_due'), 0) AS amount_past_due,
    round(100 * sum(s.amount_paid) / nullif(sum(s.amount_billed), 0), 2) AS collection_rate_pct
FROM reporting.m3p_statements AS s
GROUP BY s.billing_month, s.plan_year;
CREATE UNIQUE INDEX monthly_m3p_billing_key_idx ON reporting.monthly_m3p_billing (billing_month, plan_year);
COMMENT ON MATERIALIZED VIEW reporting.monthly_m3p_billing IS
'M3P billed vs collected per billing month: statements, costs posted, billed, collected (member payments), credited (reversals), still open and past due, collection rate.';
COMMENT ON COLUMN reporting.monthly_m3p_billing.billing_month IS 'First day of the month billed';
COMMENT ON COLUMN reporting.monthly_m3p_billing.plan_year IS 'Plan year';
COMMENT ON COLUMN reporting.monthly_m3p_billing.statements IS 'Statements issued';
COMMENT ON COLUMN reporting.monthly_m3p_billing.participating_statements IS 'Of which for members participating that month';
COMMENT ON COLUMN reporting.monthly_m3p_billing.oop_posted IS 'Out-of-pocket costs billed on them';
COMMENT ON COLUMN reporting.monthly_m3p_billing.amount_billed IS 'Amount billed';
COMMENT ON COLUMN reporting.monthly_m3p_billing.amount_collected IS 'Paid by members so far';
COMMENT ON COLUMN reporting.monthly_m3p_billing.amount_credited IS 'Settled by reversal credits so far';
COMMENT ON COLUMN reporting.monthly_m3p_billing.amount_open IS 'Billed and not yet settled';
COMMENT ON COLUMN reporting.monthly_m3p_billing.amount_past_due IS 'Open on statements with a past-due notice';
COMMENT ON COLUMN reporting.monthly_m3p_billing.collection_rate_pct IS '100 x collected / billed';

CREATE FUNCTION reporting.m3p_billed_vs_collected(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31'
)
RETURNS TABLE (
    billing_month date,
    plan_year smallint,
    statements bigint,
    participating_statements bigint,
    oop_posted numeric,
    amount_billed numeric,
    amount_collected numeric,
    amount_credited numeric,
    amount_open numeric,
    amount_past_due numeric,
    collection_rate_pct numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        b.billing_month,
        b.plan_year,
        b.statements,
        b.participating_statements,
        b.oop_posted,
        b.amount_billed,
        b.amount_collected,
        b.amount_credited,
        b.amount_open,
        b.amount_past_due,
        b.collection_rate_pct
    FROM reporting.monthly_m3p_billing AS b
    WHERE b.billing_month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
    ORDER BY b.billing_month ASC, b.plan_year ASC;
END;
COMMENT ON FUNCTION reporting.m3p_billed_vs_collected(date, date) IS
'M3P billed vs collected for the billing months starting in p_from..p_to: billed, collected, credited, open, past due and collection rate (payments as of the last refresh).';

CREATE FUNCTION reporting.m3p_past_due(
    p_as_of date DEFAULT current_date,
    p_limit integer DEFAULT 100
)
RETURNS TABLE (
    statement_key text,
    member_key text,
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
        s.statement_key,
        s.member_key,
        s.plan_year,
        s.billing_month,
        s.amount_billed,
        s.amount_open,
        s.due_date,
        p_as_of - s.due_date AS days_past_due,
        s.past_due_notice_on,
        s.grace_period_ends_on,
        s.grace_period_ends_on IS NULL OR p_as_of <= s.grace_period_ends_on AS in_grace_period,
        (
            SELECT e.status FROM reporting.fact_m3p_elections AS e
            WHERE e.member_key = s.member_key
            ORDER BY e.effective_date DESC
            LIMIT 1
        ) AS election_status
    FROM reporting.m3p_statements AS s
    WHERE s.settled_on IS NULL AND s.due_date < p_as_of
    ORDER BY s.due_date ASC, s.amount_open DESC, s.statement_key ASC
    LIMIT reporting.row_limit(p_limit);
END;
COMMENT ON FUNCTION reporting.m3p_past_due(date, integer) IS
'M3P statements past due on p_as_of (payments as of the last refresh): open amount, days past due, notice, whether the grace period still runs, and the member''s latest election status; oldest first, at most p_limit rows.';

CREATE FUNCTION reporting.m3p_terminations(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31'
)
RETURNS TABLE (
    election_key text,
    member_key text,
    plan_year smallint,
    status text,
    termination_reason text,
    source text,
    effective_date date,
    end_date date,
    termination_notice_on date,
    amount_open numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        e.election_key,
        e.member_key,
        e.plan_year,
        e.status,
        e.termination_reason,
        e.source,
        e.effective_date,
        e.end_date,
        e.termination_notice_on,
        (
            SELECT coalesce(sum(s.amount_open), 0) FROM reporting.m3p_statements AS s
            WHERE s.member_key = e.member_key AND s.settled_on IS NULL
        ) AS amount_open
    FROM reporting.fact_m3p_elections AS e
    WHERE e.status IN ('opted_out', 'terminated') AND e.end_date BETWEEN p_from AND p_to
    ORDER BY e.end_date ASC, e.election_key ASC;
END;
COMMENT ON FUNCTION reporting.m3p_terminations(date, date) IS
'M3P participations that ended early with an end date in p_from..p_to: opt-outs (voluntary) and terminations for failure to pay, with the termination notice date and what the member still owes.';
