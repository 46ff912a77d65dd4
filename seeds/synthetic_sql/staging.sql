-- Staging tables of `pbm seed synthetic` (seeds/synthetic_io.py): temporary, dropped at commit. The
-- generator COPYs its data here in feed layout (plus `ord`, the generation order); config.sql and
-- data.sql move it into the real tables set-based, resolving codes to keys.

CREATE TEMP TABLE _syn_mac_lists (ord integer, mac_list_code text, name text) ON COMMIT DROP;
CREATE TEMP TABLE _syn_contracts (
    ord integer,
    contract_code text,
    name text,
    ingredient_basis text,
    brand_awp_discount numeric,
    generic_awp_discount numeric,
    brand_dispensing_fee numeric,
    generic_dispensing_fee numeric,
    mac_list_code text
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_networks (ord integer, network_code text, name text) ON COMMIT DROP;
CREATE TEMP TABLE _syn_formularies (ord integer, formulary_code text, name text) ON COMMIT DROP;
CREATE TEMP TABLE _syn_drugs (
    ord integer,
    ndc11 text,
    ndc_package_code text,
    drug_name text,
    generic_name text,
    strength text,
    dosage_form text,
    route text,
    multi_source_code text,
    therapeutic_class text,
    drug_group text,
    dea_schedule smallint,
    is_insulin boolean,
    is_vaccine boolean,
    is_specialty boolean,
    unit_of_measure text,
    package_size numeric,
    market_end_date date
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_formulary_entries (
    ord integer,
    formulary_code text,
    ndc11 text,
    tier smallint,
    is_excluded boolean,
    pa_required boolean,
    ql_quantity numeric,
    ql_days smallint,
    step_therapy_class text,
    min_age smallint,
    max_age smallint,
    gender text,
    effective_date date
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_plans (
    ord integer,
    plan_code text,
    name text,
    plan_type text,
    bin text,
    pcn text,
    group_id text,
    contract_number text,
    pbp_id text,
    network_code text
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_benefit_designs (
    ord integer,
    plan_code text,
    plan_year smallint,
    formulary_code text,
    deductible numeric,
    deductible_tiers smallint[],
    oop_max numeric,
    insulin_cap_per_month numeric,
    insulin_deductible_exempt boolean,
    acip_vaccines_zero boolean,
    brand_penalty_daw smallint[],
    brand_penalty_counts_to_oop boolean,
    rts_threshold numeric,
    rts_lookback_days smallint,
    max_days_supply smallint
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_tier_cost_shares (
    ord integer,
    plan_code text,
    plan_year smallint,
    tier smallint,
    cost_share_type text,
    copay_amount numeric,
    coinsurance_rate numeric,
    min_amount numeric,
    max_amount numeric
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_drug_prices (
    ord integer,
    ndc11 text,
    price_type text,
    mac_list_code text,
    unit_price numeric,
    effective_date date,
    end_date date
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_pharmacies (
    ord integer,
    npi text,
    ncpdp_id text,
    name text,
    address_line1 text,
    city text,
    state text,
    zip5 text,
    pharmacy_type text
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_network (
    ord integer,
    network_code text,
    pharmacy_npi text,
    contract_code text,
    effective_date date,
    termination_date date
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_prescribers (
    ord integer,
    npi text,
    dea_number text,
    first_name text,
    last_name text,
    specialty text,
    state text,
    deactivated_on date
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_members (
    ord integer,
    cardholder_id text,
    person_code text,
    relationship_code smallint,
    first_name text,
    last_name text,
    date_of_birth date,
    gender text,
    address_line1 text,
    city text,
    state text,
    zip5 text,
    mbi text
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_coverage (
    ord integer,
    cardholder_id text,
    person_code text,
    plan_code text,
    coverage_effective_date date,
    coverage_termination_date date,
    termination_reason text
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_prior_authorizations (
    ord integer,
    pa_number text,
    cardholder_id text,
    person_code text,
    drug_group text,
    prescriber_npi text,
    urgency text,
    status text,
    received_at timestamptz,
    decided_at timestamptz,
    decision_reason text,
    effective_date date,
    expiration_date date,
    approved_quantity numeric,
    due_at timestamptz
) ON COMMIT DROP;
CREATE TEMP TABLE _syn_m3p_elections (
    ord integer,
    cardholder_id text,
    person_code text,
    plan_year smallint,
    source text,
    received_at timestamptz,
    processed_at timestamptz,
    opt_out_received_at timestamptz
) ON COMMIT DROP;
