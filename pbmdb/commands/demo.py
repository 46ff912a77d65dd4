"""`pbm demo`: the whole nightly cycle on the embedded database, for a newcomer.

Every step is an existing command or function (pbm seed synthetic, pbm etl nightly, api.adjudicate and
api.reverse, ppp.run_billing, api.refresh_reporting, the cost_trend report and its chart); pbmdb/demo.py
holds the little the demo adds: what it removes before running again, the real-time claims it sends and
the summary. Decision record: docs/decisions/0014-demo.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

import click

from pbmdb import ROOT, PbmError
from pbmdb import demo as dm
from pbmdb import migrate as mig
from pbmdb import reporting as rpt
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.commands.etl import feed_of, nightly
from pbmdb.commands.seed import _integer, seed_synthetic
from pbmdb.db import KEY_ENV, connect

DEFAULT_MEMBERS = 3_000
DEFAULT_CLAIMS = 30_000
DEFAULT_SEED = 42
STEPS = 9


class _Indent(io.TextIOBase):
    """stdout of a step's sub-command, indented under the step's line."""

    def __init__(self, target, prefix: str = "      "):
        self.target, self.prefix, self.at_start = target, prefix, True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("a text stream")  # what click probes to tell text from binary streams
        for piece in text.splitlines(keepends=True):
            if self.at_start and piece.strip():
                self.target.write(self.prefix)
            self.target.write(piece)
            self.at_start = piece.endswith("\n")
        return len(text)

    def flush(self) -> None:
        self.target.flush()


class _Steps:
    def __init__(self):
        self.n = 0
        self.started = time.perf_counter()

    @contextlib.contextmanager
    def step(self, title: str):
        self.n += 1
        click.secho(f"[{self.n}/{STEPS}] {title}", bold=True)
        began = time.perf_counter()
        real = sys.stdout
        with contextlib.redirect_stdout(_Indent(real)):
            yield
        click.echo(f"      ({time.perf_counter() - began:.1f} s)")


def _phi_key() -> None:
    key = os.environ.get(KEY_ENV)
    if not key:
        raise PbmError(
            f"{KEY_ENV} is not set: the demo stores synthetic members' MBIs encrypted with it; "
            f"export {KEY_ENV}=<at least 32 characters> (make demo sets a demo key)",
            exit_code=2,
        )
    if len(key) < 32:
        raise PbmError(f"{KEY_ENV} is too short ({len(key)} characters, at least 32)", exit_code=2)


@click.command(
    help="Run the whole nightly cycle of a PBM on synthetic data, with a line per step and a summary: "
    "migrate (reference data), synthetic plans, drugs, pharmacies, members and M3P elections (pbm seed "
    "synthetic), a night's feed files written to DIR/inbox and loaded by pbm etl nightly (the claims feed "
    "adjudicated as a batch), real-time claims and a reversal through api.adjudicate / api.reverse, the "
    "M3P billing of every month of the plan year, the reporting refresh, and a chart of cost trends in "
    "DIR/out/cost_trend.png.\n\n"
    "Running it again replaces the previous demo data (and only that): the same options give the same "
    f"summary. Needs {KEY_ENV} (members' MBIs are stored encrypted); `make demo` sets a demo key.\n\n"
    + example(
        "make demo                                   # venv, embedded database, migrate, pbm demo\n"
        "pbm demo\n"
        "pbm demo --members 100000 --claims 1000000  # bigger (minutes)\n"
        "pbm demo --members 500 --claims 5000 --dir /tmp/demo"
    ),
)
@click.option("--members", metavar="N", help=f"Synthetic members (default {DEFAULT_MEMBERS:,}).")
@click.option(
    "--claims", "n_claims", metavar="N", help=f"Claims in the night's claims feed (default {DEFAULT_CLAIMS:,})."
)
@click.option("--seed", "seed_value", metavar="S", help=f"Random seed of the synthetic data (default {DEFAULT_SEED}).")
@click.option(
    "--dir",
    "work_dir",
    metavar="DIR",
    help="Where the inbox and the chart go (default demo/ in the checkout, git-ignored).",
)
@click.option("--json", "as_json", is_flag=True, help="Also print the summary as one line of JSON at the end.")
@click.pass_context
@pass_ctx
def demo(ctx: Context, click_ctx: click.Context, members, n_claims, seed_value, work_dir, as_json):
    n_members = _integer("--members", members, 10, 1_000_000, default=DEFAULT_MEMBERS)
    claims = _integer("--claims", n_claims, 100, 10_000_000, default=DEFAULT_CLAIMS)
    seed = _integer("--seed", seed_value, 0, 2**63 - 1, default=DEFAULT_SEED)
    base = Path(work_dir) if work_dir else ROOT / "demo"
    if base.exists() and not base.is_dir():
        raise PbmError(f"--dir {base}: exists and is not a directory", exit_code=2)
    _phi_key()
    inbox, out = base / "inbox", base / "out"
    chart = out / "cost_trend.png"
    steps = _Steps()
    target = ctx.target()
    click.echo(
        f"pbm demo: {n_members:,} members, {claims:,} claims, seed {seed}; database: {target.source}"
        + (f" ({target.dsn})" if target.embedded else "")
    )

    with steps.step("Database: migrations, repeatable functions and reference data (pbm db migrate)"):
        shown = sys.stdout
        with contextlib.redirect_stdout(io.StringIO()):  # yoyo prints the result rows of migrations
            result = mig.migrate(target.dsn, lambda message: shown.write(message + "\n"))
        click.echo("applied what was pending" if not result.nothing_done else "up to date")

    with steps.step("Remove the previous demo's data (claims, feed loads; then pbm seed synthetic --replace)"):
        with connect(target.dsn) as conn:
            removed = dm.reset(conn)
        click.echo(
            f"removed {removed.get('claims.claims', 0):,} claims and {removed.get('etl.batches', 0):,} "
            "claims feed load(s) of earlier runs"
        )

    options = dict(members=str(n_members), n_claims=str(claims), seed_value=str(seed), year=None, problem_share="0.03")
    with steps.step(
        "Synthetic plans, formularies, drugs, pharmacies, members, PAs, M3P elections (pbm seed synthetic)"
    ):
        click_ctx.invoke(seed_synthetic, **options, out_dir=None, replace=True)
        with connect(target.dsn) as conn:
            plan_year = conn.execute("SELECT plan_year FROM pbm_meta.synthetic_runs").fetchone()[0]
    last_day = dt.date(plan_year, 12, 31)

    with steps.step(f"The night's feed files into {inbox} (pbm seed synthetic --out)"):
        if inbox.exists():
            shutil.rmtree(inbox)
        click_ctx.invoke(seed_synthetic, **options, out_dir=str(inbox), replace=False)
        files = []
        for path in sorted(inbox.iterdir()):
            feed = feed_of(path)
            if feed in dm.DEMO_FEEDS_SKIPPED:
                path.unlink()
            elif feed is not None:
                files.append((feed, path))
        claims_file = next(p for f, p in files if f == "claims")
        with connect(target.dsn) as conn:
            dm.forget_loads(conn, [(f, p) for f, p in files if f != "claims"])
        click.echo(f"inbox: {', '.join(p.name for _, p in files)} (the DE-SynPUF files are left out)")

    with steps.step("Nightly ETL: validate and merge every feed, adjudicate the claims batch (pbm etl nightly)"):
        click_ctx.invoke(nightly, inbox=inbox)
        with connect(target.dsn) as conn:
            batch_id = dm.claims_batch_of(conn, inbox / "archive" / claims_file.name)
        if batch_id is None:
            raise PbmError(f"the claims feed was not loaded: see {inbox / 'error'}")

    with steps.step("Real-time claims from a pharmacy: api.adjudicate and api.reverse (pbm claims submit)"):
        with connect(target.dsn) as conn:
            scenario = dm.real_time_scenario(conn, batch_id, last_day)
            conn.commit()
            for label, function, request in scenario.steps:
                response = conn.execute(f"SELECT {function}(%s::jsonb)", [json.dumps(request)]).fetchone()[0]
                conn.commit()
                click.echo(f"{label}: {function}, rx {request['rx_number']}, date {request['date_of_service']}")
                for line in dm.describe_response(response):
                    click.echo(f"    {line}")
        if not scenario.steps:
            click.echo("no claim to send (the data set is too small)")

    with steps.step(f"M3P: bill every month of {plan_year} (ppp.run_billing, as pbm ppp bill --no-past-due)"):
        with connect(target.dsn) as conn:
            forgotten = dm.forget_billing(conn, plan_year)
            if forgotten:
                click.echo(f"removed {forgotten} billing run(s) of an earlier demo (their statements were replaced)")
            billed = []
            months = [dt.date(plan_year, m, 1) for m in range(1, 13)]
            bar_shown = sys.stderr.isatty()
            with click.progressbar(
                months, label="billing", file=sys.stderr, item_show_func=_month, hidden=not bar_shown
            ) as bar:
                for month in bar:
                    run_on = (month + dt.timedelta(days=32)).replace(day=1)
                    row = conn.execute("SELECT * FROM ppp.run_billing(%s, %s)", [month, run_on]).fetchone()
                    conn.commit()
                    billed.append((month, row))
        for month, (_, _, written, participants, amount, credits) in billed:
            click.echo(
                f"{month:%Y-%m}: {written:>6,} statement(s) for {participants:,} participant(s), "
                f"${amount:,.2f} billed" + (f", ${credits:,.2f} credited" if credits else "")
            )

    with steps.step("Reporting: de-identified star schema and dashboards (pbm report refresh)"):
        with connect(target.dsn) as conn:
            refreshed = rpt.refresh(conn)
        facts = sum(rows or 0 for step, rows, _ in refreshed if "fact" in step)
        click.echo(f"{len(refreshed)} refresh steps, {facts:,} claim fact rows rebuilt")

    with steps.step(f"Chart of cost trends (pbm report plot cost_trend) -> {chart}"):
        report = rpt.find("cost_trend")
        with connect(target.dsn) as conn:
            columns, rows = rpt.run(conn, report, report.bind({}))
        out.mkdir(parents=True, exist_ok=True)
        rpt.plot(columns, rows, report, chart)
        click.echo(f"{len(rows)} month(s) plotted")

    with connect(target.dsn) as conn:
        summary = dm.summary(conn, batch_id, plan_year)
    click.secho(f"\nSummary: the night of {last_day} (claims batch {batch_id}, plan year {plan_year})", bold=True)
    for line in dm.summary_lines(summary):
        click.echo(f"  {line}")
    click.echo(f"  chart                 {chart}")
    click.echo(f"done in {time.perf_counter() - steps.started:.1f} s")
    click.echo(
        "next: pbm db psql, pbm report list, pbm etl rejects "
        f"{_etl_batch(target.dsn, batch_id)}, pbm ppp statements --member N"
    )
    if as_json:
        click.echo(summary.to_json())


def _month(month: dt.date | None) -> str:
    return f"{month:%Y-%m}" if month else ""


def _etl_batch(dsn: str, claims_batch_id: int) -> int:
    with connect(dsn) as conn:
        return conn.execute(
            "SELECT batch_id FROM etl.batches WHERE claims_batch_id = %s", [claims_batch_id]
        ).fetchone()[0]
