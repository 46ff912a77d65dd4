"""`pbm report ...`."""

from __future__ import annotations

import click

from pbmdb.commands import example


@click.group(help="Analyst reports and the BI reporting schema.\n\n" + example("pbm report --help"))
def report():
    pass
