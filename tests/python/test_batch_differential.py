"""Differential test: claims.adjudicate_batch gives exactly the results of adjudicating the same claims one
by one with claims.adjudicate_claim in processing order (date of service, then line), claim for claim and
cent for cent, and leaves the same accumulators.

Each seed builds the same world in two fresh databases (the hand-priced pgTAP fixture plus a plan with a
small out-of-pocket maximum, a NADAC contract, plan switches, PAs and M3P elections), stores the same
history in both (claims and a reversal, one by one), then adjudicates a generated batch: one database one
claim at a time, the other with one call of claims.adjudicate_batch. The generator aims at every
dependency inside a batch: deductible and out-of-pocket crossings, duplicates, refill-too-soon chains,
step therapy, prior authorizations, M3P participants, every reject path.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import psycopg
import pytest
from conftest import ROOT

AS_OF = date(2025, 12, 31)
FIXTURE = (ROOT / "tests" / "fixtures" / "adjudication.sql").read_text()

EXTRA_WORLD = """
-- A commercial plan whose small out-of-pocket maximum is crossed often; coinsurance with min and max;
-- a DAW 1 and 2 penalty that counts toward the maximum; a NADAC contract pharmacy.
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, network_id)
SELECT 'TCOMM2', 'Test commercial 2', 'commercial', '610014', 'COMM', 'GRPC2', network_id
FROM network.networks WHERE network_code = 'TNET1';
WITH d AS (
    INSERT INTO plan.benefit_designs (
        plan_id, plan_year, formulary_id, deductible, oop_max, brand_penalty_daw, brand_penalty_counts_to_oop,
        rts_threshold, rts_lookback_days, max_days_supply
    )
    SELECT p.plan_id, 2025, f.formulary_id, 100.00, 350.00, '{1,2}', TRUE, 0.80, 120, 90
    FROM plan.plans p, plan.formularies f WHERE p.plan_code = 'TCOMM2' AND f.formulary_code = 'TFORM1'
    RETURNING benefit_design_id
)
INSERT INTO plan.tier_cost_shares (benefit_design_id, tier, cost_share_type, coinsurance_rate, min_amount, max_amount)
SELECT d.benefit_design_id, t, 'coinsurance', 0.20, 5.00, 100.00 FROM d, generate_series(1, 5) t;
INSERT INTO network.contracts (
    contract_code, name, ingredient_basis, brand_awp_discount, generic_awp_discount, brand_dispensing_fee,
    generic_dispensing_fee, mac_list_id
) VALUES ('TK2', 'NADAC contract', 'NADAC', 0.20, 0.75, 10.50, 10.50, NULL);
INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
VALUES ('1333333338', '4500003', 'NADAC Pharmacy', '3 Main St', 'Austin', 'TX', '78701', 'long_term_care');
INSERT INTO network.participations (network_id, pharmacy_id, contract_id, effective_date, termination_date)
SELECT n.network_id, ph.pharmacy_id, k.contract_id, '2025-01-01', '2025-09-30'
FROM network.networks n, network.pharmacies ph, network.contracts k
WHERE n.network_code = 'TNET1' AND ph.npi = '1333333338' AND k.contract_code = 'TK2';
INSERT INTO drug.prices (ndc11, price_type, unit_price, effective_date, end_date) VALUES
('99999000101', 'NADAC', 0.41237, '2024-01-01', '2025-06-30'),
('99999000101', 'NADAC', 0.39811, '2025-07-01', NULL),
('99999000301', 'NADAC', 17.23456, '2024-01-01', NULL);
-- A mid-year AWP change.
UPDATE drug.prices SET end_date = '2025-06-30' WHERE ndc11 = '99999000701' AND price_type = 'AWP';
INSERT INTO drug.prices (ndc11, price_type, unit_price, effective_date)
VALUES ('99999000701', 'AWP', 11.37, '2025-07-01');
"""

DRUGS = [  # (ndc, weight, quantity per 30 days)
    ("99999000101", 30, 30),  # atorvastatin (generic, MAC)
    ("99999000201", 6, 30),  # LIPITOR (brand of the same group: DAW penalty, shared refill supply)
    ("99999000301", 10, 60),  # ELIQUIS
    ("99999000401", 5, 10),  # LANTUS (insulin)
    ("99999000501", 2, 1),  # SHINGRIX (vaccine)
    ("99999000601", 3, 2),  # HUMIRA (PA)
    ("99999000701", 5, 9),  # sumatriptan (quantity limit 9/30)
    ("99999000801", 4, 30),  # JANUVIA (step: metformin first)
    ("99999000901", 12, 60),  # metformin
    ("99999001001", 2, 30),  # finasteride (men only)
    ("99999001101", 2, 30),  # zolpidem (18+)
    ("99999001201", 1, 30),  # sildenafil (excluded)
    ("99999001301", 1, 30),  # not on the formulary
    ("99999001401", 1, 30),  # discontinued
]
PLANS = {
    "TPD": ("610014", "PARTD", "GRPD"),
    "TCOMM": ("610014", "COMM", "GRPC"),
    "TCOMM2": ("610014", "COMM", "GRPC2"),
}
PHARMACIES = ["1234567893"] * 8 + ["1333333338", "1558598797"]
PRESCRIBERS = ["1000000012"] * 12 + ["1000000020", "1222222220"]


def generate(seed: int, members: int = 40, claims_per_member: int = 9):
    """World setup statements, history requests and the batch's requests (lists of dicts), all from seed."""
    rnd = random.Random(seed)
    setup: list[str] = []
    requests: list[dict] = []
    for i in range(members):
        cardholder = f"M{seed:03d}{i:04d}"
        plan = rnd.choice(["TPD", "TPD", "TCOMM", "TCOMM2"])
        dob = date(1940, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 75))
        gender = rnd.choice("MF")
        effective = rnd.choice([date(2025, 1, 1)] * 4 + [date(2025, 3, 1)])
        setup.append(f"SELECT tap.add_member('{cardholder}', '{plan}', '{dob}', '{gender}', '{effective}')")
        if rnd.random() < 0.15:  # a plan switch on July 1 (a second design segment inside the year)
            other = rnd.choice([p for p in PLANS if p != plan])
            setup.append(
                f"UPDATE member.coverage_spans SET termination_date = '2025-06-30' WHERE member_id = "
                f"(SELECT member_id FROM member.members WHERE cardholder_id = '{cardholder}')"
            )
            setup.append(
                "INSERT INTO member.coverage_spans (member_id, plan_id, effective_date) SELECT m.member_id, "
                f"p.plan_id, '2025-07-01' FROM member.members m, plan.plans p WHERE m.cardholder_id = '{cardholder}' "
                f"AND p.plan_code = '{other}'"
            )
        elif rnd.random() < 0.08:
            setup.append(
                f"UPDATE member.coverage_spans SET termination_date = '2025-08-31', termination_reason = 'voluntary' "
                f"WHERE member_id = (SELECT member_id FROM member.members WHERE cardholder_id = '{cardholder}')"
            )
        if plan == "TPD" and rnd.random() < 0.3:
            start = date(2025, rnd.randrange(1, 10), 1)
            setup.append(
                "INSERT INTO ppp.elections (member_id, plan_year, source, received_at, effective_date) "
                f"SELECT member_id, 2025, 'web', '{start}', '{start}' FROM member.members "
                f"WHERE cardholder_id = '{cardholder}'"
            )
        if rnd.random() < 0.5:
            status = rnd.choice(["approve", "approve", "deny"])
            setup.append(
                f"SELECT api.pa_submit('{cardholder}', '01', '99999000601', '1000000012', 'standard', '2025-01-02')"
            )
            if status == "approve":
                setup.append(
                    "SELECT api.pa_approve((SELECT max(pa_number) FROM claims.prior_authorizations), "
                    f"'2025-02-01', '2025-10-31', {rnd.choice(['NULL', 2, 4])}, '2025-01-03')"
                )
            else:
                setup.append(
                    "SELECT api.pa_deny((SELECT max(pa_number) FROM claims.prior_authorizations), 'not met', "
                    "'2025-01-03')"
                )
        rx_base = 100000 + seed * 10000 + i * 100
        for p in range(rnd.randrange(1, 4)):  # prescriptions of this member
            ndc, _, qty30 = rnd.choices(DRUGS, weights=[d[1] for d in DRUGS])[0]
            days = rnd.choice([30, 30, 30, 90, 90, 28])
            day = date(2025, 1, 1) + timedelta(days=rnd.randrange(0, 200))
            rx = rx_base + p
            for fill in range(rnd.randrange(1, claims_per_member)):
                request = {
                    "bin": PLANS[plan][0],
                    "pcn": PLANS[plan][1],
                    "group_id": PLANS[plan][2],
                    "cardholder_id": cardholder,
                    "person_code": "01",
                    "date_of_service": day.strftime("%Y%m%d"),
                    "service_provider_id": rnd.choice(PHARMACIES),
                    "prescriber_id": rnd.choice(PRESCRIBERS),
                    "product_id": ndc,
                    "quantity_dispensed": qty30 * max(1, days // 30) + rnd.choice([0, 0, 0, 0, 1]),
                    "days_supply": days,
                    "fill_number": fill,
                    "daw_code": rnd.choice([0, 1, 2, 2] if ndc == "99999000201" else [0] * 8 + [1, 2]),
                    "rx_number": str(rx),
                    "ingredient_cost_submitted": round(rnd.uniform(1, 900), 2),
                    "dispensing_fee_submitted": rnd.choice([1.00, 2.00, 12.00]),
                }
                request["gross_amount_due"] = round(
                    request["ingredient_cost_submitted"] + request["dispensing_fee_submitted"], 2
                )
                request["usual_and_customary_charge"] = rnd.choice([None, 4.00, 25.00, 2000.00])
                if rnd.random() < 0.05:
                    request["submission_clarification_code"] = 3
                requests.append(corrupt(rnd, request))
                if rnd.random() < 0.06:  # the pharmacy sends it twice
                    requests.append(dict(request))
                # The next refill: mostly on time, sometimes early (refill too soon), sometimes late.
                day = day + timedelta(days=max(1, int(days * rnd.choice([1.0, 1.0, 0.9, 0.8, 0.7, 0.5, 1.2]))))
                if day.year > 2025:
                    break
    rnd.shuffle(requests)
    cut = len(requests) // 4
    return setup, requests[:cut], requests[cut:]


def corrupt(rnd: random.Random, request: dict) -> dict:
    """A few requests a real adjudicator would refuse, each way at least once over the seeds."""
    if rnd.random() > 0.08:
        return request
    field, value = rnd.choice(
        [
            ("bin", "777777"),
            ("pcn", "NOPE"),
            ("group_id", None),
            ("cardholder_id", "NOBODY"),
            ("person_code", "02"),
            ("date_of_service", "20250230"),
            ("service_provider_id", "1234567890"),
            ("service_provider_id", "1111111112"),
            ("prescriber_id", "123"),
            ("product_id", "11111111111"),
            ("product_id", "0002-7597-01"),
            ("quantity_dispensed", -1),
            ("days_supply", 120),
            ("daw_code", 12),
            ("gross_amount_due", 0.01),
            ("date_of_service", "20260601"),
        ]
    )
    bad = dict(request)
    bad[field] = value
    return bad


COMPARED = """
SELECT c.batch_line_no, c.transaction_response_status, c.reject_codes, c.member_id, c.plan_id,
    c.pharmacy_id, c.tier, c.ingredient_cost_paid, c.dispensing_fee_paid, c.total_amount_paid,
    c.basis_of_reimbursement, c.pricing_source, c.patient_pay_amount, c.amount_applied_to_deductible,
    c.amount_of_copay, c.amount_of_coinsurance, c.amount_attributed_to_product_selection, c.stage_deductible_amount,
    c.stage_initial_amount, c.stage_catastrophic_amount, c.accumulated_deductible_amount,
    c.remaining_deductible_amount, c.accumulated_oop_amount, c.remaining_oop_amount, c.deductible_delta, c.oop_delta,
    c.gross_cost_delta, c.dur_reason_code, c.previous_fill_date, c.previous_fill_quantity,
    c.next_available_fill_date, c.prior_authorization_number, c.m3p_amount, c.m3p_ltb_notice,
    coalesce(o.batch_line_no, -o.claim_id) AS duplicate_of, c.date_of_service, c.quantity_dispensed, c.days_supply
FROM claims.claims AS c
LEFT JOIN claims.claims AS o ON c.duplicate_of_claim_id = o.claim_id AND c.date_of_service = o.date_of_service
WHERE c.claim_id > %s ORDER BY c.batch_line_no
"""
PROCESSING_ORDER = """
SELECT batch_line_no FROM claims.claims
WHERE claim_id > %s AND transaction_response_status <> 'D' ORDER BY claim_id
"""


def build_world(dsn: str, setup: list[str], history: list[dict]) -> int:
    """The world and its history, identical in every database; returns the last claim id of the history."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(FIXTURE)
        conn.execute("SELECT tap.setup_adjudication()")
        conn.execute(EXTRA_WORLD)
        for statement in setup:
            conn.execute(statement)
        for request in history:
            conn.execute("SELECT tap.adjudicate(%s::jsonb)", [json.dumps(request)])
        # A reversed claim in the history: it must count for nothing.
        conn.execute(
            "SELECT api.reverse(jsonb_build_object('service_provider_id', service_provider_id, 'rx_number', "
            "rx_number, 'fill_number', fill_number, 'date_of_service', to_char(date_of_service, 'YYYYMMDD'))) "
            "FROM claims.claims WHERE transaction_response_status = 'P' ORDER BY claim_id LIMIT 1"
        )
        return conn.execute("SELECT coalesce(max(claim_id), 0) FROM claims.claims").fetchone()[0]


def run_sequential(dsn: str, requests: list[dict]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT n, r FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t (r, n)
            ORDER BY (claims.parse_request(r)).date_of_service, n
            """,
            [json.dumps(requests)],
        ).fetchall()
        for line, request in rows:
            conn.execute(
                "SELECT claims.adjudicate_claim(claims.parse_request(%s::jsonb), %s, NULL, %s)",
                [json.dumps(request), AS_OF, line],
            )


