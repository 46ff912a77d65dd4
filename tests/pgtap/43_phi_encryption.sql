-- PHI encryption: without the session key the encrypted columns say nothing and lookups fail clearly;
-- with it, lookup by MBI works; a wrong key or an altered value is an error, never garbage.
BEGIN;
SELECT plan(20);

SELECT set_config('pbm.effective_date', '2026-01-01', TRUE);
SELECT security.create_login('admin_t43', 'admin');
SELECT set_config('pbm.phi_key', 'test-key-43-the-right-one-0123456789', TRUE);
INSERT INTO member.members (
    cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5,
    mbi_encrypted, mbi_hash
)
VALUES (
    'T43M1', 'Alan', 'Turing', '1952-06-23', 'M', '1 Park', 'Bletchley', 'NY', '10001',
    member.encrypt_phi('1EG4TE5MK73'), member.mbi_hash('1EG4TE5MK73')
),
(
    'T43M2', 'Joan', 'Clarke', '1957-06-24', 'F', '2 Park', 'Bletchley', 'NY', '10001',
    member.encrypt_phi('2EG4TE5MK73'), member.mbi_hash('2EG4TE5MK73')
);

-- With the key.
SELECT is(
    member.decrypt_phi(member.encrypt_phi('1EG4TE5MK73')), '1EG4TE5MK73', 'with the key, encryption round-trips'
);
SELECT isnt(
    member.encrypt_phi('1EG4TE5MK73'), member.encrypt_phi('1EG4TE5MK73'),
    'the same MBI encrypts differently each time (random IV): equal ciphertexts reveal nothing'
);
SELECT is(
    member.mbi_hash('1EG4TE5MK73'), member.mbi_hash('1EG4TE5MK73'), 'the keyed hash is stable, so it can be matched'
);
SET LOCAL SESSION AUTHORIZATION admin_t43;
SELECT results_eq(
    $$SELECT last_name, mbi FROM api.member_lookup('1eg4-te5-mk73')$$, $$VALUES ('Turing', '1EG4TE5MK73')$$,
    'with the key, lookup by MBI finds the member (dashes and case ignored) and shows the MBI'
);
SELECT throws_ok(
    $$SELECT * FROM api.member_lookup('1EG4TE5MK7')$$, '22023',
    'invalid MBI: 11 characters C A AN N A AN N A A N N, upper case, no dashes',
    'a malformed MBI is refused, and the message does not repeat it'
);
RESET SESSION AUTHORIZATION;
SELECT is(
    (
        SELECT count(*)::int FROM member.members
        WHERE cardholder_id LIKE 'T43%' AND mbi_hash = public.digest('1EG4TE5MK73', 'sha256')
    ),
    0, 'the lookup hash is keyed: a plain SHA-256 of the MBI matches nothing'
);

-- Without the key.
SELECT set_config('pbm.phi_key', '', TRUE);
SELECT is(
    (
        SELECT count(*)::int FROM member.members
        WHERE cardholder_id LIKE 'T43%' AND position(convert_to('1EG4TE5MK73', 'UTF8') IN mbi_encrypted) > 0
    ),
    0, 'the stored bytes do not contain the MBI'
);
SELECT is(
    (
        SELECT count(*)::int FROM member.members
        WHERE cardholder_id LIKE 'T43%' AND encode(mbi_encrypted, 'escape') LIKE '%EG4TE5MK7%'
    ),
    0, 'nor does any text rendering of them'
);
SELECT throws_ok(
    $$SELECT member.decrypt_phi(mbi_encrypted) FROM member.members WHERE cardholder_id = 'T43M1'$$, '28000',
    'the PHI key is not set for this session: encrypted identifiers cannot be read or matched',
    'without the key, decrypting fails with a clear message'
);
SET LOCAL SESSION AUTHORIZATION admin_t43;
SELECT throws_ok(
    $$SELECT * FROM api.member_lookup('1EG4TE5MK73')$$, '28000',
    'the PHI key is not set for this session: encrypted identifiers cannot be read or matched',
    'without the key, lookup by MBI fails with a clear message'
);
RESET SESSION AUTHORIZATION;
SELECT throws_ok(
    $$SELECT member.encrypt_phi('1EG4TE5MK73')$$, '28000', NULL, 'without the key nothing can be encrypted either'
);
SELECT set_config('pbm.phi_key', 'short', TRUE);
SELECT throws_ok(
    $$SELECT member.mbi_hash('1EG4TE5MK73')$$, '28000',
    'the PHI key of this session is too short (5 characters, at least 32)', 'a short key is refused'
);

-- With the wrong key.
SELECT set_config('pbm.phi_key', 'test-key-43-the-WRONG-one-0123456789', TRUE);
SELECT throws_ok(
    $$SELECT member.decrypt_phi(mbi_encrypted) FROM member.members WHERE cardholder_id = 'T43M1'$$, '28000',
    'encrypted PHI cannot be read with this session''s PHI key',
    'with the wrong key, decrypting is an error, never garbage'
);
SET LOCAL SESSION AUTHORIZATION admin_t43;
SELECT throws_ok(
    $$SELECT * FROM api.member_lookup('1EG4TE5MK73')$$, '28000',
    'encrypted PHI cannot be read with this session''s PHI key',
    'with the wrong key, a lookup says so instead of finding nobody'
);
RESET SESSION AUTHORIZATION;

-- Altered values are detected.
SELECT set_config('pbm.phi_key', 'test-key-43-the-right-one-0123456789', TRUE);
SELECT throws_ok(
    $$SELECT member.decrypt_phi(set_byte(mbi_encrypted, 20, get_byte(mbi_encrypted, 20) # 1))
      FROM member.members WHERE cardholder_id = 'T43M1'$$,
    '28000', NULL, 'a ciphertext altered by one bit is refused (encrypt-then-MAC)'
);
SELECT throws_ok(
    $$SELECT member.decrypt_phi('\x0102'::bytea)$$, '22023', NULL, 'a value in an unknown format is refused'
);
SELECT is(
    (
        SELECT member.decrypt_phi(m2.mbi_encrypted) FROM member.members AS m2
        WHERE m2.cardholder_id = 'T43M2'
    ),
    '2EG4TE5MK73', 'with the key back, the stored MBIs decrypt'
);

-- The catalog: no identifier of the SSN kind in clear, and the key stored nowhere.
SELECT is_empty(
    $$SELECT c.oid::regclass::text || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('member', 'claims', 'claims_archive', 'claims_work', 'ppp', 'reporting')
        AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attname ~ '(^|_)(ssn|social_security|hicn|mbi|medicare_id|tax_id)($|_)'
        AND a.atttypid <> 'bytea'::regtype$$,
    'every MBI- or SSN-like column of the PHI schemas is bytea (encrypted or a keyed hash), none text'
);
SELECT is_empty(
    $$SELECT setdatabase, setrole FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%pbm.phi_key%'$$,
    'the PHI key is not stored as a database or role setting'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas())
        AND array_to_string(p.proconfig, ',') LIKE '%pbm.phi_key%'$$,
    'nor in a function''s settings'
);

SELECT * FROM finish();
ROLLBACK;
