"""Runs of the loader as an operator sees them: the same file twice, a killed load, the CLI commands,
the nightly inbox."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time

import psycopg
import pytest
from conftest import PBM, ROOT
from etl_helpers import (
    PHI_KEY,
    claim,
    csv_text,
    load,
    rejects,
    rows,
    scalar,
    setup_reference,
    write,
)

from etl.layouts import FEEDS


@pytest.fixture
def db_ref(fresh_db, monkeypatch):
    monkeypatch.setenv("PBM_PHI_KEY", PHI_KEY)
    setup_reference(fresh_db)
    return fresh_db


def pbm(*args, dsn, env=None, **kw):
    full_env = {k: v for k, v in os.environ.items() if k != "PBM_DSN"}
    full_env.update(env or {})
    return subprocess.run([PBM, "--dsn", dsn, *args], capture_output=True, text=True, env=full_env, cwd=ROOT, **kw)


ELIGIBILITY = [
    ["NEW001", "01", "1", "Grace", "Hopper", "1940-12-09", "F", "1 Navy Way", "Arlington", "VA", "22201",
     "1EG4TE5MK73", "PARTD1", "2025-01-01", "", ""],
    ["NEW002", "01", "1", "Alan", "Turing", "1912-06-23", "M", "2 Park Rd", "Austin", "TX", "78701", "",
     "COMM1", "2025-01-01", "2025-12-31", "other"],
]  # fmt: skip

SNAPSHOT = """
SELECT m.cardholder_id, m.first_name, m.address_line1, m.mbi_encrypted, m.updated_at,
    (SELECT array_agg((h.valid_from, h.valid_to, h.address_line1)::text ORDER BY h.valid_from)
     FROM member.member_history h WHERE h.member_id = m.member_id),
    (SELECT array_agg((cs.plan_id, cs.effective_date, cs.termination_date, cs.termination_reason)::text)
     FROM member.coverage_spans cs WHERE cs.member_id = m.member_id)
