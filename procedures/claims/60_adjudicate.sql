-- Real-time adjudication of one B1 claim: the edits of DESIGN.md in order, pricing, cost share with the
-- member's accumulators locked (concurrent claims of a member serialise here), M3P, persist, respond.
-- The rules themselves are the shared functions claims.syntax_rejects, claims.edit_codes,
-- claims.coverage_reject, claims.price, claims.deductible_applies, claims.cost_share_uncapped,
-- claims.cost_share_capped and claims.generic_equivalent_allowed; claims.adjudicate_batch uses the same.

CREATE OR REPLACE FUNCTION claims.generic_equivalent_allowed(
    p_drug_group text,
    p_date_of_service date,
    p_quantity numeric,
    p_contract_id bigint
)
RETURNS numeric
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    -- PL/pgSQL so the query keeps its plan for the session (a SQL function is planned in every transaction).
    RETURN (
        SELECT min(p.allowed_amount)
        FROM drug.drugs AS d
        INNER JOIN network.contracts AS k ON k.contract_id = p_contract_id
        INNER JOIN drug.prices AS awp
            ON
                d.ndc11 = awp.ndc11 AND awp.price_type = 'AWP'
                AND p_date_of_service BETWEEN awp.effective_date AND coalesce(awp.end_date, 'infinity')
        LEFT JOIN drug.prices AS nadac
            ON
                d.ndc11 = nadac.ndc11 AND nadac.price_type = 'NADAC'
                AND p_date_of_service BETWEEN nadac.effective_date AND coalesce(nadac.end_date, 'infinity')
        LEFT JOIN drug.prices AS mac
            ON
                d.ndc11 = mac.ndc11 AND mac.price_type = 'MAC' AND k.mac_list_id = mac.mac_list_id
                AND p_date_of_service BETWEEN mac.effective_date AND coalesce(mac.end_date, 'infinity')
        CROSS JOIN
            LATERAL claims.price(
                FALSE, p_quantity, awp.unit_price, nadac.unit_price, mac.unit_price, k.ingredient_basis,
                k.brand_awp_discount, k.generic_awp_discount, k.brand_dispensing_fee, k.generic_dispensing_fee,
                NULL, NULL, NULL, NULL
            ) AS p
        WHERE
            d.drug_group = p_drug_group AND NOT d.is_brand
            AND (d.market_end_date IS NULL OR d.market_end_date >= p_date_of_service)
    );
END;
$$;
COMMENT ON FUNCTION claims.generic_equivalent_allowed(text, date, numeric, bigint) IS
'The contract price (allowed amount) of the cheapest marketed generic of a drug group for a quantity on a date: the base of the DAW brand penalty.';

CREATE OR REPLACE FUNCTION claims.eligibility_lookup(p_request claims.claim_request, p_syntax varchar(3)[])
RETURNS claims.eligibility
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    r claims.claim_request := p_request;
    e claims.eligibility;
    v_year smallint := extract(YEAR FROM p_request.date_of_service)::smallint;
    v_span_plan_id bigint;
    v_first_effective date;
    v_last_ended date;
    v_last_terminated boolean;
