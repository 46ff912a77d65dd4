-- Set-based adjudication of a whole batch, with exactly the results of adjudicating its claims one by
-- one (claims.adjudicate_claim) in processing order: date of service, then file line.
--
-- Pass 1 gathers every fact that does not depend on other claims of the batch with joins. Pass 2 settles
-- the facts that do (duplicates, step therapy, refill too soon) by iterating "which claims are paid" to a
-- fixed point: a claim depends only on claims before it, so each pass fixes at least one more claim of
-- every chain; chains are short, passes few. Pass 3 prices the paid claims and computes cost share with
-- window functions: because stage 1 of cost sharing never depends on the out-of-pocket total, running
-- totals are least(maximum, base + running sum) and each claim's stage 2 gets exactly the accumulator the
-- sequential path would have seen. Pass 4 writes claims and accumulators. No loop over claims.

CREATE OR REPLACE VIEW claims.batch_summary AS
SELECT
    b.batch_id,
    b.source,
    b.file_name,
    b.status,
    b.received_at,
    b.adjudicated_at,
    count(c.claim_id) AS claims_count,
    count(c.claim_id) FILTER (WHERE c.transaction_response_status = 'P') AS paid_count,
    count(c.claim_id) FILTER (WHERE c.transaction_response_status = 'R') AS rejected_count,
    count(c.claim_id) FILTER (WHERE c.transaction_response_status = 'D') AS duplicate_count,
    coalesce(sum(c.total_amount_paid) FILTER (WHERE c.transaction_response_status = 'P'), 0) AS total_amount_paid,
    coalesce(sum(c.patient_pay_amount) FILTER (WHERE c.transaction_response_status = 'P'), 0) AS patient_pay_amount,
    coalesce(sum(c.ingredient_cost_paid + c.dispensing_fee_paid) FILTER (WHERE c.transaction_response_status = 'P'), 0)
        AS allowed_amount
FROM claims.batches AS b
LEFT JOIN claims.claims AS c ON b.batch_id = c.batch_id
GROUP BY b.batch_id;
COMMENT ON VIEW claims.batch_summary IS
'Per batch: status, claims adjudicated, paid / rejected / duplicate counts, plan paid, patient pay and allowed amounts.';

CREATE OR REPLACE VIEW claims.batch_reject_reasons AS
SELECT
    c.batch_id,
    u.code,
    rc.description,
    count(*) AS claims
FROM claims.claims AS c
CROSS JOIN LATERAL unnest(c.reject_codes) AS u (code)
LEFT JOIN ref.reject_codes AS rc ON u.code = rc.code
WHERE c.batch_id IS NOT NULL AND c.transaction_response_status = 'R'
GROUP BY c.batch_id, u.code, rc.description;
COMMENT ON VIEW claims.batch_reject_reasons IS 'Per batch and reject code: how many rejected claims carry it.';

