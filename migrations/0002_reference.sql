-- Reference data: NCPDP code sets, yearly Part D parameters, and the identifier rules that
-- constraints of later tables depend on (which is why these functions live in a migration).

CREATE TABLE ref.reject_codes (
    code varchar(3) PRIMARY KEY,
    description text NOT NULL
);
COMMENT ON TABLE ref.reject_codes IS
'NCPDP Reject Code (511-FB) values: VistA BPS NCPDP REJECT CODES (file #9002313.93, foia 2023). Descriptions are data, never logic.';
COMMENT ON COLUMN ref.reject_codes.code IS 'NCPDP 511-FB Reject Code, two characters with a leading zero (01) or three (569)';

CREATE TABLE ref.daw_codes (
    code smallint PRIMARY KEY CHECK (code BETWEEN 0 AND 9),
    description text NOT NULL
);
COMMENT ON TABLE ref.daw_codes IS 'NCPDP 408-D8 Dispense As Written (DAW)/Product Selection Code values (VistA file #9002313.24).';

CREATE TABLE ref.dur_reason_codes (
    code char(2) PRIMARY KEY,
    description text NOT NULL
);
COMMENT ON TABLE ref.dur_reason_codes IS
'NCPDP 439-E4 Reason for Service (DUR conflict) codes, e.g. ER overuse = refill too soon (VistA file #9002313.23).';

CREATE TABLE ref.basis_of_reimbursement_codes (
    code smallint PRIMARY KEY,
    description text NOT NULL
);
COMMENT ON TABLE ref.basis_of_reimbursement_codes IS
'NCPDP 522-FM Basis of Reimbursement Determination: how the ingredient cost paid was priced. Values 0-6 from VistA IB file #351.5; higher values are not public and not used.';

CREATE TABLE ref.ncpdp_codes (
    field_id text NOT NULL CHECK (field_id ~ '^[0-9]{3}-[0-9A-Z]{2}$'),
    code text NOT NULL,
    description text NOT NULL,
    PRIMARY KEY (field_id, code)
);
COMMENT ON TABLE ref.ncpdp_codes IS
'Other NCPDP code sets keyed by field id: 440-E5 professional service, 441-E6 result of service, 420-DK submission clarification, 147-U7 pharmacy service type, 393-MV benefit stage, 112-AN transaction response status, 423-DN basis of cost, 306-C6 relationship, 461-EU PA type, 384-4X patient residence.';

CREATE TABLE ref.part_d_parameters (
    plan_year smallint PRIMARY KEY CHECK (plan_year BETWEEN 2006 AND 2100),
    standard_deductible numeric(12, 2) NOT NULL CHECK (standard_deductible >= 0),
    oop_threshold numeric(12, 2) NOT NULL CHECK (oop_threshold > 0),
    initial_coinsurance numeric(5, 4) NOT NULL CHECK (initial_coinsurance BETWEEN 0 AND 1),
    insulin_cap_per_month numeric(12, 2) NOT NULL CHECK (insulin_cap_per_month >= 0),
    m3p_ltb_single_claim numeric(12, 2) NOT NULL CHECK (m3p_ltb_single_claim > 0),
    source text NOT NULL
);
COMMENT ON TABLE ref.part_d_parameters IS
'Medicare Part D defined standard benefit parameters by calendar year (see docs/m3p.md and ../shared/reference).';
COMMENT ON COLUMN ref.part_d_parameters.standard_deductible IS 'Standard deductible (2025: $590, 2026: $615)';
COMMENT ON COLUMN ref.part_d_parameters.oop_threshold IS
'Annual out-of-pocket threshold (2025: $2,000, 2026: $2,100); $0 cost sharing above it; the T of the M3P formula';
COMMENT ON COLUMN ref.part_d_parameters.initial_coinsurance IS 'Coinsurance between deductible and threshold (25%)';
COMMENT ON COLUMN ref.part_d_parameters.insulin_cap_per_month IS 'Most a member pays per month supply of a covered insulin ($35)';
COMMENT ON COLUMN ref.part_d_parameters.m3p_ltb_single_claim IS
'M3P likely-to-benefit: a single claim with at least this out-of-pocket cost flags the pharmacy notice ($600)';

