-- Plan-level dashboards: claims cost by day and by month (with member months for PMPM), rejections by
-- reject code, and the views computed from them: cost trend with month-over-month and rolling 3-month
-- change, PMPM, generic dispensing rate, formulary compliance, rejection analysis by code. Views over a materialized view live in its file: dropping and
-- recreating the materialized view takes them along. The report functions (LANGUAGE sql BEGIN ATOMIC:
-- checked at creation, dependencies tracked) read this file's views and the dimension views only.

DROP FUNCTION IF EXISTS reporting.cost_by_period(text, date, date, text);
DROP FUNCTION IF EXISTS reporting.cost_trend(date, date, text);
DROP FUNCTION IF EXISTS reporting.pmpm(date, date, text);
DROP FUNCTION IF EXISTS reporting.generic_dispensing_rate(date, date, text);
DROP FUNCTION IF EXISTS reporting.formulary_compliance(date, date, text);
DROP FUNCTION IF EXISTS reporting.rejections_by_code(date, date, text);
DROP VIEW IF EXISTS reporting.rejections_by_code;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_reject_codes;
DROP VIEW IF EXISTS reporting.cost_trend;
DROP VIEW IF EXISTS reporting.cost_trend_by_plan;
DROP VIEW IF EXISTS reporting.pmpm;
DROP VIEW IF EXISTS reporting.generic_dispensing_rate;
DROP VIEW IF EXISTS reporting.formulary_compliance;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_plan_summary;
DROP MATERIALIZED VIEW IF EXISTS reporting.daily_plan_summary;

CREATE MATERIALIZED VIEW reporting.daily_plan_summary AS
SELECT
    f.date_key,
    f.plan_key,
    count(*) AS claims_submitted,
    count(*) FILTER (WHERE f.is_paid) AS paid_claims,
    count(*) FILTER (WHERE f.transaction_response_status = 'R') AS rejected_claims,
    count(*) FILTER (WHERE f.is_reversed) AS reversed_claims,
    count(*) FILTER (WHERE f.is_duplicate) AS duplicate_claims,
    coalesce(sum(f.gross_cost) FILTER (WHERE f.is_paid), 0) AS gross_cost,
    coalesce(sum(f.ingredient_cost_paid) FILTER (WHERE f.is_paid), 0) AS ingredient_cost,
    coalesce(sum(f.dispensing_fee_paid) FILTER (WHERE f.is_paid), 0) AS dispensing_fee,
    coalesce(sum(f.plan_paid) FILTER (WHERE f.is_paid), 0) AS plan_paid,
    coalesce(sum(f.member_paid) FILTER (WHERE f.is_paid), 0) AS member_paid,
    coalesce(sum(f.days_supply) FILTER (WHERE f.is_paid), 0) AS days_supply
FROM reporting.fact_claims AS f
GROUP BY f.date_key, f.plan_key;
CREATE UNIQUE INDEX daily_plan_summary_key_idx ON reporting.daily_plan_summary (date_key, plan_key) NULLS NOT DISTINCT;
COMMENT ON MATERIALIZED VIEW reporting.daily_plan_summary IS
'Claims and cost per day of service and plan (days without claims are absent): the source of total claims cost by day, week, month, quarter or year.';
COMMENT ON COLUMN reporting.daily_plan_summary.date_key IS 'Date of service';
COMMENT ON COLUMN reporting.daily_plan_summary.plan_key IS 'Plan (dim_plan); NULL = claims that matched no plan';
COMMENT ON COLUMN reporting.daily_plan_summary.claims_submitted IS 'B1 transactions: paid, rejected, duplicate, reversed';
COMMENT ON COLUMN reporting.daily_plan_summary.paid_claims IS 'Net paid claims (paid and not reversed)';
COMMENT ON COLUMN reporting.daily_plan_summary.rejected_claims IS 'Rejected claims (status R)';
COMMENT ON COLUMN reporting.daily_plan_summary.reversed_claims IS 'Paid claims later reversed';
COMMENT ON COLUMN reporting.daily_plan_summary.duplicate_claims IS 'Duplicates of paid claims (status D)';
COMMENT ON COLUMN reporting.daily_plan_summary.gross_cost IS 'Allowed cost of net paid claims (ingredient cost + dispensing fee = plan paid + member paid)';
COMMENT ON COLUMN reporting.daily_plan_summary.ingredient_cost IS 'Ingredient cost paid of net paid claims';
COMMENT ON COLUMN reporting.daily_plan_summary.dispensing_fee IS 'Dispensing fees paid of net paid claims';
COMMENT ON COLUMN reporting.daily_plan_summary.plan_paid IS 'Paid by the plan (NCPDP 509-F9) on net paid claims';
COMMENT ON COLUMN reporting.daily_plan_summary.member_paid IS 'Paid by members (NCPDP 505-F5) on net paid claims';
COMMENT ON COLUMN reporting.daily_plan_summary.days_supply IS 'Days supply dispensed on net paid claims';

CREATE MATERIALIZED VIEW reporting.monthly_plan_summary AS
WITH bounds AS (
    SELECT
        min(f.month) AS first_month,
        max(f.month) AS last_month
    FROM reporting.fact_claims AS f
),