FROM member.members m ORDER BY m.cardholder_id
"""


def test_the_same_file_twice_is_recognised_and_changes_nothing(db_ref, tmp_path):
    path = write(tmp_path, "eligibility_20250101.csv", csv_text("eligibility", ELIGIBILITY))
    first = load(db_ref, "eligibility", path)
    assert (first.status, first.rows_loaded, first.rows_inserted) == ("completed", 2, 4)
    before = rows(db_ref, SNAPSHOT)
    # same content under another name: still the same file
    again = load(db_ref, "eligibility", write(tmp_path, "eligibility_resent.csv", path.read_bytes()))
    assert (again.status, again.batch_id, again.loaded_before_batch_id) == (
        "already loaded",
        None,
        first.batch_id,
    )
    assert scalar(db_ref, "SELECT count(*) FROM etl.batches") == 1
    assert rows(db_ref, SNAPSHOT) == before
    # loading it again on purpose is a new batch that changes nothing either
    forced = load(db_ref, "eligibility", path, force=True)
    assert (forced.status, forced.rows_loaded, forced.rows_inserted, forced.rows_updated) == (
        "completed",
        2,
        0,
        0,
    )
    assert scalar(db_ref, "SELECT reload_of_batch_id FROM etl.batches WHERE batch_id = %s", [forced.batch_id]) == (
        first.batch_id
    )
    assert rows(db_ref, SNAPSHOT) == before


def test_a_claims_file_twice_stages_one_claims_batch(db_ref, tmp_path):
    path = write(tmp_path, "claims_20251101.csv", csv_text("claims", [claim(rx_number="1"), claim(rx_number="2")]))
    first = load(db_ref, "claims", path)
    again = load(db_ref, "claims", path)
    assert (first.status, first.rows_loaded, again.status) == ("completed", 2, "already loaded")
    assert rows(db_ref, "SELECT source, file_name, status FROM claims.batches") == [
        ("etl", "claims_20251101.csv", "received")
    ]
    assert scalar(db_ref, "SELECT count(*) FROM claims.batch_claims") == 2


def big_claims_file(tmp_path, lines: int):
    path = tmp_path / "claims_20251101.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(FEEDS["claims"])
        for i in range(lines):
            out.writerow(claim(rx_number=str(100000 + i), cardholder_id=f"M{i % 5000:06d}"))
    return path


def test_killing_a_load_leaves_no_partial_batch_and_the_next_run_completes_it(db_ref, tmp_path):
    path = big_claims_file(tmp_path, 60_000)
    proc = subprocess.Popen(
        [PBM, "--dsn", db_ref, "etl", "load", "claims", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    watch = psycopg.connect(db_ref, autocommit=True)
    backend = None
    deadline = time.monotonic() + 60
    while backend is None and time.monotonic() < deadline and proc.poll() is None:
        found = watch.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'pbm' "
            "AND state = 'active' AND (query LIKE 'COPY%%' OR query LIKE '%%etl.process_batch%%')"
        ).fetchone()
        backend = found[0] if found else None
        time.sleep(0.01)
    assert backend is not None, "the load finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # the server notices the dead client (client_connection_check_interval) and rolls the transaction back
    while time.monotonic() < deadline:
        if not watch.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]).fetchone():
            break
        time.sleep(0.1)
    watch.close()
    assert scalar(db_ref, "SELECT count(*) FROM etl.batches") == 0
    assert scalar(db_ref, "SELECT count(*) FROM etl.rejects") == 0
    assert scalar(db_ref, "SELECT count(*) FROM claims.batches") == 0
    assert scalar(db_ref, "SELECT count(*) FROM claims.batch_claims") == 0

    again = pbm("etl", "load", "claims", str(path), "--stage-only", dsn=db_ref)
    assert again.returncode == 0, again.stderr
    assert rows(db_ref, "SELECT status, rows_received, rows_loaded, rows_rejected FROM etl.batches") == [
        ("completed", 60_000, 60_000, 0)
    ]
    assert scalar(db_ref, "SELECT count(*) FROM claims.batch_claims") == 60_000


# --------------------------------------------------------------------------------------------------
# the CLI
# --------------------------------------------------------------------------------------------------
def test_load_prints_one_line_and_exits_1_when_lines_were_rejected(db_ref, tmp_path):
    good = write(tmp_path, "claims_20251101.csv", csv_text("claims", [claim(rx_number="1")]))
    result = pbm("etl", "load", "claims", str(good), dsn=db_ref)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("batch 1 claims claims_20251101.csv: completed, 1 received, 1 loaded, 0 rejected")
    # the staged claims are adjudicated as of the file's date (no benefit design here: rejected, but adjudicated)
    claims_batch = scalar(db_ref, "SELECT claims_batch_id FROM etl.batches WHERE batch_id = 1")
    assert result.stdout.splitlines()[1].startswith(
        f"claims batch {claims_batch} adjudicated as of 2025-11-01: 1 claims, "
    )
    assert scalar(db_ref, "SELECT status FROM claims.batches WHERE batch_id = %s", [claims_batch]) == "adjudicated"
    assert scalar(db_ref, "SELECT count(*) FROM claims.claims WHERE batch_id = %s", [claims_batch]) == 1
    again = pbm("etl", "load", "claims", str(good), dsn=db_ref)
    assert (again.returncode, again.stdout.strip()) == (
        0,
        "claims_20251101.csv: already loaded as batch 1 (same content); nothing done",
    )
    bad = write(tmp_path, "claims_20251102.csv", csv_text("claims", [claim(rx_number="2", days_supply="0")]))
    result = pbm("etl", "load", "claims", str(bad), dsn=db_ref)
    assert result.returncode == 1
    assert "1 received, 0 loaded, 1 rejected" in result.stdout
    # identity values used by a file found loaded are gone: the new batch is the newest one
    newest = scalar(db_ref, "SELECT max(batch_id) FROM etl.batches")
    assert result.stdout.splitlines()[1] == f"see the rejects with: pbm etl rejects {newest}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["etl", "load", "bogus", "x.csv"], "Invalid value for 'FEED'"),
        (["etl", "load", "drugs", "/nonexistent/drugs.csv"], "does not exist"),
        (["etl", "rejects", "999"], "error: no batch 999: see pbm etl batches"),
        (["etl", "rejects", "abc"], "Invalid value for 'BATCH'"),
        (["etl", "load", "desynpuf_beneficiary", "README.md"], "cannot tell which year"),
    ],
)
def test_bad_arguments_are_one_line_errors(db_ref, args, message):
    result = pbm(*args, dsn=db_ref)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_phi_key_is_a_one_line_error(db_ref, tmp_path):
    path = write(tmp_path, "eligibility_20250101.csv", csv_text("eligibility", ELIGIBILITY))
    result = pbm("etl", "load", "eligibility", str(path), dsn=db_ref, env={"PBM_PHI_KEY": ""})
    assert result.returncode == 1
    assert result.stderr.startswith("error: the PHI key is not set for this session")
    assert result.stderr.strip().count("\n") == 0


def test_rejects_as_a_table_and_as_csv(db_ref, tmp_path):
    path = write(
        tmp_path,
        "claims_20251101.csv",
        csv_text("claims", [claim(rx_number="1", product_id="12345", bin="61001")]),
    )
    pbm("etl", "load", "claims", str(path), dsn=db_ref)
    table = pbm("etl", "rejects", "1", dsn=db_ref)
    assert table.returncode == 0
    assert (
        table.stdout.splitlines()[0]
        == "batch 1 claims claims_20251101.csv: completed, 1 of 1 lines rejected, 2 rejects"
    )
    as_csv = pbm("etl", "rejects", "1", "--csv", dsn=db_ref)
    assert as_csv.stdout.splitlines() == [
        "batch_id,line_no,column_name,value,rule,detail",
        "1,2,bin,61001,bad_format,6 or 8 digits",
        "1,2,product_id,12345,bad_ndc,",
    ]


def test_batches_lists_the_newest_first(db_ref, tmp_path):
    assert pbm("etl", "batches", dsn=db_ref).stdout.strip() == "no batches yet"
    load(db_ref, "claims", write(tmp_path, "claims_20251101.csv", csv_text("claims", [claim()])))
    load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20251101.csv", b""))
    lines = pbm("etl", "batches", dsn=db_ref).stdout.splitlines()
    assert lines[0].split()[:7] == ["batch", "feed", "file", "status", "received", "loaded", "rejected"]
    assert lines[0].endswith("started (UTC)     seconds")
    assert lines[2].split()[:7] == ["2", "pharmacies", "pharmacies_20251101.csv", "rejected", "0", "0", "0"]
    assert lines[3].split()[:7] == ["1", "claims", "claims_20251101.csv", "completed", "1", "1", "0"]
    only = pbm("etl", "batches", "--feed", "claims", dsn=db_ref).stdout.splitlines()
    assert len(only) == 3


def test_nightly_loads_in_order_moves_files_and_is_safe_to_rerun(db_ref, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write(
        inbox,
        "claims_20251101.csv",
        csv_text("claims", [claim(rx_number="1"), claim(rx_number="2", bin="x")]),
    )
    write(inbox, "eligibility_20250101.csv", csv_text("eligibility", ELIGIBILITY))
    elm = ["1558598797", "4599999", "Elm Pharmacy", "2 Elm St", "Austin", "TX", "78702", "retail"]
    write(inbox, "pharmacies_20251101.csv", csv_text("pharmacies", [elm]))
    write(inbox, "drugs_20251101.csv", b"")
    write(inbox, "notes.txt", "not a feed\n")
    result = pbm("etl", "nightly", str(inbox), dsn=db_ref)
    assert result.returncode == 1, result.stderr
    out = result.stdout.splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("file "))
    table = [line.split() for line in out[start:]]
    assert [row[:4] for row in table[2:]] == [
        ["notes.txt", "?", "unknown", "feed"],
        ["drugs_20251101.csv", "drugs", "1", "rejected"],
        ["pharmacies_20251101.csv", "pharmacies", "2", "completed"],
        ["eligibility_20250101.csv", "eligibility", "3", "completed"],
        ["claims_20251101.csv", "claims", "4", "completed"],
    ]
    assert table[-1][4:7] == ["2", "1", "1"]
    assert sorted(p.name for p in inbox.iterdir()) == ["archive", "error"]
    assert sorted(p.name for p in (inbox / "archive").iterdir()) == [
        "claims_20251101.csv",
        "eligibility_20250101.csv",
        "pharmacies_20251101.csv",
    ]
    assert sorted(p.name for p in (inbox / "error").iterdir()) == [
        "drugs_20251101.csv",
        "drugs_20251101.csv.error.txt",
        "notes.txt",
        "notes.txt.error.txt",
    ]
    assert rejects(db_ref, 4) == [(3, "bin", "bad_format")]
    assert any(line.startswith("claims batch ") and " adjudicated as of 2025-11-01: 1 claims" in line for line in out)

    empty = pbm("etl", "nightly", str(inbox), dsn=db_ref)
    assert (empty.returncode, empty.stdout.strip()) == (0, f"{inbox}: no files to load")
    # the same file again (a re-sent file, or a crash after commit and before the move): archived, not loaded
    write(inbox, "pharmacies_20251101.csv", (inbox / "archive" / "pharmacies_20251101.csv").read_bytes())
    rerun = pbm("etl", "nightly", str(inbox), dsn=db_ref)
    assert rerun.returncode == 0, rerun.stdout
    assert "already loaded (2)" in rerun.stdout
    assert (inbox / "archive" / "pharmacies_20251101.csv.1").exists()
    assert scalar(db_ref, "SELECT count(*) FROM etl.batches") == 4


def test_claims_staged_but_not_adjudicated_are_adjudicated_by_the_next_nightly(db_ref, tmp_path):
    path = write(tmp_path, "claims_20251101.csv", csv_text("claims", [claim(rx_number="1"), claim(rx_number="2")]))
    staged = pbm("etl", "load", "claims", str(path), "--stage-only", dsn=db_ref)
    assert staged.returncode == 0, staged.stderr
    assert rows(db_ref, "SELECT batch_id, rows_loaded FROM etl.pending_adjudication") == [(1, 2)]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    run = pbm("etl", "nightly", str(inbox), dsn=db_ref)
    assert run.returncode == 0, run.stdout + run.stderr
    claims_batch = scalar(db_ref, "SELECT claims_batch_id FROM etl.batches WHERE batch_id = 1")
    lines = run.stdout.splitlines()
    assert len(lines) == 2 and lines[1] == f"{inbox}: no files to load"
    assert lines[0].startswith(f"claims batch {claims_batch} adjudicated as of 2025-11-01: 2 claims, ")
    assert rows(db_ref, "SELECT * FROM etl.pending_adjudication") == []
    assert scalar(db_ref, "SELECT count(*) FROM claims.claims WHERE batch_id = %s", [claims_batch]) == 2
