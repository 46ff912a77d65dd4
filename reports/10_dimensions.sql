-- Dimensions of the star schema that hold no PHI: date, drug, pharmacy, plan, reject code.
-- Drug, pharmacy, plan and reject code are plain views (always current); the calendar is materialized.

DROP MATERIALIZED VIEW IF EXISTS reporting.dim_date;
CREATE MATERIALIZED VIEW reporting.dim_date AS
SELECT
    g.d::date AS date_key,
    extract(YEAR FROM g.d)::smallint AS year,
    extract(QUARTER FROM g.d)::smallint AS quarter,
    extract(MONTH FROM g.d)::smallint AS month_of_year,
    extract(DAY FROM g.d)::smallint AS day_of_month,
    extract(DOY FROM g.d)::smallint AS day_of_year,
    extract(ISODOW FROM g.d)::smallint AS iso_day_of_week,
    extract(WEEK FROM g.d)::smallint AS iso_week,
    extract(ISOYEAR FROM g.d)::smallint AS iso_year,
    to_char(g.d, 'FMDay') AS day_name,
    to_char(g.d, 'FMMonth') AS month_name,
    to_char(g.d, 'YYYY-MM') AS year_month,
    date_trunc('week', g.d)::date AS week_start,
    date_trunc('month', g.d)::date AS month_start,
    (date_trunc('month', g.d) + interval '1 month - 1 day')::date AS month_end,
    extract(DAY FROM date_trunc('month', g.d) + interval '1 month - 1 day')::smallint AS days_in_month,
    date_trunc('quarter', g.d)::date AS quarter_start,
    date_trunc('year', g.d)::date AS year_start,
    coalesce(extract(ISODOW FROM g.d) IN (6, 7), FALSE) AS is_weekend
FROM generate_series('2000-01-01'::date, '2049-12-31'::date, interval '1 day') AS g (d);
CREATE UNIQUE INDEX dim_date_key_idx ON reporting.dim_date (date_key);
COMMENT ON MATERIALIZED VIEW reporting.dim_date IS
'Date dimension (calendar 2000-01-01 to 2049-12-31): one row per day; fact_claims.date_key joins date_key.';
COMMENT ON COLUMN reporting.dim_date.date_key IS 'The day (key)';
COMMENT ON COLUMN reporting.dim_date.year IS 'Calendar year (= plan year)';
COMMENT ON COLUMN reporting.dim_date.quarter IS 'Calendar quarter 1-4';
COMMENT ON COLUMN reporting.dim_date.month_of_year IS 'Month 1-12';
COMMENT ON COLUMN reporting.dim_date.day_of_month IS 'Day of the month 1-31';
COMMENT ON COLUMN reporting.dim_date.day_of_year IS 'Day of the year 1-366';
COMMENT ON COLUMN reporting.dim_date.iso_day_of_week IS 'ISO day of week: 1 Monday ... 7 Sunday';
COMMENT ON COLUMN reporting.dim_date.iso_week IS 'ISO 8601 week number 1-53 (of iso_year)';
COMMENT ON COLUMN reporting.dim_date.iso_year IS 'ISO 8601 week-numbering year';
COMMENT ON COLUMN reporting.dim_date.day_name IS 'English day name, e.g. Monday';
COMMENT ON COLUMN reporting.dim_date.month_name IS 'English month name, e.g. January';
COMMENT ON COLUMN reporting.dim_date.year_month IS 'YYYY-MM label';
COMMENT ON COLUMN reporting.dim_date.week_start IS 'Monday of the ISO week';
COMMENT ON COLUMN reporting.dim_date.month_start IS 'First day of the month';
COMMENT ON COLUMN reporting.dim_date.month_end IS 'Last day of the month';
COMMENT ON COLUMN reporting.dim_date.days_in_month IS 'Days in the month (28-31): the denominator of prorated member months';
COMMENT ON COLUMN reporting.dim_date.quarter_start IS 'First day of the quarter';
COMMENT ON COLUMN reporting.dim_date.year_start IS 'January 1 of the year';
COMMENT ON COLUMN reporting.dim_date.is_weekend IS 'Saturday or Sunday';

