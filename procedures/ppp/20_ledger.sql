-- The M3P ledger is fed by claims: adjudication sets claims.claims.m3p_amount on a participant's paid
-- claim and marks a reversed claim with reversed_by_claim_id; these row triggers turn every change of a
-- claim's program amount into one ppp.ledger entry. Their WHEN clauses keep every other claim free of
-- any trigger call.
-- Program amount of a claim row = m3p_amount of a paid (P) B1 claim that is not reversed, else 0.

CREATE OR REPLACE FUNCTION ppp._ledger_from_claim()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_old numeric(12, 2) := 0;
    v_new numeric(12, 2) := 0;
    v_type text;
    v_member_id bigint;
    v_claim_id bigint;
    v_service_date date;
    v_reversal_claim_id bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.transaction_code = 'B1' AND OLD.transaction_response_status = 'P' AND OLD.reversed_by_claim_id IS NULL THEN
            v_old := OLD.m3p_amount;
        END IF;
        v_member_id := OLD.member_id;
        v_claim_id := OLD.claim_id;
        v_service_date := OLD.date_of_service;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NEW.transaction_code = 'B1' AND NEW.transaction_response_status = 'P' AND NEW.reversed_by_claim_id IS NULL THEN
            v_new := NEW.m3p_amount;
        END IF;
        v_member_id := coalesce(NEW.member_id, v_member_id);
        v_claim_id := NEW.claim_id;
        v_service_date := NEW.date_of_service;
        v_reversal_claim_id := NEW.reversed_by_claim_id;
    END IF;
    IF v_new = v_old OR v_member_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_type := CASE
        WHEN TG_OP = 'INSERT' THEN 'claim'
        WHEN TG_OP = 'UPDATE' AND OLD.reversed_by_claim_id IS NULL AND NEW.reversed_by_claim_id IS NOT NULL THEN 'reversal'
        WHEN TG_OP = 'UPDATE' AND v_old = 0 THEN 'reprocessed'
        ELSE 'adjustment'
    END;
    WITH entry AS (
        INSERT INTO ppp.ledger (member_id, plan_year, claim_id, reversal_claim_id, service_date, entry_type, amount)
        VALUES (
            v_member_id, extract(YEAR FROM v_service_date)::smallint, v_claim_id,
            CASE WHEN v_type = 'reversal' THEN v_reversal_claim_id END, v_service_date, v_type, v_new - v_old
        )
        RETURNING ledger_entry_id, member_id, plan_year, service_date, amount
    )
    INSERT INTO ppp.unbilled (ledger_entry_id, member_id, plan_year, service_date, amount)
    SELECT e.ledger_entry_id, e.member_id, e.plan_year, e.service_date, e.amount FROM entry AS e;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION ppp._ledger_from_claim() IS
'Trigger on claims.claims: writes the change of the claim''s M3P program amount (m3p_amount of a paid, unreversed B1 claim) to ppp.ledger, and queues it in ppp.unbilled for the next billing run.';

CREATE OR REPLACE TRIGGER ppp_ledger_on_insert
AFTER INSERT ON claims.claims
FOR EACH ROW
WHEN (
    new.m3p_amount > 0 AND new.transaction_code = 'B1' AND new.transaction_response_status = 'P'
    AND new.reversed_by_claim_id IS NULL
)
EXECUTE FUNCTION ppp._ledger_from_claim();

CREATE OR REPLACE TRIGGER ppp_ledger_on_update
AFTER UPDATE OF m3p_amount, reversed_by_claim_id, transaction_response_status, transaction_code
ON claims.claims
FOR EACH ROW
WHEN (
    (old.m3p_amount > 0 OR new.m3p_amount > 0)
    AND (
        CASE
            WHEN
                old.transaction_code = 'B1' AND old.transaction_response_status = 'P'
                AND old.reversed_by_claim_id IS NULL
                THEN old.m3p_amount
            ELSE 0
        END
    ) IS DISTINCT FROM (
        CASE
            WHEN
                new.transaction_code = 'B1' AND new.transaction_response_status = 'P'
                AND new.reversed_by_claim_id IS NULL
                THEN new.m3p_amount
            ELSE 0
        END
    )
)
EXECUTE FUNCTION ppp._ledger_from_claim();

CREATE OR REPLACE TRIGGER ppp_ledger_on_delete
AFTER DELETE ON claims.claims
FOR EACH ROW
WHEN (
    old.m3p_amount > 0 AND old.transaction_code = 'B1' AND old.transaction_response_status = 'P'
    AND old.reversed_by_claim_id IS NULL
)
EXECUTE FUNCTION ppp._ledger_from_claim();

COMMENT ON TRIGGER ppp_ledger_on_insert ON claims.claims IS
'M3P: a paid claim of a participant (m3p_amount > 0) enters ppp.ledger.';
COMMENT ON TRIGGER ppp_ledger_on_update ON claims.claims IS
'M3P: a change of a claim''s program amount (reversal, re-processing under an election, correction) enters ppp.ledger.';
COMMENT ON TRIGGER ppp_ledger_on_delete ON claims.claims IS
'M3P: a deleted program claim leaves ppp.ledger with a negative entry (claims are not deleted in normal operation).';
