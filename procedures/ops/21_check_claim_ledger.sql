-- Consistency of the claim ledger itself, which the accumulator check relies on: a reversal (B2, status A)
-- mirrors the paid claim it reverses and the two point at each other; only paid and reversal rows carry
-- accumulator deltas, and a paid claim's deltas agree with its amounts.

CREATE OR REPLACE FUNCTION ops.check_reversals()
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        'reversals_mirror_their_claims' AS check_name,
        'error' AS severity,
        format('reversal claim %s', r.claim_id) AS key,
        r.member_id,
        r.plan_year,
        CASE
            WHEN o.claim_id IS NULL
                THEN format('reverses claim %s, which is not in claims.claims', r.reversal_of_claim_id)
            WHEN o.transaction_response_status <> 'P' OR NOT coalesce(o.reversed_by_claim_id = r.claim_id, FALSE)
                THEN format(
                    'reverses claim %s (status %s), which names %s as its reversal', o.claim_id,
                    o.transaction_response_status, coalesce(o.reversed_by_claim_id::text, 'no claim')
                )
            WHEN NOT coalesce(o.member_id = r.member_id AND o.plan_year = r.plan_year, FALSE)
                THEN format(
                    'member %s / plan year %s, but the reversed claim %s is member %s / plan year %s',
                    r.member_id, r.plan_year, o.claim_id, o.member_id, o.plan_year
                )
            ELSE format(
                'deltas (deductible, oop, gross cost): expected %s, %s, %s (claim %s negated), actual %s, %s, %s',
                -o.deductible_delta, -o.oop_delta, -o.gross_cost_delta, o.claim_id,
                r.deductible_delta, r.oop_delta, r.gross_cost_delta
            )
        END AS detail
    FROM claims.claims AS r
    LEFT JOIN claims.claims AS o ON r.reversal_of_claim_id = o.claim_id AND r.date_of_service = o.date_of_service
    WHERE
        r.transaction_response_status = 'A'
        AND (
            o.claim_id IS NULL
            OR o.transaction_response_status <> 'P'
            OR o.reversed_by_claim_id IS DISTINCT FROM r.claim_id
            OR o.member_id IS DISTINCT FROM r.member_id
            OR o.plan_year IS DISTINCT FROM r.plan_year
            OR r.deductible_delta <> -o.deductible_delta
            OR r.oop_delta <> -o.oop_delta
            OR r.gross_cost_delta <> -o.gross_cost_delta
        )
    UNION ALL
    SELECT
        'reversals_mirror_their_claims' AS check_name,
        'error' AS severity,
        format('claim %s', o.claim_id) AS key,
        o.member_id,
        o.plan_year,
        format('marked reversed by claim %s, which is not its accepted reversal', o.reversed_by_claim_id) AS detail
    FROM claims.claims AS o
    WHERE
        o.reversed_by_claim_id IS NOT NULL
        AND NOT EXISTS (
            SELECT
            FROM claims.claims AS r
            WHERE
                r.claim_id = o.reversed_by_claim_id AND r.date_of_service = o.date_of_service
                AND r.transaction_response_status = 'A' AND r.reversal_of_claim_id = o.claim_id
        )
    ORDER BY key;
END;
COMMENT ON FUNCTION ops.check_reversals() IS
'Consistency: every accepted reversal (status A) points at a paid claim of the same member and plan year that points back at it, with the accumulator deltas negated; every claim marked reversed has that reversal. One finding per claim that breaks it.';

CREATE OR REPLACE FUNCTION ops.check_claim_deltas()
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        'claim_deltas_agree_with_amounts' AS check_name,
        'error' AS severity,
        format('claim %s', c.claim_id) AS key,
        c.member_id,
        c.plan_year,
        CASE
            WHEN c.transaction_response_status NOT IN ('P', 'A')
                THEN format(
                    'status %s adds nothing to the accumulators: expected deltas 0.00, 0.00, 0.00, actual %s, %s, %s',
                    c.transaction_response_status, c.deductible_delta, c.oop_delta, c.gross_cost_delta
                )
            WHEN c.gross_cost_delta <> c.ingredient_cost_paid + c.dispensing_fee_paid
                THEN format(
                    'gross_cost_delta: expected %s (ingredient cost paid + dispensing fee paid), actual %s',
                    c.ingredient_cost_paid + c.dispensing_fee_paid, c.gross_cost_delta
                )
            WHEN c.deductible_delta < 0
                THEN format('deductible_delta: expected at least 0.00, actual %s', c.deductible_delta)
            ELSE format(
                'oop_delta: expected between 0.00 and the patient pay amount %s, actual %s',
                c.patient_pay_amount, c.oop_delta
            )
        END AS detail
    FROM claims.claims AS c
    WHERE
        (
            c.transaction_response_status NOT IN ('P', 'A')
            AND (c.deductible_delta <> 0 OR c.oop_delta <> 0 OR c.gross_cost_delta <> 0)
        )
        OR (
            c.transaction_response_status = 'P'
            AND (
                c.gross_cost_delta <> c.ingredient_cost_paid + c.dispensing_fee_paid
                OR c.deductible_delta < 0
                OR c.oop_delta < 0
                OR c.oop_delta > c.patient_pay_amount
            )
        )
    ORDER BY c.claim_id;
END;
COMMENT ON FUNCTION ops.check_claim_deltas() IS
'Consistency: rejected and duplicate claims carry no accumulator deltas; a paid claim''s gross cost delta is its allowed amount (ingredient cost paid + dispensing fee paid), its deductible delta is not negative and its out-of-pocket delta lies between 0 and its patient pay amount (a DAW penalty that does not count to out-of-pocket is the difference).';
