-- Claims: batches of staged requests, the claims table partitioned by month of service with its
-- partition maintenance functions, accumulators and prior authorizations.

CREATE TABLE claims.batches (
    batch_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL,
    file_name text,
    status text NOT NULL DEFAULT 'received' CONSTRAINT batches_status_is_known CHECK (
        status IN ('received', 'pending', 'adjudicated', 'paid')
    ),
    received_at timestamptz NOT NULL DEFAULT now(),
    adjudicated_at timestamptz,
    paid_at timestamptz
);
COMMENT ON TABLE claims.batches IS
'Batches of claim requests (nightly files, resubmissions, synthetic history): received -> pending -> adjudicated -> paid.';
COMMENT ON COLUMN claims.batches.source IS 'Where the batch came from: etl, synthetic, resubmission, cli';

-- Staged requests: what pharmacies sent, typed, before adjudication. Fields keep NCPDP names.
CREATE TABLE claims.batch_claims (
    batch_id bigint NOT NULL REFERENCES claims.batches (batch_id),
    line_no integer NOT NULL CONSTRAINT batch_claims_line_no_positive CHECK (line_no > 0),
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
    PRIMARY KEY (batch_id, line_no)
);
COMMENT ON TABLE claims.batch_claims IS
'Claim requests (NCPDP B1) staged in a batch, as submitted; claims.adjudicate_batch turns them into claims.claims rows.';

CREATE SEQUENCE claims.claim_id_seq AS bigint;
COMMENT ON SEQUENCE claims.claim_id_seq IS 'Claim identifiers (identity columns are not allowed on partitioned tables in PostgreSQL 15).';

