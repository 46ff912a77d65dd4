"""`pbm bench ...`: measured figures for the README, each in a scratch database on the same server.

The claims benchmarks and `pbm bench all` live here; `pbm bench etl`, `ppp` and `reports` sit with their
areas (pbmdb/commands/etl.py, ppp.py, report.py). Every benchmark command returns its figures as `Result`s,
which `pbm bench all` gathers into one table.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click
import psycopg

from pbmdb import PbmError
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.db import KEY_ENV, connect
from pbmdb.scratch import scratch_database

# A scratch database holds synthetic members only; their MBIs still need a key to be stored encrypted.
BENCH_PHI_KEY = "pbm-bench-scratch-database-key-0001"


@click.group(
    help="Benchmarks: measured figures for the README.\n\n" + example("pbm bench all --quick\npbm bench --help")
)
def bench():
    pass


@dataclass(frozen=True)
class Result:
    """One measured figure beside its target (DESIGN.md, Performance targets)."""

    work: str
    size: str
    measured: str
    target: str
    met: bool


def seed_synthetic(dsn: str, members: int, claims: int, seed: int) -> int:
    """`pbm seed synthetic` into the scratch database; returns the batch holding the claim requests."""
    from pbmdb.commands.seed import seed_synthetic as command

    os.environ.setdefault(KEY_ENV, BENCH_PHI_KEY)
    parent = click.get_current_context()
    with click.Context(command, parent=parent, obj=Context(dsn)) as ctx:
        ctx.invoke(command, members=str(members), n_claims=str(claims), seed_value=str(seed))
    with connect(dsn) as conn:
        return conn.execute("SELECT max(batch_id) FROM claims.batches WHERE source = 'synthetic'").fetchone()[0]


def adjudicate(conn: psycopg.Connection, batch_id: int, as_of: dt.date) -> float:
    """claims.adjudicate_batch with its progress notices echoed; returns the seconds it took (committed)."""
    from pbmdb.claims import adjudicate_batch

    started = time.perf_counter()
    adjudicate_batch(conn, batch_id, as_of=as_of, echo=click.echo)
    return time.perf_counter() - started


def vacuum_analyze(dsn: str) -> None:
    with connect(dsn, autocommit=True, phi_key=False) as conn:
        conn.execute("VACUUM ANALYZE")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise PbmError(f"{name} must be {low:,} to {high:,} (got {value:,})", exit_code=2)


# ------------------------------------------------------------------------------------------------------
# pbm bench batch

FLOOR_ROWS = """
CREATE TEMP TABLE floor_rows AS
SELECT * FROM claims.claims WHERE batch_id = %(batch)s ORDER BY claim_id
"""


@bench.command(
    "batch",
    help="Batch adjudication benchmark in a scratch database (<db>_bench_batch, dropped afterwards unless "
    "--keep): a synthetic plan year of N claim requests is staged as one batch and adjudicated by "
    "claims.adjudicate_batch, then the same result rows are inserted into the same claims table by a plain "
    "INSERT ... SELECT (the floor: partitions, indexes, constraints and triggers included). Prints claims/s "
    "and the ratio to the floor (targets: >= 100,000 claims/s and at most 2x the floor).\n\n"
    + example("pbm bench batch --claims 1000000\npbm bench batch --claims 100000 --members 10000 --keep"),
)
@click.option("--claims", "n_claims", type=int, default=1_000_000, show_default=True, help="Claim requests.")
@click.option("--members", type=int, help="Members (default: one per 10 claims).")
@click.option("--seed", type=int, default=42, show_default=True, help="Synthetic data seed.")
@click.option("--keep", is_flag=True, help="Keep the scratch database afterwards.")
@pass_ctx
def bench_batch(ctx: Context, n_claims: int, members: int | None, seed: int, keep: bool):
    _check_range("--claims", n_claims, 1_000, 20_000_000)
    members = members or max(100, n_claims // 10)
    _check_range("--members", members, 100, 10_000_000)
    with scratch_database(ctx.dsn, "bench_batch", click.echo, keep=keep) as dsn:
        batch_id = seed_synthetic(dsn, members, n_claims, seed)
        vacuum_analyze(dsn)
        with connect(dsn) as conn:
            (staged,) = conn.execute(
                "SELECT count(*) FROM claims.batch_claims WHERE batch_id = %s", [batch_id]
            ).fetchone()
            click.echo(f"adjudicating batch {batch_id}: {staged:,} staged claims")
            took = adjudicate(conn, batch_id, dt.date.today())
            status = dict(
                conn.execute(
                    "SELECT transaction_response_status, count(*) FROM claims.claims WHERE batch_id = %s GROUP BY 1",
                    [batch_id],
                ).fetchall()
            )
            click.echo("floor: the same rows by a plain INSERT ... SELECT into claims.claims (rolled back)")
            conn.execute(FLOOR_ROWS, {"batch": batch_id})
            conn.execute("ANALYZE floor_rows")
            conn.commit()
            # The batch wrote into claims with no earlier claims of the year; so does the floor.
            conn.execute("TRUNCATE claims.claims CASCADE")
            started = time.perf_counter()
            (floor_count,) = conn.execute(
                "WITH ins AS (INSERT INTO claims.claims SELECT * FROM floor_rows RETURNING 1) SELECT count(*) FROM ins"
            ).fetchone()
            floor = time.perf_counter() - started
            conn.rollback()
            # Audit overhead (issue 7): the same floor with the audit trigger off; what it saves is the audit's
            # share of the batch, whose claims insert is the only audited bulk statement.
            audited = conn.execute(
                "SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = 'claims.claims'::regclass "
                "AND tgname = 'audit_insert'"
            ).fetchone()[0]
            unaudited_floor = None
            if audited:
                conn.execute("TRUNCATE claims.claims CASCADE")
                conn.execute("ALTER TABLE claims.claims DISABLE TRIGGER audit_insert")
                started = time.perf_counter()
                conn.execute("INSERT INTO claims.claims SELECT * FROM floor_rows")
                unaudited_floor = time.perf_counter() - started
                conn.rollback()
    mix = ", ".join(f"{k} {v:,}" for k, v in sorted(status.items()))
    click.echo(f"claims: {floor_count:,} ({mix})")
    click.echo(f"claims.adjudicate_batch: {took:.2f} s = {staged / took:,.0f} claims/s")
    click.echo(f"floor (INSERT ... SELECT of the result rows): {floor:.2f} s = {floor_count / floor:,.0f} rows/s")
    if unaudited_floor is not None:
        audit = max(floor - unaudited_floor, 0)
        click.echo(
            f"audit: the floor without the audit trigger {unaudited_floor:.2f} s; auditing the claims costs "
            f"{audit:.2f} s = {audit / took:.0%} of the batch (target: at most 20%)"
        )
    click.echo(f"result: {staged / took:,.0f} claims/s, {took / floor:.1f}x the floor")
    rate, ratio = staged / took, took / floor
    return [
        Result(
            "batch adjudication",
            f"{staged:,} claims",
            f"{rate:,.0f} claims/s, {ratio:.1f}x floor",
            ">= 100,000 claims/s, <= 2x floor",
            rate >= 100_000 and ratio <= 2,
        )
    ]


# ------------------------------------------------------------------------------------------------------
# pbm bench realtime

# The history: every request before the cutoff, adjudicated as one batch before the clock starts.
RT_HISTORY_BATCH = "INSERT INTO claims.batches (source, file_name) VALUES ('bench', 'history') RETURNING batch_id"

RT_HISTORY = """
INSERT INTO claims.batch_claims
SELECT %(history)s, row_number() OVER (ORDER BY b.date_of_service, b.line_no)::int,
    b.bin, b.pcn, b.group_id, b.cardholder_id, b.person_code, b.patient_date_of_birth, b.patient_gender_code,
    b.date_of_service, b.service_provider_id, b.prescriber_id, b.product_id, b.quantity_dispensed, b.days_supply,
    b.fill_number, b.daw_code, b.rx_number, b.date_prescription_written, b.submission_clarification_code,
    b.prior_authorization_number_submitted, b.ingredient_cost_submitted, b.dispensing_fee_submitted,
    b.usual_and_customary_charge, b.gross_amount_due
