-- Claims anomaly detection: duplicate paid claims, claims with unusual unit cost, quantity or days
-- supply for their drug (robust z-score from the median and the median absolute deviation), and
-- pharmacies whose patterns stand out from their peers (same pharmacy type and year).

DROP FUNCTION IF EXISTS reporting.anomaly_duplicates(date, date, integer);
DROP FUNCTION IF EXISTS reporting.anomaly_claim_outliers(date, date, text, integer);
DROP FUNCTION IF EXISTS reporting.anomaly_pharmacy_outliers(integer, boolean);
DROP MATERIALIZED VIEW IF EXISTS reporting.anomaly_duplicate_claims;
DROP MATERIALIZED VIEW IF EXISTS reporting.anomaly_claim_outliers;
DROP MATERIALIZED VIEW IF EXISTS reporting.anomaly_pharmacy_outliers;

CREATE MATERIALIZED VIEW reporting.anomaly_duplicate_claims AS
SELECT
    f.member_key,
    f.date_key,
    d.drug_group,
    count(*) AS paid_claims,
    count(DISTINCT f.pharmacy_key) AS pharmacies,
    count(DISTINCT f.drug_key) AS ndcs,
    sum(f.gross_cost) AS gross_cost,
    array_agg(f.claim_key ORDER BY f.claim_key) AS claim_keys
FROM reporting.fact_claims AS f
INNER JOIN drug.drugs AS d ON f.drug_key = d.ndc11
WHERE f.is_paid AND f.member_key IS NOT NULL
GROUP BY f.member_key, f.date_key, d.drug_group
HAVING count(*) > 1;
CREATE UNIQUE INDEX anomaly_duplicate_claims_key_idx ON reporting.anomaly_duplicate_claims (
    member_key, date_key, drug_group
);
CREATE INDEX anomaly_duplicate_claims_date_idx ON reporting.anomaly_duplicate_claims (date_key);
COMMENT ON MATERIALIZED VIEW reporting.anomaly_duplicate_claims IS
'Possible duplicate claims: a member with more than one net paid claim for the same drug group on the same date of service (at one or several pharmacies, same or different NDC). The adjudicator''s own duplicates (status D) are not here: they were not paid.';
COMMENT ON COLUMN reporting.anomaly_duplicate_claims.member_key IS 'Member pseudonym';
COMMENT ON COLUMN reporting.anomaly_duplicate_claims.date_key IS 'Date of service';
COMMENT ON COLUMN reporting.anomaly_duplicate_claims.drug_group IS 'Drug group (ingredient, strength, form)';
COMMENT ON COLUMN reporting.anomaly_duplicate_claims.paid_claims IS 'Net paid claims for it that day (2 or more)';
COMMENT ON COLUMN reporting.anomaly_duplicate_claims.pharmacies IS 'Distinct pharmacies that dispensed them';
COMMENT ON COLUMN reporting.anomaly_duplicate_claims.ndcs IS 'Distinct NDCs dispensed';
COMMENT ON COLUMN reporting.anomaly_duplicate_claims.gross_cost IS 'Their allowed cost';
COMMENT ON COLUMN reporting.anomaly_duplicate_claims.claim_keys IS 'The claims (fact_claims.claim_key)';

