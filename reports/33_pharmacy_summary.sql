-- Pharmacy network performance (volume, cost per claim, reject rate, generic rate per pharmacy and month)
-- and rejection analysis by pharmacy. Period totals per pharmacy come from running totals (the row of the
-- last month minus the row of the month before the first). Report functions read this file's views and
-- the dimension views.

DROP FUNCTION IF EXISTS reporting.pharmacy_network_performance(date, date, text, integer);
DROP FUNCTION IF EXISTS reporting.rejections_by_pharmacy(date, date, integer);
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_pharmacy_reject_codes;
DROP MATERIALIZED VIEW IF EXISTS reporting.pharmacy_running_totals;
DROP VIEW IF EXISTS reporting.pharmacy_network_performance;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_pharmacy_summary;

CREATE MATERIALIZED VIEW reporting.monthly_pharmacy_summary AS
SELECT
    f.month,
    f.pharmacy_key,
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
    count(*) FILTER (WHERE f.is_paid AND d.dea_schedule > 0) AS controlled_claims,
    count(DISTINCT f.member_key) FILTER (WHERE f.is_paid) AS members_served
FROM reporting.fact_claims AS f
LEFT JOIN drug.drugs AS d ON f.drug_key = d.ndc11
GROUP BY f.month, f.pharmacy_key;
CREATE UNIQUE INDEX monthly_pharmacy_summary_key_idx ON reporting.monthly_pharmacy_summary (
    month, pharmacy_key
) NULLS NOT DISTINCT;
CREATE INDEX monthly_pharmacy_summary_pharmacy_idx ON reporting.monthly_pharmacy_summary (pharmacy_key, month);
COMMENT ON MATERIALIZED VIEW reporting.monthly_pharmacy_summary IS
'Claims, cost, rejects, reversals, generic and controlled-substance volume per month and dispensing pharmacy.';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.pharmacy_key IS 'Pharmacy (dim_pharmacy); NULL = unknown pharmacy';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.claims_submitted IS 'B1 transactions';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.rejected_claims IS 'Rejected claims';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.reversed_claims IS 'Paid claims later reversed';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.duplicate_claims IS 'Duplicates of paid claims (status D)';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.gross_cost IS 'Allowed cost of net paid claims';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.plan_paid IS 'Paid by the plans';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.member_paid IS 'Paid by members';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.days_supply IS 'Days supply of net paid claims';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.generic_claims IS 'Net paid generic claims';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.brand_claims IS 'Net paid brand claims';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.controlled_claims IS 'Net paid claims for DEA controlled substances (schedule 2-5)';
COMMENT ON COLUMN reporting.monthly_pharmacy_summary.members_served IS 'Distinct members with net paid claims (not additive across months)';

CREATE VIEW reporting.pharmacy_network_performance AS
SELECT
    s.month,
    s.pharmacy_key,
    ph.npi,
    ph.name,
    ph.pharmacy_type,
    ph.state,
    s.claims_submitted,
    s.paid_claims,
    s.rejected_claims,
    s.gross_cost,
    round(s.gross_cost / nullif(s.paid_claims, 0), 2) AS cost_per_claim,
    round(100.0 * s.rejected_claims / nullif(s.claims_submitted, 0), 2) AS reject_rate_pct,
    round(100.0 * s.generic_claims / nullif(s.generic_claims + s.brand_claims, 0), 2) AS generic_rate_pct,
    round(100.0 * s.reversed_claims / nullif(s.paid_claims + s.reversed_claims, 0), 2) AS reversal_rate_pct,
    round(s.days_supply::numeric / nullif(s.paid_claims, 0), 1) AS avg_days_supply
