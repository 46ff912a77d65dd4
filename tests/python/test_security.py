"""Security commands as a user runs them: `pbm user create/list/drop`, `pbm db environment`, `pbm db mask`,
and real logins (password over TCP) trying what pgTAP cannot: SET SESSION AUTHORIZATION from a login."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from conftest import ROOT, run_pbm
from psycopg import conninfo as ci

KEY = "pytest-phi-key-0123456789-abcdefghij"

PHARMACIES = """
INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
VALUES ('1234567893', '0000001', 'A', '1 A St', 'Austin', 'TX', '78701', 'retail'),
       ('1123456786', '0000002', 'B', '2 B St', 'Dallas', 'TX', '75201', 'retail')
"""
PHARMACY_CLAIMS = """
INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes,
                           service_provider_id)
VALUES (-1, current_date, 'R', '{65}', '1234567893'), (-2, current_date, 'R', '{65}', '1123456786')
"""
FAMILY = """
INSERT INTO member.members (cardholder_id, person_code, first_name, last_name, date_of_birth, gender,
                            address_line1, city, state, zip5, mbi_encrypted, mbi_hash)
VALUES ('REALFAM', '01', 'Maria', 'Realname', '1948-03-03', 'F', '9 Real St', 'Austin', 'TX', '78701',
        member.encrypt_phi('1EG4TE5MK73'), member.mbi_hash('1EG4TE5MK73')),
       ('REALFAM', '02', 'Jose', 'Realname', '1947-02-02', 'M', '9 Real St', 'Austin', 'TX', '78701',
        NULL, NULL)
"""
FAMILY_CLAIMS = """
INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes,
                           cardholder_id, person_code, patient_date_of_birth, member_id, rx_number,
                           service_provider_id)
SELECT -member_id, current_date, 'R', '{70}', cardholder_id, person_code, date_of_birth, member_id, 'RX1',
       '1234567893'
FROM member.members
"""
HISTORY_MATCHES_MEMBER = """
SELECT count(*) FROM member.member_history h JOIN member.members m USING (member_id)
WHERE h.first_name <> m.first_name OR h.last_name <> m.last_name OR h.date_of_birth <> m.date_of_birth
   OR (h.valid_to = 'infinity' AND h.address_line1 <> m.address_line1)
   OR h.address_line1 IN ('9 Real St', '10 Moved Ave')