claim_months AS (
    SELECT
        f.month,
        f.plan_key,
        count(*) AS claims_submitted,
        count(*) FILTER (WHERE f.is_paid) AS paid_claims,
        count(*) FILTER (WHERE f.transaction_response_status = 'R') AS rejected_claims,
        count(*) FILTER (WHERE f.is_reversed) AS reversed_claims,
        count(*) FILTER (WHERE f.is_duplicate) AS duplicate_claims,
        coalesce(sum(f.gross_cost) FILTER (WHERE f.is_paid), 0) AS gross_cost,
        coalesce(sum(f.plan_paid) FILTER (WHERE f.is_paid), 0) AS plan_paid,
        coalesce(sum(f.member_paid) FILTER (WHERE f.is_paid), 0) AS member_paid,
        coalesce(sum(f.days_supply) FILTER (WHERE f.is_paid), 0) AS days_supply,
        count(*) FILTER (WHERE f.is_paid AND d.multi_source_code = 'Y') AS generic_claims,
        count(*) FILTER (WHERE f.is_paid AND d.multi_source_code IN ('M', 'N', 'O')) AS brand_claims,
        count(*) FILTER (WHERE f.is_paid AND d.multi_source_code = 'O') AS multi_source_brand_claims,
        count(*) FILTER (WHERE f.is_paid AND d.multi_source_code IN ('M', 'N')) AS single_source_brand_claims,
        coalesce(sum(f.gross_cost) FILTER (WHERE f.is_paid AND d.multi_source_code = 'Y'), 0) AS generic_cost,
        coalesce(sum(f.gross_cost) FILTER (WHERE f.is_paid AND d.multi_source_code IN ('M', 'N', 'O')), 0)
            AS brand_cost,
        count(*) FILTER (WHERE f.is_paid AND f.on_formulary) AS formulary_claims,
        count(*) FILTER (WHERE f.is_paid AND NOT f.on_formulary) AS non_formulary_claims,
        count(*) FILTER (
            WHERE f.transaction_response_status = 'R' AND f.reject_codes && ARRAY['MR', '70']::varchar(3)[]
        ) AS non_formulary_rejects,
        count(*) FILTER (WHERE f.is_paid AND f.tier = 1) AS tier_1_claims,
        count(*) FILTER (WHERE f.is_paid AND f.tier = 2) AS tier_2_claims,
        count(*) FILTER (WHERE f.is_paid AND f.tier = 3) AS tier_3_claims,
        count(*) FILTER (WHERE f.is_paid AND f.tier = 4) AS tier_4_claims,
        count(*) FILTER (WHERE f.is_paid AND f.tier = 5) AS tier_5_claims,
        count(*) FILTER (WHERE f.is_paid AND f.tier = 6) AS tier_6_claims,
        count(DISTINCT f.member_key) FILTER (WHERE f.is_paid) AS utilizing_members
    FROM reporting.fact_claims AS f
    LEFT JOIN drug.drugs AS d ON f.drug_key = d.ndc11
    GROUP BY f.month, f.plan_key
),

-- Member months, prorated: a member covered d days of a month of n days counts d / n.
span_months AS (
    SELECT
        cs.plan_id,
        cs.member_id,
        cs.effective_date,
        cs.termination_date,
        g.m::date AS month,
        (g.m + interval '1 month - 1 day')::date AS month_end
    FROM member.coverage_spans AS cs
    CROSS JOIN bounds AS b
    CROSS JOIN LATERAL generate_series(
        greatest(date_trunc('month', cs.effective_date)::date, b.first_month),
        least(date_trunc('month', coalesce(cs.termination_date, b.last_month))::date, b.last_month),
        interval '1 month'
    ) AS g (m)
),

enrollment AS (
    SELECT
        sm.month,
        sm.plan_id AS plan_key,
        count(DISTINCT sm.member_id) AS enrolled_members,
        round(sum(
            (
                least(coalesce(sm.termination_date, sm.month_end), sm.month_end)
                - greatest(sm.effective_date, sm.month) + 1
            )::numeric / (sm.month_end - sm.month + 1)
        ), 4) AS member_months
    FROM span_months AS sm
    GROUP BY sm.month, sm.plan_id
),

calendar AS (
    SELECT g.m::date AS month
    FROM bounds AS b
    CROSS JOIN LATERAL generate_series(b.first_month, b.last_month, interval '1 month') AS g (m)
),

plans AS (
    SELECT cm.plan_key FROM claim_months AS cm
    UNION
    SELECT e.plan_key FROM enrollment AS e
)

SELECT
    cal.month,
    p.plan_key,
    coalesce(cm.claims_submitted, 0) AS claims_submitted,
    coalesce(cm.paid_claims, 0) AS paid_claims,
    coalesce(cm.rejected_claims, 0) AS rejected_claims,
    coalesce(cm.reversed_claims, 0) AS reversed_claims,
    coalesce(cm.duplicate_claims, 0) AS duplicate_claims,
    coalesce(cm.gross_cost, 0) AS gross_cost,
    coalesce(cm.plan_paid, 0) AS plan_paid,
    coalesce(cm.member_paid, 0) AS member_paid,
    coalesce(cm.days_supply, 0) AS days_supply,
    coalesce(cm.generic_claims, 0) AS generic_claims,
    coalesce(cm.brand_claims, 0) AS brand_claims,
    coalesce(cm.multi_source_brand_claims, 0) AS multi_source_brand_claims,
    coalesce(cm.single_source_brand_claims, 0) AS single_source_brand_claims,
    coalesce(cm.generic_cost, 0) AS generic_cost,
    coalesce(cm.brand_cost, 0) AS brand_cost,
    coalesce(cm.formulary_claims, 0) AS formulary_claims,
    coalesce(cm.non_formulary_claims, 0) AS non_formulary_claims,
    coalesce(cm.non_formulary_rejects, 0) AS non_formulary_rejects,
    coalesce(cm.tier_1_claims, 0) AS tier_1_claims,
    coalesce(cm.tier_2_claims, 0) AS tier_2_claims,
    coalesce(cm.tier_3_claims, 0) AS tier_3_claims,
    coalesce(cm.tier_4_claims, 0) AS tier_4_claims,
    coalesce(cm.tier_5_claims, 0) AS tier_5_claims,
    coalesce(cm.tier_6_claims, 0) AS tier_6_claims,
    coalesce(cm.utilizing_members, 0) AS utilizing_members,
    coalesce(e.enrolled_members, 0) AS enrolled_members,
    coalesce(e.member_months, 0) AS member_months
