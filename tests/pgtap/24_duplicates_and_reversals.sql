-- Duplicates are never paid twice (status D with the original response); a B2 reversal moves the
-- accumulators back to the cent; an unknown reversal gets 31; a rebilled claim pays again.
BEGIN;
SELECT plan(20);
SELECT tap.setup_adjudication();
SELECT tap.add_member('DR1', 'TPD', '1950-01-01', 'F', '2025-01-01');

CREATE TEMP TABLE r (n int, res jsonb) ON COMMIT DROP;
INSERT INTO r VALUES (1, api.adjudicate(tap.claim('DR1', '99999000301', '2025-01-10', 30, 30, '8001')));
INSERT INTO r VALUES (2, api.adjudicate(tap.claim('DR1', '99999000301', '2025-01-10', 30, 30, '8001')));

SELECT
    is((
        SELECT res ->> 'transaction_response_status' FROM r
        WHERE n = 2
    ), 'D', 'an identical resubmission is status D');
SELECT is(
    (
        SELECT res - 'transaction_response_status' FROM r
        WHERE n = 2
    ),
    (
        SELECT res - 'transaction_response_status' FROM r
        WHERE n = 1
    ),
    'the duplicate carries the original response (same authorization number and amounts)'
);
SELECT is(
    (
        SELECT count(*)::int FROM claims.claims
        WHERE rx_number = '8001' AND transaction_response_status = 'P'
    ), 1,
    'one paid claim, not two'
);
SELECT results_eq(
    $$SELECT deductible_accumulated, oop_accumulated FROM claims.accumulators a JOIN member.members m USING (member_id)
      WHERE m.cardholder_id = 'DR1'$$,
    $$VALUES (500.00, 500.00)$$, 'the duplicate did not move the accumulators'
);
SELECT throws_ok(
    $$INSERT INTO claims.claims (date_of_service, service_provider_id, rx_number, fill_number, member_id, plan_id,
        pharmacy_id, transaction_response_status, ingredient_cost_paid, dispensing_fee_paid, total_amount_paid,
        patient_pay_amount, amount_applied_to_deductible, amount_of_copay, amount_of_coinsurance,
        amount_attributed_to_product_selection, stage_deductible_amount, stage_initial_amount, stage_catastrophic_amount)
      SELECT date_of_service, service_provider_id, rx_number, fill_number, member_id, plan_id, pharmacy_id, 'P',
        1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0 FROM claims.claims WHERE rx_number = '8001' AND transaction_response_status = 'P'$$,
    '23505', NULL, 'even a direct insert cannot pay the same pharmacy/Rx/fill/date twice (claims_paid_once)'
);

-- A claim crossing the deductible, then reversed: $90.00 deductible + $102.50 coinsurance move back.
INSERT INTO r VALUES (3, api.adjudicate(tap.claim('DR1', '99999000301', '2025-02-10', 30, 30, '8002')));
SELECT is((
    SELECT res ->> 'patient_pay_amount' FROM r
    WHERE n = 3
), '192.50', 'second fill pays $192.50');
INSERT INTO r VALUES (4, api.reverse(
    '{"service_provider_id": "1234567893", "rx_number": "8002", "fill_number": 0, "date_of_service": "20250210"}'
));
SELECT is((
    SELECT res ->> 'transaction_response_status' FROM r
    WHERE n = 4
), 'A', 'the reversal is accepted (A)');
SELECT is(
    (
        SELECT res ->> 'reversal_of_authorization_number' FROM r
        WHERE n = 4
    ),
    (
        SELECT res ->> 'authorization_number' FROM r
        WHERE n = 3
    ), 'it names the claim it reversed'
);
SELECT
    is((
        SELECT res ->> 'patient_pay_amount' FROM r
        WHERE n = 4
    ), '-192.50', 'the reversal carries the amounts negated');
SELECT is((
    SELECT res ->> 'total_amount_paid' FROM r
    WHERE n = 4
), '-307.50', 'including what the plan paid');
SELECT results_eq(
    $$SELECT deductible_accumulated, oop_accumulated, gross_cost_accumulated FROM claims.accumulators a
      JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'DR1'$$,
    $$VALUES (500.00, 500.00, 500.00)$$, 'accumulators are back to the cent where they were before the fill'
);
SELECT isnt(
    (
        SELECT reversed_at FROM claims.claims
        WHERE rx_number = '8002' AND transaction_code = 'B1'
    ), NULL,
    'the original is marked reversed'
);
SELECT is(
    (api.reverse(
        '{"service_provider_id": "1234567893", "rx_number": "8002", "fill_number": 0, "date_of_service": "20250210"}'
    )) -> 'reject_codes', '["31"]'::jsonb,
    'reversing it again: 31 No matching paid claim found'
);
SELECT is(
    (api.reverse(
        '{"service_provider_id": "1234567893", "rx_number": "999999", "fill_number": 0, "date_of_service": "20250210"}'
    )) -> 'reject_codes', '["31"]'::jsonb,
    'reversing a claim that never existed: 31'
);
SELECT is(
    (api.reverse('{"service_provider_id": "1234567893", "fill_number": 0, "date_of_service": "20250210"}'))
    -> 'reject_codes',
    '["16"]'::jsonb, 'a reversal without an Rx number: 16'
);
INSERT INTO r VALUES (5, api.adjudicate(tap.claim('DR1', '99999000301', '2025-02-10', 30, 30, '8002')));
SELECT is((
    SELECT res ->> 'transaction_response_status' FROM r
    WHERE n = 5
), 'P', 'the rebilled claim is paid again');
SELECT
    is((
        SELECT res ->> 'patient_pay_amount' FROM r
        WHERE n = 5
    ), '192.50', 'with the same $192.50 as before the reversal');
SELECT is(
    (
        SELECT count(*)::int FROM claims.claims
        WHERE rx_number = '8002'
    ), 4,
    'history keeps the original, the reversal, the refused second reversal and the rebill'
);
SELECT is(
    (
        SELECT sum(total_amount_paid) FROM claims.claims
        WHERE rx_number = '8002' AND transaction_response_status IN ('P', 'A')
    ),
    307.50, 'net paid to the pharmacy for the prescription: one fill'
);
SELECT results_eq(
    $$SELECT a.oop_accumulated, (SELECT sum(c.oop_delta) FROM claims.claims c WHERE c.member_id = a.member_id)
      FROM claims.accumulators a JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'DR1'$$,
    $$VALUES (692.50, 692.50)$$, 'the out-of-pocket accumulator equals the ledger: $500.00 + $192.50'
);

SELECT * FROM finish();
ROLLBACK;
