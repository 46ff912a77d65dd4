"""Scratch databases for the benchmarks: a new, migrated database beside the target, dropped afterwards."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator

import psycopg
from psycopg import sql


@contextlib.contextmanager
def scratch_database(target_dsn: str, suffix: str, echo: Callable[[str], None], *, keep: bool = False) -> Iterator[str]:
    """A new database `<db>_<suffix>` on the target's server, migrated by `pbm db migrate`'s code; yields its
    DSN and drops it afterwards (also on failure) unless keep."""
    from pbmdb import migrate

    params = psycopg.conninfo.conninfo_to_dict(target_dsn)
    name = f"{params.get('dbname') or 'pbm'}_{suffix}"[:63]
    admin_dsn = psycopg.conninfo.make_conninfo(target_dsn, dbname="postgres")
    dsn = psycopg.conninfo.make_conninfo(target_dsn, dbname=name)
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        echo(f"scratch database {name}: migrating")
        with contextlib.redirect_stdout(io.StringIO()):  # yoyo prints what migrations select
            migrate.migrate(dsn, lambda _msg: None)
        yield dsn
    finally:
        if keep:
            echo(f"kept database {name}")
        else:
            with psycopg.connect(admin_dsn, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            echo(f"dropped database {name}")
