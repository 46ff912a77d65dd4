-- Accumulator consistency. Every paid claim carries what it added to its member's accumulators for the
-- plan year (ledger columns deductible_delta, oop_delta, gross_cost_delta), written in the same
-- transaction as the accumulator update by api.adjudicate (claims.adjudicate_claim) and
-- claims.adjudicate_batch; api.reverse (claims.reverse_claim) stores a B2 row with the deltas negated,
-- marks the original reversed and moves the accumulators back by exactly that. Rejected and duplicate
-- claims add nothing. So for every member and plan year:
--   accumulator = sum of the deltas of the paid (P) B1 claims that are not reversed
-- (equivalently the sum over P and A rows; ops.check_reversals checks that the two agree).
-- Plan years with archived claim months are left out (their claims are no longer all attached).

CREATE OR REPLACE FUNCTION ops.check_accumulators(p_plan_year smallint DEFAULT NULL)
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH archived AS (
        SELECT y.plan_year FROM ops.archived_claim_years() AS y
    ),

    paid AS (
        SELECT
            c.member_id,
            c.plan_year,
            count(*) AS claims,
            sum(c.deductible_delta) AS deductible,
            sum(c.oop_delta) AS oop,
            sum(c.gross_cost_delta) AS gross_cost
        FROM claims.claims AS c
        WHERE
            c.transaction_code = 'B1' AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL
            AND (p_plan_year IS NULL OR c.plan_year = p_plan_year)
            AND c.plan_year NOT IN (SELECT a.plan_year FROM archived AS a)
        GROUP BY c.member_id, c.plan_year
    ),

    accumulated AS (
        SELECT
            a.member_id,
            a.plan_year,
            a.deductible_accumulated,
            a.oop_accumulated,
            a.gross_cost_accumulated
        FROM claims.accumulators AS a
        WHERE
            (p_plan_year IS NULL OR a.plan_year = p_plan_year)
            AND a.plan_year NOT IN (SELECT x.plan_year FROM archived AS x)
    ),

    compared AS (
        SELECT
            coalesce(a.member_id, p.member_id) AS member_id,
            coalesce(a.plan_year, p.plan_year) AS plan_year,
            a.member_id IS NULL AS no_accumulator_row,
            coalesce(p.claims, 0) AS claims,
            v.accumulator,
            v.expected,
            v.actual
        FROM accumulated AS a
        FULL JOIN paid AS p ON a.member_id = p.member_id AND a.plan_year = p.plan_year
        CROSS JOIN LATERAL (
            VALUES
            ('deductible_accumulated', coalesce(p.deductible, 0), coalesce(a.deductible_accumulated, 0)),
            ('oop_accumulated', coalesce(p.oop, 0), coalesce(a.oop_accumulated, 0)),
            ('gross_cost_accumulated', coalesce(p.gross_cost, 0), coalesce(a.gross_cost_accumulated, 0))
        ) AS v (accumulator, expected, actual)
    )

    SELECT
        'accumulators_match_paid_claims' AS check_name,
        'error' AS severity,
        format('member %s, plan year %s', c.member_id, c.plan_year) AS key,
        c.member_id,
        c.plan_year,
        format(
            '%s: expected %s (sum over %s paid, not reversed claim(s)), actual %s%s, difference %s',
            c.accumulator, to_char(c.expected, 'FM999999999990.00'), c.claims,
            to_char(c.actual, 'FM999999999990.00'),
            CASE WHEN c.no_accumulator_row THEN ' (no accumulator row)' ELSE '' END,
            to_char(c.actual - c.expected, 'FMS999999999990.00')
        ) AS detail
    FROM compared AS c
    WHERE c.expected <> c.actual
    ORDER BY c.member_id, c.plan_year, c.accumulator;
END;
COMMENT ON FUNCTION ops.check_accumulators(smallint) IS
'Consistency: for every member and plan year (or only p_plan_year), claims.accumulators (deductible, out-of-pocket, gross drug cost) equals the sum of the ledger deltas of the paid, not reversed B1 claims; one finding per accumulator that differs, with expected, actual and the difference. Plan years with archived claim months are skipped (ops.archived_claim_years).';
