-- The NCPDP-style response of a stored claim: one definition for real time, duplicates and batch review.

CREATE OR REPLACE FUNCTION claims.money(p_amount numeric)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN round(p_amount, 2)::numeric(12, 2);
COMMENT ON FUNCTION claims.money(numeric) IS 'An amount as money: numeric(12,2), so 0 prints as 0.00.';

CREATE OR REPLACE FUNCTION claims.response(p_claim claims.claims)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    -- PL/pgSQL, not SQL: its plan is kept for the session, where a SQL function with subqueries would be
    -- parsed and planned again in every real-time transaction.
    RETURN jsonb_strip_nulls(jsonb_build_object(
        'transaction_code', (p_claim).transaction_code,
        'transaction_response_status', (p_claim).transaction_response_status,
        'authorization_number', (p_claim).claim_id::text,
        'date_of_service', (p_claim).date_of_service,
        'service_provider_id', (p_claim).service_provider_id,
        'rx_number', (p_claim).rx_number,
        'fill_number', (p_claim).fill_number,
        'product_id', (p_claim).product_id,
        'reject_count', cardinality((p_claim).reject_codes),
        'reject_codes', to_jsonb((p_claim).reject_codes),
        'reject_messages', (
            SELECT jsonb_agg(jsonb_build_object('code', rc.code, 'description', rc.description) ORDER BY u.ord)
            FROM unnest((p_claim).reject_codes) WITH ORDINALITY AS u (code, ord)
            INNER JOIN ref.reject_codes AS rc ON u.code = rc.code
        ),
        'reversal_of_authorization_number', (p_claim).reversal_of_claim_id::text,
        'tier', (p_claim).tier,
        'ingredient_cost_paid', claims.money((p_claim).ingredient_cost_paid),
        'dispensing_fee_paid', claims.money((p_claim).dispensing_fee_paid),
        'total_amount_paid', claims.money((p_claim).total_amount_paid),
        'basis_of_reimbursement_determination', (p_claim).basis_of_reimbursement,
        'pricing_source', (p_claim).pricing_source,
        'patient_pay_amount', claims.money((p_claim).patient_pay_amount),
        'amount_applied_to_periodic_deductible', claims.money((p_claim).amount_applied_to_deductible),
        'amount_of_copay', claims.money((p_claim).amount_of_copay),
        'amount_of_coinsurance', claims.money((p_claim).amount_of_coinsurance),
        'amount_attributed_to_product_selection_brand_drug',
        claims.money((p_claim).amount_attributed_to_product_selection),
        'accumulated_deductible_amount', claims.money((p_claim).accumulated_deductible_amount),
        'remaining_deductible_amount', claims.money((p_claim).remaining_deductible_amount),
        'accumulated_out_of_pocket_amount', claims.money((p_claim).accumulated_oop_amount),
        'remaining_out_of_pocket_amount', claims.money((p_claim).remaining_oop_amount),
        'benefit_stages', CASE WHEN (p_claim).transaction_response_status = 'P' THEN (
            SELECT jsonb_agg(jsonb_build_object('benefit_stage_qualifier', s.q, 'benefit_stage_amount', s.amount))
            FROM (
                VALUES
                ('01', claims.money((p_claim).stage_deductible_amount)),
                ('02', claims.money((p_claim).stage_initial_amount)),
                ('04', claims.money((p_claim).stage_catastrophic_amount))
            ) AS s (q, amount)
            WHERE s.amount <> 0
        ) END,
        'benefit_phases', CASE WHEN (p_claim).transaction_response_status = 'P' THEN to_jsonb(array_remove(ARRAY[
            CASE WHEN (p_claim).stage_deductible_amount <> 0 THEN 'deductible' END,
            CASE WHEN (p_claim).stage_initial_amount <> 0 THEN 'initial_coverage' END,
            CASE WHEN (p_claim).stage_catastrophic_amount <> 0 THEN 'catastrophic' END
        ], NULL)) END,
        'prior_authorization_number_assigned', (p_claim).prior_authorization_number,
        'dur_response', CASE WHEN (p_claim).dur_reason_code IS NOT NULL THEN jsonb_build_object(
            'reason_for_service_code', (p_claim).dur_reason_code,
            'previous_date_of_fill', (p_claim).previous_fill_date,
            'quantity_of_previous_fill', (p_claim).previous_fill_quantity
        ) END,
        'next_available_fill_date', (p_claim).next_available_fill_date,
        'm3p_amount', CASE WHEN (p_claim).m3p_amount <> 0 THEN claims.money((p_claim).m3p_amount) END,
        'amount_collected_from_patient', CASE
            WHEN (p_claim).transaction_response_status = 'P'
                THEN claims.money((p_claim).patient_pay_amount - (p_claim).m3p_amount)
        END,
        'm3p_likely_to_benefit_notice', CASE WHEN (p_claim).m3p_ltb_notice THEN TRUE END,
        'approved_message_code', CASE WHEN (p_claim).m3p_ltb_notice THEN '056' END,
        'additional_message', CASE
            WHEN (p_claim).m3p_ltb_notice
                THEN 'Member may benefit from the Medicare Prescription Payment Plan: give the notice'
            WHEN (p_claim).m3p_amount > 0
                THEN 'Medicare Prescription Payment Plan participant: collect $0; the cost share is billed monthly'
            WHEN (p_claim).dur_reason_code = 'ER' THEN 'Refill too soon: next available fill date given'
        END
    ));
END;
$$;
COMMENT ON FUNCTION claims.response(claims.claims) IS
'The response of a stored claim as JSON with NCPDP field names: status (112-AN), authorization number (503-F3), reject codes (511-FB) with their descriptions, pricing (506-F6, 507-F7, 509-F9, 522-FM), patient pay and its components (505-F5, 517-FH, 518-FI, 572-4U, 519-FJ), accumulators (512-FC, 513-FD), benefit stages (393-MV/394-MW), DUR (439-E4, 530-FU, 531-FV) and next fill date, the PA number (498-PY), M3P amounts and the likely-to-benefit notice (message 056).';

CREATE OR REPLACE FUNCTION claims.response_of(p_claim_id bigint, p_date_of_service date)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_claim claims.claims;
    v_original claims.claims;
BEGIN
    -- PL/pgSQL so the lookups keep their plans for the session (a SQL function is planned again in every
    -- transaction, over every claims partition).
    SELECT * INTO v_claim FROM claims.claims AS c WHERE c.claim_id = p_claim_id AND c.date_of_service = p_date_of_service;
    IF v_claim.transaction_response_status IS DISTINCT FROM 'D' THEN
        RETURN claims.response(v_claim);
    END IF;
    SELECT * INTO v_original FROM claims.claims AS o
    WHERE o.claim_id = v_claim.duplicate_of_claim_id AND o.date_of_service = v_claim.date_of_service;
    RETURN claims.response(v_original) || jsonb_build_object('transaction_response_status', 'D');
END;
$$;
COMMENT ON FUNCTION claims.response_of(bigint, date) IS
'The response of claim p_claim_id; for a duplicate (status D) the original paid claim''s response with status D.';
