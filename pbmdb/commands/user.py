"""`pbm user ...`."""

from __future__ import annotations

import click

from pbmdb.commands import example


@click.group(help="Database logins for people and systems, each in one pbm role.\n\n" + example("pbm user --help"))
def user():
    pass
