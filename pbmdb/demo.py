"""The demo's own SQL and bookkeeping: what `pbm demo` removes before it runs again, the real-time claims
it sends, and the summary it prints (docs/decisions/0014-demo.md). The steps themselves are the existing
commands and functions: pbm seed synthetic, pbm etl nightly, api.adjudicate / api.reverse,
ppp.run_billing, api.refresh_reporting and the cost_trend report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg

# Feeds the demo loads from the seeder's files: the DE-SynPUF research files are left out (their members
# are not synthetic PBM members and would outlive the demo data).
DEMO_FEEDS_SKIPPED = ("desynpuf_beneficiary", "desynpuf_pde")

# What `pbm seed synthetic --replace` cannot remove, because the ETL and the switch made it from the
# synthetic data: every claim of a synthetic cardholder (the night's claims batch, real-time claims and
# reversals, rejects of unknown synthetic cardholders that have no member_id), and the claims batches the
# ETL staged from synthetic claims feeds (every line a synthetic cardholder) with their ETL batches and
# rejects. Deleting the claims writes M3P ledger credits for program claims; --replace removes those.
RESET_SQL = """
CREATE TEMP TABLE _demo_old_batches ON COMMIT DROP AS
SELECT e.batch_id AS etl_batch_id, e.claims_batch_id
FROM etl.batches AS e
INNER JOIN claims.batches AS b ON e.claims_batch_id = b.batch_id
WHERE
    b.source = 'etl'
    AND NOT EXISTS (
        SELECT FROM claims.batch_claims AS bc
        WHERE bc.batch_id = b.batch_id AND bc.cardholder_id NOT LIKE 'SYN%'
    );

DELETE FROM claims.claims AS c
WHERE
    c.cardholder_id LIKE 'SYN%'
    OR c.batch_id IN (SELECT o.claims_batch_id FROM _demo_old_batches AS o);

DELETE FROM etl.rejects AS r
WHERE r.batch_id IN (SELECT o.etl_batch_id FROM _demo_old_batches AS o);

DELETE FROM etl.batches AS e
WHERE e.batch_id IN (SELECT o.etl_batch_id FROM _demo_old_batches AS o);

DELETE FROM claims.batch_claims AS bc
WHERE bc.batch_id IN (SELECT o.claims_batch_id FROM _demo_old_batches AS o);

DELETE FROM claims.batches AS b
WHERE b.batch_id IN (SELECT o.claims_batch_id FROM _demo_old_batches AS o);
"""

# The loads of earlier demo runs of the very same files (feed + SHA-256), so that tonight's run loads
# them again instead of reporting "already loaded": the demo replaces its data, it does not add to it.
FORGET_LOADS_SQL = """
WITH old AS (
    SELECT e.batch_id
    FROM etl.batches AS e
    WHERE (e.feed, e.file_sha256) IN (SELECT f.feed, f.sha256 FROM unnest(%s::text[], %s::text[]) AS f (feed, sha256))
        AND e.claims_batch_id IS NULL
),
gone AS (
    DELETE FROM etl.rejects AS r WHERE r.batch_id IN (SELECT o.batch_id FROM old AS o)
)
DELETE FROM etl.batches AS e WHERE e.batch_id IN (SELECT o.batch_id FROM old AS o)
"""

# Billing runs of the plan year (and later) whose statements are all gone: earlier demo runs' billing,
# whose statements `pbm seed synthetic --replace` removed with the synthetic members. Months are billed in
# order (ppp.run_billing refuses a month before one billed already), so they must go before the demo
# bills the year again. A run with statements of other members stays, and then the billing refuses.
FORGET_BILLING_SQL = """
DELETE FROM ppp.billing_runs AS b
WHERE
    b.billing_month >= make_date(%s, 1, 1)
    AND NOT EXISTS (SELECT FROM ppp.statements AS s WHERE s.run_id = b.run_id)
