-- Drug-level dashboards. monthly_drug_summary (month, plan, drug) is the finest grain; smaller summaries
-- computed from it keep every dashboard query to a few thousand rows at 10 million claims: all plans per
-- month and drug, per plan year and drug with its rank, per month and therapeutic class, per month and
-- brand/generic category, and running totals per drug (all plans, and per plan): the totals of any range
-- of months are the running totals at its last month minus those at the month before its first, two
-- index lookups of one row per drug instead of a sum over every month. Reports: top drugs overall and by plan, spend by therapeutic class, generic vs
-- brand utilization, brand-to-generic savings, rejections by drug. Report functions read this file's views
-- and the dimension views only.

DROP FUNCTION IF EXISTS reporting.top_drugs(date, date, text, integer);
DROP FUNCTION IF EXISTS reporting.top_drugs_by_plan(date, date, integer);
DROP FUNCTION IF EXISTS reporting.top_drugs_by_plan(integer, integer);
DROP FUNCTION IF EXISTS reporting.therapeutic_class_spend(date, date, text);
DROP FUNCTION IF EXISTS reporting.generic_brand_utilization(date, date, text);
DROP FUNCTION IF EXISTS reporting.brand_generic_savings(date, date, text, integer);
DROP FUNCTION IF EXISTS reporting.rejections_by_drug(date, date, integer);
DROP VIEW IF EXISTS reporting.generic_brand_utilization;
DROP VIEW IF EXISTS reporting.therapeutic_class_spend;
DROP VIEW IF EXISTS reporting.brand_generic_savings;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_drug_reject_codes;
DROP MATERIALIZED VIEW IF EXISTS reporting.plan_drug_running_totals;
DROP MATERIALIZED VIEW IF EXISTS reporting.drug_running_totals;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_category_summary;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_class_summary;
DROP MATERIALIZED VIEW IF EXISTS reporting.yearly_plan_drug_ranks;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_drug_totals;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_drug_summary;

CREATE MATERIALIZED VIEW reporting.monthly_drug_summary AS
SELECT
    f.month,
    f.plan_key,
    f.drug_key,
    count(*) AS claims_submitted,
    count(*) FILTER (WHERE f.is_paid) AS paid_claims,
    count(*) FILTER (WHERE f.transaction_response_status = 'R') AS rejected_claims,
    coalesce(sum(f.quantity_dispensed) FILTER (WHERE f.is_paid), 0) AS units,
    coalesce(sum(f.days_supply) FILTER (WHERE f.is_paid), 0) AS days_supply,
    coalesce(sum(f.gross_cost) FILTER (WHERE f.is_paid), 0) AS gross_cost,
    coalesce(sum(f.plan_paid) FILTER (WHERE f.is_paid), 0) AS plan_paid,
    coalesce(sum(f.member_paid) FILTER (WHERE f.is_paid), 0) AS member_paid,
    coalesce(sum(f.brand_penalty_amount) FILTER (WHERE f.is_paid), 0) AS brand_penalty,
    count(*) FILTER (WHERE f.is_paid AND f.daw_code = 1) AS daw_prescriber_claims,
    count(*) FILTER (WHERE f.is_paid AND f.daw_code = 2) AS daw_patient_claims
FROM reporting.fact_claims AS f
GROUP BY f.month, f.plan_key, f.drug_key;
CREATE UNIQUE INDEX monthly_drug_summary_key_idx ON reporting.monthly_drug_summary (
    month, plan_key, drug_key
) NULLS NOT DISTINCT;
CREATE INDEX monthly_drug_summary_plan_idx ON reporting.monthly_drug_summary (plan_key, month);
COMMENT ON MATERIALIZED VIEW reporting.monthly_drug_summary IS
'Claims, units, days supply and cost per month, plan and drug (NDC-11), the finest drug grain of the dashboards; the smaller summaries below are computed from it.';
COMMENT ON COLUMN reporting.monthly_drug_summary.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_drug_summary.plan_key IS 'Plan (dim_plan); NULL = claims that matched no plan';
COMMENT ON COLUMN reporting.monthly_drug_summary.drug_key IS 'NDC-11 (dim_drug); NULL = products not in the catalog';
COMMENT ON COLUMN reporting.monthly_drug_summary.claims_submitted IS 'B1 transactions';
COMMENT ON COLUMN reporting.monthly_drug_summary.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.monthly_drug_summary.rejected_claims IS 'Rejected claims';
COMMENT ON COLUMN reporting.monthly_drug_summary.units IS 'Quantity dispensed on net paid claims (in the drug''s unit of measure)';
COMMENT ON COLUMN reporting.monthly_drug_summary.days_supply IS 'Days supply of net paid claims';
COMMENT ON COLUMN reporting.monthly_drug_summary.gross_cost IS 'Allowed cost of net paid claims';
COMMENT ON COLUMN reporting.monthly_drug_summary.plan_paid IS 'Paid by the plan';
COMMENT ON COLUMN reporting.monthly_drug_summary.member_paid IS 'Paid by members';
COMMENT ON COLUMN reporting.monthly_drug_summary.brand_penalty IS 'Brand penalties (NCPDP 519-FJ) members paid';
COMMENT ON COLUMN reporting.monthly_drug_summary.daw_prescriber_claims IS 'Net paid claims with DAW 1 (substitution not allowed by prescriber)';
COMMENT ON COLUMN reporting.monthly_drug_summary.daw_patient_claims IS 'Net paid claims with DAW 2 (patient requested the brand)';


