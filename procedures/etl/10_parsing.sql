-- Turning staged text into typed values without ever raising: each function returns NULL when the text
-- is not a valid value, so one set-based query can test every column of every line, and a value that
-- is present but converts to NULL is exactly the value to reject. All are single expressions, inlined
-- by the planner. Casts run only behind a pattern test that guarantees they succeed.

CREATE OR REPLACE FUNCTION etl.days_in_month(p_year integer, p_month integer)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN p_month = 2 THEN CASE WHEN (p_year % 4 = 0 AND p_year % 100 <> 0) OR p_year % 400 = 0 THEN 29 ELSE 28 END
    WHEN p_month IN (4, 6, 9, 11) THEN 30
    ELSE 31
END;
COMMENT ON FUNCTION etl.days_in_month(integer, integer) IS
'Days in a month of the Gregorian calendar (February: 29 in leap years).';

CREATE OR REPLACE FUNCTION etl.iso_date(p_text text)
RETURNS date
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN CASE
    WHEN p_text ~ '^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
        THEN CASE
            WHEN
                substr(p_text, 9, 2) <= '28'
                OR substr(p_text, 9, 2)::integer
                <= etl.days_in_month(substr(p_text, 1, 4)::integer, substr(p_text, 6, 2)::integer)
                THEN p_text::date
        END
END;
COMMENT ON FUNCTION etl.iso_date(text) IS
'The date of a YYYY-MM-DD text (years 1000-2999); NULL when it is not a calendar date: 2025-02-29 is NULL, 2024-02-29 a date.';

CREATE OR REPLACE FUNCTION etl.yyyymmdd_date(p_text text)
RETURNS date
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN CASE
    WHEN p_text ~ '^[0-9]{8}$'
        THEN etl.iso_date(substr(p_text, 1, 4) || '-' || substr(p_text, 5, 2) || '-' || substr(p_text, 7, 2))
END;
COMMENT ON FUNCTION etl.yyyymmdd_date(text) IS
'The date of a YYYYMMDD text (the CMS DE-SynPUF format); NULL when it is not a calendar date.';

CREATE OR REPLACE FUNCTION etl.iso_timestamptz(p_text text)
RETURNS timestamptz
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN CASE
    WHEN
        p_text
        ~ '^[12][0-9]{3}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$'  -- noqa: LT05
        AND etl.iso_date(substr(p_text, 1, 10)) IS NOT NULL
        THEN CASE
            WHEN p_text ~ '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN p_text::timestamptz
            ELSE p_text::timestamp AT TIME ZONE 'UTC'
        END
END;
COMMENT ON FUNCTION etl.iso_timestamptz(text) IS
'The instant of an ISO 8601 timestamp YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|+HH[:MM]] (no offset = UTC); NULL when invalid.';

CREATE OR REPLACE FUNCTION etl.to_money(p_text text)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE WHEN p_text ~ '^-?[0-9]{1,10}(\.[0-9]{1,2})?$' THEN p_text::numeric(12, 2) END;
COMMENT ON FUNCTION etl.to_money(text) IS
'A money amount: optional minus, up to 10 digits, at most 2 decimals (numeric(12,2)); NULL otherwise. Negative amounts convert, to be rejected as negative_amount.';

CREATE OR REPLACE FUNCTION etl.to_quantity(p_text text)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE WHEN p_text ~ '^-?[0-9]{1,9}(\.[0-9]{1,3})?$' THEN p_text::numeric(12, 3) END;
COMMENT ON FUNCTION etl.to_quantity(text) IS 'A quantity: optional minus, up to 9 digits, at most 3 decimals (numeric(12,3)); NULL otherwise.';

CREATE OR REPLACE FUNCTION etl.to_unit_price(p_text text)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE WHEN p_text ~ '^-?[0-9]{1,9}(\.[0-9]{1,5})?$' THEN p_text::numeric(14, 5) END;
COMMENT ON FUNCTION etl.to_unit_price(text) IS 'A unit price: optional minus, up to 9 digits, at most 5 decimals (numeric(14,5)); NULL otherwise.';