FROM claims.batch_claims AS b
WHERE b.batch_id = %(source)s AND b.date_of_service < %(cutoff)s
"""

# The real-time traffic: the requests from the cutoff on, in date order, as the JSON a switch sends.
RT_REQUESTS = """
CREATE TABLE bench.requests AS
SELECT
    row_number() OVER (ORDER BY b.date_of_service, b.line_no)::int AS n,
    jsonb_strip_nulls(to_jsonb(b) - 'batch_id' - 'line_no') AS request
FROM claims.batch_claims AS b
WHERE b.batch_id = %(source)s AND b.date_of_service >= %(cutoff)s
"""
RT_REQUESTS_READY = (
    "ALTER TABLE bench.requests ADD PRIMARY KEY (n)",
    "CREATE SEQUENCE bench.next_request",
)

# One transaction of pgbench: the next request (wrapping around), adjudicated by api.adjudicate.
RT_SCRIPT = """SELECT api.adjudicate(r.request) FROM bench.requests AS r
WHERE r.n = (SELECT (nextval('bench.next_request') - 1) % :requests + 1);
"""


def _pgbench() -> str:
    from pbmdb.cluster import find_bindir

    bindir = find_bindir()
    candidates = [str(bindir / "pgbench")] if bindir else []
    candidates.append(shutil.which("pgbench") or "")
    for path in candidates:
        if path and Path(path).exists():
            return path
    raise PbmError("pgbench not found (it ships with the PostgreSQL server binaries)", exit_code=2)


def _percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


@bench.command(
    "realtime",
    help="Real-time adjudication benchmark in a scratch database (<db>_bench_realtime, dropped afterwards "
    "unless --keep): a synthetic plan year is generated, its claims before December are adjudicated as "
    "history, then pgbench sends the December requests in date order through api.adjudicate from N clients "
    "for S seconds. Prints claims/s, p50/p95/p99 latency and the response mix (targets: p99 <= 5 ms and "
    ">= 1,500 claims/s with 2 clients).\n\n" + example("pbm bench realtime --clients 2 --seconds 30"),
)
@click.option("--clients", type=int, default=2, show_default=True, help="Concurrent pgbench clients.")
@click.option("--seconds", type=int, default=30, show_default=True, help="How long pgbench runs.")
@click.option("--claims", "n_claims", type=int, default=600_000, show_default=True, help="Claims of the year.")
@click.option("--members", type=int, help="Members (default: one per 10 claims).")
@click.option("--seed", type=int, default=42, show_default=True, help="Synthetic data seed.")
@click.option("--keep", is_flag=True, help="Keep the scratch database afterwards.")
@pass_ctx
def bench_realtime(ctx: Context, clients: int, seconds: int, n_claims: int, members: int | None, seed: int, keep):
    _check_range("--clients", clients, 1, 64)
    _check_range("--seconds", seconds, 1, 3600)
    _check_range("--claims", n_claims, 10_000, 20_000_000)
    members = members or max(100, n_claims // 10)
    _check_range("--members", members, 100, 10_000_000)
    pgbench = _pgbench()
    with scratch_database(ctx.dsn, "bench_realtime", click.echo, keep=keep) as dsn:
        source = seed_synthetic(dsn, members, n_claims, seed)
        with connect(dsn) as conn:
            (year,) = conn.execute(
                "SELECT extract(YEAR FROM min(date_of_service))::int FROM claims.batch_claims WHERE batch_id = %s",
                [source],
            ).fetchone()
            cutoff = dt.date(year, 12, 1)
            conn.execute("CREATE SCHEMA bench")
            (history,) = conn.execute(RT_HISTORY_BATCH).fetchone()
            conn.execute(RT_HISTORY, {"history": history, "source": source, "cutoff": cutoff})
            conn.execute(RT_REQUESTS, {"source": source, "cutoff": cutoff})
            for statement in RT_REQUESTS_READY:
                conn.execute(statement)
            (requests,) = conn.execute("SELECT count(*) FROM bench.requests").fetchone()
            conn.commit()
            click.echo(f"history: adjudicating the claims before {cutoff} as one batch")
            adjudicate(conn, history, cutoff)
        vacuum_analyze(dsn)
        with connect(dsn) as conn:
            (superuser,) = conn.execute(
                "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user"
            ).fetchone()
        click.echo(f"pgbench: {clients} clients for {seconds} s over {requests:,} requests from {cutoff} on")
        with tempfile.TemporaryDirectory(prefix="pbm-bench-") as tmp:
            script = Path(tmp) / "adjudicate.sql"
            script.write_text(RT_SCRIPT)
            env = dict(os.environ, PGAPPNAME="pbm bench realtime")
            if superuser:  # time spent inside api.adjudicate, without the round trip and the commit's WAL flush
                env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c track_functions=pl").strip()
            cmd = [
                pgbench, "--no-vacuum", "--protocol=prepared", f"--client={clients}", f"--jobs={clients}",
                f"--time={seconds}", f"--define=requests={requests}", "--log", f"--log-prefix={tmp}/tx",
                "--progress=5", f"--file={script}", dsn,
            ]  # fmt: skip
            run = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if run.returncode != 0:
                raise PbmError(
                    f"pgbench failed: {run.stderr.strip().splitlines()[-1] if run.stderr else run.returncode}"
                )
            for line in run.stderr.splitlines():
                if line.startswith("progress:"):
                    click.echo(f"  {line}")
            latencies: list[float] = []
            failed = 0
            for log in Path(tmp).glob("tx*"):
                with log.open() as f:
                    for row in csv.reader(f, delimiter=" "):
                        # client_id transaction_no time script_no time_epoch time_us [schedule_lag]
                        if row[2] in ("failed", "skipped"):
                            failed += 1
                        else:
                            latencies.append(int(row[2]) / 1000)
        with connect(dsn) as conn:
            mix = dict(
                conn.execute(
                    "SELECT transaction_response_status, count(*) FROM claims.claims WHERE batch_id IS NULL GROUP BY 1"
                ).fetchall()
            )
            in_database = conn.execute(
                "SELECT total_time / nullif(calls, 0) FROM pg_catalog.pg_stat_user_functions "
                "WHERE funcid = 'api.adjudicate(jsonb)'::regprocedure"
            ).fetchone()
    if not latencies:
        raise PbmError("pgbench completed no transaction")
    latencies.sort()
    rate = len(latencies) / seconds
    p50, p95, p99 = (_percentile(latencies, p) for p in (50, 95, 99))
    click.echo(
        f"claims: {len(latencies):,} in {seconds} s ({', '.join(f'{k} {v:,}' for k, v in sorted(mix.items()))})"
        + (f", {failed:,} failed" if failed else "")
    )
    click.echo(
        f"latency: mean {statistics.fmean(latencies):.2f} ms, p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms"
    )
    if in_database and in_database[0] is not None:
        click.echo(f"in the database: mean {in_database[0]:.2f} ms per api.adjudicate call (pg_stat_user_functions)")
    if len(latencies) > requests:
        click.echo(f"note: more transactions than requests ({requests:,}): the rest were duplicates (status D)")
    click.echo(f"result: {rate:,.0f} claims/s with {clients} clients, p99 {p99:.2f} ms")
    return [
        Result(
            "real-time adjudication",
            f"{clients} clients, {seconds} s",
            f"{rate:,.0f} claims/s, p99 {p99:.2f} ms",
            ">= 1,500 claims/s, p99 <= 5 ms",
            rate >= 1_500 and p99 <= 5,
        )
    ]


# ------------------------------------------------------------------------------------------------------
# pbm bench all

# Target sizes (DESIGN.md) and the smallest size each benchmark accepts (for --scale).
TARGET_SIZES = {
    "batch": {"n_claims": (1_000_000, 1_000)},
    "realtime": {"n_claims": (600_000, 10_000)},
    "etl": {"claims_lines": (1_000_000, 1), "pde_lines": (788_880, 1)},
    "ppp": {"participants": (1_000_000, 1)},
    "reports": {"claims": (10_000_000, 1_000)},
}


@bench.command(
    "all",
    help="Run every benchmark (batch, realtime, etl, ppp, reports) at the target sizes of DESIGN.md, each in "
    "its own scratch database, and print one table of the figures beside their targets. At the target sizes "
    "this takes the better part of an hour and ~15 GB of disk; --scale 0.1 runs a tenth of each (figures "
    "then not comparable with the targets, which the table says). Exit code 1 if a figure misses its target "
    "at full scale.\n\n" + example("pbm bench all\npbm bench all --scale 0.1 --only batch,etl"),
)
@click.option(
    "--scale",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Fraction of the target sizes.",
)
@click.option("--only", metavar="NAMES", help="Comma-separated subset of: " + ", ".join(TARGET_SIZES) + ".")
@click.option(
    "--readme",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also write the table (markdown) between the bench:begin and bench:end markers of this file.",
)
@click.pass_context
def bench_all(click_ctx: click.Context, scale: float, only: str | None, readme: Path | None):
    names = list(TARGET_SIZES)
    if only:
        names = [n.strip() for n in only.split(",") if n.strip()]
        unknown = [n for n in names if n not in TARGET_SIZES]
        if unknown or not names:
            choices = ", ".join(TARGET_SIZES)
            wrong = ", ".join(unknown) or repr(only)
            raise PbmError(f"--only: unknown benchmark {wrong} (choose from {choices})", exit_code=2)
    results: list[Result] = []
    for i, name in enumerate(names, 1):
        sizes = {option: max(low, round(full * scale)) for option, (full, low) in TARGET_SIZES[name].items()}
        click.echo(f"\n=== [{i}/{len(names)}] pbm bench {name} " + "=" * 40)
        started = time.perf_counter()
        try:
            results.extend(click_ctx.invoke(bench.commands[name], **sizes))
        except (PbmError, psycopg.Error) as e:  # one failed benchmark still leaves the others' figures
            click.echo(f"pbm bench {name} failed: {e}")
            results.append(Result(name, "", f"failed: {str(e).splitlines()[0]}", "", False))
        click.echo(f"=== pbm bench {name}: {time.perf_counter() - started:.0f} s")
    click.echo("\n" + format_results(results, scale))
    if readme:
        write_readme_table(readme, results, scale)
        click.echo(f"table written to {readme}")
    return 1 if scale == 1 and not all(r.met for r in results) else None


README_BEGIN = "<!-- bench:begin (pbm bench all --readme README.md) -->"
README_END = "<!-- bench:end -->"


def write_readme_table(path: Path, results: list[Result], scale: float) -> None:
    """Write the results into the markdown table between the markers: a row per work, replacing the row of
    the same work from an earlier run (each row says when and under what load it was measured)."""
    text = path.read_text()
    begin, end = text.find("<!-- bench:begin"), text.find(README_END)
    if begin < 0 or end < begin:
        raise PbmError(f"{path}: no '<!-- bench:begin' ... '{README_END}' block to replace", exit_code=2)
    when = f"{dt.date.today().isoformat()}, load {os.getloadavg()[0]:.1f}" + (
        f", scale {scale:g}" if scale != 1 else ""
    )
    rows: dict[str, list[str]] = {}
    for line in text[begin:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) >= 5 and cells[0] != "work":
            rows[cells[0]] = (cells + [""])[:6]
    for r in results:
        rows[r.work] = [r.work, r.size, r.measured, r.target, "yes" if r.met else "no", when]
    table = ["| work | size | measured | target | met | measured on |", "|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(cells) + " |" for cells in rows.values()]
    note = f"{os.cpu_count()} CPUs; `measured on` gives the date and the 1-minute load average after the benchmark."
    block = "\n".join([README_BEGIN, *table, "", note, README_END])
    path.write_text(text[:begin] + block + text[end + len(README_END) :])


def format_results(results: list[Result], scale: float = 1.0) -> str:
    """The README table: one line per figure, its target and whether it is met."""
    header = ("work", "size", "measured", "target", "met")
    rows = [(r.work, r.size, r.measured, r.target, "yes" if r.met else "NO") for r in results]
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=False)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    note = f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end"
    if scale != 1:
        note += f"; --scale {scale:g}: smaller than the targets' sizes, not comparable with them"
    return "\n".join([*lines, note])
