"""Where `pbm seed synthetic` puts its data: the database (COPY into temporary staging tables, then the
set-based SQL of seeds/synthetic_sql/) or feed files in the etl/layouts.py layouts; and what happens when
the database already holds synthetic data (docs/decisions/0005-synthetic-data.md).
"""

from __future__ import annotations

import csv
import io
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from etl.layouts import FEEDS
from pbmdb import PbmError
from pbmdb.db import connect
from seeds import synthetic as syn
from seeds import synthetic_csv as fmt

SQL_DIR = Path(__file__).resolve().parent / "synthetic_sql"
CHUNK = 200_000


@dataclass(frozen=True)
class Run:
    """The synthetic dataset a database holds (pbm_meta.synthetic_runs)."""

    run_id: int
    generator_version: str
    seed: int
    members: int
    claims: int
    plan_year: int
    problem_share: float
    mode: str
    batch_id: int | None

    def describe(self) -> str:
        return (
            f"seed {self.seed}, {self.members:,} members, {self.claims:,} claims, year {self.plan_year}, "
            f"problem share {self.problem_share:g}, mode {self.mode}, "
            f"generator version {self.generator_version}"
        )

    def same_as(self, params: syn.Params, mode: str) -> bool:
        return (
            self.generator_version == syn.GENERATOR_VERSION
            and (self.seed, self.members, self.claims, self.plan_year, self.mode)
            == (params.seed, params.members, params.claims, params.year, mode)
            and abs(self.problem_share - params.problem_share) < 1e-9
        )


def current_run(conn: psycopg.Connection) -> Run | None:
    row = conn.execute(
        "SELECT run_id, generator_version, seed, members, claims, plan_year, problem_share::float8, mode, "
        "batch_id FROM pbm_meta.synthetic_runs"
    ).fetchone()
    return Run(*row) if row else None


def has_marked_rows(conn: psycopg.Connection) -> bool:
    """Synthetic rows without a run record (e.g. feed files of --out loaded by the ETL)."""
    return conn.execute(
        "SELECT EXISTS (SELECT FROM plan.plans WHERE plan_code LIKE 'SYN-%') "
        "OR EXISTS (SELECT FROM member.members WHERE cardholder_id LIKE 'SYN%') "
        "OR EXISTS (SELECT FROM claims.batches WHERE source = 'synthetic')"
    ).fetchone()[0]


def part_d_parameters(conn: psycopg.Connection, year: int) -> syn.PartD:
    row = conn.execute(
        "SELECT standard_deductible::text, oop_threshold::text, initial_coinsurance::text, "
        "insulin_cap_per_month::text FROM ref.part_d_parameters WHERE plan_year = %s",
        [year],
    ).fetchone()
    if row is None:
        known = conn.execute("SELECT plan_year FROM ref.part_d_parameters ORDER BY 1").fetchall()
        years = ", ".join(str(r[0]) for r in known)
        raise PbmError(
            f"no Part D parameters for {year} in ref.part_d_parameters (years: {years}): "
            "pass --year with one of them, or add the year to seeds/reference/part_d_parameters.csv",
            exit_code=2,
        )
    return syn.PartD(*row)


def run_file(conn: psycopg.Connection, name: str) -> None:
    text = (SQL_DIR / name).read_text()
    conn.execute(text)