"""
LOGIN_AUDITED = """
SELECT app_user FROM audit.log
WHERE object_name = 'security.logins' AND new_values ->> 'login_name' = %s
"""


def login_dsn(dsn: str, user: str, password: str) -> str:
    """The conninfo of dsn for another user, over TCP (the local cluster trusts only its unix socket)."""
    params = ci.conninfo_to_dict(dsn)
    if not params.get("host") or params["host"].startswith("/"):
        params["host"] = "localhost"
    params.update(user=user, password=password)
    return ci.make_conninfo(**params)


def one_line_error(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.count("\n") == 0, message
    return message


@pytest.fixture
def cleanup_roles(server):
    created: list[str] = []
    yield created
    with psycopg.connect(server, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_created_login_logs_in_with_its_generated_password_and_is_read_only(fresh_db, cleanup_roles):
    name = f"bi_{uuid.uuid4().hex[:8]}"
    cleanup_roles.append(name)
    result = run_pbm("user", "create", name, "--role", "bi", dsn=fresh_db, env={"PBM_APP_USER": "ops@pbm"})
    assert result.returncode == 0, result.stderr
    assert f"created login {name} in role pbm_bi" in result.stdout
    password = result.stdout.split("store it now): ")[1].strip()
    with psycopg.connect(fresh_db) as conn:
        verifier = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [name]).fetchone()[0]
        assert verifier.startswith("SCRAM-SHA-256$") and password not in verifier
        logged = conn.execute(LOGIN_AUDITED, [name]).fetchone()
        assert logged == ("ops@pbm",)
    with psycopg.connect(login_dsn(fresh_db, name, password)) as conn:
        assert conn.execute("SELECT session_user").fetchone()[0] == name
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM member.members")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(login_dsn(fresh_db, name, "wrong password")).close()


def test_a_real_pharmacy_login_cannot_set_its_way_out(fresh_db, cleanup_roles):
    a, b = f"rx_a_{uuid.uuid4().hex[:8]}", f"rx_b_{uuid.uuid4().hex[:8]}"
    cleanup_roles.extend([a, b])
    with psycopg.connect(fresh_db) as conn:
        conn.execute(PHARMACIES)
        conn.execute(PHARMACY_CLAIMS)
    passwords = {}
    for name, npi in ((a, "1234567893"), (b, "1123456786")):
        result = run_pbm("user", "create", name, "--role", "pharmacy", "--pharmacy", npi, dsn=fresh_db)
        assert result.returncode == 0, result.stderr
        assert f"pharmacy {npi}" in result.stdout
        passwords[name] = result.stdout.split("store it now): ")[1].strip()
    with psycopg.connect(login_dsn(fresh_db, a, passwords[a]), autocommit=True) as conn:
        assert conn.execute("SELECT claim_id FROM claims.claims").fetchall() == [(-1,)]
        for attempt in (f"SET SESSION AUTHORIZATION {b}", f"SET ROLE {b}", "SET ROLE pbm_admin"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(attempt)
        conn.execute("SET pbm.pharmacy_npi = '1123456786'")
        conn.execute("SET row_security = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT claim_id FROM claims.claims")


def test_password_prompt_and_list_and_drop(fresh_db, cleanup_roles):
    name = f"aud_{uuid.uuid4().hex[:8]}"
    cleanup_roles.append(name)
    result = run_pbm(
        "user",
        "create",
        name,
        "--role",
        "auditor",
        "--password-prompt",
        dsn=fresh_db,
        input="correct horse battery\ncorrect horse battery\n",
    )
    assert result.returncode == 0, result.stderr
    assert "shown once" not in result.stdout
    with psycopg.connect(login_dsn(fresh_db, name, "correct horse battery")) as conn:
        assert conn.execute("SELECT count(*) >= 0 FROM audit.log").fetchone()[0]
    listed = run_pbm("user", "list", dsn=fresh_db)
    assert name in listed.stdout and "pbm_auditor" in listed.stdout
    dropped = run_pbm("user", "drop", name, "--yes", dsn=fresh_db)
    assert dropped.returncode == 0, dropped.stderr
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [name]).fetchone()[0] == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--role", "superhero"], "unknown role 'superhero'"),
        (["--role", "pharmacy"], "a pharmacy login needs the NPI of its pharmacy"),
        (["--role", "pharmacy", "--pharmacy", "1234567893"], "no pharmacy with NPI 1234567893"),
        (["--role", "member", "--member", "abc"], "--member takes a numeric member_id"),
        (["--role", "bi", "--member", "1"], "only member logins are scoped to a member"),
        (["--role", "pharmacy", "--pharmacy", "1234567893", "--member", "1"], "exclude each other"),
    ],
)
def test_bad_user_create_is_one_line_and_non_zero(db, args, expected):
    message = one_line_error(run_pbm("user", "create", f"nobody_{uuid.uuid4().hex[:8]}", *args, dsn=db))
    assert expected in message


def test_reserved_and_malformed_login_names_are_refused(db):
    assert "reserved" in one_line_error(run_pbm("user", "create", "pbm_admin", "--role", "admin", dsn=db))
    assert "invalid login name" in one_line_error(run_pbm("user", "create", "Bad-Name", "--role", "bi", dsn=db))


def test_mask_refuses_a_database_not_marked_non_production(db):
    message = one_line_error(run_pbm("db", "mask", "--yes", dsn=db))
    assert "refusing to mask database" in message and "not marked non-production" in message
    marked = one_line_error(run_pbm("db", "environment", "non-production", dsn=db))
    assert "needs its name as confirmation" in marked


def test_mask_replaces_identifying_data_consistently(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        conn.execute("SELECT set_config('pbm.phi_key', %s, false)", [KEY])
        conn.execute(FAMILY)
        conn.execute(FAMILY_CLAIMS)
        conn.execute("SELECT set_config('pbm.effective_date', '2030-01-01', false)")
        conn.execute("UPDATE member.members SET address_line1 = '10 Moved Ave'")
    name = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    marked = run_pbm("db", "environment", "non-production", "--confirm", name, dsn=fresh_db)
    assert marked.returncode == 0 and "non-production" in marked.stdout, marked.stderr
    result = run_pbm("db", "mask", "--yes", "--seed", "42", dsn=fresh_db, env={"PBM_PHI_KEY": KEY})
    assert result.returncode == 0, result.stderr
    assert "masked member.members: 2 rows" in result.stdout
    with psycopg.connect(fresh_db) as conn:
        conn.execute("SELECT set_config('pbm.phi_key', %s, false)", [KEY])
        members = conn.execute(
            "SELECT member_id, cardholder_id, first_name, last_name, date_of_birth, address_line1, "
            "member.decrypt_phi(mbi_encrypted) FROM member.members ORDER BY person_code"
        ).fetchall()
        assert all(m[3] != "Realname" and m[5] != "9 Real St" and m[1] != "REALFAM" for m in members)
        assert members[0][1] == members[1][1], "a family keeps one cardholder id"
        assert members[0][6] not in (None, "1EG4TE5MK73")
        assert conn.execute("SELECT ref.mbi_is_valid(%s)", [members[0][6]]).fetchone()[0], "a well-formed fake MBI"
        assert (
            conn.execute(
                "SELECT count(*) FROM member.members WHERE mbi_hash = member.mbi_hash(%s)", [members[0][6]]
            ).fetchone()[0]
            == 1
        ), "lookups by the fake MBI work on the masked copy"
        assert conn.execute(HISTORY_MATCHES_MEMBER).fetchone()[0] == 0, "history carries the new identity"
        claims = conn.execute(
            "SELECT c.cardholder_id = m.cardholder_id AND c.patient_date_of_birth = m.date_of_birth "
            "FROM claims.claims c JOIN member.members m USING (member_id)"
        ).fetchall()
        assert claims == [(True,), (True,)]
        assert conn.execute("SELECT array_agg(action) FROM audit.log WHERE action = 'MASK'").fetchone()[0] == ["MASK"]
        assert (
            conn.execute("SELECT count(*) FROM audit.log WHERE old_values::text LIKE '%Realname%'").fetchone()[0] == 0
        )


def test_audit_log_truncate_and_retention_in_a_database_of_their_own(fresh_db):
    """Both take an exclusive lock on audit.log, which pgTAP files running side by side must not wait on."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("TRUNCATE audit.log")
        created = conn.execute("SELECT audit.create_month_partitions('2015-01-01', '2015-01-31')").fetchall()
        assert created == [("log_y2015m01",)]
        assert conn.execute("SELECT audit.drop_month_partition('2015-01-01')").fetchone() == ("audit.log_y2015m01",)
        assert conn.execute("SELECT to_regclass('audit.log_y2015m01')").fetchone() == (None,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="less than 6 years old"):
            conn.execute("SELECT audit.drop_month_partition(current_date)")


