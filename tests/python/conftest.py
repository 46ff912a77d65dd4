"""Fixtures: a real PostgreSQL server (PBM_TEST_DSN -> testcontainers -> throwaway local cluster) and
databases migrated by the same code as `pbm db migrate`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pbmdb.testing import clone_database, create_migrated_database, drop_database, test_server

ROOT = Path(__file__).resolve().parents[2]
PBM = str(Path(sys.executable).parent / "pbm")


@pytest.fixture(scope="session")
def server():
    """Superuser conninfo (database postgres) of the test server."""
    with test_server(echo=lambda msg: print(msg, file=sys.stderr)) as admin_dsn:
        yield admin_dsn


@pytest.fixture(scope="session")
def template_db(server):
    """A migrated database used only as the template of the others (no session may stay connected)."""
    name = f"pbm_tmpl_{os.getpid()}"
    create_migrated_database(server, name)
    yield name
    drop_database(server, name)


@pytest.fixture(scope="session")
def db(server, template_db):
    """The session's migrated database (conninfo)."""
    dsn = clone_database(server, template_db)
    yield dsn
    drop_database(server, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


@pytest.fixture
def fresh_db(server, template_db):
    """A migrated database of this test alone."""
    dsn = clone_database(server, template_db)
    yield dsn
    drop_database(server, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


@pytest.fixture
def empty_db(server):
    """An empty database (nothing migrated)."""
    name = f"pbm_empty_{os.getpid()}"
    drop_database(server, name)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield psycopg.conninfo.make_conninfo(server, dbname=name)
    drop_database(server, name)


def run_pbm(*args: str, dsn: str | None = None, env: dict | None = None, input: str | None = None, **kw):
    """Run the installed `pbm` command as a user would; returns the CompletedProcess."""
    cmd = [PBM] + (["--dsn", dsn] if dsn else []) + list(args)
    full_env = {k: v for k, v in os.environ.items() if k not in ("PBM_DSN",)}
    full_env.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, input=input, cwd=ROOT, **kw)