CREATE OR REPLACE VIEW reporting.dim_drug AS
SELECT
    d.ndc11 AS drug_key,
    d.drug_name,
    d.generic_name,
    d.strength,
    d.dosage_form,
    d.route,
    d.multi_source_code,
    reporting.mony_category(d.multi_source_code) AS mony_category,
    d.is_brand,
    NOT d.is_brand AS is_generic,
    d.therapeutic_class,
    d.drug_group,
    exists(
        SELECT FROM drug.drugs AS g
        WHERE g.drug_group = d.drug_group AND g.multi_source_code = 'Y'
    ) AS has_generic_equivalent,
    d.dea_schedule,
    d.dea_schedule > 0 AS is_controlled,
    d.is_insulin,
    d.is_vaccine,
    d.is_specialty,
    d.unit_of_measure,
    d.market_end_date
FROM drug.drugs AS d;
COMMENT ON VIEW reporting.dim_drug IS 'Drug dimension: one row per NDC-11 of the catalog; fact_claims.drug_key joins drug_key.';
COMMENT ON COLUMN reporting.dim_drug.drug_key IS 'NDC-11 (NCPDP 407-D7, 11 digits, no dashes)';
COMMENT ON COLUMN reporting.dim_drug.drug_name IS 'Proprietary (label) name';
COMMENT ON COLUMN reporting.dim_drug.generic_name IS 'Nonproprietary name of the active ingredient(s)';
COMMENT ON COLUMN reporting.dim_drug.strength IS 'Strength, e.g. 10 MG';
COMMENT ON COLUMN reporting.dim_drug.dosage_form IS 'Dosage form, e.g. TABLET';
COMMENT ON COLUMN reporting.dim_drug.route IS 'Route of administration';
COMMENT ON COLUMN reporting.dim_drug.multi_source_code IS 'Medi-Span Multi-Source Code (MONY): M, O, N brand; Y generic';
COMMENT ON COLUMN reporting.dim_drug.mony_category IS 'generic (Y), multi-source brand (O) or single-source brand (M, N)';
COMMENT ON COLUMN reporting.dim_drug.is_brand IS 'Brand: MONY M, N or O';
COMMENT ON COLUMN reporting.dim_drug.is_generic IS 'Generic: MONY Y (the numerator of the generic dispensing rate)';
COMMENT ON COLUMN reporting.dim_drug.therapeutic_class IS 'Therapeutic class, e.g. STATINS';
COMMENT ON COLUMN reporting.dim_drug.drug_group IS 'Equivalence group (ingredient, strength, form): a brand and its generic equivalents share it';
COMMENT ON COLUMN reporting.dim_drug.has_generic_equivalent IS 'A generic (MONY Y) of the same drug group is in the catalog';
COMMENT ON COLUMN reporting.dim_drug.dea_schedule IS 'DEA schedule: 0 not controlled, 2-5 = C-II to C-V';
COMMENT ON COLUMN reporting.dim_drug.is_controlled IS 'A DEA controlled substance (schedule 2-5)';
COMMENT ON COLUMN reporting.dim_drug.is_insulin IS 'Covered insulin product';
COMMENT ON COLUMN reporting.dim_drug.is_vaccine IS 'ACIP-recommended vaccine';
COMMENT ON COLUMN reporting.dim_drug.is_specialty IS 'Specialty drug';
COMMENT ON COLUMN reporting.dim_drug.unit_of_measure IS 'NCPDP unit of measure of quantities: EA, ML or GM';
COMMENT ON COLUMN reporting.dim_drug.market_end_date IS 'Last day the NDC is marketed';

CREATE OR REPLACE VIEW reporting.dim_pharmacy AS
SELECT
    p.pharmacy_id AS pharmacy_key,
    p.npi,
    p.ncpdp_id,
    p.name,
    p.city,
    p.state,
    p.zip5,
    p.pharmacy_type
