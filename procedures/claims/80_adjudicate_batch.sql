-- Set-based adjudication of a whole batch, with exactly the results of adjudicating its claims one by
-- one (claims.adjudicate_claim) in processing order: date of service, then file line.
--
-- Pass 1 gathers every fact that does not depend on other claims of the batch with joins (one CREATE
-- TABLE AS, so parallel workers can help). Pass 2 settles the facts that do (duplicates, step therapy,
-- refill too soon) for the claims that can depend on others only, iterating "which claims are paid" to a
-- fixed point: a claim depends only on claims before it, so each pass fixes at least one more claim of
-- every chain, and a pass only looks again at the members and keys whose claims changed. Pass 3 prices the
-- paid claims and computes cost share with window functions: stage 1 of cost sharing never depends on the
-- out-of-pocket total, so running totals are least(maximum, base + running sum) and each claim's stage 2
-- gets exactly the accumulator the sequential path would have seen. Pass 4 writes claims and
-- accumulators. No loop over claims.

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
-- Every statement here is a bulk join over the whole batch: hash joins, never row-by-row index probes (the
-- planner cannot estimate predicates such as coalesce(st.paid, f.base_ok) and would pick them).
SET enable_nestloop = off
AS $$
DECLARE
    v_batch claims.batches;
    v_as_of date;
    v_epoch constant date := date '2000-01-01';
    v_passes int := 0;
    v_changed bigint;
    v_rows bigint;
    v_lookback int;
    v_segments int;
    v_started timestamptz := clock_timestamp();
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
    TRUNCATE claims_work.history, claims_work.state, claims_work.dirty_members, claims_work.dirty_keys,
        claims_work.rts_result, claims_work.accumulators, claims_work.step_prerequisites;
    -- Staged rows usually arrive moments before (COPY): plan with their real count when the statistics
    -- are behind (ANALYZE reads a sample of the whole table, which costs more than a check).
    IF (
        SELECT coalesce(st.n_mod_since_analyze > 0.2 * greatest(st.n_live_tup, 1), TRUE)
        FROM pg_catalog.pg_stat_user_tables AS st WHERE st.relid = 'claims.batch_claims'::regclass
    ) THEN
        ANALYZE claims.batch_claims;
    END IF;
    RAISE DEBUG 'batch %: analyzed staged claims (% s)', p_batch_id, round(extract(EPOCH FROM clock_timestamp() - v_started), 2);

    -- ---------------------------------------------------------------------------------------------
    -- Pass 1: facts independent of the other claims of the batch, by joins.
    -- ---------------------------------------------------------------------------------------------
    DROP TABLE claims_work.facts;
    CREATE UNLOGGED TABLE claims_work.facts AS
    SELECT
        y.line_no, y.bin, y.pcn, y.group_id, y.cardholder_id, y.person_code, y.patient_date_of_birth,
        y.patient_gender_code, y.date_of_service, y.service_provider_id, y.prescriber_id, y.product_id,
        y.quantity_dispensed, y.days_supply, y.fill_number, y.daw_code, y.rx_number, y.date_prescription_written,
        y.submission_clarification_code, y.prior_authorization_number_submitted, y.ingredient_cost_submitted,
        y.dispensing_fee_submitted, y.usual_and_customary_charge, y.gross_amount_due, y.plan_year, y.plan_id,
        y.plan_type, y.benefit_design_id, y.deductible, y.deductible_tiers, y.oop_max, y.insulin_cap_per_month,
        y.insulin_deductible_exempt, y.acip_vaccines_zero, y.brand_penalty_daw, y.brand_penalty_counts_to_oop,
        y.rts_threshold, y.rts_lookback_days, y.member_id, y.pharmacy_id, y.contract_id, y.ingredient_basis,
        y.brand_awp_discount, y.generic_awp_discount, y.brand_dispensing_fee, y.generic_dispensing_fee,
        y.mac_list_id, y.drug_ndc, y.is_brand, y.multi_source_code, y.drug_group, y.therapeutic_class,
        y.is_insulin, y.is_vaccine, y.tier, y.step_therapy_class, y.step_lookback_days, y.pa_number, y.syntax_ok,
        y.independent_codes, y.syntax_ok AND cardinality(y.independent_codes) = 0 AS base_ok, y.step_needed,
        y.rts_eligible
    FROM (
        SELECT
            x.*,
            cardinality(x.syntax) = 0 AS syntax_ok,
            claims.edit_codes(x.syntax, ROW(
                x.f_bin_unknown, x.f_pcn_unknown, x.f_group_unknown, x.f_cardholder_unknown, x.f_person_code_unknown,
                x.f_coverage_reject, x.f_pharmacy_unknown, x.f_pharmacy_not_in_network, x.f_prescriber_unknown,
                x.f_prescriber_inactive, x.f_product_unknown, x.f_product_discontinued, x.f_not_on_formulary,
                x.f_excluded, x.f_under_min_age, x.f_over_max_age, x.f_gender_not_covered, x.f_days_supply_over_limit,
                x.f_pa_missing, x.f_pa_quantity_exceeded, x.f_quantity_limit_exceeded, NULL, NULL
            )::claims.edit_facts) AS independent_codes
        FROM (
            SELECT
                x0.*,
                x0.plan_id IS NULL AND x0.routable AND NOT EXISTS (SELECT FROM plan.plans AS p2 WHERE p2.bin = x0.bin)
                    AS f_bin_unknown,
                x0.plan_id IS NULL AND x0.routable AND EXISTS (SELECT FROM plan.plans AS p2 WHERE p2.bin = x0.bin)
                AND NOT EXISTS (SELECT FROM plan.plans AS p2 WHERE p2.bin = x0.bin AND p2.pcn = x0.pcn) AS f_pcn_unknown,
                x0.plan_id IS NULL AND x0.routable
                AND EXISTS (SELECT FROM plan.plans AS p2 WHERE p2.bin = x0.bin AND p2.pcn = x0.pcn) AS f_group_unknown,
                x0.member_id IS NULL AND x0.matchable
                AND NOT EXISTS (SELECT FROM member.members AS m2 WHERE m2.cardholder_id = x0.cardholder_id)
                    AS f_cardholder_unknown,
                x0.member_id IS NULL AND x0.matchable
                AND EXISTS (SELECT FROM member.members AS m2 WHERE m2.cardholder_id = x0.cardholder_id)
                    AS f_person_code_unknown,
                CASE WHEN x0.member_id IS NOT NULL AND x0.plan_id IS NOT NULL AND x0.date_of_service IS NOT NULL
                    THEN coalesce(
                        CASE WHEN x0.span_plan_id IS NOT NULL AND x0.span_plan_id = x0.plan_id THEN NULL ELSE
                            claims.coverage_reject(
                                x0.span_plan_id, x0.plan_id, x0.date_of_service,
                                (
                                    SELECT min(s2.effective_date) FROM member.coverage_spans AS s2
                                    WHERE s2.member_id = x0.member_id
                                ),
                                (
                                    SELECT s2.termination_date FROM member.coverage_spans AS s2
                                    WHERE s2.member_id = x0.member_id AND s2.termination_date < x0.date_of_service
                                    ORDER BY s2.termination_date DESC LIMIT 1
                                ),
                                (
                                    SELECT s2.termination_reason IS NOT NULL FROM member.coverage_spans AS s2
                                    WHERE s2.member_id = x0.member_id AND s2.termination_date < x0.date_of_service
                                    ORDER BY s2.termination_date DESC LIMIT 1
                                )
                            )
                        END,
                        CASE WHEN x0.benefit_design_id IS NULL THEN '65' END
                    )
                END::varchar(3) AS f_coverage_reject,
                CASE WHEN x0.syntax_npi_ok THEN x0.pharmacy_id IS NULL END AS f_pharmacy_unknown,
                CASE WHEN x0.pharmacy_id IS NOT NULL AND x0.plan_id IS NOT NULL AND x0.date_of_service IS NOT NULL
                    THEN x0.contract_id IS NULL END AS f_pharmacy_not_in_network,
                CASE WHEN x0.syntax_prescriber_ok THEN x0.prescriber_found IS NULL END AS f_prescriber_unknown,
                CASE WHEN x0.syntax_prescriber_ok THEN x0.prescriber_deactivated_on <= x0.date_of_service END
                    AS f_prescriber_inactive,
                CASE WHEN x0.syntax_product_ok THEN x0.drug_ndc IS NULL END AS f_product_unknown,
                CASE WHEN x0.syntax_product_ok THEN x0.market_end_date < x0.date_of_service END AS f_product_discontinued,
                CASE WHEN x0.drug_ndc IS NOT NULL AND x0.benefit_design_id IS NOT NULL
                    THEN x0.formulary_entry_id IS NULL END AS f_not_on_formulary,
                x0.entry_excluded AS f_excluded,
                CASE WHEN x0.formulary_entry_id IS NOT NULL AND x0.member_id IS NOT NULL THEN x0.age < x0.min_age END
                    AS f_under_min_age,
                CASE WHEN x0.formulary_entry_id IS NOT NULL AND x0.member_id IS NOT NULL THEN x0.age > x0.max_age END
                    AS f_over_max_age,
                CASE WHEN x0.formulary_entry_id IS NOT NULL AND x0.member_id IS NOT NULL
                    THEN x0.entry_gender IS NOT NULL AND x0.member_gender <> x0.entry_gender END AS f_gender_not_covered,
                x0.days_supply > x0.max_days_supply AS f_days_supply_over_limit,
                CASE WHEN x0.um_checked THEN x0.pa_required AND x0.pa_number IS NULL END AS f_pa_missing,
                CASE WHEN x0.um_checked THEN x0.quantity_dispensed > x0.pa_quantity END AS f_pa_quantity_exceeded,
                CASE WHEN x0.ql_quantity IS NOT NULL AND x0.days_supply > 0
                    THEN x0.quantity_dispensed * x0.ql_days > x0.ql_quantity * x0.days_supply END
                    AS f_quantity_limit_exceeded,
                coalesce(x0.um_checked AND x0.step_therapy_class IS NOT NULL AND x0.pa_number IS NULL, FALSE)
                    AS step_needed,
                x0.drug_ndc IS NOT NULL AND x0.member_id IS NOT NULL AND x0.benefit_design_id IS NOT NULL
                AND coalesce(x0.submission_clarification_code, 0) NOT IN (3, 4, 5, 13, 14) AS rts_eligible
        FROM (
            SELECT
                j.*,
                syn.codes AS syntax,
                j.bin IS NOT NULL AND j.pcn IS NOT NULL AND j.group_id IS NOT NULL AND '01' <> ALL(syn.codes)
                    AS routable,
                j.cardholder_id IS NOT NULL AND j.person_code IS NOT NULL AND '08' <> ALL(syn.codes) AS matchable,
                '05' <> ALL(syn.codes) AS syntax_npi_ok,
                '25' <> ALL(syn.codes) AS syntax_prescriber_ok,
                '21' <> ALL(syn.codes) AS syntax_product_ok
            FROM (
                -- Lookups first: an identifier that matches a stored row is well-formed (the row's own
                -- constraints say so), which spares the syntax edit most of its work.
                SELECT
                    bc.*,
                    extract(YEAR FROM bc.date_of_service)::smallint AS plan_year,
                    p.plan_id, p.plan_type,
                    bd.benefit_design_id, bd.deductible, bd.deductible_tiers, bd.oop_max, bd.insulin_cap_per_month,
                    bd.insulin_deductible_exempt, bd.acip_vaccines_zero, bd.brand_penalty_daw,
                    bd.brand_penalty_counts_to_oop, bd.rts_threshold, bd.rts_lookback_days, bd.max_days_supply,
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
                    CASE WHEN fe.pa_required OR fe.step_therapy_class IS NOT NULL THEN (
                        SELECT a.pa_number FROM claims.prior_authorizations AS a
                        WHERE a.member_id = m.member_id AND a.drug_group = d.drug_group
                            AND a.status IN ('approved', 'partially_approved', 'expired')
                            AND bc.date_of_service BETWEEN a.effective_date AND a.expiration_date
                        ORDER BY a.prior_authorization_id DESC LIMIT 1
                    ) END AS pa_number,
                    CASE WHEN fe.pa_required OR fe.step_therapy_class IS NOT NULL THEN (
                        SELECT a.approved_quantity FROM claims.prior_authorizations AS a
                        WHERE a.member_id = m.member_id AND a.drug_group = d.drug_group
                            AND a.status IN ('approved', 'partially_approved', 'expired')
                            AND bc.date_of_service BETWEEN a.effective_date AND a.expiration_date
                        ORDER BY a.prior_authorization_id DESC LIMIT 1
                    ) END AS pa_quantity
                FROM claims.batch_claims AS bc
                LEFT JOIN plan.plans AS p ON bc.bin = p.bin AND bc.pcn = p.pcn AND bc.group_id = p.group_id
                LEFT JOIN plan.benefit_designs AS bd
                    ON p.plan_id = bd.plan_id AND bd.plan_year = extract(YEAR FROM bc.date_of_service)
                LEFT JOIN member.members AS m ON bc.cardholder_id = m.cardholder_id AND bc.person_code = m.person_code
                LEFT JOIN member.coverage_spans AS cs
                    ON m.member_id = cs.member_id AND p.plan_id IS NOT NULL
                    AND daterange(cs.effective_date, cs.termination_date, '[]') @> bc.date_of_service
                LEFT JOIN network.pharmacies AS ph ON bc.service_provider_id = ph.npi
                LEFT JOIN network.participations AS pp
                    ON ph.pharmacy_id = pp.pharmacy_id AND p.network_id = pp.network_id
                    AND daterange(pp.effective_date, pp.termination_date, '[]') @> bc.date_of_service
                LEFT JOIN network.contracts AS k ON pp.contract_id = k.contract_id
                LEFT JOIN network.prescribers AS pr ON bc.prescriber_id = pr.npi
                LEFT JOIN drug.drugs AS d ON bc.product_id = d.ndc11
                LEFT JOIN plan.formulary_entries AS fe
                    ON bd.formulary_id = fe.formulary_id AND d.ndc11 = fe.ndc11
                    AND daterange(fe.effective_date, fe.termination_date, '[]') @> bc.date_of_service
                WHERE bc.batch_id = p_batch_id
            ) AS j
            CROSS JOIN LATERAL (
                SELECT claims.syntax_rejects(
                    ROW(
                        j.bin, j.pcn, j.group_id, j.cardholder_id, j.person_code, j.patient_date_of_birth,
                        j.patient_gender_code, j.date_of_service, j.service_provider_id, j.prescriber_id,
                        j.product_id, j.quantity_dispensed, j.days_supply, j.fill_number, j.daw_code, j.rx_number,
                        j.date_prescription_written, j.submission_clarification_code,
                        j.prior_authorization_number_submitted, j.ingredient_cost_submitted,
                        j.dispensing_fee_submitted, j.usual_and_customary_charge, j.gross_amount_due
                    )::claims.claim_request,
                    v_as_of, j.plan_id IS NOT NULL, j.member_id IS NOT NULL, j.pharmacy_id IS NOT NULL,
                    j.prescriber_found IS NOT NULL, j.drug_ndc IS NOT NULL
                ) AS codes
                OFFSET 0  -- evaluate the syntax edit once per claim, not once per reference
            ) AS syn
        ) AS x0
        OFFSET 0  -- the facts as plain columns, so claims.edit_codes is inlined once per claim
        ) AS x
    ) AS y;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RAISE DEBUG 'batch %: facts built (% s)', p_batch_id, round(extract(EPOCH FROM clock_timestamp() - v_started), 2);
    -- Only what the next joins group on needs statistics; the joins are all hash joins (no index).
    ANALYZE claims_work.facts (member_id, drug_group, line_no);
    RAISE NOTICE 'batch %: edits of % claims (% s)', p_batch_id, v_rows,
        round(extract(EPOCH FROM clock_timestamp() - v_started), 1);

    -- ---------------------------------------------------------------------------------------------
    -- Pass 2: duplicates, step therapy and refill too soon among the claims that can depend on others.
    -- ---------------------------------------------------------------------------------------------
    -- Stored history: paid, unreversed fills of the batch's members and drug groups (refill too soon).
    INSERT INTO claims_work.history (member_id, drug_group, date_of_service, claim_id, days_supply, quantity_dispensed)
    SELECT c.member_id, d.drug_group, c.date_of_service, c.claim_id, c.days_supply, c.quantity_dispensed
    FROM (
        SELECT f.member_id, f.drug_group, min(f.date_of_service - f.rts_lookback_days) AS lo, max(f.date_of_service) AS hi
        FROM claims_work.facts AS f WHERE f.rts_eligible
        GROUP BY f.member_id, f.drug_group
    ) AS g
    INNER JOIN claims.claims AS c ON g.member_id = c.member_id AND c.date_of_service BETWEEN g.lo AND g.hi
    INNER JOIN drug.drugs AS d ON c.product_id = d.ndc11 AND g.drug_group = d.drug_group
    WHERE c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL;
    RAISE DEBUG 'batch %: history read (% s)', p_batch_id, round(extract(EPOCH FROM clock_timestamp() - v_started), 2);

    -- The claims that can depend on others, with their stored duplicate and step-therapy history.
    INSERT INTO claims_work.state (
        line_no, member_id, drug_group, service_provider_id, rx_number, fill_number, date_of_service, days_supply,
        quantity_dispensed, base_ok, syntax_ok, in_rts_group, in_dup_group, rts_eligible, rts_lookback_days,
        rts_threshold, step_needed, step_therapy_class, step_lookback_days, duplicate_of_claim_id, is_duplicate, paid
    )
    SELECT
        g.line_no, g.member_id, g.drug_group, g.service_provider_id, g.rx_number, g.fill_number, g.date_of_service,
        g.days_supply, g.quantity_dispensed, g.base_ok, g.syntax_ok, g.in_rts_group, g.in_dup_group, g.rts_eligible,
        g.rts_lookback_days, g.rts_threshold,
        g.step_needed AND NOT EXISTS (
            SELECT FROM claims.claims AS c
            INNER JOIN drug.drugs AS d ON c.product_id = d.ndc11
            WHERE c.member_id = g.member_id AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL
                AND c.date_of_service BETWEEN g.date_of_service - g.step_lookback_days AND g.date_of_service
                AND d.therapeutic_class = g.step_therapy_class
        ),
        g.step_therapy_class, g.step_lookback_days, hd.claim_id, hd.claim_id IS NOT NULL,
        g.base_ok AND hd.claim_id IS NULL
    FROM (
        SELECT
            f.*,
            f.member_id IS NOT NULL AND f.drug_ndc IS NOT NULL AND (
                count(*) OVER (PARTITION BY f.member_id, f.drug_group) > 1
                OR EXISTS (
                    SELECT FROM claims_work.history AS h WHERE h.member_id = f.member_id AND h.drug_group = f.drug_group
                )
            ) AS in_rts_group,
            f.syntax_ok AND count(*) FILTER (WHERE f.syntax_ok) OVER (
                PARTITION BY f.service_provider_id, f.rx_number, f.fill_number, f.date_of_service
            ) > 1 AS in_dup_group
        FROM claims_work.facts AS f
    ) AS g
    LEFT JOIN LATERAL (
        SELECT c.claim_id FROM claims.claims AS c
        WHERE g.syntax_ok AND c.service_provider_id = g.service_provider_id AND c.rx_number = g.rx_number
            AND c.fill_number = g.fill_number AND c.date_of_service = g.date_of_service
            AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL
    ) AS hd ON TRUE
    WHERE g.in_rts_group OR g.in_dup_group OR g.step_needed OR hd.claim_id IS NOT NULL;
    ANALYZE claims_work.state;
    INSERT INTO claims_work.step_prerequisites (line_no, member_id, therapeutic_class, date_of_service, base_ok)
    SELECT f.line_no, f.member_id, f.therapeutic_class, f.date_of_service, f.base_ok
    FROM claims_work.facts AS f
    WHERE (f.member_id, f.therapeutic_class) IN (
        SELECT st.member_id, st.step_therapy_class FROM claims_work.state AS st WHERE st.step_needed
    );
    RAISE DEBUG 'batch %: dependency state built (% s)', p_batch_id, round(extract(EPOCH FROM clock_timestamp() - v_started), 2);
    INSERT INTO claims_work.dirty_members SELECT DISTINCT st.member_id FROM claims_work.state AS st
    WHERE st.member_id IS NOT NULL;
    INSERT INTO claims_work.dirty_keys
    SELECT DISTINCT st.service_provider_id, st.rx_number, st.fill_number, st.date_of_service
    FROM claims_work.state AS st WHERE st.in_dup_group;

    LOOP
        v_passes := v_passes + 1;
        -- A duplicate of an earlier paid claim of the batch (same pharmacy, Rx, fill and date of service).
        UPDATE claims_work.state AS st SET is_duplicate = n.dup_line IS NOT NULL, duplicate_of_line = n.dup_line
        FROM (
            SELECT b.line_no, min(CASE WHEN b.paid THEN b.line_no END) OVER (
                PARTITION BY b.service_provider_id, b.rx_number, b.fill_number, b.date_of_service
                ORDER BY b.line_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS dup_line
            FROM claims_work.state AS b
            INNER JOIN claims_work.dirty_keys AS dk
                ON b.service_provider_id = dk.service_provider_id AND b.rx_number = dk.rx_number
                AND b.fill_number = dk.fill_number AND b.date_of_service = dk.date_of_service
            WHERE b.in_dup_group
        ) AS n
        WHERE st.line_no = n.line_no AND st.duplicate_of_claim_id IS NULL
            AND st.duplicate_of_line IS DISTINCT FROM n.dup_line;
        -- Step therapy met by an earlier paid claim of the batch (of a member looked at again).
        UPDATE claims_work.state AS st SET step_therapy_unmet = n.unmet
        FROM (
            SELECT k.line_no, NOT coalesce(bool_or(
                coalesce(js.paid, j.base_ok)
                AND (j.date_of_service, j.line_no) < (k.date_of_service, k.line_no)
                AND j.date_of_service >= k.date_of_service - k.step_lookback_days
            ), FALSE) AS unmet
            FROM claims_work.state AS k
            INNER JOIN claims_work.dirty_members AS dm ON k.member_id = dm.member_id
            LEFT JOIN claims_work.step_prerequisites AS j
                ON k.member_id = j.member_id AND k.step_therapy_class = j.therapeutic_class
            LEFT JOIN claims_work.state AS js ON j.line_no = js.line_no
            WHERE k.step_needed
            GROUP BY k.line_no
        ) AS n
        WHERE st.line_no = n.line_no AND st.step_therapy_unmet IS DISTINCT FROM n.unmet;
        -- Refill too soon over stored history and earlier paid claims of the batch (as claims.adjudicate_claim
        -- does it): supply end = max over fills j in the lookback of (date_j + days supply of j and of every
        -- later fill), i.e. (date_j - paid days before j) + paid days before k; one statement per lookback.
        TRUNCATE claims_work.rts_result;
        FOR v_lookback IN
            SELECT DISTINCT st.rts_lookback_days FROM claims_work.state AS st
            INNER JOIN claims_work.dirty_members AS dm ON st.member_id = dm.member_id
            WHERE st.rts_eligible AND st.in_rts_group
        LOOP
            EXECUTE format($q$
                INSERT INTO claims_work.rts_result (line_no, reach, last_date, last_days, last_quantity)
                WITH seq AS (
                    SELECT h.member_id, h.drug_group, h.date_of_service, 0 AS src, h.claim_id AS o, h.days_supply,
                        h.quantity_dispensed, TRUE AS paid, NULL::int AS line_no, FALSE AS eligible
                    FROM claims_work.history AS h
                    INNER JOIN claims_work.dirty_members AS dm ON h.member_id = dm.member_id
                    UNION ALL
                    SELECT b.member_id, b.drug_group, b.date_of_service, 1, b.line_no, b.days_supply,
                        b.quantity_dispensed, b.paid, b.line_no, b.rts_eligible AND b.rts_lookback_days = %1$s
                    FROM claims_work.state AS b
                    INNER JOIN claims_work.dirty_members AS dm ON b.member_id = dm.member_id
                    WHERE b.in_rts_group
                ),
                numbered AS (
                    SELECT s.*,
                        coalesce(sum(s.days_supply) FILTER (WHERE s.paid) OVER before_row, 0) AS days_before,
                        count(*) FILTER (WHERE s.paid) OVER before_row AS paid_before,
                        count(*) FILTER (WHERE s.paid) OVER up_to_row AS paid_ordinal
                    FROM seq AS s
                    WINDOW
                        before_row AS (PARTITION BY s.member_id, s.drug_group ORDER BY s.date_of_service, s.src, s.o
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        up_to_row AS (PARTITION BY s.member_id, s.drug_group ORDER BY s.date_of_service, s.src, s.o
                            ROWS UNBOUNDED PRECEDING)
                ),
                reached AS (
                    SELECT n.*,
                        greatest(
                            max(CASE WHEN n.paid THEN (n.date_of_service - %2$L::date) - n.days_before END) OVER (
                                PARTITION BY n.member_id, n.drug_group ORDER BY n.date_of_service
                                RANGE BETWEEN interval '%1$s days' PRECEDING AND interval '1 day' PRECEDING
                            ),
                            max(CASE WHEN n.paid THEN (n.date_of_service - %2$L::date) - n.days_before END) OVER (
                                PARTITION BY n.member_id, n.drug_group, n.date_of_service ORDER BY n.src, n.o
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                            )
                        ) AS farthest
                    FROM numbered AS n
                )
                SELECT k.line_no, (k.farthest + k.days_before)::int, j.date_of_service, j.days_supply,
                    j.quantity_dispensed
                FROM reached AS k
                INNER JOIN numbered AS j
                    ON k.member_id = j.member_id AND k.drug_group = j.drug_group AND j.paid
                    AND j.paid_ordinal = k.paid_before
                WHERE k.eligible AND k.farthest IS NOT NULL
            $q$, v_lookback, v_epoch);
        END LOOP;
        -- Only changes are written: most claims are not refused and keep no refill details.
        UPDATE claims_work.state AS st
        SET refill_too_soon = TRUE, rts_reach = r.reach, rts_last_date = r.last_date, rts_last_days = r.last_days,
            rts_last_quantity = r.last_quantity
        FROM claims_work.rts_result AS r
        WHERE st.line_no = r.line_no
            AND r.reach - (st.date_of_service - v_epoch) > floor((1 - st.rts_threshold) * r.last_days)::int
            AND (NOT st.refill_too_soon OR (st.rts_reach, st.rts_last_date, st.rts_last_days, st.rts_last_quantity)
                IS DISTINCT FROM (r.reach, r.last_date, r.last_days, r.last_quantity));
        UPDATE claims_work.state AS st
        SET refill_too_soon = FALSE, rts_reach = NULL, rts_last_date = NULL, rts_last_days = NULL,
            rts_last_quantity = NULL
        WHERE st.refill_too_soon
            AND st.member_id IN (SELECT dm.member_id FROM claims_work.dirty_members AS dm)
            AND NOT EXISTS (
                SELECT FROM claims_work.rts_result AS r
                WHERE r.line_no = st.line_no
                    AND r.reach - (st.date_of_service - v_epoch) > floor((1 - st.rts_threshold) * r.last_days)::int
            );
        TRUNCATE claims_work.dirty_members, claims_work.dirty_keys;
        WITH changed AS (
            UPDATE claims_work.state AS st
            SET paid = st.base_ok AND NOT st.is_duplicate AND NOT st.step_therapy_unmet AND NOT st.refill_too_soon
            WHERE st.paid IS DISTINCT FROM (
                st.base_ok AND NOT st.is_duplicate AND NOT st.step_therapy_unmet AND NOT st.refill_too_soon
            )
            RETURNING st.member_id, st.service_provider_id, st.rx_number, st.fill_number, st.date_of_service,
                st.in_dup_group
        ),
        members AS (
            INSERT INTO claims_work.dirty_members
            SELECT DISTINCT ch.member_id FROM changed AS ch WHERE ch.member_id IS NOT NULL
            RETURNING 1
        ),
        keys AS (
            INSERT INTO claims_work.dirty_keys
            SELECT DISTINCT ch.service_provider_id, ch.rx_number, ch.fill_number, ch.date_of_service
            FROM changed AS ch WHERE ch.in_dup_group
            RETURNING 1
        )
        SELECT count(*) INTO v_changed FROM changed;
        RAISE NOTICE 'batch %: dependency pass % changed % claims (% s)', p_batch_id, v_passes, v_changed,
            round(extract(EPOCH FROM clock_timestamp() - v_started), 1);
        EXIT WHEN v_changed = 0;
    END LOOP;

    -- ---------------------------------------------------------------------------------------------
    -- Pass 3: price and cost-share the paid claims; running accumulators by window functions.
    -- ---------------------------------------------------------------------------------------------
    -- Every matched member gets an accumulator row for the year, as one by one; those of paid claims are
    -- locked in key order (no deadlock with other writers) and their values copied for the windows.
    INSERT INTO claims.accumulators AS a (member_id, plan_year)
    SELECT DISTINCT f.member_id, f.plan_year FROM claims_work.facts AS f
    WHERE f.member_id IS NOT NULL AND f.date_of_service IS NOT NULL
    ORDER BY 1, 2
    ON CONFLICT (member_id, plan_year) DO NOTHING;
    INSERT INTO claims_work.accumulators (
        member_id, plan_year, deductible_accumulated, oop_accumulated, gross_cost_accumulated
    )
    SELECT a.member_id, a.plan_year, a.deductible_accumulated, a.oop_accumulated, a.gross_cost_accumulated
    FROM claims.accumulators AS a
    WHERE (a.member_id, a.plan_year) IN (
        SELECT f.member_id, f.plan_year FROM claims_work.facts AS f
        LEFT JOIN claims_work.state AS st ON f.line_no = st.line_no
        WHERE coalesce(st.paid, f.base_ok)
    )
    ORDER BY a.member_id, a.plan_year
    FOR UPDATE OF a;
    RAISE DEBUG 'batch %: accumulators locked (% s)', p_batch_id, round(extract(EPOCH FROM clock_timestamp() - v_started), 2);

    IF EXISTS (
        SELECT FROM claims_work.facts AS f
        LEFT JOIN claims_work.state AS st ON f.line_no = st.line_no
        WHERE coalesce(st.paid, f.base_ok) AND NOT EXISTS (
            SELECT FROM plan.tier_cost_shares AS t WHERE t.benefit_design_id = f.benefit_design_id AND t.tier = f.tier
        )
    ) THEN
        RAISE EXCEPTION 'a plan has no cost share for a tier used in batch %', p_batch_id
            USING ERRCODE = '23502', HINT = 'Add the tier to plan.tier_cost_shares';
    END IF;

    -- A member whose plan changes inside the year has one design segment per plan, each starting from where
    -- the one before left the accumulators: those (rare) claims are costed segment by segment.
    TRUNCATE claims_work.cost, claims_work.segments;
    INSERT INTO claims_work.segments (line_no, segment)
    SELECT z.line_no, sum(z.change) OVER (PARTITION BY z.member_id, z.plan_year ORDER BY z.date_of_service, z.line_no)
    FROM (
        SELECT f.line_no, f.member_id, f.plan_year, f.date_of_service,
            CASE WHEN f.benefit_design_id IS DISTINCT FROM lag(f.benefit_design_id) OVER (
                PARTITION BY f.member_id, f.plan_year ORDER BY f.date_of_service, f.line_no
            ) THEN 1 ELSE 0 END AS change
        FROM claims_work.facts AS f
        LEFT JOIN claims_work.state AS st ON f.line_no = st.line_no
        WHERE coalesce(st.paid, f.base_ok) AND (f.member_id, f.plan_year) IN (
            SELECT f2.member_id, f2.plan_year FROM claims_work.facts AS f2
            LEFT JOIN claims_work.state AS st2 ON f2.line_no = st2.line_no
            WHERE coalesce(st2.paid, f2.base_ok)
            GROUP BY f2.member_id, f2.plan_year HAVING count(DISTINCT f2.benefit_design_id) > 1
        )
    ) AS z;
    SELECT coalesce(max(sg.segment), 1) INTO v_segments FROM claims_work.segments AS sg;
    RAISE DEBUG 'batch %: segments found (% s)', p_batch_id, round(extract(EPOCH FROM clock_timestamp() - v_started), 2);

    FOR v_segment IN 1 .. v_segments LOOP
        INSERT INTO claims_work.cost (
            line_no, member_id, plan_year, ingredient_cost_paid, dispensing_fee_paid, allowed_amount, pricing_source,
            basis_of_reimbursement, amount_applied_to_deductible, amount_of_copay, amount_of_coinsurance,
            amount_attributed_to_product_selection, patient_pay_amount, oop_delta, stage_deductible_amount,
            stage_initial_amount, stage_catastrophic_amount, deductible_part, deductible_after, oop_after
        )
        SELECT
            u.line_no, u.member_id, u.plan_year, u.ingredient_cost_paid, u.dispensing_fee_paid, u.allowed_amount,
            u.pricing_source, u.basis_of_reimbursement, s2.amount_applied_to_deductible, s2.amount_of_copay,
            s2.amount_of_coinsurance, s2.amount_attributed_to_product_selection, s2.patient_pay_amount, s2.oop_delta,
            s2.stage_deductible_amount, s2.stage_initial_amount, s2.stage_catastrophic_amount, u.deductible_part,
            u.deductible_after, u.oop_before + s2.oop_delta
        FROM (
            -- Out of pocket accumulated before claim k = greatest(base, least(maximum, base + running sum of
            -- the stage-1 countable amounts)).
            SELECT
                t.*,
                greatest(t.base_oop, least(t.oop_max, t.base_oop + sum(t.countable) OVER (
                    PARTITION BY t.member_id, t.plan_year ORDER BY t.date_of_service, t.line_no ROWS UNBOUNDED PRECEDING
                ) - t.countable)) AS oop_before
            FROM (
                SELECT
                    d.*,
                    s1.copay_part, s1.coinsurance_part, s1.penalty_part,
                    s1.deductible_part + s1.copay_part + s1.coinsurance_part
                    + CASE WHEN d.brand_penalty_counts_to_oop THEN s1.penalty_part ELSE 0 END AS countable
                FROM (
                    -- Deductible accumulated after claim k = greatest(base, least(deductible, base + running
                    -- sum of the deductible-eligible amounts)); the claim's part is the step from k-1 to k.
                    SELECT
                        r.*,
                        r.deductible_after - greatest(r.base_deductible, least(
                            r.deductible, r.base_deductible + r.eligible_running - r.eligible
                        )) AS deductible_part
                    FROM (
                    SELECT
                        q.*,
                        sum(q.eligible) OVER up_to_k AS eligible_running,
                        greatest(q.base_deductible, least(q.deductible, q.base_deductible + sum(q.eligible) OVER up_to_k))
                            AS deductible_after
                    FROM (
                        SELECT
                            f.line_no, f.member_id, f.plan_year, f.date_of_service, f.deductible, f.oop_max,
                            f.brand_penalty_counts_to_oop, f.days_supply, f.is_insulin, f.insulin_cap_per_month,
                            f.is_vaccine, f.acip_vaccines_zero, t.cost_share_type, t.copay_amount, t.coinsurance_rate,
                            t.min_amount, t.max_amount, pz.ingredient_cost_paid, pz.dispensing_fee_paid,
                            pz.allowed_amount, pz.pricing_source, pz.basis_of_reimbursement, pn.penalty,
                            a.deductible_accumulated AS base_deductible, a.oop_accumulated AS base_oop,
                            CASE WHEN claims.deductible_applies(
                                f.deductible, f.deductible_tiers, f.tier, f.is_insulin, f.insulin_cap_per_month,
                                f.insulin_deductible_exempt, f.is_vaccine, f.acip_vaccines_zero
                            ) THEN pz.allowed_amount - pn.penalty ELSE 0 END AS eligible
                        FROM claims_work.facts AS f
                        LEFT JOIN claims_work.state AS st ON f.line_no = st.line_no
                        LEFT JOIN claims_work.segments AS sg ON f.line_no = sg.line_no
                        INNER JOIN claims_work.accumulators AS a
                            ON f.member_id = a.member_id AND f.plan_year = a.plan_year
                        INNER JOIN plan.tier_cost_shares AS t
                            ON f.benefit_design_id = t.benefit_design_id AND f.tier = t.tier
                        LEFT JOIN drug.prices AS awp
                            ON f.drug_ndc = awp.ndc11 AND awp.price_type = 'AWP'
                            AND f.date_of_service BETWEEN awp.effective_date AND coalesce(awp.end_date, 'infinity')
                        LEFT JOIN drug.prices AS nadac
                            ON f.drug_ndc = nadac.ndc11 AND nadac.price_type = 'NADAC'
                            AND f.date_of_service BETWEEN nadac.effective_date AND coalesce(nadac.end_date, 'infinity')
                        LEFT JOIN drug.prices AS mac
                            ON f.drug_ndc = mac.ndc11 AND mac.price_type = 'MAC' AND f.mac_list_id = mac.mac_list_id
                            AND f.date_of_service BETWEEN mac.effective_date AND coalesce(mac.end_date, 'infinity')
                        CROSS JOIN LATERAL claims.price(
                            f.is_brand, f.quantity_dispensed, awp.unit_price, nadac.unit_price, mac.unit_price,
                            f.ingredient_basis, f.brand_awp_discount, f.generic_awp_discount, f.brand_dispensing_fee,
                            f.generic_dispensing_fee, f.ingredient_cost_submitted, f.dispensing_fee_submitted,
                            f.usual_and_customary_charge, f.gross_amount_due
                        ) AS pz
                        CROSS JOIN LATERAL (
                            SELECT CASE WHEN f.daw_code = ANY(f.brand_penalty_daw) AND f.multi_source_code = 'O' THEN
                                least(pz.allowed_amount, greatest(0, pz.allowed_amount - coalesce(
                                    claims.generic_equivalent_allowed(
                                        f.drug_group, f.date_of_service, f.quantity_dispensed, f.contract_id
                                    ),
                                    pz.allowed_amount
                                )))
                            ELSE 0 END AS penalty
                        ) AS pn
                        WHERE coalesce(st.paid, f.base_ok) AND coalesce(sg.segment, 1) = v_segment
                    ) AS q
                    WINDOW up_to_k AS (
                        PARTITION BY q.member_id, q.plan_year ORDER BY q.date_of_service, q.line_no ROWS UNBOUNDED PRECEDING
                    )
                    ) AS r
                ) AS d
                CROSS JOIN LATERAL claims.cost_share_uncapped(
                    d.allowed_amount, d.penalty, d.deductible_part, d.cost_share_type, d.copay_amount,
                    d.coinsurance_rate, d.min_amount, d.max_amount, d.days_supply,
                    CASE WHEN d.is_insulin THEN d.insulin_cap_per_month END, d.is_vaccine AND d.acip_vaccines_zero
                ) AS s1
            ) AS t
        ) AS u
        CROSS JOIN LATERAL claims.cost_share_capped(
            u.allowed_amount, u.deductible_part, u.copay_part, u.coinsurance_part, u.penalty_part,
            u.brand_penalty_counts_to_oop, u.oop_before, u.oop_max
        ) AS s2;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        -- The next segment starts where this one left the accumulators.
        UPDATE claims_work.accumulators AS a
        SET deductible_accumulated = a.deductible_accumulated + l.deductible_delta,
            oop_accumulated = a.oop_accumulated + l.oop_delta,
            gross_cost_accumulated = a.gross_cost_accumulated + l.gross_delta
        FROM (
            SELECT c.member_id, c.plan_year, sum(c.deductible_part) AS deductible_delta, sum(c.oop_delta) AS oop_delta,
                sum(c.allowed_amount) AS gross_delta
            FROM claims_work.cost AS c
            LEFT JOIN claims_work.segments AS sg ON c.line_no = sg.line_no
            WHERE coalesce(sg.segment, 1) = v_segment
            GROUP BY c.member_id, c.plan_year
        ) AS l
        WHERE a.member_id = l.member_id AND a.plan_year = l.plan_year;
        RAISE NOTICE 'batch %: priced % paid claims (% s)', p_batch_id, v_rows,
            round(extract(EPOCH FROM clock_timestamp() - v_started), 1);
    END LOOP;

    -- ---------------------------------------------------------------------------------------------
    -- Pass 4: store the claims in processing order (claim ids follow it), duplicates, accumulators.
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
        prior_authorization_number, m3p_amount, m3p_ltb_notice
    )
    SELECT
        nextval('claims.claim_id_seq'), 'B1', now(), p_batch_id, o.line_no, o.bin, o.pcn, o.group_id, o.cardholder_id,
        o.person_code, o.patient_date_of_birth, o.patient_gender_code, coalesce(o.date_of_service, v_as_of),
        o.service_provider_id, o.prescriber_id, o.product_id,
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
        o.member_id, o.plan_id, o.plan_year, o.pharmacy_id, o.tier, CASE WHEN o.paid THEN 'P' ELSE 'R' END,
        CASE WHEN o.paid THEN '{}'::varchar(3) [] ELSE o.codes END,
        o.ingredient_cost_paid, o.dispensing_fee_paid, o.allowed_amount - o.patient_pay_amount,
        o.basis_of_reimbursement, o.pricing_source, o.patient_pay_amount, o.amount_applied_to_deductible,
        o.amount_of_copay, o.amount_of_coinsurance, o.amount_attributed_to_product_selection,
        o.stage_deductible_amount, o.stage_initial_amount, o.stage_catastrophic_amount, o.deductible_after,
        CASE WHEN o.paid THEN greatest(0, o.deductible - o.deductible_after) END, o.oop_after,
        CASE WHEN o.paid THEN greatest(0, o.oop_max - o.oop_after) END,
        coalesce(o.deductible_part, 0), coalesce(o.oop_delta, 0), coalesce(o.allowed_amount, 0),
        CASE WHEN o.refill_too_soon AND NOT o.paid THEN 'ER' END,
        CASE WHEN o.refill_too_soon AND NOT o.paid THEN o.rts_last_date END,
        CASE WHEN o.refill_too_soon AND NOT o.paid THEN o.rts_last_quantity END,
        CASE WHEN o.refill_too_soon AND NOT o.paid
            THEN v_epoch + o.rts_reach - floor((1 - o.rts_threshold) * o.rts_last_days)::int END,
        CASE WHEN o.paid THEN o.pa_number END,
        CASE WHEN o.participant THEN o.patient_pay_amount ELSE 0 END,
        coalesce(NOT o.participant AND o.patient_pay_amount >= o.ltb_threshold, FALSE)
    FROM (
        SELECT
            f.*,
            coalesce(st.paid, f.base_ok) AS paid,
            coalesce(st.refill_too_soon, FALSE) AS refill_too_soon,
            st.rts_reach, st.rts_last_date, st.rts_last_days, st.rts_last_quantity,
            f.independent_codes || array_remove(ARRAY[
                CASE WHEN st.step_therapy_unmet THEN '608' END, CASE WHEN st.refill_too_soon THEN '79' END
            ]::varchar(3) [], NULL) AS codes,
            c.ingredient_cost_paid, c.dispensing_fee_paid, c.allowed_amount, c.basis_of_reimbursement,
            c.pricing_source, c.patient_pay_amount, c.amount_applied_to_deductible, c.amount_of_copay,
            c.amount_of_coinsurance, c.amount_attributed_to_product_selection, c.stage_deductible_amount,
            c.stage_initial_amount, c.stage_catastrophic_amount, c.oop_delta, c.deductible_part, c.deductible_after,
            c.oop_after,
            CASE WHEN c.line_no IS NOT NULL AND f.plan_type = 'medicare_part_d' THEN e.election_id IS NOT NULL END
                AS participant,
            CASE WHEN c.line_no IS NOT NULL AND f.plan_type = 'medicare_part_d' THEN pd.m3p_ltb_single_claim END
                AS ltb_threshold
        FROM claims_work.facts AS f
        LEFT JOIN claims_work.state AS st ON f.line_no = st.line_no
        LEFT JOIN claims_work.cost AS c ON f.line_no = c.line_no
        LEFT JOIN ppp.elections AS e
            ON c.line_no IS NOT NULL AND f.plan_type = 'medicare_part_d' AND f.member_id = e.member_id
            AND f.plan_year = e.plan_year
            AND f.date_of_service BETWEEN e.effective_date AND coalesce(e.end_date, 'infinity')
        LEFT JOIN ref.part_d_parameters AS pd ON f.plan_year = pd.plan_year
        WHERE NOT coalesce(st.is_duplicate, FALSE)
        ORDER BY f.date_of_service, f.line_no
    ) AS o;

    RAISE DEBUG 'batch %: claims stored (% s)', p_batch_id, round(extract(EPOCH FROM clock_timestamp() - v_started), 2);
    -- Duplicates (never paid, so their ids need not follow the processing order): the original's
    -- response, plan and pharmacy, no tier.
    INSERT INTO claims.claims (
        claim_id, transaction_code, received_at, batch_id, batch_line_no, bin, pcn, group_id, cardholder_id,
        person_code, patient_date_of_birth, patient_gender_code, date_of_service, service_provider_id, prescriber_id,
        product_id, quantity_dispensed, days_supply, fill_number, daw_code, rx_number, date_prescription_written,
        submission_clarification_code, prior_authorization_number_submitted, ingredient_cost_submitted,
        dispensing_fee_submitted, usual_and_customary_charge, gross_amount_due, member_id, plan_id, plan_year,
        pharmacy_id, transaction_response_status, duplicate_of_claim_id
    )
    SELECT
        nextval('claims.claim_id_seq'), 'B1', now(), p_batch_id, f.line_no, f.bin, f.pcn, f.group_id, f.cardholder_id,
        f.person_code, f.patient_date_of_birth, f.patient_gender_code, f.date_of_service, f.service_provider_id,
        f.prescriber_id, f.product_id, f.quantity_dispensed, f.days_supply, f.fill_number, f.daw_code, f.rx_number,
        f.date_prescription_written, f.submission_clarification_code, f.prior_authorization_number_submitted,
        f.ingredient_cost_submitted, f.dispensing_fee_submitted, f.usual_and_customary_charge, f.gross_amount_due,
        f.member_id, orig.plan_id, f.plan_year, orig.pharmacy_id, 'D', orig.claim_id
    FROM claims_work.state AS st
    INNER JOIN claims_work.facts AS f ON st.line_no = f.line_no
    INNER JOIN claims.claims AS orig
        ON orig.date_of_service = f.date_of_service
        AND (
            orig.claim_id = st.duplicate_of_claim_id
            OR (st.duplicate_of_claim_id IS NULL AND orig.batch_id = p_batch_id AND orig.batch_line_no = st.duplicate_of_line)
        )
    WHERE st.is_duplicate
    ORDER BY f.date_of_service, f.line_no;

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
'Adjudicates every staged claim of a batch (claims.batch_claims) set-based, as of p_as_of (default: the batch''s received date), in processing order date of service then line: same edits, pricing and cost sharing as api.adjudicate, same results as adjudicating the claims one by one in that order. Stores the claims (ids in processing order, duplicates last), updates the accumulators, marks the batch adjudicated and returns its summary (passes = fixed-point passes for claims that depend on each other). One batch at a time; re-running an adjudicated batch changes nothing.';
