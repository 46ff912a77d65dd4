"""`pbm ppp ...`: the Medicare Prescription Payment Plan (M3P) jobs, and `pbm bench ppp`.

Thin: every rule lives in the ppp schema (procedures/ppp/); these commands parse options, call one SQL
function per step and print what it did.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path

import click
import psycopg
from psycopg import sql

from pbmdb import PbmError
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.commands.bench import Result, bench
from pbmdb.db import connect
from pbmdb.scratch import scratch_database

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: str) -> dt.date:
    match = MONTH_RE.match(value or "")
    if not match:
        raise PbmError(f"--month must be YYYY-MM, e.g. 2025-03 (got {value!r})")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def parse_date(value: str | None, option: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PbmError(f"{option} must be a date YYYY-MM-DD (got {value!r})") from None


def parse_year(value: int) -> int:
    if not 2025 <= value <= 2100:
        raise PbmError(f"--year must be a plan year from 2025 (got {value})")
    return value


def money(value) -> str:
    return f"${value:,.2f}"


@click.group(
    help="Medicare Prescription Payment Plan (M3P): monthly billing, past-due processing, renewals, "
    "outreach and statements.\n\n" + example("pbm ppp bill --month 2025-03\npbm ppp statements --member 42")
)
def ppp():
    pass


def _past_due(conn: psycopg.Connection, as_of: dt.date) -> None:
    row = conn.execute("SELECT * FROM ppp.process_past_due(%s)", [as_of]).fetchone()
    notices, terminated, precluded, cancelled = row
    click.echo(
        f"past due as of {as_of}: {notices:,} notice(s) sent, {terminated:,} terminated for failure to pay"
        + (f", {precluded:,} precluded next year" if precluded else "")
        + (f", {cancelled:,} renewal(s) cancelled" if cancelled else "")
    )


@ppp.command(
    "bill",
    help="Bill one month: first past-due processing as of the run date (notices, terminations after the "
    "grace period), then ppp.run_billing for the month (one statement per participant or member still "
    "owing). Re-running a month bills nobody twice.\n\n"
    + example(
        "pbm ppp bill --month 2025-03\n"
        "pbm ppp bill --month 2025-12 --run-date 2026-01-15   # December is billed in January"
    ),
)
@click.option("--month", "month_text", required=True, metavar="YYYY-MM", help="The month to bill.")
@click.option("--run-date", metavar="YYYY-MM-DD", help="Issue date of the statements (default: today).")
@click.option("--no-past-due", is_flag=True, help="Skip the past-due processing step.")
@pass_ctx
def bill(ctx: Context, month_text: str, run_date: str | None, no_past_due: bool):
    month = parse_month(month_text)
    run_on = parse_date(run_date, "--run-date")
    with connect(ctx.dsn) as conn:
        if not no_past_due:
            _past_due(conn, run_on)
        started = time.perf_counter()
        run_id, _, written, participants, billed, credits = conn.execute(
            "SELECT * FROM ppp.run_billing(%s, %s)", [month, run_on]
        ).fetchone()
        conn.commit()
        took = time.perf_counter() - started
    click.echo(
        f"billed {month:%Y-%m} (run {run_id}, issued {run_on}): {written:,} statement(s), "
        f"{participants:,} participant(s), {money(billed)} billed, {money(credits)} credited ({took:.1f} s)"
    )


@ppp.command(
    "past-due",
    help="Past-due processing only: notices for statements unpaid after their due date, terminations "
    "for failure to pay after the two-month grace period.\n\n" + example("pbm ppp past-due --as-of 2025-05-01"),
)
@click.option("--as-of", metavar="YYYY-MM-DD", help="Business date (default: today).")
@pass_ctx
def past_due(ctx: Context, as_of: str | None):
    as_of_date = parse_date(as_of, "--as-of")
    with connect(ctx.dsn) as conn:
        _past_due(conn, as_of_date)
        conn.commit()


@ppp.command(
    "renew",
    help="Automatic renewal into a plan year (2026 on): every member participating through December 31 who "
    "did not decline renewal and is not precluded. Run after the annual election period, before January 1."
    "\n\n" + example("pbm ppp renew --year 2027 --as-of 2026-12-10"),
)
@click.option("--year", type=int, required=True, help="The plan year to renew into.")
@click.option("--as-of", metavar="YYYY-MM-DD", help="Date of the renewal notices (default: today).")
@pass_ctx
def renew(ctx: Context, year: int, as_of: str | None):
    plan_year = parse_year(year)
    as_of_date = parse_date(as_of, "--as-of")
    with connect(ctx.dsn) as conn:
        renewed = conn.execute("SELECT ppp.renew_elections(%s, %s)", [plan_year, as_of_date]).fetchone()[0]
        conn.commit()
    click.echo(f"renewed {renewed:,} election(s) into {plan_year} (notices dated {as_of_date})")


@ppp.command(
    "outreach",
    help="The prior-year likely-to-benefit list for a plan year (2026 on), as CSV on standard output: "
    "members whose out-of-pocket costs in January-September of the prior year reached that year's "
    "threshold and who have not elected yet.\n\n" + example("pbm ppp outreach --year 2026 > outreach_2026.csv"),
)
@click.option("--year", type=int, required=True, help="The plan year the outreach is for.")
@pass_ctx
def outreach(ctx: Context, year: int):
    plan_year = parse_year(year)
    with connect(ctx.dsn) as conn:
        rows = conn.execute(
            "SELECT member_id, plan_id, prior_year_oop, threshold FROM ppp.outreach_list(%s)", [plan_year]
        ).fetchall()
    click.echo("member_id,plan_id,prior_year_oop,threshold")
    for member_id, plan_id, oop, threshold in rows:
        click.echo(f"{member_id},{plan_id},{oop},{threshold}")


@ppp.command(
    "statements",
    help="One member's statement history: costs, cap, amount billed, balance, paid and status.\n\n"
    + example("pbm ppp statements --member 42"),
)
@click.option("--member", "member_id", type=int, required=True, help="The member_id.")
@pass_ctx
def statements(ctx: Context, member_id: int):
    with connect(ctx.dsn) as conn:
        rows = conn.execute(
            "SELECT billing_month, oop_this_month, months_remaining, max_monthly_cap, amount_billed, "
            "balance_after, amount_paid + amount_credited, amount_open, due_date, status "
            "FROM ppp.statement_history WHERE member_id = %s ORDER BY plan_year, billing_month",
            [member_id],
        ).fetchall()
    if not rows:
        raise PbmError(f"member {member_id} has no M3P statement")
    header = ("month", "costs", "months", "cap", "billed", "balance", "paid", "open", "due", "status")
    click.echo("{:<8}{:>11}{:>7}{:>11}{:>11}{:>11}{:>11}{:>11}  {:<11}{}".format(*header))
    for month, oop, months, cap, billed, balance, paid, open_amount, due, status in rows:
        click.echo(
            f"{month:%Y-%m}  {oop:>11,.2f}{months:>7}{cap:>11,.2f}{billed:>11,.2f}{balance:>11,.2f}"
            f"{paid:>11,.2f}{open_amount:>11,.2f}  {due!s:<11}{status}"
        )


# ---------------------------------------------------------------------------------------------------
# pbm bench ppp
# ---------------------------------------------------------------------------------------------------
BENCH_SETUP = """
INSERT INTO network.networks (network_code, name) VALUES ('BENCH-NET', 'M3P bench network');
INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
VALUES ('1234567893', '7654321', 'Bench Pharmacy', '1 Main St', 'Austin', 'TX', '78701', 'retail');
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, contract_number, pbp_id, network_id)
SELECT 'BENCH-PD', 'M3P bench Part D plan', 'medicare_part_d', '610999', 'BENCH', 'BENCHPD', 'S9999', '001',
    network_id
