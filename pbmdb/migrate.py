"""`pbm db migrate`: yoyo for the versioned migrations/, then the repeatable folders, then reference data.

Repeatable files (procedures/, security/, reports/ in that order, path order inside each) are applied
each in its own transaction and recorded with their sha256 in pbm_meta.repeatables; a file is applied
again only when its checksum changed (or with force). yoyo's post-apply hooks only run when a migration
was pending, which is why the repeatables are applied here and not by yoyo.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import conninfo as ci
from yoyo import read_migrations
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import parse_uri

from pbmdb import ROOT, PbmError
from pbmdb.db import connect, describe_error
from seeds import reference

REPEATABLE_DIRS = ("procedures", "security", "reports")
# Analyst query files live under reports/ but are run on demand, never applied by migrate.
NOT_REPEATABLE = ("reports/queries/",)
META_SCHEMA = "pbm_meta"
# Serialises concurrent `pbm db migrate` runs against one database (arbitrary, stable number).
MIGRATE_LOCK_KEY = 7_143_210_001


def sql_root() -> Path:
    """The folder holding migrations/, procedures/, security/ and reports/: the checkout, or PBM_SQL_ROOT."""
    return Path(os.environ.get("PBM_SQL_ROOT") or ROOT)


def yoyo_url(dsn: str) -> str:
    """A psycopg-3 URL for yoyo (`postgresql+psycopg://`), bookkeeping kept in schema pbm_meta."""
    params = ci.conninfo_to_dict(dsn)
    user = quote(params.pop("user", "") or "", safe="")
    password = params.pop("password", None)
    host = params.pop("host", "") or ""
    port = params.pop("port", None)
    dbname = params.pop("dbname", "") or ""
    netloc = user + (f":{quote(password, safe='')}" if password else "") + ("@" if user else "")
    query = dict(params)
    if host.startswith("/") or "," in host:
        query["host"] = host
        if port:
            query["port"] = port
    else:
        netloc += host + (f":{port}" if port else "")
    query["schema"] = META_SCHEMA
    return f"postgresql+psycopg://{netloc}/{quote(dbname)}?{urlencode(query)}"


class _RecordingCursor(psycopg.Cursor):
    """Remembers the statement that failed, so a failing migration step can be placed in its file."""

    last_sql: str = ""

    def execute(self, query, params=None, **kwargs):
        try:
            return super().execute(query, params, **kwargs)
        except psycopg.Error:
            _RecordingCursor.last_sql = query if isinstance(query, str) else ""
            raise


class _Backend(PostgresqlPsycopgBackend):
    """yoyo's psycopg-3 backend with a recording cursor."""

    def connect(self, dburi):
        connection = super().connect(dburi)
        connection.cursor_factory = _RecordingCursor
        return connection


def _backend(dsn: str) -> _Backend:
    backend = _Backend(parse_uri(yoyo_url(dsn)), "_yoyo_migration")
    backend.init_database()
    return backend


def _ensure_meta_schema(dsn: str) -> None:
    with connect(dsn, autocommit=True, phi_key=False) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")


def repeatable_files() -> list[Path]:
    root = sql_root()
    files: list[Path] = []
    for folder in REPEATABLE_DIRS:
        for path in sorted((root / folder).rglob("*.sql")):
            rel = path.relative_to(root).as_posix()
            if not rel.startswith(NOT_REPEATABLE):
                files.append(path)
    return files


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Status:
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # repeatables new or edited since last applied
    current: list[str] = field(default_factory=list)


def _recorded_checksums(conn: psycopg.Connection) -> dict[str, str]:
    exists = conn.execute("SELECT to_regclass('pbm_meta.repeatables') IS NOT NULL").fetchone()[0]
    if not exists:
        return {}
    return dict(conn.execute("SELECT file_path, sha256 FROM pbm_meta.repeatables").fetchall())


