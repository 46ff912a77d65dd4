-- M3P consistency: the program ledger follows the claims (triggers on claims.claims write an entry for
-- every change of a claim's program amount), and the billing's own balances (ppp.check()).

CREATE OR REPLACE FUNCTION ops.check_m3p_ledger()
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH archived AS (
        SELECT y.plan_year FROM ops.archived_claim_years() AS y
    ),

    from_claims AS (
        SELECT
            c.member_id,
            extract(YEAR FROM c.date_of_service)::smallint AS plan_year,
            count(*) AS claims,
            sum(c.m3p_amount) AS amount
        FROM claims.claims AS c
        WHERE
            c.transaction_code = 'B1' AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL
            AND c.m3p_amount <> 0
        GROUP BY c.member_id, extract(YEAR FROM c.date_of_service)
    ),

    from_ledger AS (
        SELECT
            l.member_id,
            l.plan_year,
            sum(l.amount) AS amount
        FROM ppp.ledger AS l
        GROUP BY l.member_id, l.plan_year
    )

    SELECT
        'm3p_ledger_matches_claims' AS check_name,
        'error' AS severity,
        format('member %s, plan year %s', coalesce(l.member_id, c.member_id), coalesce(l.plan_year, c.plan_year))
            AS key,
        coalesce(l.member_id, c.member_id) AS member_id,
        coalesce(l.plan_year, c.plan_year) AS plan_year,
        format(
            'ppp.ledger: expected %s (M3P amounts of %s paid, not reversed claim(s)), actual %s',
            to_char(coalesce(c.amount, 0), 'FM999999999990.00'), coalesce(c.claims, 0),
            to_char(coalesce(l.amount, 0), 'FM999999999990.00')
        ) AS detail
    FROM from_ledger AS l
    FULL JOIN from_claims AS c ON l.member_id = c.member_id AND l.plan_year = c.plan_year
    WHERE
        coalesce(l.amount, 0) <> coalesce(c.amount, 0)
        AND coalesce(l.plan_year, c.plan_year) NOT IN (SELECT a.plan_year FROM archived AS a)
    ORDER BY member_id, plan_year;
END;
COMMENT ON FUNCTION ops.check_m3p_ledger() IS
'Consistency: for every member and plan year the M3P ledger (ppp.ledger) adds up to the program amounts (m3p_amount) of the paid, not reversed B1 claims. Plan years with archived claim months are skipped.';

-- PL/pgSQL: ppp.check() is created after this folder on a fresh database (procedures/ppp/ sorts later).
CREATE OR REPLACE FUNCTION ops.check_m3p_billing()
RETURNS TABLE (check_name text, severity text, key text, member_id bigint, plan_year smallint, detail text)
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    RETURN QUERY
    SELECT
        'm3p_billing_balances'::text,
        'error'::text,
        format(
            '%s %s',
            CASE
                WHEN p.problem LIKE 'program costs of a member%' THEN 'member'
                WHEN p.problem LIKE 'unbilled entry%' THEN 'ledger entry'
                WHEN p.problem LIKE 'statement%' THEN 'statement'
                WHEN p.problem LIKE 'payment%' THEN 'payment'
                ELSE 'id'
            END,
            p.key_id
        ),
        CASE WHEN p.problem LIKE 'program costs of a member%' THEN p.key_id END,
        NULL::smallint,
        p.problem || ': ' || p.detail
    FROM ppp.check() AS p
    ORDER BY p.problem, p.key_id;
END;
$$;
COMMENT ON FUNCTION ops.check_m3p_billing() IS
'Consistency: the M3P billing''s own check (ppp.check(): ledger = billed + unbilled per member and year, statement balance chain, settlements and payments against their allocations) as findings.';
