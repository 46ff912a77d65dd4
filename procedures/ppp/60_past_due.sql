-- M3P past-due tracking: a statement not settled by its due date gets the notice for failure to make
-- payments and a grace period of two calendar months (starting the first day of the month after the due
-- date); still unpaid after it, the member's election is terminated (notice dated the day it takes
-- effect), and the plan may preclude the member from electing next year.

CREATE OR REPLACE FUNCTION ppp.process_past_due(p_as_of date)
RETURNS TABLE (notices_sent integer, terminated integer, precluded integer, elections_cancelled integer)
LANGUAGE plpgsql
AS $$
DECLARE
    v_notices integer;
    v_terminated integer;
    v_precluded integer;
    v_cancelled integer;
BEGIN
    IF p_as_of IS NULL THEN
        RAISE EXCEPTION 'process_past_due needs the as-of date' USING ERRCODE = '22023';
    END IF;

    UPDATE ppp.statements AS s
    SET
        past_due_notice_on = p_as_of,
        grace_period_ends_on = (date_trunc('month', s.due_date) + interval '3 months')::date - 1
    WHERE s.settled_on IS NULL AND s.due_date < p_as_of AND s.past_due_notice_on IS NULL;
    GET DIAGNOSTICS v_notices = ROW_COUNT;

    WITH overdue AS (
        -- members whose oldest unpaid statement is past its grace period
        SELECT DISTINCT ON (s.member_id)
            s.member_id,
            s.statement_id
        FROM ppp.statements AS s
        WHERE s.settled_on IS NULL AND s.grace_period_ends_on < p_as_of
        ORDER BY s.member_id, s.due_date, s.statement_id
    ),

    ended AS (
        -- the running participation ends the day before the termination takes effect
        UPDATE ppp.elections AS e
        SET
            status = 'terminated',
            termination_reason = 'failure_to_pay',
            end_date = p_as_of - 1,
            termination_notice_on = p_as_of,
            terminated_for_statement_id = o.statement_id,
            auto_renew = FALSE
        FROM overdue AS o
        WHERE
            e.member_id = o.member_id
            AND e.status = 'active'
            AND e.effective_date < p_as_of
            AND coalesce(e.end_date, make_date(e.plan_year, 12, 31)) >= p_as_of
        RETURNING e.election_id, e.member_id, e.plan_year, e.plan_id, o.statement_id
    ),

    precluded AS (
        INSERT INTO ppp.preclusions (member_id, plan_year, election_id, decided_on)
        SELECT
            t.member_id,
            t.plan_year + 1,
            t.election_id,
            p_as_of
        FROM ended AS t
        INNER JOIN ppp.plan_options AS po ON t.plan_id = po.plan_id
        WHERE po.preclude_after_termination
        ON CONFLICT (member_id, plan_year) DO NOTHING
        RETURNING member_id, plan_year, election_id
    ),

    cancelled AS (
        -- elections that have not started: automatic renewals, and any election of a precluded year
        DELETE FROM ppp.elections AS e
        USING ended AS t
        LEFT JOIN ppp.plan_options AS po ON t.plan_id = po.plan_id
        WHERE
            e.member_id = t.member_id
            AND e.effective_date >= p_as_of
            AND (
                e.source = 'renewal'
                OR (coalesce(po.preclude_after_termination, FALSE) AND e.plan_year = t.plan_year + 1)
            )
        RETURNING e.election_id, e.member_id, e.plan_year, e.source, e.effective_date
    ),

    events AS (
        INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
        SELECT
            t.member_id,
            t.election_id,
            t.plan_year,
            'terminated',
            p_as_of::timestamptz,
            jsonb_build_object('reason', 'failure_to_pay', 'end_date', p_as_of - 1, 'statement_id', t.statement_id)
        FROM ended AS t
        UNION ALL
        SELECT
            p.member_id,
            p.election_id,
            p.plan_year,
            'precluded',
            p_as_of::timestamptz,
            '{}'::jsonb
        FROM precluded AS p
        UNION ALL
        SELECT
            c.member_id,
            c.election_id,
            c.plan_year,
            'cancelled',
            p_as_of::timestamptz,
            jsonb_build_object('source', c.source, 'effective_date', c.effective_date, 'reason', 'failure_to_pay')
        FROM cancelled AS c
        RETURNING event_type
    )

    SELECT
        count(*) FILTER (WHERE ev.event_type = 'terminated'),
        count(*) FILTER (WHERE ev.event_type = 'precluded'),
        count(*) FILTER (WHERE ev.event_type = 'cancelled')
    INTO v_terminated, v_precluded, v_cancelled
    FROM events AS ev;

    RETURN QUERY SELECT v_notices, v_terminated, v_precluded, v_cancelled;
END;
$$;
COMMENT ON FUNCTION ppp.process_past_due(date) IS
'Past-due tracking as of p_as_of (run it daily, or at least with every billing run): statements unpaid after their due date get the past-due notice (dated p_as_of) and a grace period through the last day of the second calendar month after the due date''s month; members with a statement still unpaid after its grace period are terminated (end_date = p_as_of - 1, termination notice dated p_as_of), lose not-yet-started renewals and, if their plan chose so (ppp.plan_options), are precluded from the next plan year. The balance stays owed and billed. Returns the counts.';