FROM calendar AS cal
CROSS JOIN plans AS p
LEFT JOIN claim_months AS cm ON cal.month = cm.month AND p.plan_key IS NOT DISTINCT FROM cm.plan_key
LEFT JOIN enrollment AS e ON cal.month = e.month AND p.plan_key = e.plan_key;
CREATE UNIQUE INDEX monthly_plan_summary_key_idx ON reporting.monthly_plan_summary (month, plan_key) NULLS NOT DISTINCT;
COMMENT ON MATERIALIZED VIEW reporting.monthly_plan_summary IS
'Claims, cost, brand/generic split, formulary use and enrollment per month and plan: every month from the first to the last month of service in fact_claims, for every plan with claims or coverage (zeros where there were none), so window functions over months see no gaps.';
COMMENT ON COLUMN reporting.monthly_plan_summary.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_plan_summary.plan_key IS 'Plan (dim_plan); NULL = claims that matched no plan';
COMMENT ON COLUMN reporting.monthly_plan_summary.claims_submitted IS 'B1 transactions: paid, rejected, duplicate, reversed';
COMMENT ON COLUMN reporting.monthly_plan_summary.paid_claims IS 'Net paid claims (paid and not reversed)';
COMMENT ON COLUMN reporting.monthly_plan_summary.rejected_claims IS 'Rejected claims (status R)';
COMMENT ON COLUMN reporting.monthly_plan_summary.reversed_claims IS 'Paid claims later reversed';
COMMENT ON COLUMN reporting.monthly_plan_summary.duplicate_claims IS 'Duplicates of paid claims (status D)';
COMMENT ON COLUMN reporting.monthly_plan_summary.gross_cost IS 'Allowed cost of net paid claims (plan paid + member paid)';
COMMENT ON COLUMN reporting.monthly_plan_summary.plan_paid IS 'Paid by the plan on net paid claims';
COMMENT ON COLUMN reporting.monthly_plan_summary.member_paid IS 'Paid by members on net paid claims';
COMMENT ON COLUMN reporting.monthly_plan_summary.days_supply IS 'Days supply of net paid claims';
COMMENT ON COLUMN reporting.monthly_plan_summary.generic_claims IS 'Net paid claims for generics (MONY Y)';
COMMENT ON COLUMN reporting.monthly_plan_summary.brand_claims IS 'Net paid claims for brands (MONY M, N, O)';
COMMENT ON COLUMN reporting.monthly_plan_summary.multi_source_brand_claims IS 'Net paid claims for brands with generics available (MONY O)';
COMMENT ON COLUMN reporting.monthly_plan_summary.single_source_brand_claims IS 'Net paid claims for single-source brands (MONY M, N)';
COMMENT ON COLUMN reporting.monthly_plan_summary.generic_cost IS 'Allowed cost of net paid generic claims';
COMMENT ON COLUMN reporting.monthly_plan_summary.brand_cost IS 'Allowed cost of net paid brand claims';
COMMENT ON COLUMN reporting.monthly_plan_summary.formulary_claims IS 'Net paid claims for drugs on the plan''s formulary on the date of service';
COMMENT ON COLUMN reporting.monthly_plan_summary.non_formulary_claims IS 'Net paid claims for drugs not on it (exceptions, transition fills)';
COMMENT ON COLUMN reporting.monthly_plan_summary.non_formulary_rejects IS 'Claims rejected MR (not on formulary) or 70 (not covered)';
COMMENT ON COLUMN reporting.monthly_plan_summary.tier_1_claims IS 'Net paid claims priced at tier 1';
COMMENT ON COLUMN reporting.monthly_plan_summary.tier_2_claims IS 'Net paid claims priced at tier 2';
COMMENT ON COLUMN reporting.monthly_plan_summary.tier_3_claims IS 'Net paid claims priced at tier 3';
COMMENT ON COLUMN reporting.monthly_plan_summary.tier_4_claims IS 'Net paid claims priced at tier 4';
COMMENT ON COLUMN reporting.monthly_plan_summary.tier_5_claims IS 'Net paid claims priced at tier 5';
COMMENT ON COLUMN reporting.monthly_plan_summary.tier_6_claims IS 'Net paid claims priced at tier 6';
COMMENT ON COLUMN reporting.monthly_plan_summary.utilizing_members IS 'Members with at least one net paid claim in the month (not additive across months or plans)';
COMMENT ON COLUMN reporting.monthly_plan_summary.enrolled_members IS 'Members covered by the plan on at least one day of the month';
COMMENT ON COLUMN reporting.monthly_plan_summary.member_months IS 'Member months, prorated: each member counts covered days / days in the month';

CREATE VIEW reporting.cost_trend AS
WITH months AS (
    SELECT
        s.month,
        sum(s.paid_claims)::bigint AS paid_claims,
        sum(s.gross_cost) AS gross_cost,
        sum(s.plan_paid) AS plan_paid,
        sum(s.member_paid) AS member_paid,
        sum(s.member_months) AS member_months
    FROM reporting.monthly_plan_summary AS s
    GROUP BY s.month
),

