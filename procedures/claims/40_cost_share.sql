-- Cost share in two stages so the batch can run them with window functions: stage 1 is the member's
-- share of one claim given the deductible still open (deductible, copay or coinsurance, insulin cap,
-- vaccines, brand penalty); stage 2 caps what counts toward the out-of-pocket maximum given what was
-- already accumulated. Because stage 1 never depends on the out-of-pocket total, the capped running
-- total of a member is least(maximum, base + running sum of stage-1 amounts): exact, order by order.

CREATE OR REPLACE FUNCTION claims.deductible_applies(
    p_deductible numeric,
    p_deductible_tiers smallint[],
    p_tier smallint,
    p_is_insulin boolean,
    p_insulin_cap_per_month numeric,
    p_insulin_deductible_exempt boolean,
    p_is_vaccine boolean,
    p_acip_vaccines_zero boolean
)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN p_deductible > 0
AND (p_deductible_tiers IS NULL OR p_tier = any(p_deductible_tiers))
AND NOT (p_is_vaccine AND p_acip_vaccines_zero)
AND NOT (p_is_insulin AND (p_insulin_cap_per_month IS NOT NULL OR p_insulin_deductible_exempt));
COMMENT ON FUNCTION claims.deductible_applies(numeric, smallint[], smallint, boolean, numeric, boolean, boolean, boolean)
IS 'Whether the deductible applies to a claim: a deductible tier, not an ACIP vaccine, not a capped or exempt insulin.';

CREATE OR REPLACE FUNCTION claims.cost_share_uncapped(
    p_allowed numeric,
    p_penalty numeric,
    p_deductible_part numeric,
    p_cost_share_type text,
    p_copay_amount numeric,
    p_coinsurance_rate numeric,
    p_min_amount numeric,
    p_max_amount numeric,
    p_days_supply int,
    p_insulin_cap numeric,
    p_zero_cost boolean
)
RETURNS TABLE (deductible_part numeric, copay_part numeric, coinsurance_part numeric, penalty_part numeric)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT
        CASE WHEN p_zero_cost THEN 0.00 ELSE p_deductible_part END AS deductible_part,
        CASE WHEN p_zero_cost OR p_cost_share_type <> 'copay' THEN 0.00 ELSE s.share END AS copay_part,
        CASE WHEN p_zero_cost OR p_cost_share_type <> 'coinsurance' THEN 0.00 ELSE s.share END AS coinsurance_part,
        CASE WHEN p_zero_cost THEN 0.00 ELSE p_penalty END AS penalty_part
    FROM (
        SELECT
            least(
                coalesce(p_insulin_cap * claims.month_supplies(p_days_supply), r.share), r.share
            ) AS share
        FROM (
            SELECT
                CASE p_cost_share_type
                    WHEN 'copay' THEN least(p_copay_amount * claims.month_supplies(p_days_supply), b.rest)
                    ELSE least(b.rest, greatest(
                        coalesce(p_min_amount, 0),
                        least(coalesce(p_max_amount, b.rest), round(b.rest * p_coinsurance_rate, 2))
                    ))
                END AS share
            FROM (SELECT p_allowed - p_penalty - p_deductible_part AS rest LIMIT 1) AS b  -- noqa: AM09
            -- LIMIT 1 (one row anyway) keeps each step a step when the function is inlined into a batch query.
            LIMIT 1  -- noqa: AM09
        ) AS r
        LIMIT 1  -- noqa: AM09
    ) AS s;
END;
COMMENT ON FUNCTION claims.cost_share_uncapped(
    numeric, numeric, numeric, text, numeric, numeric, numeric, numeric, int, numeric, boolean
) IS
'Stage 1 of cost sharing for one claim: the deductible part (given), then the tier copay per month supply or the coinsurance (rounded to cents, within its minimum and maximum) on the rest of the allowed amount net of the brand penalty, at most p_insulin_cap per month supply for insulin, all $0 for an ACIP vaccine; plus the brand penalty.';