CREATE OR REPLACE FUNCTION etl.is_digits(p_text text, p_max_length integer)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN length(p_text) BETWEEN 1 AND p_max_length AND ltrim(p_text, '0123456789') = '';
COMMENT ON FUNCTION etl.is_digits(text, integer) IS
'True when p_text is 1 to p_max_length digits (cheaper than a pattern test: two C string functions); NULL for NULL.';

CREATE OR REPLACE FUNCTION etl.to_integer(p_text text)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN etl.is_digits(p_text, 9) THEN p_text::integer
    WHEN left(p_text, 1) = '-' AND etl.is_digits(substr(p_text, 2), 9) THEN p_text::integer
END;
COMMENT ON FUNCTION etl.to_integer(text) IS 'A whole number of up to 9 digits with an optional minus; NULL otherwise (no decimals, no spaces).';

CREATE OR REPLACE FUNCTION etl.to_boolean(p_text text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE p_text WHEN 't' THEN TRUE WHEN 'f' THEN FALSE END;
COMMENT ON FUNCTION etl.to_boolean(text) IS 'A layout boolean: t or f; NULL otherwise.';

CREATE OR REPLACE FUNCTION etl.csv_fields(p_line text)
RETURNS text[]
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN strpos(p_line, '"') = 0 THEN string_to_array(p_line, ',', '')
        WHEN p_line ~ '^("([^"]|"")*"|[^,"]*)(,("([^"]|"")*"|[^,"]*))*$'
            THEN (
                SELECT
                    array_agg(
                        CASE
                            WHEN
                                f.piece LIKE '"%'
                                THEN nullif(replace(substr(f.piece, 2, length(f.piece) - 2), '""', '"'), '')
                            ELSE nullif(f.piece, '')
                        END
                        ORDER BY f.n
                    )
                FROM
                    unnest(regexp_split_to_array(p_line, ',(?=(?:[^"]*"[^"]*")*[^"]*$)')) WITH ORDINALITY
                        AS f (piece, n)
            )
    END;
END;
COMMENT ON FUNCTION etl.csv_fields(text) IS
'The fields of one CSV line (RFC 4180 quoting: "a,b" and "" inside quotes; empty = NULL, as COPY CSV with FORCE_NULL reads them); NULL when the quotes are unbalanced or misplaced.';

CREATE OR REPLACE FUNCTION etl.money_fault(p_text text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN p_text !~ '^-?[0-9]{1,10}(\.[0-9]{1,2})?$' THEN 'bad_number'
    WHEN left(p_text, 1) = '-' AND ltrim(p_text, '-0.') <> '' THEN 'negative_amount'
END;
COMMENT ON FUNCTION etl.money_fault(text) IS
'The reject rule a money amount breaks (bad_number: not up to 10 digits and 2 decimals; negative_amount), NULL when it is fine or NULL. One pattern test, no cast.';

CREATE OR REPLACE FUNCTION etl.quantity_fault(p_text text, p_zero_allowed boolean DEFAULT FALSE)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN p_text !~ '^-?[0-9]{1,9}(\.[0-9]{1,3})?$' THEN 'bad_number'
    WHEN ltrim(p_text, '-0.') = '' THEN CASE WHEN NOT p_zero_allowed THEN 'not_positive' END
    WHEN left(p_text, 1) = '-' THEN 'negative_amount'
END;
COMMENT ON FUNCTION etl.quantity_fault(text, boolean) IS
'The reject rule a quantity breaks (bad_number: not up to 9 digits and 3 decimals; not_positive: zero, unless p_zero_allowed; negative_amount), NULL when it is fine or NULL.';

CREATE OR REPLACE FUNCTION etl.whole_number_fault(p_text text, p_min integer, p_max integer)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
    WHEN p_text IS NULL THEN NULL
    WHEN etl.is_digits(p_text, 9) THEN CASE WHEN p_text::integer NOT BETWEEN p_min AND p_max THEN 'out_of_range' END
    WHEN left(p_text, 1) = '-' AND etl.is_digits(substr(p_text, 2), 9)
        THEN CASE WHEN p_text::integer NOT BETWEEN p_min AND p_max THEN 'out_of_range' END
    ELSE 'bad_number'
END;
COMMENT ON FUNCTION etl.whole_number_fault(text, integer, integer) IS
'The reject rule a whole number breaks (bad_number, or out_of_range outside p_min..p_max), NULL when it is fine or NULL.';