-- Claims out of line with their drug, per drug and calendar year over its net paid claims:
--   unit_cost       ingredient cost paid / quantity (the dispensing fee would make small fills look dear)
--   daily_quantity  quantity / days supply (a 90-unit 90-day fill is as normal as a 30-unit 30-day one)
-- scored with the robust z = 0.6745 (x - median) / MAD, or (x - median) / (1.253314 x mean absolute
-- deviation) when more than half the claims share one value (MAD 0). Outlier: |z| > 3.5 and a value that
-- fewer than 5 % of the drug's claims share: with discrete values (1 or 2 tablets a day) a common second
-- value is a pattern, not an anomaly. Only drugs with 5+ claims in the year are scored.
--   days_supply     more days than the plan's maximum days supply for the plan year (a rule, not a score).
CREATE MATERIALIZED VIEW reporting.anomaly_claim_outliers AS
WITH observations AS (
    SELECT
        f.claim_key,
        f.date_key,
        extract(YEAR FROM f.date_key)::smallint AS year,
        f.member_key,
        f.plan_key,
        f.pharmacy_key,
        f.drug_key,
        m.metric,
        m.value
    FROM reporting.fact_claims AS f
    CROSS JOIN
        LATERAL (
            VALUES
            ('unit_cost', round(f.ingredient_cost_paid / f.quantity_dispensed, 5)),
            ('daily_quantity', round(f.quantity_dispensed / f.days_supply, 3))
        ) AS m (metric, value)
    WHERE f.is_paid AND f.drug_key IS NOT NULL AND f.quantity_dispensed > 0 AND m.value IS NOT NULL
),

medians AS (
    SELECT
        o.drug_key,
        o.year,
        o.metric,
        count(*) AS peer_claims,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY o.value::double precision) AS median
    FROM observations AS o
    GROUP BY o.drug_key, o.year, o.metric
    HAVING count(*) >= 5
),

deviations AS (
    SELECT
        o.drug_key,
        o.year,
        o.metric,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(o.value::double precision - m.median)) AS mad,
        avg(abs(o.value::double precision - m.median)) AS mean_ad
    FROM observations AS o
    INNER JOIN medians AS m ON o.drug_key = m.drug_key AND o.year = m.year AND o.metric = m.metric
    GROUP BY o.drug_key, o.year, o.metric
),

scored AS (
    SELECT
        o.*,
        m.peer_claims,
        m.median,
        d.mad,
        reporting.robust_z(o.value, m.median, d.mad, d.mean_ad) AS robust_z,
        count(*) OVER (PARTITION BY o.drug_key, o.year, o.metric, o.value) AS same_value_claims
    FROM observations AS o
    INNER JOIN medians AS m ON o.drug_key = m.drug_key AND o.year = m.year AND o.metric = m.metric
    INNER JOIN deviations AS d ON o.drug_key = d.drug_key AND o.year = d.year AND o.metric = d.metric
)

SELECT
    s.claim_key,
    s.date_key,
    s.year,
    s.member_key,
    s.plan_key,
    s.pharmacy_key,
    s.drug_key,
    s.metric,
    s.value,
    s.peer_claims,
    round(s.median::numeric, 5) AS median,
    round(s.mad::numeric, 5) AS mad,
    s.robust_z,
    NULL::smallint AS plan_limit
FROM scored AS s
WHERE abs(s.robust_z) > 3.5 AND s.same_value_claims < 0.05 * s.peer_claims
UNION ALL
SELECT
    f.claim_key,
    f.date_key,
    extract(YEAR FROM f.date_key)::smallint AS year,
    f.member_key,
    f.plan_key,
    f.pharmacy_key,
    f.drug_key,
    'days_supply' AS metric,
    f.days_supply AS value,
    NULL::bigint AS peer_claims,
    NULL::numeric AS median,
    NULL::numeric AS mad,
    NULL::numeric AS robust_z,
    bd.max_days_supply AS plan_limit