# ---------------------------------------------------------------------------------------------------
# small tables: csv module (quoting where needed)
# ---------------------------------------------------------------------------------------------------
def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "t" if value else "f"
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def frame_csv(frame: pd.DataFrame, ord_column: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        cells = [_cell(v) for v in row]
        writer.writerow([str(i), *cells] if ord_column else cells)
    return out.getvalue()


def stage(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    cols = sql.SQL(", ").join(map(sql.Identifier, ["ord", *frame.columns]))
    with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(sql.Identifier(table), cols)) as cp:
        cp.write(frame_csv(frame, ord_column=True))


# ---------------------------------------------------------------------------------------------------
# the database
# ---------------------------------------------------------------------------------------------------
CONFIG_TABLES = (
    "mac_lists",
    "contracts",
    "networks",
    "formularies",
    "formulary_entries",
    "plans",
    "benefit_designs",
    "tier_cost_shares",
)


def load_config(conn: psycopg.Connection, ds: syn.Dataset) -> None:
    """Plan configuration and drug catalog (both modes)."""
    for name in CONFIG_TABLES:
        stage(conn, f"_syn_{name}", ds.config[name])
    stage(conn, "_syn_drugs", ds.feeds["drugs"])
    run_file(conn, "config.sql")


def load_people(conn: psycopg.Connection, ds: syn.Dataset) -> float:
    """Prices, pharmacies, network, prescribers, members and coverage (database mode); returns seconds."""
    f = ds.feeds
    started = time.perf_counter()
    stage(conn, "_syn_drug_prices", f["drug_prices"])
    stage(conn, "_syn_pharmacies", f["pharmacies"])
    stage(conn, "_syn_network", f["network"])
    stage(conn, "_syn_prescribers", f["prescribers"])
    elig = f["eligibility"]
    member_columns = list(FEEDS["eligibility"][:12])  # cardholder_id .. mbi
    stage(conn, "_syn_members", elig.drop_duplicates(["cardholder_id", "person_code"])[member_columns])
    coverage_columns = ["cardholder_id", "person_code", *FEEDS["eligibility"][12:]]
    stage(conn, "_syn_coverage", elig[coverage_columns])
    # Demographic history versions start on the first day of the plan year.
    conn.execute("SELECT set_config('pbm.effective_date', %s, true)", [f"{ds.params.year}-01-01"])
    run_file(conn, "data_people.sql")
    return time.perf_counter() - started


def load_activity(conn: psycopg.Connection, ds: syn.Dataset) -> float:
    """Prior authorizations and M3P elections, and the claims partitions of the year; returns seconds."""
    started = time.perf_counter()
    f = ds.feeds
    pas = f["prior_authorizations"].merge(f["pa_timing"], on="pa_number", how="left", validate="one_to_one")
    stage(conn, "_syn_prior_authorizations", pas)
    stage(conn, "_syn_m3p_elections", f["m3p_elections"])
    run_file(conn, "data_activity.sql")
    y = ds.params.year
    conn.execute(
        "SELECT count(*) FROM claims.create_month_partitions(%s::date, %s::date)", [f"{y}-01-01", f"{y}-12-31"]
    )
    return time.perf_counter() - started


class Background:
    """Runs a function on a worker thread (its own connection or one the caller leaves alone meanwhile);
    `result()` waits and re-raises what went wrong."""

    def __init__(self, fn, *args):
        self._fn, self._args = fn, args
        self._value = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn(*self._args)
        except BaseException as e:
            self._error = e

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class ClaimsLoader:
    """COPYs the claim requests into a new claims batch on a second connection, on a worker thread, while
    the main connection loads the rest: the server works on both at once (two backends, two cores).

    The batch is committed by `commit()` once the rest is loaded (and before the run record that refers
    to it); if the rest then fails, `undo()` deletes it again. Killed in between, a synthetic batch without
    a run record is left, which the next run reports and --replace removes."""

    def __init__(self, dsn: str, ds: syn.Dataset):
        self.ds = ds
        self.conn = connect(dsn, phi_key=False)
        self.batch_id: int | None = None
        self.seconds = 0.0
        self.committed = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="synthetic-claims", daemon=True)

    def start(self) -> ClaimsLoader:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            started = time.perf_counter()
            p, conn = self.ds.params, self.conn
            conn.execute("SET synchronous_commit = off")
            batch_id = conn.execute(
                "INSERT INTO claims.batches (source, file_name) VALUES ('synthetic', %s) RETURNING batch_id",
                [
                    f"synthetic seed={p.seed} members={p.members} claims={p.claims} year={p.year} "
                    f"problem_share={p.problem_share:g} version={syn.GENERATOR_VERSION}"
                ],
            ).fetchone()[0]
            n = len(self.ds.problem_kind)
            names = ["batch_id", "line_no", *syn.CLAIM_COLUMNS]
            copy_sql = sql.SQL("COPY claims.batch_claims ({}) FROM STDIN (FORMAT csv)").format(
                sql.SQL(", ").join(map(sql.Identifier, names))
            )
            batch_col = fmt.integer(np.array([batch_id]))
            cursor = conn.cursor()
            # A queued writer sends on yet another thread while this one formats the next chunk.
            with cursor.copy(copy_sql, writer=QueuedLibpqWriter(cursor)) as cp:
                for lo in range(0, n, CHUNK):
                    hi = min(n, lo + CHUNK)
                    chunk = self.ds.claim_chunk(lo, hi)
                    cols = [np.repeat(batch_col, hi - lo), fmt.integer(np.arange(lo + 1, hi + 1))]
                    cp.write(fmt.csv_bytes(cols + [chunk[c] for c in syn.CLAIM_COLUMNS]))
            self.batch_id = batch_id
            self.seconds = time.perf_counter() - started
        except BaseException as e:  # handed to the main thread by commit()
            self._error = e

    def commit(self) -> int:
        """Wait for the COPY, commit the batch; returns its id (re-raises what went wrong)."""
        self._thread.join()
        if self._error is not None:
            self.conn.rollback()
            raise self._error
        self.conn.commit()
        self.committed = True
        return self.batch_id

    def undo(self) -> None:
        """The rest failed: roll the batch back, or delete it when it was committed already."""
        self._thread.join()
        try:
            if not self.committed:
                self.conn.rollback()
            elif self.batch_id is not None:
                self.conn.execute("DELETE FROM claims.batch_claims WHERE batch_id = %s", [self.batch_id])
                self.conn.execute("DELETE FROM claims.batches WHERE batch_id = %s", [self.batch_id])
                self.conn.commit()
        finally:
            self.close()

    def close(self) -> None:
        self.conn.close()


