-- Rejection analysis: rejected claims per reject code by plan, by pharmacy and by drug, per month.
-- A claim with several reject codes counts once under each of its codes.

DROP VIEW IF EXISTS reporting.rejections_by_code;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_reject_codes;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_pharmacy_reject_codes;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_drug_reject_codes;

CREATE MATERIALIZED VIEW reporting.monthly_reject_codes AS
WITH totals AS (
    SELECT
        f.month,
        f.plan_key,
        count(*) AS claims_submitted,
        count(*) FILTER (WHERE f.transaction_response_status = 'R') AS claims_rejected
    FROM reporting.fact_claims AS f
    GROUP BY f.month, f.plan_key
),

codes AS (
    SELECT
        f.month,
        f.plan_key,
        r.reject_code::varchar(3) AS reject_code,
        count(*) AS rejected_claims,
        count(*) FILTER (WHERE r.position = 1) AS first_code_claims
    FROM reporting.fact_claims AS f
    CROSS JOIN LATERAL unnest(f.reject_codes) WITH ORDINALITY AS r (reject_code, position)
    WHERE f.transaction_response_status = 'R'
    GROUP BY f.month, f.plan_key, r.reject_code
)

SELECT
    c.month,
    c.plan_key,
    c.reject_code,
    c.rejected_claims,
    c.first_code_claims,
    t.claims_rejected AS plan_claims_rejected,
    t.claims_submitted AS plan_claims_submitted
FROM codes AS c
INNER JOIN totals AS t ON c.month = t.month AND c.plan_key IS NOT DISTINCT FROM t.plan_key;
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
COMMENT ON COLUMN reporting.monthly_reject_codes.plan_claims_rejected IS 'All rejected claims of the plan in the month (denominator of shares)';
COMMENT ON COLUMN reporting.monthly_reject_codes.plan_claims_submitted IS 'All B1 claims of the plan in the month';

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
COMMENT ON MATERIALIZED VIEW reporting.monthly_pharmacy_reject_codes IS 'Rejected claims per month, pharmacy and reject code.';
COMMENT ON COLUMN reporting.monthly_pharmacy_reject_codes.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_pharmacy_reject_codes.pharmacy_key IS 'Pharmacy (dim_pharmacy); NULL = unknown pharmacy';
COMMENT ON COLUMN reporting.monthly_pharmacy_reject_codes.reject_code IS 'NCPDP 511-FB Reject Code';
COMMENT ON COLUMN reporting.monthly_pharmacy_reject_codes.rejected_claims IS 'Rejected claims carrying the code';

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
COMMENT ON MATERIALIZED VIEW reporting.monthly_drug_reject_codes IS 'Rejected claims per month, drug and reject code.';
COMMENT ON COLUMN reporting.monthly_drug_reject_codes.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.monthly_drug_reject_codes.drug_key IS 'NDC-11 (dim_drug); NULL = products not in the catalog';
COMMENT ON COLUMN reporting.monthly_drug_reject_codes.reject_code IS 'NCPDP 511-FB Reject Code';
COMMENT ON COLUMN reporting.monthly_drug_reject_codes.rejected_claims IS 'Rejected claims carrying the code';

CREATE VIEW reporting.rejections_by_code AS
SELECT
    r.month,
    r.plan_key,
    p.plan_code,
    r.reject_code,
    c.description,
    r.rejected_claims,
    r.first_code_claims,
    round(100.0 * r.rejected_claims / nullif(r.plan_claims_rejected, 0), 2) AS share_of_rejected_pct,
    round(100.0 * r.rejected_claims / nullif(r.plan_claims_submitted, 0), 2) AS share_of_submitted_pct
FROM reporting.monthly_reject_codes AS r
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
