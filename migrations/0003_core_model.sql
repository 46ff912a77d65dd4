-- The core model: drugs and prices, pharmacy network and contracts, plans, benefit designs and
-- formularies, members and coverage. Claims follow in 0004.

-- ---------------------------------------------------------------------------------------------------
-- drug
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE drug.drugs (
    ndc11 char(11) PRIMARY KEY CONSTRAINT drugs_ndc11_is_11_digits CHECK (ndc11 ~ '^[0-9]{11}$'),
    ndc_package_code varchar(12) CONSTRAINT drugs_package_code_matches_ndc11 CHECK (
        ndc_package_code IS NULL OR ref.ndc11(ndc_package_code) = ndc11
    ),
    drug_name text NOT NULL,
    generic_name text NOT NULL,
    strength text NOT NULL,
    dosage_form text NOT NULL,
    route text NOT NULL DEFAULT 'ORAL',
    multi_source_code char(1) NOT NULL CONSTRAINT drugs_multi_source_code_is_mony CHECK (
        multi_source_code IN ('M', 'N', 'O', 'Y')
    ),
    is_brand boolean GENERATED ALWAYS AS (multi_source_code <> 'Y') STORED,
    therapeutic_class text NOT NULL,
    drug_group text NOT NULL,
    dea_schedule smallint NOT NULL DEFAULT 0 CONSTRAINT drugs_dea_schedule_0_to_5 CHECK (dea_schedule BETWEEN 0 AND 5),
    is_insulin boolean NOT NULL DEFAULT FALSE,
    is_vaccine boolean NOT NULL DEFAULT FALSE,
    is_specialty boolean NOT NULL DEFAULT FALSE,
    unit_of_measure char(2) NOT NULL DEFAULT 'EA' CONSTRAINT drugs_unit_of_measure_is_ncpdp CHECK (
        unit_of_measure IN ('EA', 'ML', 'GM')
    ),
    package_size numeric(12, 3) CONSTRAINT drugs_package_size_positive CHECK (package_size > 0),
    market_end_date date,
    search tsvector GENERATED ALWAYS AS (
        to_tsvector(
            'simple'::regconfig,
            drug_name || ' ' || generic_name || ' ' || strength || ' ' || dosage_form || ' ' || therapeutic_class
        )
    ) STORED
);
COMMENT ON TABLE drug.drugs IS 'Drug catalog, one row per NDC-11 package.';
COMMENT ON COLUMN drug.drugs.ndc11 IS 'NCPDP 407-D7 Product/Service ID (qualifier 03 = NDC), 11 digits 5-4-2, no dashes';
COMMENT ON COLUMN drug.drugs.ndc_package_code IS 'The hyphenated FDA form (4-4-2, 5-3-2 or 5-4-1) it was converted from';
COMMENT ON COLUMN drug.drugs.drug_name IS 'Proprietary (label) name, e.g. LIPITOR';
COMMENT ON COLUMN drug.drugs.generic_name IS 'Nonproprietary name of the active ingredient(s), e.g. atorvastatin calcium';
COMMENT ON COLUMN drug.drugs.multi_source_code IS
'Medi-Span Multi-Source Code (MONY): M single source co-licensed, O originator with generics, N single source, Y generic';
COMMENT ON COLUMN drug.drugs.is_brand IS 'Brand when MONY is M, N or O; generic when Y';
COMMENT ON COLUMN drug.drugs.therapeutic_class IS 'Therapeutic class, e.g. STATINS; step therapy prerequisites name a class';
COMMENT ON COLUMN drug.drugs.drug_group IS
'Equivalence key (ingredient, strength, dosage form): generic equivalents of a brand, refill-too-soon history';
COMMENT ON COLUMN drug.drugs.dea_schedule IS 'DEA controlled-substance schedule: 0 not controlled, 2-5 = C-II to C-V';
COMMENT ON COLUMN drug.drugs.is_insulin IS 'Covered insulin product: Part D cost sharing at most $35 per month supply';
COMMENT ON COLUMN drug.drugs.is_vaccine IS 'ACIP-recommended vaccine: $0 cost sharing, no deductible';
COMMENT ON COLUMN drug.drugs.market_end_date IS 'Last day the NDC is marketed; claims after it reject 77 (discontinued)';
COMMENT ON COLUMN drug.drugs.search IS 'Full-text search vector over names, strength, form and class (api.search_drugs)';

