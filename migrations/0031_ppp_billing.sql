-- M3P: elections extended (processing, notices, renewal, termination), plan options and preclusions,
-- the program ledger fed by claims, monthly statements, payments with their allocations, refunds.
-- Rules and sources: docs/m3p.md and docs/decisions/ (M3P records).

-- ---------------------------------------------------------------------------------------------------
-- elections: keep the base columns of 0030, add what the election life cycle records
-- ---------------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF to_regclass('ppp.elections') IS NULL THEN
        RAISE EXCEPTION '0031 needs ppp.elections (migration 0030_ppp_elections)';
    END IF;
END;
$$;

ALTER TABLE ppp.elections
ADD COLUMN plan_id bigint REFERENCES plan.plans (plan_id),
ADD COLUMN processed_at timestamptz,
ADD COLUMN acceptance_notice_on date,
ADD COLUMN urgent_claim_id bigint,
ADD COLUMN renewed_from_election_id bigint REFERENCES ppp.elections (election_id),
ADD COLUMN renewal_notice_on date,
ADD COLUMN auto_renew boolean NOT NULL DEFAULT TRUE,
ADD COLUMN termination_reason text CONSTRAINT elections_termination_reason_is_known CHECK (
    termination_reason IN ('voluntary', 'failure_to_pay')
),
ADD COLUMN termination_requested_at timestamptz,
ADD COLUMN termination_notice_on date,
ADD COLUMN terminated_for_statement_id bigint,
ADD CONSTRAINT elections_processed_after_receipt CHECK (processed_at >= received_at),
ADD CONSTRAINT elections_urgent_claim_only_at_point_of_sale CHECK (
    urgent_claim_id IS NULL OR source = 'point_of_sale'
),
ADD CONSTRAINT elections_renewal_links_previous_year CHECK (
    renewed_from_election_id IS NULL OR source = 'renewal'
),
ADD CONSTRAINT elections_renewal_from_2026 CHECK (source <> 'renewal' OR plan_year >= 2026),
ADD CONSTRAINT elections_end_matches_status CHECK (
    (status = 'opted_out' AND termination_reason = 'voluntary' AND end_date IS NOT NULL)
    OR (
        status = 'terminated' AND termination_reason = 'failure_to_pay' AND end_date IS NOT NULL
        AND termination_notice_on IS NOT NULL
    )
    OR (status IN ('active', 'ended') AND termination_reason IS NULL)
);

-- 0030's exclusion compared daterange(effective_date, end_date) and an open end (NULL) is unbounded: a
-- participation through December 2025 overlapped every later year, so a 2026 election (or renewal) of the
-- same member was refused. An open end means December 31 of the plan year.
ALTER TABLE ppp.elections DROP CONSTRAINT elections_do_not_overlap;
ALTER TABLE ppp.elections ADD CONSTRAINT elections_do_not_overlap EXCLUDE USING gist (
    member_id WITH =,
    daterange(effective_date, coalesce(end_date, make_date(plan_year, 12, 31)), '[]') WITH &&
);

CREATE UNIQUE INDEX elections_one_active_per_member_year ON ppp.elections (member_id, plan_year)
WHERE status = 'active';
CREATE INDEX elections_member_effective_idx ON ppp.elections (member_id, effective_date);
CREATE INDEX elections_plan_year_idx ON ppp.elections (plan_year, effective_date);
CREATE INDEX elections_plan_idx ON ppp.elections (plan_id);
CREATE INDEX elections_renewed_from_idx ON ppp.elections (renewed_from_election_id);