def record_run(conn: psycopg.Connection, ds: syn.Dataset, mode: str, batch_id: int | None) -> int:
    p = ds.params
    run_id = conn.execute(
        "INSERT INTO pbm_meta.synthetic_runs (generator_version, seed, members, claims, plan_year, "
        "problem_share, mode, batch_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING run_id",
        [syn.GENERATOR_VERSION, p.seed, p.members, p.claims, p.year, p.problem_share, mode, batch_id],
    ).fetchone()[0]
    keys = [("ndc11", v) for v in ds.feeds["drugs"]["ndc11"]]
    if mode == "database":
        keys += [("pharmacy_npi", v) for v in ds.feeds["pharmacies"]["npi"]]
        keys += [("prescriber_npi", v) for v in ds.feeds["prescribers"]["npi"]]
    with conn.cursor().copy("COPY pbm_meta.synthetic_keys (run_id, key_type, key_value) FROM STDIN") as cp:
        for key_type, value in keys:
            cp.write_row((run_id, key_type, value))
    lines = np.flatnonzero(ds.problem_kind >= 0)
    with conn.cursor().copy("COPY pbm_meta.synthetic_problem_claims (run_id, line_no, kind) FROM STDIN") as cp:
        for line, kind in zip((lines + 1).tolist(), ds.problem_kind[lines].tolist(), strict=True):
            cp.write_row((run_id, line, syn.PROBLEM_KINDS[kind]))
    return run_id


def delete_synthetic(conn: psycopg.Connection) -> None:
    try:
        with conn.transaction():
            run_file(conn, "delete.sql")
    except psycopg.errors.ForeignKeyViolation as e:
        raise PbmError(
            f"cannot replace the synthetic data: {e.diag.message_primary} ({e.diag.message_detail}); "
            "remove those rows first or start from an empty database (pbm db reset)"
        ) from None


# ---------------------------------------------------------------------------------------------------
# feed files
# ---------------------------------------------------------------------------------------------------
def file_names(year: int) -> dict[str, str]:
    """<feed>_<YYYYMMDD>.csv: master data as of the first day of the plan year, activity as of its last."""
    master, activity = f"{year}0101", f"{year}1231"
    return {
        "eligibility": master,
        "drugs": master,
        "drug_prices": master,
        "pharmacies": master,
        "network": master,
        "prescribers": master,
        "desynpuf_beneficiary": master,
        "prior_authorizations": activity,
        "claims": activity,
        "desynpuf_pde": activity,
    }


def _write(path: Path, chunks) -> None:
    """Write to a side file and rename: a loader watching the folder never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    os.replace(partial, path)


def write_files(out_dir: Path, ds: syn.Dataset, echo: Callable[[str], None]) -> list[Path]:
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for feed, stamp in file_names(ds.params.year).items():
        path = out_dir / f"{feed}_{stamp}.csv"
        columns = FEEDS[feed]
        if feed == "claims":
            n = len(ds.problem_kind)
            chunks = [fmt.header(columns)] + [
                fmt.csv_bytes([ds.claim_chunk(lo, min(n, lo + CHUNK))[c] for c in columns]) for lo in range(0, n, CHUNK)
            ]
        elif feed.startswith("desynpuf"):
            cols = ds.desynpuf_beneficiary if feed == "desynpuf_beneficiary" else ds.desynpuf_pde
            chunks = [fmt.header(columns, quoted=True), fmt.csv_bytes(cols)]
        else:
            frame = ds.feeds[feed]
            if tuple(frame.columns) != columns:
                raise AssertionError(f"{feed}: columns {list(frame.columns)} differ from etl/layouts.py")
            chunks = [fmt.header(columns), frame_csv(frame, ord_column=False).encode()]
        _write(path, chunks)
        written.append(path)
    echo(f"  wrote {len(written)} feed files to {out_dir} ({time.perf_counter() - started:.1f} s)")
    return written