def run_batch(dsn: str, requests: list[dict]) -> dict:
    with psycopg.connect(dsn, autocommit=True) as conn:
        batch_id = conn.execute("INSERT INTO claims.batches (source) VALUES ('test') RETURNING batch_id").fetchone()[0]
        conn.execute(
            """
            INSERT INTO claims.batch_claims
            SELECT %s, t.n, q.*
            FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t (r, n)
            CROSS JOIN LATERAL claims.parse_request(t.r) AS q
            """,
            [batch_id, json.dumps(requests)],
        )
        cur = conn.execute("SELECT * FROM claims.adjudicate_batch(%s, %s)", [batch_id, AS_OF])
        cols = [d.name for d in cur.description]
        return dict(zip(cols, cur.fetchone(), strict=True))


def record_coverage(seed: int, dsn: str, summary: dict) -> None:
    with psycopg.connect(dsn) as conn:
        for status, rejects in conn.execute(
            "SELECT transaction_response_status, reject_codes FROM claims.claims WHERE batch_id IS NOT NULL"
        ):
            SEEN["statuses"].add(status)
            SEEN["codes"].update(rejects)
        row = conn.execute(
            """
            SELECT count(*) FILTER (WHERE amount_applied_to_deductible > 0
                    AND amount_of_coinsurance + amount_of_copay > 0),
                count(*) FILTER (WHERE stage_initial_amount > 0 AND stage_catastrophic_amount > 0),
                count(*) FILTER (WHERE m3p_amount > 0),
                count(*) FILTER (WHERE amount_attributed_to_product_selection > 0)
            FROM claims.claims WHERE batch_id IS NOT NULL
            """
        ).fetchone()
    SEEN["deductible_crossings"] += row[0]
    SEEN["oop_crossings"] += row[1]
    SEEN["m3p"] += row[2]
    SEEN["penalties"] += row[3]
    SEEN["passes"] = max(SEEN["passes"], summary["passes"])
    SEEN["seeds"].add(seed)