BEGIN
    -- Routing: BIN, PCN and group name the plan; 01 / 04 / 51 say which part did not match.
    IF r.bin IS NOT NULL AND r.pcn IS NOT NULL AND r.group_id IS NOT NULL AND '01' <> ALL(p_syntax) THEN
        SELECT p.plan_id INTO e.plan_id FROM plan.plans AS p
        WHERE p.bin = r.bin AND p.pcn = r.pcn AND p.group_id = r.group_id;
        IF e.plan_id IS NULL THEN
            e.bin_unknown := NOT EXISTS (SELECT FROM plan.plans AS p WHERE p.bin = r.bin);
            e.pcn_unknown := NOT e.bin_unknown
                AND NOT EXISTS (SELECT FROM plan.plans AS p WHERE p.bin = r.bin AND p.pcn = r.pcn);
            e.group_unknown := NOT e.bin_unknown AND NOT e.pcn_unknown;
        ELSIF r.date_of_service IS NOT NULL THEN
            SELECT b.benefit_design_id INTO e.benefit_design_id FROM plan.benefit_designs AS b
            WHERE b.plan_id = e.plan_id AND b.plan_year = v_year;
        END IF;
    END IF;

    -- Member: cardholder ID and person code; 52 / 53 say which did not match.
    IF r.cardholder_id IS NOT NULL AND r.person_code IS NOT NULL AND '08' <> ALL(p_syntax) THEN
        SELECT m.member_id INTO e.member_id FROM member.members AS m
        WHERE m.cardholder_id = r.cardholder_id AND m.person_code = r.person_code;
        IF e.member_id IS NULL THEN
            e.cardholder_unknown := NOT EXISTS (SELECT FROM member.members AS m WHERE m.cardholder_id = r.cardholder_id);
            e.person_code_unknown := NOT e.cardholder_unknown;
        END IF;
    END IF;

    -- Eligibility on the date of service (65 / 67 / 68 / 69).
    IF e.member_id IS NOT NULL AND e.plan_id IS NOT NULL AND r.date_of_service IS NOT NULL THEN
        SELECT s.coverage_span_id, s.plan_id INTO e.coverage_span_id, v_span_plan_id FROM member.coverage_spans AS s
        WHERE s.member_id = e.member_id AND daterange(s.effective_date, s.termination_date, '[]') @> r.date_of_service;
        IF v_span_plan_id IS DISTINCT FROM e.plan_id THEN
            SELECT min(s.effective_date) INTO v_first_effective FROM member.coverage_spans AS s
            WHERE s.member_id = e.member_id;
            SELECT s.termination_date, s.termination_reason IS NOT NULL INTO v_last_ended, v_last_terminated
            FROM member.coverage_spans AS s
            WHERE s.member_id = e.member_id AND s.termination_date < r.date_of_service
            ORDER BY s.termination_date DESC LIMIT 1;
        END IF;
        e.coverage_reject := coalesce(
            claims.coverage_reject(
                v_span_plan_id, e.plan_id, r.date_of_service, v_first_effective, v_last_ended, v_last_terminated
            ),
            CASE WHEN e.benefit_design_id IS NULL THEN '65' END
        );
    END IF;
    RETURN e;
END;
$$;
COMMENT ON FUNCTION claims.eligibility_lookup(claims.claim_request, varchar[]) IS
'Routes a request to its plan (BIN/PCN/group), matches the member (cardholder ID, person code) and checks coverage on the date of service; shared by api.adjudicate and api.eligibility.';

CREATE OR REPLACE FUNCTION claims.adjudicate_claim(
    p_request claims.claim_request,
    p_as_of date,
    p_batch_id bigint DEFAULT NULL,
    p_line_no int DEFAULT NULL
)
RETURNS claims.claims
LANGUAGE plpgsql
AS $$
DECLARE
    r claims.claim_request := p_request;
    v_codes varchar(3) [] := claims.syntax_rejects(p_request, p_as_of);
    v_facts claims.edit_facts;
    v_elig claims.eligibility;
    v_claim claims.claims;
    v_plan plan.plans;
    v_design plan.benefit_designs;
    v_member member.members;
    v_acc claims.accumulators;
    v_drug drug.drugs;
    v_entry plan.formulary_entries;
    v_share plan.tier_cost_shares;
    v_pharmacy_id bigint;
    v_contract network.contracts;
    v_prescriber network.prescribers;
    v_plan_year smallint := extract(YEAR FROM p_request.date_of_service)::smallint;
    v_pa_number varchar(11);
    v_pa_quantity numeric;
    v_age int;
    v_rts_reach int;
    v_rts_last_date date;
    v_rts_last_days int;
    v_rts_last_quantity numeric;
    v_rts_allowed_days int;
    v_awp numeric;
    v_nadac numeric;
    v_mac numeric;
    v_price record;
    v_penalty numeric := 0;
    v_deductible_part numeric;
    v_stage1 record;
    v_stage2 record;
    v_participant boolean;
    v_ltb_threshold numeric;
    v_epoch constant date := date '2000-01-01';
