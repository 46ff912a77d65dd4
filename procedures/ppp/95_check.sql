-- M3P consistency check: every balance and link the billing keeps without a per-row constraint is
-- recomputed from the ledger, the allocations and the statement chain. No row = consistent.

CREATE OR REPLACE FUNCTION ppp.check()
RETURNS TABLE (problem text, key_id bigint, detail text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH ledger_totals AS (
        SELECT
            l.member_id,
            l.plan_year,
            sum(l.amount) AS amount
        FROM ppp.ledger AS l
        GROUP BY l.member_id, l.plan_year
    ),

    billed_totals AS (
        SELECT
            s.member_id,
            s.plan_year,
            sum(s.oop_this_month) AS amount
        FROM ppp.statements AS s
        GROUP BY s.member_id, s.plan_year
    ),

    unbilled_totals AS (
        SELECT
            u.member_id,
            u.plan_year,
            sum(u.amount) AS amount
        FROM ppp.unbilled AS u
        GROUP BY u.member_id, u.plan_year
    ),

    reconciled AS (
        SELECT
            coalesce(l.member_id, b.member_id, u.member_id) AS member_id,
            coalesce(l.plan_year, b.plan_year, u.plan_year) AS plan_year,
            coalesce(l.amount, 0) AS ledger,
            coalesce(b.amount, 0) AS billed,
            coalesce(u.amount, 0) AS unbilled
        FROM ledger_totals AS l
        FULL JOIN billed_totals AS b ON l.member_id = b.member_id AND l.plan_year = b.plan_year
        FULL JOIN unbilled_totals AS u
            ON coalesce(l.member_id, b.member_id) = u.member_id AND coalesce(l.plan_year, b.plan_year) = u.plan_year
    ),

    settled AS (
        SELECT
            a.statement_id,
            sum(a.amount) AS amount
        FROM ppp.payment_allocations AS a
        GROUP BY a.statement_id
    ),

    applied AS (
        SELECT
            a.payment_id,
            sum(a.amount) AS amount
        FROM ppp.payment_allocations AS a
        GROUP BY a.payment_id
    ),

    refunded AS (
        SELECT
            r.payment_id,
            sum(r.amount) AS amount
        FROM ppp.refunds AS r
        WHERE r.payment_id IS NOT NULL
        GROUP BY r.payment_id
    ),

    chain AS (
        SELECT
            s.statement_id,
            s.balance_before,
            lag(s.balance_after) OVER (
                PARTITION BY s.member_id, s.plan_year ORDER BY s.billing_month
            ) AS previous_balance_after
        FROM ppp.statements AS s
    )

    SELECT
        'program costs of a member and year: ledger <> billed on statements + unbilled' AS problem,
        r.member_id AS key_id,
        format('plan year %s: ledger %s, billed %s, unbilled %s', r.plan_year, r.ledger, r.billed, r.unbilled) AS detail
    FROM reconciled AS r
    WHERE r.ledger <> r.billed + r.unbilled
    UNION ALL
    SELECT
        'unbilled entry that is not in the ledger' AS problem,
        u.ledger_entry_id AS key_id,
        format('member %s, amount %s', u.member_id, u.amount) AS detail
    FROM ppp.unbilled AS u
    WHERE
        NOT EXISTS (
            SELECT 1 FROM ppp.ledger AS l
            WHERE
                l.ledger_entry_id = u.ledger_entry_id AND l.member_id = u.member_id AND l.plan_year = u.plan_year
                AND l.service_date = u.service_date AND l.amount = u.amount
        )
    UNION ALL
    SELECT
        'statement of an unknown member or billing run' AS problem,
        s.statement_id AS key_id,
        format('member_id %s, run_id %s', s.member_id, s.run_id) AS detail
    FROM ppp.statements AS s
    WHERE
        NOT EXISTS (
            SELECT 1 FROM member.members AS m
            WHERE m.member_id = s.member_id
        )
        OR NOT EXISTS (
            SELECT 1 FROM ppp.billing_runs AS b
            WHERE b.run_id = s.run_id
        )
    UNION ALL
    SELECT
        'statement balance does not continue the previous statement' AS problem,
        c.statement_id AS key_id,
        format('balance_before %s, previous balance_after %s', c.balance_before, c.previous_balance_after) AS detail
    FROM chain AS c
    WHERE c.previous_balance_after IS NOT NULL AND c.balance_before <> c.previous_balance_after
    UNION ALL
    SELECT
        'statement settled amount differs from its allocations' AS problem,
        s.statement_id AS key_id,
        format('amount_settled %s, allocations %s', s.amount_settled, coalesce(a.amount, 0)) AS detail
    FROM ppp.statements AS s
    LEFT JOIN settled AS a ON s.statement_id = a.statement_id
    WHERE s.amount_settled <> coalesce(a.amount, 0)
    UNION ALL
    SELECT
        'payment applied or refunded amount differs from its allocations and refunds' AS problem,
        p.payment_id AS key_id,
        format(
            'amount %s, applied %s / allocations %s, refunded %s / refunds %s',
            p.amount, p.applied_amount, coalesce(a.amount, 0), p.refunded_amount, coalesce(r.amount, 0)
        ) AS detail
    FROM ppp.payments AS p
    LEFT JOIN applied AS a ON p.payment_id = a.payment_id
    LEFT JOIN refunded AS r ON p.payment_id = r.payment_id
    WHERE
        p.applied_amount <> coalesce(a.amount, 0)
        OR p.refunded_amount <> coalesce(r.amount, 0)
        OR p.applied_amount + p.refunded_amount <> p.amount;
END;
COMMENT ON FUNCTION ppp.check() IS
'M3P consistency: for every member and plan year the ledger = costs billed on statements + entries still unbilled, every unbilled entry is in the ledger, no statement of an unknown member or run, each statement''s balance_before = the previous statement''s balance_after, settled amounts = allocations, payments fully applied or refunded. Returns one row per problem (none = consistent).';
