"""`pbm demo` end to end at a small size, twice on the same database: the summary adds up, matches counts
taken independently with SQL, is the same after the re-run (which replaces the previous demo data), and
the chart is a real PNG. Bad arguments and a missing PHI key give one line and a non-zero exit."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg
import pytest
from conftest import run_pbm
from PIL import Image

KEY = "test-only-demo-phi-key-0123456789abcdef"
SIZE = ("--members", "300", "--claims", "3000", "--seed", "7")


def _demo(dsn: str, tmp_path, *extra: str, env: dict | None = None):
    return run_pbm(
        "demo", *SIZE, "--dir", str(tmp_path / "demo"), *extra, dsn=dsn, env={"PBM_PHI_KEY": KEY, **(env or {})}
    )


def _counts(dsn: str) -> dict:
    """The summary's figures, counted straight from the tables."""
    with psycopg.connect(dsn) as conn:
        etl_batches = conn.execute(
            "SELECT batch_id, claims_batch_id, rows_received, rows_rejected FROM etl.batches WHERE feed = 'claims'"
        ).fetchall()
        assert len(etl_batches) == 1, "the re-run replaces the previous night's claims load"
        _, batch, lines, refused = etl_batches[0]
        by_status = dict(
            conn.execute(
                "SELECT transaction_response_status, count(*) FROM claims.claims WHERE batch_id = %s GROUP BY 1",
                [batch],
            ).fetchall()
        )
        amounts = conn.execute(
            "SELECT sum(ingredient_cost_paid), sum(dispensing_fee_paid), sum(total_amount_paid), "
            "sum(patient_pay_amount) FROM claims.claims WHERE batch_id = %s AND transaction_response_status = 'P'",
            [batch],
        ).fetchone()
        real_time = dict(
            conn.execute(
                "SELECT transaction_response_status, count(*) FROM claims.claims WHERE batch_id IS NULL GROUP BY 1"
            ).fetchall()
        )
        statements, billed = conn.execute("SELECT count(*), sum(amount_billed) FROM ppp.statements").fetchone()
        participants = conn.execute("SELECT count(DISTINCT member_id) FROM ppp.elections").fetchone()[0]
        staged = conn.execute("SELECT count(*) FROM claims.batch_claims WHERE batch_id = %s", [batch]).fetchone()[0]
        runs = conn.execute("SELECT count(*) FROM pbm_meta.synthetic_runs").fetchone()[0]
    return {
        "lines": lines,
        "refused": refused,
        "staged": staged,
        "by_status": by_status,
        "amounts": amounts,
        "real_time": real_time,
        "statements": statements,
        "billed": billed,
        "participants": participants,
        "runs": runs,
    }


def test_demo_runs_twice_with_the_same_summary(fresh_db, tmp_path):
    first = _demo(fresh_db, tmp_path, "--json")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for step in range(1, 10):
        assert f"[{step}/9]" in first.stdout
    assert "Summary" in first.stdout and "top reject reasons" in first.stdout
    s1 = json.loads(first.stdout.strip().splitlines()[-1])

    second = _demo(fresh_db, tmp_path, "--json")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    s2 = json.loads(second.stdout.strip().splitlines()[-1])
    assert s2 == s1, "a second run replaces the demo data and gives the same summary"

    # the summary adds up
    assert s1["received"] == s1["paid"] + s1["rejected"] + s1["duplicates"]
    assert s1["duplicates"] == 0 and s1["paid"] > 0 and s1["rejected"] > 0
    assert s1["feed_lines"] == 3000 and s1["received"] == s1["feed_lines"] - s1["refused_at_door"]
    allowed = Decimal(s1["ingredient_cost"]) + Decimal(s1["dispensing_fee"])
    assert Decimal(s1["plan_paid"]) + Decimal(s1["patient_pay"]) == allowed
    assert s1["real_time"] == {"A": 1, "D": 1, "P": 1, "R": 1}
    assert s1["top_rejects"] and all(len(r) == 3 and r[1] for r in s1["top_rejects"])

    # ... and matches the tables
    c = _counts(fresh_db)
    assert c["runs"] == 1
    assert (c["lines"], c["refused"], c["staged"]) == (s1["feed_lines"], s1["refused_at_door"], s1["received"])
    assert c["by_status"] == {k: v for k, v in {"P": s1["paid"], "R": s1["rejected"]}.items() if v}
    assert [str(a) for a in c["amounts"]] == [
        s1[k] for k in ("ingredient_cost", "dispensing_fee", "plan_paid", "patient_pay")
    ]
    assert c["real_time"] == s1["real_time"]
    assert (c["statements"], str(c["billed"] or "0"), c["participants"]) == (
        s1["m3p_statements"],
        s1["m3p_billed"],
        s1["m3p_participants"],
    )

    chart = tmp_path / "demo" / "out" / "cost_trend.png"
    assert str(chart) in second.stdout
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(chart) as image:
        image.verify()
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100

    help_text = run_pbm("db", "--help").stdout
    if " check " in help_text:
        checked = run_pbm("db", "check", dsn=fresh_db, env={"PBM_PHI_KEY": KEY})
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--members", "many"), "--members must be a whole number"),
        (("--claims", "5"), "--claims must be between 100 and 10,000,000"),
        (("--seed", "-1"), "--seed must be between"),
    ],
)
def test_bad_arguments_give_one_line(db, tmp_path, args, message):
    result = run_pbm("demo", *args, "--dir", str(tmp_path), dsn=db, env={"PBM_PHI_KEY": KEY})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_phi_key_one_line(db, tmp_path):
    result = run_pbm("demo", *SIZE, "--dir", str(tmp_path), dsn=db, env={"PBM_PHI_KEY": ""})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "PBM_PHI_KEY is not set" in result.stderr