CREATE MATERIALIZED VIEW reporting.monthly_drug_totals AS
SELECT
    s.month,
    s.drug_key,
    sum(s.claims_submitted)::bigint AS claims_submitted,
    sum(s.paid_claims)::bigint AS paid_claims,
    sum(s.rejected_claims)::bigint AS rejected_claims,
    sum(s.units) AS units,
    sum(s.days_supply)::bigint AS days_supply,
    sum(s.gross_cost) AS gross_cost,
    sum(s.plan_paid) AS plan_paid,
    sum(s.member_paid) AS member_paid,
    sum(s.daw_prescriber_claims)::bigint AS daw_prescriber_claims,
    sum(s.daw_patient_claims)::bigint AS daw_patient_claims
FROM reporting.monthly_drug_summary AS s
GROUP BY s.month, s.drug_key;
CREATE UNIQUE INDEX monthly_drug_totals_key_idx ON reporting.monthly_drug_totals (month, drug_key) NULLS NOT DISTINCT;
COMMENT ON MATERIALIZED VIEW reporting.monthly_drug_totals IS
'Claims, units, days supply and cost per month and drug over all plans (monthly_drug_summary without the plan).';
COMMENT ON COLUMN reporting.monthly_drug_totals.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_drug_totals.drug_key IS 'NDC-11 (dim_drug); NULL = products not in the catalog';
COMMENT ON COLUMN reporting.monthly_drug_totals.claims_submitted IS 'B1 transactions';
COMMENT ON COLUMN reporting.monthly_drug_totals.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.monthly_drug_totals.rejected_claims IS 'Rejected claims';
COMMENT ON COLUMN reporting.monthly_drug_totals.units IS 'Quantity dispensed on net paid claims';
COMMENT ON COLUMN reporting.monthly_drug_totals.days_supply IS 'Days supply of net paid claims';
COMMENT ON COLUMN reporting.monthly_drug_totals.gross_cost IS 'Allowed cost of net paid claims';
COMMENT ON COLUMN reporting.monthly_drug_totals.plan_paid IS 'Paid by the plans';
COMMENT ON COLUMN reporting.monthly_drug_totals.member_paid IS 'Paid by members';
COMMENT ON COLUMN reporting.monthly_drug_totals.daw_prescriber_claims IS 'Net paid claims with DAW 1';
COMMENT ON COLUMN reporting.monthly_drug_totals.daw_patient_claims IS 'Net paid claims with DAW 2';

CREATE MATERIALIZED VIEW reporting.drug_running_totals AS
WITH bounds AS (
    SELECT
        min(t.month) AS first_month,
        max(t.month) AS last_month
    FROM reporting.monthly_drug_totals AS t
),

calendar AS (
    SELECT g.m::date AS month
    FROM bounds AS b
    CROSS JOIN LATERAL generate_series(b.first_month, b.last_month, interval '1 month') AS g (m)
),

drugs AS (
    SELECT DISTINCT t.drug_key
    FROM reporting.monthly_drug_totals AS t
    WHERE t.drug_key IS NOT NULL
)

SELECT
    c.month,
    d.drug_key,
    (sum(coalesce(t.claims_submitted, 0)) OVER w)::bigint AS claims_submitted,
    (sum(coalesce(t.paid_claims, 0)) OVER w)::bigint AS paid_claims,
    (sum(coalesce(t.rejected_claims, 0)) OVER w)::bigint AS rejected_claims,
    sum(coalesce(t.units, 0)) OVER w AS units,
    (sum(coalesce(t.days_supply, 0)) OVER w)::bigint AS days_supply,
    sum(coalesce(t.gross_cost, 0)) OVER w AS gross_cost,
    sum(coalesce(t.plan_paid, 0)) OVER w AS plan_paid,
    sum(coalesce(t.member_paid, 0)) OVER w AS member_paid,
    (sum(coalesce(t.daw_prescriber_claims, 0)) OVER w)::bigint AS daw_prescriber_claims,
    (sum(coalesce(t.daw_patient_claims, 0)) OVER w)::bigint AS daw_patient_claims
FROM calendar AS c
CROSS JOIN drugs AS d
LEFT JOIN reporting.monthly_drug_totals AS t ON c.month = t.month AND d.drug_key = t.drug_key
WINDOW w AS (PARTITION BY d.drug_key ORDER BY c.month);
CREATE UNIQUE INDEX drug_running_totals_key_idx ON reporting.drug_running_totals (month, drug_key);
COMMENT ON MATERIALIZED VIEW reporting.drug_running_totals IS
'Running totals per drug over all plans: for every month from the first to the last month of service and every catalog drug with claims, the totals from the first month through that one. Totals of months a..b = row of b minus row of the month before a.';
COMMENT ON COLUMN reporting.drug_running_totals.month IS 'The month the totals run through (first day)';
COMMENT ON COLUMN reporting.drug_running_totals.drug_key IS 'NDC-11 (dim_drug)';
COMMENT ON COLUMN reporting.drug_running_totals.claims_submitted IS 'B1 transactions so far';
COMMENT ON COLUMN reporting.drug_running_totals.paid_claims IS 'Net paid claims so far';
COMMENT ON COLUMN reporting.drug_running_totals.rejected_claims IS 'Rejected claims so far';
COMMENT ON COLUMN reporting.drug_running_totals.units IS 'Quantity dispensed so far';
COMMENT ON COLUMN reporting.drug_running_totals.days_supply IS 'Days supply so far';
COMMENT ON COLUMN reporting.drug_running_totals.gross_cost IS 'Allowed cost so far';
COMMENT ON COLUMN reporting.drug_running_totals.plan_paid IS 'Paid by the plans so far';
COMMENT ON COLUMN reporting.drug_running_totals.member_paid IS 'Paid by members so far';
COMMENT ON COLUMN reporting.drug_running_totals.daw_prescriber_claims IS 'Net paid DAW 1 claims so far';
COMMENT ON COLUMN reporting.drug_running_totals.daw_patient_claims IS 'Net paid DAW 2 claims so far';

