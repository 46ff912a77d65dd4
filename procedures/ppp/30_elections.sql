-- M3P elections: electing (phone, web, mail, urgent point of sale), opting out, automatic renewal.
-- Every date rule takes the explicit received/processed timestamps or an as-of date; dates of
-- timestamps are taken in the session's TimeZone.

CREATE OR REPLACE FUNCTION ppp._part_d_plan_on(p_member_id bigint, p_on date)
RETURNS bigint
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT cs.plan_id
    FROM (
        SELECT
            p_member_id AS member_id,
            p_on AS on_date
    ) AS arg
    INNER JOIN member.coverage_spans AS cs ON arg.member_id = cs.member_id
    INNER JOIN plan.plans AS p ON cs.plan_id = p.plan_id
    WHERE
        p.plan_type = 'medicare_part_d'
        AND cs.effective_date <= arg.on_date
        AND (cs.termination_date IS NULL OR cs.termination_date >= arg.on_date)
    ORDER BY cs.effective_date
    LIMIT 1;
END;
COMMENT ON FUNCTION ppp._part_d_plan_on(bigint, date) IS
'The Medicare Part D plan covering the member on the date (NULL: not a Part D enrollee that day).';

CREATE OR REPLACE FUNCTION ppp._move_claims_into_program(
    p_election_id bigint,
    p_member_id bigint,
    p_from date,
    p_to date,
    p_unpaid_claim_id bigint,
    p_as_of date
)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_moved jsonb;
BEGIN
    -- The claims' program amounts change, so the ledger triggers on claims.claims record them ('reprocessed').
    WITH moved AS (
        UPDATE claims.claims AS c
        SET m3p_amount = c.patient_pay_amount
        WHERE
            c.member_id = p_member_id
            AND c.date_of_service BETWEEN p_from AND p_to
            AND c.transaction_code = 'B1'
            AND c.transaction_response_status = 'P'
            AND c.reversed_by_claim_id IS NULL
            AND c.m3p_amount = 0
            AND c.patient_pay_amount > 0
        RETURNING c.claim_id, c.date_of_service, c.patient_pay_amount
    ),

    refunded AS (
        INSERT INTO ppp.refunds (member_id, reason, claim_id, amount, created_on)
        SELECT
            p_member_id,
            'retroactive_election',
            m.claim_id,
            m.patient_pay_amount,
            p_as_of
        FROM moved AS m
        WHERE m.claim_id IS DISTINCT FROM p_unpaid_claim_id
        RETURNING claim_id, amount
    ),

    -- (data-modifying CTEs run whether or not the query reads them)
    logged AS (
        INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
        SELECT
            p_member_id,
            p_election_id,
            extract(YEAR FROM m.date_of_service)::smallint,
            'claim_reprocessed',
            p_as_of::timestamptz,
            jsonb_build_object(
                'claim_id', m.claim_id, 'date_of_service', m.date_of_service, 'm3p_amount', m.patient_pay_amount,
                'refunded', m.claim_id IS DISTINCT FROM p_unpaid_claim_id
            )
        FROM moved AS m
        RETURNING 1
    )

    SELECT coalesce(jsonb_agg(
        jsonb_build_object(
            'claim_id', m.claim_id,
            'date_of_service', m.date_of_service,
            'm3p_amount', m.patient_pay_amount,
            'pharmacy_collects', 0,
            'refund', r.amount
        ) ORDER BY m.date_of_service, m.claim_id
    ), '[]'::jsonb)
    INTO v_moved
    FROM moved AS m
    LEFT JOIN refunded AS r ON m.claim_id = r.claim_id;
    RETURN v_moved;
END;
$$;
COMMENT ON FUNCTION ppp._move_claims_into_program(bigint, bigint, date, date, bigint, date) IS
'Re-processes the member''s paid claims with a date of service in p_from..p_to under M3P (m3p_amount = patient pay, so the pharmacy collects $0); what the member already paid at the pharmacy is refunded, except for p_unpaid_claim_id (the urgent point-of-sale claim not yet picked up). Returns the claims moved.';

