-- The batch adjudicator's scratch tables, reshaped for a leaner pipeline: claims_work.facts is rebuilt by
-- CREATE TABLE AS on every run (so the planner can use parallel workers for the heavy joins); the table
-- created here gives it its shape between runs (plpgsql_check reads it). Dependency state is kept only
-- for the claims that can depend on others.

DROP TABLE claims_work.facts;
DROP TABLE claims_work.cost;

CREATE UNLOGGED TABLE claims_work.facts (
    line_no integer,
    bin varchar(8),
    pcn varchar(10),
    group_id varchar(15),
    cardholder_id varchar(20),
    person_code varchar(3),
    patient_date_of_birth date,
    patient_gender_code smallint,
    date_of_service date,
    service_provider_id varchar(15),
    prescriber_id varchar(15),
    product_id varchar(19),
    quantity_dispensed numeric(12, 3),
    days_supply smallint,
    fill_number smallint,
    daw_code smallint,
    rx_number varchar(12),
    date_prescription_written date,
    submission_clarification_code smallint,
    prior_authorization_number_submitted varchar(11),
    ingredient_cost_submitted numeric(12, 2),
    dispensing_fee_submitted numeric(12, 2),
    usual_and_customary_charge numeric(12, 2),
    gross_amount_due numeric(12, 2),
    plan_year smallint,
    plan_id bigint,
    plan_type text,
    benefit_design_id bigint,
    deductible numeric(12, 2),
    deductible_tiers smallint[],
    oop_max numeric(12, 2),
    insulin_cap_per_month numeric(12, 2),
    insulin_deductible_exempt boolean,
    acip_vaccines_zero boolean,
    brand_penalty_daw smallint[],
    brand_penalty_counts_to_oop boolean,
    rts_threshold numeric(4, 3),
    rts_lookback_days smallint,
    member_id bigint,
    pharmacy_id bigint,
    contract_id bigint,
    ingredient_basis text,
    brand_awp_discount numeric(5, 4),
    generic_awp_discount numeric(5, 4),
    brand_dispensing_fee numeric(12, 2),
    generic_dispensing_fee numeric(12, 2),
    mac_list_id bigint,
    drug_ndc char(11),
    is_brand boolean,
    multi_source_code char(1),
    drug_group text,
    therapeutic_class text,
    is_insulin boolean,
    is_vaccine boolean,
    tier smallint,
    step_therapy_class text,
    step_lookback_days smallint,
    pa_number varchar(11),
    syntax_ok boolean,
    independent_codes varchar(3)[],
    base_ok boolean,
    step_needed boolean,
    rts_eligible boolean
);
COMMENT ON TABLE claims_work.facts IS
'One row per staged claim of the running batch: its request and every fact that does not depend on other claims (rebuilt by CREATE TABLE AS on each run).';

CREATE UNLOGGED TABLE claims_work.state (
    line_no integer PRIMARY KEY,
    member_id bigint,
    drug_group text,
    service_provider_id varchar(15),
    rx_number varchar(12),
    fill_number smallint,
    date_of_service date,
    days_supply smallint,
    quantity_dispensed numeric(12, 3),
    base_ok boolean NOT NULL,
    syntax_ok boolean NOT NULL,
    in_rts_group boolean NOT NULL,
    in_dup_group boolean NOT NULL,
    rts_eligible boolean NOT NULL,
    rts_lookback_days smallint,
    rts_threshold numeric(4, 3),
    step_needed boolean NOT NULL,
    step_therapy_class text,
    step_lookback_days smallint,
    duplicate_of_claim_id bigint,
    is_duplicate boolean NOT NULL DEFAULT FALSE,
    duplicate_of_line integer,
    step_therapy_unmet boolean NOT NULL DEFAULT FALSE,
    refill_too_soon boolean NOT NULL DEFAULT FALSE,
    rts_reach integer,
    rts_last_date date,
    rts_last_days integer,
    rts_last_quantity numeric(12, 3),
    paid boolean NOT NULL
);
COMMENT ON TABLE claims_work.state IS
'The claims of the running batch that can depend on others (a drug group with history or several claims, a repeated pharmacy/Rx/fill/date key, step therapy), with their dependent facts as the fixed point settles.';
CREATE INDEX state_member_idx ON claims_work.state (member_id);

CREATE UNLOGGED TABLE claims_work.step_prerequisites (
    line_no integer PRIMARY KEY,
    member_id bigint NOT NULL,
    therapeutic_class text NOT NULL,
    date_of_service date NOT NULL,
    base_ok boolean NOT NULL
);
COMMENT ON TABLE claims_work.step_prerequisites IS
'Claims of the running batch that could satisfy the step therapy of another claim of the same member.';

CREATE UNLOGGED TABLE claims_work.dirty_members (member_id bigint PRIMARY KEY);
COMMENT ON TABLE claims_work.dirty_members IS 'Members whose claims must be looked at again in the next dependency pass.';

CREATE UNLOGGED TABLE claims_work.dirty_keys (
    service_provider_id varchar(15) NOT NULL,
    rx_number varchar(12) NOT NULL,
    fill_number smallint NOT NULL,
    date_of_service date NOT NULL,
    PRIMARY KEY (service_provider_id, rx_number, fill_number, date_of_service)
);
COMMENT ON TABLE claims_work.dirty_keys IS 'Pharmacy/Rx/fill/date keys to look at again (duplicates) in the next dependency pass.';

CREATE UNLOGGED TABLE claims_work.rts_result (
    line_no integer PRIMARY KEY,
    reach integer,
    last_date date,
    last_days integer,
    last_quantity numeric(12, 3)
);
COMMENT ON TABLE claims_work.rts_result IS 'Refill-too-soon supply of the claims of the current dependency pass.';

CREATE UNLOGGED TABLE claims_work.cost (
    line_no integer PRIMARY KEY,
    member_id bigint NOT NULL,
    plan_year smallint NOT NULL,
    ingredient_cost_paid numeric(12, 2),
    dispensing_fee_paid numeric(12, 2),
    allowed_amount numeric(12, 2),
    pricing_source text,
    basis_of_reimbursement smallint,
    amount_applied_to_deductible numeric(12, 2),
    amount_of_copay numeric(12, 2),
    amount_of_coinsurance numeric(12, 2),
    amount_attributed_to_product_selection numeric(12, 2),
    patient_pay_amount numeric(12, 2),
    oop_delta numeric(12, 2),
    stage_deductible_amount numeric(12, 2),
    stage_initial_amount numeric(12, 2),
    stage_catastrophic_amount numeric(12, 2),
    deductible_part numeric(12, 2),
    deductible_after numeric(12, 2),
    oop_after numeric(12, 2)
);
COMMENT ON TABLE claims_work.cost IS 'Pricing and cost sharing of the paid claims of the running batch.';

CREATE UNLOGGED TABLE claims_work.segments (line_no integer PRIMARY KEY, segment integer NOT NULL);
COMMENT ON TABLE claims_work.segments IS
'Benefit-design segment of the paid claims of members whose plan changes inside the year of the batch (others: one segment).';
