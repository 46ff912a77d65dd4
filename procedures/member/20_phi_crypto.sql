-- PHI encryption primitives. The key is supplied by the session (setting pbm.phi_key, which the CLI sets
-- from PBM_PHI_KEY) and is never stored in the database. From it three keys are derived (HMAC-SHA256 with
-- a purpose label), so no key serves two purposes:
--   encryption  AES-256-CBC with a random IV per value (pgcrypto raw encryption: PGP's iterated key
--               derivation per row would make bulk loads minutes long),
--   mac         HMAC-SHA256 over version, IV and ciphertext (encrypt-then-MAC): a wrong key or an altered
--               value is an error, never garbage plaintext,
--   lookup      HMAC-SHA256 of an identifier (the MBI) for exact-match lookup without decrypting.
-- Stored format: version byte 0x01 | IV (16 bytes) | ciphertext | tag (32 bytes).

CREATE OR REPLACE FUNCTION member.phi_key()
RETURNS bytea
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_key text := current_setting('pbm.phi_key', TRUE);
BEGIN
    IF v_key IS NULL OR v_key = '' THEN
        RAISE EXCEPTION 'the PHI key is not set for this session: encrypted identifiers cannot be read or matched'
            USING ERRCODE = '28000',
                HINT = 'export PBM_PHI_KEY=<key> before running pbm (or SET pbm.phi_key in your session)';
    END IF;
    IF length(v_key) < 32 THEN
        RAISE EXCEPTION 'the PHI key of this session is too short (% characters, at least 32)', length(v_key)
            USING ERRCODE = '28000', HINT = 'Make one with: openssl rand -base64 32';
    END IF;
    RETURN public.digest(v_key, 'sha256');
END;
$$;
COMMENT ON FUNCTION member.phi_key() IS
'The 256-bit PHI master key derived from the session setting pbm.phi_key (at least 32 characters); raises 28000 with a hint when it is not set.';

CREATE OR REPLACE FUNCTION member.phi_subkey(p_purpose text)
RETURNS bytea
LANGUAGE sql
STABLE
RETURN public.hmac(convert_to('pbm phi ' || p_purpose || ' v1', 'UTF8'), member.phi_key(), 'sha256');
COMMENT ON FUNCTION member.phi_subkey(text) IS
'A 256-bit key for one purpose (encryption, mac, lookup) derived from the session PHI key.';

CREATE OR REPLACE FUNCTION member.encrypt_phi(p_value text)
RETURNS bytea
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_iv bytea;
    v_body bytea;
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    v_iv := public.gen_random_bytes(16);
    v_body := '\x01'::bytea || v_iv
        || public.encrypt_iv(convert_to(p_value, 'UTF8'), member.phi_subkey('encryption'), v_iv, 'aes-cbc/pad:pkcs');
    RETURN v_body || public.hmac(v_body, member.phi_subkey('mac'), 'sha256');
END;
$$;
COMMENT ON FUNCTION member.encrypt_phi(text) IS
'Encrypts p_value under the session PHI key: 0x01, a random 16-byte IV, the AES-256-CBC ciphertext, an HMAC-SHA256 tag. NULL stays NULL.';

CREATE OR REPLACE FUNCTION member.decrypt_phi(p_value bytea)
RETURNS text
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_body bytea;
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    IF octet_length(p_value) < 65 OR get_byte(p_value, 0) <> 1 THEN
        RAISE EXCEPTION 'not a value encrypted by member.encrypt_phi (unknown format)' USING ERRCODE = '22023';
    END IF;
    v_body := substr(p_value, 1, octet_length(p_value) - 32);
    IF public.hmac(v_body, member.phi_subkey('mac'), 'sha256') <> substr(p_value, octet_length(p_value) - 31) THEN
        RAISE EXCEPTION 'encrypted PHI cannot be read with this session''s PHI key'
            USING ERRCODE = '28000',
                HINT = 'The value was encrypted under another key (or altered): check PBM_PHI_KEY.';
    END IF;
    RETURN convert_from(
        public.decrypt_iv(substr(v_body, 18), member.phi_subkey('encryption'), substr(v_body, 2, 16), 'aes-cbc/pad:pkcs'),
        'UTF8'
    );
END;
$$;
COMMENT ON FUNCTION member.decrypt_phi(bytea) IS
'Decrypts a value of member.encrypt_phi with the session PHI key after checking its tag: a wrong key or an altered value raises 28000, never returns garbage.';

CREATE OR REPLACE FUNCTION member.mbi_normalize(p_mbi text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN upper(replace(replace(btrim(p_mbi), '-', ''), ' ', ''));
COMMENT ON FUNCTION member.mbi_normalize(text) IS
'The stored form of an MBI as people write it: upper case, dashes and spaces removed (1eg4-te5-mk73 -> 1EG4TE5MK73).';

CREATE OR REPLACE FUNCTION member.mbi_hash(p_mbi text)
RETURNS bytea
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF p_mbi IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT ref.mbi_is_valid(p_mbi) THEN
        -- The value is not repeated in the message: a mistyped MBI is still close to someone's MBI.
        RAISE EXCEPTION 'invalid MBI: 11 characters C A AN N A AN N A A N N, upper case, no dashes'
            USING ERRCODE = '22023', HINT = 'Letters S, L, O, I, B and Z are never used; 1EG4TE5MK73 is valid';
    END IF;
    RETURN public.hmac(convert_to(p_mbi, 'UTF8'), member.phi_subkey('lookup'), 'sha256');
END;
$$;
COMMENT ON FUNCTION member.mbi_hash(text) IS
'Keyed hash (HMAC-SHA256 under the lookup key derived from the PHI key) of a valid MBI, for exact-match lookup; refuses an invalid MBI; NULL stays NULL.';
