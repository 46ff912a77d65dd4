-- Maintenance of the claim fact (reporting.fact_claims, a table made by migration 0060) and the member
-- pseudonym map, plus the reject-code bridge view. reporting.refresh() calls these first.

CREATE OR REPLACE FUNCTION reporting_private.refresh_member_keys(p_full boolean)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_removed bigint;
    v_written bigint;
BEGIN
    DELETE FROM reporting_private.member_keys AS mk
    WHERE NOT EXISTS (SELECT FROM member.members AS m WHERE m.member_id = mk.member_id);
    GET DIAGNOSTICS v_removed = ROW_COUNT;

    IF p_full THEN
        -- After a key rotation every pseudonym changes; clear first so old and new never collide.
        DELETE FROM reporting_private.member_keys;
    END IF;
    INSERT INTO reporting_private.member_keys (member_id, member_key)
    SELECT m.member_id, reporting_private.pseudonym(k.secret, 'member', m.member_id)
    FROM member.members AS m
    CROSS JOIN reporting_private.pseudonym_key AS k
    WHERE NOT EXISTS (SELECT FROM reporting_private.member_keys AS mk WHERE mk.member_id = m.member_id);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written + v_removed;
END;
$$;
COMMENT ON FUNCTION reporting_private.refresh_member_keys(boolean) IS
'Gives every member a pseudonym in reporting_private.member_keys (all of them again when p_full) and drops those of deleted members; returns rows written or removed.';

CREATE OR REPLACE FUNCTION reporting.refresh_fact_claims(p_full boolean DEFAULT FALSE)
RETURNS TABLE (month date, action text, fact_rows bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
    v_rows bigint;
BEGIN
    -- Months whose claims changed since they were last built: compare each month's fingerprint (rows,
    -- sum of claim ids, reversed rows) with the one stored. The fingerprint stored is the one read here,
    -- before the month is rebuilt, so a claim committed in between makes the month differ next time.
    FOR v IN
        WITH current_months AS (
            SELECT
                date_trunc('month', c.date_of_service)::date AS month,
                count(*) AS claim_rows,
                sum(c.claim_id) AS claim_id_sum,
                count(c.reversed_by_claim_id) AS reversed_rows
            FROM claims.claims AS c
            GROUP BY 1
        )
        SELECT
            coalesce(cm.month, fm.month) AS month,
            cm.month IS NOT NULL AS has_claims,
            cm.claim_rows,
            cm.claim_id_sum,
            cm.reversed_rows
        FROM current_months AS cm
        FULL JOIN reporting_private.fact_claims_months AS fm ON cm.month = fm.month
        WHERE p_full OR cm.month IS NULL OR fm.month IS NULL
            OR (cm.claim_rows, cm.claim_id_sum, cm.reversed_rows)
            IS DISTINCT FROM (fm.claim_rows, fm.claim_id_sum, fm.reversed_rows)
        ORDER BY 1
    LOOP
        DELETE FROM reporting.fact_claims AS f WHERE f.month = v.month;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        IF NOT v.has_claims THEN
            -- The month left claims.claims (e.g. its partition was detached to claims_archive).
            DELETE FROM reporting_private.fact_claims_months AS fm WHERE fm.month = v.month;
            month := v.month;
            action := 'removed';
            fact_rows := v_rows;
            RETURN NEXT;
            CONTINUE;
        END IF;

        INSERT INTO reporting.fact_claims (
            claim_key, date_key, month, member_key, plan_key, pharmacy_key, drug_key, prescriber_npi, plan_year,
            transaction_response_status, is_paid, is_reversed, reversed_date, is_duplicate, reject_codes,
            on_formulary, tier, fill_number, daw_code, quantity_dispensed, days_supply,
            ingredient_cost_submitted, usual_and_customary_charge, gross_amount_due,
            ingredient_cost_paid, dispensing_fee_paid, gross_cost, plan_paid, member_paid,
            deductible_amount, copay_amount, coinsurance_amount, brand_penalty_amount,
            stage_deductible_amount, stage_initial_amount, stage_catastrophic_amount,
            pricing_source, basis_of_reimbursement, dur_reason_code, prior_authorization_used,
            m3p_amount, m3p_ltb_notice
        )
        SELECT
            reporting_private.pseudonym(k.secret, 'claim', c.claim_id),
            c.date_of_service,
            v.month,
            mk.member_key,
            c.plan_id,
            c.pharmacy_id,
            d.ndc11,
            CASE WHEN c.prescriber_id ~ '^[0-9]{10}$' THEN c.prescriber_id END,
            c.plan_year,
            c.transaction_response_status,
            c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL,
            c.reversed_by_claim_id IS NOT NULL,
            c.reversed_at::date,
            c.transaction_response_status = 'D',
            c.reject_codes,
            CASE
                WHEN c.plan_id IS NOT NULL AND d.ndc11 IS NOT NULL
                    THEN coalesce(c.date_of_service <@ fe.covered, FALSE)
            END,
            c.tier,
            c.fill_number,
            c.daw_code,
            c.quantity_dispensed,
            c.days_supply,
            c.ingredient_cost_submitted,
            c.usual_and_customary_charge,
            c.gross_amount_due,
            c.ingredient_cost_paid,
            c.dispensing_fee_paid,
            c.ingredient_cost_paid + c.dispensing_fee_paid,
            c.total_amount_paid,
            c.patient_pay_amount,
            c.amount_applied_to_deductible,
            c.amount_of_copay,
            c.amount_of_coinsurance,
            c.amount_attributed_to_product_selection,
            c.stage_deductible_amount,
            c.stage_initial_amount,
            c.stage_catastrophic_amount,
            c.pricing_source,
            c.basis_of_reimbursement,
            c.dur_reason_code,
            c.prior_authorization_number IS NOT NULL,
            c.m3p_amount,
            c.m3p_ltb_notice
        FROM claims.claims AS c
        CROSS JOIN reporting_private.pseudonym_key AS k
        LEFT JOIN reporting_private.member_keys AS mk ON c.member_id = mk.member_id
        LEFT JOIN drug.drugs AS d ON length(c.product_id) = 11 AND c.product_id::char(11) = d.ndc11
        -- On formulary: the drug's entries (not excluded) in the formulary of the plan's benefit design for
        -- the plan year cover the date of service. Hash joins: a lookup per claim would cost minutes.
        LEFT JOIN plan.benefit_designs AS bd
            ON c.plan_id = bd.plan_id
            AND bd.plan_year = coalesce(c.plan_year, extract(YEAR FROM c.date_of_service)::smallint)
        LEFT JOIN (
            SELECT
                e.formulary_id,
                e.ndc11,
                range_agg(daterange(e.effective_date, e.termination_date, '[]')) AS covered
            FROM plan.formulary_entries AS e
            WHERE NOT e.is_excluded
            GROUP BY e.formulary_id, e.ndc11
        ) AS fe ON bd.formulary_id = fe.formulary_id AND d.ndc11 = fe.ndc11
        WHERE c.transaction_code = 'B1'
            AND c.date_of_service >= v.month
            AND c.date_of_service < (v.month + interval '1 month')::date;
        GET DIAGNOSTICS v_rows = ROW_COUNT;

        INSERT INTO reporting_private.fact_claims_months AS fm (month, claim_rows, claim_id_sum, reversed_rows)
        VALUES (v.month, v.claim_rows, v.claim_id_sum, v.reversed_rows)
        ON CONFLICT ON CONSTRAINT fact_claims_months_pkey DO UPDATE
            SET claim_rows = excluded.claim_rows, claim_id_sum = excluded.claim_id_sum,
            reversed_rows = excluded.reversed_rows, built_at = now();
        month := v.month;
        action := 'rebuilt';
        fact_rows := v_rows;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION reporting.refresh_fact_claims(boolean) IS
