-- Work tables of claims.adjudicate_batch. UNLOGGED (nothing here survives a batch: it is recomputed from
-- claims.batch_claims), in their own schema so they are not mistaken for PHI tables. Batches are
-- adjudicated one at a time (advisory lock), so each run truncates and refills them.

CREATE SCHEMA claims_work;
COMMENT ON SCHEMA claims_work IS
'Scratch tables of the batch adjudicator (claims.adjudicate_batch): emptied at the start of each run, never read by anyone else.';

CREATE UNLOGGED TABLE claims_work.facts (
    line_no integer PRIMARY KEY,
    ord integer NOT NULL,
    claim_id bigint NOT NULL,
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
    syntax_ok boolean NOT NULL,
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
    independent_codes varchar(3)[] NOT NULL,
    step_needed boolean NOT NULL,
    rts_eligible boolean NOT NULL,
    dep_rts boolean NOT NULL DEFAULT FALSE,
    dep_dup boolean NOT NULL DEFAULT FALSE,
    is_duplicate boolean NOT NULL DEFAULT FALSE,
    duplicate_of_claim_id bigint,
    duplicate_of_ord integer,
    step_therapy_unmet boolean NOT NULL DEFAULT FALSE,
    refill_too_soon boolean NOT NULL DEFAULT FALSE,
    rts_reach integer,
    rts_last_date date,
    rts_last_days integer,
    rts_last_quantity numeric(12, 3),
    paid boolean NOT NULL DEFAULT FALSE
);
COMMENT ON TABLE claims_work.facts IS
'One row per staged claim of the running batch: its request and every fact the edits decide on.';
CREATE INDEX facts_ord_idx ON claims_work.facts (ord);
CREATE INDEX facts_member_idx ON claims_work.facts (member_id, drug_group);

CREATE UNLOGGED TABLE claims_work.history (
    member_id bigint NOT NULL,
    drug_group text NOT NULL,
    date_of_service date NOT NULL,
    claim_id bigint NOT NULL,
    days_supply smallint NOT NULL,
    quantity_dispensed numeric(12, 3)
);
COMMENT ON TABLE claims_work.history IS
'Paid, unreversed claims already stored for the members and drug groups of the running batch (refill too soon).';

CREATE UNLOGGED TABLE claims_work.cost (
    line_no integer PRIMARY KEY,
    ord integer NOT NULL,
    member_id bigint NOT NULL,
    plan_year smallint NOT NULL,
    benefit_design_id bigint NOT NULL,
    deductible numeric(12, 2) NOT NULL,
    oop_max numeric(12, 2) NOT NULL,
    brand_penalty_counts_to_oop boolean NOT NULL,
    days_supply smallint NOT NULL,
    insulin_cap numeric(12, 2),
    zero_cost boolean NOT NULL,
    cost_share_type text NOT NULL,
    copay_amount numeric(12, 2),
    coinsurance_rate numeric(5, 4),
    min_amount numeric(12, 2),
    max_amount numeric(12, 2),
    ingredient_cost_paid numeric(12, 2) NOT NULL,
    dispensing_fee_paid numeric(12, 2) NOT NULL,
    allowed_amount numeric(12, 2) NOT NULL,
    pricing_source text NOT NULL,
    basis_of_reimbursement smallint NOT NULL,
    penalty numeric(12, 2) NOT NULL,
    deductible_applies boolean NOT NULL,
    segment integer NOT NULL DEFAULT 1,
    deductible_before numeric(12, 2),
    deductible_part numeric(12, 2),
    copay_part numeric(12, 2),
    coinsurance_part numeric(12, 2),
    penalty_part numeric(12, 2),
    countable numeric(12, 2),
    oop_before numeric(12, 2)
);
COMMENT ON TABLE claims_work.cost IS 'Pricing and cost sharing of the paid claims of the running batch.';

CREATE UNLOGGED TABLE claims_work.accumulators (
    member_id bigint NOT NULL,
    plan_year smallint NOT NULL,
    deductible_accumulated numeric(12, 2) NOT NULL,
    oop_accumulated numeric(12, 2) NOT NULL,
    gross_cost_accumulated numeric(12, 2) NOT NULL,
    PRIMARY KEY (member_id, plan_year)
);
COMMENT ON TABLE claims_work.accumulators IS
'The accumulators of the running batch''s members: locked values at the start, carried from one design segment to the next.';
