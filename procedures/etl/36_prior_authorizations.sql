-- Prior authorization feed: requests and decisions from the clinical (utilization management) vendor,
-- merged into claims.prior_authorizations by PA number; every status the vendor reports that differs
-- from the one on file is an event in claims.prior_authorization_events.

CREATE OR REPLACE FUNCTION etl.validate_prior_authorizations(p_batch_id bigint)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_rejects integer;
BEGIN
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT p_batch_id, c.line_no, v.column_name, v.value, v.rule, v.detail
    FROM (
        SELECT
            t.*,
            t.pa_number IS NULL AS pa_missing,
            t.pa_number !~ '^[0-9A-Z]{1,11}$' AS pa_bad,
            t.pa_member_id <> t.member_id AS pa_taken,
            t.cardholder_id IS NULL AS cardholder_missing,
            t.cardholder_id !~ '^[0-9A-Z]{1,20}$' AS cardholder_bad,
            t.person_code !~ '^[0-9]{1,3}$' AS person_code_bad,
            t.cardholder_id ~ '^[0-9A-Z]{1,20}$' AND coalesce(t.person_code ~ '^[0-9]{1,3}$', TRUE)
            AND t.member_id IS NULL AS member_unknown,
            t.drug_group IS NULL AS group_missing,
            t.drug_group IS NOT NULL AND NOT t.group_known AS group_unknown,
            NOT ref.npi_is_valid(t.prescriber_npi) AS npi_bad,
            t.urgency NOT IN ('standard', 'expedited') AS urgency_bad,
            t.status IS NULL AS status_missing,
            t.status NOT IN (
                'received', 'pended_info', 'in_review', 'approved', 'partially_approved', 'denied', 'withdrawn',
                'expired', 'revoked'
            ) AS status_bad,
            t.received_at IS NULL AS received_missing,
            t.received_at IS NOT NULL AND t.received IS NULL AS received_bad,
            t.decided_at IS NOT NULL AND t.decided IS NULL AS decided_bad,
            t.decided_at IS NULL AND t.status IN ('approved', 'partially_approved', 'denied') AS decided_missing,
            t.decided < t.received AS decided_before_received,
            t.decision_reason IS NULL AND t.status = 'denied' AS reason_missing,
            t.effective_date IS NOT NULL AND t.start_date IS NULL AS start_bad,
            t.effective_date IS NULL AND t.status IN ('approved', 'partially_approved', 'expired') AS start_missing,
            t.expiration_date IS NOT NULL AND t.end_date IS NULL AS end_bad,
            t.expiration_date IS NULL AND t.status IN ('approved', 'partially_approved', 'expired') AS end_missing,
            t.end_date < t.start_date AS end_before_start,
            t.approved_quantity IS NOT NULL AND t.quantity IS NULL AS quantity_bad,
            t.quantity < 0 AS quantity_negative,
            t.quantity = 0 AS quantity_zero
        FROM (
            SELECT
                s.*,
                m.member_id,
                pa.member_id AS pa_member_id,
                EXISTS (SELECT FROM drug.drugs AS d WHERE d.drug_group = s.drug_group) AS group_known,
                etl.iso_timestamptz(s.received_at) AS received,
                etl.iso_timestamptz(s.decided_at) AS decided,
                etl.iso_date(s.effective_date) AS start_date,
                etl.iso_date(s.expiration_date) AS end_date,
                etl.to_quantity(s.approved_quantity) AS quantity
            FROM etl.stage_prior_authorizations AS s
            LEFT JOIN member.members AS m
                ON s.cardholder_id = m.cardholder_id AND coalesce(s.person_code, '01') = m.person_code
            LEFT JOIN claims.prior_authorizations AS pa ON s.pa_number = pa.pa_number
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
        ('pa_number', c.pa_number, 'required', c.pa_missing, NULL),
        ('pa_number', c.pa_number, 'bad_format', c.pa_bad, '1 to 11 digits or capital letters'),
        ('pa_number', c.pa_number, 'key_in_use', c.pa_taken, 'a prior authorization of another member has this number'),
        ('cardholder_id', c.cardholder_id, 'required', c.cardholder_missing, NULL),
        ('cardholder_id', c.cardholder_id, 'bad_format', c.cardholder_bad, '1 to 20 digits or capital letters'),
        ('person_code', c.person_code, 'bad_format', c.person_code_bad, '1 to 3 digits'),
        (
            'cardholder_id', c.cardholder_id, 'unknown_member', c.member_unknown,
            'no member ' || c.cardholder_id || ' person code ' || coalesce(c.person_code, '01')
        ),
        ('drug_group', c.drug_group, 'required', c.group_missing, NULL),
        ('drug_group', c.drug_group, 'unknown_drug_group', c.group_unknown, NULL),
        ('prescriber_npi', c.prescriber_npi, 'bad_npi', c.npi_bad, NULL),
        ('urgency', c.urgency, 'bad_code', c.urgency_bad, 'standard or expedited'),
        ('status', c.status, 'required', c.status_missing, NULL),
        (
            'status', c.status, 'bad_code', c.status_bad,
            'received, pended_info, in_review, approved, partially_approved, denied, withdrawn, expired or revoked'
        ),
        ('received_at', c.received_at, 'required', c.received_missing, NULL),
        ('received_at', c.received_at, 'bad_timestamp', c.received_bad, 'YYYY-MM-DDTHH:MM[:SS][+HH:MM|Z]'),
        ('decided_at', c.decided_at, 'bad_timestamp', c.decided_bad, 'YYYY-MM-DDTHH:MM[:SS][+HH:MM|Z]'),
        ('decided_at', c.decided_at, 'required', c.decided_missing, 'required for a decision (status ' || c.status || ')'),
        ('decided_at', c.decided_at, 'end_before_start', c.decided_before_received, 'before received_at ' || c.received_at),
        ('decision_reason', c.decision_reason, 'required', c.reason_missing, 'required when status is denied'),
        ('effective_date', c.effective_date, 'bad_date', c.start_bad, 'YYYY-MM-DD'),
        ('effective_date', c.effective_date, 'required', c.start_missing, 'required when status is ' || c.status),
        ('expiration_date', c.expiration_date, 'bad_date', c.end_bad, 'YYYY-MM-DD'),
        ('expiration_date', c.expiration_date, 'required', c.end_missing, 'required when status is ' || c.status),
        ('expiration_date', c.expiration_date, 'end_before_start', c.end_before_start, 'before ' || c.effective_date),
        ('approved_quantity', c.approved_quantity, 'bad_number', c.quantity_bad, 'up to 9 digits and 3 decimals'),
        ('approved_quantity', c.approved_quantity, 'negative_amount', c.quantity_negative, NULL),
        ('approved_quantity', c.approved_quantity, 'not_positive', c.quantity_zero, NULL)
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.pa_missing OR c.pa_bad OR c.pa_taken OR c.cardholder_missing OR c.cardholder_bad OR c.person_code_bad
            OR c.member_unknown OR c.group_missing OR c.group_unknown OR c.npi_bad OR c.urgency_bad
            OR c.status_missing OR c.status_bad OR c.received_missing OR c.received_bad OR c.decided_bad
            OR c.decided_missing OR c.decided_before_received OR c.reason_missing OR c.start_bad OR c.start_missing
            OR c.end_bad OR c.end_missing OR c.end_before_start OR c.quantity_bad OR c.quantity_negative
            OR c.quantity_zero
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;
    RETURN v_rejects;
END;
$$;
COMMENT ON FUNCTION etl.validate_prior_authorizations(bigint) IS
'Records every failing rule of every readable line of a prior authorization batch in etl.rejects (unknown members, unknown drug groups, decisions without their dates or reasons). Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.good_prior_authorizations(p_batch_id bigint)
RETURNS TABLE (
    line_no integer,
    pa_number text,
    member_id bigint,
    drug_group text,
    prescriber_npi text,
    urgency text,
    status text,
    received_at timestamptz,
    due_at timestamptz,
    decided_at timestamptz,
    decision_reason text,
    effective_date date,
    expiration_date date,
    approved_quantity numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        s.line_no,
        s.pa_number,
        m.member_id,
        s.drug_group,
        s.prescriber_npi,
        coalesce(s.urgency, 'standard') AS urgency,
        s.status,
        etl.iso_timestamptz(s.received_at) AS received_at,
        etl.iso_timestamptz(s.received_at)
        + CASE WHEN s.urgency = 'expedited' THEN interval '24 hours' ELSE interval '72 hours' END AS due_at,
        etl.iso_timestamptz(s.decided_at) AS decided_at,
        s.decision_reason,
        s.effective_date::date,
        s.expiration_date::date,
        s.approved_quantity::numeric(12, 3)
    FROM etl.stage_prior_authorizations AS s
    INNER JOIN
        member.members AS m
        ON s.cardholder_id = m.cardholder_id AND coalesce(s.person_code, '01') = m.person_code
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (
            SELECT FROM etl.rejects AS r
            WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no
        );
END;
COMMENT ON FUNCTION etl.good_prior_authorizations(bigint) IS
'The lines of a prior authorization batch without rejects, typed, member resolved, due_at = received_at + 72 hours (24 when expedited).';

CREATE OR REPLACE FUNCTION etl.merge_prior_authorizations(
    p_batch_id bigint, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
BEGIN
    SELECT count(*) INTO loaded FROM etl.good_prior_authorizations(p_batch_id);

    -- Status changes of known PAs, before the update overwrites the old status.
    INSERT INTO claims.prior_authorization_events (
        prior_authorization_id, member_id, occurred_at, from_status, to_status, note
    )
    SELECT
        pa.prior_authorization_id, pa.member_id, coalesce(g.decided_at, g.received_at), pa.status, g.status,
        'clinical vendor feed, etl batch ' || p_batch_id
    FROM etl.good_prior_authorizations(p_batch_id) AS g
    INNER JOIN claims.prior_authorizations AS pa ON g.pa_number = pa.pa_number
    WHERE g.status <> pa.status;

    UPDATE claims.prior_authorizations AS pa
    SET drug_group = g.drug_group,
        prescriber_npi = g.prescriber_npi,
        urgency = g.urgency,
        status = g.status,
        received_at = g.received_at,
        due_at = g.due_at,
        decided_at = g.decided_at,
        decision_reason = g.decision_reason,
        effective_date = g.effective_date,
        expiration_date = g.expiration_date,
        approved_quantity = g.approved_quantity
    FROM etl.good_prior_authorizations(p_batch_id) AS g
    WHERE
        pa.pa_number = g.pa_number
        AND (
            pa.drug_group, pa.prescriber_npi, pa.urgency, pa.status, pa.received_at, pa.due_at, pa.decided_at,
            pa.decision_reason, pa.effective_date, pa.expiration_date, pa.approved_quantity
        ) IS DISTINCT FROM (
            g.drug_group, g.prescriber_npi, g.urgency, g.status, g.received_at, g.due_at, g.decided_at,
            g.decision_reason, g.effective_date, g.expiration_date, g.approved_quantity
        );
    GET DIAGNOSTICS updated = ROW_COUNT;

    WITH added AS (
        INSERT INTO claims.prior_authorizations AS pa (
            pa_number, member_id, drug_group, prescriber_npi, urgency, status, received_at, due_at, decided_at,
            decision_reason, effective_date, expiration_date, approved_quantity
        )
        SELECT
            g.pa_number, g.member_id, g.drug_group, g.prescriber_npi, g.urgency, g.status, g.received_at, g.due_at,
            g.decided_at, g.decision_reason, g.effective_date, g.expiration_date, g.approved_quantity
        FROM etl.good_prior_authorizations(p_batch_id) AS g
        WHERE NOT EXISTS (SELECT FROM claims.prior_authorizations AS x WHERE x.pa_number = g.pa_number)
        ORDER BY g.line_no
        RETURNING pa.prior_authorization_id, pa.member_id, pa.status, pa.received_at, pa.decided_at
    )
    INSERT INTO claims.prior_authorization_events (
        prior_authorization_id, member_id, occurred_at, from_status, to_status, note
    )
    SELECT
        a.prior_authorization_id, a.member_id, coalesce(a.decided_at, a.received_at), NULL, a.status,
        'clinical vendor feed, etl batch ' || p_batch_id
    FROM added AS a;
    GET DIAGNOSTICS inserted = ROW_COUNT;
END;
$$;
COMMENT ON FUNCTION etl.merge_prior_authorizations(bigint) IS
'Merges the good lines of a prior authorization batch into claims.prior_authorizations by PA number and records every status change (and every new PA) as a claims.prior_authorization_events row.';
