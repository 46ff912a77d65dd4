-- Pharmacy network performance: volume, cost per claim, reject rate and generic rate per pharmacy and month.

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
