-- Reporting: the stored parts of the de-identified star schema. Views and materialized views are
-- repeatable (reports/); what holds state lives here: the pseudonym key and member map (owner only,
-- schema reporting_private), the claim fact table kept up to date month by month by reporting.refresh(),
-- and the refresh log. See docs/decisions/0004-reporting-star-schema-and-pseudonyms.md.

CREATE SCHEMA reporting_private;
COMMENT ON SCHEMA reporting_private IS
'Owner-only internals of reporting: the pseudonym key, the member pseudonym map and the fact table''s month fingerprints. Never granted to any role: BI and analyst sessions read reporting only.';
REVOKE ALL ON SCHEMA reporting_private FROM public;

CREATE TABLE reporting_private.pseudonym_key (
    key_id smallint PRIMARY KEY DEFAULT 1 CONSTRAINT pseudonym_key_single_row CHECK (key_id = 1),
    secret bytea NOT NULL CONSTRAINT pseudonym_key_is_256_bits CHECK (octet_length(secret) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE reporting_private.pseudonym_key IS
'The secret of the keyed pseudonyms of reporting (HMAC-SHA256): one random 256-bit key made by this migration. Readable by the owner only; reporting.rotate_pseudonym_key() replaces it and rebuilds every pseudonym.';
COMMENT ON COLUMN reporting_private.pseudonym_key.secret IS '32 random bytes (pgcrypto gen_random_bytes)';
REVOKE ALL ON reporting_private.pseudonym_key FROM public;
INSERT INTO reporting_private.pseudonym_key (secret) VALUES (public.gen_random_bytes(32));

CREATE TABLE reporting_private.member_keys (
    member_id bigint PRIMARY KEY,
    member_key text NOT NULL CONSTRAINT member_keys_pseudonym_is_unique UNIQUE
    CONSTRAINT member_keys_pseudonym_is_16_hex CHECK (member_key ~ '^[0-9a-f]{16}$')
);
COMMENT ON TABLE reporting_private.member_keys IS
'Member id -> pseudonym (first 64 bits of HMAC-SHA256 of ''member:<id>'' under the pseudonym key), filled by reporting.refresh(). The only way back from a pseudonym to a member: owner only.';

CREATE TABLE reporting_private.fact_claims_months (
    month date PRIMARY KEY CONSTRAINT fact_claims_months_first_of_month CHECK (extract(DAY FROM month) = 1),
    claim_rows bigint NOT NULL,
    claim_id_sum numeric NOT NULL,
    reversed_rows bigint NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE reporting_private.fact_claims_months IS
'Fingerprint of each month of claims.claims (rows, sum of claim ids, reversed rows) when reporting.fact_claims was last built for it: a month whose fingerprint changed is rebuilt by the next refresh.';

-- The claim fact: one row per B1 (billing) transaction, by date of service. Reversals are not rows of
-- their own: the reversed B1 carries is_reversed and reversed_date, so sums over is_paid rows are net.
CREATE TABLE reporting.fact_claims (
    claim_key text PRIMARY KEY CONSTRAINT fact_claims_claim_key_is_16_hex CHECK (claim_key ~ '^[0-9a-f]{16}$'),
    date_key date NOT NULL,
    month date NOT NULL,
    member_key text,
    plan_key bigint,
    pharmacy_key bigint,
    drug_key char(11),
    prescriber_npi char(10),
    plan_year smallint,
    transaction_response_status char(1) NOT NULL,
    is_paid boolean NOT NULL,
    is_reversed boolean NOT NULL,
    reversed_date date,
    is_duplicate boolean NOT NULL,
    reject_codes varchar(3)[] NOT NULL,
    on_formulary boolean,
    tier smallint,
    fill_number smallint,
    daw_code smallint,
    quantity_dispensed numeric(12, 3),
    days_supply smallint,
    ingredient_cost_submitted numeric(12, 2),
    usual_and_customary_charge numeric(12, 2),
    gross_amount_due numeric(12, 2),
    ingredient_cost_paid numeric(12, 2),
    dispensing_fee_paid numeric(12, 2),
    gross_cost numeric(12, 2),
    plan_paid numeric(12, 2),
    member_paid numeric(12, 2),
    deductible_amount numeric(12, 2),
    copay_amount numeric(12, 2),
    coinsurance_amount numeric(12, 2),
    brand_penalty_amount numeric(12, 2),
    stage_deductible_amount numeric(12, 2),
    stage_initial_amount numeric(12, 2),
    stage_catastrophic_amount numeric(12, 2),
    pricing_source text,
    basis_of_reimbursement smallint,
    dur_reason_code char(2),
    prior_authorization_used boolean NOT NULL,
    m3p_amount numeric(12, 2) NOT NULL,
    m3p_ltb_notice boolean NOT NULL,
    CONSTRAINT fact_claims_month_is_month_of_date CHECK (month = date_trunc('month', date_key)::date),
    CONSTRAINT fact_claims_paid_is_unreversed_p CHECK (
        is_paid = (transaction_response_status = 'P' AND NOT is_reversed)
    ),
    CONSTRAINT fact_claims_gross_cost_adds_up CHECK (gross_cost = ingredient_cost_paid + dispensing_fee_paid)
);
COMMENT ON TABLE reporting.fact_claims IS
'Claim fact of the star schema, de-identified: one row per B1 billing transaction (paid, rejected or duplicate) by date of service. Keys: date_key -> dim_date, member_key -> dim_member (the version whose [valid_from, valid_to) holds date_key), plan_key -> dim_plan, pharmacy_key -> dim_pharmacy, drug_key -> dim_drug. Net paid claims: WHERE is_paid. Kept current month by month by reporting.refresh().';
COMMENT ON COLUMN reporting.fact_claims.claim_key IS
'Pseudonym of the claim (keyed hash of the claim id, 16 hex digits): stable across refreshes, not reversible without the owner-only key';
COMMENT ON COLUMN reporting.fact_claims.date_key IS 'Date of service (NCPDP 401-D1); joins dim_date.date_key';
COMMENT ON COLUMN reporting.fact_claims.month IS 'First day of the month of service';
COMMENT ON COLUMN reporting.fact_claims.member_key IS
'Member pseudonym (keyed hash, 16 hex digits); NULL when the claim matched no member. Joins dim_member';
COMMENT ON COLUMN reporting.fact_claims.plan_key IS 'Plan the claim routed to (dim_plan); NULL when it matched none';
COMMENT ON COLUMN reporting.fact_claims.pharmacy_key IS 'Dispensing pharmacy (dim_pharmacy); NULL when unknown';
COMMENT ON COLUMN reporting.fact_claims.drug_key IS
'NDC-11 dispensed (NCPDP 407-D7) when it is in the drug catalog (dim_drug); NULL for unknown products';
COMMENT ON COLUMN reporting.fact_claims.prescriber_npi IS 'Prescriber NPI (NCPDP 411-DB), a public provider identifier; NULL when not a 10-digit NPI';
COMMENT ON COLUMN reporting.fact_claims.plan_year IS 'Calendar plan year of the claim (accumulator year)';
COMMENT ON COLUMN reporting.fact_claims.transaction_response_status IS
'NCPDP 112-AN Transaction Response Status: P paid, R rejected, D duplicate of a paid claim';
COMMENT ON COLUMN reporting.fact_claims.is_paid IS 'Net paid: status P and not reversed. Cost measures count only these rows';
COMMENT ON COLUMN reporting.fact_claims.is_reversed IS 'A paid claim later reversed by a B2 transaction';
COMMENT ON COLUMN reporting.fact_claims.reversed_date IS 'Day the reversal was accepted';
COMMENT ON COLUMN reporting.fact_claims.is_duplicate IS 'Status D: the adjudicator recognised a duplicate of a paid claim and paid nothing';
COMMENT ON COLUMN reporting.fact_claims.reject_codes IS 'NCPDP 511-FB Reject Codes in edit order (see dim_reject_code, claim_reject_codes)';
COMMENT ON COLUMN reporting.fact_claims.on_formulary IS
'The drug was on the plan''s formulary (not excluded) on the date of service under the plan year''s benefit design; NULL without plan or drug';
COMMENT ON COLUMN reporting.fact_claims.tier IS 'Formulary tier the claim was priced at';
COMMENT ON COLUMN reporting.fact_claims.fill_number IS 'NCPDP 403-D3 Fill Number: 0 original, then refills';
COMMENT ON COLUMN reporting.fact_claims.daw_code IS 'NCPDP 408-D8 Dispense As Written code (1 prescriber, 2 patient requested brand)';
COMMENT ON COLUMN reporting.fact_claims.quantity_dispensed IS 'NCPDP 442-E7 Quantity Dispensed';
COMMENT ON COLUMN reporting.fact_claims.days_supply IS 'NCPDP 405-D5 Days Supply';
COMMENT ON COLUMN reporting.fact_claims.ingredient_cost_submitted IS 'NCPDP 409-D9 Ingredient Cost Submitted';
COMMENT ON COLUMN reporting.fact_claims.usual_and_customary_charge IS 'NCPDP 426-DQ Usual and Customary Charge';
COMMENT ON COLUMN reporting.fact_claims.gross_amount_due IS 'NCPDP 430-DU Gross Amount Due';
COMMENT ON COLUMN reporting.fact_claims.ingredient_cost_paid IS 'NCPDP 506-F6 Ingredient Cost Paid';
COMMENT ON COLUMN reporting.fact_claims.dispensing_fee_paid IS 'NCPDP 507-F7 Dispensing Fee Paid';
COMMENT ON COLUMN reporting.fact_claims.gross_cost IS 'Allowed (gross drug) cost: ingredient cost paid + dispensing fee paid = plan paid + member paid';
COMMENT ON COLUMN reporting.fact_claims.plan_paid IS 'NCPDP 509-F9 Total Amount Paid by the plan';
COMMENT ON COLUMN reporting.fact_claims.member_paid IS 'NCPDP 505-F5 Patient Pay Amount';
COMMENT ON COLUMN reporting.fact_claims.deductible_amount IS 'NCPDP 517-FH Amount Applied to Periodic Deductible';
COMMENT ON COLUMN reporting.fact_claims.copay_amount IS 'NCPDP 518-FI Amount of Copay';
COMMENT ON COLUMN reporting.fact_claims.coinsurance_amount IS 'NCPDP 572-4U Amount of Coinsurance';
COMMENT ON COLUMN reporting.fact_claims.brand_penalty_amount IS 'NCPDP 519-FJ Amount Attributed to Product Selection/Brand Drug';
COMMENT ON COLUMN reporting.fact_claims.stage_deductible_amount IS 'NCPDP 394-MW Benefit Stage Amount in the deductible stage';
COMMENT ON COLUMN reporting.fact_claims.stage_initial_amount IS 'NCPDP 394-MW Benefit Stage Amount in the initial coverage stage';
COMMENT ON COLUMN reporting.fact_claims.stage_catastrophic_amount IS 'NCPDP 394-MW Benefit Stage Amount in the catastrophic stage';
COMMENT ON COLUMN reporting.fact_claims.pricing_source IS 'Term of the lesser-of that won: MAC, AWP, NADAC, U&C, GROSS_AMOUNT_DUE or SUBMITTED';
COMMENT ON COLUMN reporting.fact_claims.basis_of_reimbursement IS 'NCPDP 522-FM Basis of Reimbursement Determination';
COMMENT ON COLUMN reporting.fact_claims.dur_reason_code IS 'NCPDP 439-E4 DUR Reason for Service (ER = refill too soon)';
COMMENT ON COLUMN reporting.fact_claims.prior_authorization_used IS 'A prior authorization paid the claim (NCPDP 498-PY assigned)';
COMMENT ON COLUMN reporting.fact_claims.m3p_amount IS 'Member cost share moved into the Medicare Prescription Payment Plan';
COMMENT ON COLUMN reporting.fact_claims.m3p_ltb_notice IS 'The M3P likely-to-benefit notice was flagged to the pharmacy';

CREATE INDEX fact_claims_date_idx ON reporting.fact_claims (date_key);
CREATE INDEX fact_claims_month_idx ON reporting.fact_claims (month);
CREATE INDEX fact_claims_member_idx ON reporting.fact_claims (member_key, date_key);

CREATE TABLE reporting.refresh_log (
    refresh_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    full_rebuild boolean NOT NULL,
    months_rebuilt date[] NOT NULL,
    fact_rows_written bigint NOT NULL,
    views_refreshed integer NOT NULL
);
COMMENT ON TABLE reporting.refresh_log IS
'One row per run of reporting.refresh(): the data of reporting is as of the latest finished_at.';
COMMENT ON COLUMN reporting.refresh_log.refresh_id IS 'Refresh number';
COMMENT ON COLUMN reporting.refresh_log.started_at IS 'When the refresh transaction started';
COMMENT ON COLUMN reporting.refresh_log.finished_at IS 'When it finished (its data became visible at commit)';
COMMENT ON COLUMN reporting.refresh_log.full_rebuild IS 'Every month of the claim fact was rebuilt (first run, --full, key rotation)';
COMMENT ON COLUMN reporting.refresh_log.months_rebuilt IS 'Months of service whose claims changed and were rebuilt in reporting.fact_claims';
COMMENT ON COLUMN reporting.refresh_log.fact_rows_written IS 'Rows written to reporting.fact_claims';
COMMENT ON COLUMN reporting.refresh_log.views_refreshed IS 'Materialized views refreshed (concurrently)';
