"""Claims from Python: read JSON claims, stage batches, adjudicate them (the work is claims.* in SQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg

from pbmdb import PbmError


def read_requests(text: str, source: str) -> list[dict]:
    """Claims as a JSON object, a JSON array of objects, or JSON lines; a clear error otherwise."""
    stripped = text.strip()
    if not stripped:
        raise PbmError(f"{source}: no claims (empty input)", exit_code=2)
    try:
        if stripped[0] == "[":
            data = json.loads(stripped)
        elif stripped[0] == "{" and "\n" not in stripped:
            data = [json.loads(stripped)]
        else:
            data = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise PbmError(f"{source}: not JSON claims (line {e.lineno}: {e.msg})", exit_code=2) from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise PbmError(f"{source}: expected a JSON object, an array of objects or JSON lines", exit_code=2)
    return data


@dataclass
class BatchResult:
    batch_id: int
    claims_count: int
    paid_count: int
    rejected_count: int
    duplicate_count: int
    passes: int
    total_amount_paid: object
    patient_pay_amount: object


def stage_batch(conn: psycopg.Connection, requests: list[dict], *, source: str, file_name: str | None) -> int:
    """A new batch (status received) holding the requests as typed claims.batch_claims rows."""
    batch_id = conn.execute(
        "INSERT INTO claims.batches (source, file_name) VALUES (%s, %s) RETURNING batch_id", [source, file_name]
    ).fetchone()[0]
    with conn.cursor().copy("COPY _claims_in (line_no, request) FROM STDIN") as copy:
        for line, request in enumerate(requests, start=1):
            copy.write_row((line, json.dumps(request)))
    conn.execute(
        "INSERT INTO claims.batch_claims SELECT %s, i.line_no, r.* "
        "FROM _claims_in AS i CROSS JOIN LATERAL claims.parse_request(i.request) AS r",
        [batch_id],
    )
    return batch_id


def prepare_staging(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _claims_in (line_no int, request jsonb) ON COMMIT DROP")


def adjudicate_batch(
    conn: psycopg.Connection, batch_id: int, *, as_of: dt.date | None = None, echo: Callable[[str], None] = print
) -> BatchResult:
    """Run claims.adjudicate_batch, echoing its progress notices; commits (one transaction per batch)."""

    def progress(diag: psycopg.errors.Diagnostic) -> None:
        echo(f"  {diag.message_primary}")

    conn.add_notice_handler(progress)
    try:
        row = conn.execute("SELECT * FROM claims.adjudicate_batch(%s, %s)", [batch_id, as_of]).fetchone()
    finally:
        conn.remove_notice_handler(progress)
    conn.commit()
    return BatchResult(batch_id, *row)


def responses(conn: psycopg.Connection, function: str, requests: list[dict]) -> Iterator[dict]:
    """Each request through api.adjudicate or api.reverse, one transaction each, as a pharmacy would."""
    if function not in ("api.adjudicate", "api.reverse"):
        raise ValueError(function)
    for request in requests:
        try:
            response = conn.execute(f"SELECT {function}(%s::jsonb)", [json.dumps(request)]).fetchone()[0]
        except psycopg.Error:
            conn.rollback()
            raise
        conn.commit()
        yield response
