-- Identifier rules: the worked examples of the reference pass, malformed identifiers fail.
BEGIN;
SELECT plan(24);

-- NPI: CMS worked example 123456789 -> check digit 3; a second published valid NPI.
SELECT ok(ref.npi_is_valid('1234567893'), 'NPI 1234567893 (CMS worked example) is valid');
SELECT ok(ref.npi_is_valid('1558598797'), 'NPI 1558598797 is valid');
SELECT ok(NOT ref.npi_is_valid('1234567890'), 'NPI with a wrong check digit is refused');
SELECT ok(NOT ref.npi_is_valid('3234567893'), 'NPI starting with 3 is refused');
SELECT ok(NOT ref.npi_is_valid('123456789'), 'NPI of 9 digits is refused');
SELECT ok(NOT ref.npi_is_valid('12345678931'), 'NPI of 11 digits is refused');
SELECT ok(NOT ref.npi_is_valid('12345A7893'), 'NPI with a letter is refused');
SELECT is(ref.npi_is_valid(NULL), NULL, 'NPI NULL is unknown, not false');

-- NDC: conversion table examples (4-4-2, 5-3-2, 5-4-1 -> 5-4-2).
SELECT is(ref.ndc11('0002-7597-01'), '00002759701', 'NDC 4-4-2 0002-7597-01 pads the labeler');
SELECT is(ref.ndc11('50242-040-62'), '50242004062', 'NDC 5-3-2 50242-040-62 pads the product');
SELECT is(ref.ndc11('60575-4112-1'), '60575411201', 'NDC 5-4-1 60575-4112-1 pads the package');
SELECT is(ref.ndc11('00002-7597-01'), '00002759701', 'NDC 5-4-2 loses its dashes');
SELECT is(ref.ndc11('00002759701'), '00002759701', 'NDC-11 stays as it is');
SELECT is(ref.ndc11('0002759701'), NULL, 'a bare 10-digit NDC is ambiguous: NULL');
SELECT is(ref.ndc11('0002-75970-1'), NULL, 'a 4-5-1 layout is not an NDC: NULL');
SELECT is(ref.ndc11('ABCDE-1234-12'), NULL, 'letters are not an NDC: NULL');

-- MBI: CMS example 1EG4-TE5-MK73 is stored as 1EG4TE5MK73.
SELECT ok(ref.mbi_is_valid('1EG4TE5MK73'), 'MBI 1EG4TE5MK73 (CMS example) is valid');
SELECT ok(NOT ref.mbi_is_valid('1EG4-TE5-MK73'), 'MBI with dashes is not the stored form');
SELECT ok(NOT ref.mbi_is_valid('0EG4TE5MK73'), 'MBI starting with 0 is refused');
SELECT ok(NOT ref.mbi_is_valid('1SG4TE5MK73'), 'MBI with the excluded letter S is refused');
SELECT ok(NOT ref.mbi_is_valid('1eg4te5mk73'), 'MBI in lower case is refused');
SELECT ok(NOT ref.mbi_is_valid('1EG4TE5MK7'), 'MBI of 10 characters is refused');

-- Constraints use the rules and name them.
SELECT throws_ok(
    $$INSERT INTO network.prescribers (npi, first_name, last_name, specialty, state)
      VALUES ('1234567890', 'A', 'B', 'FAMILY MEDICINE', 'TX')$$,
    '23514', NULL, 'a prescriber with a bad NPI check digit is refused'
);
SELECT throws_like(
    $$INSERT INTO drug.drugs (ndc11, drug_name, generic_name, strength, dosage_form, multi_source_code,
        therapeutic_class, drug_group) VALUES ('0002759701', 'X', 'x', '1 MG', 'TABLET', 'Y', 'C', 'x|1 MG|TABLET')$$,
    '%drugs_ndc11_is_11_digits%', 'a drug with a 10-digit NDC is refused by a constraint that names the rule'
);

SELECT * FROM finish();
ROLLBACK;
