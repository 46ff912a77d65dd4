-- The M3P formula (SSA 1860D-2(b)(2)(E)(iv), 42 CFR 423.137(c)) as one pure function. Everything that
-- bills (ppp.run_billing) calls it; the pgTAP file 30_ppp_formula reproduces the reference examples.
-- The OFFSET 0 fences keep the inlined body from copying the cap's division into every output column:
-- each month's cap is computed once (measured: a third less CPU over a million rows).

CREATE OR REPLACE FUNCTION ppp._invalid_month_of_year(p_month_of_year integer)
RETURNS integer
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    RAISE EXCEPTION 'month_of_year must be 1 to 12 (got %)', coalesce(p_month_of_year::text, 'NULL')
        USING ERRCODE = '22023', HINT = 'January is 1 (12 months remaining), December is 12 (1 month remaining)';
END;
$$;
COMMENT ON FUNCTION ppp._invalid_month_of_year(integer) IS
'Raises 22023 for a month of year outside 1..12 (called by ppp._months_remaining only when the month is invalid).';

-- Plain SQL so that it inlines into ppp.monthly_bill and the billing run (a PL/pgSQL call per row would not).
CREATE OR REPLACE FUNCTION ppp._months_remaining(p_month_of_year integer)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN p_month_of_year BETWEEN 1 AND 12 THEN 13 - p_month_of_year
    ELSE ppp._invalid_month_of_year(p_month_of_year)
END;
COMMENT ON FUNCTION ppp._months_remaining(integer) IS
'Months remaining in the plan year, the given month included (January 12 ... December 1); raises 22023 outside 1..12.';

CREATE OR REPLACE FUNCTION ppp.monthly_bill(
    oop_threshold numeric,
    incurred_before_election numeric,
    balance_carried numeric,
    oop_this_month numeric,
    month_of_year integer,
    first_month boolean
)
RETURNS TABLE (max_monthly_cap numeric, amount_billed numeric, balance_after numeric)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT
        c.cap AS max_monthly_cap,
        c.billed AS amount_billed,
        c.owed - c.billed AS balance_after
    FROM (
        SELECT
            m.cap,
            m.owed,
            CASE WHEN m.is_first THEN greatest(least(m.owed, m.cap), 0) ELSE m.cap END AS billed
        FROM (
            SELECT
                a.is_first,
                a.balance + a.oop AS owed,
                CASE
                    WHEN a.is_first THEN round(greatest(a.threshold - a.incurred, 0) / a.months, 2)
                    ELSE greatest(round((a.balance + a.oop) / a.months, 2), 0)
                END AS cap
            FROM (
                SELECT
                    oop_threshold AS threshold,
                    incurred_before_election AS incurred,
                    balance_carried AS balance,
                    oop_this_month AS oop,
                    first_month AS is_first,
                    ppp._months_remaining(month_of_year) AS months
            ) AS a
            OFFSET 0  -- noqa: AM09
        ) AS m
        OFFSET 0  -- noqa: AM09
    ) AS c;
END;
COMMENT ON FUNCTION ppp.monthly_bill(numeric, numeric, numeric, numeric, integer, boolean) IS
'M3P maximum monthly cap and bill for one month. First month: cap = (oop_threshold - incurred_before_election) / months remaining (this month included), bill = lesser of cap and what is owed (balance_carried + oop_this_month). Later months: cap = (balance_carried + oop_this_month) / months remaining, bill = cap. Caps are rounded half-up to cents (round(numeric, 2)) and balance_after = owed - bill is the rounded balance to carry; December (1 month remaining) bills everything owed. A negative owed amount (reversals beyond what was unbilled) bills 0 and returns a negative balance_after: the credit due. Pure: IMMUTABLE.';
