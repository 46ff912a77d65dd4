-- Every edit answers with its NCPDP reject code (several where several apply), in edit order.
BEGIN;
SELECT plan(58);
SELECT tap.setup_adjudication();
SELECT tap.add_member('RJ1', 'TCOMM', '1980-01-01', 'F', '2025-01-01');
SELECT tap.add_member('RJ2', 'TCOMM', '1980-01-01', 'M', '2025-07-01');
SELECT tap.add_member('RJ3', 'TCOMM', '1980-01-01', 'F', '2024-01-01', '2024-12-31');
SELECT tap.add_member('RJ4', 'TCOMM', '1980-01-01', 'F', '2024-01-01', '2024-12-31', 'voluntary');
SELECT tap.add_member('RJ5', NULL, '1980-01-01', 'F', NULL);
SELECT tap.add_member('RJ6', 'TPD', '1950-01-01', 'F', '2025-01-01');
SELECT tap.add_member('KID', 'TCOMM', '2012-06-01', 'M', '2025-01-01');

CREATE FUNCTION pg_temp.codes(p_request jsonb) RETURNS text[] LANGUAGE sql AS $$
    SELECT c.reject_codes::text [] FROM tap.adjudicate(p_request) AS c
$$;
CREATE FUNCTION pg_temp.rx(p_extra jsonb, p_ndc text DEFAULT '99999000101', p_cardholder text DEFAULT 'RJ1')
RETURNS jsonb LANGUAGE sql AS $$
    SELECT tap.claim(p_cardholder, p_ndc, '2025-06-01', 30, 30, (100000 + (random() * 800000)::int)::text, 0, p_extra)
$$;

-- Syntax: missing or invalid fields.
SELECT is(pg_temp.codes(pg_temp.rx('{"bin": "61001"}')), '{01}', '01 M/I BIN: five digits');
SELECT is(pg_temp.codes(pg_temp.rx('{"pcn": ""}')), '{04}', '04 M/I PCN: empty');
SELECT is(pg_temp.codes(pg_temp.rx('{"group_id": null}')), '{06}', '06 M/I Group ID: missing');
SELECT is(pg_temp.codes(pg_temp.rx('{"cardholder_id": null}')), '{07}', '07 M/I Cardholder ID: missing');
SELECT is(pg_temp.codes(pg_temp.rx('{"person_code": "A1"}')), '{08}', '08 M/I Person Code: not a number');
SELECT is(pg_temp.codes(pg_temp.rx('{"date_of_service": "20250231"}')), '{15}', '15 M/I Date of Service: 31 February');
SELECT is(
    (SELECT c.reject_codes::text[] FROM tap.adjudicate(pg_temp.rx('{}'), '2025-05-31') AS c), '{82}',
    '82 Claim Is Post-Dated: date of service after the processing date'
);
SELECT
    is(
        pg_temp.codes(pg_temp.rx('{"service_provider_id": "1234567890"}')),
        '{05}',
        '05 M/I Service Provider: bad NPI check digit'
    );
SELECT is(pg_temp.codes(pg_temp.rx('{"prescriber_id": "123"}')), '{25}', '25 M/I Prescriber ID: not an NPI');
SELECT is(pg_temp.codes(pg_temp.rx('{"product_id": "0002-7597-01"}')), '{21}', '21 M/I Product ID: not 11 digits');
SELECT is(pg_temp.codes(pg_temp.rx('{"rx_number": "RX1"}')), '{16}', '16 M/I Rx Number: letters');
SELECT is(pg_temp.codes(pg_temp.rx('{"fill_number": 100}')), '{17}', '17 M/I Fill Number: 100');
SELECT is(pg_temp.codes(pg_temp.rx('{"days_supply": 0}')), '{19}', '19 M/I Days Supply: 0');
SELECT is(pg_temp.codes(pg_temp.rx('{"daw_code": 12}')), '{22}', '22 M/I DAW: 12');
SELECT is(pg_temp.codes(pg_temp.rx('{"quantity_dispensed": -5}')), '{E7}', 'E7 M/I Quantity Dispensed: negative');
SELECT is(
    pg_temp.codes(pg_temp.rx('{"ingredient_cost_submitted": -1, "gross_amount_due": 1.00}')), '{23}',
    '23 M/I Ingredient Cost Submitted: negative (and R9 is not judged on a bad cost)'
);
SELECT is(pg_temp.codes(pg_temp.rx('{"gross_amount_due": "abc"}')), '{DU}', 'DU M/I Gross Amount Due: not a number');
SELECT
    is(
        pg_temp.codes(pg_temp.rx('{"gross_amount_due": 999.99}')),
        '{R9}',
        'R9 gross amount due does not follow the formula'
    );
