"""`pbm`: the command line of pbmdb. Thin by design: options are parsed here, the work is SQL."""

from __future__ import annotations

import os
import sys

import click
import psycopg

from pbmdb import PbmError
from pbmdb.commands import Context, example
from pbmdb.commands.bench import bench
from pbmdb.commands.claims import claims
from pbmdb.commands.db import db
from pbmdb.commands.demo import demo
from pbmdb.commands.etl import etl
from pbmdb.commands.ppp import ppp
from pbmdb.commands.report import report
from pbmdb.commands.seed import seed
from pbmdb.commands.user import user
from pbmdb.db import describe_error


@click.group(
    help="pbmdb: a PostgreSQL database for a pharmacy benefit manager.\n\n"
    "The server is --dsn, else PBM_DSN, else the embedded cluster in .pbm/.\n\n"
    + example("pbm db up\npbm db migrate\npbm --dsn postgresql://pbm@db.example.org/pbm db status")
)
@click.option("--dsn", metavar="DSN", help="libpq connection string or URI (default: PBM_DSN, else embedded).")
@click.version_option(package_name="pbmdb")
@click.pass_context
def pbm(ctx: click.Context, dsn: str | None):
    ctx.obj = Context(dsn)


for command in (db, seed, claims, ppp, etl, report, user, bench, demo):
    pbm.add_command(command)


def main(argv: list[str] | None = None) -> None:
    try:
        rc = pbm.main(args=argv, prog_name="pbm", standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except PbmError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except psycopg.Error as e:
        if os.environ.get("PBM_DEBUG"):
            raise
        click.echo(f"error: {describe_error(e)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
