-- Pricing: the lesser of the contract price (ingredient + dispensing fee), usual & customary and the
-- gross amount due; the ingredient cost is the contract's (MAC for generics when listed and lower,
-- else AWP minus the discount, or NADAC) but never more than the pharmacy submitted.

CREATE OR REPLACE FUNCTION claims.month_supplies(p_days_supply int)
RETURNS int
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN greatest(1, ceil(p_days_supply / 34.0))::int;
COMMENT ON FUNCTION claims.month_supplies(int) IS
'Month supplies in a days supply, for per-month copays and the insulin cap: 1-34 days = 1, 35-68 = 2, 69-102 = 3.';

CREATE OR REPLACE FUNCTION claims.price(
    p_is_brand boolean,
    p_quantity numeric,
    p_awp_unit numeric,
    p_nadac_unit numeric,
    p_mac_unit numeric,
    p_ingredient_basis text,
    p_brand_awp_discount numeric,
    p_generic_awp_discount numeric,
    p_brand_dispensing_fee numeric,
    p_generic_dispensing_fee numeric,
    p_ingredient_cost_submitted numeric,
    p_dispensing_fee_submitted numeric,
    p_usual_and_customary numeric,
    p_gross_amount_due numeric
)
RETURNS TABLE (
    ingredient_cost_paid numeric,
    dispensing_fee_paid numeric,
    allowed_amount numeric,
    pricing_source text,
    basis_of_reimbursement smallint
)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT
        CASE w.winner
            WHEN 'U&C' THEN p_usual_and_customary WHEN 'GROSS_AMOUNT_DUE' THEN p_gross_amount_due
            ELSE a.ingredient
        END AS ingredient_cost_paid,
        CASE WHEN w.winner IN ('U&C', 'GROSS_AMOUNT_DUE') THEN 0.00 ELSE a.fee END AS dispensing_fee_paid,
        CASE w.winner
            WHEN 'U&C' THEN p_usual_and_customary WHEN 'GROSS_AMOUNT_DUE' THEN p_gross_amount_due
            ELSE a.ingredient + a.fee
        END AS allowed_amount,
        w.winner AS pricing_source,
        CASE w.winner
            WHEN 'MAC' THEN 6 WHEN 'AWP' THEN 3 WHEN 'U&C' THEN 4 WHEN 'NADAC' THEN 0 ELSE 1
        END::smallint AS basis_of_reimbursement
    FROM (
        SELECT
            CASE
                WHEN p_ingredient_basis = 'NADAC' AND p_nadac_unit IS NOT NULL THEN round(p_nadac_unit * p_quantity, 2)
                WHEN NOT p_is_brand AND p_mac_unit IS NOT NULL
                    THEN round(least(p_mac_unit, p_awp_unit * (1 - p_generic_awp_discount)) * p_quantity, 2)
                ELSE round(p_awp_unit * (1 - CASE
                    WHEN p_is_brand THEN p_brand_awp_discount
                    ELSE p_generic_awp_discount
                END) * p_quantity, 2)
            END AS ingredient,
            CASE
                WHEN p_ingredient_basis = 'NADAC' AND p_nadac_unit IS NOT NULL THEN 'NADAC'
                WHEN
                    NOT p_is_brand AND p_mac_unit IS NOT NULL
                    AND (p_awp_unit IS NULL OR p_mac_unit <= p_awp_unit * (1 - p_generic_awp_discount)) THEN 'MAC'
                WHEN p_awp_unit IS NOT NULL THEN 'AWP'
            END AS source,
            CASE WHEN p_is_brand THEN p_brand_dispensing_fee ELSE p_generic_dispensing_fee END AS fee
        -- LIMIT 1 (one row anyway) keeps each step a step: inlined into a batch query, the planner would otherwise paste every
        -- intermediate expression into every place that uses it.
        LIMIT 1  -- noqa: AM09
    ) AS c
    CROSS JOIN
        LATERAL (
            SELECT
                coalesce(least(c.ingredient, p_ingredient_cost_submitted), p_ingredient_cost_submitted) AS ingredient,
                least(c.fee, coalesce(p_dispensing_fee_submitted, c.fee)) AS fee,
                CASE
                    WHEN c.ingredient IS NULL OR p_ingredient_cost_submitted < c.ingredient THEN 'SUBMITTED'
                    ELSE c.source
                END AS source
            LIMIT 1  -- noqa: AM09
        ) AS a
    CROSS JOIN LATERAL (
        SELECT
            CASE
                WHEN
                    p_usual_and_customary < a.ingredient + a.fee
                    AND (p_gross_amount_due IS NULL OR p_usual_and_customary <= p_gross_amount_due) THEN 'U&C'
                WHEN p_gross_amount_due < a.ingredient + a.fee THEN 'GROSS_AMOUNT_DUE'
                ELSE a.source
            END AS winner
        LIMIT 1  -- noqa: AM09
    ) AS w;
END;
COMMENT ON FUNCTION claims.price(
    boolean, numeric, numeric, numeric, numeric, text, numeric, numeric, numeric, numeric, numeric, numeric, numeric,
    numeric
) IS
'Lesser-of pricing of one claim line: contract ingredient cost (NADAC contracts: NADAC; generics: the lower of MAC and AWP minus the generic discount; else AWP minus the discount) capped at the submitted ingredient cost, plus the contract fee capped at the submitted fee; then usual & customary or gross amount due when lower (paid as ingredient cost, fee 0). Returns the amounts, the winning source and the NCPDP 522-FM basis (6 MAC, 3 AWP-x%, 4 U&C, 1 paid as submitted, 0 NADAC: no public code).';