CREATE TABLE claims.claims (
    claim_id bigint NOT NULL DEFAULT nextval('claims.claim_id_seq'),
    transaction_code char(2) NOT NULL DEFAULT 'B1' CONSTRAINT claims_transaction_code_b1_b2 CHECK (
        transaction_code IN ('B1', 'B2')
    ),
    received_at timestamptz NOT NULL DEFAULT now(),
    batch_id bigint,
    batch_line_no integer,
    -- request
    bin varchar(8),
    pcn varchar(10),
    group_id varchar(15),
    cardholder_id varchar(20),
    person_code varchar(3),
    patient_date_of_birth date,
    patient_gender_code smallint,
    date_of_service date NOT NULL,
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
    -- what the request resolved to
    member_id bigint,
    plan_id bigint,
    plan_year smallint,
    pharmacy_id bigint,
    tier smallint,
    -- response
    transaction_response_status char(1) NOT NULL CONSTRAINT claims_response_status_is_known CHECK (
        transaction_response_status IN ('P', 'R', 'D', 'A')
    ),
    reject_codes varchar(3)[] NOT NULL DEFAULT '{}',
    ingredient_cost_paid numeric(12, 2),
    dispensing_fee_paid numeric(12, 2),
    total_amount_paid numeric(12, 2),
    basis_of_reimbursement smallint,
    pricing_source text CONSTRAINT claims_pricing_source_is_known CHECK (
        pricing_source IN ('MAC', 'AWP', 'NADAC', 'U&C', 'GROSS_AMOUNT_DUE', 'SUBMITTED')
    ),
    patient_pay_amount numeric(12, 2),
    amount_applied_to_deductible numeric(12, 2),
    amount_of_copay numeric(12, 2),
    amount_of_coinsurance numeric(12, 2),
    amount_attributed_to_product_selection numeric(12, 2),
    stage_deductible_amount numeric(12, 2),
    stage_initial_amount numeric(12, 2),
    stage_catastrophic_amount numeric(12, 2),
    accumulated_deductible_amount numeric(12, 2),
    remaining_deductible_amount numeric(12, 2),
    accumulated_oop_amount numeric(12, 2),
    remaining_oop_amount numeric(12, 2),
    deductible_delta numeric(12, 2) NOT NULL DEFAULT 0,
    oop_delta numeric(12, 2) NOT NULL DEFAULT 0,
    gross_cost_delta numeric(12, 2) NOT NULL DEFAULT 0,
    dur_reason_code char(2),
    previous_fill_date date,
    previous_fill_quantity numeric(12, 3),
    next_available_fill_date date,
    prior_authorization_number varchar(11),
    m3p_amount numeric(12, 2) NOT NULL DEFAULT 0,
    m3p_ltb_notice boolean NOT NULL DEFAULT FALSE,
    duplicate_of_claim_id bigint,
    reversal_of_claim_id bigint,
    reversed_by_claim_id bigint,
    reversed_at timestamptz,
    PRIMARY KEY (claim_id, date_of_service),
    CONSTRAINT claims_days_supply_sane CHECK (days_supply BETWEEN 1 AND 365),
    CONSTRAINT claims_quantity_positive CHECK (quantity_dispensed > 0),
    CONSTRAINT claims_fill_number_0_to_99 CHECK (fill_number BETWEEN 0 AND 99),
    CONSTRAINT claims_daw_code_0_to_9 CHECK (daw_code BETWEEN 0 AND 9),
    CONSTRAINT claims_submitted_amounts_not_negative CHECK (
        ingredient_cost_submitted >= 0 AND dispensing_fee_submitted >= 0
        AND usual_and_customary_charge >= 0 AND gross_amount_due >= 0
    ),
    CONSTRAINT claims_rejected_has_reject_codes CHECK (
        (transaction_response_status = 'R') = (cardinality(reject_codes) > 0)
    ),
    CONSTRAINT claims_paid_has_amounts CHECK (
        transaction_response_status <> 'P' OR (
            member_id IS NOT NULL AND plan_id IS NOT NULL AND pharmacy_id IS NOT NULL
            AND ingredient_cost_paid IS NOT NULL AND dispensing_fee_paid IS NOT NULL
            AND total_amount_paid IS NOT NULL AND patient_pay_amount IS NOT NULL
        )
    ),
    CONSTRAINT claims_patient_pay_components_add_up CHECK (
        transaction_response_status <> 'P'
        OR patient_pay_amount = amount_applied_to_deductible + amount_of_copay + amount_of_coinsurance
        + amount_attributed_to_product_selection
    ),
    CONSTRAINT claims_plan_paid_is_allowed_minus_patient_pay CHECK (
        transaction_response_status <> 'P'
        OR total_amount_paid = ingredient_cost_paid + dispensing_fee_paid - patient_pay_amount
    ),
    CONSTRAINT claims_benefit_stages_add_up_to_allowed CHECK (
        transaction_response_status <> 'P'
        OR stage_deductible_amount + stage_initial_amount + stage_catastrophic_amount
        = ingredient_cost_paid + dispensing_fee_paid
    ),
    CONSTRAINT claims_paid_amounts_not_negative CHECK (
        transaction_response_status <> 'P' OR (
            ingredient_cost_paid >= 0 AND dispensing_fee_paid >= 0 AND total_amount_paid >= 0
            AND patient_pay_amount >= 0 AND amount_applied_to_deductible >= 0 AND amount_of_copay >= 0
            AND amount_of_coinsurance >= 0 AND amount_attributed_to_product_selection >= 0
        )
    ),
    CONSTRAINT claims_m3p_within_patient_pay CHECK (m3p_amount >= 0 AND m3p_amount <= coalesce(patient_pay_amount, 0)),
    CONSTRAINT claims_reversal_is_b2 CHECK ((transaction_code = 'B2') = (reversal_of_claim_id IS NOT NULL)),
    CONSTRAINT claims_only_paid_claims_are_reversed CHECK (
        reversed_by_claim_id IS NULL OR transaction_response_status = 'P'
    ),
    CONSTRAINT claims_duplicate_points_at_original CHECK (
        (transaction_response_status = 'D') = (duplicate_of_claim_id IS NOT NULL)
    )
) PARTITION BY RANGE (date_of_service);