-- NPI: 10 digits, first digit 1 or 2, Luhn check digit computed as if prefixed by 80840 (the constant 24).
-- Unrolled arithmetic rather than a subquery: constraints call it for every row.
CREATE FUNCTION ref.npi_is_valid(p_npi text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN
CASE
    WHEN p_npi IS NULL THEN NULL
    WHEN p_npi !~ '^[12][0-9]{9}$' THEN FALSE
    ELSE (
        24
        + (2 * substr(p_npi, 1, 1)::int) % 10 + (2 * substr(p_npi, 1, 1)::int) / 10
        + substr(p_npi, 2, 1)::int
        + (2 * substr(p_npi, 3, 1)::int) % 10 + (2 * substr(p_npi, 3, 1)::int) / 10
        + substr(p_npi, 4, 1)::int
        + (2 * substr(p_npi, 5, 1)::int) % 10 + (2 * substr(p_npi, 5, 1)::int) / 10
        + substr(p_npi, 6, 1)::int
        + (2 * substr(p_npi, 7, 1)::int) % 10 + (2 * substr(p_npi, 7, 1)::int) / 10
        + substr(p_npi, 8, 1)::int
        + (2 * substr(p_npi, 9, 1)::int) % 10 + (2 * substr(p_npi, 9, 1)::int) / 10
        + substr(p_npi, 10, 1)::int
    ) % 10 = 0
END;
COMMENT ON FUNCTION ref.npi_is_valid(text) IS
'True when p_npi is a valid National Provider Identifier: 10 digits starting 1 or 2 whose check digit passes Luhn with the 80840 prefix (CMS). 1234567893 is valid, 1234567890 is not.';

-- NDC to the 11-digit 5-4-2 HIPAA form: pad the short segment of a hyphenated 4-4-2, 5-3-2 or 5-4-1 code.
-- A bare 10-digit code is ambiguous (which segment is short?) and gives NULL, as does anything else.
CREATE FUNCTION ref.ndc11(p_ndc text)
RETURNS char(11)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN
CASE
    WHEN btrim(p_ndc) ~ '^[0-9]{11}$' THEN btrim(p_ndc)
    WHEN btrim(p_ndc) ~ '^[0-9]{5}-[0-9]{4}-[0-9]{2}$' THEN replace(btrim(p_ndc), '-', '')
    WHEN btrim(p_ndc) ~ '^[0-9]{4}-[0-9]{4}-[0-9]{2}$' THEN '0' || replace(btrim(p_ndc), '-', '')
    WHEN btrim(p_ndc) ~ '^[0-9]{5}-[0-9]{3}-[0-9]{2}$'
        THEN
            split_part(btrim(p_ndc), '-', 1) || '0' || split_part(btrim(p_ndc), '-', 2)
            || split_part(btrim(p_ndc), '-', 3)
    WHEN btrim(p_ndc) ~ '^[0-9]{5}-[0-9]{4}-[0-9]$'
        THEN
            split_part(btrim(p_ndc), '-', 1) || split_part(btrim(p_ndc), '-', 2) || '0'
            || split_part(btrim(p_ndc), '-', 3)
END;
COMMENT ON FUNCTION ref.ndc11(text) IS
'The 11-digit (5-4-2) NDC of a hyphenated 4-4-2, 5-3-2 or 5-4-1 NDC (0002-7597-01 -> 00002759701); an 11-digit code unchanged; NULL for a bare 10-digit code (ambiguous) or anything else.';

-- MBI: 11 characters C A AN N A AN N A A N N; letters exclude S, L, O, I, B, Z (CMS MBI format sheet).
CREATE FUNCTION ref.mbi_is_valid(p_mbi text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN
p_mbi
~ '^[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y]{2}[0-9]{2}$';
COMMENT ON FUNCTION ref.mbi_is_valid(text) IS
'True when p_mbi is a Medicare Beneficiary Identifier in its stored form (11 characters, upper case, no dashes): 1EG4TE5MK73 is valid.';
