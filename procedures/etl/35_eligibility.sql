-- Eligibility feed: one line per member coverage span. Members are matched by cardholder ID and person
-- code: new ones inserted, changed demographics updated (member.members' trigger keeps the history,
-- valid from the file's date), MBIs encrypted with the session's PHI key. Spans are matched by member,
-- plan and effective date: a later termination date or a termination reason changes the span, other
-- starts add spans. When the file would give one member overlapping spans, or two versions of one
-- member, none of that member's lines is loaded, so the member stays as it was.

CREATE OR REPLACE FUNCTION etl.good_eligibility(p_batch_id bigint)
RETURNS TABLE (
    line_no integer,
    member_id bigint,
    cardholder_id text,
    person_code text,
    relationship_code smallint,
    first_name text,
    last_name text,
    date_of_birth date,
    gender text,
    address_line1 text,
    city text,
    state text,
    zip5 text,
    mbi text,
    plan_id bigint,
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
        s.cardholder_id,
        coalesce(s.person_code, '01') AS person_code,
        coalesce(s.relationship_code::smallint, 1) AS relationship_code,
        s.first_name,
        s.last_name,
        s.date_of_birth::date,
        s.gender,
        s.address_line1,
        s.city,
        s.state,
        s.zip5,
        s.mbi,
        p.plan_id,
        s.coverage_effective_date::date,
        s.coverage_termination_date::date,
        s.termination_reason
    FROM etl.stage_eligibility AS s
    INNER JOIN plan.plans AS p ON s.plan_code = p.plan_code
    LEFT JOIN member.members AS m ON s.cardholder_id = m.cardholder_id AND coalesce(s.person_code, '01') = m.person_code
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (
            SELECT FROM etl.rejects AS r
            WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no
        );
END;
COMMENT ON FUNCTION etl.good_eligibility(bigint) IS
'The lines of an eligibility batch without rejects (so far), typed, with the plan and the existing member (if any) resolved; person code 01 and relationship 1 when not given.';

CREATE OR REPLACE FUNCTION etl.validate_eligibility(p_batch_id bigint, p_as_of date)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_rejects integer;
    v_rows integer;
BEGIN
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT p_batch_id, c.line_no, v.column_name, v.value, v.rule, v.detail
    FROM (
        SELECT
            t.*,
            t.cardholder_id IS NULL AS cardholder_missing,
            t.cardholder_id !~ '^[0-9A-Z]{1,20}$' AS cardholder_bad,
            t.person_code !~ '^[0-9]{1,3}$' AS person_code_bad,
            t.relationship_code NOT IN ('0', '1', '2', '3', '4') AS relationship_bad,
            t.first_name IS NULL AS first_missing,
            t.last_name IS NULL AS last_missing,
            t.date_of_birth IS NULL AS dob_missing,
            t.date_of_birth IS NOT NULL AND t.dob IS NULL AS dob_bad,
            t.dob > p_as_of AS dob_future,
            t.dob <= '1880-01-01' AS dob_range,
            t.gender IS NULL AS gender_missing,
            t.gender NOT IN ('M', 'F', 'U') AS gender_bad,
            t.address_line1 IS NULL AS address_missing,
            t.city IS NULL AS city_missing,
            t.state IS NULL AS state_missing,
            t.state !~ '^[A-Z]{2}$' AS state_bad,
            t.zip5 IS NULL AS zip_missing,
            t.zip5 !~ '^[0-9]{5}$' AS zip_bad,
            NOT ref.mbi_is_valid(t.mbi) AS mbi_bad,
            t.mbi IS NULL AND t.plan_type = 'medicare_part_d' AS mbi_missing,
            t.plan_code IS NULL AS plan_missing,
            t.plan_code IS NOT NULL AND t.plan_id IS NULL AS plan_unknown,
            t.coverage_effective_date IS NULL AS start_missing,
            t.coverage_effective_date IS NOT NULL AND t.start_date IS NULL AS start_bad,
            t.coverage_termination_date IS NOT NULL AND t.end_date IS NULL AS end_bad,
            t.end_date < t.start_date AS end_before_start,
            t.termination_reason NOT IN ('voluntary', 'involuntary', 'death', 'plan_terminated', 'other') AS reason_bad,
            t.termination_reason IS NOT NULL AND t.coverage_termination_date IS NULL AS reason_without_end
        FROM (
            SELECT
                s.*,
                p.plan_id,
                p.plan_type,
                etl.iso_date(s.date_of_birth) AS dob,
                etl.iso_date(s.coverage_effective_date) AS start_date,
                etl.iso_date(s.coverage_termination_date) AS end_date
            FROM etl.stage_eligibility AS s
            LEFT JOIN plan.plans AS p ON s.plan_code = p.plan_code
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
        ('cardholder_id', c.cardholder_id, 'required', c.cardholder_missing, NULL),
        ('cardholder_id', c.cardholder_id, 'bad_format', c.cardholder_bad, '1 to 20 digits or capital letters'),
        ('person_code', c.person_code, 'bad_format', c.person_code_bad, '1 to 3 digits'),
        ('relationship_code', c.relationship_code, 'bad_code', c.relationship_bad, '0 to 4'),
        ('first_name', c.first_name, 'required', c.first_missing, NULL),
        ('last_name', c.last_name, 'required', c.last_missing, NULL),
        ('date_of_birth', c.date_of_birth, 'required', c.dob_missing, NULL),
        ('date_of_birth', c.date_of_birth, 'bad_date', c.dob_bad, 'YYYY-MM-DD'),
        ('date_of_birth', c.date_of_birth, 'date_in_future', c.dob_future, 'after the file date ' || p_as_of),
        ('date_of_birth', c.date_of_birth, 'out_of_range', c.dob_range, 'after 1880-01-01'),
        ('gender', c.gender, 'required', c.gender_missing, NULL),
        ('gender', c.gender, 'bad_code', c.gender_bad, 'M, F or U'),
        ('address_line1', c.address_line1, 'required', c.address_missing, NULL),
        ('city', c.city, 'required', c.city_missing, NULL),
        ('state', c.state, 'required', c.state_missing, NULL),
        ('state', c.state, 'bad_format', c.state_bad, 'two capital letters'),
        ('zip5', c.zip5, 'required', c.zip_missing, NULL),
        ('zip5', c.zip5, 'bad_format', c.zip_bad, '5 digits'),
        ('mbi', c.mbi, 'bad_mbi', c.mbi_bad, '11 characters, e.g. 1EG4TE5MK73 (no dashes)'),
        ('mbi', c.mbi, 'required', c.mbi_missing, 'required for a Medicare Part D plan'),
        ('plan_code', c.plan_code, 'required', c.plan_missing, NULL),
        ('plan_code', c.plan_code, 'unknown_plan', c.plan_unknown, NULL),
        ('coverage_effective_date', c.coverage_effective_date, 'required', c.start_missing, NULL),
        ('coverage_effective_date', c.coverage_effective_date, 'bad_date', c.start_bad, 'YYYY-MM-DD'),
        ('coverage_termination_date', c.coverage_termination_date, 'bad_date', c.end_bad, 'YYYY-MM-DD'),
        (
            'coverage_termination_date', c.coverage_termination_date, 'end_before_start', c.end_before_start,
            'before ' || c.coverage_effective_date
        ),
        (
            'termination_reason', c.termination_reason, 'bad_code', c.reason_bad,
            'voluntary, involuntary, death, plan_terminated or other'
        ),
        ('termination_reason', c.termination_reason, 'inconsistent', c.reason_without_end, 'a reason needs a termination date')
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.cardholder_missing OR c.cardholder_bad OR c.person_code_bad OR c.relationship_bad OR c.first_missing
            OR c.last_missing OR c.dob_missing OR c.dob_bad OR c.dob_future OR c.dob_range OR c.gender_missing
            OR c.gender_bad OR c.address_missing OR c.city_missing OR c.state_missing OR c.state_bad OR c.zip_missing
            OR c.zip_bad OR c.mbi_bad OR c.mbi_missing OR c.plan_missing OR c.plan_unknown OR c.start_missing
            OR c.start_bad OR c.end_bad OR c.end_before_start OR c.reason_bad OR c.reason_without_end
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;

    -- One member, one version: lines of a member giving different demographics or MBIs.
    WITH good AS (
        SELECT * FROM etl.good_eligibility(p_batch_id)
    ),
    versions AS (
        SELECT
            g.cardholder_id, g.person_code, array_agg(g.line_no ORDER BY g.line_no) AS lines
        FROM good AS g
        GROUP BY g.cardholder_id, g.person_code
        HAVING count(DISTINCT (
            g.relationship_code, g.first_name, g.last_name, g.date_of_birth, g.gender, g.address_line1, g.city,
            g.state, g.zip5, g.mbi
        )) > 1
    )
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT
        p_batch_id, l.line_no, 'cardholder_id, person_code', v.cardholder_id || ' ' || v.person_code,
        'conflicting_duplicate',
        format('lines %s give this member different demographics', array_to_string(v.lines, ', '))
    FROM versions AS v
    CROSS JOIN LATERAL unnest(v.lines) AS l (line_no);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_rejects := v_rejects + v_rows;

    -- An MBI belongs to one member (matched by its keyed hash: needs the session's PHI key).
    WITH hashed AS (
        SELECT g.line_no, g.cardholder_id, g.person_code, g.mbi, member.mbi_hash(g.mbi) AS mbi_hash
        FROM etl.good_eligibility(p_batch_id) AS g
        WHERE g.mbi IS NOT NULL
    ),
    taken AS (
        SELECT
            h.line_no, h.mbi,
            (
                SELECT m.cardholder_id || ' ' || m.person_code
                FROM member.members AS m
                WHERE m.mbi_hash = h.mbi_hash AND (m.cardholder_id, m.person_code) <> (h.cardholder_id, h.person_code)
                LIMIT 1
            ) AS owner,
            (
                SELECT count(DISTINCT (o.cardholder_id, o.person_code)) FROM hashed AS o WHERE o.mbi = h.mbi
            ) AS members_in_file
        FROM hashed AS h
    )
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT
        p_batch_id, t.line_no, 'mbi', t.mbi, 'key_in_use',
        CASE
            WHEN t.owner IS NOT NULL THEN 'belongs to member ' || t.owner
            ELSE 'the file gives this MBI to more than one member'
        END
    FROM taken AS t
    WHERE t.owner IS NOT NULL OR t.members_in_file > 1;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_rejects := v_rejects + v_rows;

    -- Coverage spans after the merge may not overlap: the member's spans in the database (replaced by
    -- a line with the same plan and start) and the file's.
    WITH good AS (
        SELECT * FROM etl.good_eligibility(p_batch_id)
    ),
    future AS (
        SELECT g.cardholder_id, g.person_code, g.effective_date, g.termination_date
        FROM good AS g
        UNION ALL
        SELECT m.cardholder_id, m.person_code, cs.effective_date, cs.termination_date
        FROM member.coverage_spans AS cs
        INNER JOIN member.members AS m ON cs.member_id = m.member_id
        WHERE
            EXISTS (SELECT FROM good AS g WHERE g.member_id = cs.member_id)
            AND NOT EXISTS (
                SELECT FROM good AS g
                WHERE g.member_id = cs.member_id AND g.plan_id = cs.plan_id AND g.effective_date = cs.effective_date
            )
    ),
    clashing AS (
        SELECT DISTINCT o.cardholder_id, o.person_code
        FROM (
            SELECT
                f.*,
                max(coalesce(f.termination_date, 'infinity')) OVER (
                    PARTITION BY f.cardholder_id, f.person_code ORDER BY f.effective_date, f.termination_date
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                ) AS latest_end_before
            FROM future AS f
        ) AS o
        WHERE o.latest_end_before >= o.effective_date
    )
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT
        p_batch_id, g.line_no, 'coverage_effective_date', g.effective_date::text, 'overlapping_span',
        'the coverage spans of this member would overlap: none of its lines is loaded'
    FROM good AS g
    INNER JOIN clashing AS x ON g.cardholder_id = x.cardholder_id AND g.person_code = x.person_code;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rejects + v_rows;
END;
$$;
COMMENT ON FUNCTION etl.validate_eligibility(bigint, date) IS
'Records every failing rule of every readable line of an eligibility batch in etl.rejects, then member-level conflicts: different demographics for one member (conflicting_duplicate), an MBI of another member (key_in_use), overlapping coverage (overlapping_span). MBIs need the PHI key. Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.merge_eligibility(
    p_batch_id bigint, p_as_of date, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_rows integer;
BEGIN
    -- The history trigger dates demographic changes from the file's date.
    PERFORM set_config('pbm.effective_date', p_as_of::text, TRUE);
    SELECT count(*) INTO loaded FROM etl.good_eligibility(p_batch_id);

    INSERT INTO member.members (
        cardholder_id, person_code, relationship_code, first_name, last_name, date_of_birth, gender, address_line1,
        city, state, zip5, mbi_encrypted, mbi_hash
    )
    SELECT DISTINCT ON (g.cardholder_id, g.person_code)
        g.cardholder_id, g.person_code, g.relationship_code, g.first_name, g.last_name, g.date_of_birth, g.gender,
        g.address_line1, g.city, g.state, g.zip5,
        CASE WHEN g.mbi IS NOT NULL THEN member.encrypt_phi(g.mbi) END,
        CASE WHEN g.mbi IS NOT NULL THEN member.mbi_hash(g.mbi) END
    FROM etl.good_eligibility(p_batch_id) AS g
    WHERE g.member_id IS NULL
    ORDER BY g.cardholder_id, g.person_code, g.line_no;
    GET DIAGNOSTICS inserted = ROW_COUNT;

    UPDATE member.members AS m
    SET relationship_code = g.relationship_code,
        first_name = g.first_name,
        last_name = g.last_name,
        date_of_birth = g.date_of_birth,
        gender = g.gender,
        address_line1 = g.address_line1,
        city = g.city,
        state = g.state,
        zip5 = g.zip5,
        mbi_encrypted = CASE
            WHEN g.mbi_hash IS NOT DISTINCT FROM m.mbi_hash THEN m.mbi_encrypted
            WHEN g.mbi IS NOT NULL THEN member.encrypt_phi(g.mbi)
        END,
        mbi_hash = g.mbi_hash
    FROM (
        SELECT DISTINCT ON (e.member_id)
            e.*, CASE WHEN e.mbi IS NOT NULL THEN member.mbi_hash(e.mbi) END AS mbi_hash
        FROM etl.good_eligibility(p_batch_id) AS e
        WHERE e.member_id IS NOT NULL
        ORDER BY e.member_id, e.line_no
    ) AS g
    WHERE
        m.member_id = g.member_id
        AND (
            m.relationship_code, m.first_name, m.last_name, m.date_of_birth, m.gender, m.address_line1, m.city,
            m.state, m.zip5, m.mbi_hash
        ) IS DISTINCT FROM (
            g.relationship_code, g.first_name, g.last_name, g.date_of_birth, g.gender, g.address_line1, g.city,
            g.state, g.zip5, g.mbi_hash
        );
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    updated := v_rows;

    -- Spans: those that end sooner (or keep their dates) first, then those that grow, then new ones.
    UPDATE member.coverage_spans AS cs
    SET termination_date = g.termination_date, termination_reason = g.termination_reason
    FROM etl.good_eligibility(p_batch_id) AS g
    WHERE
        cs.member_id = g.member_id AND cs.plan_id = g.plan_id AND cs.effective_date = g.effective_date
        AND (cs.termination_date, cs.termination_reason) IS DISTINCT FROM (g.termination_date, g.termination_reason)
        AND coalesce(g.termination_date, 'infinity') <= coalesce(cs.termination_date, 'infinity');
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    updated := updated + v_rows;
    UPDATE member.coverage_spans AS cs
    SET termination_date = g.termination_date, termination_reason = g.termination_reason
    FROM etl.good_eligibility(p_batch_id) AS g
    WHERE
        cs.member_id = g.member_id AND cs.plan_id = g.plan_id AND cs.effective_date = g.effective_date
        AND coalesce(g.termination_date, 'infinity') > coalesce(cs.termination_date, 'infinity');
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    updated := updated + v_rows;

    -- good_eligibility now finds the members inserted above.
    INSERT INTO member.coverage_spans (member_id, plan_id, effective_date, termination_date, termination_reason)
    SELECT g.member_id, g.plan_id, g.effective_date, g.termination_date, g.termination_reason
    FROM etl.good_eligibility(p_batch_id) AS g
    WHERE NOT EXISTS (
        SELECT FROM member.coverage_spans AS cs
        WHERE cs.member_id = g.member_id AND cs.plan_id = g.plan_id AND cs.effective_date = g.effective_date
    );
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    inserted := inserted + v_rows;
END;
$$;
COMMENT ON FUNCTION etl.merge_eligibility(bigint, date) IS
'Merges the good lines of an eligibility batch: members inserted or updated (history valid from p_as_of through the members trigger; MBIs encrypted with the session PHI key, re-encrypted only when they change), coverage spans updated (shrinking first) and inserted.';

CREATE OR REPLACE FUNCTION etl.scrub_mbis(p_batch_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    -- MBIs are encrypted at rest in member.members; they must not stay readable in etl either.
    UPDATE etl.stage_eligibility AS s
    SET mbi = NULL, raw_line = NULL
    WHERE s.batch_id = p_batch_id AND (s.mbi IS NOT NULL OR s.raw_line IS NOT NULL);
    UPDATE etl.rejects AS r
    SET value = CASE
        WHEN r.column_name = 'mbi' THEN left(r.value, 2) || repeat('*', greatest(length(r.value) - 4, 0)) || right(r.value, 2)
        ELSE regexp_replace(
            r.value,
            '[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y]{2}[0-9]{2}',
            '[MBI]', 'g'
        )
    END
    WHERE r.batch_id = p_batch_id AND r.value IS NOT NULL;
END;
$$;
COMMENT ON FUNCTION etl.scrub_mbis(bigint) IS
'At the end of an eligibility batch: empties the MBIs (and raw lines) of its staging rows and masks MBIs in its rejects (1E*******73; [MBI] inside whole lines), so no MBI stays readable outside member.members.';