FROM network.networks WHERE network_code = 'BENCH-NET';
"""

BENCH_MEMBERS = """
SELECT set_config('pbm.effective_date', '2024-01-01', false);
INSERT INTO member.members (cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city,
    state, zip5)
SELECT 'B' || lpad(g::text, 9, '0'), 'Bench', 'Member', DATE '1950-01-01' + (g % 3000), 'F', '1 Elm St',
    'Austin', 'TX', '78701'
FROM generate_series(1, {n}) AS g;
INSERT INTO member.coverage_spans (member_id, plan_id, effective_date)
SELECT m.member_id, p.plan_id, DATE '2024-01-01'
FROM member.members AS m CROSS JOIN plan.plans AS p WHERE p.plan_code = 'BENCH-PD';
-- 90% elected before the year (effective January 1), 10% in February (first statement in February).
INSERT INTO ppp.elections (member_id, plan_year, source, received_at, processed_at, effective_date, plan_id,
    acceptance_notice_on)
SELECT m.member_id, 2025, 'web', r.received, r.received, r.received::date, p.plan_id, r.received::date
FROM member.members AS m
CROSS JOIN plan.plans AS p
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN m.member_id % 10 = 0
            THEN TIMESTAMPTZ '2025-02-01 09:00+00' + (m.member_id % 27) * interval '1 day'
        ELSE TIMESTAMPTZ '2025-01-01 00:00+00'
    END AS received
) AS r
WHERE p.plan_code = 'BENCH-PD';
"""

# Claims of January and February: 0 to 2 per member and month (1 on average), patient pay 5 to 400;
# in the program (m3p_amount = patient pay) when the date of service is in the member's election period,
# else paid at the pharmacy. Loaded with triggers off (session_replication_role = replica), then the
# ledger and the unbilled queue are filled in one statement with exactly the rows the ledger triggers
# write for new program claims (the triggers cost adjudication, not billing).
BENCH_CLAIMS = """
SET session_replication_role = replica;
INSERT INTO claims.claims (
    transaction_code, received_at, date_of_service, cardholder_id, person_code, service_provider_id,
    rx_number, fill_number, days_supply, quantity_dispensed, member_id, plan_id, plan_year, pharmacy_id,
    transaction_response_status, ingredient_cost_paid, dispensing_fee_paid, total_amount_paid,
    patient_pay_amount, amount_applied_to_deductible, amount_of_copay, amount_of_coinsurance,
    amount_attributed_to_product_selection, stage_deductible_amount, stage_initial_amount,
    stage_catastrophic_amount, oop_delta, m3p_amount
)
SELECT 'B1', c.dos + time '10:00', c.dos, m.cardholder_id, '01', '1234567893',
    lpad((m.member_id * 10 + k)::text, 12, '0'), 0, 30, 30, m.member_id, e.plan_id, 2025, ph.pharmacy_id,
    'P', 4 * c.pay, 0, 3 * c.pay, c.pay, 0, 0, c.pay, 0, 0, 4 * c.pay, 0, c.pay,
    CASE WHEN c.dos >= e.effective_date THEN c.pay ELSE 0 END
