"""`pbm claims` (submit, reverse, batch, pay) and concurrent real-time adjudication for one member."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest
from conftest import ROOT, run_pbm

FIXTURE = (ROOT / "tests" / "fixtures" / "adjudication.sql").read_text()


@pytest.fixture
def world(fresh_db):
    """The hand-priced pgTAP world (tests/fixtures/adjudication.sql), committed, with a few members."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(FIXTURE)
        conn.execute("SELECT tap.setup_adjudication()")
        conn.execute("SELECT tap.add_member('CLI1', 'TPD', '1950-05-01', 'F', '2025-01-01')")
        conn.execute("SELECT tap.add_member('CLI2', 'TCOMM', '1975-01-01', 'M', '2025-01-01')")
        conn.execute("SELECT tap.add_member('RACE', 'TPD', '1950-05-01', 'F', '2025-01-01')")
    return fresh_db


def claim(dsn, cardholder, ndc, dos, qty, days, rx, fill=0, extra=None) -> dict:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT tap.claim(%s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
            [cardholder, ndc, dos, qty, days, rx, fill, json.dumps(extra or {})],
        ).fetchone()[0]


def test_submit_prints_ncpdp_responses(world, tmp_path):
    path = tmp_path / "claims.jsonl"
    eliquis = claim(world, "CLI1", "99999000301", "2025-01-10", 30, 30, "1001")
    unknown = claim(world, "NOBODY", "99999000301", "2025-01-10", 30, 30, "1002")
    path.write_text(json.dumps(eliquis) + "\n" + json.dumps(unknown) + "\n")
    result = run_pbm("claims", "submit", str(path), dsn=world)
    assert result.returncode == 0, result.stderr
    paid, rejected = (json.loads(line) for line in result.stdout.splitlines())
    # ELIQUIS x 30: AWP 20.00 * 0.83 * 30 + 2.00 = 500.00, all in the $590 Part D deductible.
    assert paid["transaction_response_status"] == "P"
    assert paid["patient_pay_amount"] == 500.0 and paid["remaining_deductible_amount"] == 90.0
    assert rejected["transaction_response_status"] == "R" and rejected["reject_codes"] == ["52"]
    text = run_pbm("claims", "submit", "-", "--format", "text", dsn=world, input=json.dumps(eliquis))
    assert text.stdout.startswith("D "), "the same claim again is a duplicate"


def test_reverse_from_stdin(world):
    run_pbm(
        "claims",
        "submit",
        "-",
        dsn=world,
        input=json.dumps(claim(world, "CLI1", "99999000301", "2025-01-10", 30, 30, "2001")),
    )
    reversal = {
        "service_provider_id": "1234567893",
        "rx_number": "2001",
        "fill_number": 0,
        "date_of_service": "20250110",
    }
    result = run_pbm("claims", "reverse", "-", dsn=world, input=json.dumps(reversal))
    response = json.loads(result.stdout)
    assert response["transaction_response_status"] == "A" and response["patient_pay_amount"] == -500.0
    again = json.loads(run_pbm("claims", "reverse", "-", dsn=world, input=json.dumps(reversal)).stdout)
    assert again["reject_codes"] == ["31"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["claims", "submit", "/nonexistent.json"], "cannot read /nonexistent.json"),
        (["claims", "batch"], "give exactly one of --file FILE or --batch ID"),
        (["claims", "batch", "--batch", "999999"], "no batch 999999"),
    ],
)
def test_bad_arguments_are_one_line(world, args, message):
    result = run_pbm(*args, dsn=world)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_json_is_one_line(world):
    result = run_pbm("claims", "submit", "-", dsn=world, input='{"bin": "610014",\n "pcn": }')
    assert result.returncode == 2
    assert result.stderr.startswith("error: stdin: not JSON claims")
    assert result.stderr.strip().count("\n") == 0