def status(dsn: str) -> Status:
    _ensure_meta_schema(dsn)
    st = Status()
    backend = _backend(dsn)
    try:
        migrations = read_migrations(str(sql_root() / "migrations"))
        applied = set(backend.get_applied_migration_hashes())
        for m in migrations:
            (st.applied if m.hash in applied else st.pending).append(m.id)
    finally:
        backend.connection.close()
    with connect(dsn, phi_key=False) as conn:
        recorded = _recorded_checksums(conn)
    for path in repeatable_files():
        rel = path.relative_to(sql_root()).as_posix()
        (st.current if recorded.get(rel) == _sha256(path) else st.changed).append(rel)
    for name in reference.TABLES:
        key = reference.record_key(name)
        same = recorded.get(key) == reference.checksum(reference.REFERENCE_DIR / name)
        (st.current if same else st.changed).append(key)
    return st


@dataclass
class Result:
    migrations_applied: list[str] = field(default_factory=list)
    repeatables_applied: list[str] = field(default_factory=list)
    reference_loaded: list[str] = field(default_factory=list)

    @property
    def nothing_done(self) -> bool:
        return not (self.migrations_applied or self.repeatables_applied or self.reference_loaded)


def _file_line(text: str, statement: str, err: psycopg.Error) -> str:
    start = text.find(statement.strip()) if statement else -1
    offset = text[:start].count("\n") if start >= 0 else 0
    return describe_error(err, statement if start >= 0 else None, line_offset=offset)


def apply_migrations(dsn: str, echo: Callable[[str], None]) -> list[str]:
    _ensure_meta_schema(dsn)
    backend = _backend(dsn)
    done: list[str] = []
    try:
        migrations = read_migrations(str(sql_root() / "migrations"))
        with backend.lock():
            for m in backend.to_apply(migrations):
                try:
                    backend.apply_one(m)
                except psycopg.Error as err:
                    path = Path(m.path)
                    detail = _file_line(path.read_text(), _RecordingCursor.last_sql, err)
                    raise PbmError(
                        f"migration {path.relative_to(sql_root())} failed and was rolled back: {detail}"
                    ) from None
                done.append(m.id)
                echo(f"  applied migration {m.id}")
    finally:
        backend.connection.close()
    return done


def apply_repeatables(dsn: str, echo: Callable[[str], None], *, force: bool = False) -> list[str]:
    done: list[str] = []
    with connect(dsn, phi_key=False) as conn:
        recorded = _recorded_checksums(conn)
        conn.commit()
        for path in repeatable_files():
            rel = path.relative_to(sql_root()).as_posix()
            sha = _sha256(path)
            if not force and recorded.get(rel) == sha:
                continue
            text = path.read_text()
            try:
                with conn.transaction():
                    # Only pg_catalog and public (extensions) are on the path: project names are qualified.
                    conn.execute("SET LOCAL search_path = pg_catalog, public")
                    conn.execute(text)  # no parameters: simple protocol, several statements allowed
                    conn.execute(
                        "INSERT INTO pbm_meta.repeatables (file_path, sha256) VALUES (%s, %s) "
                        "ON CONFLICT (file_path) DO UPDATE SET sha256 = excluded.sha256, applied_at = now()",
                        [rel, sha],
                    )
            except psycopg.Error as err:
                raise PbmError(f"{rel} failed and was rolled back: {describe_error(err, text)}") from None
            done.append(rel)
            echo(f"  applied {rel}")
    return done


def migrate(dsn: str, echo: Callable[[str], None], *, force: bool = False) -> Result:
    with connect(dsn, autocommit=True, phi_key=False) as lock_conn:
        # Session-level lock: a second `pbm db migrate` waits instead of interleaving.
        lock_conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
        result = Result()
        result.migrations_applied = apply_migrations(dsn, echo)
        result.repeatables_applied = apply_repeatables(dsn, echo, force=force)
        with connect(dsn, phi_key=False) as conn:
            result.reference_loaded = reference.load(conn, echo, force=force)
        return result
