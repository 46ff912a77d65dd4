"""`pbm db ...`: the database itself (embedded cluster, migrations, status, consistency check, psql, reset)."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import click
import psycopg
from psycopg import sql

from pbmdb import PbmError
from pbmdb import migrate as mig
from pbmdb.cluster import find_bindir
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.db import KEY_ENV, connect
from pbmdb.settings import dbname_of, embedded_cluster, ensure_database, with_dbname


@click.group(
    help="Set up, migrate and inspect the database.\n\n" + example("pbm db up && pbm db migrate && pbm db status")
)
def db():
    pass


@db.command(help="Start the embedded PostgreSQL cluster in .pbm/ (created on first use).\n\n" + example("pbm db up"))
@pass_ctx
def up(ctx: Context):
    if ctx.cli_dsn or os.environ.get("PBM_DSN"):
        target = ctx.target()
        with connect(target.dsn, phi_key=False) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        click.echo(f"using the server from {target.source} (PostgreSQL {version}); nothing to start")
        return
    cluster = embedded_cluster()
    was_running = cluster.is_running()
    cluster.start()
    created = ensure_database(cluster.conninfo("postgres"), "pbm")
    st = cluster.state()
    verb = "already running" if was_running else "started"
    click.echo(f"embedded PostgreSQL {verb}: socket {st.socket_dir}, port {st.port}, data {st.datadir}")
    if created:
        click.echo("created database pbm (run `pbm db migrate` next)")


@db.command(help="Stop the embedded cluster (data is kept).\n\n" + example("pbm db down"))
def down():
    cluster = embedded_cluster()
    click.echo("embedded PostgreSQL stopped" if cluster.stop() else "embedded PostgreSQL was not running")


@db.command(
    help="Apply pending migrations, then changed repeatable files (procedures/, security/, reports/), "
    "then changed reference data (seeds/reference/*.csv).\n\n"
    + example("pbm db migrate\npbm db migrate --force        # re-apply every repeatable file")
)
@click.option("--force", is_flag=True, help="Re-apply every repeatable file, changed or not.")
@pass_ctx
def migrate(ctx: Context, force: bool):
    result = mig.migrate(ctx.dsn, click.echo, force=force)
    if result.nothing_done:
        click.echo("database is up to date: no migration pending, no repeatable file changed")
    else:
        click.echo(
            f"applied {len(result.migrations_applied)} migration(s) and "
            f"{len(result.repeatables_applied)} repeatable file(s)"
            + (f", loaded {len(result.reference_loaded)} reference file(s)" if result.reference_loaded else "")
        )


@db.command(
    help="Show where the database is, applied and pending migrations, and changed repeatable files.\n\n"
    + example("pbm db status\nPBM_DSN=postgresql://pbm@db.example.org/pbm pbm db status")
)
@pass_ctx
def status(ctx: Context):
    if not (ctx.cli_dsn or os.environ.get("PBM_DSN")):
        cluster = embedded_cluster()
        st = cluster.state()
        if st is None:
            click.echo("server: embedded cluster not set up (run `pbm db up`)")
            raise SystemExit(1)
        running = cluster.is_running()
        click.echo(f"server: embedded, {'running' if running else 'stopped'}, socket {st.socket_dir}, port {st.port}")
        if not running:
            return
    target = ctx.target(start=False)
    if target.source != "embedded":
        click.echo(f"server: from {target.source}, database {dbname_of(target.dsn)}")
    s = mig.status(target.dsn)
    click.echo(f"migrations: {len(s.applied)} applied, {len(s.pending)} pending")
    for name in s.pending:
        click.echo(f"  pending  {name}")
    click.echo(f"repeatables and reference data: {len(s.current)} current, {len(s.changed)} new or changed")
    for name in s.changed:
        click.echo(f"  changed  {name}")


def _findings_table(rows: list[tuple]) -> list[str]:
    """Findings (severity, check, key, detail) as aligned text lines; the detail column is not padded."""
    header = ("severity", "check", "key", "detail")
    cells = [header] + [(severity, check, key or "", detail or "") for check, severity, key, detail in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(c[i].ljust(widths[i]) for i in range(3)) + "  " + c[3])
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(header[3]))
    return lines


@db.command(
    help="Run the consistency checks (ops.check_consistency: accumulators equal the sums over paid, not "
    "reversed claims per member and plan year; reversals mirror their claims; claim ledger deltas; M3P ledger "
    "and billing balances) and print every finding. Exits 1 when any check finds something, 0 when all pass. "
    "With --health the health checks (ops.check_health: partitions ahead, sessions, bloat, unused and invalid "
    "indexes, wraparound, replication, scheduled jobs) are printed too, as warnings that do not fail.\n\n"
    + example("pbm db check\npbm db check --health\npbm db check --health --as-of 2026-01-05   # business date")
)
@click.option("--health", is_flag=True, help="Also run the health checks (warnings; they never fail the command).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Business date of the health checks (default: today).")
@pass_ctx
def check(ctx: Context, health: bool, as_of: str | None):
    as_of_date = None
    if as_of is not None:
        try:
            as_of_date = dt.date.fromisoformat(as_of)
        except ValueError:
            raise PbmError(f"--as-of must be a date YYYY-MM-DD (got {as_of!r})", 2) from None
        if not health:
            raise PbmError("--as-of is the date of the health checks: give it with --health", 2)
    with connect(ctx.dsn) as conn:
        if conn.execute("SELECT to_regprocedure('ops.check_consistency()') IS NULL").fetchone()[0]:
            raise PbmError("the database has no ops checks: run `pbm db migrate` first", 2)
        checks = conn.execute("SELECT count(*) FROM ops.checks WHERE kind = 'consistency'").fetchone()[0]
        findings = conn.execute("SELECT check_name, severity, key, detail FROM ops.check_consistency()").fetchall()
        warnings = []
        if health:
            warnings = conn.execute(
                "SELECT check_name, severity, key, detail FROM ops.check_health(coalesce(%s, current_date))",
                [as_of_date],
            ).fetchall()
    if findings:
        failed = len({f[0] for f in findings})
        click.echo(f"{len(findings)} finding(s) from {failed} of {checks} consistency checks:")
        for line in _findings_table(findings):
            click.echo("  " + line)
    else:
        click.echo(f"all {checks} consistency checks passed")
    if health:
        if warnings:
            click.echo(f"\n{len(warnings)} health finding(s), warnings and information (they do not fail the check):")
            for line in _findings_table(warnings):
                click.echo("  " + line)
        else:
            click.echo("health checks: nothing to report")
    if findings:
        raise SystemExit(1)


@db.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    help="Open psql on the database (extra arguments go to psql).\n\n"
    + example("pbm db psql\npbm db psql -c 'SELECT count(*) FROM claims.claims'"),
)
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
@pass_ctx
def psql(ctx: Context, psql_args: tuple[str, ...]):
    bindir = find_bindir()
    exe = str(bindir / "psql") if bindir and (bindir / "psql").exists() else shutil.which("psql")
    if not exe:
        raise PbmError("psql not found: install the PostgreSQL client (apt-get install postgresql-client)", 2)
    key = os.environ.get(KEY_ENV)
    if key:
        # The PHI key rides in the startup packet as a session setting; it is never stored.
        os.environ["PGOPTIONS"] = (os.environ.get("PGOPTIONS", "") + f" -c pbm.phi_key={key}").strip()
    os.execv(exe, [exe, ctx.dsn, *psql_args])


@db.command(
    help="Drop and recreate the database, then migrate it (asks first unless --yes).\n\n"
    + example("pbm db reset --yes")
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-migrate", is_flag=True, help="Leave the new database empty.")
@pass_ctx
def reset(ctx: Context, yes: bool, no_migrate: bool):
    target = ctx.target()
    name = dbname_of(target.dsn)
    if not yes:
        click.confirm(f"drop database {name} ({target.source}) and every row in it?", abort=True)
    admin = with_dbname(target.dsn, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    ensure_database(admin, name)
    click.echo(f"database {name} recreated")
    if not no_migrate:
        mig.migrate(target.dsn, click.echo)
        click.echo("migrated")
