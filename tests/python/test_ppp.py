"""M3P from the command line and on generated data.

- `pbm ppp ...` and `pbm bench ppp`: help texts, one-line errors, a billing flow;
- ppp.monthly_bill against an independent Decimal implementation of the formula (hypothesis);
- invariants on seeded random data billed month by month through claims: for every participant the sum
  of bills (net of reversal credits) equals the out-of-pocket costs moved into the program, no bill above
  its cap, every December balance zero, each statement equal to the formula recomputed in Python, and
  ppp.check() clean.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from conftest import run_pbm
from hypothesis import given, settings
from hypothesis import strategies as st

CENT = Decimal("0.01")

FIXTURE = """
SET timezone = 'UTC';
SELECT set_config('pbm.effective_date', '2024-01-01', false);
INSERT INTO network.networks (network_code, name) VALUES ('PY-NET', 'pytest network');
INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
VALUES ('1234567893', '7654321', 'pytest pharmacy', '1 Main St', 'Austin', 'TX', '78701', 'retail');
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, contract_number, pbp_id, network_id)
SELECT 'PY-PD', 'pytest Part D', 'medicare_part_d', '610999', 'PYTEST', 'PYPD', 'S4321', '001', network_id
FROM network.networks WHERE network_code = 'PY-NET';
INSERT INTO member.members (cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city,
    state, zip5)
SELECT 'PY' || lpad(g::text, 6, '0'), 'Py', 'Test', DATE '1950-01-01', 'M', '1 Elm St', 'Austin', 'TX',
    '78701'
FROM generate_series(1, {n}) AS g;
INSERT INTO member.coverage_spans (member_id, plan_id, effective_date)
SELECT m.member_id, p.plan_id, DATE '2024-01-01' FROM member.members AS m, plan.plans AS p
WHERE p.plan_code = 'PY-PD' AND m.cardholder_id LIKE 'PY%';
"""

CLAIM = """
INSERT INTO claims.claims (
    transaction_code, received_at, date_of_service, member_id, plan_id, plan_year, pharmacy_id,
    transaction_response_status, ingredient_cost_paid, dispensing_fee_paid, total_amount_paid,
    patient_pay_amount, amount_applied_to_deductible, amount_of_copay, amount_of_coinsurance,
    amount_attributed_to_product_selection, stage_deductible_amount, stage_initial_amount,
    stage_catastrophic_amount, oop_delta, m3p_amount
)
SELECT 'B1', %(dos)s::date + time '10:00', %(dos)s::date, %(member)s::bigint, cs.plan_id, 2025,
    (SELECT pharmacy_id FROM network.pharmacies WHERE npi = '1234567893'), 'P',
    4 * %(pay)s::numeric, 0, 3 * %(pay)s::numeric, %(pay)s::numeric, 0, 0, %(pay)s::numeric, 0, 0,
    4 * %(pay)s::numeric, 0, %(pay)s::numeric, %(m3p)s::numeric