COMMENT ON COLUMN ppp.elections.member_id IS 'The participating member (Part D enrollee)';
COMMENT ON COLUMN ppp.elections.plan_year IS 'Calendar plan year of the election (M3P runs January to December)';
COMMENT ON COLUMN ppp.elections.status IS
'active (participating or about to), opted_out (voluntary, end_date = day the request arrived), terminated (failure to pay after the grace period), ended';
COMMENT ON COLUMN ppp.elections.plan_id IS 'The Part D plan the member was enrolled in on the effective date';
COMMENT ON COLUMN ppp.elections.processed_at IS
'When the plan effectuated the election; later than 24 hours after receipt makes the effective date retroactive';
COMMENT ON COLUMN ppp.elections.acceptance_notice_on IS 'Date of the acceptance notice (CMS model Exhibit 3)';
COMMENT ON COLUMN ppp.elections.urgent_claim_id IS
'Point-of-sale (urgent) election: the adjudicated claim, at most 72 hours old, re-processed under the program';
COMMENT ON COLUMN ppp.elections.renewed_from_election_id IS 'Automatic renewal: the previous year''s election';
COMMENT ON COLUMN ppp.elections.renewal_notice_on IS 'Date of the notice of participation renewal (after the AEP, before January 1)';
COMMENT ON COLUMN ppp.elections.auto_renew IS 'FALSE when the member declined the automatic renewal into the next year';
COMMENT ON COLUMN ppp.elections.termination_reason IS 'voluntary (opt-out) or failure_to_pay (involuntary, after the grace period)';
COMMENT ON COLUMN ppp.elections.termination_requested_at IS 'Opt-out: when the plan received the request';
COMMENT ON COLUMN ppp.elections.termination_notice_on IS
'Date of the termination notice (CMS model Exhibit 5); for failure to pay also the day the termination takes effect';
COMMENT ON COLUMN ppp.elections.terminated_for_statement_id IS 'Failure to pay: the past-due statement whose grace period ran out';

-- ---------------------------------------------------------------------------------------------------
-- plan options and preclusions
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE ppp.plan_options (
    plan_id bigint PRIMARY KEY REFERENCES plan.plans (plan_id),
    preclude_after_termination boolean NOT NULL DEFAULT FALSE
);
COMMENT ON TABLE ppp.plan_options IS
'M3P options a plan sponsor chooses (SSA 1860D-2(b)(2)(E)(v)(IV)(bb)); a plan without a row uses the defaults.';
COMMENT ON COLUMN ppp.plan_options.preclude_after_termination IS
'A member terminated for failure to pay may not elect M3P in the next plan year';

CREATE TABLE ppp.preclusions (
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    plan_year smallint NOT NULL,
    election_id bigint NOT NULL REFERENCES ppp.elections (election_id),
    decided_on date NOT NULL,
    PRIMARY KEY (member_id, plan_year)
);
COMMENT ON TABLE ppp.preclusions IS
'PHI. Members a plan precludes from electing M3P in a plan year after an involuntary termination (election_id).';
CREATE INDEX preclusions_election_idx ON ppp.preclusions (election_id);

