-- Prior authorization (coverage determination) workflow: submit (standard or expedited), request more
-- information, approve, deny, withdraw, expire. Decisions are due 72 hours (standard) or 24 hours
-- (expedited) after receipt (42 CFR 423.568, 423.572). Every change is an event.

CREATE OR REPLACE FUNCTION claims.pa_transition(
    p_pa_number text,
    p_to_status text,
    p_allowed_from text[],
    p_at timestamptz,
    p_note text,
    p_decided boolean DEFAULT FALSE,
    p_effective_date date DEFAULT NULL,
    p_expiration_date date DEFAULT NULL,
    p_approved_quantity numeric DEFAULT NULL
)
RETURNS claims.prior_authorizations
LANGUAGE plpgsql
AS $$
DECLARE
    v_pa claims.prior_authorizations;
BEGIN
    SELECT * INTO v_pa FROM claims.prior_authorizations AS a WHERE a.pa_number = p_pa_number FOR UPDATE;
    IF v_pa.prior_authorization_id IS NULL THEN
        RAISE EXCEPTION 'no prior authorization %', p_pa_number USING ERRCODE = 'P0002';
    END IF;
    IF v_pa.status <> ALL(p_allowed_from) THEN
        RAISE EXCEPTION 'prior authorization % is %: it cannot become %', p_pa_number, v_pa.status, p_to_status
            USING ERRCODE = '55000', HINT = format('Allowed from: %s', array_to_string(p_allowed_from, ', '));
    END IF;
    INSERT INTO claims.prior_authorization_events (
        prior_authorization_id, member_id, occurred_at, from_status, to_status, note
    ) VALUES (v_pa.prior_authorization_id, v_pa.member_id, p_at, v_pa.status, p_to_status, p_note);
    UPDATE claims.prior_authorizations AS a
    SET status = p_to_status,
        decided_at = CASE WHEN p_decided THEN p_at ELSE a.decided_at END,
        decision_reason = CASE WHEN p_decided THEN p_note ELSE a.decision_reason END,
        effective_date = coalesce(p_effective_date, a.effective_date),
        expiration_date = coalesce(p_expiration_date, a.expiration_date),
        approved_quantity = coalesce(p_approved_quantity, a.approved_quantity)
    WHERE a.prior_authorization_id = v_pa.prior_authorization_id
    RETURNING * INTO v_pa;
    RETURN v_pa;
END;
$$;
COMMENT ON FUNCTION claims.pa_transition(text, text, text[], timestamptz, text, boolean, date, date, numeric) IS
'Moves a prior authorization to p_to_status when its status is one of p_allowed_from (else 55000 naming both), recording the event; a decision (p_decided) also records when and why, and an approval its dates and quantity.';

CREATE OR REPLACE FUNCTION claims.pa_json(p_pa claims.prior_authorizations)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
RETURN jsonb_strip_nulls(jsonb_build_object(
    'prior_authorization_number', (p_pa).pa_number,
    'status', (p_pa).status,
    'urgency', (p_pa).urgency,
    'drug_group', (p_pa).drug_group,
    'received_at', (p_pa).received_at,
    'due_at', (p_pa).due_at,
    'decided_at', (p_pa).decided_at,
    'decision_reason', (p_pa).decision_reason,
    'effective_date', (p_pa).effective_date,
    'expiration_date', (p_pa).expiration_date,
    'approved_quantity', (p_pa).approved_quantity
));
COMMENT ON FUNCTION claims.pa_json(claims.prior_authorizations) IS 'A prior authorization as JSON (NCPDP 498-PY number, 498-PS/PT dates).';

