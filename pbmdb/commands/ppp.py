"""`pbm ppp ...`."""

from __future__ import annotations

import click

from pbmdb.commands import example


@click.group(
    help="Medicare Prescription Payment Plan (M3P): monthly billing and statements.\n\n" + example("pbm ppp --help")
)
def ppp():
    pass
