"""One feed file into pbmdb: checksum -> etl.batches -> COPY into text staging -> etl.process_batch.

Python only moves bytes: it hashes the file, finds what makes a file unreadable as a whole (empty, a
UTF-16/32 byte order mark, no line break at the end) and the byte positions that are not UTF-8, and
streams the file into the feed's staging table with COPY. Validation, rejects, the merge and the
counts are set-based SQL in procedures/etl/. Everything happens in one transaction: a killed load
leaves nothing behind and the next run loads the file again.

Two ways into staging, both numbering lines as in the file (header = line 1):
- copy_csv: COPY ... (FORMAT csv) parses the file straight into the staging columns (the fast path);
- line_by_line: when COPY refuses the file (a wrong column count, bad quoting, a blank line) or some
  lines have bad bytes, every line is staged as raw text and split in SQL, so each bad line gets its
  own reject and the others still load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from etl.layouts import FEEDS
from pbmdb import PbmError

CHUNK = 4 << 20
UTF8_BOM = b"\xef\xbb\xbf"
OTHER_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32LE",
    b"\x00\x00\xfe\xff": "UTF-32BE",
    b"\xff\xfe": "UTF-16LE",
    b"\xfe\xff": "UTF-16BE",
}
# Characters that cannot be stored: bytes that were not UTF-8 (decoded as lone surrogates) and NUL.
BAD_CHARS = re.compile("[\x00\udc80-\udcff]")
DATE_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")
YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
# The year of a DE-SynPUF beneficiary summary decides its coverage spans: never guess it.
NEEDS_YEAR_IN_NAME = ("desynpuf_beneficiary",)


@dataclass
class LoadResult:
    feed: str
    file_name: str
    status: str  # completed | rejected | already loaded
    batch_id: int | None = None
    loaded_before_batch_id: int | None = None
    rows_received: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    staging_method: str | None = None
    claims_batch_id: int | None = None
    seconds: float = 0.0
    copy_seconds: float = 0.0
    phase_seconds: dict | None = None

    @property
    def clean(self) -> bool:
        """Nothing refused: a completed batch without rejects, or a file already loaded."""
        return self.status == "already loaded" or (self.status == "completed" and self.rows_rejected == 0)

    def line(self) -> str:
        if self.status == "already loaded":
            return (
                f"{self.file_name}: already loaded as batch {self.loaded_before_batch_id} (same content); nothing done"
            )
        return (
            f"batch {self.batch_id} {self.feed} {self.file_name}: {self.status}, "
            f"{self.rows_received} received, {self.rows_loaded} loaded, {self.rows_rejected} rejected "
            f"({self.rows_inserted} inserted, {self.rows_updated} updated) in {self.seconds:.1f} s"
        )


def effective_date(feed: str, path: Path, option: dt.date | None = None) -> tuple[dt.date, str]:
    """The file's date: --effective-date, else a date (YYYYMMDD / YYYY-MM-DD) or a year in the file name,
    else the file's modification day. A DE-SynPUF beneficiary file needs its year in the name or option."""
    if option is not None:
        return option, "option"
    m = DATE_IN_NAME.search(path.name)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))), "file name"
        except ValueError:
            pass
    m = YEAR_IN_NAME.search(path.name)
    if m:
        return dt.date(int(m.group(1)), 1, 1), "file name"
    if feed in NEEDS_YEAR_IN_NAME:
        raise PbmError(
            f"{path.name}: cannot tell which year this DE-SynPUF beneficiary summary is for: "
            "put the year in the file name (DE1_0_2008_Beneficiary_Summary_File_Sample_1.csv) "
            "or pass --effective-date 2008-01-01"
        )
    return dt.date.fromtimestamp(path.stat().st_mtime), "file modified"


def _bad_lines(text: str) -> tuple[str, list[int]]:
    """Replace unstorable characters by a visible \\xNN and return the (1-based) lines that had any.
    Visits only the bad characters, never every line."""
    lines: list[int] = []
    line, pos = 1, 0
    for m in BAD_CHARS.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    if not lines:
        return text, lines

    def visible(m: re.Match) -> str:
        c = ord(m.group())
        return f"\\x{c - 0xDC00 if c >= 0xDC00 else c:02x}"

    return BAD_CHARS.sub(visible, text), lines


def _copy(cur: psycopg.Cursor, statement: sql.Composable, payload: bytes, progress) -> int:
    with cur.copy(statement) as copy:
        for start in range(0, len(payload), CHUNK):
            chunk = payload[start : start + CHUNK]
            copy.write(chunk)
            if progress:
                progress(len(chunk))
    return cur.rowcount