CREATE MATERIALIZED VIEW reporting.plan_drug_running_totals AS
WITH bounds AS (
    SELECT
        min(s.month) AS first_month,
        max(s.month) AS last_month
    FROM reporting.monthly_drug_summary AS s
),

calendar AS (
    SELECT g.m::date AS month
    FROM bounds AS b
    CROSS JOIN LATERAL generate_series(b.first_month, b.last_month, interval '1 month') AS g (m)
),

pairs AS (
    SELECT DISTINCT
        s.plan_key,
        s.drug_key
    FROM reporting.monthly_drug_summary AS s
    WHERE s.plan_key IS NOT NULL AND s.drug_key IS NOT NULL
)

SELECT
    p.plan_key,
    c.month,
    p.drug_key,
    (sum(coalesce(s.paid_claims, 0)) OVER w)::bigint AS paid_claims,
    sum(coalesce(s.units, 0)) OVER w AS units,
    sum(coalesce(s.gross_cost, 0)) OVER w AS gross_cost,
    (sum(coalesce(s.daw_prescriber_claims, 0)) OVER w)::bigint AS daw_prescriber_claims,
    (sum(coalesce(s.daw_patient_claims, 0)) OVER w)::bigint AS daw_patient_claims
FROM calendar AS c
CROSS JOIN pairs AS p
LEFT JOIN reporting.monthly_drug_summary AS s
    ON c.month = s.month AND p.plan_key = s.plan_key AND p.drug_key = s.drug_key
WINDOW w AS (PARTITION BY p.plan_key, p.drug_key ORDER BY c.month);
CREATE UNIQUE INDEX plan_drug_running_totals_key_idx ON reporting.plan_drug_running_totals (plan_key, month, drug_key);
COMMENT ON MATERIALIZED VIEW reporting.plan_drug_running_totals IS
'Running totals per plan and drug, as drug_running_totals within each plan.';
COMMENT ON COLUMN reporting.plan_drug_running_totals.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.plan_drug_running_totals.month IS 'The month the totals run through (first day)';
COMMENT ON COLUMN reporting.plan_drug_running_totals.drug_key IS 'NDC-11 (dim_drug)';
COMMENT ON COLUMN reporting.plan_drug_running_totals.paid_claims IS 'Net paid claims so far';
COMMENT ON COLUMN reporting.plan_drug_running_totals.units IS 'Quantity dispensed so far';
COMMENT ON COLUMN reporting.plan_drug_running_totals.gross_cost IS 'Allowed cost so far';
COMMENT ON COLUMN reporting.plan_drug_running_totals.daw_prescriber_claims IS 'Net paid DAW 1 claims so far';
COMMENT ON COLUMN reporting.plan_drug_running_totals.daw_patient_claims IS 'Net paid DAW 2 claims so far';

CREATE MATERIALIZED VIEW reporting.yearly_plan_drug_ranks AS
WITH drugs AS (
    SELECT
        extract(YEAR FROM s.month)::smallint AS year,
        s.plan_key,
        s.drug_key,
        sum(s.paid_claims)::bigint AS paid_claims,
        sum(s.units) AS units,
        sum(s.gross_cost) AS gross_cost
    FROM reporting.monthly_drug_summary AS s
    WHERE s.plan_key IS NOT NULL AND s.drug_key IS NOT NULL
    GROUP BY extract(YEAR FROM s.month), s.plan_key, s.drug_key
    HAVING sum(s.paid_claims) > 0
)

SELECT
    d.year,
    d.plan_key,
    row_number() OVER (PARTITION BY d.year, d.plan_key ORDER BY d.gross_cost DESC, d.drug_key ASC) AS cost_rank,
    d.drug_key,
    d.paid_claims,
    d.units,
    d.gross_cost,
    sum(d.gross_cost) OVER (PARTITION BY d.year, d.plan_key) AS plan_year_cost
FROM drugs AS d;
CREATE UNIQUE INDEX yearly_plan_drug_ranks_key_idx ON reporting.yearly_plan_drug_ranks (year, plan_key, cost_rank);
COMMENT ON MATERIALIZED VIEW reporting.yearly_plan_drug_ranks IS
'Drugs of each plan and calendar (plan) year ranked by allowed cost of net paid claims (1 = most expensive; ties by NDC).';
COMMENT ON COLUMN reporting.yearly_plan_drug_ranks.year IS 'Calendar year of service (the plan year)';
COMMENT ON COLUMN reporting.yearly_plan_drug_ranks.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.yearly_plan_drug_ranks.cost_rank IS 'Rank of the drug in the plan''s year by allowed cost';
COMMENT ON COLUMN reporting.yearly_plan_drug_ranks.drug_key IS 'NDC-11 (dim_drug)';
COMMENT ON COLUMN reporting.yearly_plan_drug_ranks.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.yearly_plan_drug_ranks.units IS 'Quantity dispensed';
COMMENT ON COLUMN reporting.yearly_plan_drug_ranks.gross_cost IS 'Allowed cost';
COMMENT ON COLUMN reporting.yearly_plan_drug_ranks.plan_year_cost IS 'Allowed cost of all the plan''s drugs that year';

CREATE MATERIALIZED VIEW reporting.monthly_class_summary AS
SELECT
    s.month,
    s.plan_key,
    d.therapeutic_class,
    sum(s.paid_claims)::bigint AS paid_claims,
    sum(s.gross_cost) AS gross_cost,
    sum(s.plan_paid) AS plan_paid,
    sum(s.member_paid) AS member_paid