SELECT is(
    pg_temp.codes(pg_temp.rx('{"bin": null, "days_supply": 0, "product_id": "x"}')), '{01,21,19}',
    'several syntax errors give several codes, in edit order'
);

-- Routing and member.
SELECT is(pg_temp.codes(pg_temp.rx('{"bin": "777777"}')), '{01}', '01: a BIN no plan has');
SELECT is(pg_temp.codes(pg_temp.rx('{"pcn": "NOPE"}')), '{04}', '04: the BIN exists, the PCN does not');
SELECT is(pg_temp.codes(pg_temp.rx('{"group_id": "NOGROUP"}')), '{51}', '51 Non-Matched Group ID');
SELECT is(pg_temp.codes(pg_temp.rx('{"cardholder_id": "NOBODY"}')), '{52}', '52 Non-Matched Cardholder ID');
SELECT is(pg_temp.codes(pg_temp.rx('{"person_code": "02"}')), '{53}', '53 Non-Matched Person Code');

-- Eligibility on the date of service.
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999000101', 'RJ5')), '{65}', '65 Patient Is Not Covered: no coverage');
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999000101', 'RJ2')), '{67}', '67 Filled Before Coverage Effective');
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999000101', 'RJ3')), '{68}', '68 Filled After Coverage Expired');
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999000101', 'RJ4')), '{69}', '69 Filled After Coverage Terminated');
SELECT is(
    pg_temp.codes(pg_temp.rx('{"pcn": "PARTD", "group_id": "GRPD"}')), '{65}',
    '65: covered on the date, but by another plan than the BIN/PCN/group routed to'
);

-- Pharmacy and prescriber.
SELECT is(pg_temp.codes(pg_temp.rx('{"service_provider_id": "1111111112"}')), '{50}', '50 Non-Matched Pharmacy Number');
SELECT is(
    pg_temp.codes(pg_temp.rx('{"service_provider_id": "1558598797"}')), '{40}',
    '40 Pharmacy Not Contracted With Plan On Date Of Service'
);
SELECT is(pg_temp.codes(pg_temp.rx('{"prescriber_id": "1222222220"}')), '{56}', '56 Non-Matched Prescriber ID');
SELECT is(
    pg_temp.codes(pg_temp.rx('{"prescriber_id": "1000000020"}')), '{42}',
    '42 prescriber inactive (deactivated 2025-01-31) on the date of service'
);

-- Product and formulary.
SELECT is(pg_temp.codes(pg_temp.rx('{}', '11111111111')), '{54}', '54 Non-Matched Product/Service ID: unknown NDC');
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999001401')), '{77}', '77 Discontinued Product (market end 2024-12-31)');
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999001301')), '{MR}', 'MR Product Not On Formulary');
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999001201')), '{70}', '70 Not Covered - Plan/Benefit Exclusion');
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999001101', 'KID')), '{60}', '60 Not Covered For Patient Age: 12 < 18');
SELECT
    is(
        pg_temp.codes(pg_temp.rx('{}', '99999001001', 'RJ1')),
        '{61}',
        '61 Not Covered For Patient Gender: female, drug for M'
    );