FROM reporting.monthly_pharmacy_summary AS s
LEFT JOIN network.pharmacies AS ph ON s.pharmacy_key = ph.pharmacy_id;
COMMENT ON VIEW reporting.pharmacy_network_performance IS
'Pharmacy network performance per pharmacy and month: volume, cost per claim, reject rate, generic rate, reversal rate.';
COMMENT ON COLUMN reporting.pharmacy_network_performance.month IS 'First day of the month';
COMMENT ON COLUMN reporting.pharmacy_network_performance.pharmacy_key IS 'Pharmacy (dim_pharmacy)';
COMMENT ON COLUMN reporting.pharmacy_network_performance.npi IS 'Pharmacy NPI';
COMMENT ON COLUMN reporting.pharmacy_network_performance.name IS 'Pharmacy name';
COMMENT ON COLUMN reporting.pharmacy_network_performance.pharmacy_type IS 'retail, mail, specialty or long_term_care';
COMMENT ON COLUMN reporting.pharmacy_network_performance.state IS 'State of the pharmacy';
COMMENT ON COLUMN reporting.pharmacy_network_performance.claims_submitted IS 'B1 transactions';
COMMENT ON COLUMN reporting.pharmacy_network_performance.paid_claims IS 'Net paid claims';
COMMENT ON COLUMN reporting.pharmacy_network_performance.rejected_claims IS 'Rejected claims';
COMMENT ON COLUMN reporting.pharmacy_network_performance.gross_cost IS 'Allowed cost of net paid claims';
COMMENT ON COLUMN reporting.pharmacy_network_performance.cost_per_claim IS 'gross_cost / paid_claims';
COMMENT ON COLUMN reporting.pharmacy_network_performance.reject_rate_pct IS '100 x rejected / submitted claims';
COMMENT ON COLUMN reporting.pharmacy_network_performance.generic_rate_pct IS '100 x generic / (generic + brand) net paid claims';
COMMENT ON COLUMN reporting.pharmacy_network_performance.reversal_rate_pct IS '100 x reversed / (net paid + reversed) claims';
COMMENT ON COLUMN reporting.pharmacy_network_performance.avg_days_supply IS 'Average days supply of net paid claims';

CREATE MATERIALIZED VIEW reporting.pharmacy_running_totals AS
WITH bounds AS (
    SELECT
        min(s.month) AS first_month,
        max(s.month) AS last_month
    FROM reporting.monthly_pharmacy_summary AS s
),

calendar AS (
    SELECT g.m::date AS month
    FROM bounds AS b
    CROSS JOIN LATERAL generate_series(b.first_month, b.last_month, interval '1 month') AS g (m)
),

pharmacies AS (
    SELECT DISTINCT s.pharmacy_key
    FROM reporting.monthly_pharmacy_summary AS s
    WHERE s.pharmacy_key IS NOT NULL
)

SELECT
    c.month,
    ph.pharmacy_key,
    (sum(coalesce(s.claims_submitted, 0)) OVER w)::bigint AS claims_submitted,
    (sum(coalesce(s.paid_claims, 0)) OVER w)::bigint AS paid_claims,
    (sum(coalesce(s.rejected_claims, 0)) OVER w)::bigint AS rejected_claims,
    (sum(coalesce(s.reversed_claims, 0)) OVER w)::bigint AS reversed_claims,
    sum(coalesce(s.gross_cost, 0)) OVER w AS gross_cost,
    (sum(coalesce(s.generic_claims, 0)) OVER w)::bigint AS generic_claims,
    (sum(coalesce(s.brand_claims, 0)) OVER w)::bigint AS brand_claims,
    (sum(coalesce(s.days_supply, 0)) OVER w)::bigint AS days_supply
FROM calendar AS c
CROSS JOIN pharmacies AS ph
LEFT JOIN reporting.monthly_pharmacy_summary AS s ON c.month = s.month AND ph.pharmacy_key = s.pharmacy_key
WINDOW w AS (PARTITION BY ph.pharmacy_key ORDER BY c.month);
CREATE UNIQUE INDEX pharmacy_running_totals_key_idx ON reporting.pharmacy_running_totals (month, pharmacy_key);
COMMENT ON MATERIALIZED VIEW reporting.pharmacy_running_totals IS
'Running totals per known pharmacy: for every month from the first to the last month of service, the totals from the first month through that one. Totals of months a..b = row of b minus row of the month before a.';
COMMENT ON COLUMN reporting.pharmacy_running_totals.month IS 'The month the totals run through (first day)';
COMMENT ON COLUMN reporting.pharmacy_running_totals.pharmacy_key IS 'Pharmacy (dim_pharmacy)';
COMMENT ON COLUMN reporting.pharmacy_running_totals.claims_submitted IS 'B1 transactions so far';
COMMENT ON COLUMN reporting.pharmacy_running_totals.paid_claims IS 'Net paid claims so far';
COMMENT ON COLUMN reporting.pharmacy_running_totals.rejected_claims IS 'Rejected claims so far';
COMMENT ON COLUMN reporting.pharmacy_running_totals.reversed_claims IS 'Reversed claims so far';
COMMENT ON COLUMN reporting.pharmacy_running_totals.gross_cost IS 'Allowed cost of net paid claims so far';
COMMENT ON COLUMN reporting.pharmacy_running_totals.generic_claims IS 'Net paid generic claims so far';
COMMENT ON COLUMN reporting.pharmacy_running_totals.brand_claims IS 'Net paid brand claims so far';
COMMENT ON COLUMN reporting.pharmacy_running_totals.days_supply IS 'Days supply of net paid claims so far';