BEGIN
    v_elig := claims.eligibility_lookup(p_request, v_codes);
    v_facts.bin_unknown := v_elig.bin_unknown;
    v_facts.pcn_unknown := v_elig.pcn_unknown;
    v_facts.group_unknown := v_elig.group_unknown;
    v_facts.cardholder_unknown := v_elig.cardholder_unknown;
    v_facts.person_code_unknown := v_elig.person_code_unknown;
    v_facts.coverage_reject := v_elig.coverage_reject;
    SELECT * INTO v_plan FROM plan.plans AS p WHERE p.plan_id = v_elig.plan_id;
    SELECT * INTO v_design FROM plan.benefit_designs AS b WHERE b.benefit_design_id = v_elig.benefit_design_id;
    SELECT * INTO v_member FROM member.members AS m WHERE m.member_id = v_elig.member_id;

    -- The member's accumulators are locked for the rest of the transaction: claims of one member are
    -- adjudicated one after the other, so no accumulator update is ever lost.
    IF v_member.member_id IS NOT NULL AND r.date_of_service IS NOT NULL THEN
        SELECT * INTO v_acc FROM claims.accumulators AS a
        WHERE a.member_id = v_member.member_id AND a.plan_year = v_plan_year
        FOR UPDATE;
        IF NOT FOUND THEN  -- the member's first claim of the year
            INSERT INTO claims.accumulators AS a (member_id, plan_year) VALUES (v_member.member_id, v_plan_year)
            ON CONFLICT (member_id, plan_year) DO NOTHING;
            SELECT * INTO v_acc FROM claims.accumulators AS a
            WHERE a.member_id = v_member.member_id AND a.plan_year = v_plan_year
            FOR UPDATE;
        END IF;
    END IF;

    -- A claim identical to a paid one (pharmacy, Rx number, fill, date of service) is a duplicate:
    -- status D with the original's response, never paid twice.
    IF cardinality(v_codes) = 0 THEN
        SELECT * INTO v_claim FROM claims.claims AS c
        WHERE c.service_provider_id = r.service_provider_id AND c.rx_number = r.rx_number
            AND c.fill_number = r.fill_number AND c.date_of_service = r.date_of_service
            AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL;
        IF v_claim.claim_id IS NOT NULL THEN
            RETURN claims.store_duplicate(p_request, p_as_of, v_claim, v_member.member_id, p_batch_id, p_line_no);
        END IF;
    END IF;

    -- Pharmacy and its network participation (which names the pricing contract).
    IF '05' <> ALL(v_codes) THEN
        SELECT ph.pharmacy_id INTO v_pharmacy_id FROM network.pharmacies AS ph WHERE ph.npi = r.service_provider_id;
        v_facts.pharmacy_unknown := v_pharmacy_id IS NULL;
        IF v_pharmacy_id IS NOT NULL AND v_plan.plan_id IS NOT NULL AND r.date_of_service IS NOT NULL THEN
            SELECT k.* INTO v_contract
            FROM network.participations AS pa
            INNER JOIN network.contracts AS k ON pa.contract_id = k.contract_id
            WHERE pa.network_id = v_plan.network_id AND pa.pharmacy_id = v_pharmacy_id
                AND daterange(pa.effective_date, pa.termination_date, '[]') @> r.date_of_service;
            v_facts.pharmacy_not_in_network := v_contract.contract_id IS NULL;
        END IF;
    END IF;

    -- Prescriber.
    IF '25' <> ALL(v_codes) THEN
        SELECT * INTO v_prescriber FROM network.prescribers AS pr WHERE pr.npi = r.prescriber_id;
        v_facts.prescriber_unknown := v_prescriber.prescriber_id IS NULL;
        v_facts.prescriber_inactive := v_prescriber.deactivated_on <= r.date_of_service;
    END IF;

    -- Product, formulary, age and gender, days supply.
    IF '21' <> ALL(v_codes) THEN
        SELECT * INTO v_drug FROM drug.drugs AS d WHERE d.ndc11 = r.product_id;
        v_facts.product_unknown := v_drug.ndc11 IS NULL;
        v_facts.product_discontinued := v_drug.market_end_date < r.date_of_service;
        IF v_drug.ndc11 IS NOT NULL AND v_design.benefit_design_id IS NOT NULL THEN
            SELECT * INTO v_entry FROM plan.formulary_entries AS fe
            WHERE fe.formulary_id = v_design.formulary_id AND fe.ndc11 = v_drug.ndc11
                AND daterange(fe.effective_date, fe.termination_date, '[]') @> r.date_of_service;
            v_facts.not_on_formulary := v_entry.formulary_entry_id IS NULL;
            v_facts.excluded := v_entry.is_excluded;
        END IF;
    END IF;
    IF v_entry.formulary_entry_id IS NOT NULL AND v_member.member_id IS NOT NULL THEN
        v_age := extract(YEAR FROM age(r.date_of_service, v_member.date_of_birth))::int;
        v_facts.under_min_age := v_age < v_entry.min_age;
        v_facts.over_max_age := v_age > v_entry.max_age;
        v_facts.gender_not_covered := v_entry.gender IS NOT NULL AND v_member.gender <> v_entry.gender;
    END IF;
    v_facts.days_supply_over_limit := r.days_supply > v_design.max_days_supply;

    -- Utilization management: prior authorization, quantity limit, step therapy.
    IF v_entry.formulary_entry_id IS NOT NULL AND v_member.member_id IS NOT NULL
        AND (v_entry.pa_required OR v_entry.step_therapy_class IS NOT NULL) THEN
        SELECT a.pa_number, a.approved_quantity INTO v_pa_number, v_pa_quantity
        FROM claims.prior_authorizations AS a
        WHERE a.member_id = v_member.member_id AND a.drug_group = v_drug.drug_group
            AND a.status IN ('approved', 'partially_approved', 'expired')
            AND r.date_of_service BETWEEN a.effective_date AND a.expiration_date
        ORDER BY a.prior_authorization_id DESC LIMIT 1;
        v_facts.pa_missing := v_entry.pa_required AND v_pa_number IS NULL;
        v_facts.pa_quantity_exceeded := r.quantity_dispensed > v_pa_quantity;
        v_facts.step_therapy_unmet := v_entry.step_therapy_class IS NOT NULL AND v_pa_number IS NULL AND NOT EXISTS (
            SELECT FROM claims.claims AS c
            INNER JOIN drug.drugs AS d ON c.product_id = d.ndc11
            WHERE c.member_id = v_member.member_id AND c.transaction_response_status = 'P'
                AND c.reversed_by_claim_id IS NULL
                AND c.date_of_service BETWEEN r.date_of_service - v_entry.step_lookback_days AND r.date_of_service
                AND d.therapeutic_class = v_entry.step_therapy_class
        );
    END IF;
    IF v_entry.ql_quantity IS NOT NULL AND r.days_supply > 0 THEN
        v_facts.quantity_limit_exceeded := r.quantity_dispensed * v_entry.ql_days > v_entry.ql_quantity * r.days_supply;
    END IF;

    -- Refill too soon: the supply still on hand from paid fills of the same drug group in the lookback
    -- window, accumulated so that early refills do not move the anchor (reference §3.2 step 3):
    -- supply end = max over fills j of (date_j + days supply of fill j and every later fill).
    IF v_drug.ndc11 IS NOT NULL AND v_member.member_id IS NOT NULL AND v_design.benefit_design_id IS NOT NULL
        AND coalesce(r.submission_clarification_code, 0) NOT IN (3, 4, 5, 13, 14) THEN
        SELECT
            max(h.reach),
            (array_agg(h.date_of_service ORDER BY h.date_of_service DESC, h.claim_id DESC))[1],
            (array_agg(h.days_supply ORDER BY h.date_of_service DESC, h.claim_id DESC))[1],
            (array_agg(h.quantity_dispensed ORDER BY h.date_of_service DESC, h.claim_id DESC))[1]
        INTO v_rts_reach, v_rts_last_date, v_rts_last_days, v_rts_last_quantity
        FROM (
            SELECT c.claim_id, c.date_of_service, c.days_supply, c.quantity_dispensed,
                (c.date_of_service - v_epoch) + sum(c.days_supply) OVER (
                    ORDER BY c.date_of_service, c.claim_id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
                ) AS reach
            FROM claims.claims AS c
            INNER JOIN drug.drugs AS d ON c.product_id = d.ndc11
            WHERE c.member_id = v_member.member_id AND c.transaction_response_status = 'P'
                AND c.reversed_by_claim_id IS NULL
                AND c.date_of_service BETWEEN r.date_of_service - v_design.rts_lookback_days AND r.date_of_service
                AND d.drug_group = v_drug.drug_group
        ) AS h;
        IF v_rts_reach IS NOT NULL THEN
            v_rts_allowed_days := floor((1 - v_design.rts_threshold) * v_rts_last_days)::int;
            v_facts.refill_too_soon := v_rts_reach - (r.date_of_service - v_epoch) > v_rts_allowed_days;
        END IF;
    END IF;

    v_codes := claims.edit_codes(v_codes, v_facts);

    v_claim := claims.request_row(p_request, p_as_of, p_batch_id, p_line_no);
    v_claim.member_id := v_member.member_id;
    v_claim.plan_id := v_plan.plan_id;
    v_claim.plan_year := v_plan_year;
    v_claim.pharmacy_id := v_pharmacy_id;
    v_claim.tier := v_entry.tier;

    IF cardinality(v_codes) > 0 THEN
        v_claim.transaction_response_status := 'R';
        v_claim.reject_codes := v_codes;
        IF v_facts.refill_too_soon THEN
            v_claim.dur_reason_code := 'ER';
            v_claim.previous_fill_date := v_rts_last_date;
            v_claim.previous_fill_quantity := v_rts_last_quantity;
            v_claim.next_available_fill_date := v_epoch + v_rts_reach - v_rts_allowed_days;
        END IF;
        INSERT INTO claims.claims SELECT v_claim.*;
        RETURN v_claim;
    END IF;

    -- Pricing.
    SELECT pr.unit_price INTO v_awp FROM drug.prices AS pr
    WHERE pr.ndc11 = v_drug.ndc11 AND pr.price_type = 'AWP'
        AND r.date_of_service BETWEEN pr.effective_date AND coalesce(pr.end_date, 'infinity');
    SELECT pr.unit_price INTO v_nadac FROM drug.prices AS pr
    WHERE pr.ndc11 = v_drug.ndc11 AND pr.price_type = 'NADAC'
        AND r.date_of_service BETWEEN pr.effective_date AND coalesce(pr.end_date, 'infinity');
    SELECT pr.unit_price INTO v_mac FROM drug.prices AS pr
    WHERE pr.ndc11 = v_drug.ndc11 AND pr.price_type = 'MAC' AND pr.mac_list_id = v_contract.mac_list_id
        AND r.date_of_service BETWEEN pr.effective_date AND coalesce(pr.end_date, 'infinity');
    SELECT * INTO v_price FROM claims.price(
        v_drug.is_brand, r.quantity_dispensed, v_awp, v_nadac, v_mac, v_contract.ingredient_basis,
        v_contract.brand_awp_discount, v_contract.generic_awp_discount, v_contract.brand_dispensing_fee,
        v_contract.generic_dispensing_fee, r.ingredient_cost_submitted, r.dispensing_fee_submitted,
        r.usual_and_customary_charge, r.gross_amount_due
    );
    IF r.daw_code = ANY(v_design.brand_penalty_daw) AND v_drug.multi_source_code = 'O' THEN
        v_penalty := least(v_price.allowed_amount, greatest(0, v_price.allowed_amount - coalesce(
            claims.generic_equivalent_allowed(
                v_drug.drug_group, r.date_of_service, r.quantity_dispensed, v_contract.contract_id
            ),
            v_price.allowed_amount
        )));
    END IF;

    -- Cost share.
    SELECT * INTO v_share FROM plan.tier_cost_shares AS t
    WHERE t.benefit_design_id = v_design.benefit_design_id AND t.tier = v_entry.tier;
    IF v_share.benefit_design_id IS NULL THEN
        RAISE EXCEPTION 'plan % has no cost share for tier % in %', v_plan.plan_code, v_entry.tier, v_plan_year
            USING ERRCODE = '23502', HINT = 'Add the tier to plan.tier_cost_shares';
    END IF;
    v_deductible_part := CASE
        WHEN claims.deductible_applies(
            v_design.deductible, v_design.deductible_tiers, v_entry.tier, v_drug.is_insulin,
            v_design.insulin_cap_per_month, v_design.insulin_deductible_exempt, v_drug.is_vaccine,
            v_design.acip_vaccines_zero
        )
            THEN least(v_price.allowed_amount - v_penalty, greatest(0, v_design.deductible - v_acc.deductible_accumulated))
        ELSE 0
    END;
    SELECT * INTO v_stage1 FROM claims.cost_share_uncapped(
        v_price.allowed_amount, v_penalty, v_deductible_part, v_share.cost_share_type, v_share.copay_amount,
        v_share.coinsurance_rate, v_share.min_amount, v_share.max_amount, r.days_supply,
        CASE WHEN v_drug.is_insulin THEN v_design.insulin_cap_per_month END,
        v_drug.is_vaccine AND v_design.acip_vaccines_zero
    );
    SELECT * INTO v_stage2 FROM claims.cost_share_capped(
        v_price.allowed_amount, v_stage1.deductible_part, v_stage1.copay_part, v_stage1.coinsurance_part,
        v_stage1.penalty_part, v_design.brand_penalty_counts_to_oop, v_acc.oop_accumulated, v_design.oop_max
    );

    -- Medicare Prescription Payment Plan: a participant pays $0 at the pharmacy, the cost share moves into
    -- the program; a non-participant with a large single claim gets the likely-to-benefit notice.
    IF v_plan.plan_type = 'medicare_part_d' THEN
        v_participant := EXISTS (
            SELECT FROM ppp.elections AS e
            WHERE e.member_id = v_member.member_id AND e.plan_year = v_plan_year
                AND r.date_of_service BETWEEN e.effective_date AND coalesce(e.end_date, 'infinity')
        );
        SELECT pd.m3p_ltb_single_claim INTO v_ltb_threshold FROM ref.part_d_parameters AS pd
        WHERE pd.plan_year = v_plan_year;
    END IF;

    v_claim.transaction_response_status := 'P';
    v_claim.ingredient_cost_paid := v_price.ingredient_cost_paid;
    v_claim.dispensing_fee_paid := v_price.dispensing_fee_paid;
    v_claim.pricing_source := v_price.pricing_source;
    v_claim.basis_of_reimbursement := v_price.basis_of_reimbursement;
    v_claim.patient_pay_amount := v_stage2.patient_pay_amount;
    v_claim.total_amount_paid := v_price.allowed_amount - v_stage2.patient_pay_amount;
    v_claim.amount_applied_to_deductible := v_stage2.amount_applied_to_deductible;
    v_claim.amount_of_copay := v_stage2.amount_of_copay;
    v_claim.amount_of_coinsurance := v_stage2.amount_of_coinsurance;
    v_claim.amount_attributed_to_product_selection := v_stage2.amount_attributed_to_product_selection;
    v_claim.stage_deductible_amount := v_stage2.stage_deductible_amount;
    v_claim.stage_initial_amount := v_stage2.stage_initial_amount;
    v_claim.stage_catastrophic_amount := v_stage2.stage_catastrophic_amount;
    v_claim.deductible_delta := v_deductible_part;
    v_claim.oop_delta := v_stage2.oop_delta;
    v_claim.gross_cost_delta := v_price.allowed_amount;
    v_claim.accumulated_deductible_amount := v_acc.deductible_accumulated + v_deductible_part;
    v_claim.remaining_deductible_amount := greatest(0, v_design.deductible - v_claim.accumulated_deductible_amount);
    v_claim.accumulated_oop_amount := v_acc.oop_accumulated + v_stage2.oop_delta;
    v_claim.remaining_oop_amount := greatest(0, v_design.oop_max - v_claim.accumulated_oop_amount);
    v_claim.prior_authorization_number := v_pa_number;
    v_claim.m3p_amount := CASE WHEN v_participant THEN v_stage2.patient_pay_amount ELSE 0 END;
    v_claim.m3p_ltb_notice := coalesce(NOT v_participant AND v_stage2.patient_pay_amount >= v_ltb_threshold, FALSE);

    BEGIN
        INSERT INTO claims.claims SELECT v_claim.*;
    EXCEPTION WHEN unique_violation THEN
        -- Another session paid the same pharmacy/Rx/fill/date a moment ago: this one is its duplicate.
        SELECT * INTO v_claim FROM claims.claims AS c
        WHERE c.service_provider_id = r.service_provider_id AND c.rx_number = r.rx_number
            AND c.fill_number = r.fill_number AND c.date_of_service = r.date_of_service
            AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL;
        RETURN claims.store_duplicate(p_request, p_as_of, v_claim, v_member.member_id, p_batch_id, p_line_no);
    END;
    UPDATE claims.accumulators AS a
    SET deductible_accumulated = a.deductible_accumulated + v_claim.deductible_delta,
        oop_accumulated = a.oop_accumulated + v_claim.oop_delta,
        gross_cost_accumulated = a.gross_cost_accumulated + v_claim.gross_cost_delta,
        updated_at = now()
    WHERE a.member_id = v_member.member_id AND a.plan_year = v_plan_year;
    RETURN v_claim;