CREATE INDEX drugs_search_idx ON drug.drugs USING gin (search);
CREATE INDEX drugs_drug_name_trgm_idx ON drug.drugs USING gin (drug_name public.gin_trgm_ops);
CREATE INDEX drugs_generic_name_trgm_idx ON drug.drugs USING gin (generic_name public.gin_trgm_ops);
CREATE INDEX drugs_drug_group_idx ON drug.drugs (drug_group);
CREATE INDEX drugs_therapeutic_class_idx ON drug.drugs (therapeutic_class);

CREATE TABLE drug.mac_lists (
    mac_list_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mac_list_code text NOT NULL UNIQUE,
    name text NOT NULL
);
COMMENT ON TABLE drug.mac_lists IS
'Maximum Allowable Cost lists: a PBM may keep several; a network contract names the one it pays by.';

CREATE TABLE drug.prices (
    price_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ndc11 char(11) NOT NULL REFERENCES drug.drugs (ndc11),
    price_type text NOT NULL CONSTRAINT prices_price_type_is_known CHECK (price_type IN ('AWP', 'WAC', 'NADAC', 'MAC')),
    mac_list_id bigint REFERENCES drug.mac_lists (mac_list_id),
    unit_price numeric(14, 5) NOT NULL CONSTRAINT prices_unit_price_positive CHECK (unit_price > 0),
    effective_date date NOT NULL,
    end_date date,
    CONSTRAINT prices_mac_list_only_for_mac CHECK ((price_type = 'MAC') = (mac_list_id IS NOT NULL)),
    CONSTRAINT prices_end_not_before_effective CHECK (end_date IS NULL OR end_date >= effective_date),
    CONSTRAINT prices_do_not_overlap EXCLUDE USING gist (
        ndc11 WITH =,
        price_type WITH =,
        (coalesce(mac_list_id, 0)) WITH =,
        daterange(effective_date, end_date, '[]') WITH &&
    )
);
COMMENT ON TABLE drug.prices IS
'Unit prices by benchmark with effective date ranges (no two ranges of one NDC, benchmark and MAC list overlap).';
COMMENT ON COLUMN drug.prices.price_type IS
'AWP average wholesale price, WAC wholesale acquisition cost, NADAC national average drug acquisition cost (CMS), MAC payer maximum allowable cost';
COMMENT ON COLUMN drug.prices.unit_price IS 'Price per unit of measure (EA, ML, GM); 5 decimals as in the NADAC file';
COMMENT ON COLUMN drug.prices.end_date IS 'Last day the price applies (inclusive); NULL = open';
CREATE INDEX prices_lookup_idx ON drug.prices (ndc11, price_type, effective_date);

-- ---------------------------------------------------------------------------------------------------
-- network
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE network.networks (
    network_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network_code text NOT NULL UNIQUE,
    name text NOT NULL
);
COMMENT ON TABLE network.networks IS 'Pharmacy networks; a plan names the network whose pharmacies it pays.';