FROM member.coverage_spans AS cs WHERE cs.member_id = %(member)s::bigint
RETURNING claim_id
"""

REVERSAL = """
WITH b2 AS (
    INSERT INTO claims.claims (transaction_code, received_at, date_of_service, member_id, plan_id, plan_year,
        pharmacy_id, transaction_response_status, reversal_of_claim_id, oop_delta)
    SELECT 'B2', %(at)s, o.date_of_service, o.member_id, o.plan_id, o.plan_year, o.pharmacy_id, 'A',
        o.claim_id, -o.oop_delta
    FROM claims.claims AS o WHERE o.claim_id = %(claim)s
    RETURNING claim_id
)
UPDATE claims.claims AS o SET reversed_by_claim_id = b2.claim_id, reversed_at = %(at)s
FROM b2 WHERE o.claim_id = %(claim)s
"""


PARTICIPATING = """
SELECT exists(
    SELECT 1 FROM ppp.elections
    WHERE member_id = %(member)s AND effective_date <= %(dos)s::date
        AND coalesce(end_date, DATE '2025-12-31') >= %(dos)s::date
)
"""


def connect(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("SET timezone = 'UTC'")
    return conn


def setup_members(conn: psycopg.Connection, n: int) -> list[int]:
    conn.execute(FIXTURE.format(n=n))
    return [
        r[0]
        for r in conn.execute("SELECT member_id FROM member.members WHERE cardholder_id LIKE 'PY%' ORDER BY member_id")
    ]


def q(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def reference_bill(t, incurred, balance, oop, month, first):
    """The formula of m3p-rules.md 1.4, written independently of the SQL (Decimal, half up)."""
    months = 13 - month
    owed = balance + oop
    if first:
        cap = q(max(t - incurred, Decimal(0)) / months)
        billed = max(min(owed, cap), Decimal(0))
    else:
        cap = max(q(owed / months), Decimal(0))
        billed = cap
    return cap, billed, owed - billed


# ---------------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------------
COMMANDS = [
    ["ppp"],
    ["ppp", "bill"],
    ["ppp", "past-due"],
    ["ppp", "renew"],
    ["ppp", "outreach"],
    ["ppp", "statements"],
    ["bench", "ppp"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_ends_with_an_example(command):
    result = run_pbm(*command, "--help")
    assert result.returncode == 0, result.stderr
    description = result.stdout.split("\nOptions:")[0].rstrip()
    block = description[description.rindex("Example:") :].splitlines()
    assert block[0] == "Example:" and len(block) > 1
    assert all(line.strip().startswith("pbm ") for line in block[1:]), block


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ppp", "bill", "--month", "2025-13"], "error: --month must be YYYY-MM"),
        (["ppp", "bill", "--month", "2025-03", "--run-date", "2025-03-15"], "before it is over"),
        (["ppp", "bill", "--month", "2025-03", "--run-date", "someday"], "error: --run-date must be a date"),
        (["ppp", "renew", "--year", "2025", "--as-of", "2024-12-10"], "automatic M3P renewal starts with"),
        (["ppp", "outreach", "--year", "2025"], "outreach list starts with plan year 2026"),
        (["ppp", "statements", "--member", "-7"], "error: member -7 has no M3P statement"),
        (["bench", "ppp", "--participants", "0"], "error: --participants must be"),
    ],
)
def test_bad_input_is_one_line_and_fails(db, args, message):
    result = run_pbm(*args, dsn=db)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_monthly_bill_flow_from_the_command_line(fresh_db):
    with connect(fresh_db) as conn:
        members = setup_members(conn, 3)
        for member in members:
            conn.execute("SELECT api.ppp_elect(%s, 'mail', '2024-12-10 10:00+00', 2025)", [member])
        # 2,000 / 500 / nothing in January: billed 166.67 (E1), 166.67 (E2's first month), 0.
        for member, pay in zip(members, ("2000.00", "500.00"), strict=False):
            conn.execute(CLAIM, {"dos": "2025-01-10", "member": member, "pay": pay, "m3p": pay})

    first = run_pbm("ppp", "bill", "--month", "2025-01", "--run-date", "2025-02-01", dsn=fresh_db)
    assert first.returncode == 0, first.stderr
    assert "past due as of 2025-02-01: 0 notice(s)" in first.stdout
    assert "billed 2025-01" in first.stdout and "3 statement(s), 3 participant(s), $333.34 billed" in first.stdout

    again = run_pbm("ppp", "bill", "--month", "2025-01", "--run-date", "2025-02-02", dsn=fresh_db)
    assert again.returncode == 0, again.stderr
    assert "0 statement(s), 0 participant(s), $0.00 billed" in again.stdout

    history = run_pbm("ppp", "statements", "--member", str(members[1]), dsn=fresh_db)
    assert history.returncode == 0, history.stderr
    assert history.stdout.splitlines()[1].split()[:7] == [
        "2025-01",
        "500.00",
        "12",
        "166.67",
        "166.67",
        "333.33",
        "0.00",
    ]

    past_due = run_pbm("ppp", "past-due", "--as-of", "2025-03-01", dsn=fresh_db)
    assert "2 notice(s) sent, 0 terminated" in past_due.stdout, past_due.stdout

    renewed = run_pbm("ppp", "renew", "--year", "2026", "--as-of", "2025-12-10", dsn=fresh_db)
    assert renewed.returncode == 0 and "renewed 3 election(s) into 2026" in renewed.stdout

    outreach = run_pbm("ppp", "outreach", "--year", "2026", dsn=fresh_db)
    assert outreach.stdout.splitlines() == ["member_id,plan_id,prior_year_oop,threshold"]


def test_bench_runs_small(fresh_db):
    result = run_pbm("bench", "ppp", "--participants", "300", dsn=fresh_db)
    assert result.returncode == 0, result.stderr
    assert "billed 2025-02: 300 statements (300 participants)" in result.stdout
    assert "result: one month for 300 participants billed in" in result.stdout


# ---------------------------------------------------------------------------------------------------
# the formula against an independent implementation
# ---------------------------------------------------------------------------------------------------
money = st.decimals(min_value=0, max_value=2100, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(
    threshold=st.sampled_from([Decimal("2000.00"), Decimal("2100.00")]),
    incurred=money,
    first_month=st.integers(min_value=1, max_value=12),
    costs=st.lists(money, min_size=12, max_size=12),
)
def test_monthly_bill_matches_the_formula(db, threshold, incurred, first_month, costs):
    with connect(db) as conn:
        balance = Decimal(0)
        for month in range(first_month, 13):
            oop = costs[month - 1]
            first = month == first_month
            got = conn.execute(
                "SELECT * FROM ppp.monthly_bill(%s, %s, %s, %s, %s, %s)",
                [threshold, incurred, balance, oop, month, first],
            ).fetchone()
            want = reference_bill(threshold, incurred, balance, oop, month, first)
            assert tuple(got) == want, (month, got, want)
            assert got[1] <= got[0]
            balance = got[2]
        assert balance == 0 or (first_month == 12 and balance > 0)


# ---------------------------------------------------------------------------------------------------
# invariants on generated data
# ---------------------------------------------------------------------------------------------------
def month_end(month: int) -> dt.date:
    return (dt.date(2025, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def run_date(month: int) -> dt.date:
    return dt.date(2025 + month // 12, month % 12 + 1, 1)


def generate_and_bill(conn: psycopg.Connection, seed: int, n: int = 40) -> None:
    """Random participants billed month by month; claims, reversals (some after billing), opt-outs and
    payments happen between the runs, as they would between two monthly billing runs."""
    rng = random.Random(seed)
    members = setup_members(conn, n)
    threshold = Decimal("2000.00")
    plan = {}
    for member in members:
        start = rng.choice([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])  # 0: elected before the year
        plan[member] = {"start": start, "incurred": Decimal(0), "claims": [], "opt_out": None}
        if start == 0:
            conn.execute("SELECT api.ppp_elect(%s, 'mail', '2024-12-10 10:00+00', 2025)", [member])
        if start and rng.random() < 0.3:
            plan[member]["opt_out"] = rng.randint(start, 12)
        elif not start and rng.random() < 0.2:
            plan[member]["opt_out"] = rng.randint(1, 12)
    for month in range(1, 13):
        for member in members:
            p = plan[member]
            if p["start"] == month:
                conn.execute(
                    "SELECT api.ppp_elect(%s, 'phone', %s::timestamptz)",
                    [member, f"2025-{month:02d}-03 09:00+00"],
                )
            # An opt-out arrives on the 15th: claims after it are paid at the pharmacy.
            if p["opt_out"] == month:
                active = conn.execute(
                    "SELECT count(*) FROM ppp.elections WHERE member_id = %s AND status = 'active'", [member]
                ).fetchone()[0]
                if active:
                    conn.execute(
                        "SELECT api.ppp_opt_out(%s, %s::timestamptz)",
                        [member, f"2025-{month:02d}-15 12:00+00"],
                    )
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                room = threshold - p["incurred"]
                if room <= 0:
                    break
                pay = min(room, Decimal(rng.randint(100, 60000)) / 100)
                dos = dt.date(2025, month, rng.randint(4, 27))
                # As adjudication does: in the program when the date of service is in a participation period.
                in_program = conn.execute(PARTICIPATING, {"member": member, "dos": dos}).fetchone()[0]
                claim = conn.execute(
                    CLAIM, {"dos": dos, "member": member, "pay": pay, "m3p": pay if in_program else 0}
                ).fetchone()[0]
                p["incurred"] += pay
                if in_program:
                    p["claims"].append(claim)
        conn.execute("SELECT * FROM ppp.process_past_due(%s)", [run_date(month)])
        conn.execute("SELECT * FROM ppp.run_billing(%s, %s)", [dt.date(2025, month, 1), run_date(month)])
        # Between runs: some program claims are reversed (also ones billed long ago), some bills paid.
        for member in members:
            p = plan[member]
            if p["claims"] and rng.random() < 0.15:
                claim = p["claims"].pop(rng.randrange(len(p["claims"])))
                conn.execute(REVERSAL, {"claim": claim, "at": run_date(month)})
            if rng.random() < 0.5:
                owed = conn.execute(
                    "SELECT coalesce(sum(amount_billed - amount_settled), 0) FROM ppp.statements "
                    "WHERE member_id = %s AND settled_on IS NULL",
                    [member],
                ).fetchone()[0]
                if owed > 0:
                    amount = owed if rng.random() < 0.7 else owed + Decimal(rng.randint(1, 5000)) / 100
                    conn.execute(
                        "SELECT api.ppp_record_payment(%s, %s, %s, 'ach')",
                        [member, amount, run_date(month) + dt.timedelta(days=5)],
                    )
    # Reversals after December was billed are settled by the next run (January 2026).
    conn.execute("SELECT * FROM ppp.run_billing('2026-01-01', '2026-02-01')")


@pytest.mark.parametrize("seed", [11, 23, 47])
def test_invariants_on_generated_data(fresh_db, seed):
    with connect(fresh_db) as conn:
        generate_and_bill(conn, seed)

        mismatched = conn.execute(
            """
            WITH program AS (
                SELECT member_id, sum(m3p_amount) AS incurred FROM claims.claims
                WHERE transaction_code = 'B1' AND transaction_response_status = 'P'
                    AND reversed_by_claim_id IS NULL AND m3p_amount > 0
                GROUP BY member_id
            ),
            billed AS (
                SELECT member_id, sum(amount_billed) - sum(credit_amount) AS net_billed
                FROM ppp.statements WHERE plan_year = 2025 GROUP BY member_id
            )
            SELECT coalesce(p.member_id, b.member_id), p.incurred, b.net_billed
            FROM program AS p FULL JOIN billed AS b ON b.member_id = p.member_id
            WHERE coalesce(p.incurred, 0) <> coalesce(b.net_billed, 0)
            """
        ).fetchall()
        assert mismatched == [], "sum of bills (net of credits) != out-of-pocket costs while participating"

        assert (
            conn.execute("SELECT count(*) FROM ppp.statements WHERE amount_billed > max_monthly_cap").fetchone()[0] == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM ppp.statements WHERE billing_month = '2025-12-01' AND balance_after <> 0"
            ).fetchone()[0]
            == 0
        ), "every December balance is zero"
        assert conn.execute("SELECT count(*) FROM ppp.unbilled").fetchone()[0] == 0
        assert conn.execute("SELECT * FROM ppp.check()").fetchall() == []

        # Every statement is the formula applied to its inputs, each chained on the previous one.
        rows = conn.execute(
            "SELECT member_id, plan_year, billing_month, first_month, oop_threshold, "
            "incurred_before_election, balance_before, oop_this_month, month_of_year, max_monthly_cap, "
            "amount_billed, credit_amount, "
            "balance_after FROM ppp.statements ORDER BY member_id, plan_year, billing_month"
        ).fetchall()
        previous = {}
        for member, year, _month, first, t, incurred, before, oop, moy, cap, billed, credit, after in rows:
            assert before == previous.get((member, year), Decimal(0))
            assert first == ((member, year) not in previous)
            want_cap, want_billed, want_after = reference_bill(t, incurred or 0, before, oop, moy, first)
            assert (cap, billed) == (want_cap, want_billed)
            assert (after, credit) == (max(want_after, Decimal(0)), max(-want_after, Decimal(0)))
            previous[(member, year)] = after
        assert len(previous) > 10


def test_generated_data_covers_the_interesting_cases(fresh_db):
    with connect(fresh_db) as conn:
        generate_and_bill(conn, 5)
        counts = conn.execute(
            """
            SELECT
                (SELECT count(*) FROM ppp.statements WHERE oop_this_month < 0),
                (SELECT count(*) FROM ppp.statements WHERE credit_amount > 0),
                (SELECT count(*) FROM ppp.statements WHERE NOT participating),
                (SELECT count(*) FROM ppp.statements WHERE first_month AND incurred_before_election > 0),
                (SELECT count(*) FROM ppp.statements WHERE plan_year = 2025 AND billing_month = '2026-01-01'),
                (SELECT count(*) FROM ppp.elections WHERE status = 'terminated'),
                (SELECT count(*) FROM ppp.elections WHERE status = 'opted_out'),
                (SELECT count(*) FROM ppp.refunds),
                (SELECT count(*) FROM ppp.statements WHERE past_due_notice_on IS NOT NULL
                    AND settled_on IS NOT NULL)
            """
        ).fetchone()
    names = (
        "reversal posted after billing",
        "reversal credit",
        "billed after participation ended",
        "first month with costs before the election",
        "late costs billed after December",
        "terminated for failure to pay",
        "opted out",
        "refund",
        "paid within the grace period",
    )
    print(dict(zip(names, counts, strict=True)))
    assert all(counts[:4]) and all(counts[5:]), dict(zip(names, counts, strict=True))