FROM member.members AS m
INNER JOIN ppp.elections AS e ON e.member_id = m.member_id
CROSS JOIN network.pharmacies AS ph
CROSS JOIN LATERAL generate_series(1, ((m.member_id * 7 + {month}) % 3)::int) AS k
CROSS JOIN LATERAL (
    SELECT make_date(2025, {month}, 1 + ((m.member_id * 13 + k * 7) % 28)::int) AS dos,
        round((5 + ((m.member_id * 31 + k * 17 + {month}) % 39600) / 100.0)::numeric, 2) AS pay
) AS c;
SET session_replication_role = DEFAULT;
WITH entries AS (
    INSERT INTO ppp.ledger (member_id, plan_year, claim_id, service_date, entry_type, amount)
    SELECT member_id, 2025, claim_id, date_of_service, 'claim', m3p_amount
    FROM claims.claims
    WHERE m3p_amount > 0 AND date_of_service >= make_date(2025, {month}, 1)
        AND date_of_service < make_date(2025, {month}, 1) + interval '1 month'
    RETURNING ledger_entry_id, member_id, plan_year, service_date, amount
)
INSERT INTO ppp.unbilled (ledger_entry_id, member_id, plan_year, service_date, amount)
SELECT ledger_entry_id, member_id, plan_year, service_date, amount FROM entries;
"""


def _server_cpu_reader(conn: psycopg.Connection, dsn: str):
    """A function returning the CPU seconds used so far by this connection's server process, when the server
    runs on this machine (read from /proc); else None."""
    host = psycopg.conninfo.conninfo_to_dict(dsn).get("host") or ""
    if host and not host.startswith("/") and host not in ("localhost", "127.0.0.1", "::1"):
        return None
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    conn.commit()
    try:
        if b"postgres" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return None
    except OSError:
        return None

    def read() -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    return read


def _timed(conn: psycopg.Connection, label: str, query: str, server_cpu):
    cpu_before = server_cpu() if server_cpu else None
    started = time.perf_counter()
    row = conn.execute(query).fetchone()
    conn.commit()
    took = time.perf_counter() - started
    cpu_after = server_cpu() if server_cpu else None
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    click.echo(f"  {label}: {took:.1f} s" + (f" (server process CPU {cpu:.1f} s)" if cpu is not None else ""))
    return row, took, cpu


@bench.command(
    "ppp",
    help="M3P billing benchmark in a scratch database (<db>_bench_ppp on the same server, dropped "
    "afterwards unless --keep): N participants of 2025 (90% from January, 10% from February) with 0-2 "
    "claims a month each, then January and February are billed with ppp.run_billing and timed (the "
    "target: one month for 1,000,000 participants in at most 30 s).\n\n"
    + example("pbm bench ppp --participants 1000000\npbm bench ppp --participants 10000 --keep"),
)
@click.option("--participants", type=int, default=1_000_000, show_default=True, help="Number of participants.")
@click.option("--keep", is_flag=True, help="Keep the scratch database afterwards.")
@pass_ctx
def bench_ppp(ctx: Context, participants: int, keep: bool):
    if participants < 1 or participants > 20_000_000:
        raise PbmError(f"--participants must be 1 to 20,000,000 (got {participants})")
    with scratch_database(ctx.dsn, "bench_ppp", click.echo, keep=keep) as dsn:
        with connect(dsn, phi_key=False) as conn:
            started = time.perf_counter()
            conn.execute(BENCH_SETUP)
            click.echo(f"generating {participants:,} participants with their elections")
            conn.execute(sql.SQL(BENCH_MEMBERS).format(n=sql.Literal(participants)))
            conn.commit()
            for month in (1, 2):
                click.echo(f"generating claims of 2025-{month:02d} and their ledger entries")
                conn.execute(sql.SQL(BENCH_CLAIMS).format(month=sql.Literal(month)))
                conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE ppp.elections, ppp.ledger, ppp.unbilled, member.members, claims.claims")
            conn.autocommit = False
            claims, program = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE m3p_amount > 0) FROM claims.claims"
            ).fetchone()
            click.echo(
                f"generated {claims:,} claims ({program:,} in the program) in {time.perf_counter() - started:.0f} s"
            )
            click.echo("timing (each step one transaction, committed):")
            server_cpu = _server_cpu_reader(conn, dsn)
            load_before = os.getloadavg()[0]
            jan, jan_s, _ = _timed(
                conn,
                "ppp.run_billing 2025-01 (first month)",
                "SELECT * FROM ppp.run_billing('2025-01-01', '2025-02-01')",
                server_cpu,
            )
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE ppp.statements, ppp.unbilled")
            conn.autocommit = False
            feb, feb_s, feb_cpu = _timed(
                conn,
                "ppp.run_billing 2025-02 (balances carried)",
                "SELECT * FROM ppp.run_billing('2025-02-01', '2025-03-01')",
                server_cpu,
            )
            past, past_s, _ = _timed(
                conn,
                "ppp.process_past_due 2025-03-01",
                "SELECT * FROM ppp.process_past_due('2025-03-01')",
                server_cpu,
            )
            load_after = os.getloadavg()[0]
        for label, row, took in (("2025-01", jan, jan_s), ("2025-02", feb, feb_s)):
            click.echo(
                f"billed {label}: {row[2]:,} statements ({row[3]:,} participants), {money(row[4])}, "
                f"{took:.1f} s = {row[2] / took:,.0f} statements/s"
            )
        click.echo(f"past due 2025-03-01: {past[0]:,} notices in {past_s:.1f} s")
        verdict = "within" if feb_s <= 30 else "ABOVE"
        click.echo(
            f"result: one month for {participants:,} participants billed in {feb_s:.1f} s ({verdict} 30 s)"
            + (f"; server process CPU {feb_cpu:.1f} s" if feb_cpu is not None else "")
            + f"; load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} CPUs"
        )
        return [
            Result(
                "M3P billing (a month)",
                f"{participants:,} participants",
                f"{feb_s:.1f} s ({feb[2] / feb_s:,.0f} statements/s)",
                "<= 30 s",
                feb_s <= 30,
            )
        ]
