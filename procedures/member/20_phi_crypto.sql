-- PHI encryption primitives. The key is supplied by the session (setting pbm.phi_key, which the CLI
-- sets from PBM_PHI_KEY) and is never stored in the database. AES-256-CBC with a random IV per value
-- (pgcrypto raw encryption: PGP's iterated key derivation per row would make bulk loads minutes long).

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
    RETURN public.digest(v_key, 'sha256');
END;
$$;
COMMENT ON FUNCTION member.phi_key() IS
'The 256-bit PHI key derived from the session setting pbm.phi_key; raises 28000 with a hint when it is not set.';

CREATE OR REPLACE FUNCTION member.encrypt_phi(p_value text)
RETURNS bytea
LANGUAGE sql
VOLATILE
RETURN (
    SELECT iv || public.encrypt_iv(convert_to(p_value, 'UTF8'), member.phi_key(), iv, 'aes-cbc/pad:pkcs')
    FROM (SELECT public.gen_random_bytes(16) AS iv) AS r
    WHERE p_value IS NOT NULL
);
COMMENT ON FUNCTION member.encrypt_phi(text) IS 'AES-256-CBC encryption of p_value under the session PHI key: 16-byte random IV followed by the ciphertext.';

CREATE OR REPLACE FUNCTION member.decrypt_phi(p_value bytea)
RETURNS text
LANGUAGE sql
STABLE
RETURN convert_from(
    public.decrypt_iv(substr(p_value, 17), member.phi_key(), substr(p_value, 1, 16), 'aes-cbc/pad:pkcs'), 'UTF8'
);
COMMENT ON FUNCTION member.decrypt_phi(bytea) IS 'Decrypts a value of member.encrypt_phi with the session PHI key (wrong key: an error, never plaintext).';

CREATE OR REPLACE FUNCTION member.mbi_hash(p_mbi text)
RETURNS bytea
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF NOT ref.mbi_is_valid(p_mbi) THEN
        RAISE EXCEPTION 'invalid MBI %: 11 characters C A AN N A AN N A A N N, upper case, no dashes', p_mbi
            USING ERRCODE = '22023', HINT = 'Letters S, L, O, I, B and Z are never used; 1EG4TE5MK73 is valid';
    END IF;
    RETURN public.hmac(convert_to(p_mbi, 'UTF8'), member.phi_key(), 'sha256');
END;
$$;
COMMENT ON FUNCTION member.mbi_hash(text) IS
'Keyed hash (HMAC-SHA256 under the PHI key) of a valid MBI, for exact-match lookup; refuses an invalid MBI.';