def snapshot(dsn: str, after_claim_id: int):
    with psycopg.connect(dsn) as conn:
        claims = conn.execute(COMPARED, [after_claim_id]).fetchall()
        claims.append(tuple(r[0] for r in conn.execute(PROCESSING_ORDER, [after_claim_id])))
        accumulators = conn.execute(
            "SELECT member_id, plan_year, deductible_accumulated, oop_accumulated, gross_cost_accumulated "
            "FROM claims.accumulators ORDER BY 1, 2"
        ).fetchall()
    return claims, accumulators


SEEDS = range(1, 7)
SEEN: dict = {
    "seeds": set(),
    "statuses": set(),
    "codes": set(),
    "passes": 0,
    "deductible_crossings": 0,
    "oop_crossings": 0,
    "m3p": 0,
    "penalties": 0,
}


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_equals_one_by_one(server, template_db, seed):
    from pbmdb.testing import clone_database, drop_database

    setup, history, batch = generate(seed)
    one_by_one = clone_database(server, template_db)
    batched = clone_database(server, template_db)
    try:
        last_a = build_world(one_by_one, setup, history)
        last_b = build_world(batched, setup, history)
        assert last_a == last_b
        run_sequential(one_by_one, batch)
        summary = run_batch(batched, batch)
        claims_a, acc_a = snapshot(one_by_one, last_a)
        claims_b, acc_b = snapshot(batched, last_b)
        assert len(claims_a) == len(batch) + 1
        # Claim for claim by line (a duplicate points at its original's line), then the order of the claim
        # ids of everything but duplicates: the processing order, in both.
        for a, b in zip(claims_a, claims_b, strict=True):
            assert a == b, f"seed {seed}: line {a[0]} differs\none by one: {a}\nbatch:      {b}"
        assert acc_a == acc_b
        assert summary["claims_count"] == len(batch)
        record_coverage(seed, batched, summary)
    finally:
        for dsn in (one_by_one, batched):
            drop_database(server, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


def test_generated_batches_cover_every_dependency():
    """Over the seeds, the batches exercised what the differential test is meant to prove (this test runs
    after the seeds above, from what they saw)."""
    if len(SEEN["seeds"]) < len(SEEDS):
        pytest.skip("run together with every seed of test_batch_equals_one_by_one")
    assert SEEN["statuses"] == {"P", "R", "D"}
    expected = {
        "79",
        "608",
        "75",
        "76",
        "40",
        "50",
        "52",
        "53",
        "54",
        "21",
        "01",
        "05",
        "25",
        "56",
        "AG",
        "65",
        "82",
    }
    assert expected <= SEEN["codes"], f"never produced: {sorted(expected - SEEN['codes'])}"
    assert SEEN["deductible_crossings"] > 0 and SEEN["oop_crossings"] > 0
    assert SEEN["passes"] > 1, "no batch needed a second pass: no intra-batch dependency was exercised"
    assert SEEN["m3p"] > 0 and SEEN["penalties"] > 0


def test_re_running_a_batch_changes_nothing(server, template_db):
    from pbmdb.testing import clone_database, drop_database

    setup, history, batch = generate(99, members=10)
    dsn = clone_database(server, template_db)
    try:
        build_world(dsn, setup, history)
        first = run_batch(dsn, batch)
        with psycopg.connect(dsn, autocommit=True) as conn:
            batch_id = conn.execute("SELECT max(batch_id) FROM claims.batches").fetchone()[0]
            before = conn.execute(
                "SELECT count(*), sum(oop_accumulated) FROM claims.claims, claims.accumulators"
            ).fetchone()
            again = conn.execute("SELECT * FROM claims.adjudicate_batch(%s)", [batch_id]).fetchone()
            after = conn.execute(
                "SELECT count(*), sum(oop_accumulated) FROM claims.claims, claims.accumulators"
            ).fetchone()
        assert before == after
        assert again[0] == first["claims_count"] and again[4] == 0
    finally:
        drop_database(server, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])
