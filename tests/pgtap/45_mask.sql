-- Masking a non-production copy: refused unless the database is marked non-production (for itself, by
-- name), then every identifying value is replaced consistently and the audit log of the real data goes.
BEGIN;
SELECT plan(17);

SELECT set_config('pbm.effective_date', '2026-01-01', TRUE);
SELECT set_config('pbm.phi_key', 'test-key-45-non-production-0123456789', TRUE);
INSERT INTO member.members (
    cardholder_id, person_code, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5,
    mbi_encrypted, mbi_hash
)
VALUES
(
    'T45FAM', '01', 'Ruth', 'Original', '1950-05-05', 'F', '5 Real Rd', 'Realtown', 'TX', '78701',
    member.encrypt_phi('1EG4TE5MK73'), member.mbi_hash('1EG4TE5MK73')
),
('T45FAM', '02', 'Ralph', 'Original', '1949-04-04', 'M', '5 Real Rd', 'Realtown', 'TX', '78701', NULL, NULL);
SELECT set_config('pbm.effective_date', '2026-02-01', TRUE);
UPDATE member.members SET address_line1 = '6 Moved Ave'
WHERE cardholder_id = 'T45FAM';
INSERT INTO claims.claims (
    claim_id, date_of_service, transaction_response_status, reject_codes, cardholder_id, person_code,
    patient_date_of_birth, member_id, service_provider_id, rx_number
)
SELECT
    -4500 - m.person_code::int,
    '2026-03-05',
    'R',
    '{70}',
    m.cardholder_id,
    m.person_code,
    m.date_of_birth,
    m.member_id,
    '1234567893',
    'RX' || m.person_code
FROM member.members AS m
WHERE m.cardholder_id = 'T45FAM';
CREATE TEMP TABLE t45_before ON COMMIT DROP AS
SELECT
    m.member_id,
    m.first_name,
    m.last_name,
    m.date_of_birth,
    m.address_line1,
    m.zip5
FROM member.members AS m
WHERE m.cardholder_id = 'T45FAM';

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

SELECT lives_ok(
    $$SELECT security.mask(
        'seed-45', '{Ann,Beth,Cara}', '{Bob,Carl,Dan}', '{Doe,Roe,Poe}', '{1 Fake St,2 Fake St}',
        '{TX,TX,OK}', '{Fakeville,Mocktown,Shamcity}', '{75001,75002,73001}'
    )$$,
    'a non-production database is masked'
);
SELECT is_empty(
    $$SELECT m.member_id FROM member.members m JOIN t45_before b USING (member_id)
      WHERE m.first_name = b.first_name OR m.last_name = b.last_name OR m.date_of_birth = b.date_of_birth
         OR m.address_line1 = b.address_line1 OR m.zip5 = b.zip5 OR m.cardholder_id = 'T45FAM'$$,
    'names, birth dates, addresses, ZIP codes and cardholder ids are all replaced'
);
SELECT results_eq(
    $$SELECT m.gender, m.first_name = ANY(CASE m.gender WHEN 'F' THEN '{Ann,Beth,Cara}'::text [] ELSE '{Bob,Carl,Dan}' END)
      FROM member.members m JOIN t45_before b USING (member_id) ORDER BY m.person_code$$,
    $$VALUES ('F'::char(1), TRUE), ('M', TRUE)$$,
    'first names come from the pool of the member''s gender'
);
SELECT is(
    (SELECT count(DISTINCT m.cardholder_id)::int FROM member.members m JOIN t45_before b USING (member_id)), 1,
    'a family keeps one (new) cardholder id'
);
SELECT is_empty(
    $$SELECT c.claim_id FROM claims.claims c JOIN member.members m USING (member_id)
      WHERE c.claim_id IN (-4501, -4502)
        AND (c.cardholder_id <> m.cardholder_id OR c.patient_date_of_birth <> m.date_of_birth OR c.rx_number LIKE 'RX%')$$,
    'claims carry the same new cardholder id and shifted birth date as their member, and new Rx numbers'
);
SELECT is_empty(
    $$SELECT h.member_history_id FROM member.member_history h JOIN member.members m USING (member_id)
      JOIN t45_before b USING (member_id)
      WHERE h.first_name <> m.first_name OR h.last_name <> m.last_name OR h.date_of_birth <> m.date_of_birth
         OR (h.valid_to = 'infinity' AND h.address_line1 <> m.address_line1)
         OR h.address_line1 IN ('5 Real Rd', '6 Moved Ave')$$,
    'history versions carry the member''s new name and birth date; the current one its new address, none a real one'
);
SELECT is(
    (SELECT member.decrypt_phi(m.mbi_encrypted) = security.fake_mbi('seed-45', m.member_id::text)
        AND ref.mbi_is_valid(member.decrypt_phi(m.mbi_encrypted))
     FROM member.members m JOIN t45_before b USING (member_id) WHERE m.person_code = '01'),
    TRUE, 'the MBI is a well-formed fake, encrypted under the session (non-production) key'
);
SELECT is(
    (SELECT count(*)::int FROM member.members m JOIN t45_before b USING (member_id)
     WHERE m.mbi_hash = member.mbi_hash(security.fake_mbi('seed-45', m.member_id::text))),
    1, 'and its keyed hash matches, so lookups work on the masked copy'
);
SELECT results_eq(
    $$SELECT action FROM audit.log ORDER BY audit_id LIMIT 1$$, $$VALUES ('MASK')$$,
    'the audit log of the real data is gone; the masking is its first entry'
);
SELECT isnt(
    (SELECT masked_at FROM pbm_meta.environment), NULL, 'the marker records when the database was masked'
);

SELECT * FROM finish();
ROLLBACK;