"""

# A paid claim of the night's batch to fill again as a new prescription on the last day of the year:
# preferably of an M3P participant (the response then shows the program amounts), of a fill whose supply
# ran out before that day (no refill-too-soon), the same one on every run (ordered by natural keys).
PAID_CANDIDATE_SQL = """
SELECT to_jsonb(bc) - 'batch_id' - 'line_no' AS request, (e.member_id IS NOT NULL) AS m3p
FROM claims.claims AS c
INNER JOIN claims.batch_claims AS bc ON c.batch_id = bc.batch_id AND c.batch_line_no = bc.line_no
LEFT JOIN ppp.elections AS e
    ON c.member_id = e.member_id AND e.plan_year = c.plan_year AND e.effective_date <= %(day)s
    AND (e.end_date IS NULL OR e.end_date >= %(day)s)
WHERE
    c.batch_id = %(batch)s AND c.transaction_response_status = 'P' AND c.reversed_by_claim_id IS NULL
    AND c.daw_code = 0 AND c.days_supply <= 30 AND c.patient_pay_amount > 0 AND c.total_amount_paid > 0
    AND NOT EXISTS (
        SELECT FROM claims.claims AS later
        WHERE later.member_id = c.member_id AND later.product_id = c.product_id
            AND later.date_of_service + later.days_supply > %(day)s - 30
    )