COMMENT ON TABLE claims.claims IS
'PHI. Every adjudicated transaction: paid (P), rejected (R), duplicate of paid (D) and accepted reversals (A, a B2 row linked to its B1). Partitioned by month of date_of_service; the default partition keeps dates outside the monthly partitions.';
COMMENT ON COLUMN claims.claims.claim_id IS 'Claim identifier; also the NCPDP 503-F3 Authorization Number returned';
COMMENT ON COLUMN claims.claims.transaction_code IS 'NCPDP 103-A3 Transaction Code: B1 billing, B2 reversal';
COMMENT ON COLUMN claims.claims.batch_id IS 'Batch the claim was adjudicated in (NULL: real time through api.adjudicate)';
COMMENT ON COLUMN claims.claims.bin IS 'NCPDP 101-A1 BIN (IIN)';
COMMENT ON COLUMN claims.claims.pcn IS 'NCPDP 104-A4 Processor Control Number';
COMMENT ON COLUMN claims.claims.group_id IS 'NCPDP 301-C1 Group ID';
COMMENT ON COLUMN claims.claims.cardholder_id IS 'NCPDP 302-C2 Cardholder ID';
COMMENT ON COLUMN claims.claims.person_code IS 'NCPDP 303-C3 Person Code';
COMMENT ON COLUMN claims.claims.patient_date_of_birth IS 'NCPDP 304-C4 Date of Birth (as submitted)';
COMMENT ON COLUMN claims.claims.patient_gender_code IS 'NCPDP 305-C5 Patient Gender Code (as submitted): 0 unknown, 1 male, 2 female';
COMMENT ON COLUMN claims.claims.date_of_service IS 'NCPDP 401-D1 Date of Service (partition key)';
COMMENT ON COLUMN claims.claims.service_provider_id IS 'NCPDP 201-B1 Service Provider ID: the pharmacy NPI';
COMMENT ON COLUMN claims.claims.prescriber_id IS 'NCPDP 411-DB Prescriber ID: the prescriber NPI';
COMMENT ON COLUMN claims.claims.product_id IS 'NCPDP 407-D7 Product/Service ID: NDC-11 as submitted';
COMMENT ON COLUMN claims.claims.quantity_dispensed IS 'NCPDP 442-E7 Quantity Dispensed (3 decimals)';
COMMENT ON COLUMN claims.claims.days_supply IS 'NCPDP 405-D5 Days Supply';
COMMENT ON COLUMN claims.claims.fill_number IS 'NCPDP 403-D3 Fill Number: 0 original, then refills';
COMMENT ON COLUMN claims.claims.daw_code IS 'NCPDP 408-D8 Dispense As Written (DAW)/Product Selection Code';
COMMENT ON COLUMN claims.claims.rx_number IS 'NCPDP 402-D2 Prescription/Service Reference Number';
COMMENT ON COLUMN claims.claims.date_prescription_written IS 'NCPDP 414-DE Date Prescription Written';
COMMENT ON COLUMN claims.claims.submission_clarification_code IS
'NCPDP 420-DK Submission Clarification Code (3 vacation, 4 lost, 5 therapy change, 13 emergency, 14 LTC leave override refill too soon)';
COMMENT ON COLUMN claims.claims.prior_authorization_number_submitted IS 'NCPDP 462-EV Prior Authorization Number Submitted';
COMMENT ON COLUMN claims.claims.ingredient_cost_submitted IS 'NCPDP 409-D9 Ingredient Cost Submitted';
COMMENT ON COLUMN claims.claims.dispensing_fee_submitted IS 'NCPDP 412-DC Dispensing Fee Submitted';
COMMENT ON COLUMN claims.claims.usual_and_customary_charge IS 'NCPDP 426-DQ Usual and Customary Charge';
COMMENT ON COLUMN claims.claims.gross_amount_due IS 'NCPDP 430-DU Gross Amount Due';
COMMENT ON COLUMN claims.claims.member_id IS 'Member matched by cardholder ID and person code';
COMMENT ON COLUMN claims.claims.plan_year IS 'Calendar plan year of the date of service (accumulator year)';
COMMENT ON COLUMN claims.claims.tier IS 'Formulary tier the claim was priced at';
COMMENT ON COLUMN claims.claims.transaction_response_status IS
'NCPDP 112-AN Transaction Response Status: P paid, R rejected, D duplicate of paid, A accepted (reversal)';
COMMENT ON COLUMN claims.claims.reject_codes IS 'NCPDP 511-FB Reject Codes, in edit order (ref.reject_codes)';
COMMENT ON COLUMN claims.claims.ingredient_cost_paid IS 'NCPDP 506-F6 Ingredient Cost Paid';
COMMENT ON COLUMN claims.claims.dispensing_fee_paid IS 'NCPDP 507-F7 Dispensing Fee Paid';
COMMENT ON COLUMN claims.claims.total_amount_paid IS 'NCPDP 509-F9 Total Amount Paid: allowed minus patient pay (plan pays the pharmacy)';
COMMENT ON COLUMN claims.claims.basis_of_reimbursement IS 'NCPDP 522-FM Basis of Reimbursement Determination (ref.basis_of_reimbursement_codes)';
COMMENT ON COLUMN claims.claims.pricing_source IS 'Which term of the lesser-of won: MAC, AWP, NADAC, U&C, GROSS_AMOUNT_DUE or SUBMITTED';
COMMENT ON COLUMN claims.claims.patient_pay_amount IS 'NCPDP 505-F5 Patient Pay Amount: the member''s cost share, sum of the components';
COMMENT ON COLUMN claims.claims.amount_applied_to_deductible IS 'NCPDP 517-FH Amount Applied to Periodic Deductible';
COMMENT ON COLUMN claims.claims.amount_of_copay IS 'NCPDP 518-FI Amount of Copay';
COMMENT ON COLUMN claims.claims.amount_of_coinsurance IS 'NCPDP 572-4U Amount of Coinsurance';
COMMENT ON COLUMN claims.claims.amount_attributed_to_product_selection IS
'NCPDP 519-FJ Amount Attributed to Product Selection/Brand Drug: the DAW brand penalty';
COMMENT ON COLUMN claims.claims.stage_deductible_amount IS 'NCPDP 394-MW Benefit Stage Amount, 393-MV qualifier 01 (deductible)';
COMMENT ON COLUMN claims.claims.stage_initial_amount IS 'NCPDP 394-MW Benefit Stage Amount, qualifier 02 (initial benefit)';
COMMENT ON COLUMN claims.claims.stage_catastrophic_amount IS 'NCPDP 394-MW Benefit Stage Amount, qualifier 04 (catastrophic)';
COMMENT ON COLUMN claims.claims.accumulated_deductible_amount IS 'NCPDP 512-FC Accumulated Deductible Amount, after this claim';
COMMENT ON COLUMN claims.claims.remaining_deductible_amount IS 'NCPDP 513-FD Remaining Deductible Amount, after this claim';
COMMENT ON COLUMN claims.claims.accumulated_oop_amount IS 'Out-of-pocket (TrOOP) accumulated in the plan year, after this claim';
COMMENT ON COLUMN claims.claims.remaining_oop_amount IS 'Out-of-pocket still to go before the threshold / maximum, after this claim';
COMMENT ON COLUMN claims.claims.deductible_delta IS 'Ledger: what this row added to the member''s deductible accumulator (negative on a reversal)';
COMMENT ON COLUMN claims.claims.oop_delta IS 'Ledger: what this row added to the out-of-pocket accumulator (negative on a reversal)';
COMMENT ON COLUMN claims.claims.gross_cost_delta IS 'Ledger: what this row added to the gross covered drug cost accumulator';
COMMENT ON COLUMN claims.claims.dur_reason_code IS 'NCPDP 439-E4 Reason for Service (ER = refill too soon)';
COMMENT ON COLUMN claims.claims.previous_fill_date IS 'NCPDP 530-FU Previous Date of Fill (refill too soon)';
COMMENT ON COLUMN claims.claims.previous_fill_quantity IS 'NCPDP 531-FV Quantity of Previous Fill';
COMMENT ON COLUMN claims.claims.next_available_fill_date IS 'NCPDP B04-BT Next Available Fill Date (refill too soon)';
COMMENT ON COLUMN claims.claims.prior_authorization_number IS 'NCPDP 498-PY Prior Authorization Number Assigned that paid the claim';
COMMENT ON COLUMN claims.claims.m3p_amount IS
'M3P: the member''s out-of-pocket cost moved into the Medicare Prescription Payment Plan (the pharmacy collects patient pay minus this)';
COMMENT ON COLUMN claims.claims.m3p_ltb_notice IS
'M3P likely-to-benefit: the pharmacy must give the member the notice (approved message code 056)';
COMMENT ON COLUMN claims.claims.duplicate_of_claim_id IS 'For status D: the paid claim this one duplicates';
COMMENT ON COLUMN claims.claims.reversal_of_claim_id IS 'For a B2 reversal: the claim it reverses';
COMMENT ON COLUMN claims.claims.reversed_by_claim_id IS 'For a reversed B1: the B2 that reversed it';

