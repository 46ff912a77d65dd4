-- M3P targeted outreach before the plan year (2026 onward): Part D enrollees of the plan year whose
-- out-of-pocket costs in January-September of the prior year reached the prior year's annual
-- out-of-pocket threshold, and who have no election for the plan year yet.

CREATE OR REPLACE FUNCTION ppp.outreach_list(p_plan_year integer)
RETURNS TABLE (member_id bigint, plan_id bigint, prior_year_oop numeric, threshold numeric)
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_threshold numeric;
BEGIN
    IF p_plan_year IS NULL OR p_plan_year < 2026 THEN
        RAISE EXCEPTION 'the prior-year M3P outreach list starts with plan year 2026 (got %)', p_plan_year
            USING ERRCODE = '22023';
    END IF;
    SELECT p.oop_threshold INTO v_threshold FROM ref.part_d_parameters AS p WHERE p.plan_year = p_plan_year - 1;
    IF v_threshold IS NULL THEN
        RAISE EXCEPTION 'no Part D parameters for plan year %', p_plan_year - 1
            USING ERRCODE = '55000', HINT = 'load them: pbm seed reference';
    END IF;
    RETURN QUERY
    WITH first_nine_months AS (
        SELECT
            c.member_id,
            sum(c.patient_pay_amount) AS oop
        FROM claims.claims AS c
        WHERE
            c.date_of_service BETWEEN make_date(p_plan_year - 1, 1, 1) AND make_date(p_plan_year - 1, 9, 30)
            AND c.transaction_code = 'B1'
            AND c.transaction_response_status = 'P'
            AND c.reversed_by_claim_id IS NULL
            AND c.member_id IS NOT NULL
        GROUP BY c.member_id
        HAVING sum(c.patient_pay_amount) >= v_threshold
    )

    SELECT
        f.member_id,
        cov.plan_id,
        f.oop,
        v_threshold
    FROM first_nine_months AS f
    INNER JOIN LATERAL (
        SELECT cs.plan_id
        FROM member.coverage_spans AS cs
        INNER JOIN plan.plans AS p ON cs.plan_id = p.plan_id
        WHERE
            cs.member_id = f.member_id
            AND p.plan_type = 'medicare_part_d'
            AND cs.effective_date <= make_date(p_plan_year, 12, 31)
            AND (cs.termination_date IS NULL OR cs.termination_date >= make_date(p_plan_year, 1, 1))
        ORDER BY cs.effective_date
        LIMIT 1
    ) AS cov ON TRUE
    WHERE NOT EXISTS (
        SELECT 1 FROM ppp.elections AS e
        WHERE e.member_id = f.member_id AND e.plan_year = p_plan_year
    )
    ORDER BY f.member_id;
END;
$$;
COMMENT ON FUNCTION ppp.outreach_list(integer) IS
'Prior-year likely-to-benefit list for plan year p_plan_year (2026 on): members with Part D coverage in the plan year, no election for it yet, and patient pay on paid claims dated January 1 - September 30 of the prior year at least the prior year''s annual out-of-pocket threshold.';