def load_file(
    conn: psycopg.Connection,
    feed: str,
    path: Path,
    *,
    effective: dt.date | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> LoadResult:
    """Load one feed file in one transaction; returns what happened. Raises PbmError for a problem of
    the run itself (unknown feed, unreadable file, missing PHI key), never for bad data."""
    if feed not in FEEDS:
        raise PbmError(f"unknown feed {feed!r}: one of {', '.join(FEEDS)}")
    started = time.perf_counter()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PbmError(f"cannot read {path}: {e.strerror}") from None
    sha256 = hashlib.sha256(data).hexdigest()
    eff_date, eff_source = effective_date(feed, path, effective)
    result = LoadResult(feed=feed, file_name=path.name, status="loading")

    with conn.transaction():
        # A dead client (killed loader) is noticed within a second and its transaction rolled back.
        conn.execute("SET LOCAL client_connection_check_interval = '1s'")
        # Hash tables of a million keys stay in memory (duplicates, joins); for this transaction only.
        conn.execute("SET LOCAL work_mem = '256MB'")
        batch_id, staging, before_id, _before_status = conn.execute(
            "SELECT * FROM etl.begin_batch(%s, %s, %s, %s, %s, %s, %s)",
            [feed, path.name, sha256, len(data), eff_date, eff_source, force],
        ).fetchone()
        if batch_id is None:
            result.status, result.loaded_before_batch_id = "already loaded", before_id
            result.seconds = time.perf_counter() - started
            return result
        result.batch_id, result.loaded_before_batch_id = batch_id, before_id
        row = _load_batch(conn, feed, batch_id, staging, data, progress, on_stage, result)
        result.status = row["status"]
        for field in (
            "rows_received",
            "rows_loaded",
            "rows_rejected",
            "rows_inserted",
            "rows_updated",
            "staging_method",
            "claims_batch_id",
            "phase_seconds",
        ):
            setattr(result, field, row[field])
    result.seconds = time.perf_counter() - started
    return result


def _reject_file(conn, batch_id: int, rows: int, rule=None, line_no=0, value=None, detail=None) -> dict:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT * FROM etl.reject_file(%s, %s, %s, %s, %s, %s)",
        [batch_id, rows, rule, line_no, value, detail],
    ).fetchone()


def _load_batch(conn, feed, batch_id, staging, data: bytes, progress, on_stage, result: LoadResult) -> dict:
    if not data:
        return _reject_file(conn, batch_id, 0, "empty_file", 0, None, "the file has no bytes")
    for bom, name in OTHER_BOMS.items():
        if data.startswith(bom):
            lines = max(data.count(b"\n") - 1, 0)
            return _reject_file(
                conn,
                batch_id,
                lines,
                "wrong_encoding",
                0,
                None,
                f"{name} byte order mark: save the file as UTF-8",
            )
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if not data.endswith(b"\n"):
        lines = data.count(b"\n") + 1
        tail = data[data.rfind(b"\n") + 1 :]
        return _reject_file(
            conn,
            batch_id,
            lines - 1,
            "truncated_file",
            lines,
            tail.decode("utf-8", "backslashreplace"),
            f"line {lines} does not end with a line break: the file was cut off; nothing loaded",
        )

    text = data.decode("utf-8", "surrogateescape")
    text, bad = _bad_lines(text)
    split = text.index("\n")
    header, body = text[:split], text[split + 1 :]
    rows = body.count("\n")
    expected = list(FEEDS[feed])
    ok = conn.execute("SELECT etl.check_header(%s, %s, %s)", [batch_id, header, expected]).fetchone()[0]
    if not ok:
        return _reject_file(conn, batch_id, rows)

    copy_started = time.perf_counter()
    columns = sql.SQL(", ").join(sql.Identifier(c.lower()) for c in expected)
    table = sql.SQL(staging)  # a regclass text from etl.feeds: already quoted where needed
    cur = conn.cursor()
    method = "copy_csv"
    bad_data_lines = [n for n in bad if n > 1]
    if not bad_data_lines:
        payload = body.encode("utf-8")
        try:
            with conn.transaction():
                copied = _copy(
                    cur,
                    sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, FORCE_NULL ({}))").format(table, columns, columns),
                    payload,
                    progress,
                )
                if copied != rows:  # a quoted line break joined two lines: number them one by one
                    raise _Restage()
        except (psycopg.errors.DataError, psycopg.errors.BadCopyFileFormat, _Restage):
            method = "line_by_line"
    else:
        method = "line_by_line"
    if method == "line_by_line":
        if on_stage:
            on_stage("structural problems: staging line by line")
        conn.execute("SELECT etl.restart_staging(%s)", [batch_id])
        escaped = body.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r")
        _copy(cur, sql.SQL("COPY {} (raw_line) FROM STDIN").format(table), escaped.encode("utf-8"), progress)
    result.copy_seconds = time.perf_counter() - copy_started
    if on_stage:
        on_stage("validating and merging")
    dict_cur = conn.cursor(row_factory=dict_row)
    return dict_cur.execute(
        "SELECT * FROM etl.process_batch(%s, %s, %s, %s)", [batch_id, rows, method, bad_data_lines]
    ).fetchone()


class _Restage(Exception):
    """COPY parsed the file but not line for line: stage it line by line instead."""
