-- Drug-level dashboards: claims and cost per month, plan and drug, and the views over it: generic vs
-- brand utilization, spend by therapeutic class, brand-to-generic savings opportunities, top drugs; and
-- rejected claims per drug and reject code. Report functions read this file's views and the dimension views.

DROP FUNCTION IF EXISTS reporting.top_drugs(date, date, text, integer);
DROP FUNCTION IF EXISTS reporting.top_drugs_by_plan(date, date, integer);
DROP FUNCTION IF EXISTS reporting.therapeutic_class_spend(date, date, text);
DROP FUNCTION IF EXISTS reporting.generic_brand_utilization(date, date, text);
DROP FUNCTION IF EXISTS reporting.brand_generic_savings(date, date, text, integer);
DROP FUNCTION IF EXISTS reporting.rejections_by_drug(date, date, integer);
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_drug_reject_codes;
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
    WITH selected AS (
        SELECT
            reporting.plan_key(p_plan) AS plan_key,
            reporting.row_limit(p_limit) AS row_limit
    ),

    drugs AS (
        SELECT
            s.drug_key,
            sum(s.paid_claims)::bigint AS paid_claims,
            sum(s.units) AS units,
            sum(s.gross_cost) AS gross_cost
        FROM reporting.monthly_drug_summary AS s
        CROSS JOIN selected AS sel
        WHERE
            s.month BETWEEN date_trunc('month', p_from)::date AND p_to
            AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
            AND s.drug_key IS NOT NULL
        GROUP BY s.drug_key
        HAVING sum(s.paid_claims) > 0
    ),

    ranked AS (
        SELECT
            dr.*,
            row_number() OVER (ORDER BY dr.gross_cost DESC, dr.drug_key ASC) AS rank,
            sum(dr.gross_cost) OVER () AS total_cost
        FROM drugs AS dr
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
    CROSS JOIN selected AS sel
    WHERE r.rank <= sel.row_limit
    ORDER BY r.rank;
END;
COMMENT ON FUNCTION reporting.top_drugs(date, date, text, integer) IS
'The p_limit (default 10) most expensive drugs by allowed cost of net paid claims over the months starting in p_from..p_to, all plans (p_plan NULL) or one; ties broken by NDC; cost_share_pct is the share of all drugs'' cost.';

CREATE FUNCTION reporting.top_drugs_by_plan(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_limit integer DEFAULT 10
)
RETURNS TABLE (
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
    WITH drugs AS (
        SELECT
            s.plan_key,
            s.drug_key,
            sum(s.paid_claims)::bigint AS paid_claims,
            sum(s.gross_cost) AS gross_cost
        FROM reporting.monthly_drug_summary AS s
        WHERE
            s.month BETWEEN date_trunc('month', p_from)::date AND p_to
            AND s.plan_key IS NOT NULL
            AND s.drug_key IS NOT NULL
        GROUP BY s.plan_key, s.drug_key
        HAVING sum(s.paid_claims) > 0
    ),

    ranked AS (
        SELECT
            dr.*,
            row_number() OVER (PARTITION BY dr.plan_key ORDER BY dr.gross_cost DESC, dr.drug_key ASC) AS rank,
            sum(dr.gross_cost) OVER (PARTITION BY dr.plan_key) AS plan_cost
        FROM drugs AS dr
    )

    SELECT
        p.plan_code,
        r.rank,
        r.drug_key,
        d.drug_name,
        d.mony_category,
        r.paid_claims,
        r.gross_cost,
        round(r.gross_cost / r.paid_claims, 2) AS cost_per_claim,
        round(100 * r.gross_cost / nullif(r.plan_cost, 0), 2) AS cost_share_pct
    FROM ranked AS r
    INNER JOIN reporting.dim_drug AS d ON r.drug_key = d.drug_key
    INNER JOIN reporting.dim_plan AS p ON r.plan_key = p.plan_key
    WHERE r.rank <= reporting.row_limit(p_limit)
    ORDER BY p.plan_code, r.rank;
END;
COMMENT ON FUNCTION reporting.top_drugs_by_plan(date, date, integer) IS
'The p_limit (default 10) most expensive drugs of each plan by allowed cost of net paid claims over the months starting in p_from..p_to; cost_share_pct is the share of the plan''s drug cost.';

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
            d.therapeutic_class,
            sum(s.paid_claims)::bigint AS paid_claims,
            sum(s.gross_cost) AS gross_cost,
            sum(s.plan_paid) AS plan_paid,
            sum(s.member_paid) AS member_paid
        FROM reporting.monthly_drug_summary AS s
        INNER JOIN reporting.dim_drug AS d ON s.drug_key = d.drug_key
        CROSS JOIN selected AS sel
        WHERE
            s.month BETWEEN date_trunc('month', p_from)::date AND p_to
            AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
        GROUP BY d.therapeutic_class
        HAVING sum(s.paid_claims) > 0
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
            d.mony_category,
            sum(s.paid_claims)::bigint AS paid_claims,
            sum(s.units) AS units,
            sum(s.days_supply)::bigint AS days_supply,
            sum(s.gross_cost) AS gross_cost
        FROM reporting.monthly_drug_summary AS s
        INNER JOIN reporting.dim_drug AS d ON s.drug_key = d.drug_key
        CROSS JOIN selected AS sel
        WHERE
            s.month BETWEEN date_trunc('month', p_from)::date
            AND p_to
            AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
        GROUP BY d.mony_category
        HAVING sum(s.paid_claims) > 0
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
    WITH selected AS (
        SELECT reporting.plan_key(p_plan) AS plan_key
    ),

    generic_unit_cost AS (
        SELECT
            d.drug_group,
            sum(s.gross_cost) / nullif(sum(s.units), 0) AS unit_cost
        FROM reporting.monthly_drug_summary AS s
        INNER JOIN reporting.dim_drug AS d ON s.drug_key = d.drug_key
        WHERE
            d.multi_source_code = 'Y'
            AND s.paid_claims > 0
            AND s.month BETWEEN date_trunc('month', p_from)::date AND p_to
        GROUP BY d.drug_group
    ),

    brands AS (
        SELECT
            s.drug_key,
            sum(s.paid_claims)::bigint AS brand_claims,
            sum(s.units) AS brand_units,
            sum(s.gross_cost) AS brand_cost,
            sum(s.daw_prescriber_claims)::bigint AS daw_prescriber_claims,
            sum(s.daw_patient_claims)::bigint AS daw_patient_claims
        FROM reporting.monthly_drug_summary AS s
        INNER JOIN reporting.dim_drug AS d ON s.drug_key = d.drug_key
        CROSS JOIN selected AS sel
        WHERE
            d.multi_source_code = 'O'
            AND d.has_generic_equivalent
            AND s.month BETWEEN date_trunc('month', p_from)::date AND p_to
            AND (sel.plan_key IS NULL OR s.plan_key = sel.plan_key)
        GROUP BY s.drug_key
        HAVING sum(s.paid_claims) > 0
    )

    SELECT
        b.drug_key,
        d.drug_name,
        d.drug_group,
        b.brand_claims,
        b.brand_units,
        b.brand_cost,
        b.daw_prescriber_claims,
        b.daw_patient_claims,
        round(g.unit_cost, 5) AS generic_unit_cost,
        round(b.brand_units * g.unit_cost, 2) AS generic_equivalent_cost,
        b.brand_cost - round(b.brand_units * g.unit_cost, 2) AS potential_savings
    FROM brands AS b
    INNER JOIN reporting.dim_drug AS d ON b.drug_key = d.drug_key
    LEFT JOIN generic_unit_cost AS g ON d.drug_group = g.drug_group
    ORDER BY potential_savings DESC NULLS LAST, b.drug_key ASC
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
    WITH drugs AS (
        SELECT
            s.drug_key,
            sum(s.claims_submitted)::bigint AS claims_submitted,
            sum(s.rejected_claims)::bigint AS rejected_claims
        FROM reporting.monthly_drug_summary AS s
        WHERE s.month BETWEEN date_trunc('month', p_from)::date AND p_to
        GROUP BY s.drug_key
        HAVING sum(s.rejected_claims) > 0
    ),

    codes AS (
        SELECT DISTINCT ON (c.drug_key)
            c.drug_key,
            c.reject_code,
            c.rejected_claims
        FROM (
            SELECT
                r.drug_key,
                r.reject_code,
                sum(r.rejected_claims)::bigint AS rejected_claims
            FROM reporting.monthly_drug_reject_codes AS r
            WHERE r.month BETWEEN date_trunc('month', p_from)::date AND p_to
            GROUP BY r.drug_key, r.reject_code
        ) AS c
        ORDER BY c.drug_key ASC, c.rejected_claims DESC, c.reject_code ASC
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
    LEFT JOIN reporting.dim_drug AS d ON dr.drug_key = d.drug_key
    LEFT JOIN codes AS c ON dr.drug_key IS NOT DISTINCT FROM c.drug_key
    ORDER BY dr.rejected_claims DESC, dr.drug_key ASC NULLS LAST
    LIMIT reporting.row_limit(p_limit);
END;
COMMENT ON FUNCTION reporting.rejections_by_drug(date, date, integer) IS
'Rejection analysis by drug over the months starting in p_from..p_to: claims submitted and rejected, reject rate and the most frequent reject code, most rejected first (drug_key NULL: products not in the catalog); at most p_limit rows.';