FROM reporting.fact_claims AS f
INNER JOIN plan.benefit_designs AS bd ON f.plan_key = bd.plan_id AND f.plan_year = bd.plan_year
WHERE f.is_paid AND f.days_supply > bd.max_days_supply;
CREATE UNIQUE INDEX anomaly_claim_outliers_key_idx ON reporting.anomaly_claim_outliers (claim_key, metric);
CREATE INDEX anomaly_claim_outliers_date_idx ON reporting.anomaly_claim_outliers (date_key);
-- The report's order (plan limits broken first, then the most extreme scores), read from the index.
CREATE INDEX anomaly_claim_outliers_extreme_idx ON reporting.anomaly_claim_outliers (
    abs(robust_z) DESC NULLS FIRST, date_key, claim_key, metric
);
COMMENT ON MATERIALIZED VIEW reporting.anomaly_claim_outliers IS
'Net paid claims out of line with their drug that year: unit cost (ingredient cost paid / quantity) or daily quantity (quantity / days supply) with |robust z| > 3.5 (0.6745 (x - median) / MAD over the drug''s net paid claims of the year; mean absolute deviation x 1.253314 when the MAD is 0; drugs with 5+ claims) and a value fewer than 5 % of those claims share; and days supply above the plan''s maximum for the plan year.';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.claim_key IS 'Claim pseudonym (fact_claims)';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.date_key IS 'Date of service';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.year IS 'Calendar year the statistics are taken over';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.member_key IS 'Member pseudonym';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.plan_key IS 'Plan (dim_plan)';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.pharmacy_key IS 'Pharmacy (dim_pharmacy)';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.drug_key IS 'NDC-11 (dim_drug)';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.metric IS
'unit_cost (ingredient cost paid / quantity), daily_quantity (quantity / days supply) or days_supply (above the plan maximum)';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.value IS 'The claim''s value of the metric';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.peer_claims IS 'Net paid claims of the drug in the year (scored metrics)';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.median IS 'Their median (scored metrics)';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.mad IS 'Their median absolute deviation from the median (scored metrics)';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.robust_z IS 'Robust z-score (positive: above the median); NULL for the days supply rule';
COMMENT ON COLUMN reporting.anomaly_claim_outliers.plan_limit IS 'days_supply: the plan''s maximum days supply that year (plan.benefit_designs)';

-- Per pharmacy and year, five rates against the pharmacies of the same type that year (10+ claims each,
-- 5+ pharmacies in the peer group): robust z as above; every score is kept, outliers flagged.
CREATE MATERIALIZED VIEW reporting.anomaly_pharmacy_outliers AS
WITH pharmacy_years AS (
    SELECT
        extract(YEAR FROM f.date_key)::smallint AS year,
        f.pharmacy_key,
        ph.pharmacy_type,
        count(*) AS claims_submitted,
        count(*) FILTER (WHERE f.is_paid) AS paid_claims,
        count(*) FILTER (WHERE f.transaction_response_status = 'R') AS rejected_claims,
        count(*) FILTER (WHERE f.is_reversed) AS reversed_claims,
        count(*) FILTER (WHERE f.is_paid AND d.multi_source_code IN ('M', 'N', 'O')) AS brand_claims,
        count(*) FILTER (WHERE f.is_paid AND d.multi_source_code = 'Y') AS generic_claims,
        count(*) FILTER (WHERE f.is_paid AND d.dea_schedule > 0) AS controlled_claims,
        sum(f.gross_cost) FILTER (WHERE f.is_paid) AS gross_cost
    FROM reporting.fact_claims AS f
    INNER JOIN network.pharmacies AS ph ON f.pharmacy_key = ph.pharmacy_id
    LEFT JOIN drug.drugs AS d ON f.drug_key = d.ndc11
    GROUP BY extract(YEAR FROM f.date_key), f.pharmacy_key, ph.pharmacy_type
    HAVING count(*) >= 10
),

observations AS (
    SELECT
        py.year,
        py.pharmacy_key,
        py.pharmacy_type,
        py.claims_submitted,
        m.metric,
        m.value
    FROM pharmacy_years AS py
    CROSS JOIN
        LATERAL (
            VALUES
            ('reject_rate_pct', round(100.0 * py.rejected_claims / py.claims_submitted, 4)),
            ('cost_per_claim', round(py.gross_cost / nullif(py.paid_claims, 0), 4)),
            ('brand_rate_pct', round(100.0 * py.brand_claims / nullif(py.brand_claims + py.generic_claims, 0), 4)),
            ('controlled_rate_pct', round(100.0 * py.controlled_claims / nullif(py.paid_claims, 0), 4)),
            ('reversal_rate_pct', round(100.0 * py.reversed_claims / nullif(py.paid_claims + py.reversed_claims, 0), 4))
        ) AS m (metric, value)
    WHERE m.value IS NOT NULL
),