CREATE OR REPLACE FUNCTION claims.adjudicate_batch(p_batch_id bigint, p_as_of date DEFAULT NULL)
RETURNS TABLE (
    claims_count bigint,
    paid_count bigint,
    rejected_count bigint,
    duplicate_count bigint,
    passes int,
    total_amount_paid numeric,
    patient_pay_amount numeric
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_batch claims.batches;
    v_as_of date;
    v_epoch constant date := date '2000-01-01';
    v_passes int := 0;
    v_changed bigint;
    v_segments int;
    v_started timestamptz := clock_timestamp();
    v_rows bigint;
BEGIN
    SELECT * INTO v_batch FROM claims.batches AS b WHERE b.batch_id = p_batch_id FOR UPDATE;
    IF v_batch.batch_id IS NULL THEN
        RAISE EXCEPTION 'no batch %', p_batch_id USING ERRCODE = 'P0002';
    END IF;
    IF v_batch.status IN ('adjudicated', 'paid') THEN
        -- Re-running a batch changes nothing: report what it already is.
        RETURN QUERY SELECT s.claims_count, s.paid_count, s.rejected_count, s.duplicate_count, 0,
            s.total_amount_paid, s.patient_pay_amount
        FROM claims.batch_summary AS s WHERE s.batch_id = p_batch_id;
        RETURN;
    END IF;
    -- One batch at a time (real-time claims go on meanwhile): batches never race each other for members,
    -- and the work tables are this run's alone.
    PERFORM pg_advisory_xact_lock(hashtext('claims.adjudicate_batch'));
    v_as_of := coalesce(p_as_of, v_batch.received_at::date);
    TRUNCATE claims_work.facts, claims_work.history, claims_work.cost, claims_work.accumulators;

    -- ---------------------------------------------------------------------------------------------
    -- Pass 1: facts independent of the other claims of the batch, by joins.
    -- ---------------------------------------------------------------------------------------------
    INSERT INTO claims_work.facts (
        line_no, ord, claim_id, bin, pcn, group_id, cardholder_id, person_code, patient_date_of_birth, patient_gender_code,
        date_of_service, service_provider_id, prescriber_id, product_id, quantity_dispensed, days_supply,
        fill_number, daw_code, rx_number, date_prescription_written, submission_clarification_code,
        prior_authorization_number_submitted, ingredient_cost_submitted, dispensing_fee_submitted,
        usual_and_customary_charge, gross_amount_due, syntax_ok, plan_year, plan_id, plan_type, benefit_design_id,
        deductible, deductible_tiers, oop_max, insulin_cap_per_month, insulin_deductible_exempt, acip_vaccines_zero,
        brand_penalty_daw, brand_penalty_counts_to_oop, rts_threshold, rts_lookback_days, member_id, pharmacy_id,
        contract_id, ingredient_basis, brand_awp_discount, generic_awp_discount, brand_dispensing_fee,
        generic_dispensing_fee, mac_list_id, drug_ndc, is_brand, multi_source_code, drug_group, therapeutic_class,
        is_insulin, is_vaccine, tier, step_therapy_class, step_lookback_days, pa_number, independent_codes,
        step_needed, rts_eligible
    )
    SELECT
        x.line_no, x.ord, nextval('claims.claim_id_seq'), x.bin, x.pcn, x.group_id, x.cardholder_id, x.person_code, x.patient_date_of_birth,
        x.patient_gender_code, x.date_of_service, x.service_provider_id, x.prescriber_id, x.product_id,
        x.quantity_dispensed, x.days_supply, x.fill_number, x.daw_code, x.rx_number, x.date_prescription_written,
        x.submission_clarification_code, x.prior_authorization_number_submitted, x.ingredient_cost_submitted,
        x.dispensing_fee_submitted, x.usual_and_customary_charge, x.gross_amount_due,
        cardinality(x.syntax) = 0, x.plan_year, x.plan_id, x.plan_type, x.benefit_design_id, x.deductible,
        x.deductible_tiers, x.oop_max, x.insulin_cap_per_month, x.insulin_deductible_exempt, x.acip_vaccines_zero,
        x.brand_penalty_daw, x.brand_penalty_counts_to_oop, x.rts_threshold, x.rts_lookback_days, x.member_id,
        x.pharmacy_id, x.contract_id, x.ingredient_basis, x.brand_awp_discount, x.generic_awp_discount,
        x.brand_dispensing_fee, x.generic_dispensing_fee, x.mac_list_id, x.drug_ndc, x.is_brand, x.multi_source_code,
        x.drug_group, x.therapeutic_class, x.is_insulin, x.is_vaccine, x.tier, x.step_therapy_class,
        x.step_lookback_days, x.pa_number,
        claims.edit_codes(x.syntax, ROW(
            x.plan_id IS NULL AND x.routable AND NOT EXISTS (SELECT FROM plan.plans AS p2 WHERE p2.bin = x.bin),
            x.plan_id IS NULL AND x.routable AND EXISTS (SELECT FROM plan.plans AS p2 WHERE p2.bin = x.bin)
            AND NOT EXISTS (SELECT FROM plan.plans AS p2 WHERE p2.bin = x.bin AND p2.pcn = x.pcn),
            x.plan_id IS NULL AND x.routable
            AND EXISTS (SELECT FROM plan.plans AS p2 WHERE p2.bin = x.bin AND p2.pcn = x.pcn),
            x.member_id IS NULL AND x.matchable
            AND NOT EXISTS (SELECT FROM member.members AS m2 WHERE m2.cardholder_id = x.cardholder_id),
            x.member_id IS NULL AND x.matchable
            AND EXISTS (SELECT FROM member.members AS m2 WHERE m2.cardholder_id = x.cardholder_id),
            CASE WHEN x.member_id IS NOT NULL AND x.plan_id IS NOT NULL AND x.date_of_service IS NOT NULL THEN coalesce(
                CASE WHEN x.span_plan_id IS NOT NULL AND x.span_plan_id = x.plan_id THEN NULL ELSE
                    claims.coverage_reject(
                        x.span_plan_id, x.plan_id, x.date_of_service,
                        (SELECT min(s2.effective_date) FROM member.coverage_spans AS s2 WHERE s2.member_id = x.member_id),
                        le.termination_date, le.terminated
                    )
                END,
                CASE WHEN x.benefit_design_id IS NULL THEN '65' END
            ) END,
            CASE WHEN x.syntax_npi_ok THEN x.pharmacy_id IS NULL END,
            CASE WHEN x.pharmacy_id IS NOT NULL AND x.plan_id IS NOT NULL AND x.date_of_service IS NOT NULL
                THEN x.contract_id IS NULL END,
            CASE WHEN x.syntax_prescriber_ok THEN x.prescriber_found IS NULL END,
            CASE WHEN x.syntax_prescriber_ok THEN x.prescriber_deactivated_on <= x.date_of_service END,
            CASE WHEN x.syntax_product_ok THEN x.drug_ndc IS NULL END,
            CASE WHEN x.syntax_product_ok THEN x.market_end_date < x.date_of_service END,
            CASE WHEN x.drug_ndc IS NOT NULL AND x.benefit_design_id IS NOT NULL THEN x.formulary_entry_id IS NULL END,
            x.entry_excluded,
            CASE WHEN x.formulary_entry_id IS NOT NULL AND x.member_id IS NOT NULL THEN x.age < x.min_age END,
            CASE WHEN x.formulary_entry_id IS NOT NULL AND x.member_id IS NOT NULL THEN x.age > x.max_age END,
            CASE WHEN x.formulary_entry_id IS NOT NULL AND x.member_id IS NOT NULL
                THEN x.entry_gender IS NOT NULL AND x.member_gender <> x.entry_gender END,
            x.days_supply > x.max_days_supply,
            CASE WHEN x.um_checked THEN x.pa_required AND x.pa_number IS NULL END,
            CASE WHEN x.um_checked THEN x.quantity_dispensed > x.pa_quantity END,
            CASE WHEN x.ql_quantity IS NOT NULL AND x.days_supply > 0
                THEN x.quantity_dispensed * x.ql_days > x.ql_quantity * x.days_supply END,
            NULL,
            NULL
        )::claims.edit_facts),
        coalesce(x.um_checked AND x.step_therapy_class IS NOT NULL AND x.pa_number IS NULL, FALSE),
        x.drug_ndc IS NOT NULL AND x.member_id IS NOT NULL AND x.benefit_design_id IS NOT NULL
        AND coalesce(x.submission_clarification_code, 0) NOT IN (3, 4, 5, 13, 14)
    FROM (
        SELECT
            bc.*,
            row_number() OVER (ORDER BY bc.date_of_service, bc.line_no)::int AS ord,
            syn.codes AS syntax,
            bc.bin IS NOT NULL AND bc.pcn IS NOT NULL AND bc.group_id IS NOT NULL AND '01' <> ALL(syn.codes) AS routable,
            bc.cardholder_id IS NOT NULL AND bc.person_code IS NOT NULL AND '08' <> ALL(syn.codes) AS matchable,
            '05' <> ALL(syn.codes) AS syntax_npi_ok,
            '25' <> ALL(syn.codes) AS syntax_prescriber_ok,
            '21' <> ALL(syn.codes) AS syntax_product_ok,
            extract(YEAR FROM bc.date_of_service)::smallint AS plan_year,
            p.plan_id, p.plan_type,
            bd.benefit_design_id, bd.deductible, bd.deductible_tiers, bd.oop_max, bd.insulin_cap_per_month,
            bd.insulin_deductible_exempt, bd.acip_vaccines_zero, bd.brand_penalty_daw, bd.brand_penalty_counts_to_oop,
            bd.rts_threshold, bd.rts_lookback_days, bd.max_days_supply,
            m.member_id, m.gender AS member_gender,
            extract(YEAR FROM age(bc.date_of_service, m.date_of_birth))::int AS age,
            cs.plan_id AS span_plan_id,
            ph.pharmacy_id,
            k.contract_id, k.ingredient_basis, k.brand_awp_discount, k.generic_awp_discount,
            k.brand_dispensing_fee, k.generic_dispensing_fee, k.mac_list_id,
            pr.prescriber_id AS prescriber_found, pr.deactivated_on AS prescriber_deactivated_on,
            d.ndc11 AS drug_ndc, d.is_brand, d.multi_source_code, d.drug_group, d.therapeutic_class,
            d.is_insulin, d.is_vaccine, d.market_end_date,
            fe.formulary_entry_id, fe.tier, fe.is_excluded AS entry_excluded, fe.pa_required, fe.ql_quantity,
            fe.ql_days, fe.step_therapy_class, fe.step_lookback_days, fe.min_age, fe.max_age,
            fe.gender AS entry_gender,
            fe.formulary_entry_id IS NOT NULL AND m.member_id IS NOT NULL
            AND (fe.pa_required OR fe.step_therapy_class IS NOT NULL) AS um_checked,
            pa.pa_number, pa.approved_quantity AS pa_quantity
        FROM claims.batch_claims AS bc
        CROSS JOIN LATERAL (
            SELECT claims.syntax_rejects(ROW(
                bc.bin, bc.pcn, bc.group_id, bc.cardholder_id, bc.person_code, bc.patient_date_of_birth,
                bc.patient_gender_code, bc.date_of_service, bc.service_provider_id, bc.prescriber_id,
                bc.product_id, bc.quantity_dispensed, bc.days_supply, bc.fill_number, bc.daw_code, bc.rx_number,
                bc.date_prescription_written, bc.submission_clarification_code,
                bc.prior_authorization_number_submitted, bc.ingredient_cost_submitted,
                bc.dispensing_fee_submitted, bc.usual_and_customary_charge, bc.gross_amount_due
            )::claims.claim_request, v_as_of) AS codes
        ) AS syn
        LEFT JOIN plan.plans AS p
            ON bc.bin = p.bin AND bc.pcn = p.pcn AND bc.group_id = p.group_id AND '01' <> ALL(syn.codes)
        LEFT JOIN plan.benefit_designs AS bd
            ON p.plan_id = bd.plan_id AND bd.plan_year = extract(YEAR FROM bc.date_of_service)
        LEFT JOIN member.members AS m
            ON bc.cardholder_id = m.cardholder_id AND bc.person_code = m.person_code AND '08' <> ALL(syn.codes)
        LEFT JOIN member.coverage_spans AS cs
            ON m.member_id = cs.member_id AND p.plan_id IS NOT NULL
            AND daterange(cs.effective_date, cs.termination_date, '[]') @> bc.date_of_service
        LEFT JOIN network.pharmacies AS ph ON bc.service_provider_id = ph.npi AND '05' <> ALL(syn.codes)
        LEFT JOIN network.participations AS pp
            ON ph.pharmacy_id = pp.pharmacy_id AND p.network_id = pp.network_id
            AND daterange(pp.effective_date, pp.termination_date, '[]') @> bc.date_of_service
        LEFT JOIN network.contracts AS k ON pp.contract_id = k.contract_id
        LEFT JOIN network.prescribers AS pr ON bc.prescriber_id = pr.npi AND '25' <> ALL(syn.codes)
        LEFT JOIN drug.drugs AS d ON bc.product_id = d.ndc11 AND '21' <> ALL(syn.codes)
        LEFT JOIN plan.formulary_entries AS fe
            ON bd.formulary_id = fe.formulary_id AND d.ndc11 = fe.ndc11
            AND daterange(fe.effective_date, fe.termination_date, '[]') @> bc.date_of_service
        LEFT JOIN LATERAL (
            SELECT a.pa_number, a.approved_quantity FROM claims.prior_authorizations AS a
            WHERE a.member_id = m.member_id AND a.drug_group = d.drug_group
                AND a.status IN ('approved', 'partially_approved', 'expired')
                AND bc.date_of_service BETWEEN a.effective_date AND a.expiration_date
            ORDER BY a.prior_authorization_id DESC LIMIT 1
        ) AS pa ON fe.pa_required OR fe.step_therapy_class IS NOT NULL
        WHERE bc.batch_id = p_batch_id
        -- Claim ids are handed out in processing order, as the one-by-one path would.
        ORDER BY bc.date_of_service, bc.line_no
    ) AS x
    -- The span that ended last before the date of service (only read when the date is not covered).
    LEFT JOIN LATERAL (
        SELECT s2.termination_date, s2.termination_reason IS NOT NULL AS terminated
        FROM member.coverage_spans AS s2
        WHERE s2.member_id = x.member_id AND s2.termination_date < x.date_of_service
        ORDER BY s2.termination_date DESC LIMIT 1
    ) AS le ON x.member_id IS NOT NULL AND x.plan_id IS NOT NULL AND x.span_plan_id IS DISTINCT FROM x.plan_id;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    ANALYZE claims_work.facts;
    RAISE NOTICE 'batch %: edits of % claims (% s)', p_batch_id, v_rows,
        round(extract(EPOCH FROM clock_timestamp() - v_started), 1);

    -- Stored history the dependent edits read: paid, unreversed claims.
    UPDATE claims_work.facts AS w SET duplicate_of_claim_id = c.claim_id, is_duplicate = TRUE
    FROM claims.claims AS c
    WHERE w.syntax_ok AND c.service_provider_id = w.service_provider_id AND c.rx_number = w.rx_number
        AND c.fill_number = w.fill_number AND c.date_of_service = w.date_of_service
        AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL;
    UPDATE claims_work.facts AS w SET step_needed = FALSE
    WHERE w.step_needed AND EXISTS (
        SELECT FROM claims.claims AS c
        INNER JOIN drug.drugs AS d ON c.product_id = d.ndc11
        WHERE c.member_id = w.member_id AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL
            AND c.date_of_service BETWEEN w.date_of_service - w.step_lookback_days AND w.date_of_service
            AND d.therapeutic_class = w.step_therapy_class
    );
    INSERT INTO claims_work.history (member_id, drug_group, date_of_service, claim_id, days_supply, quantity_dispensed)
    SELECT c.member_id, d.drug_group, c.date_of_service, c.claim_id, c.days_supply, c.quantity_dispensed
    FROM (
        SELECT w.member_id, w.drug_group, min(w.date_of_service - w.rts_lookback_days) AS lo, max(w.date_of_service) AS hi
        FROM claims_work.facts AS w WHERE w.rts_eligible
        GROUP BY w.member_id, w.drug_group
    ) AS g
    INNER JOIN claims.claims AS c ON g.member_id = c.member_id AND c.date_of_service BETWEEN g.lo AND g.hi
    INNER JOIN drug.drugs AS d ON c.product_id = d.ndc11 AND g.drug_group = d.drug_group
    WHERE c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL;

    -- Which claims can depend on others: a member's drug group with history or several claims in the
    -- batch (refill too soon); a pharmacy/Rx/fill/date key occurring more than once (duplicates).
    UPDATE claims_work.facts AS w SET dep_rts = TRUE
    FROM (
        SELECT b.member_id, b.drug_group FROM claims_work.facts AS b
        WHERE b.member_id IS NOT NULL AND b.drug_ndc IS NOT NULL
        GROUP BY b.member_id, b.drug_group
        HAVING count(*) > 1 OR EXISTS (
            SELECT FROM claims_work.history AS h WHERE h.member_id = b.member_id AND h.drug_group = b.drug_group
        )
    ) AS g
    WHERE w.member_id = g.member_id AND w.drug_group = g.drug_group;
    UPDATE claims_work.facts AS w SET dep_dup = TRUE
    FROM (
        SELECT b.service_provider_id, b.rx_number, b.fill_number, b.date_of_service FROM claims_work.facts AS b
        WHERE b.syntax_ok
        GROUP BY b.service_provider_id, b.rx_number, b.fill_number, b.date_of_service
        HAVING count(*) > 1
    ) AS g
    WHERE w.syntax_ok AND w.service_provider_id = g.service_provider_id AND w.rx_number = g.rx_number
        AND w.fill_number = g.fill_number AND w.date_of_service = g.date_of_service;
    -- Optimistic start: every claim the independent edits pass is paid.
    UPDATE claims_work.facts AS w SET paid = TRUE
    WHERE w.syntax_ok AND NOT w.is_duplicate AND cardinality(w.independent_codes) = 0;

    -- ---------------------------------------------------------------------------------------------
    -- Pass 2: duplicates, step therapy and refill too soon inside the batch, to a fixed point.
    -- ---------------------------------------------------------------------------------------------
    LOOP
        v_passes := v_passes + 1;
        -- A duplicate of an earlier paid claim of the batch.
        UPDATE claims_work.facts AS w SET is_duplicate = n.dup_ord IS NOT NULL, duplicate_of_ord = n.dup_ord
        FROM (
            SELECT b.line_no, min(CASE WHEN b.paid THEN b.ord END) OVER (
                PARTITION BY b.service_provider_id, b.rx_number, b.fill_number, b.date_of_service
                ORDER BY b.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS dup_ord
            FROM claims_work.facts AS b WHERE b.dep_dup
        ) AS n
        WHERE w.line_no = n.line_no AND w.duplicate_of_claim_id IS NULL AND w.duplicate_of_ord IS DISTINCT FROM n.dup_ord;
        -- Step therapy met by an earlier paid claim of the batch.
        UPDATE claims_work.facts AS w SET step_therapy_unmet = n.unmet
        FROM (
            SELECT k.line_no, NOT EXISTS (
                SELECT FROM claims_work.facts AS j
                WHERE j.member_id = k.member_id AND j.therapeutic_class = k.step_therapy_class AND j.paid
                    AND j.ord < k.ord AND j.date_of_service >= k.date_of_service - k.step_lookback_days
            ) AS unmet
            FROM claims_work.facts AS k WHERE k.step_needed
        ) AS n
        WHERE w.line_no = n.line_no AND w.step_therapy_unmet IS DISTINCT FROM n.unmet;
        -- Refill too soon over stored history and earlier paid claims of the batch (as in
        -- claims.adjudicate_claim): supply end = max over fills j of (date_j + days supply of j and of every
        -- later fill) = (date_j - paid days before j) + paid days before k.
        UPDATE claims_work.facts AS w
        SET refill_too_soon = coalesce(
            n.reach - (w.date_of_service - v_epoch) > floor((1 - w.rts_threshold) * n.last_days)::int, FALSE
        ),
            rts_reach = n.reach, rts_last_date = n.last_date, rts_last_days = n.last_days,
            rts_last_quantity = n.last_quantity
        FROM (
            WITH seq AS (
                SELECT
                    h.member_id, h.drug_group, h.date_of_service, 0 AS src, h.claim_id AS o, h.days_supply,
                    h.quantity_dispensed, TRUE AS paid, NULL::int AS line_no, NULL::int AS lookback,
                    FALSE AS eligible
                FROM claims_work.history AS h
                UNION ALL
                SELECT
                    b.member_id, b.drug_group, b.date_of_service, 1 AS src, b.ord AS o, b.days_supply,
                    b.quantity_dispensed, b.paid, b.line_no, b.rts_lookback_days AS lookback, b.rts_eligible AS eligible
                FROM claims_work.facts AS b WHERE b.dep_rts
            ),

            cum AS (
                SELECT
                    s.*,
                    coalesce(sum(CASE WHEN s.paid THEN s.days_supply END) OVER (
                        PARTITION BY s.member_id, s.drug_group ORDER BY s.date_of_service, s.src, s.o
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                    ), 0) AS days_before
                FROM seq AS s
            )

            SELECT
                k.line_no,
                max((j.date_of_service - v_epoch) - j.days_before) + k.days_before AS reach,
                (array_agg(j.date_of_service ORDER BY j.date_of_service DESC, j.src DESC, j.o DESC))[1] AS last_date,
                (array_agg(j.days_supply ORDER BY j.date_of_service DESC, j.src DESC, j.o DESC))[1] AS last_days,
                (array_agg(j.quantity_dispensed ORDER BY j.date_of_service DESC, j.src DESC, j.o DESC))[1]
                    AS last_quantity
            FROM cum AS k
            LEFT JOIN cum AS j
                ON k.member_id = j.member_id AND k.drug_group = j.drug_group AND j.paid
                AND (j.date_of_service, j.src, j.o) < (k.date_of_service, k.src, k.o)
                AND j.date_of_service >= k.date_of_service - k.lookback
            WHERE k.src = 1 AND k.eligible
            GROUP BY k.line_no, k.days_before
        ) AS n
        WHERE w.line_no = n.line_no;
        UPDATE claims_work.facts AS w
        SET paid = w.syntax_ok AND NOT w.is_duplicate AND cardinality(w.independent_codes) = 0
            AND NOT w.step_therapy_unmet AND NOT w.refill_too_soon
        WHERE w.paid IS DISTINCT FROM (
            w.syntax_ok AND NOT w.is_duplicate AND cardinality(w.independent_codes) = 0
            AND NOT w.step_therapy_unmet AND NOT w.refill_too_soon
        );
        GET DIAGNOSTICS v_changed = ROW_COUNT;
        RAISE NOTICE 'batch %: dependency pass % changed % claims (% s)', p_batch_id, v_passes, v_changed,
            round(extract(EPOCH FROM clock_timestamp() - v_started), 1);
        EXIT WHEN v_changed = 0;
    END LOOP;

    -- ---------------------------------------------------------------------------------------------
    -- Pass 3: price and cost-share the paid claims; running accumulators by window functions.
    -- ---------------------------------------------------------------------------------------------
    -- Every matched member gets an accumulator row for the year, as one by one; those of paid claims are
    -- locked in key order (no deadlock with other writers).
    INSERT INTO claims.accumulators AS a (member_id, plan_year)
    SELECT DISTINCT w.member_id, w.plan_year FROM claims_work.facts AS w
    WHERE w.member_id IS NOT NULL AND w.date_of_service IS NOT NULL
    ORDER BY 1, 2
    ON CONFLICT (member_id, plan_year) DO NOTHING;
    INSERT INTO claims_work.accumulators (
        member_id, plan_year, deductible_accumulated, oop_accumulated, gross_cost_accumulated
    )
    SELECT a.member_id, a.plan_year, a.deductible_accumulated, a.oop_accumulated, a.gross_cost_accumulated
    FROM claims.accumulators AS a
    WHERE (a.member_id, a.plan_year) IN (SELECT w.member_id, w.plan_year FROM claims_work.facts AS w WHERE w.paid)
    ORDER BY a.member_id, a.plan_year
    FOR UPDATE OF a;

    IF EXISTS (
        SELECT FROM claims_work.facts AS w
        WHERE w.paid AND NOT EXISTS (
            SELECT FROM plan.tier_cost_shares AS t WHERE t.benefit_design_id = w.benefit_design_id AND t.tier = w.tier
        )
    ) THEN
        RAISE EXCEPTION 'a plan has no cost share for a tier used in batch %', p_batch_id
            USING ERRCODE = '23502', HINT = 'Add the tier to plan.tier_cost_shares';
    END IF;

    INSERT INTO claims_work.cost (
        line_no, ord, member_id, plan_year, benefit_design_id, deductible, oop_max, brand_penalty_counts_to_oop,
        days_supply, insulin_cap, zero_cost, cost_share_type, copay_amount, coinsurance_rate, min_amount,
        max_amount, ingredient_cost_paid, dispensing_fee_paid, allowed_amount, pricing_source,
        basis_of_reimbursement, penalty, deductible_applies, segment
    )
    SELECT
        w.line_no, w.ord, w.member_id, w.plan_year, w.benefit_design_id, w.deductible, w.oop_max,
        w.brand_penalty_counts_to_oop, w.days_supply, CASE WHEN w.is_insulin THEN w.insulin_cap_per_month END,
        w.is_vaccine AND w.acip_vaccines_zero, t.cost_share_type, t.copay_amount, t.coinsurance_rate, t.min_amount,
        t.max_amount, pz.ingredient_cost_paid, pz.dispensing_fee_paid, pz.allowed_amount, pz.pricing_source,
        pz.basis_of_reimbursement,
        CASE WHEN w.daw_code = ANY(w.brand_penalty_daw) AND w.multi_source_code = 'O' THEN
            least(pz.allowed_amount, greatest(0, pz.allowed_amount - coalesce(
                claims.generic_equivalent_allowed(w.drug_group, w.date_of_service, w.quantity_dispensed, w.contract_id),
                pz.allowed_amount
            )))
        ELSE 0 END,
        claims.deductible_applies(
            w.deductible, w.deductible_tiers, w.tier, w.is_insulin, w.insulin_cap_per_month,
            w.insulin_deductible_exempt, w.is_vaccine, w.acip_vaccines_zero
        ),
        -- A member whose plan changes inside the batch's year has one design segment per plan.
        1 + (
            count(*) FILTER (WHERE w.benefit_design_id IS DISTINCT FROM w.previous_design) OVER (
                PARTITION BY w.member_id, w.plan_year ORDER BY w.ord
            )
        )::int - 1
    FROM (
        SELECT f.*, lag(f.benefit_design_id) OVER (PARTITION BY f.member_id, f.plan_year ORDER BY f.ord) AS previous_design
        FROM claims_work.facts AS f WHERE f.paid
    ) AS w
    INNER JOIN plan.tier_cost_shares AS t ON w.benefit_design_id = t.benefit_design_id AND w.tier = t.tier
    LEFT JOIN drug.prices AS awp
        ON w.drug_ndc = awp.ndc11 AND awp.price_type = 'AWP'
        AND w.date_of_service BETWEEN awp.effective_date AND coalesce(awp.end_date, 'infinity')
    LEFT JOIN drug.prices AS nadac
        ON w.drug_ndc = nadac.ndc11 AND nadac.price_type = 'NADAC'
        AND w.date_of_service BETWEEN nadac.effective_date AND coalesce(nadac.end_date, 'infinity')
    LEFT JOIN drug.prices AS mac
        ON w.drug_ndc = mac.ndc11 AND mac.price_type = 'MAC' AND w.mac_list_id = mac.mac_list_id
        AND w.date_of_service BETWEEN mac.effective_date AND coalesce(mac.end_date, 'infinity')
    CROSS JOIN LATERAL claims.price(
        w.is_brand, w.quantity_dispensed, awp.unit_price, nadac.unit_price, mac.unit_price, w.ingredient_basis,
        w.brand_awp_discount, w.generic_awp_discount, w.brand_dispensing_fee, w.generic_dispensing_fee,
        w.ingredient_cost_submitted, w.dispensing_fee_submitted, w.usual_and_customary_charge, w.gross_amount_due
    ) AS pz;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    SELECT max(c.segment) INTO v_segments FROM claims_work.cost AS c;
    RAISE NOTICE 'batch %: priced % paid claims (% s)', p_batch_id, v_rows,
        round(extract(EPOCH FROM clock_timestamp() - v_started), 1);

    -- One pass per design segment: one, unless a member changed plans inside the year.
    FOR v_segment IN 1 .. coalesce(v_segments, 0) LOOP
        -- Deductible accumulated after claim k = greatest(base, least(deductible, base + running sum of the
        -- deductible-eligible amounts)); the claim's deductible part is the step from k-1 to k.
        UPDATE claims_work.cost AS c SET deductible_before = r.before_k, deductible_part = r.after_k - r.before_k
        FROM (
            SELECT
                c2.line_no,
                greatest(a.deductible_accumulated, least(c2.deductible, a.deductible_accumulated + coalesce(sum(
                    CASE WHEN c2.deductible_applies THEN c2.allowed_amount - c2.penalty ELSE 0 END
                ) OVER before_k, 0))) AS before_k,
                greatest(a.deductible_accumulated, least(c2.deductible, a.deductible_accumulated + sum(
                    CASE WHEN c2.deductible_applies THEN c2.allowed_amount - c2.penalty ELSE 0 END
                ) OVER up_to_k)) AS after_k
            FROM claims_work.cost AS c2
            INNER JOIN claims_work.accumulators AS a ON c2.member_id = a.member_id AND c2.plan_year = a.plan_year
            WHERE c2.segment = v_segment
            WINDOW
                before_k AS (
                    PARTITION BY c2.member_id, c2.plan_year ORDER BY c2.ord
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                ),
                up_to_k AS (PARTITION BY c2.member_id, c2.plan_year ORDER BY c2.ord ROWS UNBOUNDED PRECEDING)
        ) AS r
        WHERE c.line_no = r.line_no;
        UPDATE claims_work.cost AS c
        SET copay_part = s1.copay_part, coinsurance_part = s1.coinsurance_part, penalty_part = s1.penalty_part,
            deductible_part = s1.deductible_part,
            countable = s1.deductible_part + s1.copay_part + s1.coinsurance_part
            + CASE WHEN c.brand_penalty_counts_to_oop THEN s1.penalty_part ELSE 0 END
        FROM claims_work.cost AS c2
        CROSS JOIN LATERAL claims.cost_share_uncapped(
            c2.allowed_amount, c2.penalty, c2.deductible_part, c2.cost_share_type, c2.copay_amount,
            c2.coinsurance_rate, c2.min_amount, c2.max_amount, c2.days_supply, c2.insulin_cap, c2.zero_cost
        ) AS s1
        WHERE c.line_no = c2.line_no AND c2.segment = v_segment;
        -- Out of pocket accumulated after claim k = greatest(base, least(maximum, base + running sum of the
        -- stage-1 countable amounts)); stage 2 gets the value before k.
        UPDATE claims_work.cost AS c SET oop_before = r.before_k
        FROM (
            SELECT
                c2.line_no,
                greatest(a.oop_accumulated, least(c2.oop_max, a.oop_accumulated + coalesce(sum(c2.countable) OVER (
                    PARTITION BY c2.member_id, c2.plan_year ORDER BY c2.ord
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                ), 0))) AS before_k
            FROM claims_work.cost AS c2
            INNER JOIN claims_work.accumulators AS a ON c2.member_id = a.member_id AND c2.plan_year = a.plan_year
            WHERE c2.segment = v_segment
        ) AS r
        WHERE c.line_no = r.line_no;
        -- The next segment starts where this one left the accumulators.
        UPDATE claims_work.accumulators AS a
        SET deductible_accumulated = a.deductible_accumulated + l.deductible_delta,
            oop_accumulated = l.oop_after,
            gross_cost_accumulated = a.gross_cost_accumulated + l.gross_delta
        FROM (
            SELECT
                c2.member_id, c2.plan_year, sum(c2.deductible_part) AS deductible_delta,
                sum(c2.allowed_amount) AS gross_delta,
                (array_agg(c2.oop_before + s2.oop_delta ORDER BY c2.ord DESC))[1] AS oop_after
            FROM claims_work.cost AS c2
            CROSS JOIN LATERAL claims.cost_share_capped(
                c2.allowed_amount, c2.deductible_part, c2.copay_part, c2.coinsurance_part, c2.penalty_part,
                c2.brand_penalty_counts_to_oop, c2.oop_before, c2.oop_max
            ) AS s2
            WHERE c2.segment = v_segment
            GROUP BY c2.member_id, c2.plan_year
        ) AS l
        WHERE a.member_id = l.member_id AND a.plan_year = l.plan_year;
    END LOOP;

    -- ---------------------------------------------------------------------------------------------
    -- Pass 4: store every claim in processing order (claim ids follow it), then the accumulators.
    -- ---------------------------------------------------------------------------------------------
    INSERT INTO claims.claims (
        claim_id, transaction_code, received_at, batch_id, batch_line_no, bin, pcn, group_id, cardholder_id,
        person_code, patient_date_of_birth, patient_gender_code, date_of_service, service_provider_id, prescriber_id,
        product_id, quantity_dispensed, days_supply, fill_number, daw_code, rx_number, date_prescription_written,
        submission_clarification_code, prior_authorization_number_submitted, ingredient_cost_submitted,
        dispensing_fee_submitted, usual_and_customary_charge, gross_amount_due, member_id, plan_id, plan_year,
        pharmacy_id, tier, transaction_response_status, reject_codes, ingredient_cost_paid, dispensing_fee_paid,
        total_amount_paid, basis_of_reimbursement, pricing_source, patient_pay_amount, amount_applied_to_deductible,
        amount_of_copay, amount_of_coinsurance, amount_attributed_to_product_selection, stage_deductible_amount,
        stage_initial_amount, stage_catastrophic_amount, accumulated_deductible_amount, remaining_deductible_amount,
        accumulated_oop_amount, remaining_oop_amount, deductible_delta, oop_delta, gross_cost_delta,
        dur_reason_code, previous_fill_date, previous_fill_quantity, next_available_fill_date,
        prior_authorization_number, m3p_amount, m3p_ltb_notice, duplicate_of_claim_id
    )
    SELECT
        o.claim_id, 'B1', now(), p_batch_id, o.line_no, o.bin, o.pcn, o.group_id,
        o.cardholder_id, o.person_code, o.patient_date_of_birth, o.patient_gender_code,
        coalesce(o.date_of_service, v_as_of), o.service_provider_id, o.prescriber_id, o.product_id,
        CASE WHEN o.quantity_dispensed > 0 THEN o.quantity_dispensed END,
        CASE WHEN o.days_supply BETWEEN 1 AND 365 THEN o.days_supply END,
        CASE WHEN o.fill_number BETWEEN 0 AND 99 THEN o.fill_number END,
        CASE WHEN o.daw_code BETWEEN 0 AND 9 THEN o.daw_code END,
        o.rx_number, o.date_prescription_written, o.submission_clarification_code,
        o.prior_authorization_number_submitted,
        CASE WHEN o.ingredient_cost_submitted >= 0 THEN o.ingredient_cost_submitted END,
        CASE WHEN o.dispensing_fee_submitted >= 0 THEN o.dispensing_fee_submitted END,
        CASE WHEN o.usual_and_customary_charge >= 0 THEN o.usual_and_customary_charge END,
        CASE WHEN o.gross_amount_due >= 0 THEN o.gross_amount_due END,
        o.member_id, o.plan_id_out, o.plan_year, o.pharmacy_id_out, o.tier_out, o.status, o.codes,
        o.ingredient_cost_paid, o.dispensing_fee_paid, o.allowed_amount - s2.patient_pay_amount,
        o.basis_of_reimbursement, o.pricing_source, s2.patient_pay_amount, s2.amount_applied_to_deductible,
        s2.amount_of_copay, s2.amount_of_coinsurance, s2.amount_attributed_to_product_selection,
        s2.stage_deductible_amount, s2.stage_initial_amount, s2.stage_catastrophic_amount,
        o.deductible_before + o.deductible_part,
        CASE WHEN o.paid THEN greatest(0, o.deductible - o.deductible_before - o.deductible_part) END,
        o.oop_before + s2.oop_delta,
        CASE WHEN o.paid THEN greatest(0, o.oop_max - o.oop_before - s2.oop_delta) END,
        coalesce(o.deductible_part, 0), coalesce(s2.oop_delta, 0), coalesce(o.allowed_amount, 0),
        CASE WHEN o.refill_too_soon AND o.status = 'R' THEN 'ER' END,
        CASE WHEN o.refill_too_soon AND o.status = 'R' THEN o.rts_last_date END,
        CASE WHEN o.refill_too_soon AND o.status = 'R' THEN o.rts_last_quantity END,
        CASE WHEN o.refill_too_soon AND o.status = 'R'
            THEN v_epoch + o.rts_reach - floor((1 - o.rts_threshold) * o.rts_last_days)::int END,
        CASE WHEN o.status = 'P' THEN o.pa_number END,
        CASE WHEN o.participant THEN s2.patient_pay_amount ELSE 0 END,
        coalesce(NOT o.participant AND s2.patient_pay_amount >= o.ltb_threshold, FALSE),
        coalesce(o.duplicate_of_claim_id, o.duplicate_in_batch)
    FROM (
        SELECT
            w.*,
            CASE WHEN w.is_duplicate THEN 'D' WHEN w.paid THEN 'P' ELSE 'R' END::char(1) AS status,
            CASE WHEN w.is_duplicate OR w.paid THEN '{}'::varchar(3) []
                ELSE w.independent_codes || array_remove(ARRAY[
                    CASE WHEN w.step_therapy_unmet THEN '608' END, CASE WHEN w.refill_too_soon THEN '79' END
                ]::varchar(3) [], NULL)
            END AS codes,
            c.ingredient_cost_paid, c.dispensing_fee_paid, c.allowed_amount, c.basis_of_reimbursement,
            c.pricing_source, c.deductible_part, c.deductible_before, c.copay_part, c.coinsurance_part,
            c.penalty_part, c.oop_before, c.deductible AS design_deductible,
            CASE WHEN w.paid AND w.plan_type = 'medicare_part_d' THEN EXISTS (
                SELECT FROM ppp.elections AS e
                WHERE e.member_id = w.member_id AND e.plan_year = w.plan_year
                    AND w.date_of_service BETWEEN e.effective_date AND coalesce(e.end_date, 'infinity')
            ) END AS participant,
            CASE WHEN w.paid AND w.plan_type = 'medicare_part_d' THEN pd.m3p_ltb_single_claim END AS ltb_threshold,
            orig.claim_id AS duplicate_in_batch,
            -- A duplicate is stored with the original's plan and pharmacy, and no tier (as one by one).
            CASE WHEN w.is_duplicate THEN coalesce(hist.plan_id, orig.plan_id) ELSE w.plan_id END AS plan_id_out,
            CASE WHEN w.is_duplicate THEN coalesce(hist.pharmacy_id, orig.pharmacy_id) ELSE w.pharmacy_id END
                AS pharmacy_id_out,
            CASE WHEN NOT w.is_duplicate THEN w.tier END AS tier_out
        FROM claims_work.facts AS w
        LEFT JOIN claims_work.cost AS c ON w.line_no = c.line_no
        LEFT JOIN ref.part_d_parameters AS pd ON w.plan_year = pd.plan_year
        LEFT JOIN claims_work.facts AS orig ON w.duplicate_of_ord = orig.ord
        LEFT JOIN claims.claims AS hist
            ON w.duplicate_of_claim_id = hist.claim_id AND w.date_of_service = hist.date_of_service
    ) AS o
    LEFT JOIN LATERAL claims.cost_share_capped(
        o.allowed_amount, o.deductible_part, o.copay_part, o.coinsurance_part, o.penalty_part,
        o.brand_penalty_counts_to_oop, o.oop_before, o.oop_max
    ) AS s2 ON o.paid;

    UPDATE claims.accumulators AS a
    SET deductible_accumulated = x.deductible_accumulated, oop_accumulated = x.oop_accumulated,
        gross_cost_accumulated = x.gross_cost_accumulated, updated_at = now()
    FROM claims_work.accumulators AS x
    WHERE a.member_id = x.member_id AND a.plan_year = x.plan_year
        AND (a.deductible_accumulated, a.oop_accumulated, a.gross_cost_accumulated)
        IS DISTINCT FROM (x.deductible_accumulated, x.oop_accumulated, x.gross_cost_accumulated);

    UPDATE claims.batches AS b SET status = 'adjudicated', adjudicated_at = now() WHERE b.batch_id = p_batch_id;
    RAISE NOTICE 'batch %: stored (% s)', p_batch_id, round(extract(EPOCH FROM clock_timestamp() - v_started), 1);

    RETURN QUERY SELECT s.claims_count, s.paid_count, s.rejected_count, s.duplicate_count, v_passes,
        s.total_amount_paid, s.patient_pay_amount
    FROM claims.batch_summary AS s WHERE s.batch_id = p_batch_id;
END;
$$;
COMMENT ON FUNCTION claims.adjudicate_batch(bigint, date) IS
'Adjudicates every staged claim of a batch (claims.batch_claims) set-based, as of p_as_of (default: the batch''s received date), in processing order date of service then line: same edits, pricing and cost sharing as api.adjudicate, same results as adjudicating the claims one by one in that order. Stores the claims, updates the accumulators, marks the batch adjudicated and returns its summary (passes = fixed-point passes for claims that depend on each other). Re-running an adjudicated batch changes nothing.';