FROM reporting.monthly_drug_summary AS s
INNER JOIN drug.drugs AS d ON s.drug_key = d.ndc11
GROUP BY s.month, s.plan_key, d.therapeutic_class
HAVING sum(s.paid_claims) > 0;
CREATE UNIQUE INDEX monthly_class_summary_key_idx ON reporting.monthly_class_summary (
    month, plan_key, therapeutic_class
) NULLS NOT DISTINCT;
COMMENT ON MATERIALIZED VIEW reporting.monthly_class_summary IS
'Net paid claims and cost per month, plan and therapeutic class (classes of the drug catalog at the refresh).';
COMMENT ON COLUMN reporting.monthly_class_summary.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_class_summary.plan_key IS 'Plan (dim_plan); NULL = claims that matched no plan';
COMMENT ON COLUMN reporting.monthly_class_summary.therapeutic_class IS 'Therapeutic class (dim_drug)';
COMMENT ON COLUMN reporting.monthly_class_summary.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.monthly_class_summary.gross_cost IS 'Allowed cost';
COMMENT ON COLUMN reporting.monthly_class_summary.plan_paid IS 'Paid by the plan';
COMMENT ON COLUMN reporting.monthly_class_summary.member_paid IS 'Paid by members';

CREATE MATERIALIZED VIEW reporting.monthly_category_summary AS
SELECT
    s.month,
    s.plan_key,
    reporting.mony_category(d.multi_source_code) AS mony_category,
    sum(s.paid_claims)::bigint AS paid_claims,
    sum(s.units) AS units,
    sum(s.days_supply)::bigint AS days_supply,
    sum(s.gross_cost) AS gross_cost
FROM reporting.monthly_drug_summary AS s
INNER JOIN drug.drugs AS d ON s.drug_key = d.ndc11
GROUP BY s.month, s.plan_key, reporting.mony_category(d.multi_source_code)
HAVING sum(s.paid_claims) > 0;
CREATE UNIQUE INDEX monthly_category_summary_key_idx ON reporting.monthly_category_summary (
    month, plan_key, mony_category
) NULLS NOT DISTINCT;
COMMENT ON MATERIALIZED VIEW reporting.monthly_category_summary IS
'Net paid claims, units, days supply and cost per month, plan and brand/generic category.';
COMMENT ON COLUMN reporting.monthly_category_summary.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_category_summary.plan_key IS 'Plan (dim_plan); NULL = claims that matched no plan';
COMMENT ON COLUMN reporting.monthly_category_summary.mony_category IS 'generic (MONY Y), multi-source brand (O), single-source brand (M, N)';
COMMENT ON COLUMN reporting.monthly_category_summary.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.monthly_category_summary.units IS 'Quantity dispensed';
COMMENT ON COLUMN reporting.monthly_category_summary.days_supply IS 'Days supply';
COMMENT ON COLUMN reporting.monthly_category_summary.gross_cost IS 'Allowed cost';

CREATE MATERIALIZED VIEW reporting.monthly_drug_reject_codes AS
SELECT
    f.month,
    f.drug_key,
    r.reject_code::varchar(3) AS reject_code,
    count(*) AS rejected_claims
FROM reporting.fact_claims AS f
CROSS JOIN LATERAL unnest(f.reject_codes) AS r (reject_code)
WHERE f.transaction_response_status = 'R'
GROUP BY f.month, f.drug_key, r.reject_code;
CREATE UNIQUE INDEX monthly_drug_reject_codes_key_idx ON reporting.monthly_drug_reject_codes (
    month, drug_key, reject_code
) NULLS NOT DISTINCT;
CREATE INDEX monthly_drug_reject_codes_drug_idx ON reporting.monthly_drug_reject_codes (drug_key, month);
COMMENT ON MATERIALIZED VIEW reporting.monthly_drug_reject_codes IS
'Rejected claims per month, drug and reject code (a claim with several codes counts under each).';
COMMENT ON COLUMN reporting.monthly_drug_reject_codes.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_drug_reject_codes.drug_key IS 'NDC-11 (dim_drug); NULL = products not in the catalog';
COMMENT ON COLUMN reporting.monthly_drug_reject_codes.reject_code IS 'NCPDP 511-FB Reject Code';
COMMENT ON COLUMN reporting.monthly_drug_reject_codes.rejected_claims IS 'Rejected claims carrying the code';

CREATE VIEW reporting.generic_brand_utilization AS
SELECT
    c.month,
    c.plan_key,
    p.plan_code,
    c.mony_category,
    c.paid_claims,
    c.units,
    c.days_supply,
    c.gross_cost,
    round(c.gross_cost / c.paid_claims, 2) AS cost_per_claim,
    round(100.0 * c.paid_claims / sum(c.paid_claims) OVER (PARTITION BY c.month, c.plan_key), 2) AS claim_share_pct,
    round(
        100 * c.gross_cost / nullif(sum(c.gross_cost) OVER (PARTITION BY c.month, c.plan_key), 0), 2
    ) AS cost_share_pct
