-- Member-level dashboards (pseudonymous): members with more than 3 paid claims within 30 days, and
-- utilization per member and year with a summary by age band, gender and utilization band.
-- Demographics come from member.members through the owner-only pseudonym map (never from dim_member,
-- another file's materialized view). Report functions read this file's views and dimension views.

DROP FUNCTION IF EXISTS reporting.frequent_claimants(date, date, integer);
DROP FUNCTION IF EXISTS reporting.member_utilization(integer, text);
DROP FUNCTION IF EXISTS reporting.member_utilization_by_age(integer, text);
DROP MATERIALIZED VIEW IF EXISTS reporting.member_claim_bursts;
DROP MATERIALIZED VIEW IF EXISTS reporting.member_utilization_summary;
DROP MATERIALIZED VIEW IF EXISTS reporting.member_utilization;

-- For every day a member had a net paid claim: the paid claims of the 30 days ending that day
-- (that day and the 29 before); kept where there are more than 3.
CREATE MATERIALIZED VIEW reporting.member_claim_bursts AS
WITH member_days AS (
    SELECT
        f.member_key,
        f.date_key,
        count(*) AS paid_claims,
        sum(f.gross_cost) AS gross_cost
    FROM reporting.fact_claims AS f
    WHERE f.is_paid AND f.member_key IS NOT NULL
    GROUP BY f.member_key, f.date_key
),

windows AS (
    SELECT
        md.member_key,
        md.date_key AS window_end,
        sum(md.paid_claims) OVER w AS claims_in_window,
        sum(md.gross_cost) OVER w AS gross_cost_in_window
    FROM member_days AS md
    WINDOW
        w AS (
            PARTITION BY md.member_key ORDER BY md.date_key RANGE BETWEEN INTERVAL '29 days' PRECEDING AND CURRENT ROW
        )
)

SELECT
    w.member_key,
    w.window_end - 29 AS window_start,
    w.window_end,
    w.claims_in_window::integer AS claims_in_window,
    w.gross_cost_in_window,
    reporting.age_band(m.date_of_birth, w.window_end) AS age_band,
    m.gender,
    m.state
FROM windows AS w
INNER JOIN reporting_private.member_keys AS mk ON w.member_key = mk.member_key
INNER JOIN member.members AS m ON mk.member_id = m.member_id
WHERE w.claims_in_window > 3;
CREATE UNIQUE INDEX member_claim_bursts_key_idx ON reporting.member_claim_bursts (member_key, window_end);
CREATE INDEX member_claim_bursts_window_end_idx ON reporting.member_claim_bursts (window_end);
COMMENT ON MATERIALIZED VIEW reporting.member_claim_bursts IS
'Members with more than 3 net paid claims within 30 days: one row per member and day of service ending a 30-day window (that day and the 29 before) holding 4 or more net paid claims.';
COMMENT ON COLUMN reporting.member_claim_bursts.member_key IS 'Member pseudonym (dim_member)';
COMMENT ON COLUMN reporting.member_claim_bursts.window_start IS 'First day of the 30-day window (window_end - 29)';
COMMENT ON COLUMN reporting.member_claim_bursts.window_end IS 'Last day of the window: a day the member had a net paid claim';
COMMENT ON COLUMN reporting.member_claim_bursts.claims_in_window IS 'Net paid claims in the window (more than 3)';
COMMENT ON COLUMN reporting.member_claim_bursts.gross_cost_in_window IS 'Their allowed cost';
COMMENT ON COLUMN reporting.member_claim_bursts.age_band IS 'Age band on window_end (90+ grouped)';
COMMENT ON COLUMN reporting.member_claim_bursts.gender IS 'M, F or U';
COMMENT ON COLUMN reporting.member_claim_bursts.state IS 'State of residence (current)';

CREATE MATERIALIZED VIEW reporting.member_utilization AS
WITH bounds AS (
    SELECT
        min(extract(YEAR FROM f.date_key))::integer AS first_year,
        max(extract(YEAR FROM f.date_key))::integer AS last_year
    FROM reporting.fact_claims AS f
),

claimed AS (
    SELECT
        extract(YEAR FROM f.date_key)::smallint AS year,
        f.plan_key,
        f.member_key,
        count(*) AS paid_claims,
        sum(f.gross_cost) AS gross_cost,
        sum(f.plan_paid) AS plan_paid,
        sum(f.member_paid) AS member_paid,
        sum(f.days_supply) AS days_supply,
        count(*) FILTER (WHERE d.multi_source_code = 'Y') AS generic_claims,
        count(DISTINCT d.drug_group) AS drug_groups,
        count(DISTINCT f.pharmacy_key) AS pharmacies,
        count(DISTINCT f.prescriber_npi) AS prescribers,
        count(DISTINCT f.month) AS months_with_claims,
        min(f.date_key) AS first_fill,
        max(f.date_key) AS last_fill
    FROM reporting.fact_claims AS f
    LEFT JOIN drug.drugs AS d ON f.drug_key = d.ndc11
    WHERE f.is_paid AND f.member_key IS NOT NULL
    GROUP BY extract(YEAR FROM f.date_key), f.plan_key, f.member_key
),

enrolled AS (
    SELECT DISTINCT
        y.year::smallint AS year,
        cs.plan_id AS plan_key,
        mk.member_key
    FROM member.coverage_spans AS cs
    INNER JOIN reporting_private.member_keys AS mk ON cs.member_id = mk.member_id
    CROSS JOIN bounds AS b
    CROSS JOIN LATERAL generate_series(
        greatest(extract(YEAR FROM cs.effective_date)::integer, b.first_year),
        least(coalesce(extract(YEAR FROM cs.termination_date)::integer, b.last_year), b.last_year)
    ) AS y (year)
),

members AS (
    SELECT
        coalesce(c.year, e.year) AS year,
        coalesce(c.plan_key, e.plan_key) AS plan_key,
        coalesce(c.member_key, e.member_key) AS member_key,
        coalesce(c.paid_claims, 0) AS paid_claims,
        coalesce(c.gross_cost, 0) AS gross_cost,
        coalesce(c.plan_paid, 0) AS plan_paid,
        coalesce(c.member_paid, 0) AS member_paid,
        coalesce(c.days_supply, 0) AS days_supply,
        coalesce(c.generic_claims, 0) AS generic_claims,
        coalesce(c.drug_groups, 0) AS drug_groups,
        coalesce(c.pharmacies, 0) AS pharmacies,
        coalesce(c.prescribers, 0) AS prescribers,
        coalesce(c.months_with_claims, 0) AS months_with_claims,
        c.first_fill,
        c.last_fill
    FROM claimed AS c
    FULL JOIN enrolled AS e
        ON c.year = e.year AND c.plan_key IS NOT DISTINCT FROM e.plan_key AND c.member_key = e.member_key
)

SELECT
    u.year,
    u.plan_key,
    u.member_key,
    reporting.age_band(m.date_of_birth, make_date(u.year, 12, 31)) AS age_band,
    m.gender,
    u.paid_claims,
    CASE
        WHEN u.paid_claims = 0 THEN '0'
        WHEN u.paid_claims <= 2 THEN '1-2'
        WHEN u.paid_claims <= 5 THEN '3-5'
        WHEN u.paid_claims <= 11 THEN '6-11'
        WHEN u.paid_claims <= 23 THEN '12-23'
        ELSE '24+'
    END AS utilization_band,
    u.gross_cost,
    u.plan_paid,
    u.member_paid,
    u.days_supply,
    u.generic_claims,
    u.drug_groups,
    u.pharmacies,
    u.prescribers,
    u.months_with_claims,
    u.first_fill,
    u.last_fill,
    u.drug_groups >= 5 AS is_polypharmacy,
    u.pharmacies >= 3 AS uses_3_or_more_pharmacies
FROM members AS u
INNER JOIN reporting_private.member_keys AS mk ON u.member_key = mk.member_key
INNER JOIN member.members AS m ON mk.member_id = m.member_id;
CREATE UNIQUE INDEX member_utilization_key_idx ON reporting.member_utilization (
    year, plan_key, member_key
) NULLS NOT DISTINCT;
CREATE INDEX member_utilization_cost_idx ON reporting.member_utilization (year, gross_cost DESC);
COMMENT ON MATERIALIZED VIEW reporting.member_utilization IS
'Utilization per member, plan and calendar year (pseudonymous): net paid claims, cost, drug groups, pharmacies, prescribers; members enrolled in the plan that year without claims are included with zeros.';
COMMENT ON COLUMN reporting.member_utilization.year IS 'Calendar year of service';
COMMENT ON COLUMN reporting.member_utilization.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.member_utilization.member_key IS 'Member pseudonym (dim_member)';
COMMENT ON COLUMN reporting.member_utilization.age_band IS 'Age band on December 31 of the year (90+ grouped)';
COMMENT ON COLUMN reporting.member_utilization.gender IS 'M, F or U';
COMMENT ON COLUMN reporting.member_utilization.paid_claims IS 'Net paid claims in the year';
COMMENT ON COLUMN reporting.member_utilization.utilization_band IS 'Paid claims in the year: 0, 1-2, 3-5, 6-11, 12-23, 24+';
COMMENT ON COLUMN reporting.member_utilization.gross_cost IS 'Allowed cost';
COMMENT ON COLUMN reporting.member_utilization.plan_paid IS 'Paid by the plan';
COMMENT ON COLUMN reporting.member_utilization.member_paid IS 'Paid by the member';
COMMENT ON COLUMN reporting.member_utilization.days_supply IS 'Days supply dispensed';
COMMENT ON COLUMN reporting.member_utilization.generic_claims IS 'Net paid generic claims';
COMMENT ON COLUMN reporting.member_utilization.drug_groups IS 'Distinct drug groups (ingredient, strength, form) filled';
COMMENT ON COLUMN reporting.member_utilization.pharmacies IS 'Distinct pharmacies used';
COMMENT ON COLUMN reporting.member_utilization.prescribers IS 'Distinct prescribers';
COMMENT ON COLUMN reporting.member_utilization.months_with_claims IS 'Months with at least one net paid claim';
COMMENT ON COLUMN reporting.member_utilization.first_fill IS 'First day of service in the year';
COMMENT ON COLUMN reporting.member_utilization.last_fill IS 'Last day of service in the year';
COMMENT ON COLUMN reporting.member_utilization.is_polypharmacy IS '5 or more distinct drug groups in the year';
COMMENT ON COLUMN reporting.member_utilization.uses_3_or_more_pharmacies IS '3 or more distinct pharmacies in the year';

CREATE MATERIALIZED VIEW reporting.member_utilization_summary AS
SELECT
    u.year,
    u.plan_key,
    u.age_band,
    u.gender,
    u.utilization_band,
    count(*) AS members,
    sum(u.paid_claims)::bigint AS paid_claims,
    sum(u.gross_cost) AS gross_cost,
    round(avg(u.paid_claims), 2) AS avg_claims_per_member,
    round(avg(u.gross_cost), 2) AS avg_cost_per_member,
    count(*) FILTER (WHERE u.is_polypharmacy) AS polypharmacy_members,
    count(*) FILTER (WHERE u.uses_3_or_more_pharmacies) AS multi_pharmacy_members
FROM reporting.member_utilization AS u
GROUP BY u.year, u.plan_key, u.age_band, u.gender, u.utilization_band;
CREATE UNIQUE INDEX member_utilization_summary_key_idx ON reporting.member_utilization_summary (
    year, plan_key, age_band, gender, utilization_band
) NULLS NOT DISTINCT;
COMMENT ON MATERIALIZED VIEW reporting.member_utilization_summary IS
'Member utilization patterns per year and plan: members, claims and cost by age band, gender and utilization band, with polypharmacy (5+ drug groups) and multi-pharmacy (3+ pharmacies) counts.';
COMMENT ON COLUMN reporting.member_utilization_summary.year IS 'Calendar year';
COMMENT ON COLUMN reporting.member_utilization_summary.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.member_utilization_summary.age_band IS 'Age band on December 31';
COMMENT ON COLUMN reporting.member_utilization_summary.gender IS 'M, F or U';
COMMENT ON COLUMN reporting.member_utilization_summary.utilization_band IS 'Paid claims in the year: 0, 1-2, 3-5, 6-11, 12-23, 24+';
COMMENT ON COLUMN reporting.member_utilization_summary.members IS 'Members';
COMMENT ON COLUMN reporting.member_utilization_summary.paid_claims IS 'Their net paid claims';
COMMENT ON COLUMN reporting.member_utilization_summary.gross_cost IS 'Their allowed cost';
COMMENT ON COLUMN reporting.member_utilization_summary.avg_claims_per_member IS 'paid_claims / members';
COMMENT ON COLUMN reporting.member_utilization_summary.avg_cost_per_member IS 'gross_cost / members';
COMMENT ON COLUMN reporting.member_utilization_summary.polypharmacy_members IS 'Members with 5 or more drug groups';
COMMENT ON COLUMN reporting.member_utilization_summary.multi_pharmacy_members IS 'Members using 3 or more pharmacies';

CREATE FUNCTION reporting.frequent_claimants(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_limit integer DEFAULT 100
)
RETURNS TABLE (
    member_key text,
    max_claims_in_30_days integer,
    first_window_end date,
    last_window_end date,
    flagged_days bigint,
    max_cost_in_30_days numeric,
    age_band text,
    gender char(1),
    state char(2)
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        b.member_key,
        max(b.claims_in_window) AS max_claims_in_30_days,
        min(b.window_end) AS first_window_end,
        max(b.window_end) AS last_window_end,
        count(*) AS flagged_days,
        max(b.gross_cost_in_window) AS max_cost_in_30_days,
        (array_agg(b.age_band ORDER BY b.window_end DESC))[1] AS age_band,
        (array_agg(b.gender ORDER BY b.window_end DESC))[1] AS gender,
        (array_agg(b.state ORDER BY b.window_end DESC))[1] AS state
    FROM reporting.member_claim_bursts AS b
    WHERE b.window_end BETWEEN p_from AND p_to
    GROUP BY b.member_key
    ORDER BY max_claims_in_30_days DESC, b.member_key ASC
    LIMIT reporting.row_limit(p_limit);
END;
COMMENT ON FUNCTION reporting.frequent_claimants(date, date, integer) IS
'Members with more than 3 net paid claims within 30 days, for windows ending in p_from..p_to: the most claims in any 30-day window, the first and last such window ends, how many days ended such a window, the most cost in one window; most claims first, at most p_limit rows.';

CREATE FUNCTION reporting.member_utilization(
    p_year integer DEFAULT NULL,
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    utilization_band text,
    members bigint,
    members_pct numeric,
    paid_claims bigint,
    gross_cost numeric,
    cost_pct numeric,
    avg_claims_per_member numeric,
    avg_cost_per_member numeric,
    polypharmacy_members bigint,
    multi_pharmacy_members bigint
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    ),

    bands AS (
        SELECT
            s.utilization_band,
            sum(s.members)::bigint AS members,
            sum(s.paid_claims)::bigint AS paid_claims,
            sum(s.gross_cost) AS gross_cost,
            sum(s.polypharmacy_members)::bigint AS polypharmacy_members,
            sum(s.multi_pharmacy_members)::bigint AS multi_pharmacy_members
        FROM reporting.member_utilization_summary AS s
        CROSS JOIN selected AS sel
        WHERE
            (p_year IS NULL OR s.year = p_year)
            AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
        GROUP BY s.utilization_band
    )

    SELECT
        b.utilization_band,
        b.members,
        round(100.0 * b.members / sum(b.members) OVER (), 2) AS members_pct,
        b.paid_claims,
        b.gross_cost,
        round(100 * b.gross_cost / nullif(sum(b.gross_cost) OVER (), 0), 2) AS cost_pct,
        round(b.paid_claims::numeric / b.members, 2) AS avg_claims_per_member,
        round(b.gross_cost / b.members, 2) AS avg_cost_per_member,
        b.polypharmacy_members,
        b.multi_pharmacy_members
    FROM bands AS b
    ORDER BY array_position(ARRAY['0', '1-2', '3-5', '6-11', '12-23', '24+'], b.utilization_band);
END;
COMMENT ON FUNCTION reporting.member_utilization(integer, text) IS
'Member utilization patterns for year p_year (NULL: every year, each member-year counted) and plan p_plan (NULL: all): members by paid claims in the year (0, 1-2, 3-5, 6-11, 12-23, 24+) with their share of members and cost, averages, polypharmacy (5+ drug groups) and multi-pharmacy (3+ pharmacies) members.';

CREATE FUNCTION reporting.member_utilization_by_age(
    p_year integer DEFAULT NULL,
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    age_band text,
    gender char(1),
    members bigint,
    utilizing_members bigint,
    paid_claims bigint,
    gross_cost numeric,
    avg_claims_per_member numeric,
    avg_cost_per_member numeric,
    polypharmacy_members bigint
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    )

    SELECT
        s.age_band,
        s.gender,
        sum(s.members)::bigint AS members,
        coalesce(sum(s.members) FILTER (WHERE s.utilization_band <> '0'), 0)::bigint AS utilizing_members,
        sum(s.paid_claims)::bigint AS paid_claims,
        sum(s.gross_cost) AS gross_cost,
        round(sum(s.paid_claims)::numeric / sum(s.members), 2) AS avg_claims_per_member,
        round(sum(s.gross_cost) / sum(s.members), 2) AS avg_cost_per_member,
        sum(s.polypharmacy_members)::bigint AS polypharmacy_members
    FROM reporting.member_utilization_summary AS s
    CROSS JOIN selected AS sel
    WHERE
        (p_year IS NULL OR s.year = p_year)
        AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
    GROUP BY s.age_band, s.gender
    ORDER BY s.age_band, s.gender;
END;
COMMENT ON FUNCTION reporting.member_utilization_by_age(integer, text) IS
'Member utilization by age band (on December 31) and gender for year p_year (NULL: every year) and plan p_plan (NULL: all): members, members with claims, claims, cost and averages per member.';
