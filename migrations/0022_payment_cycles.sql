-- Payment cycles: pharmacies are paid, cycle by cycle, for the claims adjudicated since the previous cycle.

CREATE TABLE claims.payment_cycles (
    payment_cycle_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cycle_date date NOT NULL UNIQUE,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payment_cycles_period_ordered CHECK (period_start < period_end)
);
COMMENT ON TABLE claims.payment_cycles IS
'Payment cycles: each pays the pharmacies for the claims adjudicated (paid, and reversals netted) in [period_start, period_end).';
COMMENT ON COLUMN claims.payment_cycles.cycle_date IS 'The day the cycle pays (its period ends at the end of that day)';

ALTER TABLE claims.batches ADD COLUMN payment_cycle_id bigint REFERENCES claims.payment_cycles (payment_cycle_id);
COMMENT ON COLUMN claims.batches.payment_cycle_id IS 'The payment cycle that paid the batch''s approved claims';