FROM reporting.monthly_category_summary AS c
LEFT JOIN plan.plans AS p ON c.plan_key = p.plan_id;
COMMENT ON VIEW reporting.generic_brand_utilization IS
'Generic vs brand utilization by plan and month: net paid claims, units, days supply and cost per category (generic, multi-source brand, single-source brand) and each category''s share of the plan''s month.';
COMMENT ON COLUMN reporting.generic_brand_utilization.month IS 'First day of the month';
COMMENT ON COLUMN reporting.generic_brand_utilization.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.generic_brand_utilization.plan_code IS 'Plan code';
COMMENT ON COLUMN reporting.generic_brand_utilization.mony_category IS 'generic (MONY Y), multi-source brand (O), single-source brand (M, N)';
COMMENT ON COLUMN reporting.generic_brand_utilization.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.generic_brand_utilization.units IS 'Quantity dispensed';
COMMENT ON COLUMN reporting.generic_brand_utilization.days_supply IS 'Days supply';
COMMENT ON COLUMN reporting.generic_brand_utilization.gross_cost IS 'Allowed cost';
COMMENT ON COLUMN reporting.generic_brand_utilization.cost_per_claim IS 'gross_cost / paid_claims';
COMMENT ON COLUMN reporting.generic_brand_utilization.claim_share_pct IS 'Share of the plan''s net paid claims in the month';
COMMENT ON COLUMN reporting.generic_brand_utilization.cost_share_pct IS 'Share of the plan''s allowed cost in the month';

CREATE VIEW reporting.therapeutic_class_spend AS
SELECT
    c.month,
    c.therapeutic_class,
    sum(c.paid_claims)::bigint AS paid_claims,
    sum(c.gross_cost) AS gross_cost,
    sum(c.plan_paid) AS plan_paid,
    sum(c.member_paid) AS member_paid,
    round(100 * sum(c.gross_cost) / nullif(sum(sum(c.gross_cost)) OVER (PARTITION BY c.month), 0), 2) AS cost_share_pct
FROM reporting.monthly_class_summary AS c
GROUP BY c.month, c.therapeutic_class;
COMMENT ON VIEW reporting.therapeutic_class_spend IS 'Spend by therapeutic class and month (all plans), with each class''s share of the month''s allowed cost.';
COMMENT ON COLUMN reporting.therapeutic_class_spend.month IS 'First day of the month';
COMMENT ON COLUMN reporting.therapeutic_class_spend.therapeutic_class IS 'Therapeutic class (dim_drug)';
COMMENT ON COLUMN reporting.therapeutic_class_spend.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.therapeutic_class_spend.gross_cost IS 'Allowed cost';
COMMENT ON COLUMN reporting.therapeutic_class_spend.plan_paid IS 'Paid by the plans';
COMMENT ON COLUMN reporting.therapeutic_class_spend.member_paid IS 'Paid by members';
COMMENT ON COLUMN reporting.therapeutic_class_spend.cost_share_pct IS 'Share of the month''s allowed cost';

-- A multi-source brand (MONY O) dispensed where a generic of its drug group exists: what the brand
-- units would have cost at the average allowed cost per unit of that generic group in the same month.
CREATE VIEW reporting.brand_generic_savings AS
WITH generic_unit_cost AS (
    SELECT
        t.month,
        d.drug_group,
        sum(t.gross_cost) / nullif(sum(t.units), 0) AS unit_cost
    FROM reporting.monthly_drug_totals AS t
    INNER JOIN drug.drugs AS d ON t.drug_key = d.ndc11
    WHERE d.multi_source_code = 'Y' AND t.paid_claims > 0
    GROUP BY t.month, d.drug_group
)

SELECT
    s.month,
    s.plan_key,
    p.plan_code,
    s.drug_key,
    d.drug_name,
    d.drug_group,
    s.paid_claims AS brand_claims,
    s.units AS brand_units,
    s.gross_cost AS brand_cost,
    s.daw_prescriber_claims,
    s.daw_patient_claims,
    round(g.unit_cost, 5) AS generic_unit_cost,
    round(s.units * g.unit_cost, 2) AS generic_equivalent_cost,
    s.gross_cost - round(s.units * g.unit_cost, 2) AS potential_savings
FROM reporting.monthly_drug_summary AS s
INNER JOIN drug.drugs AS d ON s.drug_key = d.ndc11
LEFT JOIN generic_unit_cost AS g ON s.month = g.month AND d.drug_group = g.drug_group
LEFT JOIN plan.plans AS p ON s.plan_key = p.plan_id
WHERE
    d.multi_source_code = 'O'
    AND s.paid_claims > 0
    AND EXISTS (
        SELECT FROM drug.drugs AS e
        WHERE e.drug_group = d.drug_group AND e.multi_source_code = 'Y'
    );
COMMENT ON VIEW reporting.brand_generic_savings IS
'Brand-to-generic savings opportunities by month, plan and brand: net paid claims for multi-source brands (MONY O) whose drug group has a generic, priced at the generic group''s average allowed cost per unit in the same month (all plans). potential_savings is NULL when no generic of the group was paid that month.';
COMMENT ON COLUMN reporting.brand_generic_savings.month IS 'First day of the month';
COMMENT ON COLUMN reporting.brand_generic_savings.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.brand_generic_savings.plan_code IS 'Plan code';
COMMENT ON COLUMN reporting.brand_generic_savings.drug_key IS 'NDC-11 of the brand';
COMMENT ON COLUMN reporting.brand_generic_savings.drug_name IS 'Brand name';
COMMENT ON COLUMN reporting.brand_generic_savings.drug_group IS 'Drug group shared with its generics';
COMMENT ON COLUMN reporting.brand_generic_savings.brand_claims IS 'Net paid claims for the brand';
COMMENT ON COLUMN reporting.brand_generic_savings.brand_units IS 'Units of the brand dispensed';
COMMENT ON COLUMN reporting.brand_generic_savings.brand_cost IS 'Allowed cost of the brand claims';
COMMENT ON COLUMN reporting.brand_generic_savings.daw_prescriber_claims IS 'Of which DAW 1 (prescriber required the brand)';
COMMENT ON COLUMN reporting.brand_generic_savings.daw_patient_claims IS 'Of which DAW 2 (patient requested the brand)';
COMMENT ON COLUMN reporting.brand_generic_savings.generic_unit_cost IS 'Average allowed cost per unit of the group''s generics that month';
COMMENT ON COLUMN reporting.brand_generic_savings.generic_equivalent_cost IS 'brand_units x generic_unit_cost';
COMMENT ON COLUMN reporting.brand_generic_savings.potential_savings IS 'brand_cost - generic_equivalent_cost';