CREATE TABLE network.contracts (
    contract_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_code text NOT NULL UNIQUE,
    name text NOT NULL,
    ingredient_basis text NOT NULL DEFAULT 'AWP' CONSTRAINT contracts_ingredient_basis_is_known CHECK (
        ingredient_basis IN ('AWP', 'NADAC')
    ),
    brand_awp_discount numeric(5, 4) NOT NULL CONSTRAINT contracts_brand_discount_is_a_fraction CHECK (
        brand_awp_discount BETWEEN 0 AND 1
    ),
    generic_awp_discount numeric(5, 4) NOT NULL CONSTRAINT contracts_generic_discount_is_a_fraction CHECK (
        generic_awp_discount BETWEEN 0 AND 1
    ),
    brand_dispensing_fee numeric(12, 2) NOT NULL CONSTRAINT contracts_brand_fee_not_negative CHECK (
        brand_dispensing_fee >= 0
    ),
    generic_dispensing_fee numeric(12, 2) NOT NULL CONSTRAINT contracts_generic_fee_not_negative CHECK (
        generic_dispensing_fee >= 0
    ),
    mac_list_id bigint REFERENCES drug.mac_lists (mac_list_id)
);
COMMENT ON TABLE network.contracts IS
'Pharmacy reimbursement terms: ingredient cost = MAC for generics when listed, else AWP minus the discount (or NADAC), plus a dispensing fee.';
COMMENT ON COLUMN network.contracts.ingredient_basis IS 'AWP: AWP minus discount; NADAC: NADAC per unit (Medicaid-style contracts)';
COMMENT ON COLUMN network.contracts.brand_awp_discount IS 'Brand discount off AWP, e.g. 0.1700 = AWP-17%';
COMMENT ON COLUMN network.contracts.generic_awp_discount IS 'Generic discount off AWP, e.g. 0.7200 = AWP-72%';
COMMENT ON COLUMN network.contracts.mac_list_id IS 'MAC list for generics; NULL = no MAC pricing';

CREATE TABLE network.pharmacies (
    pharmacy_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    npi char(10) NOT NULL UNIQUE CONSTRAINT pharmacies_npi_check_digit CHECK (ref.npi_is_valid(npi)),
    ncpdp_id char(7) NOT NULL UNIQUE CONSTRAINT pharmacies_ncpdp_id_is_7_digits CHECK (ncpdp_id ~ '^[0-9]{7}$'),
    name text NOT NULL,
    address_line1 text NOT NULL,
    city text NOT NULL,
    state char(2) NOT NULL CONSTRAINT pharmacies_state_is_2_letters CHECK (state ~ '^[A-Z]{2}$'),
    zip5 char(5) NOT NULL CONSTRAINT pharmacies_zip5_is_5_digits CHECK (zip5 ~ '^[0-9]{5}$'),
    pharmacy_type text NOT NULL CONSTRAINT pharmacies_type_is_known CHECK (
        pharmacy_type IN ('retail', 'mail', 'specialty', 'long_term_care')
    )
);
COMMENT ON TABLE network.pharmacies IS 'Dispensing pharmacies.';
COMMENT ON COLUMN network.pharmacies.npi IS 'NCPDP 201-B1 Service Provider ID (qualifier 01 = NPI)';
COMMENT ON COLUMN network.pharmacies.ncpdp_id IS 'NCPDP Provider ID (formerly NABP number), 7 digits; check digit not public, not validated';
COMMENT ON COLUMN network.pharmacies.pharmacy_type IS 'retail, mail, specialty or long_term_care (NCPDP 147-U7 service types 1, 6, 8, 5)';

CREATE TABLE network.participations (
    participation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network_id bigint NOT NULL REFERENCES network.networks (network_id),
    pharmacy_id bigint NOT NULL REFERENCES network.pharmacies (pharmacy_id),
    contract_id bigint NOT NULL REFERENCES network.contracts (contract_id),
    effective_date date NOT NULL,
    termination_date date,
    CONSTRAINT participations_end_not_before_start CHECK (
        termination_date IS NULL OR termination_date >= effective_date
    ),
    CONSTRAINT participations_do_not_overlap EXCLUDE USING gist (
        network_id WITH =, pharmacy_id WITH =, daterange(effective_date, termination_date, '[]') WITH &&
    )
);
COMMENT ON TABLE network.participations IS
'A pharmacy in a network between two dates, paid under a contract. No participation on the date of service: reject 40.';
COMMENT ON COLUMN network.participations.termination_date IS 'Last day in the network (inclusive); NULL = open';
CREATE INDEX participations_pharmacy_idx ON network.participations (pharmacy_id, network_id);
CREATE INDEX participations_contract_idx ON network.participations (contract_id);

