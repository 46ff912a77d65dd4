-- CMS DE-SynPUF Beneficiary Summary: one file per year, one line per beneficiary. Each beneficiary is a
-- member of the DE-SynPUF plan (cardholder ID = DESYNPUF_ID, person code 01; the file has no names or
-- addresses, so they are placeholders) with a Part D coverage span in that year: January 1 to the end
-- of the PLAN_CVRG_MOS_NUM-th month (cut at the date of death, reason death). The year comes from the
-- file name or --effective-date (etl.batches.effective_date). See docs/decisions/0008-desynpuf-pde-table.md.

CREATE OR REPLACE FUNCTION etl.desynpuf_plan_id()
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_network_id bigint;
    v_plan_id bigint;
BEGIN
    SELECT p.plan_id INTO v_plan_id FROM plan.plans AS p WHERE p.plan_code = 'DESYNPUF';
    IF FOUND THEN
        RETURN v_plan_id;
    END IF;
    INSERT INTO network.networks (network_code, name)
    VALUES ('DESYNPUF', 'CMS DE-SynPUF (synthetic Medicare data): no pharmacies')
    ON CONFLICT (network_code) DO NOTHING;
    SELECT n.network_id INTO v_network_id FROM network.networks AS n WHERE n.network_code = 'DESYNPUF';
    INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, contract_number, pbp_id, network_id)
    VALUES (
        'DESYNPUF', 'CMS DE-SynPUF beneficiaries (synthetic Medicare Part D history)', 'medicare_part_d', '000000',
        'DESYNPUF', 'DESYNPUF', 'S0000', '000', v_network_id
    )
    RETURNING plan_id INTO v_plan_id;
    RETURN v_plan_id;
END;
$$;
COMMENT ON FUNCTION etl.desynpuf_plan_id() IS
'The plan DE-SynPUF beneficiaries are members of (plan code DESYNPUF, Part D, contract S0000 / PBP 000, BIN 000000, network DESYNPUF without pharmacies), created on first use.';