END;
$$;
COMMENT ON FUNCTION claims.adjudicate_claim(claims.claim_request, date, bigint, int) IS
'Adjudicates one B1 claim request as of p_as_of (the processing date) and stores it; returns the stored claim row. Called by api.adjudicate (real time) and by the differential tests; claims.adjudicate_batch applies the same rules set-based.';

CREATE OR REPLACE FUNCTION claims.request_row(
    p_request claims.claim_request,
    p_as_of date,
    p_batch_id bigint,
    p_line_no int
)
RETURNS claims.claims
LANGUAGE plpgsql
AS $$
DECLARE
    v_claim claims.claims;
BEGIN
    v_claim.claim_id := nextval('claims.claim_id_seq');
    v_claim.transaction_code := 'B1';
    v_claim.received_at := now();
    v_claim.batch_id := p_batch_id;
    v_claim.batch_line_no := p_line_no;
    v_claim.bin := p_request.bin;
    v_claim.pcn := p_request.pcn;
    v_claim.group_id := p_request.group_id;
    v_claim.cardholder_id := p_request.cardholder_id;
    v_claim.person_code := p_request.person_code;
    v_claim.patient_date_of_birth := p_request.patient_date_of_birth;
    v_claim.patient_gender_code := p_request.patient_gender_code;
    -- The partition key cannot be NULL: a claim without a valid date of service is kept under the
    -- processing date's partition with reject 15.
    v_claim.date_of_service := coalesce(p_request.date_of_service, p_as_of);
    v_claim.service_provider_id := p_request.service_provider_id;
    v_claim.prescriber_id := p_request.prescriber_id;
    v_claim.product_id := p_request.product_id;
    v_claim.quantity_dispensed := CASE WHEN p_request.quantity_dispensed > 0 THEN p_request.quantity_dispensed END;
    v_claim.days_supply := CASE WHEN p_request.days_supply BETWEEN 1 AND 365 THEN p_request.days_supply END;
    v_claim.fill_number := CASE WHEN p_request.fill_number BETWEEN 0 AND 99 THEN p_request.fill_number END;
    v_claim.daw_code := CASE WHEN p_request.daw_code BETWEEN 0 AND 9 THEN p_request.daw_code END;
    v_claim.rx_number := p_request.rx_number;
    v_claim.date_prescription_written := p_request.date_prescription_written;
    v_claim.submission_clarification_code := p_request.submission_clarification_code;
    v_claim.prior_authorization_number_submitted := p_request.prior_authorization_number_submitted;
    v_claim.ingredient_cost_submitted := CASE WHEN p_request.ingredient_cost_submitted >= 0
        THEN p_request.ingredient_cost_submitted END;
    v_claim.dispensing_fee_submitted := CASE WHEN p_request.dispensing_fee_submitted >= 0
        THEN p_request.dispensing_fee_submitted END;
    v_claim.usual_and_customary_charge := CASE WHEN p_request.usual_and_customary_charge >= 0
        THEN p_request.usual_and_customary_charge END;
    v_claim.gross_amount_due := CASE WHEN p_request.gross_amount_due >= 0 THEN p_request.gross_amount_due END;
    v_claim.reject_codes := '{}';
    v_claim.deductible_delta := 0;
    v_claim.oop_delta := 0;
    v_claim.gross_cost_delta := 0;
    v_claim.m3p_amount := 0;
    v_claim.m3p_ltb_notice := FALSE;
    RETURN v_claim;
