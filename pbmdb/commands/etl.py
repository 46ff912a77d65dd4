"""`pbm etl ...`."""

from __future__ import annotations

import click

from pbmdb.commands import example


@click.group(
    help="Load nightly feed files: validate, reject bad rows with reasons, merge good ones.\n\n"
    + example("pbm etl --help")
)
def etl():
    pass
