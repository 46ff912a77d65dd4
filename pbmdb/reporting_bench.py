"""`pbm bench reports`: the dashboard reports on synthetic claims, in a database of their own.

The data is generated set-based (INSERT ... SELECT generate_series), already adjudicated: every claim
satisfies the constraints of claims.claims (amounts that add up, reject codes on rejects), so the
reporting refresh and the reports see what adjudication would have written. Drug popularity, pharmacy
volume and member utilization are skewed (a few drugs and pharmacies carry most claims) as in real data.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Callable
from string import Template

import click
import psycopg
from psycopg import sql

from pbmdb import reporting as rpt
from pbmdb.db import connect
from pbmdb.scratch import scratch_database

TARGET_MS = 100.0
DROP_DATABASE = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
PLANS = 10
DRUG_GROUPS = 1000  # each: one multi-source brand (O) and two generics (Y); plus single-source brands
SINGLE_SOURCE_BRANDS = 200
PHARMACIES = 2000
CLASSES = 40

SETUP_SQL = """
INSERT INTO network.networks (network_code, name) VALUES ('BENCH-NET', 'Benchmark network');

INSERT INTO plan.formularies (formulary_code, name)
SELECT format('BENCH-F%s', g), format('Benchmark formulary %s', g) FROM generate_series(1, ${plans}) AS g;

INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, contract_number, pbp_id, network_id)
SELECT
    format('BENCH-%s', g),
    format('Benchmark plan %s', g),
    CASE WHEN g % 2 = 0 THEN 'medicare_part_d' ELSE 'commercial' END,
    '998' || lpad(g::text, 3, '0'),
    'BENCH',
    format('G%s', g),
    CASE WHEN g % 2 = 0 THEN 'H' || lpad(g::text, 4, '0') END,
    CASE WHEN g % 2 = 0 THEN '001' END,
    n.network_id
FROM generate_series(1, ${plans}) AS g
CROSS JOIN network.networks AS n
WHERE n.network_code = 'BENCH-NET';

INSERT INTO plan.benefit_designs (plan_id, plan_year, formulary_id, deductible, oop_max)
SELECT p.plan_id, y, f.formulary_id, 0, 5000
FROM plan.plans AS p
INNER JOIN plan.formularies AS f ON f.formulary_code = replace(p.plan_code, 'BENCH-', 'BENCH-F')
CROSS JOIN generate_series(${first_year}, ${last_year}) AS y
WHERE p.plan_code LIKE 'BENCH-%';

-- Drug i: groups 0..G-1 hold NDC 3g+1 (brand, O) and 3g+2, 3g+3 (generics, Y); then single-source brands.
INSERT INTO drug.drugs (
    ndc11, drug_name, generic_name, strength, dosage_form, multi_source_code, therapeutic_class, drug_group,
    dea_schedule
)
SELECT
    '5' || lpad(i::text, 10, '0'),
    CASE WHEN kind = 'Y' THEN format('GENERIC %s', grp) ELSE format('BRAND %s', grp) END,
    format('ingredient %s', grp),
    format('%s MG', 5 * (1 + grp % 20)),
    'TABLET',
    kind,
    format('CLASS %s', grp % ${classes}),
    format('GROUP %s', grp),
    CASE WHEN grp % 20 = 7 THEN 2 ELSE 0 END
FROM (
    SELECT
        i,
        CASE WHEN i <= 3 * ${groups} THEN (i - 1) / 3 ELSE ${groups} + i - 3 * ${groups} END AS grp,
        CASE WHEN i > 3 * ${groups} THEN 'N' WHEN (i - 1) % 3 = 0 THEN 'O' ELSE 'Y' END AS kind
    FROM generate_series(1, 3 * ${groups} + ${single}) AS i
) AS d;

-- Every formulary lists 95 % of the drugs: generics tier 1, multi-source brands 3, single-source 4.
INSERT INTO plan.formulary_entries (formulary_id, ndc11, tier, effective_date)
SELECT
    f.formulary_id,
    d.ndc11,
    CASE d.multi_source_code WHEN 'Y' THEN 1 WHEN 'O' THEN 3 ELSE 4 END,
    make_date(${first_year}, 1, 1)
FROM plan.formularies AS f
CROSS JOIN drug.drugs AS d
WHERE f.formulary_code LIKE 'BENCH-F%' AND (hashtext(f.formulary_code || d.ndc11) & 1023) > 50;