CREATE TABLE claims.claims_default PARTITION OF claims.claims DEFAULT;
COMMENT ON TABLE claims.claims_default IS 'Claims whose date of service has no monthly partition (nothing is lost).';

-- Duplicate and reversal matching: pharmacy, Rx number, fill number, date of service.
CREATE INDEX claims_rx_key_idx ON claims.claims (service_provider_id, rx_number, fill_number, date_of_service);
-- Member history: refill too soon, step therapy, accumulator checks, member views.
CREATE INDEX claims_member_idx ON claims.claims (member_id, date_of_service);
-- Remittance and pharmacy views.
CREATE INDEX claims_batch_idx ON claims.claims (batch_id, batch_line_no);

-- Partition maintenance. These live in a migration because the migration itself uses them.
CREATE FUNCTION claims.create_month_partitions(p_from date, p_to date)
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    v_month date;
    v_name text;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'create_month_partitions needs p_from <= p_to (got % and %)', p_from, p_to
            USING ERRCODE = '22023';
    END IF;
    FOR v_month IN
        SELECT generate_series(date_trunc('month', p_from), date_trunc('month', p_to), interval '1 month')::date
    LOOP
        v_name := format('claims_y%sm%s', to_char(v_month, 'YYYY'), to_char(v_month, 'MM'));
        CONTINUE WHEN to_regclass(format('claims.%I', v_name)) IS NOT NULL;
        -- Rows already sitting in the default partition for this month move into the new one,
        -- otherwise ATTACH would refuse: nothing is lost and nothing is duplicated.
        EXECUTE format(
            'CREATE TABLE claims.%I (LIKE claims.claims INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name
        );
        EXECUTE format(
            'WITH moved AS (DELETE FROM claims.claims_default WHERE date_of_service >= %L AND date_of_service < %L '
            'RETURNING *) INSERT INTO claims.%I SELECT * FROM moved',
            v_month, (v_month + interval '1 month')::date, v_name
        );
        EXECUTE format(
            'ALTER TABLE claims.claims ATTACH PARTITION claims.%I FOR VALUES FROM (%L) TO (%L)',
            v_name, v_month, (v_month + interval '1 month')::date
        );
        EXECUTE format('COMMENT ON TABLE claims.%I IS %L', v_name,
            format('Claims with a date of service in %s (monthly partition of claims.claims).', to_char(v_month, 'YYYY-MM')));
        RETURN NEXT v_name;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION claims.create_month_partitions(date, date) IS
