"""`pbm db check` and the DBA runbooks in sql/, on claims adjudicated through the real paths (api.adjudicate,
claims.adjudicate_batch, api.reverse) of the hand-priced pgTAP world (tests/fixtures/adjudication.sql)."""

from __future__ import annotations

import shutil
import subprocess

import psycopg
import pytest
from conftest import ROOT, run_pbm

FIXTURE = (ROOT / "tests" / "fixtures" / "adjudication.sql").read_text()
RUNBOOKS = ROOT / "sql"


def member(conn, cardholder: str) -> int:
    return conn.execute("SELECT member_id FROM member.members WHERE cardholder_id = %s", [cardholder]).fetchone()[0]


@pytest.fixture
def world(fresh_db):
    """Claims of three members, committed, adjudicated as a switch and a nightly batch would."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(FIXTURE)
        conn.execute("SELECT tap.setup_adjudication()")
        for cardholder, plan in (("OPS1", "TPD"), ("OPS2", "TCOMM"), ("OPS3", "TPD")):
            conn.execute("SELECT tap.add_member(%s, %s, '1950-01-01', 'F', '2024-01-01')", [cardholder, plan])
        # Real time: ELIQUIS x 30 = 20.00 * 0.83 * 30 + 2.00 = 500.00 allowed; January all deductible, the
        # February fill (90.00 deductible + 25% of 410.00) reversed.
        for dos, rx in (("2025-01-10", "5001"), ("2025-02-10", "5002")):
            conn.execute("SELECT api.adjudicate(tap.claim('OPS1', '99999000301', %s::date, 30, 30, %s))", [dos, rx])
        conn.execute(
            'SELECT api.reverse(\'{"service_provider_id": "1234567893", "rx_number": "5002", '
            '"fill_number": 0, "date_of_service": "20250210"}\')'
        )
        # Batch, commercial: atorvastatin 61.00 at a 10.00 copay; ELIQUIS 500.00 = 200.00 deductible + 50.00.
        conn.execute(
            "SELECT claims.adjudicate_batch(tap.stage_batch(ARRAY["
            "tap.claim('OPS2', '99999000101', '2025-01-10', 30, 30, '5101'), "
            "tap.claim('OPS2', '99999000301', '2025-01-20', 30, 30, '5102')]), '2025-12-31')"
        )
        # M3P participant: the 500.00 January claim goes into the program.
        conn.execute("SELECT api.ppp_elect(%s, 'mail', '2024-12-15 10:00+00', 2025)", [member(conn, "OPS3")])
        conn.execute("SELECT api.adjudicate(tap.claim('OPS3', '99999000301', '2025-01-10', 30, 30, '5201'))")
    return fresh_db


def psql(dsn: str, runbook: str, *variables: str) -> subprocess.CompletedProcess:
    exe = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    args = [exe, "-X", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(RUNBOOKS / runbook)]
    for variable in variables:
        args += ["-v", variable]
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT)


def test_check_passes_then_names_the_tampered_member(world):
    with psycopg.connect(world) as conn:
        accumulators = conn.execute(
            "SELECT m.cardholder_id, a.deductible_accumulated, a.oop_accumulated, a.gross_cost_accumulated "
            "FROM claims.accumulators a JOIN member.members m USING (member_id) ORDER BY 1"
        ).fetchall()
        ops2 = member(conn, "OPS2")
    # By hand: OPS1 500.00 (the February fill reversed); OPS2 200.00 deductible, 10.00 + 250.00 out of pocket,
    # 61.00 + 500.00 gross; OPS3 500.00.
    assert [(c, float(d), float(o), float(g)) for c, d, o, g in accumulators] == [
        ("OPS1", 500.0, 500.0, 500.0),
        ("OPS2", 200.0, 260.0, 561.0),
        ("OPS3", 500.0, 500.0, 500.0),
    ]
    passed = run_pbm("db", "check", dsn=world)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "all 5 consistency checks passed" in passed.stdout

    with psycopg.connect(world) as conn:
        conn.execute("UPDATE claims.accumulators SET deductible_accumulated = 160.00 WHERE member_id = %s", [ops2])
    failed = run_pbm("db", "check", dsn=world)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "1 finding(s) from 1 of 5 consistency checks" in failed.stdout
    finding = next(line for line in failed.stdout.splitlines() if "accumulators_match_paid_claims" in line)
    assert f"member {ops2}, plan year 2025" in finding
    assert "deductible_accumulated: expected 200.00" in finding and "actual 160.00" in finding
    assert "difference -40.00" in finding

    with_health = run_pbm("db", "check", "--health", "--as-of", "2025-03-05", dsn=world)
    assert with_health.returncode == 1, "health warnings never hide a finding"
    # As of 2025-03-05 the M3P month 2025-02 (OPS3 participated) has not been billed.
    assert "m3p_month_not_billed" in with_health.stdout


def test_health_alone_never_fails(world):
    result = run_pbm("db", "check", "--health", "--as-of", "2025-03-05", dsn=world)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all 5 consistency checks passed" in result.stdout
    assert "health finding(s)" in result.stdout and "reporting_not_refreshed" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["db", "check", "--as-of", "2025-13-01", "--health"], "--as-of must be a date YYYY-MM-DD"),
        (["db", "check", "--as-of", "2025-03-01"], "give it with --health"),
    ],
)
def test_bad_arguments_are_one_line(world, args, message):
    result = run_pbm(*args, dsn=world)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.strip().count("\n") == 0


def test_help_has_an_example():
    result = run_pbm("db", "check", "--help")
    assert result.returncode == 0 and "Example:" in result.stdout and "pbm db check --health" in result.stdout


def test_runbooks_run_in_psql(world):
    for runbook, variables in (
        ("partition_maintenance.sql", ["as_of=2026-11-23", "months_ahead=6"]),
        ("refresh_reporting.sql", []),
        ("accumulator_check.sql", []),
        ("accumulator_check.sql", ["plan_year=2025"]),
        ("health_check.sql", ["as_of=2025-03-05"]),
    ):
        result = psql(world, runbook, *variables)
        assert result.returncode == 0, f"{runbook}: {result.stderr}"
    with psycopg.connect(world) as conn:
        months = conn.execute(
            "SELECT count(*) FROM ops.partitions WHERE parent_table = 'claims.claims'::regclass "
            "AND month BETWEEN '2026-11-01' AND '2027-05-01'"
        ).fetchone()[0]
    assert months == 7, "November 2026 and the six months after it exist"

    # January 2025 for OPS3 (first month, no costs before the election): cap = 2,000.00 / 12 months =
    # 166.67, the lesser of that and the month's 500.00.
    billed = psql(world, "m3p_billing.sql", "month=2025-01", "run_date=2025-02-03")
    assert billed.returncode == 0, billed.stderr
    assert "166.67" in billed.stdout
    again = psql(world, "m3p_billing.sql", "month=2025-01", "run_date=2025-02-03")
    assert again.returncode == 0, "re-running the month is safe"
    with psycopg.connect(world) as conn:
        statements = conn.execute("SELECT count(*), sum(amount_billed) FROM ppp.statements").fetchone()
    assert statements[0] == 1 and float(statements[1]) == 166.67, "nobody billed twice"


def test_runbooks_archive_and_fail_on_a_finding(world):
    archived = psql(world, "partition_maintenance.sql", "as_of=2026-11-23", "archive_before=2024-03-01")
    assert archived.returncode == 0, archived.stderr
    assert "claims_archive.claims_y2024m01" in archived.stdout and "claims_archive.claims_y2024m02" in archived.stdout
    assert "pg_dump -Fc -t claims_archive.claims_y2024m01" in archived.stdout
    with psycopg.connect(world) as conn:
        ops1 = member(conn, "OPS1")
        assert conn.execute("SELECT array_agg(plan_year) FROM ops.archived_claim_years()").fetchone()[0] == [2024]
        conn.execute("UPDATE claims.accumulators SET gross_cost_accumulated = 450.00 WHERE member_id = %s", [ops1])
    result = psql(world, "accumulator_check.sql")
    assert result.returncode == 3, "psql stops with exit 3 on the raised error"
    assert f"member {ops1}, plan year 2025" in result.stdout
    assert "gross_cost_accumulated: expected 500.00" in result.stdout and "actual 450.00" in result.stdout
    assert "1 accumulator finding(s)" in result.stderr
    assert run_pbm("db", "check", dsn=world).returncode == 1