FROM network.pharmacies AS p;
COMMENT ON VIEW reporting.dim_pharmacy IS
'Pharmacy dimension: one row per dispensing pharmacy (a business, not PHI); fact_claims.pharmacy_key joins pharmacy_key.';
COMMENT ON COLUMN reporting.dim_pharmacy.pharmacy_key IS 'Pharmacy key';
COMMENT ON COLUMN reporting.dim_pharmacy.npi IS 'Pharmacy NPI (NCPDP 201-B1 Service Provider ID)';
COMMENT ON COLUMN reporting.dim_pharmacy.ncpdp_id IS 'NCPDP Provider ID (7 digits)';
COMMENT ON COLUMN reporting.dim_pharmacy.name IS 'Pharmacy name';
COMMENT ON COLUMN reporting.dim_pharmacy.city IS 'City of the pharmacy';
COMMENT ON COLUMN reporting.dim_pharmacy.state IS 'State of the pharmacy';
COMMENT ON COLUMN reporting.dim_pharmacy.zip5 IS 'ZIP code of the pharmacy';
COMMENT ON COLUMN reporting.dim_pharmacy.pharmacy_type IS 'retail, mail, specialty or long_term_care (the peer group of pharmacy outlier checks)';

CREATE OR REPLACE VIEW reporting.dim_plan AS
SELECT
    p.plan_id AS plan_key,
    p.plan_code,
    p.name,
    p.plan_type,
    p.bin,
    p.pcn,
    p.group_id,
    p.contract_number,
    p.pbp_id,
    n.network_code,
    n.name AS network_name
FROM plan.plans AS p
INNER JOIN network.networks AS n ON p.network_id = n.network_id;
COMMENT ON VIEW reporting.dim_plan IS 'Plan dimension: one row per benefit plan; fact_claims.plan_key joins plan_key.';
COMMENT ON COLUMN reporting.dim_plan.plan_key IS 'Plan key';
COMMENT ON COLUMN reporting.dim_plan.plan_code IS 'Plan code (the plan parameter of the reports)';
COMMENT ON COLUMN reporting.dim_plan.name IS 'Plan name';
COMMENT ON COLUMN reporting.dim_plan.plan_type IS 'medicare_part_d or commercial';
COMMENT ON COLUMN reporting.dim_plan.bin IS 'NCPDP 101-A1 BIN';
COMMENT ON COLUMN reporting.dim_plan.pcn IS 'NCPDP 104-A4 Processor Control Number';
COMMENT ON COLUMN reporting.dim_plan.group_id IS 'NCPDP 301-C1 Group ID';
COMMENT ON COLUMN reporting.dim_plan.contract_number IS 'CMS Part D contract number';
COMMENT ON COLUMN reporting.dim_plan.pbp_id IS 'CMS plan benefit package';
COMMENT ON COLUMN reporting.dim_plan.network_code IS 'Pharmacy network the plan pays';
COMMENT ON COLUMN reporting.dim_plan.network_name IS 'Name of that network';

CREATE OR REPLACE VIEW reporting.dim_reject_code AS
SELECT
    r.code AS reject_code,
    r.description
FROM ref.reject_codes AS r;
COMMENT ON VIEW reporting.dim_reject_code IS 'NCPDP 511-FB reject codes with their descriptions (joins claim_reject_codes.reject_code).';
COMMENT ON COLUMN reporting.dim_reject_code.reject_code IS 'NCPDP 511-FB Reject Code';
COMMENT ON COLUMN reporting.dim_reject_code.description IS 'What the code means';

CREATE OR REPLACE FUNCTION reporting.plan_key(p_plan_code text)
RETURNS bigint
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_plan_key bigint;
BEGIN
    IF nullif(btrim(p_plan_code), '') IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT p.plan_key INTO v_plan_key FROM reporting.dim_plan AS p WHERE p.plan_code = btrim(p_plan_code);
    IF v_plan_key IS NULL THEN
        RAISE EXCEPTION 'unknown plan code %', p_plan_code
            USING ERRCODE = '22023', HINT = 'The plan codes are in reporting.dim_plan.plan_code';
    END IF;
    RETURN v_plan_key;
END;
$$;
COMMENT ON FUNCTION reporting.plan_key(text) IS
'The plan_key of a plan code for the plan parameter of reports: NULL for NULL or an empty string (= all plans); an unknown code raises 22023.';
