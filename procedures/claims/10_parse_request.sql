-- Real-time requests arrive as JSON with NCPDP field names in snake_case. A missing or malformed
-- value becomes NULL, so the syntax edit answers it with its M/I reject code instead of an SQL error.

-- The helpers are single expressions (no subquery, no exception block) so the planner inlines them into
-- claims.parse_request and that into its caller: a non-inlined SQL function is parsed and planned again in
-- every transaction, which was most of the cost of a real-time claim.

CREATE OR REPLACE FUNCTION claims.json_text(p_request jsonb, p_key text, p_max_length int)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN length(btrim(p_request ->> p_key)) BETWEEN 1 AND p_max_length THEN btrim(p_request ->> p_key)
END;
COMMENT ON FUNCTION claims.json_text(jsonb, text, int) IS
'The trimmed text of p_request->p_key, NULL when missing, empty or longer than p_max_length.';

CREATE OR REPLACE FUNCTION claims.date_of_digits(p_digits text)
RETURNS date
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
AS $$
DECLARE
    v_year int := substr(p_digits, 1, 4)::int;
    v_month int := substr(p_digits, 5, 2)::int;
    v_day int := substr(p_digits, 7, 2)::int;
BEGIN
    -- Checked instead of caught: an exception block would cost a subtransaction per date.
    IF v_year < 1 OR v_month NOT BETWEEN 1 AND 12 OR v_day < 1
        OR v_day > extract(DAY FROM make_date(v_year, v_month, 1) + interval '1 month - 1 day') THEN
        RETURN NULL;
    END IF;
    RETURN make_date(v_year, v_month, v_day);
END;
$$;
COMMENT ON FUNCTION claims.date_of_digits(text) IS
'The date written as 8 digits CCYYMMDD, NULL when there is no such day (20250230, month 13, year 0000).';

CREATE OR REPLACE FUNCTION claims.json_date(p_request jsonb, p_key text)
RETURNS date
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN btrim(p_request ->> p_key) ~ '^[0-9]{4}-?[0-9]{2}-?[0-9]{2}$'
        THEN claims.date_of_digits(replace(btrim(p_request ->> p_key), '-', ''))
END;
COMMENT ON FUNCTION claims.json_date(jsonb, text) IS
'The date in p_request->p_key (CCYYMMDD as on the wire, or CCYY-MM-DD), NULL when missing or not a real date.';

CREATE OR REPLACE FUNCTION claims.json_numeric(p_request jsonb, p_key text, p_scale int)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN
        btrim(p_request ->> p_key) ~ '^-?[0-9]{1,9}(\.[0-9]+)?$'
        AND coalesce(length(substring(btrim(p_request ->> p_key) FROM '\.([0-9]+)$')), 0) <= p_scale
        THEN btrim(p_request ->> p_key)::numeric
END;
COMMENT ON FUNCTION claims.json_numeric(jsonb, text, int) IS
'The number in p_request->p_key with at most p_scale decimals (money 2, quantity 3), NULL otherwise.';

CREATE OR REPLACE FUNCTION claims.json_smallint(p_request jsonb, p_key text)
RETURNS smallint
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE WHEN btrim(p_request ->> p_key) ~ '^-?[0-9]{1,4}$' THEN btrim(p_request ->> p_key)::smallint END;
COMMENT ON FUNCTION claims.json_smallint(jsonb, text) IS 'The whole number in p_request->p_key, NULL when missing or not a whole number.';

CREATE OR REPLACE FUNCTION claims.parse_request(p_request jsonb)
RETURNS claims.claim_request
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN row(
    claims.json_text(p_request, 'bin', 8),
    claims.json_text(p_request, 'pcn', 10),
    claims.json_text(p_request, 'group_id', 15),
    upper(claims.json_text(p_request, 'cardholder_id', 20)),
    claims.json_text(p_request, 'person_code', 3),
    claims.json_date(p_request, 'patient_date_of_birth'),
    claims.json_smallint(p_request, 'patient_gender_code'),
    claims.json_date(p_request, 'date_of_service'),
    claims.json_text(p_request, 'service_provider_id', 15),
    claims.json_text(p_request, 'prescriber_id', 15),
    claims.json_text(p_request, 'product_id', 19),
    claims.json_numeric(p_request, 'quantity_dispensed', 3),
    claims.json_smallint(p_request, 'days_supply'),
    claims.json_smallint(p_request, 'fill_number'),
    claims.json_smallint(p_request, 'daw_code'),
    claims.json_text(p_request, 'rx_number', 12),
    claims.json_date(p_request, 'date_prescription_written'),
    claims.json_smallint(p_request, 'submission_clarification_code'),
    claims.json_text(p_request, 'prior_authorization_number_submitted', 11),
    claims.json_numeric(p_request, 'ingredient_cost_submitted', 2),
    claims.json_numeric(p_request, 'dispensing_fee_submitted', 2),
    claims.json_numeric(p_request, 'usual_and_customary_charge', 2),
    claims.json_numeric(p_request, 'gross_amount_due', 2)
)::claims.claim_request;
COMMENT ON FUNCTION claims.parse_request(jsonb) IS
'A JSON claim request (NCPDP field names in snake_case) as a typed claims.claim_request; malformed values become NULL.';