ADJUDICATION_FIXTURE = (ROOT / "tests" / "fixtures" / "adjudication.sql").read_text()


def make_login(dsn: str, name: str, role: str, *, pharmacy: str | None = None, member: int | None = None) -> str:
    """A login made as `pbm user create` makes it; returns its TCP conninfo (password known to the test)."""
    password = f"pw-{uuid.uuid4().hex}"
    with psycopg.connect(dsn) as conn:
        verifier = conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode()
        conn.execute("SELECT security.create_login(%s, %s, %s, %s, %s)", [name, role, verifier, pharmacy, member])
    return login_dsn(dsn, name, password)


def test_service_paths_work_as_pbm_logins(fresh_db, tmp_path, cleanup_roles):
    """The switch adjudicates through the api, ETL stages and adjudicates a batch and pays it, each as its own
    login under forced row-level security; the pharmacy and the member then see exactly their claims."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(ADJUDICATION_FIXTURE)
        conn.execute("SELECT tap.setup_adjudication()")
        member_id = conn.execute("SELECT tap.add_member('SVC1', 'TPD', '1950-05-01', 'F', '2025-01-01')").fetchone()
        conn.execute("SELECT tap.add_member('SVC2', 'TCOMM', '1975-01-01', 'M', '2025-01-01')")
        requests = [
            conn.execute("SELECT tap.claim(%s, '99999000301', %s, 30, 30, %s)", [who, dos, rx]).fetchone()[0]
            for who, dos, rx in (
                ("SVC1", "2025-01-10", "5001"),
                ("SVC1", "2025-02-10", "5002"),
                ("SVC2", "2025-01-10", "5003"),
            )
        ]
        member_id = conn.execute("SELECT member_id FROM member.members WHERE cardholder_id = 'SVC1'").fetchone()[0]
    tag = uuid.uuid4().hex[:6]
    names = {r: f"{r}_{tag}" for r in ("switch", "etl", "pharmacy", "member", "admin")}
    cleanup_roles.extend(names.values())
    dsns = {
        "switch": make_login(fresh_db, names["switch"], "switch"),
        "etl": make_login(fresh_db, names["etl"], "etl"),
        "admin": make_login(fresh_db, names["admin"], "admin"),
        "pharmacy": make_login(fresh_db, names["pharmacy"], "pharmacy", pharmacy="1234567893"),
        "member": make_login(fresh_db, names["member"], "member", member=member_id),
    }
    real_time = tmp_path / "real_time.json"
    real_time.write_text(json.dumps(requests[0]))
    submitted = run_pbm("claims", "submit", str(real_time), dsn=dsns["switch"])
    assert submitted.returncode == 0, submitted.stderr
    assert json.loads(submitted.stdout)["transaction_response_status"] == "P"
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(r) for r in requests[1:]))
    batched = run_pbm("claims", "batch", "--file", str(batch), "--as-of", "2025-12-31", dsn=dsns["etl"])
    assert batched.returncode == 0, batched.stderr
    assert "2 claims, 2 paid" in batched.stdout
    assert "WARNING" not in batched.stderr, "ETL owns the scratch tables it analyzes"
    paid = run_pbm("claims", "pay", "--date", "2099-01-01", dsn=dsns["etl"])
    assert paid.returncode == 0, paid.stderr
    with psycopg.connect(dsns["pharmacy"]) as conn:
        assert conn.execute("SELECT count(*) FROM claims.claims").fetchone()[0] == 3
    with psycopg.connect(dsns["member"]) as conn:
        mine = conn.execute("SELECT rx_number FROM claims.claims ORDER BY rx_number").fetchall()
        assert mine == [("5001",), ("5002",)]
        assert conn.execute("SELECT count(*) FROM claims.accumulators").fetchone()[0] == 1
    with psycopg.connect(dsns["admin"]) as conn:
        assert conn.execute("SELECT count(*) FROM claims.claims").fetchone()[0] == 3
    with psycopg.connect(fresh_db) as conn:
        who = dict(
            conn.execute(
                "SELECT db_user::text, sum(row_count) FROM audit.log "
                "WHERE object_name = 'claims.claims' AND action = 'INSERT' GROUP BY 1"
            ).fetchall()
        )
    assert who == {names["switch"]: 1, names["etl"]: 2}, "each insert is on record under the login that made it"


def test_an_eligibility_feed_loads_as_an_etl_login(fresh_db, tmp_path, cleanup_roles):
    from etl_helpers import MBI, PHI_KEY, csv_text, setup_reference, write

    setup_reference(fresh_db)
    name = f"etl_{uuid.uuid4().hex[:6]}"
    cleanup_roles.append(name)
    dsn = make_login(fresh_db, name, "etl")
    row = ["NEW001", "01", "1", "Grace", "Hopper", "1940-12-09", "F", "1 Navy Way", "Arlington", "VA", "22201", MBI]
    path = write(
        tmp_path, "eligibility_20250101.csv", csv_text("eligibility", [row + ["PARTD1", "2025-01-01", "", ""]])
    )
    result = run_pbm("etl", "load", "eligibility", str(path), dsn=dsn, env={"PBM_PHI_KEY": PHI_KEY})
    assert result.returncode == 0, result.stderr
    with psycopg.connect(fresh_db) as conn:
        conn.execute("SELECT set_config('pbm.phi_key', %s, false)", [PHI_KEY])
        assert conn.execute(
            "SELECT member.decrypt_phi(mbi_encrypted) FROM member.members WHERE cardholder_id = 'NEW001'"
        ).fetchone() == (MBI,)
        assert (
            conn.execute(
                "SELECT count(*) FROM audit.log WHERE object_name = 'member.members' AND db_user = %s", [name]
            ).fetchone()[0]
            == 1
        )