CREATE OR REPLACE FUNCTION etl.validate_desynpuf_beneficiary(p_batch_id bigint, p_year integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_rejects integer;
    v_overlaps integer;
BEGIN
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT p_batch_id, c.line_no, v.column_name, v.value, v.rule, v.detail
    FROM (
        SELECT
            t.*,
            t.desynpuf_id IS NULL AS id_missing,
            t.desynpuf_id !~ '^[0-9A-F]{16}$' AS id_bad,
            t.bene_birth_dt IS NULL AS birth_missing,
            t.bene_birth_dt IS NOT NULL AND t.birth IS NULL AS birth_bad,
            t.birth <= '1880-01-01' AS birth_range,
            t.birth > make_date(p_year, 12, 31) AS birth_future,
            t.bene_death_dt IS NOT NULL AND t.death IS NULL AS death_bad,
            t.death < t.birth AS death_before_birth,
            t.death < make_date(p_year, 1, 1) AND t.months > 0 AS death_before_year,
            t.bene_sex_ident_cd IS NULL AS sex_missing,
            t.bene_sex_ident_cd NOT IN ('1', '2') AS sex_bad,
            t.sp_state_code IS NULL AS state_missing,
            t.sp_state_code IS NOT NULL AND t.usps_code IS NULL AS state_bad,
            t.bene_county_cd !~ '^[0-9]{1,3}$' AS county_bad,
            t.plan_cvrg_mos_num IS NULL AS months_missing,
            t.plan_cvrg_mos_num IS NOT NULL AND t.months IS NULL AS months_bad,
            t.months NOT BETWEEN 0 AND 12 AS months_range
        FROM (
            SELECT
                s.*,
                etl.yyyymmdd_date(s.bene_birth_dt) AS birth,
                etl.yyyymmdd_date(s.bene_death_dt) AS death,
                sc.usps_code,
                etl.to_integer(s.plan_cvrg_mos_num) AS months
            FROM etl.stage_desynpuf_beneficiary AS s
            LEFT JOIN etl.ssa_state_codes AS sc ON etl.to_integer(s.sp_state_code) = sc.ssa_state_code
            WHERE
                s.batch_id = p_batch_id
                AND NOT EXISTS (
                    SELECT FROM etl.rejects AS r
                    WHERE
                        r.batch_id = p_batch_id AND r.line_no = s.line_no
                        AND r.rule IN ('invalid_encoding', 'blank_line', 'malformed_csv', 'wrong_column_count')
                )
            OFFSET 0
        ) AS t
        OFFSET 0
    ) AS c
    CROSS JOIN LATERAL (
        VALUES
        ('DESYNPUF_ID', c.desynpuf_id, 'required', c.id_missing, NULL),
        ('DESYNPUF_ID', c.desynpuf_id, 'bad_format', c.id_bad, '16 hexadecimal digits, upper case'),
        ('BENE_BIRTH_DT', c.bene_birth_dt, 'required', c.birth_missing, NULL),
        ('BENE_BIRTH_DT', c.bene_birth_dt, 'bad_date', c.birth_bad, 'YYYYMMDD'),
        ('BENE_BIRTH_DT', c.bene_birth_dt, 'out_of_range', c.birth_range, 'after 18800101'),
        ('BENE_BIRTH_DT', c.bene_birth_dt, 'date_in_future', c.birth_future, 'after the file''s year ' || p_year),
        ('BENE_DEATH_DT', c.bene_death_dt, 'bad_date', c.death_bad, 'YYYYMMDD'),
        ('BENE_DEATH_DT', c.bene_death_dt, 'end_before_start', c.death_before_birth, 'before the date of birth'),
        (
            'BENE_DEATH_DT', c.bene_death_dt, 'inconsistent', c.death_before_year,
            'died before ' || p_year || ' but has Part D months in ' || p_year
        ),
        ('BENE_SEX_IDENT_CD', c.bene_sex_ident_cd, 'required', c.sex_missing, NULL),
        ('BENE_SEX_IDENT_CD', c.bene_sex_ident_cd, 'bad_code', c.sex_bad, '1 male, 2 female'),
        ('SP_STATE_CODE', c.sp_state_code, 'required', c.state_missing, NULL),
        ('SP_STATE_CODE', c.sp_state_code, 'bad_code', c.state_bad, 'an SSA state code (etl.ssa_state_codes)'),
        ('BENE_COUNTY_CD', c.bene_county_cd, 'bad_format', c.county_bad, '1 to 3 digits'),
        ('PLAN_CVRG_MOS_NUM', c.plan_cvrg_mos_num, 'required', c.months_missing, NULL),
        ('PLAN_CVRG_MOS_NUM', c.plan_cvrg_mos_num, 'bad_number', c.months_bad, 'a whole number'),
        ('PLAN_CVRG_MOS_NUM', c.plan_cvrg_mos_num, 'out_of_range', c.months_range, '0 to 12 months')
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.id_missing OR c.id_bad OR c.birth_missing OR c.birth_bad OR c.birth_range OR c.birth_future
            OR c.death_bad OR c.death_before_birth OR c.death_before_year OR c.sex_missing OR c.sex_bad
            OR c.state_missing OR c.state_bad
            OR c.county_bad OR c.months_missing OR c.months_bad OR c.months_range
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;

    -- The year's span may not overlap another span of the member (another plan, or a span that does not
    -- start on January 1 of the year).
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT
        p_batch_id, g.line_no, 'PLAN_CVRG_MOS_NUM', g.plan_cvrg_mos_num, 'overlapping_span',
        'the member already has coverage in ' || p_year || ' that this span would overlap'
    FROM etl.good_desynpuf_beneficiary(p_batch_id, p_year) AS g
    INNER JOIN member.coverage_spans AS cs
        ON
            g.member_id = cs.member_id
            AND NOT (cs.plan_id = g.plan_id AND cs.effective_date = g.effective_date)
            AND daterange(cs.effective_date, cs.termination_date, '[]')
            && daterange(g.effective_date, g.termination_date, '[]')
    WHERE g.termination_date IS NOT NULL;
    GET DIAGNOSTICS v_overlaps = ROW_COUNT;
    RETURN v_rejects + v_overlaps;
END;
$$;
COMMENT ON FUNCTION etl.validate_desynpuf_beneficiary(bigint, integer) IS
'Records every failing rule of every readable line of a DE-SynPUF beneficiary summary batch for year p_year in etl.rejects, then overlapping_span where the year''s span would overlap other coverage of the member. Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.good_desynpuf_beneficiary(p_batch_id bigint, p_year integer)
RETURNS TABLE (
    line_no integer,
    member_id bigint,
    plan_id bigint,
    desynpuf_id text,
    date_of_birth date,
    date_of_death date,
    gender text,
    city text,
    state text,
    plan_cvrg_mos_num text,
    effective_date date,
    termination_date date,
    termination_reason text
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        s.line_no,
        m.member_id,
        p.plan_id,
        s.desynpuf_id,
        etl.yyyymmdd_date(s.bene_birth_dt) AS date_of_birth,
        d.death AS date_of_death,
        CASE s.bene_sex_ident_cd WHEN '1' THEN 'M' ELSE 'F' END AS gender,
        format('SSA COUNTY %s%s', lpad(s.sp_state_code, 2, '0'), lpad(coalesce(s.bene_county_cd, ''), 3, '0')) AS city,
        sc.usps_code AS state,
        s.plan_cvrg_mos_num,
        make_date(p_year, 1, 1) AS effective_date,
        -- NULL when the beneficiary had no Part D month that year (no span)
        CASE WHEN d.last_covered IS NOT NULL THEN least(d.last_covered, d.death) END AS termination_date,
        CASE WHEN d.death <= d.last_covered THEN 'death' END AS termination_reason
    FROM etl.stage_desynpuf_beneficiary AS s
    CROSS JOIN
        LATERAL (
            SELECT
                etl.yyyymmdd_date(s.bene_death_dt) AS death,
                (
                    make_date(p_year, 1, 1)
                    + make_interval(months => etl.to_integer(s.plan_cvrg_mos_num))
                    - interval '1 day'
                )::date AS end_of_months,
                nullif(etl.to_integer(s.plan_cvrg_mos_num), 0) AS months
        ) AS x
    CROSS JOIN
        LATERAL (
            SELECT
                x.death,
                CASE WHEN x.months IS NOT NULL THEN x.end_of_months END AS last_covered
        ) AS d
    INNER JOIN etl.ssa_state_codes AS sc ON etl.to_integer(s.sp_state_code) = sc.ssa_state_code
    INNER JOIN plan.plans AS p ON p.plan_code = 'DESYNPUF'
    LEFT JOIN member.members AS m ON s.desynpuf_id = m.cardholder_id AND m.person_code = '01'
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (
            SELECT FROM etl.rejects AS r
            WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no
        );
END;
COMMENT ON FUNCTION etl.good_desynpuf_beneficiary(bigint, integer) IS
'The lines of a DE-SynPUF beneficiary summary batch without rejects, as member and coverage values for year p_year: span from January 1 to the end of the last Part D month (NULL when 0 months), cut at death.';

CREATE OR REPLACE FUNCTION etl.merge_desynpuf_beneficiary(
    p_batch_id bigint, p_year integer, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_rows integer;
BEGIN
    PERFORM set_config('pbm.effective_date', make_date(p_year, 1, 1)::text, TRUE);
    SELECT count(*) INTO loaded FROM etl.good_desynpuf_beneficiary(p_batch_id, p_year);

    INSERT INTO member.members (
        cardholder_id, person_code, relationship_code, first_name, last_name, date_of_birth, gender, address_line1,
        city, state, zip5
    )
    SELECT g.desynpuf_id, '01', 1, 'DE-SYNPUF', g.desynpuf_id, g.date_of_birth, g.gender, 'UNKNOWN', g.city, g.state, '00000'
    FROM etl.good_desynpuf_beneficiary(p_batch_id, p_year) AS g
    WHERE g.member_id IS NULL;
    GET DIAGNOSTICS inserted = ROW_COUNT;

    UPDATE member.members AS m
    SET date_of_birth = g.date_of_birth, gender = g.gender, city = g.city, state = g.state
    FROM etl.good_desynpuf_beneficiary(p_batch_id, p_year) AS g
    WHERE
        m.member_id = g.member_id
        AND (m.date_of_birth, m.gender, m.city, m.state) IS DISTINCT FROM (g.date_of_birth, g.gender, g.city, g.state);
    GET DIAGNOSTICS updated = ROW_COUNT;

    -- One span per beneficiary and year (years do not overlap; validation refused other overlaps).
    UPDATE member.coverage_spans AS cs
    SET termination_date = g.termination_date, termination_reason = g.termination_reason
    FROM etl.good_desynpuf_beneficiary(p_batch_id, p_year) AS g
    WHERE
        cs.member_id = g.member_id AND cs.plan_id = g.plan_id AND cs.effective_date = g.effective_date
        AND g.termination_date IS NOT NULL
        AND (cs.termination_date, cs.termination_reason) IS DISTINCT FROM (g.termination_date, g.termination_reason);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    updated := updated + v_rows;

    INSERT INTO member.coverage_spans (member_id, plan_id, effective_date, termination_date, termination_reason)
    SELECT g.member_id, g.plan_id, g.effective_date, g.termination_date, g.termination_reason
    FROM etl.good_desynpuf_beneficiary(p_batch_id, p_year) AS g
    WHERE
        g.termination_date IS NOT NULL
        AND NOT EXISTS (
            SELECT FROM member.coverage_spans AS cs
            WHERE cs.member_id = g.member_id AND cs.plan_id = g.plan_id AND cs.effective_date = g.effective_date
        );
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    inserted := inserted + v_rows;
END;
$$;
COMMENT ON FUNCTION etl.merge_desynpuf_beneficiary(bigint, integer) IS
'Merges a DE-SynPUF beneficiary summary batch for year p_year: members of the DE-SynPUF plan inserted or updated (history from January 1 of the year), one Part D coverage span per beneficiary with coverage months.';