INSERT INTO member.members (
    cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5
)
SELECT
    'BM' || lpad(g::text, 9, '0'),
    'First',
    'Last',
    make_date(1935 + g % 85, 1 + g % 12, 1 + g % 28),
    CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END,
    format('%s Elm St', g),
    'Springfield',
    (ARRAY['IL', 'TX', 'CA', 'NY', 'FL', 'OH', 'PA', 'GA'])[1 + g % 8],
    lpad((10000 + (g::bigint * 7919) % 89999)::text, 5, '0')
FROM generate_series(1, ${members}) AS g;

INSERT INTO member.coverage_spans (member_id, plan_id, effective_date)
SELECT m.member_id, p.plan_ids[1 + m.member_id % ${plans}], '${start}'::date
FROM member.members AS m
CROSS JOIN (
    SELECT array_agg(plan_id ORDER BY plan_id) AS plan_ids FROM plan.plans WHERE plan_code LIKE 'BENCH-%'
) AS p
WHERE m.cardholder_id LIKE 'BM%';
"""

# The pharmacies, with NPIs made in Python (check digits), as query parameters.
PHARMACIES_SQL = """
INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
SELECT
    n.npi,
    lpad(n.g::text, 7, '0'),
    'Pharmacy ' || n.g,
    n.g || ' Main St',
    'Springfield',
    'IL',
    lpad((62700 + n.g %% 100)::text, 5, '0'),
    CASE WHEN n.g %% 20 = 0 THEN 'specialty' WHEN n.g %% 10 = 0 THEN 'mail' ELSE 'retail' END
FROM unnest(%(npis)s::text[]) WITH ORDINALITY AS n (npi, g)
"""

# One month of claims: member, drug and pharmacy drawn with skew; 7 % rejected (a tenth with two codes),
# the rest paid with amounts that satisfy every claims constraint.
CLAIMS_SQL = """
WITH ids AS (
    SELECT
        (SELECT min(member_id) FROM member.members WHERE cardholder_id LIKE 'BM%') AS first_member,
        (SELECT min(pharmacy_id) FROM network.pharmacies WHERE npi = '${first_npi}') AS first_pharmacy,
        (
            SELECT array_agg(plan_id ORDER BY plan_id) FROM plan.plans WHERE plan_code LIKE 'BENCH-%'
        ) AS plan_ids
),
draws AS (
    SELECT
        g,
        '${month}'::date + floor(random() * ${days})::int AS dos,
        floor(${members} * power(random(), 1.3))::int AS member_no,
        1 + floor((3 * ${groups} + ${single}) * power(random(), 3))::int AS drug_no,
        floor(${pharmacies} * power(random(), 2))::int AS pharmacy_no,
        (ARRAY[30, 30, 30, 60, 90])[1 + floor(random() * 5)::int] AS quantity,
        random() AS r_status,
        random() AS r_price
    FROM generate_series(1, ${count}) AS g
),
claims AS (
    SELECT
        d.*,
        i.first_member + d.member_no AS member_id,
        i.plan_ids[1 + (i.first_member + d.member_no) % ${plans}] AS plan_id,
        i.first_pharmacy + d.pharmacy_no AS pharmacy_id,
        '5' || lpad(d.drug_no::text, 10, '0') AS ndc11,
        CASE
            WHEN d.drug_no > 3 * ${groups} THEN 'N' WHEN (d.drug_no - 1) % 3 = 0 THEN 'O' ELSE 'Y'
        END AS kind
    FROM draws AS d
    CROSS JOIN ids AS i
),
priced AS (
    SELECT
        c.*,
        greatest(round(
            c.quantity * CASE c.kind
                WHEN 'Y' THEN 0.05 + (c.drug_no % 37) * 0.04
                WHEN 'O' THEN 2 + (c.drug_no % 41) * 0.5
                ELSE 10 + (c.drug_no % 43) * 2
            END * (0.95 + 0.1 * c.r_price::numeric) + 1.00, 2), 1.50) AS gross,
        CASE c.kind WHEN 'Y' THEN 10.00 ELSE 40.00 END AS copay
    FROM claims AS c
)
INSERT INTO claims.claims (
    transaction_code, date_of_service, cardholder_id, service_provider_id, prescriber_id, product_id,
    quantity_dispensed, days_supply, fill_number, daw_code, rx_number, member_id, plan_id, plan_year,
    pharmacy_id, tier, transaction_response_status, reject_codes, ingredient_cost_paid, dispensing_fee_paid,
    total_amount_paid, pricing_source, patient_pay_amount, amount_applied_to_deductible, amount_of_copay,
    amount_of_coinsurance, amount_attributed_to_product_selection, stage_deductible_amount,
    stage_initial_amount, stage_catastrophic_amount
)
SELECT
    'B1', p.dos, 'BM', '0000000000', '1234567893', p.ndc11, p.quantity,
    CASE WHEN p.quantity = 90 THEN 90 ELSE 30 END, 0,
    CASE WHEN p.kind = 'O' AND p.r_price < 0.1 THEN 2 ELSE 0 END, '${rx_prefix}' || p.g, p.member_id,
    p.plan_id,
    extract(YEAR FROM p.dos), p.pharmacy_id, CASE p.kind WHEN 'Y' THEN 1 WHEN 'O' THEN 3 ELSE 4 END,
    CASE WHEN p.r_status < 0.07 THEN 'R' ELSE 'P' END,
    CASE
        WHEN p.r_status >= 0.07 THEN '{}'::varchar(3)[]
        WHEN p.r_status < 0.007 THEN ARRAY['75', '76']::varchar(3)[]
        ELSE ARRAY[
            (ARRAY['75', '76', '79', 'MR', '70', '65', '88', '25'])[1 + floor(p.r_status * 8 / 0.07)::int]
        ]::varchar(3)[]
    END,
    CASE WHEN p.r_status >= 0.07 THEN p.gross - 1.00 END,
    CASE WHEN p.r_status >= 0.07 THEN 1.00 END,
    CASE WHEN p.r_status >= 0.07 THEN p.gross - least(p.copay, p.gross) END,
    CASE WHEN p.r_status >= 0.07 THEN 'AWP' END,
    CASE WHEN p.r_status >= 0.07 THEN least(p.copay, p.gross) END,
    CASE WHEN p.r_status >= 0.07 THEN 0 END,
    CASE WHEN p.r_status >= 0.07 THEN least(p.copay, p.gross) END,
    CASE WHEN p.r_status >= 0.07 THEN 0 END,
    CASE WHEN p.r_status >= 0.07 THEN 0 END,
    CASE WHEN p.r_status >= 0.07 THEN 0 END,
    CASE WHEN p.r_status >= 0.07 THEN p.gross END,
    CASE WHEN p.r_status >= 0.07 THEN 0 END