CREATE MATERIALIZED VIEW reporting.monthly_pharmacy_reject_codes AS
SELECT
    f.month,
    f.pharmacy_key,
    r.reject_code::varchar(3) AS reject_code,
    count(*) AS rejected_claims
FROM reporting.fact_claims AS f
CROSS JOIN LATERAL unnest(f.reject_codes) AS r (reject_code)
WHERE f.transaction_response_status = 'R'
GROUP BY f.month, f.pharmacy_key, r.reject_code;
CREATE UNIQUE INDEX monthly_pharmacy_reject_codes_key_idx ON reporting.monthly_pharmacy_reject_codes (
    month, pharmacy_key, reject_code
) NULLS NOT DISTINCT;
CREATE INDEX monthly_pharmacy_reject_codes_pharmacy_idx ON reporting.monthly_pharmacy_reject_codes (
    pharmacy_key, month
);
COMMENT ON MATERIALIZED VIEW reporting.monthly_pharmacy_reject_codes IS
'Rejected claims per month, pharmacy and reject code (a claim with several codes counts under each).';
COMMENT ON COLUMN reporting.monthly_pharmacy_reject_codes.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_pharmacy_reject_codes.pharmacy_key IS 'Pharmacy (dim_pharmacy); NULL = unknown pharmacy';
COMMENT ON COLUMN reporting.monthly_pharmacy_reject_codes.reject_code IS 'NCPDP 511-FB Reject Code';
COMMENT ON COLUMN reporting.monthly_pharmacy_reject_codes.rejected_claims IS 'Rejected claims carrying the code';

CREATE FUNCTION reporting.pharmacy_network_performance(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_pharmacy_type text DEFAULT NULL,
    p_limit integer DEFAULT 50
)
RETURNS TABLE (
    npi char(10),
    name text,
    pharmacy_type text,
    state char(2),
    claims_submitted bigint,
    paid_claims bigint,
    gross_cost numeric,
    cost_per_claim numeric,
    reject_rate_pct numeric,
    generic_rate_pct numeric,
    reversal_rate_pct numeric,
    avg_days_supply numeric
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
        FROM reporting.pharmacy_running_totals AS r
    ),

    pharmacies AS (
        SELECT
            hi.pharmacy_key,
            hi.claims_submitted - coalesce(lo.claims_submitted, 0) AS claims_submitted,
            hi.paid_claims - coalesce(lo.paid_claims, 0) AS paid_claims,
            hi.rejected_claims - coalesce(lo.rejected_claims, 0) AS rejected_claims,
            hi.reversed_claims - coalesce(lo.reversed_claims, 0) AS reversed_claims,
            hi.gross_cost - coalesce(lo.gross_cost, 0) AS gross_cost,
            hi.generic_claims - coalesce(lo.generic_claims, 0) AS generic_claims,
            hi.brand_claims - coalesce(lo.brand_claims, 0) AS brand_claims,
            hi.days_supply - coalesce(lo.days_supply, 0) AS days_supply
        FROM bounds AS b
        INNER JOIN reporting.pharmacy_running_totals AS hi ON b.to_month = hi.month
        LEFT JOIN (
            SELECT r.*
            FROM bounds AS bb
            INNER JOIN reporting.pharmacy_running_totals AS r ON bb.before_month = r.month
        ) AS lo ON hi.pharmacy_key = lo.pharmacy_key
        WHERE b.from_month <= b.to_month
    )

    SELECT
        ph.npi,
        ph.name,
        ph.pharmacy_type,
        ph.state,
        x.claims_submitted,
        x.paid_claims,
        x.gross_cost,
        round(x.gross_cost / nullif(x.paid_claims, 0), 2) AS cost_per_claim,
        round(100.0 * x.rejected_claims / x.claims_submitted, 2) AS reject_rate_pct,
        round(100.0 * x.generic_claims / nullif(x.generic_claims + x.brand_claims, 0), 2) AS generic_rate_pct,
        round(100.0 * x.reversed_claims / nullif(x.paid_claims + x.reversed_claims, 0), 2) AS reversal_rate_pct,
        round(x.days_supply::numeric / nullif(x.paid_claims, 0), 1) AS avg_days_supply
    FROM pharmacies AS x
    INNER JOIN reporting.dim_pharmacy AS ph ON x.pharmacy_key = ph.pharmacy_key
    WHERE
        x.claims_submitted > 0
        AND p_pharmacy_type IS NULL
        OR p_pharmacy_type = ''
        OR ph.pharmacy_type = p_pharmacy_type
    ORDER BY x.claims_submitted DESC, ph.npi ASC
    LIMIT reporting.row_limit(p_limit);