CREATE OR REPLACE FUNCTION api.pa_submit(
    p_cardholder_id text,
    p_person_code text,
    p_product_id text,
    p_prescriber_npi text,
    p_urgency text DEFAULT 'standard',
    p_received_at timestamptz DEFAULT now()
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_member_id bigint;
    v_drug_group text;
    v_pa claims.prior_authorizations;
BEGIN
    IF p_urgency NOT IN ('standard', 'expedited') THEN
        RAISE EXCEPTION 'urgency must be standard or expedited, not %', p_urgency USING ERRCODE = '22023';
    END IF;
    IF NOT coalesce(ref.npi_is_valid(p_prescriber_npi), FALSE) THEN
        RAISE EXCEPTION 'invalid prescriber NPI %', p_prescriber_npi USING ERRCODE = '22023';
    END IF;
    SELECT m.member_id INTO v_member_id FROM member.members AS m
    WHERE m.cardholder_id = upper(p_cardholder_id) AND m.person_code = p_person_code;
    IF v_member_id IS NULL THEN
        RAISE EXCEPTION 'no member with cardholder ID % and person code %', p_cardholder_id, p_person_code
            USING ERRCODE = 'P0002';
    END IF;
    SELECT d.drug_group INTO v_drug_group FROM drug.drugs AS d WHERE d.ndc11 = ref.ndc11(p_product_id);
    IF v_drug_group IS NULL THEN
        RAISE EXCEPTION 'unknown product %', p_product_id USING ERRCODE = 'P0002';
    END IF;
    INSERT INTO claims.prior_authorizations (
        pa_number, member_id, drug_group, prescriber_npi, urgency, status, received_at, due_at
    ) VALUES (
        'PA' || lpad(nextval('claims.pa_number_seq')::text, 9, '0'), v_member_id, v_drug_group, p_prescriber_npi,
        p_urgency, 'received', p_received_at,
        p_received_at + CASE p_urgency WHEN 'expedited' THEN interval '24 hours' ELSE interval '72 hours' END
    )
    RETURNING * INTO v_pa;
    INSERT INTO claims.prior_authorization_events (prior_authorization_id, member_id, occurred_at, to_status, note)
    VALUES (v_pa.prior_authorization_id, v_member_id, p_received_at, 'received', p_urgency || ' request');
    RETURN claims.pa_json(v_pa);
END;
$$;
COMMENT ON FUNCTION api.pa_submit(text, text, text, text, text, timestamptz) IS
'Submits a prior authorization request for a member and product (its drug group is the scope): status received, decision due 72 hours (standard) or 24 hours (expedited) after p_received_at. Returns the PA as JSON with its number.';

CREATE OR REPLACE FUNCTION api.pa_request_information(p_pa_number text, p_note text, p_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
RETURN claims.pa_json(claims.pa_transition(p_pa_number, 'pended_info', ARRAY['received', 'in_review'], p_at, p_note));
COMMENT ON FUNCTION api.pa_request_information(text, text, timestamptz) IS
'Asks the prescriber for more information: received or in_review -> pended_info.';

CREATE OR REPLACE FUNCTION api.pa_information_received(p_pa_number text, p_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
RETURN claims.pa_json(claims.pa_transition(
    p_pa_number, 'in_review', ARRAY['pended_info', 'received'], p_at, 'information received'
));
COMMENT ON FUNCTION api.pa_information_received(text, timestamptz) IS 'The requested information arrived: pended_info -> in_review.';

CREATE OR REPLACE FUNCTION api.pa_approve(
    p_pa_number text,
    p_effective_date date,
    p_expiration_date date,
    p_approved_quantity numeric DEFAULT NULL,
    p_at timestamptz DEFAULT now(),
    p_partial boolean DEFAULT FALSE
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_pa claims.prior_authorizations;
BEGIN
    IF p_effective_date IS NULL OR p_expiration_date IS NULL OR p_expiration_date < p_effective_date THEN
        RAISE EXCEPTION 'an approval needs an effective date and an expiration date on or after it'
            USING ERRCODE = '22023';
    END IF;
    v_pa := claims.pa_transition(
        p_pa_number, CASE WHEN p_partial THEN 'partially_approved' ELSE 'approved' END,
        ARRAY['received', 'in_review', 'pended_info'], p_at, 'approved', TRUE, p_effective_date, p_expiration_date,
        p_approved_quantity
    );
    RETURN claims.pa_json(v_pa);
END;
$$;
COMMENT ON FUNCTION api.pa_approve(text, date, date, numeric, timestamptz, boolean) IS
'Approves a pending prior authorization for claims dated p_effective_date..p_expiration_date (498-PS/PT), at most p_approved_quantity units per claim when given (more: reject 64).';

CREATE OR REPLACE FUNCTION api.pa_deny(p_pa_number text, p_reason text, p_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_pa claims.prior_authorizations;
BEGIN
    IF coalesce(btrim(p_reason), '') = '' THEN
        RAISE EXCEPTION 'a denial needs a reason' USING ERRCODE = '22023';
    END IF;
    v_pa := claims.pa_transition(
        p_pa_number, 'denied', ARRAY['received', 'in_review', 'pended_info'], p_at, p_reason, TRUE
    );
    RETURN claims.pa_json(v_pa);
END;
$$;
COMMENT ON FUNCTION api.pa_deny(text, text, timestamptz) IS 'Denies a pending prior authorization with a reason.';

CREATE OR REPLACE FUNCTION api.pa_withdraw(p_pa_number text, p_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
RETURN claims.pa_json(claims.pa_transition(
    p_pa_number, 'withdrawn', ARRAY['received', 'in_review', 'pended_info'], p_at, 'withdrawn by requester'
));
COMMENT ON FUNCTION api.pa_withdraw(text, timestamptz) IS 'The requester withdraws a pending prior authorization.';

CREATE OR REPLACE FUNCTION claims.expire_prior_authorizations(p_as_of date)
RETURNS int
LANGUAGE sql
BEGIN ATOMIC
    WITH expired AS (
        UPDATE claims.prior_authorizations AS a SET status = 'expired'
        WHERE a.status IN ('approved', 'partially_approved') AND a.expiration_date < p_as_of
        RETURNING a.prior_authorization_id, a.member_id
    ),

    events AS (
        INSERT INTO claims.prior_authorization_events (
            prior_authorization_id, member_id, occurred_at, from_status, to_status, note
        )
        SELECT
            e.prior_authorization_id,
            e.member_id,
            p_as_of::timestamptz AS occurred_at,
            'approved' AS from_status,
            'expired' AS to_status,
            'expiration date passed' AS note
        FROM expired AS e
        RETURNING 1
    )

    SELECT count(*)::int FROM events;
END;
COMMENT ON FUNCTION claims.expire_prior_authorizations(date) IS
'Marks every approved prior authorization whose expiration date is before p_as_of as expired (one statement); returns how many.';

CREATE OR REPLACE FUNCTION claims.overdue_prior_authorizations(p_as_of timestamptz)
RETURNS SETOF claims.prior_authorizations
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT a.* FROM claims.prior_authorizations AS a
    WHERE a.status IN ('received', 'pended_info', 'in_review') AND a.due_at < p_as_of
    ORDER BY a.due_at;
END;
COMMENT ON FUNCTION claims.overdue_prior_authorizations(timestamptz) IS
'Prior authorizations still undecided at p_as_of although their decision was due (72 h standard, 24 h expedited).';

CREATE OR REPLACE VIEW claims.prior_authorizations_overdue AS
SELECT
    a.pa_number,
    a.member_id,
    a.drug_group,
    a.urgency,
    a.status,
    a.received_at,
    a.due_at,
    now() - a.due_at AS overdue_by
FROM claims.overdue_prior_authorizations(now()) AS a;
COMMENT ON VIEW claims.prior_authorizations_overdue IS 'Undecided prior authorizations past their due time, now.';