'Creates the monthly partitions of claims.claims covering p_from..p_to that do not exist yet (moving any rows of those months out of the default partition); returns the names created.';

CREATE SCHEMA claims_archive;
COMMENT ON SCHEMA claims_archive IS
'Detached monthly claim partitions, kept as plain tables until the DBA archives (pg_dump) and drops them.';

CREATE FUNCTION claims.detach_month_partition(p_month date)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_name text := format('claims_y%sm%s', to_char(p_month, 'YYYY'), to_char(p_month, 'MM'));
BEGIN
    IF to_regclass(format('claims.%I', v_name)) IS NULL THEN
        RAISE EXCEPTION 'no partition claims.% for month %', v_name, to_char(p_month, 'YYYY-MM')
            USING ERRCODE = '42P01', HINT = 'See the partitions with: SELECT * FROM claims.partitions';
    END IF;
    EXECUTE format('ALTER TABLE claims.claims DETACH PARTITION claims.%I', v_name);
    EXECUTE format('ALTER TABLE claims.%I SET SCHEMA claims_archive', v_name);
    RETURN format('claims_archive.%I', v_name);
END;
$$;
COMMENT ON FUNCTION claims.detach_month_partition(date) IS
'Detaches the monthly partition holding p_month from claims.claims and moves it to schema claims_archive; returns its new name.';

CREATE VIEW claims.partitions AS
SELECT
    c.oid::regclass AS partition_name,
    pg_get_expr(c.relpartbound, c.oid) AS bounds,
    c.reltuples::bigint AS estimated_rows,
    pg_total_relation_size(c.oid) AS total_bytes
FROM pg_catalog.pg_inherits AS i
INNER JOIN pg_catalog.pg_class AS c ON i.inhrelid = c.oid
WHERE i.inhparent = 'claims.claims'::regclass;
COMMENT ON VIEW claims.partitions IS 'The partitions of claims.claims with their bounds, estimated rows and size.';

-- Partitions around today: two years back (claims history) to a year ahead.
SELECT count(*) AS partitions_created
FROM claims.create_month_partitions(
    (date_trunc('year', current_date) - interval '2 years')::date,
    (date_trunc('month', current_date) + interval '12 months')::date
);