CREATE TABLE network.prescribers (
    prescriber_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    npi char(10) NOT NULL UNIQUE CONSTRAINT prescribers_npi_check_digit CHECK (ref.npi_is_valid(npi)),
    dea_number varchar(9) CONSTRAINT prescribers_dea_number_format CHECK (dea_number ~ '^[A-Z]{2}[0-9]{7}$'),
    first_name text NOT NULL,
    last_name text NOT NULL,
    specialty text NOT NULL,
    state char(2) NOT NULL CONSTRAINT prescribers_state_is_2_letters CHECK (state ~ '^[A-Z]{2}$'),
    deactivated_on date
);
COMMENT ON TABLE network.prescribers IS 'Prescribers known to the plan. A valid NPI that is not here: reject 56.';
COMMENT ON COLUMN network.prescribers.npi IS 'NCPDP 411-DB Prescriber ID (qualifier 01 = NPI)';
COMMENT ON COLUMN network.prescribers.dea_number IS 'DEA registration: two letters and seven digits (format only is checked)';

-- ---------------------------------------------------------------------------------------------------
-- plan
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE plan.formularies (
    formulary_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    formulary_code text NOT NULL UNIQUE,
    name text NOT NULL
);
COMMENT ON TABLE plan.formularies IS 'Formularies (drug lists); a benefit design names the one it uses.';

CREATE TABLE plan.formulary_entries (
    formulary_entry_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    formulary_id bigint NOT NULL REFERENCES plan.formularies (formulary_id),
    ndc11 char(11) NOT NULL REFERENCES drug.drugs (ndc11),
    tier smallint NOT NULL CONSTRAINT formulary_entries_tier_1_to_6 CHECK (tier BETWEEN 1 AND 6),
    is_excluded boolean NOT NULL DEFAULT FALSE,
    pa_required boolean NOT NULL DEFAULT FALSE,
    ql_quantity numeric(12, 3) CONSTRAINT formulary_entries_ql_quantity_positive CHECK (ql_quantity > 0),
    ql_days smallint CONSTRAINT formulary_entries_ql_days_positive CHECK (ql_days > 0),
    step_therapy_class text,
    step_lookback_days smallint NOT NULL DEFAULT 365 CONSTRAINT formulary_entries_step_lookback_positive CHECK (
        step_lookback_days > 0
    ),
    min_age smallint CONSTRAINT formulary_entries_min_age_sane CHECK (min_age BETWEEN 0 AND 130),
    max_age smallint CONSTRAINT formulary_entries_max_age_sane CHECK (max_age BETWEEN 0 AND 130),
    gender char(1) CONSTRAINT formulary_entries_gender_m_or_f CHECK (gender IN ('M', 'F')),
    effective_date date NOT NULL,
    termination_date date,
    CONSTRAINT formulary_entries_quantity_limit_needs_both CHECK ((ql_quantity IS NULL) = (ql_days IS NULL)),
    CONSTRAINT formulary_entries_age_range_ordered CHECK (min_age IS NULL OR max_age IS NULL OR min_age <= max_age),
    CONSTRAINT formulary_entries_end_not_before_start CHECK (
        termination_date IS NULL OR termination_date >= effective_date
    ),
    CONSTRAINT formulary_entries_do_not_overlap EXCLUDE USING gist (
        formulary_id WITH =, ndc11 WITH =, daterange(effective_date, termination_date, '[]') WITH &&
    )
);
COMMENT ON TABLE plan.formulary_entries IS
'A drug on a formulary between two dates: tier and utilization management (PA, quantity limit, step therapy, age and gender limits). Not listed: reject MR.';
COMMENT ON COLUMN plan.formulary_entries.tier IS 'Cost-share tier 1-6 (e.g. 1 preferred generic ... 5 specialty)';
COMMENT ON COLUMN plan.formulary_entries.is_excluded IS 'Plan/benefit exclusion: claims reject 70';
COMMENT ON COLUMN plan.formulary_entries.pa_required IS 'Prior authorization required: without an approved PA on the date, reject 75';
COMMENT ON COLUMN plan.formulary_entries.ql_quantity IS
'Quantity limit: at most ql_quantity units per ql_days days of supply (scaled to the claim''s days supply); over it: reject 76';
COMMENT ON COLUMN plan.formulary_entries.step_therapy_class IS
'Step therapy: a paid claim for a drug of this therapeutic class within step_lookback_days is required first, else reject 608';
COMMENT ON COLUMN plan.formulary_entries.min_age IS 'Youngest covered age in years on the date of service; younger: reject 60';
COMMENT ON COLUMN plan.formulary_entries.gender IS 'Only this gender is covered; otherwise reject 61';
CREATE INDEX formulary_entries_ndc_idx ON plan.formulary_entries (ndc11);

