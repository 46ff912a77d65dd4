"""The PostgreSQL server tests run against: PBM_TEST_DSN, else a testcontainers container when a Docker
engine answers, else a throwaway local cluster. Every test database is migrated by the same code as
`pbm db migrate`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from pbmdb import migrate as mig
from pbmdb.cluster import LocalCluster
from pbmdb.settings import ensure_database, with_dbname

TEMPLATE_DB = "pbm_test_template"


@contextlib.contextmanager
def test_server(echo=print) -> Iterator[str]:
    """Yield a superuser conninfo (database `postgres`) of a server the tests may create databases on."""
    dsn = os.environ.get("PBM_TEST_DSN")
    if dsn:
        echo("test server: PBM_TEST_DSN")
        yield with_dbname(dsn, "postgres")
        return
    container = _start_container(echo)
    if container is not None:
        try:
            url = container.get_connection_url(driver=None)
            yield with_dbname(url, "postgres")
        finally:
            container.stop()
        return
    # Short path: the unix socket path must stay under 107 bytes.
    base = Path(tempfile.mkdtemp(prefix="pbmt-", dir="/tmp"))
    base.chmod(0o755)
    cluster = LocalCluster(base, tuned_for_tests=True)
    try:
        cluster.start()
        echo(f"test server: throwaway local cluster in {cluster.state().datadir}")
        yield cluster.conninfo("postgres")
    finally:
        cluster.destroy()


def _start_container(echo):
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        return None
    try:
        container = PostgresContainer("postgres:15")
        container.start()
    except Exception as e:  # docker.errors.DockerException without an engine, within milliseconds
        echo(f"no Docker engine ({type(e).__name__}): using a throwaway local cluster")
        return None
    echo("test server: testcontainers postgres:15")
    return container


def create_migrated_database(admin_dsn: str, name: str | None = None, echo=lambda _msg: None) -> str:
    """A new database migrated by the code of `pbm db migrate`; returns its conninfo."""
    name = name or f"pbm_test_{uuid.uuid4().hex[:10]}"
    drop_database(admin_dsn, name)
    ensure_database(admin_dsn, name)
    dsn = with_dbname(admin_dsn, name)
    mig.migrate(dsn, echo)
    return dsn


def clone_database(admin_dsn: str, template: str, name: str | None = None) -> str:
    """A copy of template (CREATE DATABASE ... TEMPLATE): a fresh migrated database in ~100 ms."""
    name = name or f"pbm_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return with_dbname(admin_dsn, name)


def drop_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