CREATE TABLE claims.accumulators (
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    plan_year smallint NOT NULL,
    deductible_accumulated numeric(12, 2) NOT NULL DEFAULT 0,
    oop_accumulated numeric(12, 2) NOT NULL DEFAULT 0,
    gross_cost_accumulated numeric(12, 2) NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, plan_year),
    CONSTRAINT accumulators_not_negative CHECK (
        deductible_accumulated >= 0 AND oop_accumulated >= 0 AND gross_cost_accumulated >= 0
    )
);
COMMENT ON TABLE claims.accumulators IS
'PHI. Benefit accumulators per member and plan year; always equal to the sums of the ledger deltas on claims.claims (pbm db check).';
COMMENT ON COLUMN claims.accumulators.deductible_accumulated IS 'Deductible satisfied so far (NCPDP 512-FC)';
COMMENT ON COLUMN claims.accumulators.oop_accumulated IS 'Out-of-pocket costs counting toward the threshold/maximum (Part D TrOOP)';
COMMENT ON COLUMN claims.accumulators.gross_cost_accumulated IS 'Gross covered drug cost (allowed amounts) of paid claims';

CREATE TABLE claims.prior_authorizations (
    prior_authorization_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pa_number varchar(11) NOT NULL UNIQUE,
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    drug_group text NOT NULL,
    prescriber_npi char(10),
    urgency text NOT NULL DEFAULT 'standard' CONSTRAINT prior_authorizations_urgency_is_known CHECK (
        urgency IN ('standard', 'expedited')
    ),
    status text NOT NULL DEFAULT 'received' CONSTRAINT prior_authorizations_status_is_known CHECK (
        status IN (
            'received', 'pended_info', 'in_review', 'approved', 'partially_approved', 'denied', 'withdrawn',
            'expired', 'revoked'
        )
    ),
    received_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    decided_at timestamptz,
    decision_reason text,
    effective_date date,
    expiration_date date,
    approved_quantity numeric(12, 3) CONSTRAINT prior_authorizations_quantity_positive CHECK (approved_quantity > 0),
    CONSTRAINT prior_authorizations_due_after_receipt CHECK (due_at > received_at),
    CONSTRAINT prior_authorizations_approval_has_dates CHECK (
        status NOT IN ('approved', 'partially_approved', 'expired')
        OR (effective_date IS NOT NULL AND expiration_date IS NOT NULL AND expiration_date >= effective_date)
    ),
    CONSTRAINT prior_authorizations_denial_has_reason CHECK (status <> 'denied' OR decision_reason IS NOT NULL)
);
COMMENT ON TABLE claims.prior_authorizations IS
'PHI. Prior authorization (coverage determination) requests and decisions; an approved, unexpired PA for the member and drug group lets a claim pass the PA edit.';
COMMENT ON COLUMN claims.prior_authorizations.pa_number IS 'NCPDP 498-PY Prior Authorization Number Assigned (may be submitted in 462-EV)';
COMMENT ON COLUMN claims.prior_authorizations.drug_group IS 'Scope: the drug group (ingredient, strength, form) the PA covers';
COMMENT ON COLUMN claims.prior_authorizations.urgency IS 'standard: decision due 72 hours after receipt; expedited: 24 hours (42 CFR 423.568-572)';
COMMENT ON COLUMN claims.prior_authorizations.due_at IS 'When the decision is due (receipt + 72 h or 24 h); later without a decision = overdue';
COMMENT ON COLUMN claims.prior_authorizations.effective_date IS 'NCPDP 498-PS Prior Authorization Effective Date';
COMMENT ON COLUMN claims.prior_authorizations.expiration_date IS 'NCPDP 498-PT Prior Authorization Expiration Date (inclusive)';
COMMENT ON COLUMN claims.prior_authorizations.approved_quantity IS 'Most units per claim the PA allows; more: reject 64';
CREATE INDEX prior_authorizations_member_idx ON claims.prior_authorizations (member_id, drug_group);

CREATE TABLE claims.prior_authorization_events (
    prior_authorization_event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    prior_authorization_id bigint NOT NULL REFERENCES claims.prior_authorizations (prior_authorization_id),
    member_id bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    from_status text,
    to_status text NOT NULL,
    note text
);
COMMENT ON TABLE claims.prior_authorization_events IS 'PHI. Each state change of a prior authorization, with when and why.';
CREATE INDEX prior_authorization_events_pa_idx ON claims.prior_authorization_events (prior_authorization_id);
