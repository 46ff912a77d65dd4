"""`pbm report ...` (analyst reports, refresh, charts) and `pbm bench reports`."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import click

from pbmdb import PbmError
from pbmdb import reporting as rpt
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.commands.bench import Result, bench
from pbmdb.db import connect

PARAM_OPTION = click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A report parameter (repeatable); see pbm report list.",
)


@click.group(
    help="Analyst reports and the de-identified BI reporting schema.\n\n"
    + example("pbm report list\npbm report refresh\npbm report run top_drugs --param limit=5")
)
def report():
    pass


@report.command(
    "list",
    help="Describe the reports of reports/queries/: title, what they show, parameters with defaults, "
    "and whether they have a chart.\n\n" + example("pbm report list"),
)
def list_reports():
    for r in rpt.list_reports():
        chart = "   (chart: pbm report plot)" if r.chart else ""
        click.echo(f"{r.name}: {r.title}{chart}")
        for line in textwrap.wrap(r.description, 100):
            click.echo(f"    {line}")
        width = max((len(p.name) for p in r.params), default=0)
        for p in r.params:
            default = p.default if p.default != "" else "empty"
            kind = "|".join(c or "(empty)" for c in p.choices) if p.choices else p.type
            click.echo(f"    --param {p.name:<{width}}  {p.help} ({kind}, default {default})")
        click.echo("")


def _load(name: str, params: tuple[str, ...]) -> tuple[rpt.Report, dict[str, str]]:
    report_ = rpt.find(name)
    return report_, report_.bind(rpt.parse_overrides(params))


@report.command(
    "run",
    help="Run report NAME (a file of reports/queries/, the same psql runs with -v) and print or save its "
    "result as an aligned table, CSV or JSON.\n\n"
    + example(
        "pbm report run cost_trend --param from=2025-01-01 --param plan=RPT-A\n"
        "pbm report run top_drugs --param limit=5 --format csv --out top.csv\n"
        "pbm report run pa_overdue --format json"
    ),
)
@click.argument("name")
@PARAM_OPTION
@click.option("--format", "fmt", default="table", metavar="table|csv|json", help="Output format (table).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@pass_ctx
def run(ctx: Context, name: str, params: tuple[str, ...], fmt: str, out: Path | None):
    if fmt not in rpt.FORMATS:
        raise PbmError(f"--format must be table, csv or json (got {fmt!r})", 2)
    report_, values = _load(name, params)
    with connect(ctx.dsn) as conn:
        columns, rows = rpt.run(conn, report_, values)
    text = rpt.render(columns, rows, fmt)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text)
    except OSError as e:
        raise PbmError(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"{report_.name}: {len(rows)} row(s) written to {out}")


@report.command(
    "refresh",
    help="Bring the reporting schema up to date: member pseudonyms, the months of the claim fact whose "
    "claims changed, then every materialized view concurrently (BI sessions keep reading), in one "
    "transaction. The nightly ETL calls the same (pbmdb.reporting.refresh, SQL api.refresh_reporting()).\n\n"
    + example("pbm report refresh\npbm report refresh --full     # rebuild every month of the fact"),
)
@click.option("--full", is_flag=True, help="Rebuild every month of the claim fact, changed or not.")
@pass_ctx
def refresh(ctx: Context, full: bool):
    with connect(ctx.dsn) as conn:
        steps = rpt.refresh(conn, full=full)
    for step, rows, seconds in steps:
        rows_text = f"{rows:>12,} rows" if rows is not None else " " * 17
        click.echo(f"{step:<48} {rows_text}  {seconds:>9} s")


@report.command(
    "plot",
    help="Draw the chart of a trend report (cost_trend, pmpm, generic_dispensing_rate, cost_by_period, "
    "m3p_participation) into a PNG file.\n\n"
    + example(
        "pbm report plot cost_trend --out cost_trend.png\npbm report plot pmpm --param plan=RPT-A --out pmpm.png"
    ),
)
@click.argument("name")
@PARAM_OPTION
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PNG file to write.")
@pass_ctx
def plot(ctx: Context, name: str, params: tuple[str, ...], out: Path):
    report_, values = _load(name, params)
    if report_.chart is None:
        charts = ", ".join(r.name for r in rpt.list_reports() if r.chart)
        raise PbmError(f"report {name} has no chart (reports with one: {charts})", 2)
    if out.suffix.lower() != ".png":
        raise PbmError(f"--out must name a .png file (got {out})", 2)
    with connect(ctx.dsn) as conn:
        columns, rows = rpt.run(conn, report_, values)
    try:
        rpt.plot(columns, rows, report_, out)
    except OSError as e:
        raise PbmError(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"{report_.name}: chart of {len(rows)} row(s) written to {out}")


@bench.command(
    "reports",
    help="Measure the dashboard reports on synthetic claims: builds a separate database on the same server "
    "(named after yours, suffix _bench_reports), loads members, plans, drugs, pharmacies and N paid and "
    "rejected claims with INSERT ... SELECT, refreshes reporting, then times every report of "
    "reports/queries (median and max of --runs) and checks with EXPLAIN that none scans a claims table. "
    "Drops the database at the end unless --keep. Targets: <= 100 ms per report, no claims scan.\n\n"
    + example(
        "pbm bench reports                        # 10,000,000 claims (minutes; disk ~ 10 GB)\n"
        "pbm bench reports --claims 200000 --runs 5"
    ),
)
@click.option("--claims", default=10_000_000, show_default=True, type=int, help="Claims to generate.")
@click.option("--members", default=None, type=int, help="Members (default claims / 20).")
@click.option("--months", default=24, show_default=True, type=int, help="Months of service, ending last month.")
@click.option("--runs", default=10, show_default=True, type=int, help="Timed runs of each report.")
@click.option("--keep", is_flag=True, help="Keep the benchmark database afterwards.")
@pass_ctx
def bench_reports(ctx: Context, claims: int, members: int | None, months: int, runs: int, keep: bool):
    from pbmdb import reporting_bench

    if claims < 1000:
        raise PbmError("--claims must be at least 1000", 2)
    if months < 1 or months > 60:
        raise PbmError("--months must be between 1 and 60", 2)
    if runs < 1:
        raise PbmError("--runs must be at least 1", 2)
    members = members or max(claims // 20, 100)
    ok, slowest_ms = reporting_bench.run(ctx.dsn, claims=claims, members=members, months=months, runs=runs, keep=keep)
    result = Result(
        "dashboard reports",
        f"{claims:,} claims",
        f"slowest median {slowest_ms:.1f} ms",
        "<= 100 ms, no claims scan",
        ok,
    )
    if not ok:
        click.echo("a report missed its target (see above)")
    return [result]
