-- The edits of DESIGN.md in their order, as two pure functions both drivers call: the syntax edit
-- (missing/invalid fields -> NCPDP M/I codes) and the mapping of looked-up facts to reject codes.

-- The two-argument version became one with optional flags (a new signature, so drop the old one).
DROP FUNCTION IF EXISTS claims.syntax_rejects(claims.claim_request, date);

CREATE OR REPLACE FUNCTION claims.syntax_rejects(
    p_request claims.claim_request,
    p_as_of date,
    p_routed boolean DEFAULT FALSE,
    p_member_matched boolean DEFAULT FALSE,
    p_pharmacy_known boolean DEFAULT FALSE,
    p_prescriber_known boolean DEFAULT FALSE,
    p_product_known boolean DEFAULT FALSE
)
RETURNS varchar(3)[]
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    -- The common case, cheaply: every identifier already matched a row whose own constraints prove it
    -- well-formed (a plan's BIN, a pharmacy's NPI ...), so only the plain range checks remain.
    WHEN
        p_routed AND p_member_matched AND p_pharmacy_known AND p_prescriber_known AND p_product_known
        AND (p_request).date_of_service <= p_as_of
        AND (p_request).rx_number ~ '^[0-9]{1,12}$'
        AND (p_request).fill_number BETWEEN 0 AND 99
        AND (p_request).days_supply BETWEEN 1 AND 365
        AND (p_request).daw_code BETWEEN 0 AND 9
        AND (p_request).quantity_dispensed > 0
        AND (p_request).ingredient_cost_submitted >= 0
        AND coalesce((p_request).dispensing_fee_submitted, 0) >= 0
        AND coalesce((p_request).usual_and_customary_charge, 0) >= 0
        AND (p_request).gross_amount_due >= 0
        AND abs(
            (p_request).gross_amount_due - (p_request).ingredient_cost_submitted
            - coalesce((p_request).dispensing_fee_submitted, 0)
        ) <= 0.01
        THEN '{}'::varchar(3)[]
    ELSE array_remove(ARRAY[
        CASE
            WHEN NOT p_routed AND ((p_request).bin IS NULL OR (p_request).bin !~ '^[0-9]{6}([0-9]{2})?$') THEN '01'
        END,
        CASE WHEN NOT p_routed AND (p_request).pcn IS NULL THEN '04' END,
        CASE WHEN NOT p_routed AND (p_request).group_id IS NULL THEN '06' END,
        CASE WHEN NOT p_member_matched AND (p_request).cardholder_id IS NULL THEN '07' END,
        CASE
            WHEN NOT p_member_matched AND ((p_request).person_code IS NULL OR (p_request).person_code !~ '^[0-9]{1,3}$')
                THEN '08'
        END,
        CASE WHEN (p_request).date_of_service IS NULL THEN '15' END,
        CASE WHEN (p_request).date_of_service > p_as_of THEN '82' END,
        CASE
            WHEN NOT p_pharmacy_known AND NOT coalesce(ref.npi_is_valid((p_request).service_provider_id), FALSE)
                THEN '05'
        END,
        CASE
            WHEN NOT p_prescriber_known AND NOT coalesce(ref.npi_is_valid((p_request).prescriber_id), FALSE)
                THEN '25'
        END,
        CASE
            WHEN NOT p_product_known AND ((p_request).product_id IS NULL OR (p_request).product_id !~ '^[0-9]{11}$')
                THEN '21'
        END,
        CASE WHEN (p_request).rx_number IS NULL OR (p_request).rx_number !~ '^[0-9]{1,12}$' THEN '16' END,
        CASE WHEN (p_request).fill_number IS NULL OR (p_request).fill_number NOT BETWEEN 0 AND 99 THEN '17' END,
        CASE WHEN (p_request).days_supply IS NULL OR (p_request).days_supply NOT BETWEEN 1 AND 365 THEN '19' END,
        CASE WHEN (p_request).daw_code IS NULL OR (p_request).daw_code NOT BETWEEN 0 AND 9 THEN '22' END,
        CASE WHEN coalesce((p_request).quantity_dispensed, 0) <= 0 THEN 'E7' END,
        CASE WHEN coalesce((p_request).ingredient_cost_submitted, -1) < 0 THEN '23' END,
        CASE WHEN (p_request).dispensing_fee_submitted < 0 THEN 'DC' END,
        CASE WHEN (p_request).usual_and_customary_charge < 0 THEN 'DQ' END,
        CASE WHEN coalesce((p_request).gross_amount_due, -1) < 0 THEN 'DU' END,
        -- 430-DU must follow the pricing formula: ingredient cost + dispensing fee (reference §1.3).
        CASE
            WHEN
                (p_request).gross_amount_due >= 0 AND (p_request).ingredient_cost_submitted >= 0
                AND abs(
                    (p_request).gross_amount_due - (p_request).ingredient_cost_submitted
                    - coalesce((p_request).dispensing_fee_submitted, 0)
                ) > 0.01
                THEN 'R9'
        END
    ]::varchar(3)[], NULL)