FROM priced AS p
"""

# Half a percent of the paid claims reversed a few days later (an accepted B2 each, linked both ways).
REVERSALS_SQL = """
WITH reversed AS (
    INSERT INTO claims.claims (
        transaction_code, received_at, date_of_service, cardholder_id, service_provider_id, product_id,
        rx_number, fill_number, member_id, plan_id, plan_year, pharmacy_id, transaction_response_status,
        reversal_of_claim_id
    )
    SELECT 'B2', c.date_of_service + 3, c.date_of_service, c.cardholder_id, c.service_provider_id,
        c.product_id, c.rx_number, c.fill_number, c.member_id, c.plan_id, c.plan_year, c.pharmacy_id, 'A',
        c.claim_id
    FROM claims.claims AS c
    WHERE c.transaction_response_status = 'P' AND c.claim_id % 200 = 0 AND c.reversed_by_claim_id IS NULL
    RETURNING claim_id, reversal_of_claim_id, date_of_service
)
UPDATE claims.claims AS c
SET reversed_by_claim_id = r.claim_id, reversed_at = r.date_of_service + 3
FROM reversed AS r
WHERE c.claim_id = r.reversal_of_claim_id AND c.date_of_service = r.date_of_service
"""

OTHER_SQL = """
INSERT INTO claims.prior_authorizations (
    pa_number, member_id, drug_group, urgency, status, received_at, due_at, decided_at, decision_reason,
    effective_date, expiration_date
)
SELECT
    'BPA' || lpad(g::text, 8, '0'),
    m.first_member + (g::bigint * 7919) % ${members},
    format('GROUP %s', g % ${groups}),
    CASE WHEN g % 5 = 0 THEN 'expedited' ELSE 'standard' END,
    CASE WHEN s.decided IS NULL THEN 'in_review' WHEN g % 4 = 0 THEN 'denied' ELSE 'approved' END,
    s.received,
    s.received + CASE WHEN g % 5 = 0 THEN interval '24 hours' ELSE interval '72 hours' END,
    s.decided,
    CASE WHEN s.decided IS NOT NULL AND g % 4 = 0 THEN 'criteria not met' END,
    CASE WHEN s.decided IS NOT NULL AND g % 4 <> 0 THEN s.received::date END,
    CASE WHEN s.decided IS NOT NULL AND g % 4 <> 0 THEN s.received::date + 365 END