CREATE OR REPLACE FUNCTION ppp.elect(
    p_member_id bigint,
    p_source text,
    p_received_at timestamptz,
    p_plan_year integer DEFAULT NULL,
    p_processed_at timestamptz DEFAULT NULL,
    p_claim_id bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_processed timestamptz := coalesce(p_processed_at, p_received_at);
    v_received_year integer := extract(YEAR FROM p_received_at)::integer;
    v_plan_year integer;
    v_effective date;
    v_claim_member bigint;
    v_claim_dos date;
    v_claim_received timestamptz;
    v_claim_paid boolean;
    v_claim_m3p numeric;
    v_existing bigint;
    v_previous_end date;
    v_plan_id bigint;
    v_election_id bigint;
    v_moved jsonb;
BEGIN
    IF p_member_id IS NULL OR p_source IS NULL OR p_received_at IS NULL THEN
        RAISE EXCEPTION 'an M3P election needs the member, the source and when it was received'
            USING ERRCODE = '22023';
    END IF;
    IF p_source NOT IN ('phone', 'web', 'mail', 'point_of_sale') THEN
        RAISE EXCEPTION 'unknown M3P election source "%"', p_source
            USING ERRCODE = '22023',
                HINT = 'phone, web, mail or point_of_sale (renewals are made by ppp.renew_elections)';
    END IF;
    IF v_processed < p_received_at THEN
        RAISE EXCEPTION 'election of member % processed (%) before it was received (%)',
            p_member_id, v_processed, p_received_at
            USING ERRCODE = '22023';
    END IF;
    PERFORM 1 FROM member.members AS m WHERE m.member_id = p_member_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'member % not found', p_member_id USING ERRCODE = 'P0002';
    END IF;

    IF p_source = 'point_of_sale' THEN
        -- Urgent election at the pharmacy: within 72 hours of the adjudication of a claim, which is then
        -- re-processed under the program (participation starts on its date of service).
        IF p_claim_id IS NULL THEN
            RAISE EXCEPTION 'a point-of-sale election of member % needs the claim it is made for', p_member_id
                USING ERRCODE = '22023', HINT = 'pass p_claim_id: a paid claim adjudicated at most 72 hours before';
        END IF;
        SELECT
            c.member_id,
            c.date_of_service,
            c.received_at,
            c.transaction_code = 'B1' AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL,
            c.m3p_amount
        INTO v_claim_member, v_claim_dos, v_claim_received, v_claim_paid, v_claim_m3p
        FROM claims.claims AS c
        WHERE c.claim_id = p_claim_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'claim % not found', p_claim_id USING ERRCODE = 'P0002';
        END IF;
        IF v_claim_member IS DISTINCT FROM p_member_id THEN
            RAISE EXCEPTION 'claim % is not a claim of member %', p_claim_id, p_member_id USING ERRCODE = '22023';
        END IF;
        IF NOT v_claim_paid THEN
            RAISE EXCEPTION 'claim % is not a paid, unreversed claim', p_claim_id USING ERRCODE = '22023';
        END IF;
        IF v_claim_m3p > 0 THEN
            RAISE EXCEPTION 'claim % is already paid under M3P', p_claim_id USING ERRCODE = '22023';
        END IF;
        IF p_received_at < v_claim_received OR p_received_at > v_claim_received + interval '72 hours' THEN
            RAISE EXCEPTION 'urgent election for claim % received at %, not within 72 hours of its adjudication (%)',
                p_claim_id, p_received_at, v_claim_received
                USING ERRCODE = '22023',
                    HINT = 'an election made later is a standard election (source phone, web or mail)';
        END IF;
        v_plan_year := coalesce(p_plan_year, extract(YEAR FROM v_claim_dos)::integer);
        IF v_plan_year <> extract(YEAR FROM v_claim_dos) THEN
            RAISE EXCEPTION 'claim % is in plan year %, not %', p_claim_id, extract(YEAR FROM v_claim_dos), v_plan_year
                USING ERRCODE = '22023';
        END IF;
        v_effective := v_claim_dos;
    ELSE
        IF p_claim_id IS NOT NULL THEN
            RAISE EXCEPTION 'only a point-of-sale election names a claim (source %)', p_source USING ERRCODE = '22023';
        END IF;
        v_plan_year := coalesce(p_plan_year, v_received_year);
        IF v_plan_year = v_received_year + 1 THEN
            v_effective := make_date(v_plan_year, 1, 1);  -- received before the plan year
        ELSIF v_plan_year = v_received_year THEN
            -- Effective when processed, at the latest 24 hours after receipt (retroactively if processed later).
            v_effective := least(v_processed, p_received_at + interval '24 hours')::date;
        ELSE
            RAISE EXCEPTION 'an election received on % cannot be for plan year %', p_received_at::date, v_plan_year
                USING ERRCODE = '22023',
                    HINT = 'elect during the plan year, or before it (then it takes effect on January 1)';
        END IF;
    END IF;
    IF v_plan_year < 2025 THEN
        RAISE EXCEPTION 'M3P starts with plan year 2025 (got %)', v_plan_year USING ERRCODE = '22023';
    END IF;

    SELECT e.election_id INTO v_existing
    FROM ppp.elections AS e
    WHERE e.member_id = p_member_id AND e.plan_year = v_plan_year AND e.status = 'active';
    IF FOUND THEN
        RAISE EXCEPTION 'member % already has an active M3P election for % (election %)',
            p_member_id, v_plan_year, v_existing
            USING ERRCODE = '23505', HINT = 'one active election per member and plan year';
    END IF;
    IF EXISTS (
        SELECT 1 FROM ppp.preclusions AS p
        WHERE p.member_id = p_member_id AND p.plan_year = v_plan_year
    ) THEN
        RAISE EXCEPTION 'member % is precluded from M3P in % (terminated for failure to pay)', p_member_id, v_plan_year
            USING ERRCODE = 'P0001';
    END IF;
    IF EXISTS (
        SELECT 1 FROM ppp.elections AS e
        WHERE e.member_id = p_member_id AND e.plan_year = v_plan_year AND e.status = 'terminated'
    ) AND EXISTS (
        SELECT 1 FROM ppp.statements AS s
        WHERE s.member_id = p_member_id AND s.settled_on IS NULL AND s.due_date < p_received_at::date
    ) THEN
        RAISE EXCEPTION 'member % was terminated from M3P in % for failure to pay and still has past-due statements',
            p_member_id, v_plan_year
            USING ERRCODE = 'P0001', HINT = 'the past-due amount must be paid before electing again this year';
    END IF;

    -- A new participation period starts after the ones already used this plan year.
    SELECT max(coalesce(e.end_date, make_date(e.plan_year, 12, 31))) INTO v_previous_end
    FROM ppp.elections AS e
    WHERE e.member_id = p_member_id AND e.plan_year = v_plan_year;
    IF v_previous_end >= v_effective THEN
        IF p_source = 'point_of_sale' THEN
            RAISE EXCEPTION 'claim % (date of service %) falls in an earlier participation period of member % (ended %)',
                p_claim_id, v_claim_dos, p_member_id, v_previous_end
                USING ERRCODE = '22023';
        END IF;
        v_effective := v_previous_end + 1;
    END IF;
    IF extract(YEAR FROM v_effective) <> v_plan_year THEN
        RAISE EXCEPTION 'no day of plan year % is left for a new election of member %', v_plan_year, p_member_id
            USING ERRCODE = '22023';
    END IF;

    v_plan_id := ppp._part_d_plan_on(p_member_id, v_effective);
    IF v_plan_id IS NULL THEN
        RAISE EXCEPTION 'member % has no Medicare Part D coverage on %', p_member_id, v_effective
            USING ERRCODE = 'P0001', HINT = 'M3P is offered to Part D enrollees only';
    END IF;

    INSERT INTO ppp.elections (
        member_id, plan_year, source, received_at, processed_at, effective_date, plan_id, acceptance_notice_on,
        urgent_claim_id
    )
    VALUES (
        p_member_id, v_plan_year, p_source, p_received_at, v_processed, v_effective, v_plan_id, v_processed::date,
        p_claim_id
    )
    RETURNING election_id INTO v_election_id;
    INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
    VALUES (
        p_member_id, v_election_id, v_plan_year, 'elected', v_processed,
        jsonb_build_object('source', p_source, 'received_at', p_received_at, 'effective_date', v_effective)
    );

    -- Claims already adjudicated inside the new participation period (the urgent claim, or the gap of an
    -- election processed late) are re-processed under the program.
    v_moved := ppp._move_claims_into_program(
        v_election_id, p_member_id, v_effective, v_processed::date, p_claim_id, v_processed::date
    );

    RETURN jsonb_build_object(
        'election_id', v_election_id,
        'member_id', p_member_id,
        'plan_year', v_plan_year,
        'source', p_source,
        'status', 'active',
        'effective_date', v_effective,
        'plan_id', v_plan_id,
        'reprocessed_claims', v_moved
    );
END;
$$;
COMMENT ON FUNCTION ppp.elect(bigint, text, timestamptz, integer, timestamptz, bigint) IS
'Records an M3P election (see api.ppp_elect).';

CREATE OR REPLACE FUNCTION ppp.opt_out(p_member_id bigint, p_received_at timestamptz, p_plan_year integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_received date := p_received_at::date;
    v_plan_year integer := coalesce(p_plan_year, extract(YEAR FROM p_received_at)::integer);
    v_election ppp.elections%ROWTYPE;
    v_cancelled integer;
BEGIN
    IF p_member_id IS NULL OR p_received_at IS NULL THEN
        RAISE EXCEPTION 'an opt-out needs the member and when it was received' USING ERRCODE = '22023';
    END IF;
    PERFORM 1 FROM member.members AS m WHERE m.member_id = p_member_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'member % not found', p_member_id USING ERRCODE = 'P0002';
    END IF;
    SELECT e.* INTO v_election
    FROM ppp.elections AS e
    WHERE e.member_id = p_member_id AND e.plan_year = v_plan_year AND e.status = 'active';

    IF NOT FOUND THEN
        -- Declining next year's automatic renewal before it was made.
        IF v_plan_year > extract(YEAR FROM p_received_at) THEN
            UPDATE ppp.elections AS e SET auto_renew = FALSE
            WHERE
                e.member_id = p_member_id AND e.plan_year = v_plan_year - 1 AND e.status = 'active'
                AND e.auto_renew
            RETURNING e.* INTO v_election;
            IF FOUND THEN
                INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at)
                VALUES (p_member_id, v_election.election_id, v_plan_year, 'renewal_declined', p_received_at);
                RETURN jsonb_build_object(
                    'member_id', p_member_id, 'plan_year', v_plan_year, 'status', 'renewal_declined',
                    'election_id', v_election.election_id
                );
            END IF;
        END IF;
        RAISE EXCEPTION 'member % has no active M3P election for %', p_member_id, v_plan_year USING ERRCODE = 'P0002';
    END IF;

    IF v_election.effective_date > v_received THEN
        -- Not started yet: the election is cancelled (deleted; the event keeps its trace).
        DELETE FROM ppp.elections AS e WHERE e.election_id = v_election.election_id;
        INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
        VALUES (
            p_member_id, v_election.election_id, v_plan_year, 'cancelled', p_received_at,
            jsonb_build_object(
                'source', v_election.source, 'effective_date', v_election.effective_date, 'reason', 'opt_out'
            )
        );
        RETURN jsonb_build_object(
            'member_id', p_member_id, 'plan_year', v_plan_year, 'status', 'cancelled',
            'election_id', v_election.election_id
        );
    END IF;
    IF coalesce(v_election.end_date, make_date(v_plan_year, 12, 31)) < v_received THEN
        RAISE EXCEPTION 'the % participation of member % already ended on %', v_plan_year, p_member_id,
            coalesce(v_election.end_date, make_date(v_plan_year, 12, 31))
            USING ERRCODE = '22023';
    END IF;

    -- Participation ends with the day the request arrived: normal cost sharing at the pharmacy from the next day.
    UPDATE ppp.elections AS e
    SET
        status = 'opted_out',
        termination_reason = 'voluntary',
        end_date = v_received,
        termination_requested_at = p_received_at,
        termination_notice_on = v_received,
        auto_renew = FALSE
    WHERE e.election_id = v_election.election_id;
    INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
    VALUES (
        p_member_id, v_election.election_id, v_plan_year, 'opted_out', p_received_at,
        jsonb_build_object('end_date', v_received)
    );

    -- A renewal of this election into the next year that has not started is cancelled with it.
    WITH gone AS (
        DELETE FROM ppp.elections AS e
        WHERE e.renewed_from_election_id = v_election.election_id AND e.effective_date > v_received
        RETURNING e.member_id, e.election_id, e.plan_year, e.effective_date
    )

    INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
    SELECT
        g.member_id,
        g.election_id,
        g.plan_year,
        'cancelled',
        p_received_at,
        jsonb_build_object('source', 'renewal', 'effective_date', g.effective_date, 'reason', 'opt_out')
    FROM gone AS g;
    GET DIAGNOSTICS v_cancelled = ROW_COUNT;

    RETURN jsonb_build_object(
        'member_id', p_member_id,
        'plan_year', v_plan_year,
        'status', 'opted_out',
        'election_id', v_election.election_id,
        'end_date', v_received,
        'renewals_cancelled', v_cancelled,
        'still_owed', ppp.amount_owed(p_member_id)
    );
END;
$$;
COMMENT ON FUNCTION ppp.opt_out(bigint, timestamptz, integer) IS 'Ends an M3P participation at the member''s request (see api.ppp_opt_out).';

CREATE OR REPLACE FUNCTION ppp.renew_elections(p_plan_year integer, p_as_of date)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_renewed integer;
    v_effective date := greatest(make_date(p_plan_year, 1, 1), p_as_of);
BEGIN
    IF p_plan_year IS NULL OR p_as_of IS NULL THEN
        RAISE EXCEPTION 'renew_elections needs the plan year and the as-of date' USING ERRCODE = '22023';
    END IF;
    IF p_plan_year < 2026 THEN
        RAISE EXCEPTION 'automatic M3P renewal starts with plan year 2026 (got %)', p_plan_year
            USING ERRCODE = '22023', HINT = '2025 participants renew into 2026; every later year renews into the next';
    END IF;
    IF p_as_of > make_date(p_plan_year, 12, 31) OR p_as_of < make_date(p_plan_year - 1, 1, 1) THEN
        RAISE EXCEPTION 'renewal into % cannot be run on %', p_plan_year, p_as_of
            USING ERRCODE = '22023', HINT = 'run it after the annual election period, before January 1';
    END IF;

    WITH renewable AS (
        SELECT
            e.election_id,
            e.member_id,
            e.plan_id AS previous_plan_id,
            ppp._part_d_plan_on(e.member_id, v_effective) AS plan_id
        FROM ppp.elections AS e
        WHERE
            e.plan_year = p_plan_year - 1
            AND e.status = 'active'
            AND e.end_date IS NULL
            AND e.auto_renew
            AND NOT EXISTS (
                SELECT 1 FROM ppp.elections AS n
                WHERE n.member_id = e.member_id AND n.plan_year = p_plan_year
            )
            AND NOT EXISTS (
                SELECT 1 FROM ppp.preclusions AS p
                WHERE p.member_id = e.member_id AND p.plan_year = p_plan_year
            )
    ),

    renewed AS (
        INSERT INTO ppp.elections (
            member_id, plan_year, source, received_at, processed_at, effective_date, plan_id,
            renewed_from_election_id, renewal_notice_on
        )
        SELECT
            r.member_id,
            p_plan_year,
            'renewal',
            p_as_of::timestamptz,
            p_as_of::timestamptz,
            v_effective,
            r.plan_id,
            r.election_id,
            p_as_of
        FROM renewable AS r
        -- still in the same Part D plan (switching plans ends participation)
        WHERE r.plan_id IS NOT NULL AND (r.previous_plan_id IS NULL OR r.plan_id = r.previous_plan_id)
        RETURNING election_id, member_id, renewed_from_election_id
    )

    INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
    SELECT
        r.member_id,
        r.election_id,
        p_plan_year,
        'renewed',
        p_as_of::timestamptz,
        jsonb_build_object('renewed_from_election_id', r.renewed_from_election_id, 'effective_date', v_effective)
    FROM renewed AS r;
    GET DIAGNOSTICS v_renewed = ROW_COUNT;
    RETURN v_renewed;
END;
$$;
COMMENT ON FUNCTION ppp.renew_elections(integer, date) IS
'Automatic renewal (plan years 2026 on): every member participating through December 31 of the previous year, who did not decline renewal, is not precluded, has no election for p_plan_year yet and is still in the same Part D plan gets an election effective January 1 (or p_as_of when run late), renewal notice dated p_as_of. Returns how many were renewed. Run after the annual election period, before January 1.';

-- ---------------------------------------------------------------------------------------------------
-- api
-- ---------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION api.ppp_elect(
    p_member_id bigint,
    p_source text,
    p_received_at timestamptz,
    p_plan_year integer DEFAULT NULL,
    p_processed_at timestamptz DEFAULT NULL,
    p_claim_id bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
RETURN ppp.elect(p_member_id, p_source, p_received_at, p_plan_year, p_processed_at, p_claim_id);
COMMENT ON FUNCTION api.ppp_elect(bigint, text, timestamptz, integer, timestamptz, bigint) IS
'Elect the Medicare Prescription Payment Plan (M3P). Takes the member, the source (phone, web, mail, point_of_sale), when the request was received, optionally the plan year (default: the year received; the next year for an election made before the plan year), when it was processed (default: on receipt) and, for an urgent point-of-sale election, the claim adjudicated at most 72 hours earlier. Effective date: January 1 when received before the plan year; else the processing date, at the latest 24 hours after receipt (retroactive when processed later); for point of sale the claim''s date of service. Refuses a second active election for the year (23505), a precluded member or a member without Part D coverage (P0001), bad input (22023). Claims already adjudicated inside the new participation period are re-processed under the program (the pharmacy collects $0; what the member paid for them is refunded, except for the urgent claim). Returns jsonb: election_id, effective_date, plan_id, reprocessed_claims.';

CREATE OR REPLACE FUNCTION api.ppp_opt_out(
    p_member_id bigint, p_received_at timestamptz, p_plan_year integer DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
RETURN ppp.opt_out(p_member_id, p_received_at, p_plan_year);
COMMENT ON FUNCTION api.ppp_opt_out(bigint, timestamptz, integer) IS
'Opt out of M3P. Takes the member, when the request was received and optionally the plan year (default: the year received). A running participation ends on the day received (status opted_out; normal cost sharing at the pharmacy from the next day; the balance is still owed and billed monthly); an election that has not started is cancelled; for the next plan year before its renewal exists, the renewal is declined. Returns jsonb with the status (opted_out, cancelled, renewal_declined), end_date and still_owed. No active election: P0002.';