END;
COMMENT ON FUNCTION claims.syntax_rejects(claims.claim_request, date, boolean, boolean, boolean, boolean, boolean) IS
'Syntax edit: the NCPDP M/I reject codes of missing or invalid request fields (01 BIN, 04 PCN, 06 group, 07 cardholder, 08 person code, 15 date of service, 82 post-dated, 05 pharmacy NPI, 25 prescriber NPI, 21 NDC, 16 Rx number, 17 fill, 19 days supply, 22 DAW, E7 quantity, 23/DC/DQ/DU amounts, R9 gross amount due formula). The optional flags say an identifier already matched a stored plan, member, pharmacy, prescriber or drug, whose constraints prove it well-formed; they only save work, never change the result.';

CREATE OR REPLACE FUNCTION claims.edit_codes(p_syntax varchar(3)[], p_facts claims.edit_facts)
RETURNS varchar(3)[]
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    -- The common case, cheaply: no syntax code and no fact that rejects.
    WHEN cardinality(p_syntax) = 0 AND (p_facts).coverage_reject IS NULL AND NOT coalesce(
        (p_facts).bin_unknown OR (p_facts).pcn_unknown OR (p_facts).group_unknown OR (p_facts).cardholder_unknown
        OR (p_facts).person_code_unknown OR (p_facts).pharmacy_unknown OR (p_facts).pharmacy_not_in_network
        OR (p_facts).prescriber_unknown OR (p_facts).prescriber_inactive OR (p_facts).product_unknown
        OR (p_facts).product_discontinued OR (p_facts).not_on_formulary OR (p_facts).excluded
        OR (p_facts).under_min_age OR (p_facts).over_max_age OR (p_facts).gender_not_covered
        OR (p_facts).days_supply_over_limit OR (p_facts).pa_missing OR (p_facts).pa_quantity_exceeded
        OR (p_facts).quantity_limit_exceeded OR (p_facts).step_therapy_unmet OR (p_facts).refill_too_soon,
        FALSE
    ) THEN '{}'::varchar(3)[]
    ELSE p_syntax || array_remove(ARRAY[
        CASE WHEN (p_facts).bin_unknown THEN '01' END,
        CASE WHEN (p_facts).pcn_unknown THEN '04' END,
        CASE WHEN (p_facts).group_unknown THEN '51' END,
        CASE WHEN (p_facts).cardholder_unknown THEN '52' END,
        CASE WHEN (p_facts).person_code_unknown THEN '53' END,
        (p_facts).coverage_reject,
        CASE WHEN (p_facts).pharmacy_unknown THEN '50' END,
        CASE WHEN (p_facts).pharmacy_not_in_network THEN '40' END,
        CASE WHEN (p_facts).prescriber_unknown THEN '56' END,
        CASE WHEN (p_facts).prescriber_inactive THEN '42' END,
        CASE WHEN (p_facts).product_unknown THEN '54' END,
        CASE WHEN (p_facts).product_discontinued THEN '77' END,
        CASE WHEN (p_facts).not_on_formulary THEN 'MR' END,
        CASE WHEN (p_facts).excluded THEN '70' END,
        CASE WHEN (p_facts).under_min_age OR (p_facts).over_max_age THEN '60' END,
        CASE WHEN (p_facts).gender_not_covered THEN '61' END,
        CASE WHEN (p_facts).days_supply_over_limit THEN 'AG' END,
        CASE WHEN (p_facts).pa_missing THEN '75' END,
        CASE WHEN (p_facts).pa_quantity_exceeded THEN '64' END,
        CASE WHEN (p_facts).quantity_limit_exceeded THEN '76' END,
        CASE WHEN (p_facts).step_therapy_unmet THEN '608' END,
        CASE WHEN (p_facts).refill_too_soon THEN '79' END
    ]::varchar(3)[], NULL)
END;
COMMENT ON FUNCTION claims.edit_codes(varchar[], claims.edit_facts) IS
'All reject codes of a claim in edit order: the syntax codes, then routing (01/04/51), member (52/53), eligibility (65/67/68/69), pharmacy (50/40), prescriber (56/42), product (54/77/MR/70), age/gender (60/61), days supply (AG), utilization management (75/64/76/608) and refill too soon (79).';

CREATE OR REPLACE FUNCTION claims.coverage_reject(
    p_span_plan_id bigint,
    p_routed_plan_id bigint,
    p_date_of_service date,
    p_first_effective date,
    p_last_ended date,
    p_last_ended_terminated boolean
)
RETURNS varchar(3)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN p_span_plan_id IS NOT NULL AND p_span_plan_id = p_routed_plan_id THEN NULL
    WHEN p_span_plan_id IS NOT NULL THEN '65'
    WHEN p_first_effective IS NULL THEN '65'
    WHEN p_date_of_service < p_first_effective AND p_last_ended IS NULL THEN '67'
    WHEN p_last_ended IS NOT NULL AND p_last_ended_terminated THEN '69'
    WHEN p_last_ended IS NOT NULL THEN '68'
    ELSE '65'
END;
COMMENT ON FUNCTION claims.coverage_reject(bigint, bigint, date, date, date, boolean) IS
'Eligibility on the date of service: NULL when a span of the routed plan covers it; 65 covered elsewhere or never; 67 before coverage began; 69 after a terminated span; 68 after a span that ended.';
