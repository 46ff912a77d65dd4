"""`pbm seed ...`: reference data and synthetic data."""

from __future__ import annotations

import click

from pbmdb.commands import Context, example, pass_ctx
from pbmdb.db import connect
from seeds import reference


@click.group(help="Load reference data and generate synthetic data.\n\n" + example("pbm seed reference"))
def seed():
    pass


@seed.command(
    "reference",
    help="(Re)load every reference file of seeds/reference/ (NCPDP code sets, Part D parameters).\n\n"
    + example("pbm seed reference"),
)
@pass_ctx
def seed_reference(ctx: Context):
    with connect(ctx.dsn) as conn:
        loaded = reference.load(conn, click.echo, force=True)
    click.echo(f"loaded {len(loaded)} reference file(s)")
