-- E1 eligibility and the formulary lookup (covered? tier, PA/QL/step, expected patient pay).
BEGIN;
SELECT plan(16);
SELECT tap.setup_adjudication();
SELECT tap.add_member('EL1', 'TPD', '1950-01-01', 'F', '2025-01-01');
SELECT tap.add_member('EL2', 'TCOMM', '1980-01-01', 'M', '2025-01-01', '2025-03-31', 'voluntary');
SELECT tap.adjudicate(tap.claim('EL1', '99999000301', '2025-01-10', 30, 30, '1'));

CREATE FUNCTION pg_temp.e1(p jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT api.eligibility('{"bin": "610014", "pcn": "PARTD", "group_id": "GRPD", "person_code": "01"}'::jsonb || p)
$$;
SELECT is(
    pg_temp.e1('{"cardholder_id": "EL1", "date_of_service": "20250601"}') ->> 'transaction_response_status', 'A',
    'a covered member is accepted'
);
SELECT is(
    pg_temp.e1('{"cardholder_id": "EL1", "date_of_service": "20250601"}') ->> 'medicare_part_d_contract_number',
    'S5884',
    'with the Part D contract'
);
SELECT is(
    pg_temp.e1('{"cardholder_id": "EL1", "date_of_service": "20250601"}') ->> 'remaining_deductible_amount', '90.00',
    'and the deductible still open after a $500.00 fill: $90.00'
);
SELECT is(
    pg_temp.e1('{"cardholder_id": "EL1", "date_of_service": "20250601"}') ->> 'm3p_participant', 'false',
    'not an M3P participant'
);
SELECT is(
    pg_temp.e1('{"cardholder_id": "EL1", "date_of_service": "20240601"}') -> 'reject_codes', '["67"]',
    'before coverage: 67'
);
SELECT is(
    pg_temp.e1('{"cardholder_id": "NOBODY", "date_of_service": "20250601"}') -> 'reject_codes', '["52"]',
    'unknown cardholder: 52'
);
SELECT is(
    api.eligibility('{"bin": "610014", "pcn": "COMM", "group_id": "GRPC", "cardholder_id": "EL2", "person_code": "01",
        "date_of_service": "20250601"}') -> 'reject_codes', '["69"]',
    'after a voluntary termination: 69'
);
SELECT is(pg_temp.e1('{"cardholder_id": "EL1"}') -> 'reject_codes', '["15"]', 'no date of service: 15');
SELECT is(
    (SELECT count(*)::int FROM claims.claims), 1, 'eligibility checks store nothing'
);

SELECT is(api.formulary_lookup('EL2', '01', '99999000101', '2025-02-01') ->> 'tier', '1', 'atorvastatin is tier 1');
SELECT is(
    api.formulary_lookup('EL2', '01', '99999000101', '2025-02-01') ->> 'expected_patient_pay', '10.00',
    'expected patient pay: the $10.00 copay on the $61.00 contract price'
);
SELECT is(
    api.formulary_lookup('EL1', '01', '99999000301', '2025-06-01') ->> 'expected_patient_pay', '192.50',
    'Part D member with $90.00 of deductible left: ELIQUIS $500.00 -> $90.00 + 25% of $410.00'
);
SELECT is(
    api.formulary_lookup('EL2', '01', '99999000601', '2025-02-01') ->> 'prior_authorization_required', 'true',
    'HUMIRA needs prior authorization'
);
SELECT is(
    api.formulary_lookup('EL2', '01', '99999000701', '2025-02-01') -> 'quantity_limit',
    '{"days": 30, "quantity": 9.000}', 'sumatriptan has a quantity limit of 9 per 30 days'
);
SELECT
    is(
        api.formulary_lookup('EL2', '01', '99999001301', '2025-02-01') ->> 'covered',
        'false',
        'NOTLISTED is not covered'
    );
SELECT is(
    api.formulary_lookup('EL2', '01', '99999000201', '2025-02-01') ->> 'step_therapy_class', NULL,
    'LIPITOR has no step therapy'
);

SELECT * FROM finish();
ROLLBACK;
