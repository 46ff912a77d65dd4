"""`pbm seed ...`: reference data and synthetic data."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from pathlib import Path

import click

from pbmdb import PbmError
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.db import KEY_ENV, connect
from seeds import reference

# Serialises concurrent `pbm seed synthetic` runs against one database (arbitrary, stable number).
SYNTHETIC_LOCK_KEY = 7_143_210_005


@click.group(help="Load reference data and generate synthetic data.\n\n" + example("pbm seed reference"))
def seed():
    pass


@seed.command(
    "reference",
    help="(Re)load every reference file of seeds/reference/ (NCPDP code sets, Part D parameters).\n\n"
    + example("pbm seed reference"),
)
@pass_ctx
def seed_reference(ctx: Context):
    with connect(ctx.dsn) as conn:
        loaded = reference.load(conn, click.echo, force=True)
    click.echo(f"loaded {len(loaded)} reference file(s)")


def _load_database(dsn: str, conn, ds, people) -> int:
    """Database mode, using both cores: the master data loads (this connection, on a worker thread) while
    the claims are generated; then the claims are COPYed on a second connection while this one loads the
    prior authorizations and elections. Returns the batch id."""
    from seeds import synthetic as syn
    from seeds import synthetic_io as sio

    conn.execute("SET LOCAL synchronous_commit = off")
    sio.run_file(conn, "staging.sql")
    sio.load_config(conn, ds)
    master = sio.Background(sio.load_people, conn, ds)
    claims = None
    try:
        syn.generate_activity(ds, people, click.echo, desynpuf_layouts=False)
        claims = sio.ClaimsLoader(dsn, ds).start()
        click.echo(
            f"  loaded plan configuration, catalog, prices, pharmacies, prescribers, members and coverage "
            f"({master.result():.1f} s, while generating)"
        )
        click.echo(f"  loaded prior authorizations and M3P elections ({sio.load_activity(conn, ds):.1f} s)")
        batch_id = claims.commit()
        click.echo(
            f"  loaded {ds.params.claims:,} claim requests into batch {batch_id} "
            f"({claims.seconds:.1f} s, on a second connection)"
        )
        sio.record_run(conn, ds, "database", batch_id)
        conn.commit()
    except BaseException:
        with contextlib.suppress(BaseException):
            master.result()  # never touch the connection while the worker still uses it
        conn.rollback()
        if claims is not None:
            claims.undo()
        raise
    claims.close()
    return batch_id


def _integer(name: str, value: str | None, low: int, high: int, default: int | None = None, sep: str = ",") -> int:
    if value is None:
        if default is None:
            raise PbmError(f"missing {name}: see pbm seed synthetic --help", exit_code=2)
        return default
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise PbmError(f"{name} must be a whole number (got {value!r})", exit_code=2) from None
    if not low <= number <= high:
        show = (lambda v: f"{v:,}") if sep else str
        raise PbmError(f"{name} must be between {show(low)} and {show(high)} (got {show(number)})", exit_code=2)
    return number


@seed.command(
    "synthetic",
    help="Generate a plan year of realistic synthetic data, the same for the same seed: four plans (two "
    "Medicare Part D with the year's standard benefit, two commercial), formularies, networks, a drug "
    "catalog with prices, pharmacies, prescribers, members with coverage, prior authorizations, M3P "
    "elections and the claim requests pharmacies send (NCPDP B1, not yet adjudicated) in one claims batch "
    "with source 'synthetic', a share of them made to be rejected.\n\n"
    "Members, MBIs and claims go into the database (MBIs encrypted: needs PBM_PHI_KEY), or with --out into "
    "feed files <feed>_<YYYYMMDD>.csv in the etl/layouts.py layouts plus the CMS DE-SynPUF layouts; the "
    "plan configuration and drug catalog are written to the database in both cases.\n\n"
    "Running it again with the same options does nothing; with other options it refuses unless --replace "
    "is given, which first removes the synthetic data (and claims adjudicated from it).\n\n"
    + example(
        "export PBM_PHI_KEY=change-me\n"
        "pbm seed synthetic --members 100000 --claims 1000000 --seed 42\n"
        "pbm seed synthetic --members 1000 --claims 10000 --seed 7 --year 2026 --replace\n"
        "pbm seed synthetic --members 1000 --claims 10000 --seed 7 --out inbox/"
    ),
)
@click.option("--members", metavar="N", help="Members to generate (about 60% Medicare, the rest commercial families).")
@click.option("--claims", "n_claims", metavar="N", help="Claim requests to generate in the plan year.")
@click.option("--seed", "seed_value", metavar="S", help="Random seed (a whole number >= 0).")
@click.option("--year", metavar="Y", help="Plan year (default: last calendar year; needs ref.part_d_parameters).")
@click.option("--out", "out_dir", metavar="DIR", help="Write the feeds to DIR instead of loading them.")
@click.option(
    "--problem-share",
    metavar="F",
    default="0.03",
    show_default=True,
    help="Share of claim requests made to be rejected (unknown cardholder, outside coverage, ...).",
)
@click.option("--replace", is_flag=True, help="Remove the synthetic data the database holds first.")
@pass_ctx
def seed_synthetic(ctx: Context, members, n_claims, seed_value, year, out_dir, problem_share, replace):
    from seeds import synthetic as syn
    from seeds import synthetic_io as sio

    started = time.perf_counter()
    n_members = _integer("--members", members, 1, 10_000_000)
    claims = _integer("--claims", n_claims, 0, 100_000_000)
    seed_number = _integer("--seed", seed_value, 0, 2**63 - 1)
    plan_year = _integer("--year", year, 2006, 2100, default=dt.date.today().year - 1, sep="")
    try:
        share = float(problem_share)
    except ValueError:
        raise PbmError(f"--problem-share must be a number between 0 and 0.5 (got {problem_share!r})", 2) from None
    if not 0 <= share <= 0.5:
        raise PbmError(f"--problem-share must be between 0 and 0.5 (got {share:g})", exit_code=2)
    mode = "files" if out_dir else "database"
    out = Path(out_dir) if out_dir else None
    if out is not None and out.exists() and not out.is_dir():
        raise PbmError(f"--out {out_dir}: exists and is not a directory", exit_code=2)
    if mode == "database" and not os.environ.get(KEY_ENV):
        raise PbmError(
            f"{KEY_ENV} is not set: members' MBIs are stored encrypted with the session's PHI key; "
            f"export {KEY_ENV}=<key> (or write feed files with --out DIR)",
            exit_code=2,
        )
    params = syn.Params(seed_number, n_members, claims, plan_year, share)

    with connect(ctx.dsn) as conn:
        if conn.execute("SELECT to_regclass('pbm_meta.synthetic_runs') IS NULL").fetchone()[0]:
            raise PbmError("the database is not migrated (no pbm_meta.synthetic_runs): run `pbm db migrate` first")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [SYNTHETIC_LOCK_KEY])
        partd = sio.part_d_parameters(conn, plan_year)
        run = sio.current_run(conn)
        load_db = True
        if run is not None or sio.has_marked_rows(conn):
            held = run.describe() if run else "synthetic rows without a run record (feed files loaded?)"
            if replace:
                click.echo(f"removing the synthetic data of this database ({held})")
                sio.delete_synthetic(conn)
            elif run is not None and run.same_as(params, mode) and mode == "database":
                conn.rollback()
                click.echo(f"already loaded: the database holds this synthetic dataset ({held}); nothing to do")
                return
            elif (
                mode == "files"
                and run is not None
                and run.plan_year == plan_year
                and run.generator_version == syn.GENERATOR_VERSION
            ):
                load_db = False  # the plan configuration and catalog the files refer to are already there
            else:
                raise PbmError(
                    f"the database already holds synthetic data ({held}): pass --replace to replace it "
                    "(this also deletes claims adjudicated from it)"
                )
        click.echo(
            f"generating: seed {seed_number}, {n_members:,} members, {claims:,} claims, plan year "
            f"{plan_year}, Part D deductible ${partd.deductible}, out-of-pocket threshold "
            f"${partd.oop_threshold}"
        )
        ds, people = syn.generate_people(params, partd, click.echo)
        if mode == "files":
            syn.generate_activity(ds, people, click.echo, desynpuf_layouts=True)
            if load_db:
                conn.execute("SET LOCAL synchronous_commit = off")
                sio.run_file(conn, "staging.sql")
                sio.load_config(conn, ds)
                sio.record_run(conn, ds, mode, None)
                click.echo("  loaded plan configuration and drug catalog")
            else:
                click.echo("  plan configuration and drug catalog already in the database: writing the files only")
            sio.write_files(out, ds, click.echo)
            conn.commit()
            batch_id = None
        else:
            batch_id = _load_database(ctx.dsn, conn, ds, people)

    kinds = {k: int((ds.problem_kind == i).sum()) for i, k in enumerate(syn.PROBLEM_KINDS)}
    click.echo(", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in ds.counts.items()))
    click.echo("problem claims: " + ", ".join(f"{k} {v:,}" for k, v in kinds.items()))
    where = f"claims batch {batch_id}" if batch_id is not None else f"feed files in {out}"
    click.echo(f"done in {time.perf_counter() - started:.1f} s: {where}")
