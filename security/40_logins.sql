-- Logins: a PostgreSQL role that can log in, granted exactly one pbm group role, and its row in
-- security.logins (the pharmacy or member it may see). `pbm user create` calls these; so can a DBA in psql.
-- They run with the caller's rights: creating and dropping roles needs CREATEROLE (or a superuser).

CREATE OR REPLACE FUNCTION security.create_login(
    p_login text,
    p_role text,
    p_password_verifier text DEFAULT NULL,
    p_pharmacy_npi text DEFAULT NULL,
    p_member_id bigint DEFAULT NULL
)
RETURNS security.logins
LANGUAGE plpgsql
AS $$
DECLARE
    v_role name := CASE WHEN p_role LIKE 'pbm\_%' THEN p_role ELSE 'pbm_' || p_role END;
    v_login security.logins;
BEGIN
    IF p_login IS NULL OR p_login !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid login name %', coalesce(quote_literal(p_login), 'NULL')
            USING ERRCODE = '22023',
            HINT = 'Lower-case letters, digits and _, starting with a letter or _, at most 63 characters.';
    END IF;
    IF p_login ~ '^(pbm|pg)_' THEN
        RAISE EXCEPTION 'login name % is reserved: pbm_ and pg_ names belong to group and system roles', p_login
            USING ERRCODE = '42939';
    END IF;
    IF v_role IS NULL OR NOT v_role = ANY (security.group_roles()) OR v_role = 'pbm_owner' THEN
        RAISE EXCEPTION 'unknown role %', coalesce(quote_literal(p_role), 'NULL')
            USING ERRCODE = '22023',
            HINT = 'One of admin, etl, switch, analyst, bi, pharmacy, member, auditor (pbm_owner gets no logins).';
    END IF;
    IF (v_role = 'pbm_pharmacy') <> (p_pharmacy_npi IS NOT NULL) THEN
        RAISE EXCEPTION '%', CASE WHEN p_pharmacy_npi IS NULL
            THEN 'a pharmacy login needs the NPI of its pharmacy'
            ELSE format('only pharmacy logins are scoped to a pharmacy (role %s)', v_role) END
            USING ERRCODE = '22023';
    END IF;
    IF (v_role = 'pbm_member') <> (p_member_id IS NOT NULL) THEN
        RAISE EXCEPTION '%', CASE WHEN p_member_id IS NULL
            THEN 'a member login needs the member_id of its member'
            ELSE format('only member logins are scoped to a member (role %s)', v_role) END
            USING ERRCODE = '22023';
    END IF;
    IF p_pharmacy_npi IS NOT NULL AND NOT EXISTS (
        SELECT FROM network.pharmacies AS p
        WHERE p.npi = p_pharmacy_npi
    ) THEN
        RAISE EXCEPTION 'no pharmacy with NPI %', p_pharmacy_npi
            USING ERRCODE = '23503', HINT = 'Pharmacies are in network.pharmacies (NCPDP 201-B1 Service Provider ID).';
    END IF;
    IF p_member_id IS NOT NULL AND NOT EXISTS (
        SELECT FROM member.members AS m
        WHERE m.member_id = p_member_id
    ) THEN
        RAISE EXCEPTION 'no member with member_id %', p_member_id USING ERRCODE = '23503';
    END IF;
    IF p_password_verifier IS NOT NULL AND p_password_verifier !~ '^SCRAM-SHA-256\$' THEN
        RAISE EXCEPTION 'the password must reach the server as a SCRAM-SHA-256 verifier, never in clear text'
            USING ERRCODE = '28P01',
            HINT = 'pbm user create hashes it on the client; in psql create the login without one, then \password.';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles AS r WHERE r.rolname = p_login) THEN
        RAISE EXCEPTION 'role % already exists in this cluster', p_login
            USING ERRCODE = '42710', HINT = 'Roles are cluster-wide; pick another name or drop the old login first.';
    END IF;

    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', p_login, p_password_verifier, v_role);
    EXECUTE format('COMMENT ON ROLE %I IS %L', p_login, format('pbm login in %s, made by %s', v_role, session_user));
    IF v_role IN ('pbm_analyst', 'pbm_bi', 'pbm_auditor') THEN
        -- Privileges already forbid writing; this makes every transaction of the login read-only as well.
        EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', p_login);
    END IF;
    INSERT INTO security.logins (login_name, role_name, pharmacy_npi, member_id)
    VALUES (p_login, v_role, p_pharmacy_npi, p_member_id)
    RETURNING * INTO v_login;
    RETURN v_login;
END;
$$;
COMMENT ON FUNCTION security.create_login(text, text, text, text, bigint) IS
'Creates login p_login in pbm group role p_role (admin, etl, switch, analyst, bi, pharmacy, member, auditor) with a SCRAM verifier as its password (NULL: none yet), scoped to a pharmacy NPI or a member_id for pharmacy and member logins, and records it in security.logins. Needs CREATEROLE.';

CREATE OR REPLACE FUNCTION security.drop_login(p_login text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_login = ANY (security.group_roles()) THEN
        RAISE EXCEPTION 'refusing to drop group role %', p_login USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (SELECT FROM security.logins AS l WHERE l.login_name = p_login) THEN
        RAISE EXCEPTION 'no pbm login %', coalesce(quote_literal(p_login), 'NULL')
            USING ERRCODE = '42704', HINT = 'pbm user list shows the logins of this database.';
    END IF;
    DELETE FROM security.logins AS l
    WHERE l.login_name = p_login;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles AS r WHERE r.rolname = p_login) THEN
        EXECUTE format('DROP ROLE %I', p_login);
    END IF;
END;
$$;
COMMENT ON FUNCTION security.drop_login(text) IS
'Drops pbm login p_login: its security.logins row and the role itself. Needs CREATEROLE.';

-- The mapping itself: staff read it whole, a pharmacy or member login only its own row (the policies on
-- PHI tables read it as that login). Forced, so the owner's access is a policy too.
ALTER TABLE security.logins ENABLE ROW LEVEL SECURITY;
ALTER TABLE security.logins FORCE ROW LEVEL SECURITY;
SELECT security.put_policy('security.logins', 'owner_all_rows', 'ALL', '{pbm_owner}', 'true', 'true');
SELECT security.put_policy('security.logins', 'staff_all_rows', 'SELECT', '{pbm_admin,pbm_auditor}', 'true', NULL);
SELECT security.put_policy(
    'security.logins', 'own_row', 'SELECT', '{pbm_pharmacy,pbm_member}', 'login_name = current_user', NULL
);
