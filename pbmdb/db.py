"""Connections and PostgreSQL error messages a person can act on."""

from __future__ import annotations

import getpass
import os

import psycopg

from pbmdb import PbmError

KEY_ENV = "PBM_PHI_KEY"
APP_USER_ENV = "PBM_APP_USER"


def connect(dsn: str, *, autocommit: bool = False, phi_key: bool = True) -> psycopg.Connection:
    """Open a connection; the PHI key (never stored in the database) rides along as a session setting."""
    try:
        conn = psycopg.connect(dsn, autocommit=autocommit, application_name="pbm")
    except psycopg.OperationalError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "connection failed"
        raise PbmError(f"cannot connect to PostgreSQL: {first}", exit_code=2) from None
    key = os.environ.get(KEY_ENV) if phi_key else None
    with conn.cursor() as cur:
        # The person behind the login, for the audit log (informational: any client may set it).
        cur.execute("SELECT set_config('pbm.app_user', %s, false)", [os.environ.get(APP_USER_ENV) or _os_user()])
        if key:
            cur.execute("SELECT set_config('pbm.phi_key', %s, false)", [key])
    if not autocommit:
        conn.commit()
    return conn


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def describe_error(err: psycopg.Error, sql_text: str | None = None, *, line_offset: int = 0) -> str:
    """'message (line N) | DETAIL | HINT | CONTEXT', the line counted in sql_text when the server gave one."""
    diag = err.diag
    parts = [diag.message_primary or str(err).strip().splitlines()[0]]
    pos = diag.statement_position
    if sql_text is not None and pos:
        try:
            line = sql_text[: int(pos) - 1].count("\n") + 1 + line_offset
            parts[0] += f" (line {line})"
        except ValueError:
            pass
    if diag.message_detail:
        parts.append(f"DETAIL: {diag.message_detail}")
    if diag.message_hint:
        parts.append(f"HINT: {diag.message_hint}")
    if diag.context:
        parts.append(f"CONTEXT: {diag.context.strip().splitlines()[0]}")
    return " | ".join(parts)
