"""`pbm user ...` (logins in pbm roles) and the security commands of `pbm db` (environment, mask).

The work is SQL in security/: security.create_login, security.drop_login, security.set_environment and
security.mask. Python hashes passwords on the client (only a SCRAM verifier reaches the server) and makes
the pools of fake values for masking with faker.
"""

from __future__ import annotations

import secrets

import click
import psycopg

from pbmdb import PbmError
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.commands.db import db
from pbmdb.db import connect
from pbmdb.settings import dbname_of

ROLES = ("admin", "etl", "switch", "analyst", "bi", "pharmacy", "member", "auditor")


@click.group(
    help="Database logins for people and systems, each in exactly one pbm role.\n\n"
    "Pharmacy logins see their pharmacy's claims, member logins their own records, analysts and BI "
    "the reporting schema only (docs/security.md).\n\n"
    + example("pbm user create acme_rx --role pharmacy --pharmacy 1234567893\npbm user list")
)
def user():
    pass


@user.command(
    "create",
    help="Create login NAME in pbm role ROLE with a generated password (shown once) or one you type.\n\n"
    "Pharmacy logins need --pharmacy NPI, member logins --member MEMBER_ID; the password is hashed "
    "(SCRAM-SHA-256) before it leaves this machine. Needs CREATEROLE.\n\n"
    + example(
        "pbm user create acme_rx --role pharmacy --pharmacy 1234567893\n"
        "pbm user create tableau --role bi\n"
        "pbm user create jdoe --role member --member 42 --password-prompt"
    ),
)
@click.argument("name")
@click.option("--role", "role", required=True, metavar="ROLE", help=f"One of: {', '.join(ROLES)}.")
@click.option("--pharmacy", "pharmacy_npi", metavar="NPI", help="Pharmacy logins: the pharmacy's NPI.")
@click.option("--member", "member_id", metavar="MEMBER_ID", help="Member logins: the member's member_id.")
@click.option("--password-prompt", is_flag=True, help="Type the password instead of generating one.")
@pass_ctx
def create(ctx: Context, name: str, role: str, pharmacy_npi: str | None, member_id: str | None, password_prompt: bool):
    role = role.removeprefix("pbm_")
    if role not in ROLES:
        raise PbmError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if pharmacy_npi and member_id:
        raise PbmError("--pharmacy and --member exclude each other: a login sees one pharmacy or one member")
    if member_id is not None and not member_id.isdigit():
        raise PbmError(f"--member takes a numeric member_id, not {member_id!r}")
    if password_prompt:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
        if len(password) < 12:
            raise PbmError("the password is too short: at least 12 characters")
    else:
        password = secrets.token_urlsafe(24)
    with connect(ctx.dsn, phi_key=False) as conn:
        verifier = conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode()
        row = conn.execute(
            "SELECT l.role_name, l.pharmacy_npi, l.member_id FROM security.create_login(%s, %s, %s, %s, %s) AS l",
            [name, role, verifier, pharmacy_npi, int(member_id) if member_id else None],
        ).fetchone()
    scope = f", pharmacy {row[1]}" if row[1] else f", member {row[2]}" if row[2] else ""
    click.echo(f"created login {name} in role {row[0]}{scope}")
    if not password_prompt:
        click.echo(f"password (shown once, store it now): {password}")


@user.command(
    "list",
    help="List the logins of this database: role, pharmacy or member, when and by whom made.\n\n"
    + example("pbm user list"),
)
@pass_ctx
def list_(ctx: Context):
    with connect(ctx.dsn, phi_key=False) as conn:
        rows = conn.execute(
            "SELECT l.login_name, l.role_name, coalesce(l.pharmacy_npi, l.member_id::text, ''), "
            "to_char(l.created_at, 'YYYY-MM-DD HH24:MI'), l.created_by, r.rolname IS NOT NULL "
            "FROM security.logins AS l LEFT JOIN pg_catalog.pg_roles AS r ON r.rolname = l.login_name "
            "ORDER BY l.login_name"
        ).fetchall()
    if not rows:
        click.echo("no logins (pbm user create makes one)")
        return
    widths = [max(len(str(r[i])) for r in rows) for i in range(3)]
    for login, role, scope, created, by, exists in rows:
        missing = "" if exists else "  (role missing from the cluster)"
        click.echo(f"{login:<{widths[0]}}  {role:<{widths[1]}}  {scope:<{widths[2]}}  {created} by {by}{missing}")


@user.command(
    "drop",
    help="Drop login NAME: its mapping in this database and the role itself. Needs CREATEROLE.\n\n"
    + example("pbm user drop acme_rx --yes"),
)
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def drop(ctx: Context, name: str, yes: bool):
    if not yes:
        click.confirm(f"drop login {name}?", abort=True)
    with connect(ctx.dsn, phi_key=False) as conn:
        conn.execute("SELECT security.drop_login(%s)", [name])
    click.echo(f"dropped login {name}")


