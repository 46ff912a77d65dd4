-- Batch workflow to payment: received -> pending -> approved / rejected -> paid.

CREATE OR REPLACE FUNCTION claims.run_payment_cycle(p_cycle_date date)
RETURNS claims.payment_cycles
LANGUAGE plpgsql
AS $$
DECLARE
    v_cycle claims.payment_cycles;
    v_start timestamptz;
BEGIN
    SELECT * INTO v_cycle FROM claims.payment_cycles AS p WHERE p.cycle_date = p_cycle_date;
    IF v_cycle.payment_cycle_id IS NOT NULL THEN
        RETURN v_cycle;  -- paying a cycle twice changes nothing
    END IF;
    SELECT max(p.period_end) INTO v_start FROM claims.payment_cycles AS p;
    IF v_start >= (p_cycle_date + 1)::timestamptz THEN
        RAISE EXCEPTION 'payment cycle % would end before the last cycle (period ended %)', p_cycle_date, v_start
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO claims.payment_cycles (cycle_date, period_start, period_end)
    VALUES (p_cycle_date, coalesce(v_start, '-infinity'), (p_cycle_date + 1)::timestamptz)
    RETURNING * INTO v_cycle;
    UPDATE claims.batches AS b SET status = 'paid', paid_at = now(), payment_cycle_id = v_cycle.payment_cycle_id
    WHERE b.status = 'adjudicated' AND b.adjudicated_at >= v_cycle.period_start AND b.adjudicated_at < v_cycle.period_end;
    RETURN v_cycle;
END;
$$;
COMMENT ON FUNCTION claims.run_payment_cycle(date) IS
'Closes the payment cycle of p_cycle_date: it pays everything adjudicated since the previous cycle up to the end of that day and marks those batches paid. Running it again for the same date returns the same cycle.';

CREATE OR REPLACE VIEW claims.pharmacy_remittance AS
SELECT
    p.payment_cycle_id,
    p.cycle_date,
    ph.pharmacy_id,
    ph.npi,
    ph.ncpdp_id,
    ph.name AS pharmacy_name,
    count(*) FILTER (WHERE c.transaction_response_status = 'P') AS paid_claims,
    count(*) FILTER (WHERE c.transaction_response_status = 'A') AS reversals,
    sum(c.ingredient_cost_paid) AS ingredient_cost_paid,
    sum(c.dispensing_fee_paid) AS dispensing_fee_paid,
    sum(c.patient_pay_amount - c.m3p_amount) AS collected_from_patients,
    sum(c.m3p_amount) AS paid_by_m3p,
    sum(c.total_amount_paid) AS total_amount_paid
FROM claims.payment_cycles AS p
INNER JOIN claims.claims AS c
    ON
        p.period_start <= c.received_at AND p.period_end > c.received_at
        AND c.transaction_response_status IN ('P', 'A')
INNER JOIN network.pharmacies AS ph ON c.pharmacy_id = ph.pharmacy_id
GROUP BY p.payment_cycle_id, p.cycle_date, ph.pharmacy_id;
COMMENT ON VIEW claims.pharmacy_remittance IS
'What each pharmacy is paid in each payment cycle: paid claims and reversals (netted) adjudicated in the cycle''s period, ingredient cost, fees, what patients paid, what M3P paid, and the net total (509-F9).';

CREATE OR REPLACE VIEW claims.batch_claim_status AS
SELECT
    bc.batch_id,
    bc.line_no,
    c.claim_id,
    CASE
        WHEN c.claim_id IS NULL THEN CASE WHEN b.status = 'pending' THEN 'pending' ELSE 'received' END
        WHEN c.transaction_response_status = 'R' THEN 'rejected'
        WHEN c.transaction_response_status = 'D' THEN 'duplicate'
        WHEN b.status = 'paid' THEN 'paid'
        ELSE 'approved'
    END AS status,
    c.reject_codes
FROM claims.batch_claims AS bc
INNER JOIN claims.batches AS b ON bc.batch_id = b.batch_id
LEFT JOIN claims.claims AS c ON bc.batch_id = c.batch_id AND bc.line_no = c.batch_line_no;
COMMENT ON VIEW claims.batch_claim_status IS
'Where each staged claim of a batch is: received, pending (being adjudicated), approved, rejected, duplicate, or paid (its batch was paid in a payment cycle).';
