"""`pbm demo`: the whole nightly cycle on the embedded database, for a newcomer."""

from __future__ import annotations

import click

from pbmdb import migrate as mig
from pbmdb.commands import Context, example, pass_ctx


@click.command(
    help="Start the embedded database, migrate it and run the nightly cycle on synthetic data.\n\n"
    + example("pbm demo")
)
@pass_ctx
def demo(ctx: Context):
    target = ctx.target()
    click.echo(f"database: {target.source}")
    result = mig.migrate(target.dsn, click.echo)
    click.echo("migrated" if not result.nothing_done else "database is up to date")