peers AS (
    SELECT
        o.year,
        o.pharmacy_type,
        o.metric,
        count(*) AS peer_pharmacies,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY o.value::double precision) AS median
    FROM observations AS o
    GROUP BY o.year, o.pharmacy_type, o.metric
    HAVING count(*) >= 5
),

deviations AS (
    SELECT
        o.year,
        o.pharmacy_type,
        o.metric,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(o.value::double precision - p.median)) AS mad,
        avg(abs(o.value::double precision - p.median)) AS mean_ad
    FROM observations AS o
    INNER JOIN peers AS p ON o.year = p.year AND o.pharmacy_type = p.pharmacy_type AND o.metric = p.metric
    GROUP BY o.year, o.pharmacy_type, o.metric
)

SELECT
    o.year,
    o.pharmacy_key,
    o.pharmacy_type,
    o.metric,
    o.value,
    o.claims_submitted,
    p.peer_pharmacies,
    round(p.median::numeric, 4) AS peer_median,
    round(d.mad::numeric, 4) AS peer_mad,
    reporting.robust_z(o.value, p.median, d.mad, d.mean_ad) AS robust_z,
    abs(reporting.robust_z(o.value, p.median, d.mad, d.mean_ad)) > 3.5 AS is_outlier
FROM observations AS o
INNER JOIN peers AS p ON o.year = p.year AND o.pharmacy_type = p.pharmacy_type AND o.metric = p.metric
INNER JOIN deviations AS d ON o.year = d.year AND o.pharmacy_type = d.pharmacy_type AND o.metric = d.metric;
CREATE UNIQUE INDEX anomaly_pharmacy_outliers_key_idx ON reporting.anomaly_pharmacy_outliers (
    year, pharmacy_key, metric
);
CREATE INDEX anomaly_pharmacy_outliers_flagged_idx ON reporting.anomaly_pharmacy_outliers (year)
WHERE is_outlier;
COMMENT ON MATERIALIZED VIEW reporting.anomaly_pharmacy_outliers IS
'Pharmacy patterns against peers (same pharmacy type and year; pharmacies with 10+ claims, peer groups of 5+): reject rate, cost per claim, brand rate, controlled-substance rate and reversal rate, each with its robust z-score; is_outlier when |z| > 3.5.';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.year IS 'Calendar year';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.pharmacy_key IS 'Pharmacy (dim_pharmacy)';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.pharmacy_type IS 'Peer group: retail, mail, specialty or long_term_care';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.metric IS
'reject_rate_pct (rejected / submitted), cost_per_claim (allowed / net paid), brand_rate_pct (brand / brand + generic), controlled_rate_pct (controlled / net paid), reversal_rate_pct (reversed / net paid + reversed)';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.value IS 'The pharmacy''s value (percentages 0-100, cost in dollars)';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.claims_submitted IS 'B1 claims of the pharmacy in the year';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.peer_pharmacies IS 'Pharmacies in the peer group with a value';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.peer_median IS 'Median of the peer group';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.peer_mad IS 'Median absolute deviation of the peer group';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.robust_z IS 'Robust z-score of the pharmacy''s value';
COMMENT ON COLUMN reporting.anomaly_pharmacy_outliers.is_outlier IS '|robust_z| > 3.5';