def test_batch_file_then_pay(world, tmp_path):
    path = tmp_path / "batch.jsonl"
    lines = [
        claim(world, "CLI1", "99999000301", "2025-02-10", 30, 30, "3002"),
        claim(world, "CLI1", "99999000301", "2025-01-10", 30, 30, "3001"),
        claim(world, "CLI2", "99999000101", "2025-01-10", 30, 30, "3003"),
        claim(world, "CLI2", "99999000101", "2025-01-10", 30, 30, "3003"),
        claim(world, "NOBODY", "99999000101", "2025-01-10", 30, 30, "3004"),
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    result = run_pbm("claims", "batch", "--file", str(path), "--as-of", "2025-12-31", dsn=world)
    assert result.returncode == 0, result.stderr
    assert "staged 5 claims as batch" in result.stdout
    assert "edits of 5 claims" in result.stdout, "progress is printed"
    # Jan 10 ELIQUIS pays $500.00 (deductible), Feb 10 $90.00 + 25% of $410.00 = $192.50; atorvastatin
    # $61.00 at a $10.00 copay: patients pay 500.00 + 192.50 + 10.00 = 702.50.
    assert "5 claims, 3 paid, 1 rejected, 1 duplicates" in result.stdout
    assert "patients pay 702.50" in result.stdout
    assert "52   Non-Matched Cardholder ID" in result.stdout
    paid = run_pbm("claims", "pay", "--date", "2099-01-01", dsn=world)
    assert paid.returncode == 0, paid.stderr
    with psycopg.connect(world) as conn:
        status = conn.execute("SELECT status FROM claims.batches ORDER BY batch_id DESC LIMIT 1").fetchone()[0]
        remitted = conn.execute("SELECT sum(total_amount_paid) FROM claims.pharmacy_remittance").fetchone()[0]
        plan_paid = conn.execute(
            "SELECT sum(total_amount_paid) FROM claims.claims WHERE transaction_response_status IN ('P', 'A')"
        ).fetchone()[0]
        lines_status = conn.execute(
            "SELECT status, count(*) FROM claims.batch_claim_status GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert status == "paid"
    # Plan paid: 0.00 + 307.50 + 51.00 (61.00 - 10.00 copay).
    assert remitted == plan_paid == pytest.approx(358.50)
    assert lines_status == [("duplicate", 1), ("paid", 3), ("rejected", 1)]
    assert f"net {plan_paid}" in paid.stdout


def test_concurrent_claims_for_one_member_never_lose_an_update(world):
    """Eight sessions adjudicate claims for the same member at once; afterwards the accumulators equal the
    sums over the member's claims, and no claim was paid twice."""
    drugs = [("99999000301", 30), ("99999000101", 30), ("99999000401", 10), ("99999000901", 60), ("99999000701", 9)]
    requests = []
    for n in range(64):
        ndc, qty = drugs[n % len(drugs)]
        dos = f"2025-{1 + n // 6:02d}-{1 + (n * 5) % 27:02d}"
        requests.append(claim(world, "RACE", ndc, dos, qty, 30, str(5000 + n)))
    requests += requests[:8]  # resubmissions racing their originals
    errors: list[Exception] = []

    def worker(chunk):
        try:
            with psycopg.connect(world, autocommit=True) as conn:
                for request in chunk:
                    conn.execute("SELECT api.adjudicate(%s::jsonb)", [json.dumps(request)])
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(requests[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with psycopg.connect(world) as conn:
        acc = conn.execute(
            "SELECT a.deductible_accumulated, a.oop_accumulated, a.gross_cost_accumulated FROM claims.accumulators a "
            "JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'RACE'"
        ).fetchone()
        ledger = conn.execute(
            "SELECT sum(deductible_delta), sum(oop_delta), sum(gross_cost_delta), "
            "count(*) FILTER (WHERE transaction_response_status = 'P') FROM claims.claims c "
            "JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'RACE'"
        ).fetchone()
        paid_twice = conn.execute(
            "SELECT count(*) FROM (SELECT rx_number FROM claims.claims WHERE transaction_response_status = 'P' "
            "GROUP BY rx_number HAVING count(*) > 1) t"
        ).fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM claims.claims").fetchone()[0]
    assert acc == ledger[:3]
    assert ledger[3] > 10, "most claims were paid"
    assert paid_twice == 0
    assert stored == len(requests)
    assert acc[1] <= 2000, "never past the Part D out-of-pocket threshold"
