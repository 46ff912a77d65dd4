-- Looking a member up by MBI: the MBI is matched by its keyed hash (no decryption of every row), the
-- matching members' MBIs are decrypted for the answer, and the read is logged (audit.log_read).

CREATE OR REPLACE FUNCTION api.member_lookup(p_mbi text)
RETURNS TABLE (
    member_id bigint,
    cardholder_id varchar,
    person_code varchar,
    first_name text,
    last_name text,
    date_of_birth date,
    gender char(1),
    mbi text
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    -- Raises 28000 without a PHI key in the session and 22023 for a malformed MBI.
    v_hash bytea := member.mbi_hash(member.mbi_normalize(p_mbi));
    v_found bigint [];
BEGIN
    SELECT array_agg(m.member_id ORDER BY m.member_id) INTO v_found
    FROM member.members AS m
    WHERE m.mbi_hash = v_hash;
    IF v_found IS NULL THEN
        -- Nothing matched. With a wrong key nothing ever would: one stored MBI that does not decrypt
        -- under this key says so (28000) instead of a silent empty answer.
        PERFORM member.decrypt_phi(m.mbi_encrypted)
        FROM member.members AS m
        WHERE m.mbi_encrypted IS NOT NULL
        LIMIT 1;
    END IF;
    PERFORM audit.log_read(
        'api.member_lookup', coalesce(v_found, '{}'),
        jsonb_build_object('by', 'mbi', 'rows', coalesce(cardinality(v_found), 0))
    );
    RETURN QUERY
    SELECT
        m.member_id,
        m.cardholder_id,
        m.person_code,
        m.first_name,
        m.last_name,
        m.date_of_birth,
        m.gender,
        member.decrypt_phi(m.mbi_encrypted)
    FROM member.members AS m
    WHERE m.member_id = ANY(v_found)
    ORDER BY m.member_id;
END;
$$;
COMMENT ON FUNCTION api.member_lookup(text) IS
'Members whose MBI is p_mbi (dashes and case ignored), with the MBI decrypted. Needs the PHI key in the session (28000 without it or with the wrong one); 22023 for a malformed MBI. Every call is logged in audit.log (READ). For pbm_admin.';