'Rebuilds the months of reporting.fact_claims whose claims changed since they were last built (every month when p_full), and removes months no longer in claims.claims; one row per month touched. Called by reporting.refresh(); run by the owner.';
REVOKE ALL ON FUNCTION reporting.refresh_fact_claims(boolean) FROM public;

CREATE OR REPLACE VIEW reporting.claim_reject_codes AS
SELECT
    f.claim_key,
    f.date_key,
    f.month,
    f.plan_key,
    f.pharmacy_key,
    f.drug_key,
    r.reject_code,
    r.position::smallint AS position
FROM reporting.fact_claims AS f
CROSS JOIN LATERAL unnest(f.reject_codes) WITH ORDINALITY AS r (reject_code, position)
WHERE f.transaction_response_status = 'R';
COMMENT ON VIEW reporting.claim_reject_codes IS
'Bridge from rejected claims to their reject codes, one row per code (for BI tools that cannot read arrays); join dim_reject_code for the descriptions.';
COMMENT ON COLUMN reporting.claim_reject_codes.claim_key IS 'Claim pseudonym (fact_claims.claim_key)';
COMMENT ON COLUMN reporting.claim_reject_codes.date_key IS 'Date of service';
COMMENT ON COLUMN reporting.claim_reject_codes.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.claim_reject_codes.plan_key IS 'Plan (dim_plan), NULL when the claim matched none';
COMMENT ON COLUMN reporting.claim_reject_codes.pharmacy_key IS 'Pharmacy (dim_pharmacy)';
COMMENT ON COLUMN reporting.claim_reject_codes.drug_key IS 'Drug (dim_drug), NULL for unknown products';
COMMENT ON COLUMN reporting.claim_reject_codes.reject_code IS 'NCPDP 511-FB Reject Code';
COMMENT ON COLUMN reporting.claim_reject_codes.position IS 'Position of the code in the response (1 = first edit that failed)';
