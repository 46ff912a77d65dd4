"""The documentation is true to the code: the entity diagram, the reject codes, the recorded request/response
examples of docs/adjudication.md, the decision index and the links between documents."""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal

import psycopg
import pytest
from conftest import ROOT

from pbmdb import erd

DOCS = ROOT / "docs"
ADJUDICATION = DOCS / "adjudication.md"

# Literals of the claims/api functions that look like reject codes but are not (each says what it is).
NOT_REJECT_CODES = {
    "ER": "DUR reason for service 439-E4 (refill too soon), set with reject 79",
    "056": "approved message code 548-6F of the M3P likely-to-benefit notice",
    "AWP": "pricing source",
    "MAC": "pricing source",
}
# A reject code literal in a function body: THEN '79', ELSE '65', ARRAY['31'].
CODE_LITERAL = r"(?:THEN|ELSE|ARRAY\[)\s*'([0-9A-Z]{2,3})'"

# The recorded examples of docs/adjudication.md, run in this order in one transaction on the adjudication
# fixtures (tests/fixtures/adjudication.sql) and rolled back. Authorization numbers are claim ids: only their
# presence is compared.
SETUP = "SELECT tap.setup_adjudication(), tap.add_member('PD0001', 'TPD', '1950-03-01', 'F', '2025-01-01')"
REVERSAL = """'{"service_provider_id": "1234567893", "rx_number": "700001", "fill_number": 1,
    "date_of_service": "20250402"}'::jsonb"""
EXAMPLES = [
    ("request", "tap.claim('PD0001', '99999000301', '2025-03-03', 30, 30, '700001')"),
    ("paid_deductible", "api.adjudicate(tap.claim('PD0001', '99999000301', '2025-03-03', 30, 30, '700001'))"),
    ("paid_split", "api.adjudicate(tap.claim('PD0001', '99999000301', '2025-04-02', 30, 30, '700001', 1))"),
    ("refill_too_soon", "api.adjudicate(tap.claim('PD0001', '99999000301', '2025-04-10', 30, 30, '700001', 2))"),
    ("duplicate", "api.adjudicate(tap.claim('PD0001', '99999000301', '2025-04-02', 30, 30, '700001', 1))"),
    (
        "rejected",
        """api.adjudicate(tap.claim('PD0001', '99999001301', '2025-04-05', 30, 30, '700002')
        || '{"service_provider_id": "1558598797", "prescriber_id": "1000000020"}')""",
    ),
    (
        "syntax",
        """api.adjudicate(tap.claim('PD0001', '99999000101', '2025-04-05', 30, 30, '700003')
        || '{"days_supply": 0, "prescriber_id": "123", "gross_amount_due": 600.00}')""",
    ),
    ("insulin", "api.adjudicate(tap.claim('PD0001', '99999000401', '2025-04-15', 10, 30, '700004'))"),
    ("reversal_request", REVERSAL),
    ("reversal", f"api.reverse({REVERSAL})"),
    ("reversal_again", f"api.reverse({REVERSAL})"),
    (
        "eligibility",
        """api.eligibility('{"bin": "610014", "pcn": "PARTD", "group_id": "GRPD", "cardholder_id": "PD0001",
        "person_code": "01", "date_of_service": "20250415"}')""",
    ),
    ("formulary_lookup", "api.formulary_lookup('PD0001', '01', '99999001301', '2025-04-15')"),
]
AUTHORIZATION_KEYS = ("authorization_number", "reversal_of_authorization_number")


def run_examples(dsn: str) -> dict[str, str]:
    """The JSON text (jsonb_pretty) of every example, in a transaction that is rolled back."""
    results = {}
    with psycopg.connect(dsn) as conn:
        conn.execute((ROOT / "tests" / "fixtures" / "adjudication.sql").read_text())
        conn.execute(SETUP)
        for name, expression in EXAMPLES:
            text = conn.execute(f"SELECT jsonb_pretty({expression})").fetchone()[0]
            results[name] = re.sub(r"\[\s+\]", "[]", text)
        conn.rollback()
    return results


