"""Reference data: seeds/reference/*.csv into the ref tables (upsert; rows gone from a file are deleted).

`pbm db migrate` loads a file when its checksum changed (recorded in pbm_meta.repeatables like the
repeatable SQL files); `pbm seed reference` reloads them all.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

# file -> (table, key columns); the other columns are the file's header.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "reject_codes.csv": ("ref.reject_codes", ("code",)),
    "daw_codes.csv": ("ref.daw_codes", ("code",)),
    "dur_reason_codes.csv": ("ref.dur_reason_codes", ("code",)),
    "basis_of_reimbursement_codes.csv": ("ref.basis_of_reimbursement_codes", ("code",)),
    "ncpdp_codes.csv": ("ref.ncpdp_codes", ("field_id", "code")),
    "part_d_parameters.csv": ("ref.part_d_parameters", ("plan_year",)),
}


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_key(name: str) -> str:
    return f"seeds/reference/{name}"


def load_file(conn: psycopg.Connection, name: str) -> int:
    """Upsert one reference file into its table inside the caller's transaction; returns rows in the file."""
    table, keys = TABLES[name]
    path = REFERENCE_DIR / name
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    schema, rel = table.split(".")
    target = sql.Identifier(schema, rel)
    cols = sql.SQL(", ").join(map(sql.Identifier, header))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE _ref_load ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(cols, target)
    )
    with conn.cursor().copy(sql.SQL("COPY _ref_load ({}) FROM STDIN").format(cols)) as copy:
        for row in rows:
            copy.write_row(row)
    key_cols = sql.SQL(", ").join(map(sql.Identifier, keys))
    updates = [c for c in header if c not in keys]
    conn.execute(
        sql.SQL(
            "INSERT INTO {t} ({cols}) SELECT {cols} FROM _ref_load ON CONFLICT ({keys}) DO UPDATE SET {set}"
        ).format(
            t=target,
            cols=cols,
            keys=key_cols,
            set=sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in updates),
        )
    )
    conn.execute(
        sql.SQL("DELETE FROM {t} WHERE ({keys}) NOT IN (SELECT {keys} FROM _ref_load)").format(t=target, keys=key_cols)
    )
    conn.execute("DROP TABLE _ref_load")
    return len(rows)


def load(conn: psycopg.Connection, echo: Callable[[str], None], *, force: bool = False) -> list[str]:
    """Load every reference file whose checksum changed (all with force); returns the files loaded."""
    recorded = dict(conn.execute("SELECT file_path, sha256 FROM pbm_meta.repeatables").fetchall())
    loaded = []
    for name in TABLES:
        sha = checksum(REFERENCE_DIR / name)
        if not force and recorded.get(record_key(name)) == sha:
            continue
        with conn.transaction():
            count = load_file(conn, name)
            conn.execute(
                "INSERT INTO pbm_meta.repeatables (file_path, sha256) VALUES (%s, %s) "
                "ON CONFLICT (file_path) DO UPDATE SET sha256 = excluded.sha256, applied_at = now()",
                [record_key(name), sha],
            )
        loaded.append(name)
        echo(f"  loaded {record_key(name)} ({count} rows)")
    return loaded