windowed AS (
    SELECT
        m.*,
        lag(m.gross_cost) OVER (ORDER BY m.month) AS previous_gross_cost,
        CASE WHEN count(*) OVER w3 = 3 THEN sum(m.gross_cost) OVER w3 END AS rolling_3m_cost
    FROM months AS m
    WINDOW w3 AS (ORDER BY m.month ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
),

compared AS (
    SELECT
        w.*,
        lag(w.rolling_3m_cost) OVER (ORDER BY w.month) AS previous_rolling_3m_cost
    FROM windowed AS w
)

SELECT
    c.month,
    c.paid_claims,
    c.gross_cost,
    c.plan_paid,
    c.member_paid,
    c.member_months,
    round(c.gross_cost / nullif(c.member_months, 0), 2) AS gross_pmpm,
    c.gross_cost - c.previous_gross_cost AS mom_change,
    round(100 * (c.gross_cost - c.previous_gross_cost) / nullif(c.previous_gross_cost, 0), 2) AS mom_change_pct,
    c.rolling_3m_cost,
    round(c.rolling_3m_cost / 3, 2) AS rolling_3m_avg_cost,
    c.rolling_3m_cost - c.previous_rolling_3m_cost AS rolling_3m_change,
    round(100 * (c.rolling_3m_cost - c.previous_rolling_3m_cost) / nullif(c.previous_rolling_3m_cost, 0), 2)
        AS rolling_3m_change_pct
FROM compared AS c;
COMMENT ON VIEW reporting.cost_trend IS
'Monthly cost trend over all plans: allowed cost, month-over-month change, and the rolling 3-month cost (this month and the two before) with its change from the previous month''s rolling 3 months. Filter months after the view has computed them, so the first month shown keeps its comparison.';
COMMENT ON COLUMN reporting.cost_trend.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.cost_trend.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.cost_trend.gross_cost IS 'Allowed cost of net paid claims';
COMMENT ON COLUMN reporting.cost_trend.plan_paid IS 'Paid by the plans';
COMMENT ON COLUMN reporting.cost_trend.member_paid IS 'Paid by members';
COMMENT ON COLUMN reporting.cost_trend.member_months IS 'Prorated member months of all plans';
COMMENT ON COLUMN reporting.cost_trend.gross_pmpm IS 'Allowed cost per member per month: gross_cost / member_months';
COMMENT ON COLUMN reporting.cost_trend.mom_change IS 'gross_cost minus the previous month''s (NULL for the first month)';
COMMENT ON COLUMN reporting.cost_trend.mom_change_pct IS 'mom_change as a percentage of the previous month''s cost (NULL when that was 0)';
COMMENT ON COLUMN reporting.cost_trend.rolling_3m_cost IS 'Cost of this month and the two before (NULL until three months exist)';
COMMENT ON COLUMN reporting.cost_trend.rolling_3m_avg_cost IS 'rolling_3m_cost / 3: average monthly cost over the three months';
COMMENT ON COLUMN reporting.cost_trend.rolling_3m_change IS 'rolling_3m_cost minus the previous month''s rolling_3m_cost';
COMMENT ON COLUMN reporting.cost_trend.rolling_3m_change_pct IS 'rolling_3m_change as a percentage of the previous rolling_3m_cost';

CREATE VIEW reporting.cost_trend_by_plan AS
WITH windowed AS (
    SELECT
        s.month,
        s.plan_key,
        s.paid_claims,
        s.gross_cost,
        s.plan_paid,
        s.member_paid,
        s.member_months,
        lag(s.gross_cost) OVER (PARTITION BY s.plan_key ORDER BY s.month) AS previous_gross_cost,
        CASE WHEN count(*) OVER w3 = 3 THEN sum(s.gross_cost) OVER w3 END AS rolling_3m_cost
    FROM reporting.monthly_plan_summary AS s
    WINDOW w3 AS (PARTITION BY s.plan_key ORDER BY s.month ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
),

compared AS (
    SELECT
        w.*,
        lag(w.rolling_3m_cost) OVER (PARTITION BY w.plan_key ORDER BY w.month) AS previous_rolling_3m_cost
    FROM windowed AS w
)

SELECT
    c.month,
    c.plan_key,
    p.plan_code,
    c.paid_claims,
    c.gross_cost,
    c.plan_paid,
    c.member_paid,
    c.member_months,
    round(c.gross_cost / nullif(c.member_months, 0), 2) AS gross_pmpm,
    c.gross_cost - c.previous_gross_cost AS mom_change,
    round(100 * (c.gross_cost - c.previous_gross_cost) / nullif(c.previous_gross_cost, 0), 2) AS mom_change_pct,
    c.rolling_3m_cost,
    round(c.rolling_3m_cost / 3, 2) AS rolling_3m_avg_cost,
    c.rolling_3m_cost - c.previous_rolling_3m_cost AS rolling_3m_change,
    round(100 * (c.rolling_3m_cost - c.previous_rolling_3m_cost) / nullif(c.previous_rolling_3m_cost, 0), 2)
        AS rolling_3m_change_pct
FROM compared AS c
LEFT JOIN plan.plans AS p ON c.plan_key = p.plan_id;
COMMENT ON VIEW reporting.cost_trend_by_plan IS
'Monthly cost trend per plan, as reporting.cost_trend (month-over-month and rolling 3-month change) within each plan.';
COMMENT ON COLUMN reporting.cost_trend_by_plan.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.cost_trend_by_plan.plan_key IS 'Plan (dim_plan); NULL = claims that matched no plan';
COMMENT ON COLUMN reporting.cost_trend_by_plan.plan_code IS 'Plan code';
COMMENT ON COLUMN reporting.cost_trend_by_plan.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.cost_trend_by_plan.gross_cost IS 'Allowed cost of net paid claims';
COMMENT ON COLUMN reporting.cost_trend_by_plan.plan_paid IS 'Paid by the plan';
COMMENT ON COLUMN reporting.cost_trend_by_plan.member_paid IS 'Paid by members';
COMMENT ON COLUMN reporting.cost_trend_by_plan.member_months IS 'Prorated member months';
COMMENT ON COLUMN reporting.cost_trend_by_plan.gross_pmpm IS 'Allowed cost per member per month';
COMMENT ON COLUMN reporting.cost_trend_by_plan.mom_change IS 'gross_cost minus the plan''s previous month';
COMMENT ON COLUMN reporting.cost_trend_by_plan.mom_change_pct IS 'mom_change as a percentage of the previous month';
COMMENT ON COLUMN reporting.cost_trend_by_plan.rolling_3m_cost IS 'Cost of this month and the two before (NULL until three months exist)';
COMMENT ON COLUMN reporting.cost_trend_by_plan.rolling_3m_avg_cost IS 'rolling_3m_cost / 3';
COMMENT ON COLUMN reporting.cost_trend_by_plan.rolling_3m_change IS 'rolling_3m_cost minus the previous month''s rolling_3m_cost';
COMMENT ON COLUMN reporting.cost_trend_by_plan.rolling_3m_change_pct IS 'rolling_3m_change as a percentage of the previous rolling_3m_cost';

CREATE VIEW reporting.pmpm AS
SELECT
    s.month,
    s.plan_key,
    p.plan_code,
    s.enrolled_members,
    s.member_months,
    s.paid_claims,
    s.gross_cost,
    s.plan_paid,
    s.member_paid,
    round(s.gross_cost / nullif(s.member_months, 0), 2) AS gross_pmpm,
    round(s.plan_paid / nullif(s.member_months, 0), 2) AS plan_paid_pmpm,
    round(s.member_paid / nullif(s.member_months, 0), 2) AS member_paid_pmpm,
    round(1000 * s.paid_claims / nullif(s.member_months, 0), 1) AS claims_per_1000_member_months
FROM reporting.monthly_plan_summary AS s
LEFT JOIN plan.plans AS p ON s.plan_key = p.plan_id;
COMMENT ON VIEW reporting.pmpm IS
'Per-member-per-month cost by plan and month: cost of net paid claims divided by prorated member months.';
COMMENT ON COLUMN reporting.pmpm.month IS 'First day of the month';
COMMENT ON COLUMN reporting.pmpm.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.pmpm.plan_code IS 'Plan code';
COMMENT ON COLUMN reporting.pmpm.enrolled_members IS 'Members covered on at least one day of the month';
COMMENT ON COLUMN reporting.pmpm.member_months IS 'Prorated member months (covered days / days in month, summed)';
COMMENT ON COLUMN reporting.pmpm.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.pmpm.gross_cost IS 'Allowed cost of net paid claims';
COMMENT ON COLUMN reporting.pmpm.plan_paid IS 'Paid by the plan';
COMMENT ON COLUMN reporting.pmpm.member_paid IS 'Paid by members';
COMMENT ON COLUMN reporting.pmpm.gross_pmpm IS 'gross_cost / member_months (NULL without member months)';
COMMENT ON COLUMN reporting.pmpm.plan_paid_pmpm IS 'plan_paid / member_months';
COMMENT ON COLUMN reporting.pmpm.member_paid_pmpm IS 'member_paid / member_months';
COMMENT ON COLUMN reporting.pmpm.claims_per_1000_member_months IS 'Utilization: net paid claims per 1,000 member months';

CREATE VIEW reporting.generic_dispensing_rate AS
SELECT
    s.month,
    s.plan_key,
    p.plan_code,
    s.paid_claims,
    s.generic_claims,
    s.brand_claims,
    s.multi_source_brand_claims,
    s.single_source_brand_claims,
    round(100.0 * s.generic_claims / nullif(s.generic_claims + s.brand_claims, 0), 2) AS generic_dispensing_rate_pct,
    s.generic_cost,
    s.brand_cost,
    round(100 * s.generic_cost / nullif(s.generic_cost + s.brand_cost, 0), 2) AS generic_cost_share_pct
FROM reporting.monthly_plan_summary AS s
LEFT JOIN plan.plans AS p ON s.plan_key = p.plan_id;
COMMENT ON VIEW reporting.generic_dispensing_rate IS
'Generic dispensing rate (GDR) by plan and month: generic net paid claims / (generic + brand net paid claims), with the brand split and the generic share of cost.';
COMMENT ON COLUMN reporting.generic_dispensing_rate.month IS 'First day of the month';
COMMENT ON COLUMN reporting.generic_dispensing_rate.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.generic_dispensing_rate.plan_code IS 'Plan code';
COMMENT ON COLUMN reporting.generic_dispensing_rate.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.generic_dispensing_rate.generic_claims IS 'Net paid generic claims (MONY Y)';
COMMENT ON COLUMN reporting.generic_dispensing_rate.brand_claims IS 'Net paid brand claims (MONY M, N, O)';
COMMENT ON COLUMN reporting.generic_dispensing_rate.multi_source_brand_claims IS 'Brands with generics available (MONY O)';
COMMENT ON COLUMN reporting.generic_dispensing_rate.single_source_brand_claims IS 'Single-source brands (MONY M, N)';
COMMENT ON COLUMN reporting.generic_dispensing_rate.generic_dispensing_rate_pct IS '100 x generic / (generic + brand) claims';
COMMENT ON COLUMN reporting.generic_dispensing_rate.generic_cost IS 'Allowed cost of generic claims';
COMMENT ON COLUMN reporting.generic_dispensing_rate.brand_cost IS 'Allowed cost of brand claims';
COMMENT ON COLUMN reporting.generic_dispensing_rate.generic_cost_share_pct IS '100 x generic cost / (generic + brand cost)';

CREATE VIEW reporting.formulary_compliance AS
SELECT
    s.month,
    s.plan_key,
    p.plan_code,
    s.claims_submitted,
    s.paid_claims,
    s.formulary_claims,
    s.non_formulary_claims,
    round(100.0 * s.formulary_claims / nullif(s.formulary_claims + s.non_formulary_claims, 0), 2)
        AS formulary_compliance_pct,
    s.non_formulary_rejects,
    round(100.0 * s.non_formulary_rejects / nullif(s.claims_submitted, 0), 2) AS non_formulary_reject_pct,
    s.tier_1_claims,
    s.tier_2_claims,
    s.tier_3_claims,
    s.tier_4_claims,
    s.tier_5_claims,
    s.tier_6_claims
FROM reporting.monthly_plan_summary AS s
LEFT JOIN plan.plans AS p ON s.plan_key = p.plan_id;
COMMENT ON VIEW reporting.formulary_compliance IS
'Formulary compliance by plan and month: share of net paid claims for drugs on the plan''s formulary on the date of service, claims rejected as non-formulary (MR, 70), and paid claims by tier.';
COMMENT ON COLUMN reporting.formulary_compliance.month IS 'First day of the month';
COMMENT ON COLUMN reporting.formulary_compliance.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.formulary_compliance.plan_code IS 'Plan code';
COMMENT ON COLUMN reporting.formulary_compliance.claims_submitted IS 'B1 transactions';
COMMENT ON COLUMN reporting.formulary_compliance.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.formulary_compliance.formulary_claims IS 'Net paid claims for formulary drugs';
COMMENT ON COLUMN reporting.formulary_compliance.non_formulary_claims IS 'Net paid claims for drugs not on the formulary';
COMMENT ON COLUMN reporting.formulary_compliance.formulary_compliance_pct IS '100 x formulary / (formulary + non-formulary) net paid claims';
COMMENT ON COLUMN reporting.formulary_compliance.non_formulary_rejects IS 'Claims rejected MR or 70';
COMMENT ON COLUMN reporting.formulary_compliance.non_formulary_reject_pct IS '100 x non-formulary rejects / claims submitted';
COMMENT ON COLUMN reporting.formulary_compliance.tier_1_claims IS 'Net paid claims at tier 1';
COMMENT ON COLUMN reporting.formulary_compliance.tier_2_claims IS 'Net paid claims at tier 2';
COMMENT ON COLUMN reporting.formulary_compliance.tier_3_claims IS 'Net paid claims at tier 3';
COMMENT ON COLUMN reporting.formulary_compliance.tier_4_claims IS 'Net paid claims at tier 4';
COMMENT ON COLUMN reporting.formulary_compliance.tier_5_claims IS 'Net paid claims at tier 5';
COMMENT ON COLUMN reporting.formulary_compliance.tier_6_claims IS 'Net paid claims at tier 6';

CREATE FUNCTION reporting.cost_by_period(
    p_period text DEFAULT 'month',
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    period_start date,
    claims_submitted bigint,
    paid_claims bigint,
    rejected_claims bigint,
    gross_cost numeric,
    ingredient_cost numeric,
    dispensing_fee numeric,
    plan_paid numeric,
    member_paid numeric,
    cost_per_claim numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT
            reporting.period_unit(p_period) AS unit,
            reporting.plan_key(p_plan) AS plan_key
    )

    SELECT
        date_trunc(sel.unit, s.date_key)::date AS period_start,
        sum(s.claims_submitted)::bigint AS claims_submitted,
        sum(s.paid_claims)::bigint AS paid_claims,
        sum(s.rejected_claims)::bigint AS rejected_claims,
        sum(s.gross_cost) AS gross_cost,
        sum(s.ingredient_cost) AS ingredient_cost,
        sum(s.dispensing_fee) AS dispensing_fee,
        sum(s.plan_paid) AS plan_paid,
        sum(s.member_paid) AS member_paid,
        round(sum(s.gross_cost) / nullif(sum(s.paid_claims), 0), 2) AS cost_per_claim
    FROM reporting.daily_plan_summary AS s
    CROSS JOIN selected AS sel
    WHERE
        s.date_key BETWEEN p_from AND p_to
        AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
    GROUP BY date_trunc(sel.unit, s.date_key)
    ORDER BY period_start;
END;
COMMENT ON FUNCTION reporting.cost_by_period(text, date, date, text) IS
'Total claims cost by period: per day, week (ISO, from Monday), month, quarter or year starting in p_from..p_to (dates of service), claims and allowed, ingredient, fee, plan and member amounts of net paid claims; p_plan a plan code or NULL for all plans. Periods without claims are absent.';

CREATE FUNCTION reporting.cost_trend(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    month date,
    paid_claims bigint,
    gross_cost numeric,
    member_months numeric,
    gross_pmpm numeric,
    mom_change numeric,
    mom_change_pct numeric,
    rolling_3m_cost numeric,
    rolling_3m_avg_cost numeric,
    rolling_3m_change numeric,
    rolling_3m_change_pct numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    ),

    trend AS (
        SELECT
            t.month,
            t.paid_claims,
            t.gross_cost,
            t.member_months,
            t.gross_pmpm,
            t.mom_change,
            t.mom_change_pct,
            t.rolling_3m_cost,
            t.rolling_3m_avg_cost,
            t.rolling_3m_change,
            t.rolling_3m_change_pct
        FROM reporting.cost_trend AS t
        CROSS JOIN selected AS sel
        WHERE sel.plan_key IS NULL
        UNION ALL
        SELECT
            t.month,
            t.paid_claims,
            t.gross_cost,
            t.member_months,
            t.gross_pmpm,
            t.mom_change,
            t.mom_change_pct,
            t.rolling_3m_cost,
            t.rolling_3m_avg_cost,
            t.rolling_3m_change,
            t.rolling_3m_change_pct
        FROM reporting.cost_trend_by_plan AS t
        INNER JOIN selected AS sel ON t.plan_key = sel.plan_key
    )

    SELECT
        tr.month,
        tr.paid_claims,
        tr.gross_cost,
        tr.member_months,
        tr.gross_pmpm,
        tr.mom_change,
        tr.mom_change_pct,
        tr.rolling_3m_cost,
        tr.rolling_3m_avg_cost,
        tr.rolling_3m_change,
        tr.rolling_3m_change_pct
    FROM trend AS tr
    WHERE tr.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
    ORDER BY tr.month;
END;
COMMENT ON FUNCTION reporting.cost_trend(date, date, text) IS
'Cost trend by month (months starting in p_from..p_to): allowed cost, PMPM, month-over-month change and rolling 3-month cost with its change, for all plans together (p_plan NULL) or one plan. Comparisons reach back before p_from.';

CREATE FUNCTION reporting.pmpm(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    month date,
    enrolled_members bigint,
    member_months numeric,
    paid_claims bigint,
    gross_cost numeric,
    plan_paid numeric,
    member_paid numeric,
    gross_pmpm numeric,
    plan_paid_pmpm numeric,
    member_paid_pmpm numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    )

    SELECT
        s.month,
        sum(s.enrolled_members)::bigint AS enrolled_members,
        sum(s.member_months) AS member_months,
        sum(s.paid_claims)::bigint AS paid_claims,
        sum(s.gross_cost) AS gross_cost,
        sum(s.plan_paid) AS plan_paid,
        sum(s.member_paid) AS member_paid,
        round(sum(s.gross_cost) / nullif(sum(s.member_months), 0), 2) AS gross_pmpm,
        round(sum(s.plan_paid) / nullif(sum(s.member_months), 0), 2) AS plan_paid_pmpm,
        round(sum(s.member_paid) / nullif(sum(s.member_months), 0), 2) AS member_paid_pmpm
    FROM reporting.monthly_plan_summary AS s
    CROSS JOIN selected AS sel
    WHERE
        s.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
        AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
    GROUP BY s.month
    ORDER BY s.month;
END;
COMMENT ON FUNCTION reporting.pmpm(date, date, text) IS
'Per-member-per-month cost by month (months starting in p_from..p_to): cost of net paid claims / prorated member months, for all plans together (p_plan NULL) or one plan.';

CREATE FUNCTION reporting.generic_dispensing_rate(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    month date,
    paid_claims bigint,
    generic_claims bigint,
    brand_claims bigint,
    multi_source_brand_claims bigint,
    single_source_brand_claims bigint,
    generic_dispensing_rate_pct numeric,
    generic_cost numeric,
    brand_cost numeric,
    generic_cost_share_pct numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    )

    SELECT
        s.month,
        sum(s.paid_claims)::bigint AS paid_claims,
        sum(s.generic_claims)::bigint AS generic_claims,
        sum(s.brand_claims)::bigint AS brand_claims,
        sum(s.multi_source_brand_claims)::bigint AS multi_source_brand_claims,
        sum(s.single_source_brand_claims)::bigint AS single_source_brand_claims,
        round(100.0 * sum(s.generic_claims) / nullif(sum(s.generic_claims + s.brand_claims), 0), 2)
            AS generic_dispensing_rate_pct,
        sum(s.generic_cost) AS generic_cost,
        sum(s.brand_cost) AS brand_cost,
        round(100 * sum(s.generic_cost) / nullif(sum(s.generic_cost + s.brand_cost), 0), 2) AS generic_cost_share_pct
    FROM reporting.monthly_plan_summary AS s
    CROSS JOIN selected AS sel
    WHERE
        s.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
        AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
    GROUP BY s.month
    ORDER BY s.month;
END;
COMMENT ON FUNCTION reporting.generic_dispensing_rate(date, date, text) IS
'Generic dispensing rate by month (months starting in p_from..p_to): generic / (generic + brand) net paid claims, with the brand split and cost shares, for all plans together (p_plan NULL) or one plan.';

CREATE FUNCTION reporting.formulary_compliance(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    plan_code text,
    claims_submitted bigint,
    paid_claims bigint,
    formulary_claims bigint,
    non_formulary_claims bigint,
    formulary_compliance_pct numeric,
    non_formulary_rejects bigint,
    non_formulary_reject_pct numeric,
    tier_1_claims bigint,
    tier_2_claims bigint,
    tier_3_claims bigint,
    tier_4_claims bigint,
    tier_5_claims bigint,
    tier_6_claims bigint
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    )

    SELECT
        p.plan_code,
        sum(s.claims_submitted)::bigint AS claims_submitted,
        sum(s.paid_claims)::bigint AS paid_claims,
        sum(s.formulary_claims)::bigint AS formulary_claims,
        sum(s.non_formulary_claims)::bigint AS non_formulary_claims,
        round(100.0 * sum(s.formulary_claims) / nullif(sum(s.formulary_claims + s.non_formulary_claims), 0), 2)
            AS formulary_compliance_pct,
        sum(s.non_formulary_rejects)::bigint AS non_formulary_rejects,
        round(100.0 * sum(s.non_formulary_rejects) / nullif(sum(s.claims_submitted), 0), 2) AS non_formulary_reject_pct,
        sum(s.tier_1_claims)::bigint AS tier_1_claims,
        sum(s.tier_2_claims)::bigint AS tier_2_claims,
        sum(s.tier_3_claims)::bigint AS tier_3_claims,
        sum(s.tier_4_claims)::bigint AS tier_4_claims,
        sum(s.tier_5_claims)::bigint AS tier_5_claims,
        sum(s.tier_6_claims)::bigint AS tier_6_claims
    FROM reporting.monthly_plan_summary AS s
    INNER JOIN reporting.dim_plan AS p ON s.plan_key = p.plan_key
    CROSS JOIN selected AS sel
    WHERE
        s.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
        AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
    GROUP BY p.plan_code
    ORDER BY p.plan_code;
END;
COMMENT ON FUNCTION reporting.formulary_compliance(date, date, text) IS
'Formulary compliance by plan over the months starting in p_from..p_to: share of net paid claims for formulary drugs, non-formulary rejects (MR, 70) and paid claims by tier; one plan (p_plan) or every plan.';

-- Rejection analysis by reject code. A claim with several reject codes counts once under each.
CREATE MATERIALIZED VIEW reporting.monthly_reject_codes AS
SELECT
    f.month,
    f.plan_key,
    r.reject_code::varchar(3) AS reject_code,
    count(*) AS rejected_claims,
    count(*) FILTER (WHERE r.position = 1) AS first_code_claims
FROM reporting.fact_claims AS f
CROSS JOIN LATERAL unnest(f.reject_codes) WITH ORDINALITY AS r (reject_code, position)
WHERE f.transaction_response_status = 'R'
GROUP BY f.month, f.plan_key, r.reject_code;
CREATE UNIQUE INDEX monthly_reject_codes_key_idx ON reporting.monthly_reject_codes (
    month, plan_key, reject_code
) NULLS NOT DISTINCT;
COMMENT ON MATERIALIZED VIEW reporting.monthly_reject_codes IS
'Rejected claims per month, plan and reject code (a claim with several codes counts under each).';
COMMENT ON COLUMN reporting.monthly_reject_codes.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_reject_codes.plan_key IS 'Plan (dim_plan); NULL = claims that matched no plan';
COMMENT ON COLUMN reporting.monthly_reject_codes.reject_code IS 'NCPDP 511-FB Reject Code (dim_reject_code)';
COMMENT ON COLUMN reporting.monthly_reject_codes.rejected_claims IS 'Rejected claims carrying the code';
COMMENT ON COLUMN reporting.monthly_reject_codes.first_code_claims IS 'Rejected claims whose first (earliest edit) code it is';

CREATE VIEW reporting.rejections_by_code AS
SELECT
    r.month,
    r.plan_key,
    p.plan_code,
    r.reject_code,
    c.description,
    r.rejected_claims,
    r.first_code_claims,
    round(100.0 * r.rejected_claims / nullif(s.rejected_claims, 0), 2) AS share_of_rejected_pct,
    round(100.0 * r.rejected_claims / nullif(s.claims_submitted, 0), 2) AS share_of_submitted_pct
FROM reporting.monthly_reject_codes AS r
INNER JOIN reporting.monthly_plan_summary AS s ON r.month = s.month AND r.plan_key IS NOT DISTINCT FROM s.plan_key
LEFT JOIN ref.reject_codes AS c ON r.reject_code = c.code
LEFT JOIN plan.plans AS p ON r.plan_key = p.plan_id;
COMMENT ON VIEW reporting.rejections_by_code IS
'Rejections by reject code, plan and month with the code''s description and its share of the plan''s rejected and submitted claims.';
COMMENT ON COLUMN reporting.rejections_by_code.month IS 'First day of the month';
COMMENT ON COLUMN reporting.rejections_by_code.plan_key IS 'Plan (dim_plan); NULL = claims that matched no plan';
COMMENT ON COLUMN reporting.rejections_by_code.plan_code IS 'Plan code';
COMMENT ON COLUMN reporting.rejections_by_code.reject_code IS 'NCPDP 511-FB Reject Code';
COMMENT ON COLUMN reporting.rejections_by_code.description IS 'What the code means';
COMMENT ON COLUMN reporting.rejections_by_code.rejected_claims IS 'Rejected claims carrying the code';
COMMENT ON COLUMN reporting.rejections_by_code.first_code_claims IS 'Rejected claims whose first code it is';
COMMENT ON COLUMN reporting.rejections_by_code.share_of_rejected_pct IS '100 x rejected_claims / all rejected claims of the plan and month';
COMMENT ON COLUMN reporting.rejections_by_code.share_of_submitted_pct IS '100 x rejected_claims / claims submitted to the plan that month';

CREATE FUNCTION reporting.rejections_by_code(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    reject_code varchar(3),
    description text,
    rejected_claims bigint,
    first_code_claims bigint,
    share_of_rejected_pct numeric,
    share_of_submitted_pct numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    ),

    in_range AS (
        SELECT r.*
        FROM reporting.monthly_reject_codes AS r
        CROSS JOIN selected AS sel
        WHERE
            r.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
            AND (sel.plan_key IS NULL OR r.plan_key = sel.plan_key)
    ),

    totals AS (
        SELECT
            sum(s.rejected_claims) AS claims_rejected,
            sum(s.claims_submitted) AS claims_submitted
        FROM reporting.monthly_plan_summary AS s
        CROSS JOIN selected AS sel
        WHERE
            s.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
            AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
    )

    SELECT
        i.reject_code,
        c.description,
        sum(i.rejected_claims)::bigint AS rejected_claims,
        sum(i.first_code_claims)::bigint AS first_code_claims,
        round(100.0 * sum(i.rejected_claims) / max(t.claims_rejected), 2) AS share_of_rejected_pct,
        round(100.0 * sum(i.rejected_claims) / max(t.claims_submitted), 2) AS share_of_submitted_pct
    FROM in_range AS i
    CROSS JOIN totals AS t
    LEFT JOIN reporting.dim_reject_code AS c ON i.reject_code = c.reject_code
    GROUP BY i.reject_code, c.description
    ORDER BY rejected_claims DESC, i.reject_code ASC;
END;
COMMENT ON FUNCTION reporting.rejections_by_code(date, date, text) IS
'Rejection analysis by reject code over the months starting in p_from..p_to (all plans or p_plan): rejected claims carrying each code, claims where it was the first code, and shares of all rejected and all submitted claims.';