CREATE FUNCTION reporting.anomaly_duplicates(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_limit integer DEFAULT 100
)
RETURNS TABLE (
    date_key date,
    member_key text,
    drug_group text,
    paid_claims bigint,
    pharmacies bigint,
    ndcs bigint,
    gross_cost numeric,
    claim_keys text[]
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        a.date_key,
        a.member_key,
        a.drug_group,
        a.paid_claims,
        a.pharmacies,
        a.ndcs,
        a.gross_cost,
        a.claim_keys
    FROM reporting.anomaly_duplicate_claims AS a
    WHERE a.date_key BETWEEN p_from AND p_to
    ORDER BY a.gross_cost DESC, a.date_key ASC, a.member_key ASC, a.drug_group ASC
    LIMIT reporting.row_limit(p_limit);
END;
COMMENT ON FUNCTION reporting.anomaly_duplicates(date, date, integer) IS
'Possible duplicate claims with dates of service in p_from..p_to: a member with several net paid claims for one drug group on one day; most costly first, at most p_limit rows.';

CREATE FUNCTION reporting.anomaly_claim_outliers(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_metric text DEFAULT NULL,
    p_limit integer DEFAULT 100
)
RETURNS TABLE (
    date_key date,
    claim_key text,
    member_key text,
    drug_key char(11),
    drug_name text,
    pharmacy_npi char(10),
    metric text,
    value numeric,
    median numeric,
    mad numeric,
    robust_z numeric,
    plan_limit smallint
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        o.date_key,
        o.claim_key,
        o.member_key,
        o.drug_key,
        d.drug_name,
        ph.npi AS pharmacy_npi,
        o.metric,
        o.value,
        o.median,
        o.mad,
        o.robust_z,
        o.plan_limit
    FROM reporting.anomaly_claim_outliers AS o
    LEFT JOIN reporting.dim_drug AS d ON o.drug_key = d.drug_key
    LEFT JOIN reporting.dim_pharmacy AS ph ON o.pharmacy_key = ph.pharmacy_key
    WHERE
        o.date_key BETWEEN p_from AND p_to
        AND (nullif(p_metric, '') IS NULL OR o.metric = p_metric)
    ORDER BY abs(o.robust_z) DESC NULLS FIRST, o.date_key ASC, o.claim_key ASC, o.metric ASC
    LIMIT reporting.row_limit(p_limit);
END;
COMMENT ON FUNCTION reporting.anomaly_claim_outliers(date, date, text, integer) IS
'Claims out of line with their drug (unit cost or daily quantity with |robust z| > 3.5 and a rare value) or with days supply above the plan maximum, dates of service in p_from..p_to, one metric (unit_cost, daily_quantity, days_supply) or all; plan limits broken first, then the most extreme; at most p_limit rows.';

CREATE FUNCTION reporting.anomaly_pharmacy_outliers(
    p_year integer DEFAULT NULL,
    p_all boolean DEFAULT FALSE
)
RETURNS TABLE (
    year smallint,
    npi char(10),
    name text,
    pharmacy_type text,
    metric text,
    value numeric,
    peer_pharmacies bigint,
    peer_median numeric,
    peer_mad numeric,
    robust_z numeric,
    is_outlier boolean
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        o.year,
        ph.npi,
        ph.name,
        o.pharmacy_type,
        o.metric,
        o.value,
        o.peer_pharmacies,
        o.peer_median,
        o.peer_mad,
        o.robust_z,
        o.is_outlier
    FROM reporting.anomaly_pharmacy_outliers AS o
    INNER JOIN reporting.dim_pharmacy AS ph ON o.pharmacy_key = ph.pharmacy_key
    WHERE
        (p_year IS NULL OR o.year = p_year)
        AND (p_all OR o.is_outlier)
    ORDER BY o.year ASC, abs(o.robust_z) DESC, ph.npi ASC, o.metric ASC;
END;
COMMENT ON FUNCTION reporting.anomaly_pharmacy_outliers(integer, boolean) IS
'Pharmacies whose reject, cost per claim, brand, controlled-substance or reversal rate stands out from their peers (same type and year, |robust z| > 3.5) in year p_year (NULL: every year); p_all shows every score, not only the outliers.';