SELECT is(pg_temp.codes(pg_temp.rx('{"days_supply": 120}')), '{AG}', 'AG Days Supply Limitation: 120 > 90');

-- Utilization management.
SELECT is(pg_temp.codes(pg_temp.rx('{}', '99999000601')), '{75}', '75 Prior Authorization Required');
SELECT is(
    pg_temp.codes(pg_temp.rx('{"quantity_dispensed": 10}', '99999000701')), '{76}',
    '76 Plan Limitations Exceeded: 10 tablets in 30 days, limit 9'
);
SELECT is(
    pg_temp.codes(pg_temp.rx('{}', '99999000801')), '{608}',
    '608 Step Therapy: no metformin (BIGUANIDES) before sitagliptin'
);
SELECT is(
    (SELECT c.transaction_response_status::text FROM tap.adjudicate(pg_temp.rx('{}', '99999000901')) AS c), 'P',
    'a metformin claim is paid ...'
);
SELECT is(
    pg_temp.codes(pg_temp.rx('{}', '99999000801')), '{}', '... and then sitagliptin passes step therapy'
);

-- Several edits at once.
SELECT is(
    pg_temp.codes(pg_temp.rx('{"service_provider_id": "1558598797", "prescriber_id": "1222222220"}', '99999000601')),
    '{40,56,75}', 'pharmacy out of network, unknown prescriber and missing PA: 40, 56 and 75 together'
);
SELECT
    is(
        (
            SELECT count(*)::int FROM claims.claims AS c INNER JOIN member.members AS m ON c.member_id = m.member_id
            WHERE
                m.cardholder_id = 'RJ1'
                AND c.transaction_response_status = 'R'
                AND c.deductible_delta = 0
                AND c.oop_delta = 0
        ),
        (
            SELECT count(*)::int FROM claims.claims AS c INNER JOIN member.members AS m ON c.member_id = m.member_id
            WHERE m.cardholder_id = 'RJ1' AND c.transaction_response_status = 'R'
        ),
        'rejected claims never move an accumulator'
    );
SELECT is(
    (
        SELECT count(*)::int FROM claims.claims AS c, unnest(c.reject_codes) AS u (code)
        WHERE NOT EXISTS (
            SELECT FROM ref.reject_codes AS rc
            WHERE rc.code = u.code
        )
    ), 0,
    'every emitted code is a known NCPDP reject code'
);

-- Reading the request: malformed values become NULL (then the syntax edit names them), never an SQL error.
SELECT is(claims.json_date('{"d": "20250228"}', 'd'), date '2025-02-28', 'CCYYMMDD date read');
SELECT is(claims.json_date('{"d": "2024-02-29"}', 'd'), date '2024-02-29', 'CCYY-MM-DD date read (leap day)');
SELECT is(claims.json_date('{"d": "20250229"}', 'd'), NULL::date, 'no 29 February in 2025: NULL');
SELECT is(claims.json_date('{"d": "20251301"}', 'd'), NULL::date, 'month 13: NULL');
SELECT is(claims.json_date('{"d": "00000101"}', 'd'), NULL::date, 'year 0000: NULL');
SELECT is(claims.json_date('{"d": "2025/01/01"}', 'd'), NULL::date, 'slashes: NULL');
SELECT is(claims.json_numeric('{"q": " 30.125 "}', 'q', 3), 30.125, 'quantity with 3 decimals, blanks trimmed');
SELECT is(claims.json_numeric('{"a": "12.345"}', 'a', 2), NULL::numeric, 'money with 3 decimals: NULL');
SELECT is(claims.json_text('{"b": "   "}', 'b', 8), NULL, 'blank text: NULL');
SELECT is(claims.json_smallint('{"f": "1e2"}', 'f'), NULL::smallint, 'not a whole number: NULL');

SELECT * FROM finish();
ROLLBACK;