def parse(text: str):
    return json.loads(text, parse_float=Decimal)


def recorded_examples() -> dict[str, str]:
    text = ADJUDICATION.read_text()
    return {m[1]: m[2] for m in re.finditer(r"<!-- example: (\w+) -->\n```json\n(.*?)```", text, re.S)}


def without_authorizations(doc):
    return {k: ("<number>" if k in AUTHORIZATION_KEYS else v) for k, v in doc.items()}


def test_entity_diagram_is_current(db):
    with psycopg.connect(db) as conn:
        generated = erd.diagram(conn)
    recorded = erd.current((DOCS / "data-model.md").read_text())
    assert recorded == generated, "docs/data-model.md's diagram is stale: run `python -m pbmdb.erd --write`"


def documented_reject_codes() -> dict[str, str]:
    """The reject code table of docs/adjudication.md: code -> NCPDP description."""
    rows = re.findall(r"^\| `([0-9A-Z]{2,3})` \| ([^|]+?) \|", ADJUDICATION.read_text(), re.M)
    assert rows, "docs/adjudication.md has no reject code table"
    return dict(rows)


def test_documented_reject_codes_exist_with_their_descriptions(db):
    documented = documented_reject_codes()
    with psycopg.connect(db) as conn:
        ref = dict(
            conn.execute("SELECT code, description FROM ref.reject_codes WHERE code = ANY(%s)", [list(documented)])
        )
    assert sorted(set(documented) - set(ref)) == [], "documented codes missing from ref.reject_codes"
    wrong = {c: (d, ref[c]) for c, d in documented.items() if d != ref[c]}
    assert wrong == {}, "descriptions differ from ref.reject_codes (documented, ref)"


def test_every_reject_code_the_code_can_emit_is_documented(db):
    with psycopg.connect(db) as conn:
        emitted = {
            code
            for (code,) in conn.execute(
                "SELECT DISTINCT m[1] FROM pg_catalog.pg_proc AS p "
                "INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid "
                "CROSS JOIN LATERAL regexp_matches(pg_catalog.pg_get_functiondef(p.oid), %s, 'g') AS m "
                "WHERE n.nspname IN ('claims', 'api') AND p.prokind = 'f'",
                [CODE_LITERAL],
            )
        } - set(NOT_REJECT_CODES)
    assert {"01", "15", "65", "75", "79", "MR", "R9", "31", "608"} <= emitted, "the code scan found too little"
    assert sorted(emitted - set(documented_reject_codes())) == [], "reject codes emitted but not documented"


def test_adjudication_examples_are_what_the_code_answers(db):
    results = run_examples(db)
    recorded = recorded_examples()
    shown = [name for name, _e in EXAMPLES]
    assert sorted(recorded) == sorted(shown), "docs/adjudication.md shows other examples than EXAMPLES"
    for name in shown:
        got, doc = parse(results[name]), parse(recorded[name])
        if isinstance(got, dict):
            got, doc = without_authorizations(got), without_authorizations(doc)
        assert doc == got, f"example {name} of docs/adjudication.md is not what the code answers"


def test_decision_index_lists_every_decision():
    index = (DOCS / "decisions" / "README.md").read_text()
    missing = [p.name for p in sorted((DOCS / "decisions").glob("[0-9]*.md")) if f"({p.name})" not in index]
    assert missing == [], "docs/decisions/README.md does not link these decision records"


@pytest.mark.parametrize("doc", sorted([ROOT / "README.md", *DOCS.rglob("*.md")]), ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    broken = []
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        if not (doc.parent / target).exists():
            broken.append(target)
    assert broken == [], f"{doc.relative_to(ROOT)} links to missing files"


if __name__ == "__main__":
    # Print the example blocks for docs/adjudication.md: python tests/python/test_docs.py DSN
    for name, result in run_examples(sys.argv[1]).items():
        print(f"<!-- example: {name} -->\n```json\n{result}\n```\n")
