-- Drug-level dashboards: claims and cost per month, plan and drug, and the views over it: generic vs
-- brand utilization, spend by therapeutic class, brand-to-generic savings opportunities.

DROP VIEW IF EXISTS reporting.generic_brand_utilization;
DROP VIEW IF EXISTS reporting.therapeutic_class_spend;
DROP VIEW IF EXISTS reporting.brand_generic_savings;
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
CREATE INDEX monthly_drug_summary_drug_idx ON reporting.monthly_drug_summary (drug_key, month);
COMMENT ON MATERIALIZED VIEW reporting.monthly_drug_summary IS
'Claims, units, days supply and cost per month, plan and drug (NDC-11): the source of top drugs, spend by class, generic vs brand and savings reports.';
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

CREATE VIEW reporting.generic_brand_utilization AS
WITH categories AS (
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
    WHERE s.paid_claims > 0
    GROUP BY s.month, s.plan_key, reporting.mony_category(d.multi_source_code)
)

SELECT
    c.month,
    c.plan_key,
    p.plan_code,
    c.mony_category,
    c.paid_claims,
    c.units,
    c.days_supply,
    c.gross_cost,
    round(c.gross_cost / nullif(c.paid_claims, 0), 2) AS cost_per_claim,
    round(100.0 * c.paid_claims / nullif(sum(c.paid_claims) OVER (PARTITION BY c.month, c.plan_key), 0), 2)
        AS claim_share_pct,
    round(100 * c.gross_cost / nullif(sum(c.gross_cost) OVER (PARTITION BY c.month, c.plan_key), 0), 2)
        AS cost_share_pct
FROM categories AS c
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
    s.month,
    d.therapeutic_class,
    sum(s.paid_claims)::bigint AS paid_claims,
    sum(s.gross_cost) AS gross_cost,
    sum(s.plan_paid) AS plan_paid,
    sum(s.member_paid) AS member_paid,
    round(100 * sum(s.gross_cost) / nullif(sum(sum(s.gross_cost)) OVER (PARTITION BY s.month), 0), 2) AS cost_share_pct
FROM reporting.monthly_drug_summary AS s
INNER JOIN drug.drugs AS d ON s.drug_key = d.ndc11
WHERE s.paid_claims > 0
GROUP BY s.month, d.therapeutic_class;
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
        s.month,
        d.drug_group,
        sum(s.gross_cost) / nullif(sum(s.units), 0) AS unit_cost
    FROM reporting.monthly_drug_summary AS s
    INNER JOIN drug.drugs AS d ON s.drug_key = d.ndc11
    WHERE d.multi_source_code = 'Y' AND s.paid_claims > 0
    GROUP BY s.month, d.drug_group
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
