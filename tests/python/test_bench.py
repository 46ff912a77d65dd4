"""`pbm bench batch` and `pbm bench realtime` at a tiny scale: they run end to end, report what they
measured, and leave no scratch database behind. (The figures themselves are never asserted.)"""

from __future__ import annotations

import re

import psycopg
from conftest import run_pbm


def databases(server: str) -> set[str]:
    with psycopg.connect(server) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall()}


def test_bench_batch_reports_rate_and_floor(server, fresh_db):
    before = databases(server)
    result = run_pbm("bench", "batch", "--claims", "3000", "--members", "300", dsn=fresh_db)
    assert result.returncode == 0, result.stderr
    claims = re.search(r"^claims: ([\d,]+) \(", result.stdout, re.M)
    assert claims and int(claims.group(1).replace(",", "")) == 3000, result.stdout
    assert re.search(r"^result: [\d,]+ claims/s, [\d.]+x the floor$", result.stdout, re.M), result.stdout
    assert "dependency pass 1" in result.stdout, "claims.adjudicate_batch progress is shown"
    assert re.search(r"^audit: .* = \d+% of the batch \(target: at most 20%\)$", result.stdout, re.M), result.stdout
    assert databases(server) == before, "the scratch database is dropped"


def test_bench_realtime_reports_latency(server, fresh_db):
    before = databases(server)
    result = run_pbm("bench", "realtime", "--claims", "10000", "--seconds", "2", dsn=fresh_db)
    assert result.returncode == 0, result.stderr
    latency = re.search(r"p50 ([\d.]+) ms, p95 ([\d.]+) ms, p99 ([\d.]+) ms", result.stdout)
    assert latency, result.stdout
    p50, p95, p99 = map(float, latency.groups())
    assert 0 < p50 <= p95 <= p99
    assert re.search(r"^in the database: mean [\d.]+ ms per api.adjudicate call", result.stdout, re.M), result.stdout
    mix = re.search(r"^claims: ([\d,]+) in 2 s \((.*)\)", result.stdout, re.M)
    assert mix and int(mix.group(1).replace(",", "")) > 0, result.stdout
    counted = sum(int(n.replace(",", "")) for n in re.findall(r"[PRD] ([\d,]+)", mix.group(2)))
    assert counted == int(mix.group(1).replace(",", "")), "every pgbench transaction stored one claim"
    assert databases(server) == before


def test_bench_bad_arguments_are_one_line_errors(fresh_db):
    for args in (["realtime", "--clients", "0"], ["batch", "--claims", "5"]):
        result = run_pbm("bench", *args, dsn=fresh_db)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr


def test_bench_all_prints_one_table_of_figures_and_targets(server, fresh_db, tmp_path):
    before = databases(server)
    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n<!-- bench:begin (pbm bench all) -->\n"
        "| work | size | measured | target | met |\n|---|---|---|---|---|\n"
        "| batch adjudication | 9 claims | 1 claims/s | t | no |\n| ETL claims feed | 1 lines | 99 s | <= 15 s | no |\n"
        "<!-- bench:end -->\n\nafter\n"
    )
    result = run_pbm(*("bench", "all", "--scale", "0.002", "--only", "etl,ppp", "--readme", str(readme)), dsn=fresh_db)
    assert result.returncode == 0, result.stdout + result.stderr
    table = result.stdout[result.stdout.rindex("\nwork ") + 1 :].splitlines()
    assert [line.split(" | ")[0].strip() for line in table[2:5]] == [
        "ETL claims feed",
        "ETL DE-SynPUF prescription drug events",
        "M3P billing (a month)",
    ], result.stdout
    # 0.002 of the target sizes: 2,000 claim lines, 1,578 PDE lines, 2,000 participants
    assert [line.split(" | ")[1].strip() for line in table[2:5]] == [
        "2,000 lines",
        "1,578 lines",
        "2,000 participants",
    ]
    assert "--scale 0.002: smaller than the targets' sizes" in table[5]
    lines = readme.read_text().splitlines()
    assert lines[0] == "# x" and lines[-1] == "after"
    rows = lines[lines.index("| work | size | measured | target | met | measured on |") + 2 :]
    # rows of other works stay (batch), rows of the works measured now are replaced, new ones appended
    assert [row.split(" | ")[0] for row in rows[:4]] == [
        "| batch adjudication",
        "| ETL claims feed",
        "| ETL DE-SynPUF prescription drug events",
        "| M3P billing (a month)",
    ]
    assert rows[0] == "| batch adjudication | 9 claims | 1 claims/s | t | no |  |"
    assert rows[1].startswith("| ETL claims feed | 2,000 lines | ") and "99 s" not in rows[1]
    assert databases(server) == before


def test_bench_all_unknown_name_is_a_one_line_error(fresh_db):
    result = run_pbm("bench", "all", "--only", "batch,nightly", dsn=fresh_db)
    assert result.returncode == 2
    assert (
        result.stderr == "error: --only: unknown benchmark nightly (choose from batch, realtime, etl, ppp, reports)\n"
    )