CREATE TABLE plan.plans (
    plan_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_code text NOT NULL UNIQUE,
    name text NOT NULL,
    plan_type text NOT NULL CONSTRAINT plans_type_is_known CHECK (plan_type IN ('medicare_part_d', 'commercial')),
    bin varchar(8) NOT NULL CONSTRAINT plans_bin_is_6_or_8_digits CHECK (bin ~ '^[0-9]{6}([0-9]{2})?$'),
    pcn varchar(10) NOT NULL CONSTRAINT plans_pcn_format CHECK (pcn ~ '^[0-9A-Z]{1,10}$'),
    group_id varchar(15) NOT NULL CONSTRAINT plans_group_id_format CHECK (group_id ~ '^[0-9A-Z-]{1,15}$'),
    contract_number varchar(5) CONSTRAINT plans_contract_number_format CHECK (contract_number ~ '^[EHRS][0-9]{4}$'),
    pbp_id varchar(3) CONSTRAINT plans_pbp_id_format CHECK (pbp_id ~ '^[0-9]{3}$'),
    network_id bigint NOT NULL REFERENCES network.networks (network_id),
    CONSTRAINT plans_routing_is_unique UNIQUE (bin, pcn, group_id),
    CONSTRAINT plans_part_d_has_contract_and_pbp CHECK (
        plan_type <> 'medicare_part_d' OR (contract_number IS NOT NULL AND pbp_id IS NOT NULL)
    )
);
COMMENT ON TABLE plan.plans IS 'Benefit plans: Medicare Part D (contract/PBP) or commercial; claims route to them by BIN, PCN and group.';
COMMENT ON COLUMN plan.plans.bin IS 'NCPDP 101-A1 BIN (IIN): 6 digits, 8 in version F6';
COMMENT ON COLUMN plan.plans.pcn IS 'NCPDP 104-A4 Processor Control Number';
COMMENT ON COLUMN plan.plans.group_id IS 'NCPDP 301-C1 Group ID';
COMMENT ON COLUMN plan.plans.contract_number IS 'CMS Part D contract number (H, R, S or E and 4 digits), PDE PLAN_CNTRCT_REC_ID';
COMMENT ON COLUMN plan.plans.pbp_id IS 'CMS plan benefit package, PDE PLAN_PBP_REC_NUM';
CREATE INDEX plans_network_idx ON plan.plans (network_id);