-- Period totals per drug come from the running totals: the row of the last month minus the row of the
-- month before the first (two index lookups). All plans read drug_running_totals, one plan
-- plan_drug_running_totals: one branch of each UNION ALL is cut at planning (p_plan is a constant once
-- the function is inlined).
CREATE FUNCTION reporting.top_drugs(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL,
    p_limit integer DEFAULT 10
)
RETURNS TABLE (
    rank bigint,
    drug_key char(11),
    drug_name text,
    generic_name text,
    strength text,
    mony_category text,
    paid_claims bigint,
    units numeric,
    gross_cost numeric,
    cost_per_claim numeric,
    cost_share_pct numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH bounds AS (
        SELECT
            greatest(date_trunc('month', p_from::timestamp)::date, min(r.month)) AS from_month,
            least(date_trunc('month', p_to::timestamp)::date, max(r.month)) AS to_month,
            (
                greatest(date_trunc('month', p_from::timestamp)::date, min(r.month)) - interval '1 month'
            )::date AS before_month
        FROM reporting.drug_running_totals AS r
    ),

    drugs AS (
        SELECT
            hi.drug_key,
            hi.paid_claims - coalesce(lo.paid_claims, 0) AS paid_claims,
            hi.units - coalesce(lo.units, 0) AS units,
            hi.gross_cost - coalesce(lo.gross_cost, 0) AS gross_cost
        FROM bounds AS b
        INNER JOIN reporting.drug_running_totals AS hi ON b.to_month = hi.month
        LEFT JOIN (
            SELECT r.*
            FROM bounds AS bb
            INNER JOIN reporting.drug_running_totals AS r ON bb.before_month = r.month
        ) AS lo ON hi.drug_key = lo.drug_key
        WHERE nullif(btrim(p_plan), '') IS NULL AND b.from_month <= b.to_month
        UNION ALL
        SELECT
            hi.drug_key,
            hi.paid_claims - coalesce(lo.paid_claims, 0) AS paid_claims,
            hi.units - coalesce(lo.units, 0) AS units,
            hi.gross_cost - coalesce(lo.gross_cost, 0) AS gross_cost
        FROM bounds AS b
        INNER JOIN reporting.plan_drug_running_totals AS hi
            ON b.to_month = hi.month AND reporting.plan_key(p_plan) = hi.plan_key
        LEFT JOIN (
            SELECT r.*
            FROM bounds AS bb
            INNER JOIN reporting.plan_drug_running_totals AS r
                ON bb.before_month = r.month AND reporting.plan_key(p_plan) = r.plan_key
        ) AS lo ON hi.drug_key = lo.drug_key
        WHERE nullif(btrim(p_plan), '') IS NOT NULL AND b.from_month <= b.to_month
    ),

    ranked AS (
        SELECT
            dr.*,
            row_number() OVER (ORDER BY dr.gross_cost DESC, dr.drug_key ASC) AS rank,
            sum(dr.gross_cost) OVER () AS total_cost
        FROM drugs AS dr
        WHERE dr.paid_claims > 0
    )

    SELECT
        r.rank,
        r.drug_key,
        d.drug_name,
        d.generic_name,
        d.strength,
        d.mony_category,
        r.paid_claims,
        r.units,
        r.gross_cost,
        round(r.gross_cost / r.paid_claims, 2) AS cost_per_claim,
        round(100 * r.gross_cost / nullif(r.total_cost, 0), 2) AS cost_share_pct
    FROM ranked AS r
    INNER JOIN reporting.dim_drug AS d ON r.drug_key = d.drug_key
    WHERE r.rank <= reporting.row_limit(p_limit)
    ORDER BY r.rank;
END;
COMMENT ON FUNCTION reporting.top_drugs(date, date, text, integer) IS
'The p_limit (default 10) most expensive drugs by allowed cost of net paid claims over the months starting in p_from..p_to, all plans (p_plan NULL) or one; ties broken by NDC; cost_share_pct is the share of all drugs'' cost.';

CREATE FUNCTION reporting.top_drugs_by_plan(
    p_year integer DEFAULT NULL,
    p_limit integer DEFAULT 10
)
RETURNS TABLE (
    year smallint,
    plan_code text,
    rank bigint,
    drug_key char(11),
    drug_name text,
    mony_category text,
    paid_claims bigint,
    gross_cost numeric,
    cost_per_claim numeric,
    cost_share_pct numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT coalesce(p_year, (SELECT max(y.year) FROM reporting.yearly_plan_drug_ranks AS y)) AS year
    )

    SELECT
        r.year,
        p.plan_code,
        r.cost_rank AS rank,
        r.drug_key,
        d.drug_name,
        d.mony_category,
        r.paid_claims,
        r.gross_cost,
        round(r.gross_cost / r.paid_claims, 2) AS cost_per_claim,
        round(100 * r.gross_cost / nullif(r.plan_year_cost, 0), 2) AS cost_share_pct
    FROM reporting.yearly_plan_drug_ranks AS r
    INNER JOIN selected AS sel ON r.year = sel.year
    INNER JOIN reporting.dim_plan AS p ON r.plan_key = p.plan_key
    INNER JOIN reporting.dim_drug AS d ON r.drug_key = d.drug_key
    WHERE r.cost_rank <= reporting.row_limit(p_limit)
    ORDER BY p.plan_code, r.cost_rank;
END;
COMMENT ON FUNCTION reporting.top_drugs_by_plan(integer, integer) IS
'The p_limit (default 10) most expensive drugs of each plan in plan year p_year (NULL: the latest year with claims) by allowed cost of net paid claims; cost_share_pct is the share of the plan''s drug cost that year.';

CREATE FUNCTION reporting.therapeutic_class_spend(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    therapeutic_class text,
    paid_claims bigint,
    gross_cost numeric,
    plan_paid numeric,
    member_paid numeric,
    cost_per_claim numeric,
    cost_share_pct numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    ),

    classes AS (
        SELECT
            c.therapeutic_class,
            sum(c.paid_claims)::bigint AS paid_claims,
            sum(c.gross_cost) AS gross_cost,
            sum(c.plan_paid) AS plan_paid,
            sum(c.member_paid) AS member_paid
        FROM reporting.monthly_class_summary AS c
        CROSS JOIN selected AS sel
        WHERE
            c.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
            AND (sel.plan_key IS NULL OR c.plan_key = sel.plan_key)
        GROUP BY c.therapeutic_class
    )

    SELECT
        c.therapeutic_class,
        c.paid_claims,
        c.gross_cost,
        c.plan_paid,
        c.member_paid,
        round(c.gross_cost / c.paid_claims, 2) AS cost_per_claim,
        round(100 * c.gross_cost / nullif(sum(c.gross_cost) OVER (), 0), 2) AS cost_share_pct
    FROM classes AS c
    ORDER BY c.gross_cost DESC, c.therapeutic_class ASC;
END;
COMMENT ON FUNCTION reporting.therapeutic_class_spend(date, date, text) IS
'Spend by therapeutic class over the months starting in p_from..p_to (net paid claims, all plans or p_plan), most expensive first, with each class''s share of the cost.';

CREATE FUNCTION reporting.generic_brand_utilization(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL
)
RETURNS TABLE (
    mony_category text,
    paid_claims bigint,
    units numeric,
    days_supply bigint,
    gross_cost numeric,
    cost_per_claim numeric,
    claim_share_pct numeric,
    cost_share_pct numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    ),

    categories AS (
        SELECT
            c.mony_category,
            sum(c.paid_claims)::bigint AS paid_claims,
            sum(c.units) AS units,
            sum(c.days_supply)::bigint AS days_supply,
            sum(c.gross_cost) AS gross_cost
        FROM reporting.monthly_category_summary AS c
        CROSS JOIN selected AS sel
        WHERE
            c.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
            AND (sel.plan_key IS NULL OR c.plan_key = sel.plan_key)
        GROUP BY c.mony_category
    )

    SELECT
        c.mony_category,
        c.paid_claims,
        c.units,
        c.days_supply,
        c.gross_cost,
        round(c.gross_cost / c.paid_claims, 2) AS cost_per_claim,
        round(100.0 * c.paid_claims / sum(c.paid_claims) OVER (), 2) AS claim_share_pct,
        round(100 * c.gross_cost / nullif(sum(c.gross_cost) OVER (), 0), 2) AS cost_share_pct
    FROM categories AS c
    ORDER BY c.mony_category;
END;
COMMENT ON FUNCTION reporting.generic_brand_utilization(date, date, text) IS
'Generic vs brand utilization over the months starting in p_from..p_to: net paid claims, units, days supply and cost per category (generic, multi-source brand, single-source brand) with shares, all plans or p_plan.';

CREATE FUNCTION reporting.brand_generic_savings(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_plan text DEFAULT NULL,
    p_limit integer DEFAULT 20
)
RETURNS TABLE (
    drug_key char(11),
    drug_name text,
    drug_group text,
    brand_claims bigint,
    brand_units numeric,
    brand_cost numeric,
    daw_prescriber_claims bigint,
    daw_patient_claims bigint,
    generic_unit_cost numeric,
    generic_equivalent_cost numeric,
    potential_savings numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH bounds AS (
        SELECT
            greatest(date_trunc('month', p_from::timestamp)::date, min(r.month)) AS from_month,
            least(date_trunc('month', p_to::timestamp)::date, max(r.month)) AS to_month,
            (
                greatest(date_trunc('month', p_from::timestamp)::date, min(r.month)) - interval '1 month'
            )::date AS before_month
        FROM reporting.drug_running_totals AS r
    ),

    all_plans AS (
        SELECT
            hi.drug_key,
            hi.paid_claims - coalesce(lo.paid_claims, 0) AS paid_claims,
            hi.units - coalesce(lo.units, 0) AS units,
            hi.gross_cost - coalesce(lo.gross_cost, 0) AS gross_cost,
            hi.daw_prescriber_claims - coalesce(lo.daw_prescriber_claims, 0) AS daw_prescriber_claims,
            hi.daw_patient_claims - coalesce(lo.daw_patient_claims, 0) AS daw_patient_claims
        FROM bounds AS b
        INNER JOIN reporting.drug_running_totals AS hi ON b.to_month = hi.month
        LEFT JOIN (
            SELECT r.*
            FROM bounds AS bb
            INNER JOIN reporting.drug_running_totals AS r ON bb.before_month = r.month
        ) AS lo ON hi.drug_key = lo.drug_key
        WHERE b.from_month <= b.to_month
    ),

    generic_unit_cost AS (
        SELECT
            d.drug_group,
            sum(a.gross_cost) / nullif(sum(a.units), 0) AS unit_cost
        FROM all_plans AS a
        INNER JOIN reporting.dim_drug AS d ON a.drug_key = d.drug_key
        WHERE d.multi_source_code = 'Y' AND a.paid_claims > 0
        GROUP BY d.drug_group
    ),

    brand_totals AS (
        SELECT a.*
        FROM all_plans AS a
        WHERE nullif(btrim(p_plan), '') IS NULL
        UNION ALL
        SELECT
            hi.drug_key,
            hi.paid_claims - coalesce(lo.paid_claims, 0) AS paid_claims,
            hi.units - coalesce(lo.units, 0) AS units,
            hi.gross_cost - coalesce(lo.gross_cost, 0) AS gross_cost,
            hi.daw_prescriber_claims - coalesce(lo.daw_prescriber_claims, 0) AS daw_prescriber_claims,
            hi.daw_patient_claims - coalesce(lo.daw_patient_claims, 0) AS daw_patient_claims
        FROM bounds AS b
        INNER JOIN reporting.plan_drug_running_totals AS hi
            ON b.to_month = hi.month AND reporting.plan_key(p_plan) = hi.plan_key
        LEFT JOIN (
            SELECT r.*
            FROM bounds AS bb
            INNER JOIN reporting.plan_drug_running_totals AS r
                ON bb.before_month = r.month AND reporting.plan_key(p_plan) = r.plan_key
        ) AS lo ON hi.drug_key = lo.drug_key
        WHERE nullif(btrim(p_plan), '') IS NOT NULL AND b.from_month <= b.to_month
    )

    SELECT
        bt.drug_key,
        d.drug_name,
        d.drug_group,
        bt.paid_claims AS brand_claims,
        bt.units AS brand_units,
        bt.gross_cost AS brand_cost,
        bt.daw_prescriber_claims,
        bt.daw_patient_claims,
        round(g.unit_cost, 5) AS generic_unit_cost,
        round(bt.units * g.unit_cost, 2) AS generic_equivalent_cost,
        bt.gross_cost - round(bt.units * g.unit_cost, 2) AS potential_savings
    FROM brand_totals AS bt
    INNER JOIN reporting.dim_drug AS d ON bt.drug_key = d.drug_key
    LEFT JOIN generic_unit_cost AS g ON d.drug_group = g.drug_group
    WHERE d.multi_source_code = 'O' AND d.has_generic_equivalent AND bt.paid_claims > 0
    ORDER BY potential_savings DESC NULLS LAST, bt.drug_key ASC
    LIMIT reporting.row_limit(p_limit);
END;
COMMENT ON FUNCTION reporting.brand_generic_savings(date, date, text, integer) IS
'Brand-to-generic savings opportunities over the months starting in p_from..p_to: multi-source brands (MONY O) with a generic in their drug group, their net paid claims (all plans or p_plan), and what the same units would have cost at the group''s average generic allowed cost per unit over the period (all plans); largest savings first, at most p_limit rows.';

CREATE FUNCTION reporting.rejections_by_drug(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_limit integer DEFAULT 20
)
RETURNS TABLE (
    drug_key char(11),
    drug_name text,
    claims_submitted bigint,
    rejected_claims bigint,
    reject_rate_pct numeric,
    top_reject_code varchar(3),
    top_reject_code_claims bigint
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH bounds AS (
        SELECT
            greatest(date_trunc('month', p_from::timestamp)::date, min(r.month)) AS from_month,
            least(date_trunc('month', p_to::timestamp)::date, max(r.month)) AS to_month,
            (
                greatest(date_trunc('month', p_from::timestamp)::date, min(r.month)) - interval '1 month'
            )::date AS before_month
        FROM reporting.drug_running_totals AS r
    ),

    drugs AS (
        SELECT
            hi.drug_key,
            hi.claims_submitted - coalesce(lo.claims_submitted, 0) AS claims_submitted,
            hi.rejected_claims - coalesce(lo.rejected_claims, 0) AS rejected_claims
        FROM bounds AS b
        INNER JOIN reporting.drug_running_totals AS hi ON b.to_month = hi.month
        LEFT JOIN (
            SELECT r.*
            FROM bounds AS bb
            INNER JOIN reporting.drug_running_totals AS r ON bb.before_month = r.month
        ) AS lo ON hi.drug_key = lo.drug_key
        WHERE b.from_month <= b.to_month AND hi.rejected_claims - coalesce(lo.rejected_claims, 0) > 0
        ORDER BY rejected_claims DESC, hi.drug_key ASC
        LIMIT reporting.row_limit(p_limit)
    )

    SELECT
        dr.drug_key,
        d.drug_name,
        dr.claims_submitted,
        dr.rejected_claims,
        round(100.0 * dr.rejected_claims / dr.claims_submitted, 2) AS reject_rate_pct,
        c.reject_code AS top_reject_code,
        c.rejected_claims AS top_reject_code_claims
    FROM drugs AS dr
    INNER JOIN reporting.dim_drug AS d ON dr.drug_key = d.drug_key
    LEFT JOIN LATERAL (
        SELECT
            r.reject_code,
            sum(r.rejected_claims)::bigint AS rejected_claims
        FROM reporting.monthly_drug_reject_codes AS r
        WHERE
            r.drug_key = dr.drug_key
            AND r.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
        GROUP BY r.reject_code
        ORDER BY rejected_claims DESC, r.reject_code ASC
        LIMIT 1
    ) AS c ON TRUE
    ORDER BY dr.rejected_claims DESC, dr.drug_key ASC;
END;
COMMENT ON FUNCTION reporting.rejections_by_drug(date, date, integer) IS
'Rejection analysis by catalog drug over the months starting in p_from..p_to: claims submitted and rejected, reject rate and the most frequent reject code, most rejected first; at most p_limit rows. (Claims for NDCs not in the catalog: rejections_by_code, monthly_drug_totals with drug_key NULL.)';
