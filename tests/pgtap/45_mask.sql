-- Masking a non-production copy is refused unless the database is marked non-production (for itself, by
-- name), and while an identifying column has no masking rule.
BEGIN;
SELECT plan(8);

DELETE FROM pbm_meta.environment;
SELECT is(security.environment(), 'production', 'a database is production until marked otherwise');
SELECT throws_ok(
    $$SELECT security.mask('s', '{Ann}', '{Bob}', '{Doe}', '{1 Fake St}', '{TX}', '{Fakeville}', '{75001}')$$,
    '42501', format('refusing to mask database %s: it is not marked non-production', current_database()),
    'masking a production database is refused'
);
SELECT throws_ok(
    $$SELECT security.set_environment('non-production')$$, '22023', NULL,
    'marking a database non-production needs its name as confirmation'
);
SELECT throws_ok(
    $$SELECT security.set_environment('non-production', 'some_other_db')$$, '22023', NULL,
    'the name of another database does not do'
);
SELECT is(
    security.set_environment('non-production', current_database()), 'non-production',
    'confirmed with its own name, the database is marked non-production'
);
UPDATE pbm_meta.environment SET database_oid = 1;
SELECT is(
    security.environment(), 'production',
    'a marker made in another database (a copy carries it with a new oid) does not count'
);
SELECT security.set_environment('non-production', current_database());

CREATE TABLE ppp.t45_notes (note_id bigint PRIMARY KEY, member_id bigint, patient_phone text);
SELECT throws_like(
    $$SELECT security.mask('s', '{Ann}', '{Bob}', '{Doe}', '{1 Fake St}', '{TX}', '{Fakeville}', '{75001}')$$,
    '%ppp.t45_notes.patient_phone%', 'a table with an identifying column the mask does not know stops it'
);
DROP TABLE ppp.t45_notes;

SELECT is_empty(
    'SELECT * FROM security.unmasked_columns()',
    'every identifying column of the PHI and staging schemas has a masking rule'
);

-- Masking itself suspends triggers, rewrites every PHI table and empties the audit log: it locks too much
-- to run beside other test files in this shared database, so tests/python/test_security.py masks a
-- database of its own.

SELECT * FROM finish();
ROLLBACK;