CREATE TABLE plan.benefit_designs (
    benefit_design_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plan.plans (plan_id),
    plan_year smallint NOT NULL CONSTRAINT benefit_designs_plan_year_sane CHECK (plan_year BETWEEN 2006 AND 2100),
    formulary_id bigint NOT NULL REFERENCES plan.formularies (formulary_id),
    deductible numeric(12, 2) NOT NULL CONSTRAINT benefit_designs_deductible_not_negative CHECK (deductible >= 0),
    deductible_tiers smallint[],
    oop_max numeric(12, 2) NOT NULL CONSTRAINT benefit_designs_oop_max_positive CHECK (oop_max > 0),
    insulin_cap_per_month numeric(12, 2) CONSTRAINT benefit_designs_insulin_cap_not_negative CHECK (
        insulin_cap_per_month >= 0
    ),
    insulin_deductible_exempt boolean NOT NULL DEFAULT FALSE,
    acip_vaccines_zero boolean NOT NULL DEFAULT TRUE,
    brand_penalty_daw smallint[] NOT NULL DEFAULT '{}',
    brand_penalty_counts_to_oop boolean NOT NULL DEFAULT FALSE,
    rts_threshold numeric(4, 3) NOT NULL DEFAULT 0.75 CONSTRAINT benefit_designs_rts_threshold_sane CHECK (
        rts_threshold BETWEEN 0.5 AND 1
    ),
    rts_lookback_days smallint NOT NULL DEFAULT 180 CONSTRAINT benefit_designs_rts_lookback_positive CHECK (
        rts_lookback_days > 0
    ),
    max_days_supply smallint NOT NULL DEFAULT 90 CONSTRAINT benefit_designs_max_days_supply_sane CHECK (
        max_days_supply BETWEEN 1 AND 365
    ),
    CONSTRAINT benefit_designs_one_per_plan_year UNIQUE (plan_id, plan_year),
    CONSTRAINT benefit_designs_deductible_below_oop_max CHECK (deductible <= oop_max),
    CONSTRAINT benefit_designs_penalty_daw_codes_valid CHECK (brand_penalty_daw <@ '{0,1,2,3,4,5,6,7,8,9}'::smallint[])
);
COMMENT ON TABLE plan.benefit_designs IS
'A plan''s benefit for one calendar plan year: deductible, out-of-pocket maximum, tier cost shares, special rules.';
COMMENT ON COLUMN plan.benefit_designs.deductible IS 'Annual deductible (Part D standard 2025: $590)';
COMMENT ON COLUMN plan.benefit_designs.deductible_tiers IS 'Tiers the deductible applies to; NULL = all tiers';
COMMENT ON COLUMN plan.benefit_designs.oop_max IS
'Out-of-pocket maximum: Part D annual out-of-pocket threshold ($2,000 in 2025), commercial MOOP; $0 cost share after it';
COMMENT ON COLUMN plan.benefit_designs.insulin_cap_per_month IS 'Most a member pays per month supply of insulin (Part D $35); NULL = no cap';
COMMENT ON COLUMN plan.benefit_designs.insulin_deductible_exempt IS 'The deductible does not apply to insulin (Part D)';
COMMENT ON COLUMN plan.benefit_designs.acip_vaccines_zero IS 'ACIP-recommended vaccines cost the member $0 and skip the deductible';
COMMENT ON COLUMN plan.benefit_designs.brand_penalty_daw IS
'DAW codes that make the member pay the brand-generic difference for a multi-source brand (e.g. {2}: patient requested)';
COMMENT ON COLUMN plan.benefit_designs.brand_penalty_counts_to_oop IS 'The brand penalty counts toward the out-of-pocket maximum';
COMMENT ON COLUMN plan.benefit_designs.rts_threshold IS 'Refill too soon: share of the supply that must be used first (0.75 = 75%)';
COMMENT ON COLUMN plan.benefit_designs.rts_lookback_days IS 'Refill too soon: how far back paid fills count toward the supply on hand';
COMMENT ON COLUMN plan.benefit_designs.max_days_supply IS 'Longest days supply paid; longer: reject AG';
CREATE INDEX benefit_designs_formulary_idx ON plan.benefit_designs (formulary_id);

