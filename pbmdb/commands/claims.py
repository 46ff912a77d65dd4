"""`pbm claims ...`."""

from __future__ import annotations

import click

from pbmdb.commands import example


@click.group(help="Adjudicate claims: real time from JSON, or whole batches.\n\n" + example("pbm claims --help"))
def claims():
    pass