FROM generate_series(1, ${pas}) AS g
CROSS JOIN (SELECT min(member_id) AS first_member FROM member.members WHERE cardholder_id LIKE 'BM%') AS m
CROSS JOIN LATERAL (
    SELECT
        '${start}'::timestamptz
        + (random() * ('${end}'::date - '${start}'::date)) * interval '1 day' AS received,
        random() AS r
) AS r0
CROSS JOIN LATERAL (
    SELECT
        r0.received,
        CASE WHEN r0.r < 0.97 THEN r0.received + r0.r * interval '100 hours' END AS decided
) AS s;

INSERT INTO ppp.elections (member_id, plan_year, source, received_at, effective_date, end_date, status)
SELECT
    m.member_id,
    y,
    'web',
    make_date(y, 1 + (m.member_id % 6)::integer, 1) - 1,
    make_date(y, 1 + (m.member_id % 6)::integer, 1),
    CASE WHEN m.member_id % 10 = 0 THEN make_date(y, 9, 30) ELSE make_date(y, 12, 31) END,
    CASE WHEN m.member_id % 10 = 0 THEN 'opted_out' ELSE 'active' END
FROM member.members AS m
CROSS JOIN generate_series(greatest(${first_year}, 2025), ${last_year}) AS y
WHERE m.cardholder_id LIKE 'BM%' AND m.member_id % 97 = 0;
"""


def _npis(count: int) -> list[str]:
    """count valid NPIs (Luhn check digit over the 80840 prefix)."""

    def check_digit(base9: str) -> str:
        total = 0
        for i, ch in enumerate(reversed("80840" + base9)):
            d = int(ch)
            if i % 2 == 0:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        return str((10 - total % 10) % 10)

    return [(base := f"19{n:07d}") + check_digit(base) for n in range(1, count + 1)]


def _scan_nodes(plan: dict) -> list[tuple[str, str]]:
    out = []
    stack = [plan["Plan"]]
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            out.append((node["Node Type"], node["Relation Name"]))
        stack.extend(node.get("Plans", []))
    return out


def _is_claims_table(relation: str) -> bool:
    return relation in ("claims", "claims_default", "fact_claims") or relation.startswith("claims_y")


def _step(echo: Callable[[str], None], label: str, started: float) -> float:
    now = time.perf_counter()
    echo(f"  {label:<58} {now - started:8.1f} s")
    return now


def run(dsn: str, *, claims: int, members: int, months: int, runs: int, keep: bool) -> tuple[bool, float]:
    echo = click.echo
    echo(f"benchmark: {claims:,} claims, {members:,} members, {months} months")
    ok = True
    started = time.perf_counter()
    with scratch_database(dsn, "bench_reports", echo, keep=keep) as bench_dsn:
        t = _step(echo, "migrated", started)
        with connect(bench_dsn, autocommit=True, phi_key=False) as conn:
            first = conn.execute(
                "SELECT (date_trunc('month', current_date) - make_interval(months => %s))::date", [months]
            ).fetchone()[0]
            end = conn.execute("SELECT date_trunc('month', current_date)::date").fetchone()[0]
            conn.execute("SELECT claims.create_month_partitions(%s, %s)", [first, end])
            params = {
                "plans": PLANS,
                "groups": DRUG_GROUPS,
                "single": SINGLE_SOURCE_BRANDS,
                "classes": CLASSES,
                "members": members,
                "pharmacies": PHARMACIES,
                "start": first.isoformat(),
                "end": end.isoformat(),
                "first_year": first.year,
                "last_year": end.year,
                "pas": max(claims // 100, 100),
            }
            npis = _npis(PHARMACIES)
            with conn.transaction():
                conn.execute(Template(SETUP_SQL).substitute(params))
                conn.execute(PHARMACIES_SQL, {"npis": npis})
            drugs = 3 * DRUG_GROUPS + SINGLE_SOURCE_BRANDS
            t = _step(echo, f"plans, {drugs:,} drugs, pharmacies, members", t)
            month_starts = [
                row[0]
                for row in conn.execute(
                    "SELECT g::date FROM generate_series(%s::date, %s::date - 1, interval '1 month') AS g",
                    [first, end],
                ).fetchall()
            ]
            per_month = claims // len(month_starts)

            def add_claims(month: dt.date, days: int, count: int, prefix: str) -> None:
                conn.execute(
                    Template(CLAIMS_SQL).substitute(
                        params,
                        month=month.isoformat(),
                        days=days,
                        count=count,
                        first_npi=npis[0],
                        rx_prefix=prefix,
                    )
                )

            with click.progressbar(month_starts, label="  claims by month", show_pos=True) as bar:
                for i, month in enumerate(bar):
                    days = ((month + dt.timedelta(days=32)).replace(day=1) - month).days
                    count = per_month + (claims - per_month * len(month_starts) if i == 0 else 0)
                    add_claims(month, days, count, f"{i:02d}")
            t = _step(echo, f"{claims:,} B1 claims", t)
            conn.execute(REVERSALS_SQL)
            conn.execute(Template(OTHER_SQL).substitute(params))
            t = _step(echo, "reversals, prior authorizations, M3P elections", t)
            conn.execute("VACUUM ANALYZE")
            t = _step(echo, "VACUUM ANALYZE", t)
            size = conn.execute(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
                "WHERE inhparent = 'claims.claims'::regclass"
            ).fetchone()[0]
            echo(f"  claims.claims: {size}")

            echo("full refresh (reporting.refresh(true)):")
            steps = conn.execute("SELECT * FROM reporting.refresh(TRUE)").fetchall()
            for step, rows, seconds in steps:
                echo(f"    {step:<54} {'' if rows is None else f'{rows:,}':>12} {seconds:>9} s")
            conn.execute("VACUUM ANALYZE reporting.fact_claims")
            mv_size = conn.execute(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
                "WHERE c.relnamespace = 'reporting'::regnamespace AND c.relkind IN ('m', 'r')"
            ).fetchone()[0]
            echo(f"  reporting (fact and materialized views): {mv_size}")

            # A day of new claims in the last month: the nightly refresh rebuilds that month only.
            add_claims(month_starts[-1], 1, max(per_month // 30, 1), "NX")
            started = time.perf_counter()
            steps = conn.execute("SELECT * FROM reporting.refresh()").fetchall()
            echo(
                f"incremental refresh after one more day of claims: {time.perf_counter() - started:.1f} s "
                f"({steps[1][0]})"
            )

            echo(f"reports (default parameters, {runs} timed runs after one warm-up):")
            echo(f"  {'report':<30} {'rows':>6} {'median ms':>10} {'max ms':>8}  claims scanned?")
            results = []
            for report in rpt.list_reports():
                query = report.sql()
                values = report.bind({})
                with psycopg.ClientCursor(conn) as cur:
                    cur.execute("EXPLAIN (FORMAT JSON) " + query, values)
                    plan = cur.fetchone()[0]
                    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                    scans = [f"{n} on {r}" for n, r in _scan_nodes(plan) if _is_claims_table(r)]
                    cur.execute(query, values)
                    rows = len(cur.fetchall())
                    times = []
                    for _ in range(runs):
                        t0 = time.perf_counter()
                        cur.execute(query, values)
                        cur.fetchall()
                        times.append((time.perf_counter() - t0) * 1000)
                median, worst = statistics.median(times), max(times)
                good = median <= TARGET_MS and not scans
                ok &= good
                results.append((report.name, rows, median, worst, scans))
                echo(
                    f"  {report.name:<30} {rows:>6} {median:>10.1f} {worst:>8.1f}  "
                    f"{', '.join(scans) if scans else 'no'}{'' if good else '   <-- MISSED'}"
                )
            echo(
                f"slowest median {max(r[2] for r in results):.1f} ms (target {TARGET_MS:.0f} ms); "
                f"{sum(1 for r in results if r[4])} report(s) touching a claims table"
            )
    return ok, max(r[2] for r in results)
