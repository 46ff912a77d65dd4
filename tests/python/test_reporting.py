"""`pbm report` and the analyst query files on the hand-built data set of tests/fixtures/reporting/*.sql.

The numbers asserted here are worked out by hand in the fixture's table (and in tests/pgtap/6x_*.sql);
these tests check the plumbing: the same query file through `pbm report run` and through psql -v, output
formats, charts, refresh, one-line errors, and the benchmark command on a tiny data set.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import psycopg
import pytest
from conftest import ROOT, run_pbm

from pbmdb import reporting
from pbmdb.cluster import find_bindir

FIXTURES = [ROOT / "tests" / "fixtures" / "reporting" / f"{part}.sql" for part in ("entities", "claims")]


def psql_binary() -> str:
    bindir = find_bindir()
    exe = str(bindir / "psql") if bindir and (bindir / "psql").exists() else shutil.which("psql")
    assert exe, "psql not found"
    return exe


def psql(dsn: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [psql_binary(), dsn, "-X", "-v", "ON_ERROR_STOP=1", *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.fixture(scope="module")
def report_db(server, template_db):
    """A database holding the hand-built claims of January to April 2025, reporting refreshed."""
    from pbmdb.testing import clone_database, drop_database

    dsn = clone_database(server, template_db)
    files = [arg for f in FIXTURES for arg in ("-f", str(f))]
    loaded = psql(dsn, "-q", "-1", *files)
    assert loaded.returncode == 0, loaded.stderr
    refreshed = run_pbm("report", "refresh", dsn=dsn)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "fact_claims (4 month(s) rebuilt)" in refreshed.stdout
    yield dsn
    drop_database(server, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


def test_list_describes_every_query_file():
    result = run_pbm("report", "list")
    assert result.returncode == 0, result.stderr
    names = sorted(p.stem for p in (ROOT / "reports" / "queries").glob("*.sql"))
    assert len(names) >= 20
    for name in names:
        assert f"\n{name}: " in "\n" + result.stdout
    assert "--param period" in result.stdout and "day|week|month|quarter|year" in result.stdout


def test_every_query_file_has_a_title_and_documented_parameters():
    for report in reporting.list_reports():
        assert report.title != report.name, report.name
        assert report.description, report.name
        for p in report.params:
            assert p.help, (report.name, p.name)
        placeholders = set(reporting._VARIABLE.findall(report.body))
        assert placeholders == {p.name for p in report.params}, report.name


def test_every_report_runs_with_its_defaults(report_db):
    with psycopg.connect(report_db) as conn:
        for report in reporting.list_reports():
            columns, _rows = reporting.run(conn, report, report.bind({}))
            assert columns, report.name


def test_run_json_top_drugs(report_db):
    result = run_pbm("report", "run", "top_drugs", "--param", "limit=2", "--format", "json", dsn=report_db)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["rank"], r["drug_name"], r["gross_cost"]) for r in rows] == [
        (1, "ELIQUIS", 3040.0),
        (2, "LIPITOR", 150.0),
    ]


def test_run_csv_to_a_file(report_db, tmp_path):
    out = tmp_path / "trend.csv"
    result = run_pbm("report", "run", "cost_trend", "--format", "csv", "--out", str(out), dsn=report_db)
    assert result.returncode == 0, result.stderr
    assert "4 row(s) written to" in result.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    april = rows[-1]
    assert april["month"] == "2025-04-01"
    assert (april["gross_cost"], april["rolling_3m_cost"], april["rolling_3m_change_pct"]) == (
        "1054.00",
        "2684.00",
        "16.59",
    )


def test_run_table_with_parameters(report_db):
    result = run_pbm("report", "run", "cost_by_period", "--param", "period=quarter", dsn=report_db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["period_start", "claims_submitted", "paid_claims"]
    assert "2302.00" in lines[2] and lines[2].startswith("2025-01-01")
    assert lines[-1] == "(2 rows)"


def test_the_same_file_runs_in_psql_with_v(report_db):
    query = str(ROOT / "reports" / "queries" / "cost_by_period.sql")
    result = psql(report_db, "-A", "-t", "-v", "period=quarter", "-v", "plan=RPT-B", "-f", query)
    assert result.returncode == 0, result.stderr
    # Plan B, Q1: 12 + 520 + 12 + 30 = 574.00 over 4 net paid claims; Q2: 520.00 over 1.
    assert result.stdout.splitlines() == [
        "2025-01-01|5|4|1|574.00|574.00|0.00|574.00|0.00|143.50",
        "2025-04-01|1|1|0|520.00|520.00|0.00|520.00|0.00|520.00",
    ]
    via_pbm = run_pbm(
        "report",
        "run",
        "cost_by_period",
        "--param",
        "period=quarter",
        "--param",
        "plan=RPT-B",
        "--format",
        "csv",
        dsn=report_db,
    )
    assert via_pbm.stdout.splitlines()[1] == "2025-01-01,5,4,1,574.00,574.00,0.00,574.00,0.00,143.50"


def test_psql_defaults_apply_without_v(report_db):
    query = str(ROOT / "reports" / "queries" / "top_drugs.sql")
    result = psql(report_db, "-A", "-t", "-f", query)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 6  # six drugs with paid claims, limit 10


def test_plot_writes_a_png(report_db, tmp_path):
    out = tmp_path / "trend.png"
    result = run_pbm("report", "plot", "cost_trend", "--out", str(out), dsn=report_db)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "no_such_report"], 2, "error: unknown report 'no_such_report': see pbm report list"),
        (["run", "top_drugs", "--param", "nope=1"], 2, "error: report top_drugs has no parameter nope"),
        (["run", "top_drugs", "--param", "limit"], 2, "error: --param needs KEY=VALUE, got 'limit'"),
        (["run", "top_drugs", "--param", "from=2025-13-01"], 2, "error: parameter from: '2025-13-01' is not"),
        (["run", "cost_by_period", "--param", "period=fortnight"], 2, "error: parameter period: 'fortnight'"),
        (["run", "top_drugs", "--format", "xml"], 2, "error: --format must be table, csv or json"),
        (["run", "top_drugs", "--param", "plan=NOPE"], 1, "error: unknown plan code NOPE"),
        (["run", "top_drugs", "--param", "limit=0"], 1, "error: limit must be between 1 and 10000"),
        (["plot", "top_drugs", "--out", "x.png"], 2, "error: report top_drugs has no chart"),
        (["plot", "cost_trend", "--out", "x.pdf"], 2, "error: --out must name a .png file"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(report_db, args, code, message):
    result = run_pbm("report", *args, dsn=report_db)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_python_refresh_for_the_nightly_etl(report_db):
    with psycopg.connect(report_db) as conn:
        conn.execute(
            "INSERT INTO claims.claims (date_of_service, transaction_response_status, reject_codes, "
            "product_id) VALUES ('2025-03-10', 'R', '{65}', '11111111101')"
        )
        conn.commit()
        steps = reporting.refresh(conn)
    # March is rebuilt: its 7 B1 claims (A10-A14, B04, B06) and the new one.
    assert ("fact_claims (1 month(s) rebuilt)", 8) in [(s, r) for s, r, _ in steps]
    assert steps[-1][0] == "total"


def test_bench_reports_on_a_tiny_data_set(report_db):
    result = run_pbm(
        *("bench", "reports", "--claims", "3000", "--members", "300", "--months", "3", "--runs", "1"),
        dsn=report_db,
    )
    # Timings are the benchmark's business, not a test's (a busy machine may miss 100 ms): only the
    # structure is checked here, and that no report reads a claims table.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "0 report(s) touching a claims table" in result.stdout
    assert "full refresh" in result.stdout and "incremental refresh" in result.stdout
    assert "dropped database" in result.stdout
