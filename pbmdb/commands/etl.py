"""`pbm etl ...`: load feed files, the nightly inbox run, batches and their rejects."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import sys
from pathlib import Path

import click
import psycopg

from etl import bench as etl_bench
from etl import loader
from etl.layouts import FEEDS, LOAD_ORDER
from pbmdb import PbmError
from pbmdb import claims as claims_batches
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.commands.bench import Result, bench
from pbmdb.db import connect, describe_error

# Files larger than this get a progress bar (on stderr, when it is a terminal).
PROGRESS_BYTES = 8 << 20


@click.group(
    help="Load nightly feed files: validate, reject bad rows with reasons, merge good ones.\n\n"
    + example("pbm etl load drugs drugs_20251101.csv\npbm etl nightly /srv/pbm/inbox\npbm etl batches")
)
def etl():
    pass


def _progress_for(path: Path, label: str):
    """A progress bar for a large file (or a no-op), used as `with ... as update:`."""
    size = path.stat().st_size
    if size < PROGRESS_BYTES:
        return _NoProgress()
    return click.progressbar(length=size, label=label, file=sys.stderr, show_pos=False, show_percent=True)


class _NoProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        pass


def _load(conn, feed: str, path: Path, *, effective: dt.date | None, force: bool, quiet: bool = False):
    with _progress_for(path, f"COPY {path.name}") as bar:
        large = not isinstance(bar, _NoProgress)

        def on_stage(text: str) -> None:
            if large and not quiet:
                click.echo(f"\n{path.name}: {text}", err=True)

        return loader.load_file(
            conn, feed, path, effective=effective, force=force, progress=bar.update, on_stage=on_stage
        )


@etl.command(
    "load",
    help="Load one feed file: checksum (a file loaded before is skipped), COPY into text staging, "
    "set-based validation (every failing rule per line in etl.rejects), MERGE of the good lines, all in "
    "one transaction. Claims are then adjudicated as of the file's date (claims.adjudicate_batch, its own "
    "transaction) unless --stage-only. Exit 1 when any line (or the whole file) was rejected.\n\n"
    f"FEED is one of: {', '.join(FEEDS)}. The file's date (history, future-date checks) comes from "
    "--effective-date, else a date or year in the file name, else its modification time.\n\n"
    + example(
        "pbm etl load drugs inbox/drugs_20251101.csv\n"
        "pbm etl load eligibility eligibility_20251101.csv     # needs PBM_PHI_KEY for MBIs\n"
        "pbm etl load desynpuf_beneficiary DE1_0_2008_Beneficiary_Summary_File_Sample_1.csv\n"
        "pbm etl load claims claims_20251101.csv --force      # load the same file again"
    ),
)
@click.argument("feed", type=click.Choice(list(FEEDS)), metavar="FEED")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--effective-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="The file's date (YYYY-MM-DD).")
@click.option("--force", is_flag=True, help="Load the file even if the same content was loaded before.")
@click.option("--stage-only", is_flag=True, help="Claims: stage the batch but do not adjudicate it (nightly will).")
@pass_ctx
def load(ctx: Context, feed: str, file: Path, effective_date: dt.datetime | None, force: bool, stage_only: bool):
    with connect(ctx.dsn) as conn:
        result = _load(conn, feed, file, effective=effective_date.date() if effective_date else None, force=force)
        click.echo(result.line())
        if result.rows_rejected:
            click.echo(f"see the rejects with: pbm etl rejects {result.batch_id}")
        adjudicated = True
        if result.claims_batch_id and not stage_only:
            adjudicated = _adjudicate(conn, result.batch_id)
    return 0 if result.clean and adjudicated else 1


def _adjudicate(conn, etl_batch_id: int) -> bool:
    """Adjudicate the claims staged by an ETL batch (its own transaction); False when it failed."""
    found = conn.execute(
        "SELECT claims_batch_id, effective_date FROM etl.pending_adjudication WHERE batch_id = %s", [etl_batch_id]
    ).fetchone()
    conn.commit()
    if found is None:
        return True
    claims_batch_id, as_of = found
    try:
        r = claims_batches.adjudicate_batch(conn, claims_batch_id, as_of=as_of, echo=lambda _msg: None)
    except psycopg.Error as e:
        conn.rollback()
        click.echo(
            f"claims batch {claims_batch_id}: adjudication failed, the claims stay staged "
            f"(pbm etl nightly retries): {describe_error(e)}",
            err=True,
        )
        return False
    click.echo(
        f"claims batch {claims_batch_id} adjudicated as of {as_of}: {r.claims_count} claims, {r.paid_count} paid, "
        f"{r.rejected_count} rejected, {r.duplicate_count} duplicates"
    )
    return True


def feed_of(path: Path) -> str | None:
    """The feed of an inbox file named <feed>_<anything>.csv (the longest matching feed name)."""
    if path.suffix.lower() != ".csv":
        return None
    matches = [f for f in FEEDS if path.name.startswith(f + "_")]
    return max(matches, key=len) if matches else None


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.name}.{n}"
        n += 1
    shutil.move(str(path), str(target))
    return target


@etl.command(
    "nightly",
    help="Load every <feed>_*.csv file of INBOX in the order of etl.layouts.LOAD_ORDER (reference data "
    "first, then members, PAs and claims), moving each to INBOX/archive/ (loaded, possibly with rejected "
    "lines) or INBOX/error/ (refused as a whole, unknown feed, or failed; the reason in <file>.error.txt). "
    "Claims files are adjudicated after they are staged (claims.adjudicate_batch, as of the file's date), "
    "and claims staged by an earlier run but not adjudicated are adjudicated first. Prints a summary table. "
    "Exit 1 if any file or line was refused or an adjudication failed. Safe to re-run: a file loaded before "
    "is recognised by its checksum and only archived.\n\n"
    + example(
        "pbm etl nightly /srv/pbm/inbox\n"
        "# crontab: 15 2 * * * cd /opt/pbmdb && .venv/bin/pbm etl nightly /srv/pbm/inbox"
    ),
)
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_ctx
def nightly(ctx: Context, inbox: Path):
    files = sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith("."))
    order = {feed: i for i, feed in enumerate(LOAD_ORDER)}
    known = [(p, feed_of(p)) for p in files]
    queue = sorted(((p, f) for p, f in known if f), key=lambda pf: (order[pf[1]], pf[0].name))
    rows: list[tuple[str, ...]] = []
    failed = False
    for path, _ in ((p, f) for p, f in known if not f):
        _move(path, inbox / "error")
        (inbox / "error" / (path.name + ".error.txt")).write_text(
            f"unknown feed: name files <feed>_<anything>.csv with a feed of: {', '.join(LOAD_ORDER)}\n"
        )
        rows.append((path.name, "?", "", "unknown feed", "", "", "", ""))
        failed = True
    with connect(ctx.dsn) as conn:
        # claims staged by an earlier run (stopped before adjudication, or --stage-only) first
        for (pending,) in conn.execute("SELECT batch_id FROM etl.pending_adjudication ORDER BY batch_id").fetchall():
            failed = not _adjudicate(conn, pending) or failed
        for path, feed in queue:
            try:
                r = _load(conn, feed, path, effective=None, force=False)
            except (PbmError, psycopg.Error) as e:
                message = describe_error(e) if isinstance(e, psycopg.Error) else str(e)
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.rollback()
                _move(path, inbox / "error")
                (inbox / "error" / (path.name + ".error.txt")).write_text(message + "\n")
                rows.append((path.name, feed, "", "failed", "", "", "", ""))
                click.echo(f"{path.name}: failed: {message}", err=True)
                failed = True
                continue
            if r.status == "rejected":
                _move(path, inbox / "error")
                (inbox / "error" / (path.name + ".error.txt")).write_text(
                    f"batch {r.batch_id}: the file was refused as a whole: pbm etl rejects {r.batch_id}\n"
                )
            else:
                _move(path, inbox / "archive")
            if r.claims_batch_id:
                failed = not _adjudicate(conn, r.batch_id) or failed
            status = r.status if r.status != "already loaded" else f"already loaded ({r.loaded_before_batch_id})"
            rows.append(
                (
                    path.name,
                    feed,
                    str(r.batch_id or ""),
                    status,
                    str(r.rows_received),
                    str(r.rows_loaded),
                    str(r.rows_rejected),
                    f"{r.seconds:.1f}",
                )
            )
            failed = failed or not r.clean
    if rows:
        _table(("file", "feed", "batch", "status", "received", "loaded", "rejected", "seconds"), rows)
    else:
        click.echo(f"{inbox}: no files to load")
    return 1 if failed else 0


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    numeric = {"batch", "received", "loaded", "rejected", "seconds", "line", "rejects", "lines", "lines/s"}
    for i, row in enumerate([header, *rows]):
        cells = [
            str(c).rjust(w) if h in numeric else str(c).ljust(w) for c, w, h in zip(row, widths, header, strict=True)
        ]
        click.echo("  ".join(cells).rstrip())
        if i == 0:
            click.echo("  ".join("-" * w for w in widths))


@etl.command(
    "batches",
    help="List recent feed batches with their counts (received = loaded + rejected).\n\n"
    + example("pbm etl batches\npbm etl batches --feed claims --limit 5"),
)
@click.option("--feed", type=click.Choice(list(FEEDS)), help="Only batches of this feed.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many, newest first.")
@pass_ctx
def batches(ctx: Context, feed: str | None, limit: int):
    with connect(ctx.dsn) as conn:
        found = conn.execute(
            """
            SELECT b.batch_id, b.feed, b.file_name, b.status, b.rows_received, b.rows_loaded, b.rows_rejected,
                to_char(b.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS started,
                round(extract(EPOCH FROM b.finished_at - b.started_at)::numeric, 1) AS seconds
            FROM etl.batches AS b
            WHERE %(feed)s::text IS NULL OR b.feed = %(feed)s
            ORDER BY b.batch_id DESC
            LIMIT %(limit)s
            """,
            {"feed": feed, "limit": limit},
        ).fetchall()
    if not found:
        click.echo("no batches yet")
        return 0
    _table(
        ("batch", "feed", "file", "status", "received", "loaded", "rejected", "started (UTC)", "seconds"),
        [tuple("" if v is None else str(v) for v in row) for row in found],
    )
    return 0


@etl.command(
    "rejects",
    help="Show why the lines of a batch were refused: line (1 = header, 0 = the whole file), column, "
    "value, rule and detail. --csv writes every reject as CSV to stdout, for the sender.\n\n"
    + example("pbm etl rejects 42\npbm etl rejects 42 --csv > batch42_rejects.csv"),
)
@click.argument("batch", type=int)
@click.option("--csv", "as_csv", is_flag=True, help="All rejects as CSV on stdout.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=200, show_default=True, help="Rows shown (not with --csv)."
)
@pass_ctx
def rejects(ctx: Context, batch: int, as_csv: bool, limit: int):
    with connect(ctx.dsn) as conn:
        head = conn.execute(
            "SELECT feed, file_name, status, rows_received, rows_rejected FROM etl.batches WHERE batch_id = %s",
            [batch],
        ).fetchone()
        if head is None:
            raise PbmError(f"no batch {batch}: see pbm etl batches")
        found = conn.execute(
            "SELECT line_no, column_name, value, rule, detail FROM etl.rejects WHERE batch_id = %s "
            "ORDER BY line_no, reject_id",
            [batch],
        ).fetchall()
    if as_csv:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(("batch_id", "line_no", "column_name", "value", "rule", "detail"))
        for row in found:
            out.writerow((batch, *row))
        return 0
    feed, file_name, status, received, rejected = head
    click.echo(
        f"batch {batch} {feed} {file_name}: {status}, {rejected} of {received} lines rejected, {len(found)} rejects"
    )
    if found:
        _table(
            ("line", "column", "value", "rule", "detail"),
            [(str(n), c or "", _short(v), r, d or "") for n, c, v, r, d in found[:limit]],
        )
        if len(found) > limit:
            click.echo(f"... {len(found) - limit} more (--limit, or --csv for all)")
    return 0


def _short(value: str | None, width: int = 40) -> str:
    if value is None:
        return ""
    value = value.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return value if len(value) <= width else value[: width - 3] + "..."


@bench.command(
    "etl",
    help="Time the ETL: a 1,000,000-line claims feed and a DE-SynPUF-sized file of 788,880 prescription drug "
    "events, each loaded, validated and merged by the real loader (targets: 15 s each). Runs in a scratch "
    "database on the same server (dropped afterwards); the files are generated in the layouts with a few bad "
    "lines per thousand.\n\n" + example("pbm bench etl\npbm bench etl --claims 100000 --pde 100000   # a quick run"),
)
@click.option("--claims", "claims_lines", type=click.IntRange(min=1), default=etl_bench.CLAIMS_LINES, show_default=True)
@click.option("--pde", "pde_lines", type=click.IntRange(min=1), default=etl_bench.PDE_LINES, show_default=True)
@click.option("--keep", is_flag=True, help="Keep the scratch database.")
@click.option(
    "--workdir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Where to write the files.",
)
@pass_ctx
def bench_etl(ctx: Context, claims_lines: int, pde_lines: int, keep: bool, workdir: Path | None):
    figures = etl_bench.run(
        ctx.dsn, click.echo, claims_lines=claims_lines, pde_lines=pde_lines, keep=keep, workdir=workdir
    )
    click.echo("")
    _table(
        ("work", "lines", "seconds", "lines/s", "target"),
        [(f.name, f"{f.lines:,}", f"{f.seconds:.1f}", f"{f.per_second:,.0f}", "15 s") for f in figures],
    )
    return [
        Result(f"ETL {f.name}", f"{f.lines:,} lines", f"{f.seconds:.1f} s", "<= 15 s", f.seconds <= 15) for f in figures
    ]