CREATE TABLE plan.tier_cost_shares (
    benefit_design_id bigint NOT NULL REFERENCES plan.benefit_designs (benefit_design_id),
    tier smallint NOT NULL CONSTRAINT tier_cost_shares_tier_1_to_6 CHECK (tier BETWEEN 1 AND 6),
    cost_share_type text NOT NULL CONSTRAINT tier_cost_shares_type_is_known CHECK (
        cost_share_type IN ('copay', 'coinsurance')
    ),
    copay_amount numeric(12, 2) CONSTRAINT tier_cost_shares_copay_not_negative CHECK (copay_amount >= 0),
    coinsurance_rate numeric(5, 4) CONSTRAINT tier_cost_shares_rate_is_a_fraction CHECK (
        coinsurance_rate BETWEEN 0 AND 1
    ),
    min_amount numeric(12, 2) CONSTRAINT tier_cost_shares_min_not_negative CHECK (min_amount >= 0),
    max_amount numeric(12, 2) CONSTRAINT tier_cost_shares_max_not_negative CHECK (max_amount >= 0),
    PRIMARY KEY (benefit_design_id, tier),
    CONSTRAINT tier_cost_shares_copay_or_coinsurance CHECK (
        (cost_share_type = 'copay' AND copay_amount IS NOT NULL AND coinsurance_rate IS NULL)
        OR (cost_share_type = 'coinsurance' AND coinsurance_rate IS NOT NULL AND copay_amount IS NULL)
    ),
    CONSTRAINT tier_cost_shares_min_below_max CHECK (
        min_amount IS NULL OR max_amount IS NULL OR min_amount <= max_amount
    )
);
COMMENT ON TABLE plan.tier_cost_shares IS
'Initial-coverage cost share per tier: a copay per month supply, or a coinsurance rate with an optional minimum and maximum per claim.';
COMMENT ON COLUMN plan.tier_cost_shares.copay_amount IS 'Copay per month supply (1-34 days = 1, 35-68 = 2, 69-102 = 3 ...)';
COMMENT ON COLUMN plan.tier_cost_shares.coinsurance_rate IS 'Share of the allowed cost the member pays (Part D standard: 0.2500)';

-- ---------------------------------------------------------------------------------------------------
-- member (PHI)
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE member.members (
    member_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cardholder_id varchar(20) NOT NULL CONSTRAINT members_cardholder_id_format CHECK (
        cardholder_id ~ '^[0-9A-Z]{1,20}$'
    ),
    person_code varchar(3) NOT NULL DEFAULT '01' CONSTRAINT members_person_code_format CHECK (
        person_code ~ '^[0-9]{1,3}$'
    ),
    relationship_code smallint NOT NULL DEFAULT 1 CONSTRAINT members_relationship_code_0_to_4 CHECK (
        relationship_code BETWEEN 0 AND 4
    ),
    first_name text NOT NULL,
    last_name text NOT NULL,
    date_of_birth date NOT NULL CONSTRAINT members_date_of_birth_sane CHECK (date_of_birth > '1880-01-01'),
    gender char(1) NOT NULL CONSTRAINT members_gender_m_f_u CHECK (gender IN ('M', 'F', 'U')),
    address_line1 text NOT NULL,
    city text NOT NULL,
    state char(2) NOT NULL CONSTRAINT members_state_is_2_letters CHECK (state ~ '^[A-Z]{2}$'),
    zip5 char(5) NOT NULL CONSTRAINT members_zip5_is_5_digits CHECK (zip5 ~ '^[0-9]{5}$'),
    mbi_encrypted bytea,
    mbi_hash bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT members_cardholder_person_unique UNIQUE (cardholder_id, person_code),
    CONSTRAINT members_mbi_encrypted_with_hash CHECK ((mbi_encrypted IS NULL) = (mbi_hash IS NULL)),
    CONSTRAINT members_mbi_hash_is_sha256 CHECK (mbi_hash IS NULL OR octet_length(mbi_hash) = 32)
);
COMMENT ON TABLE member.members IS
'PHI. Members (cardholders and dependents): current demographics; history in member.member_history.';
COMMENT ON COLUMN member.members.cardholder_id IS 'NCPDP 302-C2 Cardholder ID';
COMMENT ON COLUMN member.members.person_code IS 'NCPDP 303-C3 Person Code (plan-assigned; 01 cardholder by convention)';
COMMENT ON COLUMN member.members.relationship_code IS 'NCPDP 306-C6 Patient Relationship: 0 not specified, 1 cardholder, 2 spouse, 3 child, 4 other';
COMMENT ON COLUMN member.members.date_of_birth IS 'NCPDP 304-C4 Date of Birth';
COMMENT ON COLUMN member.members.gender IS 'NCPDP 305-C5 Patient Gender: M (1), F (2), U (0 not specified)';
COMMENT ON COLUMN member.members.mbi_encrypted IS
'Medicare Beneficiary Identifier, AES-encrypted with the session''s PHI key (never stored in the database); Medicare members only';
COMMENT ON COLUMN member.members.mbi_hash IS 'HMAC-SHA256 of the MBI under the PHI key: exact-match lookup without decrypting';
CREATE INDEX members_mbi_hash_idx ON member.members (mbi_hash) WHERE mbi_hash IS NOT NULL;
CREATE INDEX members_last_name_idx ON member.members (last_name, date_of_birth);