ORDER BY (e.member_id IS NOT NULL) DESC, c.cardholder_id, c.rx_number, c.fill_number
LIMIT 1
"""

# A claim of the night's batch rejected for prior authorization (else any reject), sent again as is.
REJECTED_CANDIDATE_SQL = """
SELECT to_jsonb(bc) - 'batch_id' - 'line_no' AS request
FROM claims.claims AS c
INNER JOIN claims.batch_claims AS bc ON c.batch_id = bc.batch_id AND c.batch_line_no = bc.line_no
WHERE c.batch_id = %(batch)s AND c.transaction_response_status = 'R'
ORDER BY ('75' = ANY(c.reject_codes)) DESC, cardinality(c.reject_codes) DESC, c.cardholder_id, c.rx_number
LIMIT 1
"""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reset(conn: psycopg.Connection) -> dict[str, int]:
    """Remove what earlier demo runs derived from the synthetic data (see RESET_SQL); commits."""
    counts = {}
    for statement in RESET_SQL.split(";\n"):
        if statement.strip():
            cur = conn.execute(statement)
            if statement.lstrip().startswith("DELETE FROM"):
                counts[statement.split()[2]] = cur.rowcount
    conn.commit()
    return counts


def forget_loads(conn: psycopg.Connection, files: list[tuple[str, Path]]) -> int:
    """Forget earlier loads of these exact master-data files (claims batches went in reset()); commits."""
    feeds = [feed for feed, _ in files]
    shas = [sha256_of(path) for _, path in files]
    n = conn.execute(FORGET_LOADS_SQL, [feeds, shas]).rowcount
    conn.commit()
    return n


def forget_billing(conn: psycopg.Connection, plan_year: int) -> int:
    """Remove the billing runs of earlier demo runs (FORGET_BILLING_SQL); commits."""
    n = conn.execute(FORGET_BILLING_SQL, [plan_year]).rowcount
    conn.commit()
    return n


def claims_batch_of(conn: psycopg.Connection, claims_file: Path) -> int | None:
    """The claims batch the ETL staged from this file (the newest load of its content)."""
    row = conn.execute(
        "SELECT claims_batch_id FROM etl.batches WHERE feed = 'claims' AND file_sha256 = %s "
        "AND claims_batch_id IS NOT NULL ORDER BY batch_id DESC LIMIT 1",
        [sha256_of(claims_file)],
    ).fetchone()
    return row[0] if row else None


@dataclass
class Scenario:
    """The real-time requests of the demo, in the order they are sent."""

    steps: list[tuple[str, str, dict]] = field(default_factory=list)  # (label, api function, request)


def real_time_scenario(conn: psycopg.Connection, batch_id: int, day: dt.date) -> Scenario:
    """A new paid claim, the same claim again (duplicate), a rejected claim, and the reversal of the paid one."""
    scenario = Scenario()
    paid = conn.execute(PAID_CANDIDATE_SQL, {"batch": batch_id, "day": day}).fetchone()
    if paid is not None:
        request, m3p = paid
        request = {k: v for k, v in request.items() if v is not None}
        request.update(
            date_of_service=day.isoformat(),
            date_prescription_written=day.isoformat(),
            rx_number="9" + str(request["rx_number"])[-8:].rjust(8, "0"),
            fill_number=0,
        )
        request.pop("prior_authorization_number_submitted", None)
        request.pop("submission_clarification_code", None)
        who = "an M3P participant's" if m3p else "a member's"
        scenario.steps.append((f"new prescription, {who} claim (B1)", "api.adjudicate", request))
        scenario.steps.append(("the same claim sent again (B1)", "api.adjudicate", request))
    rejected = conn.execute(REJECTED_CANDIDATE_SQL, {"batch": batch_id}).fetchone()
    if rejected is not None:
        request = {k: v for k, v in rejected[0].items() if v is not None}
        scenario.steps.append(("a claim the plan does not pay (B1)", "api.adjudicate", request))
    if paid is not None:
        original = scenario.steps[0][2]
        reversal = {
            k: original[k]
            for k in ("bin", "pcn", "group_id", "service_provider_id", "rx_number", "fill_number", "date_of_service")
        }
        scenario.steps.append(("the pharmacy reverses the first claim (B2)", "api.reverse", reversal))
    return scenario


def describe_response(response: dict) -> list[str]:
    """An NCPDP-style response as a few readable lines."""
    status = response.get("transaction_response_status")
    names = {"P": "paid", "R": "rejected", "D": "duplicate of a paid claim", "A": "reversal accepted"}
    head = f"status {status} ({names.get(status, '?')})"
    if response.get("authorization_number"):
        head += f", authorization {response['authorization_number']}"
    lines = [head]
    if status in ("P", "D"):
        lines.append(
            f"ingredient cost {_money(response.get('ingredient_cost_paid'))} + dispensing fee "
            f"{_money(response.get('dispensing_fee_paid'))} (priced by {response.get('pricing_source', '-')})"
            f"; plan pays {_money(response.get('total_amount_paid'))}, patient pays "
            f"{_money(response.get('patient_pay_amount'))}"
        )
        extra = []
        if response.get("benefit_phases"):
            extra.append("phase " + " + ".join(response["benefit_phases"]))
        if "remaining_deductible_amount" in response:
            extra.append(f"deductible left {_money(response.get('remaining_deductible_amount'))}")
        if "m3p_amount" in response:
            extra.append(
                f"M3P: {_money(response['m3p_amount'])} to the payment plan, the pharmacy collects "
                f"{_money(response.get('amount_collected_from_patient'))}"
            )
        if extra:
            lines.append("; ".join(extra))
    if status == "R":
        for m in response.get("reject_messages") or [{"code": c, "description": ""} for c in response["reject_codes"]]:
            lines.append(f"reject {m['code']}: {m.get('description', '')}")
    if status == "A" and response.get("reversal_of_authorization_number"):
        lines.append(f"reverses authorization {response['reversal_of_authorization_number']}")
    if response.get("additional_message"):
        lines.append(f"message: {response['additional_message']}")
    return lines


def _money(value) -> str:
    if value is None:
        return "-"
    return f"${Decimal(str(value)):,.2f}"


@dataclass
class Summary:
    feed_lines: int
    refused_at_door: int
    received: int
    paid: int
    rejected: int
    duplicates: int
    ingredient_cost: Decimal
    dispensing_fee: Decimal
    plan_paid: Decimal
    patient_pay: Decimal
    top_rejects: list[tuple[str, str, int]]
    real_time: dict[str, int]
    m3p_participants: int
    m3p_statements: int
    m3p_billed: Decimal

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        for k, v in d.items():
            if isinstance(v, Decimal):
                d[k] = str(v)
        d["top_rejects"] = [list(r) for r in self.top_rejects]
        return d

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)


def summary(conn: psycopg.Connection, batch_id: int, plan_year: int) -> Summary:
    """The night in numbers, read back from the database."""
    lines, refused = conn.execute(
        "SELECT rows_received, rows_rejected FROM etl.batches WHERE claims_batch_id = %s", [batch_id]
    ).fetchone()
    received, paid, rejected, duplicates, ingredient, fee, plan_paid, patient = conn.execute(
        """
        SELECT count(*),
            count(*) FILTER (WHERE transaction_response_status = 'P'),
            count(*) FILTER (WHERE transaction_response_status = 'R'),
            count(*) FILTER (WHERE transaction_response_status = 'D'),
            coalesce(sum(ingredient_cost_paid) FILTER (WHERE transaction_response_status = 'P'), 0),
            coalesce(sum(dispensing_fee_paid) FILTER (WHERE transaction_response_status = 'P'), 0),
            coalesce(sum(total_amount_paid) FILTER (WHERE transaction_response_status = 'P'), 0),
            coalesce(sum(patient_pay_amount) FILTER (WHERE transaction_response_status = 'P'), 0)
        FROM claims.claims
        WHERE batch_id = %s
        """,
        [batch_id],
    ).fetchone()
    top = conn.execute(
        "SELECT code, description, claims FROM claims.batch_reject_reasons WHERE batch_id = %s "
        "ORDER BY claims DESC, code LIMIT 5",
        [batch_id],
    ).fetchall()
    real_time = dict(
        conn.execute(
            "SELECT transaction_response_status, count(*) FROM claims.claims "
            "WHERE batch_id IS NULL AND cardholder_id LIKE 'SYN%' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    participants, statements, billed = conn.execute(
        """
        SELECT (SELECT count(DISTINCT e.member_id) FROM ppp.elections AS e WHERE e.plan_year = %(y)s),
            count(*), coalesce(sum(s.amount_billed), 0)
        FROM ppp.statements AS s
        WHERE s.plan_year = %(y)s
        """,
        {"y": plan_year},
    ).fetchone()
    return Summary(
        lines,
        refused,
        received,
        paid,
        rejected,
        duplicates,
        ingredient,
        fee,
        plan_paid,
        patient,
        [(str(c), d, int(n)) for c, d, n in top],
        {str(k): int(v) for k, v in real_time.items()},
        participants,
        statements,
        billed,
    )


def summary_lines(s: Summary) -> list[str]:
    def pct(n: int) -> str:
        return f"{100 * n / s.received:.1f}%" if s.received else "-"

    out = [
        f"claims feed           {s.feed_lines:>10,} lines, {s.refused_at_door:,} refused at the door "
        f"(pbm etl rejects), {s.received:,} adjudicated",
        f"claims received       {s.received:>10,} = {s.paid:,} paid + {s.rejected:,} rejected"
        + (f" + {s.duplicates:,} duplicates" if s.duplicates else ""),
        f"paid                  {s.paid:>10,} ({pct(s.paid)})",
        f"rejected              {s.rejected:>10,} ({pct(s.rejected)})",
        f"ingredient cost       {_money(s.ingredient_cost):>14}   paid claims, as allowed",
        f"dispensing fee        {_money(s.dispensing_fee):>14}",
        f"plan paid             {_money(s.plan_paid):>14}   = ingredient cost + dispensing fee - patient pay",
        f"patient pay           {_money(s.patient_pay):>14}",
        "top reject reasons (NCPDP 511-FB):",
    ]
    for code, description, n in s.top_rejects:
        out.append(f"  {code:<3} {description:<55} {n:>8,}")
    rt = ", ".join(f"{n} {status}" for status, n in sorted(s.real_time.items())) or "none"
    out += [
        f"real-time claims      {rt}   (P paid, D duplicate, R rejected, A reversal)",
        f"M3P participants      {s.m3p_participants:>10,}",
        f"M3P statements billed {s.m3p_statements:>10,} ({_money(s.m3p_billed)})",
    ]
    return out