@db.command(
    "environment",
    help="Show whether this database is production or a non-production copy, or mark it.\n\n"
    "A database is production unless marked; marking it non-production (which lets `pbm db mask` "
    "rewrite it) needs its name as --confirm. The marker is void in a copy of the database.\n\n"
    + example("pbm db environment\npbm --dsn postgresql:///pbm_copy db environment non-production --confirm pbm_copy"),
)
@click.argument("environment", required=False, type=click.Choice(["production", "non-production"]))
@click.option("--confirm", "confirm_name", metavar="DBNAME", help="The database's name (to mark non-production).")
@pass_ctx
def environment(ctx: Context, environment: str | None, confirm_name: str | None):
    with connect(ctx.dsn, phi_key=False) as conn:
        if environment:
            conn.execute("SELECT security.set_environment(%s, %s)", [environment, confirm_name])
            conn.commit()
        current = conn.execute("SELECT security.environment()").fetchone()[0]
        marker = conn.execute(
            "SELECT to_char(marked_at, 'YYYY-MM-DD HH24:MI'), marked_by, "
            "to_char(masked_at, 'YYYY-MM-DD HH24:MI') FROM pbm_meta.environment"
        ).fetchone()
    name = dbname_of(ctx.dsn)
    line = f"database {name}: {current}"
    if marker and current == "non-production":
        line += f" (marked {marker[0]} by {marker[1]}" + (f", masked {marker[2]})" if marker[2] else ")")
    elif current == "production":
        line += " (not marked non-production)"
    click.echo(line)


def fake_pools(seed: str, states: list[str]) -> dict[str, list[str]]:
    """Pools of fake values (faker, en_US), reproducible from seed; places by state."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    pools = {
        "female": sorted({fake.first_name_female() for _ in range(400)}),
        "male": sorted({fake.first_name_male() for _ in range(400)}),
        "last": sorted({fake.last_name() for _ in range(1500)}),
        "streets": sorted({fake.street_address() for _ in range(2000)}),
        "states": [],
        "cities": [],
        "zips": [],
    }
    for state in states:
        for _ in range(25):
            try:
                zip5 = fake.zipcode_in_state(state)
            except (AttributeError, KeyError, ValueError):
                zip5 = fake.zipcode()
            pools["states"].append(state)
            pools["cities"].append(fake.city())
            pools["zips"].append(zip5[:5])
    if not pools["states"]:
        pools["states"], pools["cities"], pools["zips"] = ["TX"], [fake.city()], [fake.zipcode_in_state("TX")]
    return pools


@db.command(
    "mask",
    help="Turn this database, a copy of production, into non-production data: names, dates of birth, "
    "addresses, cardholder ids, MBIs, Rx numbers and notes replaced consistently with faker values; the "
    "audit log of the real data emptied.\n\n"
    "Refuses unless the database is marked non-production (pbm db environment). Needs a superuser and, "
    "when members have MBIs, PBM_PHI_KEY (the copy's own key: fake MBIs are encrypted under it).\n\n"
    + example(
        "createdb -T pbm pbm_copy\n"
        "pbm --dsn postgresql:///pbm_copy db environment non-production --confirm pbm_copy\n"
        "PBM_PHI_KEY=$(openssl rand -base64 32) pbm --dsn postgresql:///pbm_copy db mask --yes"
    ),
)
@click.option("--seed", help="Seed of the fake values (default: random); the same seed masks the same way.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def mask(ctx: Context, seed: str | None, yes: bool):
    name = dbname_of(ctx.dsn)
    with connect(ctx.dsn) as conn:
        if conn.execute("SELECT security.environment()").fetchone()[0] != "non-production":
            raise PbmError(
                f"refusing to mask database {name}: it is not marked non-production "
                f"(on a copy: pbm db environment non-production --confirm {name})"
            )
        members, claims = conn.execute(
            "SELECT (SELECT count(*) FROM member.members), (SELECT count(*) FROM claims.claims)"
        ).fetchone()
        if not yes:
            click.confirm(
                f"rewrite the identifying data of {members} members and {claims} claims in {name}?",
                abort=True,
            )
        states = [
            r[0]
            for r in conn.execute(
                "SELECT state FROM member.members UNION SELECT state FROM member.member_history ORDER BY 1"
            ).fetchall()
        ]
        pools = fake_pools(seed or secrets.token_hex(8), states)
        click.echo(
            f"fake pools: {len(pools['female']) + len(pools['male'])} first names, "
            f"{len(pools['last'])} last names, {len(pools['streets'])} streets, "
            f"{len(pools['states'])} places in {len(states)} states"
        )
        try:
            counts = conn.execute(
                "SELECT security.mask(%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    seed or secrets.token_hex(16),
                    pools["female"],
                    pools["male"],
                    pools["last"],
                    pools["streets"],
                    pools["states"],
                    pools["cities"],
                    pools["zips"],
                ],
            ).fetchone()[0]
        except psycopg.Error:
            conn.rollback()
            raise
        conn.commit()
    for table, rows in sorted(counts.items()):
        click.echo(f"  masked {table}: {rows} rows")
    click.echo(f"database {name} masked")