CREATE TABLE member.member_history (
    member_history_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    valid_from date NOT NULL,
    valid_to date NOT NULL DEFAULT 'infinity',
    first_name text NOT NULL,
    last_name text NOT NULL,
    date_of_birth date NOT NULL,
    gender char(1) NOT NULL,
    address_line1 text NOT NULL,
    city text NOT NULL,
    state char(2) NOT NULL,
    zip5 char(5) NOT NULL,
    CONSTRAINT member_history_valid_range_ordered CHECK (valid_from < valid_to),
    CONSTRAINT member_history_versions_do_not_overlap EXCLUDE USING gist (
        member_id WITH =, daterange(valid_from, valid_to) WITH &&
    )
);
COMMENT ON TABLE member.member_history IS
'PHI. Demographic versions of each member (slowly changing dimension type 2), kept by a trigger on member.members.';
COMMENT ON COLUMN member.member_history.valid_from IS 'First day this version was in effect';
COMMENT ON COLUMN member.member_history.valid_to IS 'First day it was no longer in effect (exclusive); infinity = current';

CREATE TABLE member.coverage_spans (
    coverage_span_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    plan_id bigint NOT NULL REFERENCES plan.plans (plan_id),
    effective_date date NOT NULL,
    termination_date date,
    termination_reason text CONSTRAINT coverage_spans_termination_reason_is_known CHECK (
        termination_reason IN ('voluntary', 'involuntary', 'death', 'plan_terminated', 'other')
    ),
    CONSTRAINT coverage_spans_end_not_before_start CHECK (
        termination_date IS NULL OR termination_date >= effective_date
    ),
    CONSTRAINT coverage_spans_reason_needs_end CHECK (termination_reason IS NULL OR termination_date IS NOT NULL),
    CONSTRAINT coverage_spans_do_not_overlap EXCLUDE USING gist (
        member_id WITH =, daterange(effective_date, termination_date, '[]') WITH &&
    )
);
COMMENT ON TABLE member.coverage_spans IS
'PHI. Eligibility: a member covered by a plan between two dates. No two spans of one member overlap.';
COMMENT ON COLUMN member.coverage_spans.termination_date IS
'Last covered day (inclusive); NULL = open. After it: reject 69 when terminated (a reason is set), 68 when the span simply ended';
CREATE INDEX coverage_spans_plan_idx ON member.coverage_spans (plan_id);