CREATE OR REPLACE FUNCTION claims.cost_share_capped(
    p_allowed numeric,
    p_deductible_part numeric,
    p_copay_part numeric,
    p_coinsurance_part numeric,
    p_penalty_part numeric,
    p_penalty_counts boolean,
    p_oop_before numeric,
    p_oop_max numeric
)
RETURNS TABLE (
    amount_applied_to_deductible numeric,
    amount_of_copay numeric,
    amount_of_coinsurance numeric,
    amount_attributed_to_product_selection numeric,
    patient_pay_amount numeric,
    oop_delta numeric,
    stage_deductible_amount numeric,
    stage_initial_amount numeric,
    stage_catastrophic_amount numeric
)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT
        d1.ded_paid AS amount_applied_to_deductible,
        d2.copay_paid AS amount_of_copay,
        d3.coins_paid AS amount_of_coinsurance,
        d3.penalty_paid AS amount_attributed_to_product_selection,
        d1.ded_paid + d2.copay_paid + d3.coins_paid + d3.penalty_paid AS patient_pay_amount,
        c.paid AS oop_delta,
        d1.ded_paid AS stage_deductible_amount,
        i.initial AS stage_initial_amount,
        p_allowed - d1.ded_paid - i.initial AS stage_catastrophic_amount
    FROM (
        SELECT
            x.countable,
            least(x.countable, greatest(0, p_oop_max - p_oop_before)) AS paid
        FROM (
            SELECT
                p_deductible_part + p_copay_part + p_coinsurance_part
                + CASE WHEN p_penalty_counts THEN p_penalty_part ELSE 0 END AS countable
            LIMIT 1  -- noqa: AM09
        ) AS x
        -- LIMIT 1 (one row anyway) keeps each step a step when the function is inlined into a batch query.
        LIMIT 1  -- noqa: AM09
    ) AS c
    -- What the member pays goes to the deductible first, then copay, coinsurance, a counting penalty.
    CROSS JOIN
        LATERAL (
            SELECT
                least(p_deductible_part, c.paid) AS ded_paid,
                c.paid - least(p_deductible_part, c.paid) AS rest
            LIMIT 1  -- noqa: AM09
        ) AS d1
    CROSS JOIN
        LATERAL (
            SELECT
                least(p_copay_part, d1.rest) AS copay_paid,
                d1.rest - least(p_copay_part, d1.rest) AS rest
            LIMIT 1  -- noqa: AM09
        ) AS d2
    CROSS JOIN
        LATERAL (
            SELECT
                least(p_coinsurance_part, d2.rest) AS coins_paid,
                CASE WHEN p_penalty_counts THEN d2.rest - least(p_coinsurance_part, d2.rest) ELSE p_penalty_part END
                    AS penalty_paid
            LIMIT 1  -- noqa: AM09
        ) AS d3
    CROSS JOIN LATERAL (
        -- The part of the allowed amount past the deductible that fell before the maximum was reached,
        -- in proportion to the share of the post-deductible cost share the member still paid.
        SELECT
            CASE
                WHEN c.paid = c.countable THEN p_allowed - p_deductible_part
                WHEN c.countable - p_deductible_part <= 0 THEN 0.00
                ELSE
                    round(
                        (p_allowed - p_deductible_part) * (c.paid - d1.ded_paid) / (c.countable - p_deductible_part), 2
                    )
            END AS initial
        LIMIT 1  -- noqa: AM09
    ) AS i;
END;
COMMENT ON FUNCTION claims.cost_share_capped(numeric, numeric, numeric, numeric, numeric, boolean, numeric, numeric) IS
'Stage 2 of cost sharing: what the member pays of the stage-1 parts once the out-of-pocket maximum (Part D threshold) is applied — deductible first, then copay/coinsurance, then a counting brand penalty; a non-counting penalty is always paid. Returns the NCPDP patient pay components, the out-of-pocket delta and the benefit stage amounts (deductible, initial, catastrophic) that add up to the allowed amount.';
