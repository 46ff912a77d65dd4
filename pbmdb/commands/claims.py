"""`pbm claims ...`: adjudicate JSON claims in real time, reverse them, run batches, pay pharmacies."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from pbmdb import PbmError
from pbmdb import claims as pc
from pbmdb.commands import Context, example, pass_ctx
from pbmdb.db import connect


@click.group(
    help="Adjudicate claims: real time from JSON, or whole batches.\n\n"
    + example("pbm claims submit claim.json\npbm claims batch --file claims.jsonl\npbm claims pay --date 2025-11-07")
)
def claims():
    pass


def _read(source: str) -> list[dict]:
    if source == "-":
        return pc.read_requests(sys.stdin.read(), "stdin")
    try:
        with open(source, encoding="utf-8") as f:
            return pc.read_requests(f.read(), source)
    except OSError as e:
        raise PbmError(f"cannot read {source}: {e.strerror}", exit_code=2) from None
    except UnicodeDecodeError:
        raise PbmError(f"{source}: not UTF-8 text", exit_code=2) from None


def _summary_line(response: dict) -> str:
    status = response.get("transaction_response_status")
    head = f"{status} {response.get('authorization_number', '-'):>8} rx {response.get('rx_number', '-')}"
    if status == "R":
        codes = ", ".join(f"{m['code']} {m['description']}" for m in response.get("reject_messages", []))
        return f"{head}  rejected: {codes or ', '.join(response.get('reject_codes', []))}"
    if status == "A":
        return f"{head}  reversed {response.get('reversal_of_authorization_number')}"
    return (
        f"{head}  allowed {response.get('ingredient_cost_paid')}+{response.get('dispensing_fee_paid')}"
        f"  patient pays {response.get('patient_pay_amount')}  plan pays {response.get('total_amount_paid')}"
        + (f"  collect {response['amount_collected_from_patient']}" if "m3p_amount" in response else "")
    )


def _submit(ctx: Context, source: str, function: str, fmt: str) -> None:
    requests = _read(source)
    with connect(ctx.dsn) as conn:
        for response in pc.responses(conn, function, requests):
            click.echo(json.dumps(response, sort_keys=True) if fmt == "json" else _summary_line(response))


@claims.command(
    help="Adjudicate JSON claims in real time through api.adjudicate and print the responses. FILE holds a "
    "claim object, an array of them, or JSON lines; - reads stdin. Keys are NCPDP field names in snake_case.\n\n"
    + example(
        "pbm claims submit claims.jsonl --format text\n"
        'echo \'{"bin": "610014", "pcn": "PARTD", "group_id": "GRPD", "cardholder_id": "...", ...}\' '
        "| pbm claims submit -"
    )
)
@click.argument("source", metavar="FILE|-")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True)
@pass_ctx
def submit(ctx: Context, source: str, fmt: str):
    _submit(ctx, source, "api.adjudicate", fmt)


@claims.command(
    help="Reverse paid claims (NCPDP B2) through api.reverse: each JSON object gives service_provider_id, "
    "rx_number, fill_number and date_of_service.\n\n"
    + example(
        '\'{"service_provider_id": "1234567893", "rx_number": "1001", "fill_number": 0,\n'
        ' "date_of_service": "20251101"}\' | pbm claims reverse -'
    )
)
@click.argument("source", metavar="FILE|-")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True)
@pass_ctx
def reverse(ctx: Context, source: str, fmt: str):
    _submit(ctx, source, "api.reverse", fmt)


@claims.command(
    help="Adjudicate a whole batch set-based (claims.adjudicate_batch): the JSON claims of --file staged as a "
    "new batch, or a batch already staged (--batch, e.g. by pbm etl load claims or pbm seed synthetic). "
    "Claims are processed in date-of-service then line order; progress is printed.\n\n"
    + example("pbm claims batch --file claims.jsonl\npbm claims batch --batch 42 --as-of 2025-11-30")
)
@click.option("--file", "file_", metavar="FILE", help="JSON claims to stage as a new batch.")
@click.option("--batch", "batch_id", type=int, metavar="ID", help="A staged batch to adjudicate.")
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Processing date (default: the day the batch was received)."
)
@pass_ctx
def batch(ctx: Context, file_: str | None, batch_id: int | None, as_of: dt.datetime | None):
    if (file_ is None) == (batch_id is None):
        raise click.UsageError("give exactly one of --file FILE or --batch ID")
    with connect(ctx.dsn) as conn:
        if file_ is not None:
            requests = _read(file_)
            pc.prepare_staging(conn)
            batch_id = pc.stage_batch(conn, requests, source="cli", file_name=file_)
            conn.commit()
            click.echo(f"staged {len(requests)} claims as batch {batch_id}")
        status = conn.execute("SELECT status FROM claims.batches WHERE batch_id = %s", [batch_id]).fetchone()
        if status is None:
            raise PbmError(f"no batch {batch_id}", exit_code=2)
        if status[0] == "received":
            conn.execute("UPDATE claims.batches SET status = 'pending' WHERE batch_id = %s", [batch_id])
            conn.commit()
        try:
            result = pc.adjudicate_batch(conn, batch_id, as_of=as_of.date() if as_of else None, echo=click.echo)
        except Exception:
            conn.rollback()
            conn.execute(
                "UPDATE claims.batches SET status = 'received' WHERE batch_id = %s AND status = 'pending'", [batch_id]
            )
            conn.commit()
            raise
        click.echo(
            f"batch {batch_id}: {result.claims_count} claims, {result.paid_count} paid, {result.rejected_count} "
            f"rejected, {result.duplicate_count} duplicates; plan pays {result.total_amount_paid}, patients pay "
            f"{result.patient_pay_amount}"
        )
        reasons = conn.execute(
            "SELECT code, description, claims FROM claims.batch_reject_reasons WHERE batch_id = %s "
            "ORDER BY claims DESC, code LIMIT 5",
            [batch_id],
        ).fetchall()
        for code, description, count in reasons:
            click.echo(f"  {count:>8}  {code:<4} {description}")


@claims.command(
    help="Close the payment cycle of a date: pay the pharmacies for everything adjudicated since the last cycle "
    "(paid claims net of reversals) and print the remittance per pharmacy.\n\n"
    + example("pbm claims pay --date 2025-11-07")
)
@click.option("--date", "cycle_date", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The payment date.")
@click.option("--top", default=10, show_default=True, help="Pharmacies to list (largest first).")
@pass_ctx
def pay(ctx: Context, cycle_date: dt.datetime, top: int):
    with connect(ctx.dsn) as conn:
        cycle_id = conn.execute(
            "SELECT (claims.run_payment_cycle(%s)).payment_cycle_id", [cycle_date.date()]
        ).fetchone()[0]
        conn.commit()
        total = conn.execute(
            "SELECT count(*), coalesce(sum(paid_claims), 0), coalesce(sum(total_amount_paid), 0) "
            "FROM claims.pharmacy_remittance WHERE payment_cycle_id = %s",
            [cycle_id],
        ).fetchone()
        click.echo(
            f"payment cycle {cycle_id} ({cycle_date.date()}): {total[0]} pharmacies, {total[1]} paid claims, "
            f"net {total[2]}"
        )
        for npi, name, claims_paid, amount in conn.execute(
            "SELECT npi, pharmacy_name, paid_claims, total_amount_paid FROM claims.pharmacy_remittance "
            "WHERE payment_cycle_id = %s ORDER BY total_amount_paid DESC LIMIT %s",
            [cycle_id, top],
        ):
            click.echo(f"  {npi}  {name[:40]:<40} {claims_paid:>7} claims  {amount:>14}")
