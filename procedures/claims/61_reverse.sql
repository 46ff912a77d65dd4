-- NCPDP B2 reversal: matched on pharmacy, Rx number, fill number and date of service. The reversal is a
-- new row (status A) mirroring the original with negated amounts and ledger deltas; the member's
-- accumulators move back by exactly what the original added.

CREATE OR REPLACE FUNCTION claims.reverse_claim(p_request claims.claim_request, p_as_of date)
RETURNS claims.claims
LANGUAGE plpgsql
AS $$
DECLARE
    r claims.claim_request := p_request;
    v_codes varchar(3) [] := array_remove(ARRAY[
        CASE WHEN NOT coalesce(ref.npi_is_valid(r.service_provider_id), FALSE) THEN '05' END,
        CASE WHEN r.date_of_service IS NULL THEN '15' END,
        CASE WHEN r.rx_number IS NULL OR r.rx_number !~ '^[0-9]{1,12}$' THEN '16' END,
        CASE WHEN r.fill_number IS NULL OR r.fill_number NOT BETWEEN 0 AND 99 THEN '17' END
    ]::varchar(3) [], NULL);
    v_original claims.claims;
    v_reversal claims.claims;
BEGIN
    IF cardinality(v_codes) = 0 THEN
        SELECT * INTO v_original FROM claims.claims AS c
        WHERE c.service_provider_id = r.service_provider_id AND c.rx_number = r.rx_number
            AND c.fill_number = r.fill_number AND c.date_of_service = r.date_of_service
            AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL;
        IF v_original.claim_id IS NOT NULL THEN
            -- Same lock order as adjudication (accumulators first), then the claim itself: a concurrent
            -- second reversal waits and then finds nothing left to reverse.
            PERFORM FROM claims.accumulators AS a
            WHERE a.member_id = v_original.member_id AND a.plan_year = v_original.plan_year
            FOR UPDATE;
            SELECT * INTO v_original FROM claims.claims AS c
            WHERE c.claim_id = v_original.claim_id AND c.date_of_service = v_original.date_of_service
                AND c.reversed_by_claim_id IS NULL
            FOR UPDATE;
        END IF;
        IF v_original.claim_id IS NULL THEN
            v_codes := ARRAY['31'];
        END IF;
    END IF;

    v_reversal := claims.request_row(p_request, p_as_of, NULL, NULL);
    v_reversal.transaction_code := 'B2';
    IF cardinality(v_codes) > 0 THEN
        v_reversal.transaction_response_status := 'R';
        v_reversal.reject_codes := v_codes;
        INSERT INTO claims.claims SELECT v_reversal.*;
        RETURN v_reversal;
    END IF;

    v_reversal := v_original;
    v_reversal.claim_id := nextval('claims.claim_id_seq');
    v_reversal.transaction_code := 'B2';
    v_reversal.received_at := now();
    v_reversal.batch_id := NULL;
    v_reversal.batch_line_no := NULL;
    v_reversal.transaction_response_status := 'A';
    v_reversal.reversal_of_claim_id := v_original.claim_id;
    v_reversal.ingredient_cost_paid := -v_original.ingredient_cost_paid;
    v_reversal.dispensing_fee_paid := -v_original.dispensing_fee_paid;
    v_reversal.total_amount_paid := -v_original.total_amount_paid;
    v_reversal.patient_pay_amount := -v_original.patient_pay_amount;
    v_reversal.amount_applied_to_deductible := -v_original.amount_applied_to_deductible;
    v_reversal.amount_of_copay := -v_original.amount_of_copay;
    v_reversal.amount_of_coinsurance := -v_original.amount_of_coinsurance;
    v_reversal.amount_attributed_to_product_selection := -v_original.amount_attributed_to_product_selection;
    v_reversal.stage_deductible_amount := -v_original.stage_deductible_amount;
    v_reversal.stage_initial_amount := -v_original.stage_initial_amount;
    v_reversal.stage_catastrophic_amount := -v_original.stage_catastrophic_amount;
    v_reversal.deductible_delta := -v_original.deductible_delta;
    v_reversal.oop_delta := -v_original.oop_delta;
    v_reversal.gross_cost_delta := -v_original.gross_cost_delta;
    v_reversal.m3p_amount := -v_original.m3p_amount;
    v_reversal.m3p_ltb_notice := FALSE;
    v_reversal.dur_reason_code := NULL;
    UPDATE claims.accumulators AS a
    SET deductible_accumulated = a.deductible_accumulated + v_reversal.deductible_delta,
        oop_accumulated = a.oop_accumulated + v_reversal.oop_delta,
        gross_cost_accumulated = a.gross_cost_accumulated + v_reversal.gross_cost_delta,
        updated_at = now()
    WHERE a.member_id = v_original.member_id AND a.plan_year = v_original.plan_year
    RETURNING a.deductible_accumulated, a.oop_accumulated
        INTO v_reversal.accumulated_deductible_amount, v_reversal.accumulated_oop_amount;
    v_reversal.remaining_deductible_amount := NULL;
    v_reversal.remaining_oop_amount := NULL;
    INSERT INTO claims.claims SELECT v_reversal.*;
    UPDATE claims.claims AS c
    SET reversed_by_claim_id = v_reversal.claim_id, reversed_at = v_reversal.received_at
    WHERE c.claim_id = v_original.claim_id AND c.date_of_service = v_original.date_of_service;
    RETURN v_reversal;
END;
$$;
COMMENT ON FUNCTION claims.reverse_claim(claims.claim_request, date) IS
'Reverses the paid claim matching the request''s pharmacy, Rx number, fill number and date of service: stores a B2 row (status A, amounts negated), marks the original reversed and moves the accumulators back; no match: a rejected B2 with code 31.';

CREATE OR REPLACE FUNCTION api.reverse(request jsonb)
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
    v_claim claims.claims := claims.reverse_claim(claims.parse_request(request), current_date);
BEGIN
    RETURN claims.response(v_claim);
END;
$$;
COMMENT ON FUNCTION api.reverse(jsonb) IS
'NCPDP B2 reversal in real time. Takes service_provider_id, rx_number, fill_number and date_of_service (as JSON); returns status A with the reversed authorization number and the negated amounts, or status R with 31 (no matching paid claim) or M/I codes.';
