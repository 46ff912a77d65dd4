-- Medicare Prescription Payment Plan (M3P): elections (pseudonymous) and participation per month:
-- participants, new elections, terminations and opt-outs, and the cost share claims moved into the plan.

DROP FUNCTION IF EXISTS reporting.m3p_participation(date, date);
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_m3p_participation;
DROP MATERIALIZED VIEW IF EXISTS reporting.fact_m3p_elections;

CREATE MATERIALIZED VIEW reporting.fact_m3p_elections AS
SELECT
    reporting_private.pseudonym(k.secret, 'election', e.election_id) AS election_key,
    mk.member_key,
    e.plan_year,
    e.source,
    e.received_at::date AS received_date,
    e.effective_date,
    e.end_date,
    coalesce(e.end_date, make_date(e.plan_year, 12, 31)) AS last_participation_date,
    e.status
FROM ppp.elections AS e
CROSS JOIN reporting_private.pseudonym_key AS k
LEFT JOIN reporting_private.member_keys AS mk ON e.member_id = mk.member_id;
CREATE UNIQUE INDEX fact_m3p_elections_key_idx ON reporting.fact_m3p_elections (election_key);
COMMENT ON MATERIALIZED VIEW reporting.fact_m3p_elections IS
'M3P elections, de-identified: one row per election with its plan year, source, participation dates and status.';
COMMENT ON COLUMN reporting.fact_m3p_elections.election_key IS 'Pseudonym of the election (keyed hash, 16 hex digits)';
COMMENT ON COLUMN reporting.fact_m3p_elections.member_key IS 'Member pseudonym (dim_member)';
COMMENT ON COLUMN reporting.fact_m3p_elections.plan_year IS 'Plan year of the election';
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
