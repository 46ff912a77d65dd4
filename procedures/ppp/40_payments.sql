-- M3P payments: money from members and reversal credits settle the oldest open statements first; what no
-- open statement needs is refunded. One set-based allocation serves both.

CREATE OR REPLACE FUNCTION ppp._apply_payments(p_payment_ids bigint[], p_as_of date)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    -- Lock the open statements of the members concerned, in key order (no deadlock between two runs).
    PERFORM 1
    FROM ppp.statements AS s
    WHERE
        s.settled_on IS NULL
        AND s.member_id IN (SELECT p.member_id FROM ppp.payments AS p WHERE p.payment_id = ANY(p_payment_ids))
    ORDER BY s.statement_id
    FOR UPDATE;

    -- Payments and open statements laid end to end per member (payments in order of arrival, statements
    -- oldest due first): each allocation is the overlap of a payment's interval with a statement's.
    WITH pay AS (
        SELECT
            p.payment_id,
            p.member_id,
            p.payment_type,
            p.amount - p.applied_amount - p.refunded_amount AS unapplied,
            sum(p.amount - p.applied_amount - p.refunded_amount)
                OVER (PARTITION BY p.member_id ORDER BY p.payment_id)
            - (p.amount - p.applied_amount - p.refunded_amount) AS starts_at
        FROM ppp.payments AS p
        WHERE p.payment_id = ANY(p_payment_ids) AND p.amount - p.applied_amount - p.refunded_amount > 0
    ),

    open_statements AS (
        SELECT
            s.statement_id,
            s.member_id,
            s.amount_billed - s.amount_settled AS open_amount,
            sum(s.amount_billed - s.amount_settled)
                OVER (PARTITION BY s.member_id ORDER BY s.due_date, s.billing_month, s.statement_id)
            - (s.amount_billed - s.amount_settled) AS starts_at
        FROM ppp.statements AS s
        WHERE s.settled_on IS NULL AND s.member_id IN (SELECT pay.member_id FROM pay)
    ),

    allocation AS (
        SELECT
            pay.payment_id,
            o.statement_id,
            pay.member_id,
            least(pay.starts_at + pay.unapplied, o.starts_at + o.open_amount)
            - greatest(pay.starts_at, o.starts_at) AS amount
        FROM pay
        INNER JOIN open_statements AS o ON pay.member_id = o.member_id
        WHERE least(pay.starts_at + pay.unapplied, o.starts_at + o.open_amount) > greatest(pay.starts_at, o.starts_at)
    ),

    allocated AS (
        INSERT INTO ppp.payment_allocations (payment_id, statement_id, member_id, amount, allocated_on)
        SELECT
            a.payment_id,
            a.statement_id,
            a.member_id,
            a.amount,
            p_as_of
        FROM allocation AS a
        RETURNING payment_id, statement_id, amount
    ),

    -- (data-modifying CTEs run whether or not the query reads them)
    settled AS (
        UPDATE ppp.statements AS s
        SET
            amount_settled = s.amount_settled + t.total,
            settled_on = CASE WHEN s.amount_settled + t.total = s.amount_billed THEN p_as_of END
        FROM (
            SELECT
                a.statement_id,
                sum(a.amount) AS total
            FROM allocated AS a
            GROUP BY a.statement_id
        ) AS t
        WHERE s.statement_id = t.statement_id
        RETURNING s.statement_id
    ),

    applied AS (
        UPDATE ppp.payments AS p
        SET
            applied_amount = p.applied_amount + coalesce(t.total, 0),
            refunded_amount = p.refunded_amount + pay.unapplied - coalesce(t.total, 0)
        FROM pay
        LEFT JOIN (
            SELECT
                a.payment_id,
                sum(a.amount) AS total
            FROM allocated AS a
            GROUP BY a.payment_id
        ) AS t ON pay.payment_id = t.payment_id
        WHERE p.payment_id = pay.payment_id
        RETURNING p.payment_id, p.member_id, p.payment_type, pay.unapplied - coalesce(t.total, 0) AS refund
    )

    INSERT INTO ppp.refunds (member_id, reason, payment_id, amount, created_on)
    SELECT
        a.member_id,
        CASE WHEN a.payment_type = 'payment' THEN 'overpayment' ELSE 'reversal' END,
        a.payment_id,
        a.refund,
        p_as_of
    FROM applied AS a
    WHERE a.refund > 0;
END;
$$;
COMMENT ON FUNCTION ppp._apply_payments(bigint[], date) IS
'Applies the unapplied part of the given payments and credits to their members'' open statements, oldest due first, in one set-based pass (allocations = overlaps of the payments'' and statements'' running intervals); the remainder is refunded (overpayment, reversal).';

