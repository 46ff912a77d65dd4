-- NCPDP E1 eligibility verification and the formulary lookup for prescribers and members.

CREATE OR REPLACE FUNCTION api.eligibility(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
-- Generic plans: the lookups are the same every time, and planning them per call (custom plans over
-- partitioned claims) costs more than running them.
SET plan_cache_mode = force_generic_plan
-- Index lookups even where a generic plan was made while this month's claims partition was still empty
-- (a sequential scan would then stay in the session's plan while the partition fills).
SET enable_seqscan = off
AS $$
DECLARE
    v_request claims.claim_request := claims.parse_request(request);
    v_codes varchar(3) [] := array_remove(ARRAY[
        CASE WHEN v_request.bin IS NULL OR v_request.bin !~ '^[0-9]{6}([0-9]{2})?$' THEN '01' END,
        CASE WHEN v_request.pcn IS NULL THEN '04' END,
        CASE WHEN v_request.group_id IS NULL THEN '06' END,
        CASE WHEN v_request.cardholder_id IS NULL THEN '07' END,
        CASE WHEN v_request.person_code IS NULL OR v_request.person_code !~ '^[0-9]{1,3}$' THEN '08' END,
        CASE WHEN v_request.date_of_service IS NULL THEN '15' END
    ]::varchar(3) [], NULL);
    v_elig claims.eligibility;
    v_facts claims.edit_facts;
BEGIN
    v_elig := claims.eligibility_lookup(v_request, v_codes);
    v_facts.bin_unknown := v_elig.bin_unknown;
    v_facts.pcn_unknown := v_elig.pcn_unknown;
    v_facts.group_unknown := v_elig.group_unknown;
    v_facts.cardholder_unknown := v_elig.cardholder_unknown;
    v_facts.person_code_unknown := v_elig.person_code_unknown;
    v_facts.coverage_reject := v_elig.coverage_reject;
    v_codes := claims.edit_codes(v_codes, v_facts);
    IF cardinality(v_codes) > 0 THEN
        RETURN jsonb_build_object(
            'transaction_code', 'E1',
            'transaction_response_status', 'R',
            'reject_count', cardinality(v_codes),
            'reject_codes', to_jsonb(v_codes),
            'reject_messages', (
                SELECT jsonb_agg(jsonb_build_object('code', rc.code, 'description', rc.description) ORDER BY u.ord)
                FROM unnest(v_codes) WITH ORDINALITY AS u (code, ord)
                INNER JOIN ref.reject_codes AS rc ON u.code = rc.code
            )
        );
    END IF;
    RETURN (
        SELECT jsonb_strip_nulls(jsonb_build_object(
            'transaction_code', 'E1',
            'transaction_response_status', 'A',
            'date_of_service', v_request.date_of_service,
            'plan_id', p.plan_code,
            'plan_name', p.name,
            'plan_type', p.plan_type,
            'medicare_part_d_contract_number', p.contract_number,
            'medicare_part_d_benefit_id', p.pbp_id,
            'coverage_effective_date', s.effective_date,
            'coverage_termination_date', s.termination_date,
            'deductible_amount', claims.money(b.deductible),
            'accumulated_deductible_amount', claims.money(coalesce(a.deductible_accumulated, 0)),
            'remaining_deductible_amount', claims.money(greatest(0, b.deductible - coalesce(a.deductible_accumulated, 0))),
            'out_of_pocket_maximum', claims.money(b.oop_max),
            'accumulated_out_of_pocket_amount', claims.money(coalesce(a.oop_accumulated, 0)),
            'remaining_out_of_pocket_amount', claims.money(greatest(0, b.oop_max - coalesce(a.oop_accumulated, 0))),
            'm3p_participant', CASE WHEN p.plan_type = 'medicare_part_d' THEN EXISTS (
                SELECT FROM ppp.elections AS e
                WHERE e.member_id = v_elig.member_id AND e.plan_year = b.plan_year
                    AND v_request.date_of_service BETWEEN e.effective_date AND coalesce(e.end_date, 'infinity')
            ) END
        ))
        FROM plan.plans AS p
        INNER JOIN plan.benefit_designs AS b ON b.benefit_design_id = v_elig.benefit_design_id
        INNER JOIN member.coverage_spans AS s ON s.coverage_span_id = v_elig.coverage_span_id
        LEFT JOIN claims.accumulators AS a ON a.member_id = v_elig.member_id AND a.plan_year = b.plan_year
        WHERE p.plan_id = v_elig.plan_id
    );
END;
$$;
COMMENT ON FUNCTION api.eligibility(jsonb) IS
'NCPDP E1 eligibility verification. Takes bin, pcn, group_id, cardholder_id, person_code and date_of_service (JSON); returns status A with the plan, the coverage span, deductible and out-of-pocket accumulators and M3P participation, or status R with the routing, member or eligibility reject codes. Changes nothing.';

CREATE OR REPLACE FUNCTION api.formulary_lookup(
    p_cardholder_id text,
    p_person_code text,
    p_product_id text,
    p_date_of_service date,
    p_quantity numeric DEFAULT 30,
    p_days_supply int DEFAULT 30,
    p_service_provider_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
-- Generic plans: the lookups are the same every time, and planning them per call (custom plans over
-- partitioned claims) costs more than running them.
SET plan_cache_mode = force_generic_plan
-- Index lookups even where a generic plan was made while this month's claims partition was still empty
-- (a sequential scan would then stay in the session's plan while the partition fills).
SET enable_seqscan = off
AS $$
DECLARE
    v_member member.members;
    v_plan plan.plans;
    v_design plan.benefit_designs;
    v_drug drug.drugs;
    v_entry plan.formulary_entries;
    v_share plan.tier_cost_shares;
    v_contract network.contracts;
    v_acc claims.accumulators;
    v_price record;
    v_stage1 record;
    v_stage2 record;
    v_deductible_part numeric;
BEGIN
    SELECT * INTO v_member FROM member.members AS m
    WHERE m.cardholder_id = upper(p_cardholder_id) AND m.person_code = p_person_code;
    IF v_member.member_id IS NULL THEN
        RAISE EXCEPTION 'no member with cardholder ID % and person code %', p_cardholder_id, p_person_code
            USING ERRCODE = 'P0002';
    END IF;
    SELECT p.* INTO v_plan FROM member.coverage_spans AS s INNER JOIN plan.plans AS p ON s.plan_id = p.plan_id
    WHERE s.member_id = v_member.member_id
        AND daterange(s.effective_date, s.termination_date, '[]') @> p_date_of_service;
    SELECT * INTO v_design FROM plan.benefit_designs AS b
    WHERE b.plan_id = v_plan.plan_id AND b.plan_year = extract(YEAR FROM p_date_of_service);
    SELECT * INTO v_drug FROM drug.drugs AS d WHERE d.ndc11 = ref.ndc11(p_product_id);
    IF v_design.benefit_design_id IS NULL OR v_drug.ndc11 IS NULL THEN
        RETURN jsonb_build_object(
            'product_id', p_product_id, 'covered', FALSE,
            'reason', CASE WHEN v_drug.ndc11 IS NULL THEN 'unknown product' ELSE 'member not covered on the date' END
        );
    END IF;
    SELECT * INTO v_entry FROM plan.formulary_entries AS fe
    WHERE fe.formulary_id = v_design.formulary_id AND fe.ndc11 = v_drug.ndc11
        AND daterange(fe.effective_date, fe.termination_date, '[]') @> p_date_of_service;
    IF v_entry.formulary_entry_id IS NULL OR v_entry.is_excluded THEN
        RETURN jsonb_build_object(
            'product_id', v_drug.ndc11, 'drug_name', v_drug.drug_name, 'covered', FALSE,
            'reason', CASE WHEN v_entry.is_excluded THEN 'plan/benefit exclusion (70)' ELSE 'not on formulary (MR)' END,
            'formulary_alternatives', (
                SELECT jsonb_agg(jsonb_build_object('product_id', d.ndc11, 'drug_name', d.drug_name, 'tier', fe.tier)
                    ORDER BY fe.tier, d.drug_name)
                FROM drug.drugs AS d
                INNER JOIN plan.formulary_entries AS fe ON d.ndc11 = fe.ndc11
                WHERE d.therapeutic_class = v_drug.therapeutic_class AND fe.formulary_id = v_design.formulary_id
                    AND NOT fe.is_excluded
                    AND daterange(fe.effective_date, fe.termination_date, '[]') @> p_date_of_service
            )
        );
    END IF;

    -- Expected patient pay: priced at the given pharmacy's contract, else the contract most of the plan's
    -- network is paid under, with the member's current accumulators (an estimate: nothing is stored).
    SELECT k.* INTO v_contract
    FROM network.participations AS pa
    INNER JOIN network.contracts AS k ON pa.contract_id = k.contract_id
    LEFT JOIN network.pharmacies AS ph ON pa.pharmacy_id = ph.pharmacy_id
    WHERE pa.network_id = v_plan.network_id
        AND daterange(pa.effective_date, pa.termination_date, '[]') @> p_date_of_service
        AND (p_service_provider_id IS NULL OR ph.npi = p_service_provider_id)
    GROUP BY k.contract_id
    ORDER BY count(*) DESC, k.contract_id
    LIMIT 1;
    SELECT * INTO v_acc FROM claims.accumulators AS a
    WHERE a.member_id = v_member.member_id AND a.plan_year = v_design.plan_year;
    SELECT * INTO v_share FROM plan.tier_cost_shares AS t
    WHERE t.benefit_design_id = v_design.benefit_design_id AND t.tier = v_entry.tier;
    SELECT * INTO v_price FROM claims.price(
        v_drug.is_brand, p_quantity,
        (SELECT pr.unit_price FROM drug.prices AS pr WHERE pr.ndc11 = v_drug.ndc11 AND pr.price_type = 'AWP'
            AND p_date_of_service BETWEEN pr.effective_date AND coalesce(pr.end_date, 'infinity')),
        (SELECT pr.unit_price FROM drug.prices AS pr WHERE pr.ndc11 = v_drug.ndc11 AND pr.price_type = 'NADAC'
            AND p_date_of_service BETWEEN pr.effective_date AND coalesce(pr.end_date, 'infinity')),
        (SELECT pr.unit_price FROM drug.prices AS pr WHERE pr.ndc11 = v_drug.ndc11 AND pr.price_type = 'MAC'
            AND pr.mac_list_id = v_contract.mac_list_id
            AND p_date_of_service BETWEEN pr.effective_date AND coalesce(pr.end_date, 'infinity')),
        v_contract.ingredient_basis, v_contract.brand_awp_discount, v_contract.generic_awp_discount,
        v_contract.brand_dispensing_fee, v_contract.generic_dispensing_fee, NULL, NULL, NULL, NULL
    );
    v_deductible_part := CASE
        WHEN claims.deductible_applies(
            v_design.deductible, v_design.deductible_tiers, v_entry.tier, v_drug.is_insulin,
            v_design.insulin_cap_per_month, v_design.insulin_deductible_exempt, v_drug.is_vaccine,
            v_design.acip_vaccines_zero
        ) THEN least(v_price.allowed_amount, greatest(0, v_design.deductible - coalesce(v_acc.deductible_accumulated, 0)))
        ELSE 0
    END;
    SELECT * INTO v_stage1 FROM claims.cost_share_uncapped(
        v_price.allowed_amount, 0, v_deductible_part, v_share.cost_share_type, v_share.copay_amount,
        v_share.coinsurance_rate, v_share.min_amount, v_share.max_amount, p_days_supply,
        CASE WHEN v_drug.is_insulin THEN v_design.insulin_cap_per_month END,
        v_drug.is_vaccine AND v_design.acip_vaccines_zero
    );
    SELECT * INTO v_stage2 FROM claims.cost_share_capped(
        v_price.allowed_amount, v_stage1.deductible_part, v_stage1.copay_part, v_stage1.coinsurance_part, 0, FALSE,
        coalesce(v_acc.oop_accumulated, 0), v_design.oop_max
    );
    RETURN jsonb_strip_nulls(jsonb_build_object(
        'product_id', v_drug.ndc11,
        'drug_name', v_drug.drug_name,
        'covered', TRUE,
        'tier', v_entry.tier,
        'prior_authorization_required', v_entry.pa_required,
        'quantity_limit', CASE WHEN v_entry.ql_quantity IS NOT NULL
            THEN jsonb_build_object('quantity', v_entry.ql_quantity, 'days', v_entry.ql_days) END,
        'step_therapy_class', v_entry.step_therapy_class,
        'min_age', v_entry.min_age,
        'max_age', v_entry.max_age,
        'gender', v_entry.gender,
        'estimated_allowed_amount', claims.money(v_price.allowed_amount),
        'expected_patient_pay', claims.money(v_stage2.patient_pay_amount)
    ));
END;
$$;
COMMENT ON FUNCTION api.formulary_lookup(text, text, text, date, numeric, int, text) IS
'Formulary lookup for a member, product (NDC) and date: covered or not (with formulary alternatives of the same class), tier, PA / quantity limit / step therapy / age and gender limits, and the expected patient pay for p_quantity over p_days_supply at the given pharmacy (or the plan network''s main contract) with the member''s current accumulators. Changes nothing.';
