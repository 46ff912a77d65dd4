"""`pbm bench ...`."""

from __future__ import annotations

import click

from pbmdb.commands import example


@click.group(help="Benchmarks: measured figures for the README.\n\n" + example("pbm bench --help"))
def bench():
    pass
