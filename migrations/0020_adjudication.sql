-- Adjudication: the typed request both drivers (api.adjudicate and claims.adjudicate_batch) feed to the
-- shared rules, the facts the edits are decided on, a guard that a claim is never paid twice, and
-- reversal rows that mirror their original with negated amounts.

CREATE TYPE claims.claim_request AS (
    bin varchar (8),
    pcn varchar (10),
    group_id varchar (15),
    cardholder_id varchar (20),
    person_code varchar (3),
    patient_date_of_birth date,
    patient_gender_code smallint,
    date_of_service date,
    service_provider_id varchar (15),
    prescriber_id varchar (15),
    product_id varchar (19),
    quantity_dispensed numeric (12, 3),
    days_supply smallint,
    fill_number smallint,
    daw_code smallint,
    rx_number varchar (12),
    date_prescription_written date,
    submission_clarification_code smallint,
    prior_authorization_number_submitted varchar (11),
    ingredient_cost_submitted numeric (12, 2),
    dispensing_fee_submitted numeric (12, 2),
    usual_and_customary_charge numeric (12, 2),
    gross_amount_due numeric (12, 2)
);
COMMENT ON TYPE claims.claim_request IS
'An NCPDP B1 claim request, typed: the fields of claims.batch_claims. A field that was missing or malformed is NULL.';

-- What the lookups found about a claim; claims.edit_codes turns it into reject codes in edit order.
CREATE TYPE claims.edit_facts AS (
    bin_unknown boolean,
    pcn_unknown boolean,
    group_unknown boolean,
    cardholder_unknown boolean,
    person_code_unknown boolean,
    coverage_reject varchar (3),
    pharmacy_unknown boolean,
    pharmacy_not_in_network boolean,
    prescriber_unknown boolean,
    prescriber_inactive boolean,
    product_unknown boolean,
    product_discontinued boolean,
    not_on_formulary boolean,
    excluded boolean,
    under_min_age boolean,
    over_max_age boolean,
    gender_not_covered boolean,
    days_supply_over_limit boolean,
    pa_missing boolean,
    pa_quantity_exceeded boolean,
    quantity_limit_exceeded boolean,
    step_therapy_unmet boolean,
    refill_too_soon boolean
);
COMMENT ON TYPE claims.edit_facts IS
'The facts the edits decide on (NULL = could not be evaluated because an earlier lookup failed).';

-- A claim is paid at most once: one paid, unreversed claim per pharmacy, Rx number, fill and date.
-- This replaces the plain lookup index and also serves duplicate and reversal matching.
DROP INDEX claims.claims_rx_key_idx;
CREATE UNIQUE INDEX claims_paid_once ON claims.claims (service_provider_id, rx_number, fill_number, date_of_service)
WHERE transaction_response_status = 'P' AND reversed_by_claim_id IS NULL;
COMMENT ON INDEX claims.claims_paid_once IS
'Never paid twice: at most one paid, unreversed claim per pharmacy, Rx number, fill number and date of service.';

-- Reversal rows (B2, status A) carry the original's amounts negated, so sums over rows are net amounts;
-- a rejected B2 (no matching paid claim, reject 31) points at nothing.
ALTER TABLE claims.claims DROP CONSTRAINT claims_reversal_is_b2;
ALTER TABLE claims.claims ADD CONSTRAINT claims_reversal_is_b2 CHECK (
    reversal_of_claim_id IS NULL OR transaction_code = 'B2'
);
ALTER TABLE claims.claims ADD CONSTRAINT claims_accepted_b2_reverses_a_claim CHECK (
    transaction_response_status <> 'A' OR reversal_of_claim_id IS NOT NULL
);
ALTER TABLE claims.claims DROP CONSTRAINT claims_m3p_within_patient_pay;
ALTER TABLE claims.claims ADD CONSTRAINT claims_m3p_within_patient_pay CHECK (
    abs(m3p_amount) <= abs(coalesce(patient_pay_amount, 0))
    AND (m3p_amount >= 0 OR transaction_response_status = 'A')
);

CREATE SEQUENCE claims.pa_number_seq AS bigint MINVALUE 1 MAXVALUE 999999999;
COMMENT ON SEQUENCE claims.pa_number_seq IS 'Prior authorization numbers: PA followed by 9 digits (NCPDP 498-PY, 11 characters).';

CREATE TYPE claims.eligibility AS (
    plan_id bigint,
    benefit_design_id bigint,
    member_id bigint,
    coverage_span_id bigint,
    bin_unknown boolean,
    pcn_unknown boolean,
    group_unknown boolean,
    cardholder_unknown boolean,
    person_code_unknown boolean,
    coverage_reject varchar (3)
);
COMMENT ON TYPE claims.eligibility IS
'Who and what a request is for: routed plan and its benefit design of the year, the member, the covering span, and the routing, member and eligibility facts (claims.eligibility_lookup).';
