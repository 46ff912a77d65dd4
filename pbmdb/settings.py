"""Where PostgreSQL comes from: --dsn, then PBM_DSN, then the embedded local cluster in .pbm/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import conninfo as ci
from psycopg import sql

from pbmdb import ROOT, PbmError
from pbmdb.cluster import LocalCluster

DEFAULT_DBNAME = "pbm"


def embedded_cluster() -> LocalCluster:
    """The embedded cluster of this checkout: .pbm/ (or PBM_HOME, e.g. for tests of the CLI itself)."""
    return LocalCluster(Path(os.environ.get("PBM_HOME") or ROOT / ".pbm"))


@dataclass
class Target:
    dsn: str  # libpq conninfo of the pbm database
    source: str  # "--dsn", "PBM_DSN" or "embedded"

    @property
    def embedded(self) -> bool:
        return self.source == "embedded"


def resolve(cli_dsn: str | None, *, start: bool = True) -> Target:
    """The database to work on. The embedded cluster is started (and its database created) on demand."""
    if cli_dsn:
        return Target(_check(cli_dsn, "--dsn"), "--dsn")
    env_dsn = os.environ.get("PBM_DSN")
    if env_dsn:
        return Target(_check(env_dsn, "PBM_DSN"), "PBM_DSN")
    cluster = embedded_cluster()
    if start:
        cluster.start()
        ensure_database(cluster.conninfo("postgres"), DEFAULT_DBNAME)
    elif not cluster.initialized:
        raise PbmError("the embedded database is not set up: run `pbm db up` (or set PBM_DSN)", exit_code=2)
    return Target(cluster.conninfo(DEFAULT_DBNAME), "embedded")


def _check(dsn: str, where: str) -> str:
    try:
        ci.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as e:
        raise PbmError(f"{where} is not a valid libpq connection string or URI: {e}", exit_code=2) from None
    return dsn


def with_dbname(dsn: str, dbname: str) -> str:
    return ci.make_conninfo(dsn, dbname=dbname)


def dbname_of(dsn: str) -> str:
    params = ci.conninfo_to_dict(dsn)
    return params.get("dbname") or params.get("user") or os.environ.get("PGDATABASE") or "postgres"


def ensure_database(admin_dsn: str, dbname: str) -> bool:
    """Create dbname on the server of admin_dsn when missing; True when it was created."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        return True