CREATE OR REPLACE FUNCTION ppp.record_payment(
    p_member_id bigint,
    p_amount numeric,
    p_received_on date,
    p_method text DEFAULT 'other',
    p_reference text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_payment_id bigint;
    v_duplicate boolean := FALSE;
BEGIN
    IF p_member_id IS NULL OR p_amount IS NULL OR p_received_on IS NULL THEN
        RAISE EXCEPTION 'a payment needs the member, the amount and the date received' USING ERRCODE = '22023';
    END IF;
    IF p_amount <= 0 OR p_amount <> round(p_amount, 2) OR p_amount >= 1e10 THEN
        RAISE EXCEPTION 'payment amount % of member % is not a positive amount in cents', p_amount, p_member_id
            USING ERRCODE = '22023';
    END IF;
    IF p_method IS NULL OR p_method NOT IN ('ach', 'card', 'check', 'cash', 'other') THEN
        RAISE EXCEPTION 'unknown payment method "%"', p_method
            USING ERRCODE = '22023', HINT = 'ach, card, check, cash or other';
    END IF;
    PERFORM 1 FROM member.members AS m WHERE m.member_id = p_member_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'member % not found', p_member_id USING ERRCODE = 'P0002';
    END IF;

    IF p_reference IS NOT NULL THEN
        SELECT p.payment_id INTO v_payment_id
        FROM ppp.payments AS p
        WHERE p.member_id = p_member_id AND p.reference = p_reference;
        IF FOUND THEN
            IF (SELECT p.amount FROM ppp.payments AS p WHERE p.payment_id = v_payment_id) <> p_amount THEN
                RAISE EXCEPTION 'payment reference "%" of member % was already recorded with another amount',
                    p_reference, p_member_id
                    USING ERRCODE = '23505';
            END IF;
            v_duplicate := TRUE;
        END IF;
    END IF;
    IF NOT v_duplicate THEN
        INSERT INTO ppp.payments (member_id, payment_type, received_on, amount, method, reference)
        VALUES (p_member_id, 'payment', p_received_on, p_amount, p_method, p_reference)
        RETURNING payment_id INTO v_payment_id;
        PERFORM ppp._apply_payments(ARRAY[v_payment_id], p_received_on);
    END IF;

    RETURN (
        SELECT jsonb_build_object(
            'payment_id', p.payment_id,
            'member_id', p.member_id,
            'amount', p.amount,
            'received_on', p.received_on,
            'duplicate', v_duplicate,
            'applied', p.applied_amount,
            'refunded', p.refunded_amount,
            'allocations', coalesce((
                SELECT jsonb_agg(
                    jsonb_build_object(
                        'statement_id', a.statement_id,
                        'billing_month', to_char(s.billing_month, 'YYYY-MM'),
                        'amount', a.amount,
                        'statement_settled', s.settled_on IS NOT NULL
                    ) ORDER BY s.due_date, s.billing_month, s.statement_id
                )
                FROM ppp.payment_allocations AS a
                INNER JOIN ppp.statements AS s ON a.statement_id = s.statement_id
                WHERE a.payment_id = p.payment_id
            ), '[]'::jsonb),
            'still_owed', ppp.amount_owed(p.member_id)
        )
        FROM ppp.payments AS p
        WHERE p.payment_id = v_payment_id
    );
END;
$$;
COMMENT ON FUNCTION ppp.record_payment(bigint, numeric, date, text, text) IS 'Records a member''s M3P payment (see api.ppp_record_payment).';

CREATE OR REPLACE FUNCTION ppp.amount_owed(p_member_id bigint)
RETURNS numeric
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH arg AS (
        SELECT p_member_id AS member_id
    ),

    latest AS (
        -- the last statement of each plan year carries what is not billed yet
        SELECT DISTINCT ON (s.plan_year) s.balance_after
        FROM ppp.statements AS s
        INNER JOIN arg ON s.member_id = arg.member_id
        ORDER BY s.plan_year ASC, s.billing_month DESC
    ),

    unbilled AS (
        SELECT sum(latest.balance_after) AS unbilled FROM latest
    )

    SELECT coalesce(o.open_amount, 0) + coalesce(u.unbilled, 0) + coalesce(l.unposted, 0) AS amount_owed
    FROM arg
    LEFT JOIN LATERAL (
        SELECT sum(s.amount_billed - s.amount_settled) AS open_amount
        FROM ppp.statements AS s
        WHERE s.member_id = arg.member_id AND s.settled_on IS NULL
    ) AS o ON TRUE
    CROSS JOIN unbilled AS u
    LEFT JOIN LATERAL (
        SELECT sum(e.amount) AS unposted
        FROM ppp.unbilled AS e
        WHERE e.member_id = arg.member_id
    ) AS l ON TRUE;
END;
COMMENT ON FUNCTION ppp.amount_owed(bigint) IS
'Everything the member still owes the program: open statement amounts + balances not yet billed + program costs not yet on a statement (negative entries are reversals to credit).';

CREATE OR REPLACE FUNCTION api.ppp_record_payment(
    p_member_id bigint,
    p_amount numeric,
    p_received_on date,
    p_method text DEFAULT 'other',
    p_reference text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
RETURN ppp.record_payment(p_member_id, p_amount, p_received_on, p_method, p_reference);
COMMENT ON FUNCTION api.ppp_record_payment(bigint, numeric, date, text, text) IS
'Record an M3P payment. Takes the member, the amount (positive, in cents), the date received, the method (ach, card, check, cash, other) and the payer''s reference (a reference already recorded for the member returns that payment instead of recording it twice). The payment settles the oldest open statements first (by due date); whatever exceeds every open statement is recorded as a refund. Returns jsonb: payment_id, applied, refunded, allocations (statement_id, billing_month, amount, statement_settled), still_owed.';