END;
COMMENT ON FUNCTION reporting.pharmacy_network_performance(date, date, text, integer) IS
'Pharmacy network performance over the months starting in p_from..p_to: per pharmacy (of p_pharmacy_type, or all) volume, allowed cost, cost per net paid claim, reject rate, generic rate, reversal rate and average days supply; busiest first, at most p_limit rows.';

CREATE FUNCTION reporting.rejections_by_pharmacy(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31',
    p_limit integer DEFAULT 20
)
RETURNS TABLE (
    npi char(10),
    name text,
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
        FROM reporting.pharmacy_running_totals AS r
    ),

    pharmacies AS (
        SELECT
            hi.pharmacy_key,
            hi.claims_submitted - coalesce(lo.claims_submitted, 0) AS claims_submitted,
            hi.rejected_claims - coalesce(lo.rejected_claims, 0) AS rejected_claims
        FROM bounds AS b
        INNER JOIN reporting.pharmacy_running_totals AS hi ON b.to_month = hi.month
        LEFT JOIN (
            SELECT r.*
            FROM bounds AS bb
            INNER JOIN reporting.pharmacy_running_totals AS r ON bb.before_month = r.month
        ) AS lo ON hi.pharmacy_key = lo.pharmacy_key
        WHERE b.from_month <= b.to_month AND hi.rejected_claims - coalesce(lo.rejected_claims, 0) > 0
        ORDER BY rejected_claims DESC, hi.pharmacy_key ASC
        LIMIT reporting.row_limit(p_limit)
    )

    SELECT
        ph.npi,
        ph.name,
        x.claims_submitted,
        x.rejected_claims,
        round(100.0 * x.rejected_claims / x.claims_submitted, 2) AS reject_rate_pct,
        c.reject_code AS top_reject_code,
        c.rejected_claims AS top_reject_code_claims
    FROM pharmacies AS x
    INNER JOIN reporting.dim_pharmacy AS ph ON x.pharmacy_key = ph.pharmacy_key
    LEFT JOIN LATERAL (
        SELECT
            r.reject_code,
            sum(r.rejected_claims)::bigint AS rejected_claims
        FROM reporting.monthly_pharmacy_reject_codes AS r
        WHERE
            r.pharmacy_key = x.pharmacy_key
            AND r.month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
        GROUP BY r.reject_code
        ORDER BY rejected_claims DESC, r.reject_code ASC
        LIMIT 1
    ) AS c ON TRUE
    ORDER BY x.rejected_claims DESC, ph.npi ASC;
END;
COMMENT ON FUNCTION reporting.rejections_by_pharmacy(date, date, integer) IS
'Rejection analysis by pharmacy over the months starting in p_from..p_to: claims submitted and rejected, reject rate and the most frequent reject code, most rejected first (ties: the pharmacy first known); at most p_limit rows. Claims from an unknown pharmacy: rejections_by_code.';