END;
$$;
COMMENT ON FUNCTION claims.request_row(claims.claim_request, date, bigint, int) IS
'A new claims.claims row holding a request as submitted (values that break the table''s sanity constraints are kept out; their reject code says why).';

CREATE OR REPLACE FUNCTION claims.store_duplicate(
    p_request claims.claim_request,
    p_as_of date,
    p_original claims.claims,
    p_member_id bigint,
    p_batch_id bigint,
    p_line_no int
)
RETURNS claims.claims
LANGUAGE plpgsql
AS $$
DECLARE
    v_claim claims.claims := claims.request_row(p_request, p_as_of, p_batch_id, p_line_no);
BEGIN
    v_claim.transaction_response_status := 'D';
    v_claim.duplicate_of_claim_id := p_original.claim_id;
    v_claim.member_id := p_member_id;
    v_claim.plan_id := p_original.plan_id;
    v_claim.plan_year := p_original.plan_year;
    v_claim.pharmacy_id := p_original.pharmacy_id;
    INSERT INTO claims.claims SELECT v_claim.*;
    RETURN v_claim;
END;
$$;
COMMENT ON FUNCTION claims.store_duplicate(claims.claim_request, date, claims.claims, bigint, bigint, int) IS
'Stores a duplicate (status D) of a paid claim; its response is the original''s (claims.response_of).';

CREATE OR REPLACE FUNCTION api.adjudicate(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql
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
    v_claim claims.claims := claims.adjudicate_claim(claims.parse_request(request), current_date);
BEGIN
    IF v_claim.transaction_response_status = 'D' THEN
        RETURN claims.response_of(v_claim.claim_id, v_claim.date_of_service);  -- the original's response
    END IF;
    RETURN claims.response(v_claim);
END;
$$;
COMMENT ON FUNCTION api.adjudicate(jsonb) IS
'NCPDP B1 claim in real time. Takes the request as JSON with NCPDP field names in snake_case (bin, pcn, group_id, cardholder_id, person_code, date_of_service, service_provider_id, prescriber_id, product_id, quantity_dispensed, days_supply, fill_number, daw_code, rx_number, ingredient_cost_submitted, dispensing_fee_submitted, usual_and_customary_charge, gross_amount_due, optional submission_clarification_code, prior_authorization_number_submitted ...); adjudicates and stores it; returns the response (transaction_response_status P/R/D, reject_codes, pricing, patient pay components, accumulators, benefit stages, DUR, M3P).';
