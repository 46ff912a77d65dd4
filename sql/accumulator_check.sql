-- Runbook: accumulator consistency check.
--
-- What: recomputes every member's accumulators (deductible, out-of-pocket / TrOOP, gross covered drug cost) per
--       plan year from the claims and compares them with claims.accumulators: accumulator = sum of the ledger
--       deltas (deductible_delta, oop_delta, gross_cost_delta) of the paid (P) B1 claims that are not reversed
--       (ops.check_accumulators); checks the ledger the sums rely on (reversals mirror their claims:
--       ops.check_reversals; deltas agree with the claim amounts: ops.check_claim_deltas); prints every
--       finding with the member, the plan year, expected and actual, and fails (exit 3) on any.
--       Plan years with archived claim months are left out (ops.archived_claim_years()).
-- When: nightly after the ETL and batch adjudication (cron, or `pbm db check`, which runs these and the M3P
--       checks), and before and after any manual correction of claims or accumulators.
-- How:  psql -X -v ON_ERROR_STOP=1 -d pbm -f sql/accumulator_check.sql
--           -v plan_year=2026    only this plan year (default: every plan year)
--       As the owner or pbm_admin. Read-only: safe to run at any time and to re-run.
\if :{?plan_year}
\else
\set plan_year ''
\endif

\echo '== accumulators per plan year'
SELECT
    a.plan_year,
    count(*) AS members,
    sum(a.deductible_accumulated) AS deductible_accumulated,
    sum(a.oop_accumulated) AS oop_accumulated,
    sum(a.gross_cost_accumulated) AS gross_cost_accumulated
FROM claims.accumulators AS a
WHERE nullif(:'plan_year', '') IS NULL OR a.plan_year = nullif(:'plan_year', '')::smallint
GROUP BY a.plan_year
ORDER BY a.plan_year;

\echo '== findings (no row: every accumulator equals its claims)'
CREATE TEMPORARY TABLE accumulator_findings AS
SELECT
    f.check_name,
    f.member_id,
    f.plan_year,
    f.key,
    f.detail
FROM ops.check_accumulators(nullif(:'plan_year', '')::smallint) AS f
UNION ALL
SELECT
    f.check_name,
    f.member_id,
    f.plan_year,
    f.key,
    f.detail
FROM ops.check_reversals() AS f
WHERE nullif(:'plan_year', '') IS NULL OR f.plan_year = nullif(:'plan_year', '')::smallint
UNION ALL
SELECT
    f.check_name,
    f.member_id,
    f.plan_year,
    f.key,
    f.detail
FROM ops.check_claim_deltas() AS f
WHERE nullif(:'plan_year', '') IS NULL OR f.plan_year = nullif(:'plan_year', '')::smallint;

SELECT
    f.check_name,
    f.key,
    f.detail
FROM accumulator_findings AS f
ORDER BY f.member_id, f.plan_year, f.check_name, f.detail;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_temp.accumulator_findings) THEN
        RAISE EXCEPTION '% accumulator finding(s) (listed above)', (SELECT count(*) FROM pg_temp.accumulator_findings)
            USING HINT = 'see docs/operations.md, "What to do on a finding"';
    END IF;
END;
$$;
