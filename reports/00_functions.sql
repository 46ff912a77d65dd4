-- De-identification helpers of reporting: keyed pseudonyms (owner only), age bands and ZIP3.

CREATE OR REPLACE FUNCTION reporting_private.pseudonym(p_secret bytea, p_domain text, p_id bigint)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN substr(encode(public.hmac(convert_to(p_domain || ':' || p_id::text, 'UTF8'), p_secret, 'sha256'), 'hex'), 1, 16);
COMMENT ON FUNCTION reporting_private.pseudonym(bytea, text, bigint) IS
'Keyed pseudonym of an id: the first 16 hex digits (64 bits) of HMAC-SHA256(''<domain>:<id>'') under p_secret (the secret of reporting_private.pseudonym_key, joined once per query). Domains: member, claim, pa, election. Owner only.';
REVOKE ALL ON FUNCTION reporting_private.pseudonym(bytea, text, bigint) FROM public;

CREATE OR REPLACE FUNCTION reporting.age_in_years(p_date_of_birth date, p_on date)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN extract(YEAR FROM age(p_on, p_date_of_birth))::integer;
COMMENT ON FUNCTION reporting.age_in_years(date, date) IS 'Completed years of age on p_on of someone born on p_date_of_birth.';

CREATE OR REPLACE FUNCTION reporting.age_band(p_date_of_birth date, p_on date)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN
CASE
    WHEN p_date_of_birth IS NULL OR p_on IS NULL THEN NULL
    WHEN reporting.age_in_years(p_date_of_birth, p_on) < 18 THEN '0-17'
    WHEN reporting.age_in_years(p_date_of_birth, p_on) < 35 THEN '18-34'
    WHEN reporting.age_in_years(p_date_of_birth, p_on) < 50 THEN '35-49'
    WHEN reporting.age_in_years(p_date_of_birth, p_on) < 65 THEN '50-64'
    WHEN reporting.age_in_years(p_date_of_birth, p_on) < 75 THEN '65-74'
    WHEN reporting.age_in_years(p_date_of_birth, p_on) < 85 THEN '75-84'
    WHEN reporting.age_in_years(p_date_of_birth, p_on) < 90 THEN '85-89'
    ELSE '90+'
END;
COMMENT ON FUNCTION reporting.age_band(date, date) IS
'Age band on p_on: 0-17, 18-34, 35-49, 50-64, 65-74, 75-84, 85-89, 90+ (HIPAA Safe Harbor: ages over 89 fall into one 90+ group).';

CREATE OR REPLACE FUNCTION reporting.birth_year(p_date_of_birth date, p_on date)
RETURNS smallint
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN
CASE
    WHEN reporting.age_in_years(p_date_of_birth, p_on) < 90 THEN extract(YEAR FROM p_date_of_birth)::smallint
END;
COMMENT ON FUNCTION reporting.birth_year(date, date) IS
'Year of birth, or NULL when the person is 90 or older on p_on (Safe Harbor: a birth year would reveal an age over 89).';

CREATE OR REPLACE FUNCTION reporting.zip3(p_zip5 text)
RETURNS char(3)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN
CASE
    WHEN p_zip5 IS NULL OR p_zip5 !~ '^[0-9]{5}' THEN NULL
    WHEN left(p_zip5, 3) IN (
        '036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884',
        '890', '893'
    ) THEN '000'
    ELSE left(p_zip5, 3)
END;
COMMENT ON FUNCTION reporting.zip3(text) IS
'First three digits of a ZIP code, or 000 for the 17 three-digit areas of 20,000 people or fewer (HHS de-identification guidance, 2000 census; 45 CFR 164.514(b)(2)(i)(B)).';

CREATE OR REPLACE FUNCTION reporting.mony_category(p_multi_source_code char(1))
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN
CASE p_multi_source_code
    WHEN 'Y' THEN 'generic'
    WHEN 'O' THEN 'multi-source brand'
    WHEN 'M' THEN 'single-source brand'
    WHEN 'N' THEN 'single-source brand'
END;
COMMENT ON FUNCTION reporting.mony_category(char) IS
'Brand/generic category of a Medi-Span Multi-Source Code: Y generic; O multi-source brand (originator with generics); M, N single-source brand.';

CREATE OR REPLACE FUNCTION reporting.robust_z(
    p_value numeric, p_median double precision, p_mad double precision, p_mean_ad double precision
)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN round((
    CASE
        WHEN p_mad > 0 THEN 0.6745 * (p_value::double precision - p_median) / p_mad
        WHEN p_mean_ad > 0 THEN (p_value::double precision - p_median) / (1.253314 * p_mean_ad)
        ELSE 0
    END
)::numeric, 2);
COMMENT ON FUNCTION reporting.robust_z(numeric, double precision, double precision, double precision) IS
'Robust (modified) z-score of Iglewicz and Hoaglin: 0.6745 (x - median) / MAD; when MAD is 0, (x - median) / (1.253314 x mean absolute deviation); 0 when every value is equal. |z| > 3.5 marks an outlier.';

CREATE OR REPLACE FUNCTION reporting.period_unit(p_period text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_period IS NULL OR lower(p_period) NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period %: use day, week, month, quarter or year', coalesce(p_period, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    RETURN lower(p_period);
END;
$$;
COMMENT ON FUNCTION reporting.period_unit(text) IS
'The period of a report (day, week, month, quarter or year) in lower case; any other value raises 22023.';

CREATE OR REPLACE FUNCTION reporting.row_limit(p_limit integer)
RETURNS integer
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit must be between 1 and 10000 (got %)', coalesce(p_limit::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    RETURN p_limit;
END;
$$;
COMMENT ON FUNCTION reporting.row_limit(integer) IS 'The row limit of a report, 1 to 10000; anything else raises 22023.';