CREATE TABLE ppp.election_events (
    election_event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    election_id bigint,
    plan_year smallint NOT NULL,
    event_type text NOT NULL CONSTRAINT election_events_type_is_known CHECK (
        event_type IN (
            'elected', 'renewed', 'renewal_declined', 'claim_reprocessed', 'opted_out', 'cancelled',
            'terminated', 'precluded'
        )
    ),
    occurred_at timestamptz NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE ppp.election_events IS
'PHI. What happened to M3P elections and when (kept also for cancelled elections, which are deleted before they start).';
COMMENT ON COLUMN ppp.election_events.election_id IS 'The election (no foreign key: a cancelled election no longer exists)';
COMMENT ON COLUMN ppp.election_events.occurred_at IS 'When it happened in business time (received, processed or run date), not when the row was written';
CREATE INDEX election_events_member_idx ON ppp.election_events (member_id, occurred_at);

-- ---------------------------------------------------------------------------------------------------
-- billing runs and statements
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE ppp.billing_runs (
    run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    billing_month date NOT NULL CONSTRAINT billing_runs_month_is_first_day CHECK (
        extract(DAY FROM billing_month) = 1
    ),
    run_on date NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    statements_written integer,
    amount_billed numeric(14, 2),
    credits_issued numeric(14, 2),
    CONSTRAINT billing_runs_after_month_end CHECK (run_on >= (billing_month + interval '1 month')::date)
);
COMMENT ON TABLE ppp.billing_runs IS
'Each ppp.run_billing call: the month billed, the run date and what it wrote (a re-run of a month writes only what was missing).';
COMMENT ON COLUMN ppp.billing_runs.run_on IS 'Business date of the run (issue date of its statements)';
CREATE INDEX billing_runs_month_idx ON ppp.billing_runs (billing_month);

CREATE TABLE ppp.statements (
    statement_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL,
    plan_year smallint NOT NULL,
    billing_month date NOT NULL CONSTRAINT statements_month_is_first_day CHECK (extract(DAY FROM billing_month) = 1),
    run_id bigint NOT NULL,
    election_id bigint,
    participating boolean NOT NULL,
    first_month boolean NOT NULL,
    month_of_year smallint NOT NULL CONSTRAINT statements_month_of_year_1_to_12 CHECK (month_of_year BETWEEN 1 AND 12),
    months_remaining smallint NOT NULL,
    oop_threshold numeric(12, 2) NOT NULL,
    incurred_before_election numeric(12, 2),
    balance_before numeric(12, 2) NOT NULL CONSTRAINT statements_balance_before_not_negative CHECK (
        balance_before >= 0
    ),
    oop_this_month numeric(12, 2) NOT NULL,
    max_monthly_cap numeric(12, 2) NOT NULL CONSTRAINT statements_cap_not_negative CHECK (max_monthly_cap >= 0),
    amount_billed numeric(12, 2) NOT NULL CONSTRAINT statements_billed_not_negative CHECK (amount_billed >= 0),
    credit_amount numeric(12, 2) NOT NULL DEFAULT 0 CONSTRAINT statements_credit_not_negative CHECK (
        credit_amount >= 0
    ),
    balance_after numeric(12, 2) NOT NULL CONSTRAINT statements_balance_after_not_negative CHECK (
        balance_after >= 0
    ),
    issued_on date NOT NULL,
    due_date date NOT NULL,
    amount_settled numeric(12, 2) NOT NULL DEFAULT 0,
    settled_on date,
    past_due_notice_on date,
    grace_period_ends_on date,
    CONSTRAINT statements_one_per_member_year_month UNIQUE (member_id, plan_year, billing_month),
    CONSTRAINT statements_months_remaining_include_this_one CHECK (months_remaining = 13 - month_of_year),
    CONSTRAINT statements_bill_within_cap CHECK (amount_billed <= max_monthly_cap),
    CONSTRAINT statements_balance_rolls_forward CHECK (
        balance_after = balance_before + oop_this_month - amount_billed + credit_amount
    ),
    CONSTRAINT statements_credit_only_when_nothing_billed CHECK (
        credit_amount = 0 OR (amount_billed = 0 AND balance_after = 0)
    ),
    CONSTRAINT statements_first_month_has_incurred_costs CHECK (first_month = (incurred_before_election IS NOT NULL)),
    CONSTRAINT statements_december_clears_balance CHECK (month_of_year < 12 OR first_month OR balance_after = 0),
    CONSTRAINT statements_settled_within_billed CHECK (amount_settled BETWEEN 0 AND amount_billed),
    CONSTRAINT statements_settled_on_when_paid_in_full CHECK (
        (settled_on IS NOT NULL) = (amount_settled = amount_billed)
    ),
    CONSTRAINT statements_due_after_issue CHECK (due_date >= issued_on),
    CONSTRAINT statements_grace_with_notice CHECK ((past_due_notice_on IS NULL) = (grace_period_ends_on IS NULL))
);
COMMENT ON TABLE ppp.statements IS
'PHI. M3P monthly statements: the month''s out-of-pocket costs moved into the program, the cap and the amount billed (42 CFR 423.137(c)), the balance carried, what has been paid and the past-due notice. Written only by ppp.run_billing; member_id, run_id and election_id carry no foreign keys (per-row checks doubled the billing time), ppp.check() verifies them.';
COMMENT ON COLUMN ppp.statements.member_id IS 'The member (member.members; checked by ppp.check())';
COMMENT ON COLUMN ppp.statements.run_id IS 'The billing run that wrote the statement (ppp.billing_runs; checked by ppp.check())';
COMMENT ON COLUMN ppp.statements.billing_month IS 'First day of the month billed; for a prior plan year''s late costs, the month of the run that billed them';
COMMENT ON COLUMN ppp.statements.election_id IS 'The participation period that overlaps the month (NULL once the member no longer participates)';
COMMENT ON COLUMN ppp.statements.participating IS 'The member participated in M3P during the month (else the statement only bills what is still owed)';
COMMENT ON COLUMN ppp.statements.first_month IS
'First statement of the member in the plan year: cap = (threshold - incurred before the election) / months remaining, bill = lesser of cap and the month''s costs';
COMMENT ON COLUMN ppp.statements.month_of_year IS 'Month of the plan year used by the formula (12 for late costs of a past plan year)';
COMMENT ON COLUMN ppp.statements.months_remaining IS 'Months remaining in the plan year, this month included (January 12 ... December 1)';
COMMENT ON COLUMN ppp.statements.oop_threshold IS 'Annual out-of-pocket threshold of the plan year (ref.part_d_parameters)';
COMMENT ON COLUMN ppp.statements.incurred_before_election IS
'First month only: incurred costs (TrOOP) of the plan year before the election took effect';
COMMENT ON COLUMN ppp.statements.balance_before IS 'Remaining out-of-pocket costs not yet billed, carried from the previous statement';
COMMENT ON COLUMN ppp.statements.oop_this_month IS
'Out-of-pocket costs moved into the program and billed on this statement: the unbilled ledger entries of the plan year dated up to the month''s end (claims of the month, late claims, minus reversals)';
COMMENT ON COLUMN ppp.statements.max_monthly_cap IS 'Maximum monthly cap, rounded half-up to cents';
COMMENT ON COLUMN ppp.statements.amount_billed IS 'Amount billed for the month (never above the cap)';
COMMENT ON COLUMN ppp.statements.credit_amount IS
'Reversals that exceed what was still unbilled: already billed beyond what is owed; applied to open statements, the rest refunded';
COMMENT ON COLUMN ppp.statements.balance_after IS 'Remaining out-of-pocket costs not yet billed after this statement (0 after December)';
COMMENT ON COLUMN ppp.statements.issued_on IS 'Date the statement was issued (the billing run date)';
COMMENT ON COLUMN ppp.statements.due_date IS 'Payment due date: end of the month after the billing month, at least 14 days after issue';
COMMENT ON COLUMN ppp.statements.amount_settled IS 'Paid or credited so far (ppp.payment_allocations)';
COMMENT ON COLUMN ppp.statements.settled_on IS 'Date the statement was settled in full (NULL while open)';
COMMENT ON COLUMN ppp.statements.past_due_notice_on IS 'Date of the notice for failure to make payments (CMS model Exhibit 4)';
COMMENT ON COLUMN ppp.statements.grace_period_ends_on IS
'Last day of the grace period: two calendar months starting the first day of the month after the due date';
-- Statements arrive month after month: a BRIN index finds a billing month's rows for a few pages of index.
CREATE INDEX statements_billing_month_brin ON ppp.statements USING brin (billing_month);
CREATE INDEX statements_open_due_idx ON ppp.statements (due_date) WHERE settled_on IS NULL;

ALTER TABLE ppp.elections ADD CONSTRAINT elections_terminated_for_statement_fkey
FOREIGN KEY (terminated_for_statement_id) REFERENCES ppp.statements (statement_id);
CREATE INDEX elections_terminated_for_statement_idx ON ppp.elections (terminated_for_statement_id);

-- ---------------------------------------------------------------------------------------------------
-- the program ledger (append-only) and the entries not billed yet
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE ppp.ledger (
    ledger_entry_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL,
    plan_year smallint NOT NULL,
    claim_id bigint NOT NULL,
    reversal_claim_id bigint,
    service_date date NOT NULL,
    entry_type text NOT NULL CONSTRAINT ledger_entry_type_is_known CHECK (
        entry_type IN ('claim', 'reprocessed', 'reversal', 'adjustment')
    ),
    amount numeric(12, 2) NOT NULL CONSTRAINT ledger_amount_not_zero CHECK (amount <> 0),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_plan_year_of_service_date CHECK (plan_year = extract(YEAR FROM service_date))
);
COMMENT ON TABLE ppp.ledger IS
'PHI. M3P ledger, append-only, written by triggers on claims.claims: + the out-of-pocket cost a paid claim moved into the program (m3p_amount), - when that claim is reversed. For every member and plan year: sum of entries = sum of the statements'' oop_this_month + what ppp.unbilled still holds (ppp.check()).';
COMMENT ON COLUMN ppp.ledger.member_id IS 'The member (claims.claims.member_id; no foreign key, like claims)';
COMMENT ON COLUMN ppp.ledger.claim_id IS 'The B1 claim whose program amount changed';
COMMENT ON COLUMN ppp.ledger.reversal_claim_id IS 'For a reversal: the B2 claim that reversed it';
COMMENT ON COLUMN ppp.ledger.service_date IS 'Date of service of the claim (NCPDP 401-D1)';
COMMENT ON COLUMN ppp.ledger.entry_type IS
'claim (paid while participating), reprocessed (moved in by an urgent or retroactive election), reversal, adjustment (any other change)';
COMMENT ON COLUMN ppp.ledger.amount IS 'Change of the out-of-pocket amount owed to the program';
COMMENT ON COLUMN ppp.ledger.recorded_at IS 'When the claim change was recorded (transaction time)';
CREATE INDEX ledger_member_idx ON ppp.ledger (member_id, plan_year, service_date);
CREATE INDEX ledger_claim_idx ON ppp.ledger (claim_id);

CREATE TABLE ppp.unbilled (
    ledger_entry_id bigint PRIMARY KEY,
    member_id bigint NOT NULL,
    plan_year smallint NOT NULL,
    service_date date NOT NULL,
    amount numeric(12, 2) NOT NULL
);
COMMENT ON TABLE ppp.unbilled IS
'PHI. The ledger entries no statement has billed yet (a queue: the ledger triggers add each entry, ppp.run_billing deletes the entries it bills, in the statement that writes the statements, so each entry is billed exactly once whenever it arrives).';
COMMENT ON COLUMN ppp.unbilled.ledger_entry_id IS 'The ppp.ledger entry (no foreign key: both rows are written by the same trigger; checked by ppp.check())';

-- Claims adjudicated before this migration (none expected) enter the ledger, unbilled.
WITH entries AS (
    INSERT INTO ppp.ledger (member_id, plan_year, claim_id, service_date, entry_type, amount)
    SELECT
        c.member_id,
        extract(YEAR FROM c.date_of_service)::smallint AS plan_year,
        c.claim_id,
        c.date_of_service,
        'claim' AS entry_type,
        c.m3p_amount
    FROM claims.claims AS c
    WHERE
        c.m3p_amount > 0 AND c.transaction_code = 'B1' AND c.transaction_response_status = 'P'
        AND c.reversed_by_claim_id IS NULL AND c.member_id IS NOT NULL
    RETURNING ledger_entry_id, member_id, plan_year, service_date, amount
)

INSERT INTO ppp.unbilled (ledger_entry_id, member_id, plan_year, service_date, amount)
SELECT
    e.ledger_entry_id,
    e.member_id,
    e.plan_year,
    e.service_date,
    e.amount
FROM entries AS e;

-- ---------------------------------------------------------------------------------------------------
-- payments, allocations, refunds
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE ppp.payments (
    payment_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    payment_type text NOT NULL CONSTRAINT payments_type_is_known CHECK (payment_type IN ('payment', 'credit')),
    received_on date NOT NULL,
    amount numeric(12, 2) NOT NULL CONSTRAINT payments_amount_positive CHECK (amount > 0),
    method text CONSTRAINT payments_method_is_known CHECK (method IN ('ach', 'card', 'check', 'cash', 'other')),
    reference text,
    source_statement_id bigint REFERENCES ppp.statements (statement_id),
    applied_amount numeric(12, 2) NOT NULL DEFAULT 0,
    refunded_amount numeric(12, 2) NOT NULL DEFAULT 0,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_reference_unique_per_member UNIQUE (member_id, reference),
    CONSTRAINT payments_cash_has_method CHECK ((payment_type = 'payment') = (method IS NOT NULL)),
    CONSTRAINT payments_credit_names_its_statement CHECK (
        (payment_type = 'credit') = (source_statement_id IS NOT NULL)
    ),
    CONSTRAINT payments_applied_and_refunded_within_amount CHECK (
        applied_amount >= 0 AND refunded_amount >= 0 AND applied_amount + refunded_amount <= amount
    )
);
COMMENT ON TABLE ppp.payments IS
'PHI. Money received from M3P participants (payment) and reversal credits (credit, from a statement whose reversals exceeded what was still unbilled). Each is applied to the oldest open statements; what no statement needs is refunded.';
COMMENT ON COLUMN ppp.payments.payment_type IS 'payment (cash from the member) or credit (reversal credit, no money moved)';
COMMENT ON COLUMN ppp.payments.received_on IS 'Date the payment was received (or the credit arose)';
COMMENT ON COLUMN ppp.payments.reference IS 'The payer''s reference (check number, transaction id): a repeated reference is the same payment';
COMMENT ON COLUMN ppp.payments.source_statement_id IS 'Credit: the statement whose reversals produced it';
COMMENT ON COLUMN ppp.payments.applied_amount IS 'Allocated to statements (ppp.payment_allocations)';
COMMENT ON COLUMN ppp.payments.refunded_amount IS 'Not needed by any open statement: refunded (ppp.refunds)';
CREATE INDEX payments_source_statement_idx ON ppp.payments (source_statement_id);

CREATE TABLE ppp.payment_allocations (
    allocation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id bigint NOT NULL REFERENCES ppp.payments (payment_id),
    statement_id bigint NOT NULL REFERENCES ppp.statements (statement_id),
    member_id bigint NOT NULL,
    amount numeric(12, 2) NOT NULL CONSTRAINT payment_allocations_amount_positive CHECK (amount > 0),
    allocated_on date NOT NULL,
    CONSTRAINT payment_allocations_once_per_statement UNIQUE (payment_id, statement_id)
);
COMMENT ON TABLE ppp.payment_allocations IS
'PHI. Which statements a payment or credit settled, and how much of each (oldest open statement first).';
CREATE INDEX payment_allocations_statement_idx ON ppp.payment_allocations (statement_id);

CREATE TABLE ppp.refunds (
    refund_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    reason text NOT NULL CONSTRAINT refunds_reason_is_known CHECK (
        reason IN ('overpayment', 'reversal', 'retroactive_election')
    ),
    payment_id bigint REFERENCES ppp.payments (payment_id),
    claim_id bigint,
    amount numeric(12, 2) NOT NULL CONSTRAINT refunds_amount_positive CHECK (amount > 0),
    created_on date NOT NULL,
    issued_on date,
    CONSTRAINT refunds_source_matches_reason CHECK (
        (reason IN ('overpayment', 'reversal') AND payment_id IS NOT NULL)
        OR (reason = 'retroactive_election' AND claim_id IS NOT NULL)
    )
);
COMMENT ON TABLE ppp.refunds IS
'PHI. Money owed back to a member: a payment beyond every open statement (overpayment), reversals of claims already billed and paid (reversal), or cost sharing paid at the pharmacy for a claim moved into the program by a retroactive election.';
COMMENT ON COLUMN ppp.refunds.issued_on IS 'Date the refund was paid out (NULL: still to pay; 42 CFR 423.466: within 45 days)';
CREATE INDEX refunds_member_idx ON ppp.refunds (member_id);
CREATE INDEX refunds_payment_idx ON ppp.refunds (payment_id);
