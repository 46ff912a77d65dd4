"""`pbm seed synthetic`: deterministic, realistic, valid identifiers, feed files, one-line errors, re-runs.

Small sizes only; the full-size timing is measured by hand (README).
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal

import psycopg
import pytest
from conftest import run_pbm

from etl.layouts import FEEDS
from pbmdb.testing import clone_database, drop_database

KEY = "synthetic-test-key-0123456789-abcdef"  # PHI keys have at least 32 characters
ENV = {"PBM_PHI_KEY": KEY}
MEMBERS, CLAIMS, SEED, YEAR = 600, 6000, 11, 2025
ARGS = ("seed", "synthetic", "--members", str(MEMBERS), "--claims", str(CLAIMS), "--seed", str(SEED))
ARGS_YEAR = (*ARGS, "--year", str(YEAR))

# Columns whose values are not a function of the seed: when a row was written, and the MBI ciphertext
# (a random IV per value; compared decrypted instead).
VOLATILE = {"created_at", "updated_at", "received_at", "loaded_at", "mbi_encrypted"}
TABLES = (
    "drug.mac_lists",
    "drug.drugs",
    "drug.prices",
    "network.networks",
    "network.contracts",
    "network.pharmacies",
    "network.participations",
    "network.prescribers",
    "plan.formularies",
    "plan.formulary_entries",
    "plan.plans",
    "plan.benefit_designs",
    "plan.tier_cost_shares",
    "member.members",
    "member.member_history",
    "member.coverage_spans",
    "claims.prior_authorizations",
    "claims.prior_authorization_events",
    "ppp.elections",
    "claims.batches",
    "claims.batch_claims",
    "pbm_meta.synthetic_runs",
    "pbm_meta.synthetic_keys",
    "pbm_meta.synthetic_problem_claims",
)


def connect(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("SELECT set_config('pbm.phi_key', %s, false)", [KEY])
    return conn


def scalar(conn, query, params=None):
    return conn.execute(query, params).fetchone()[0]


def digests(dsn: str) -> dict[str, str]:
    """md5 of every table the generator fills, in a stable order, without the volatile columns."""
    out = {}
    with connect(dsn) as conn:
        for table in TABLES:
            schema, name = table.split(".")
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
                    "table_name = %s "
                    "ORDER BY ordinal_position",
                    [schema, name],
                )
                if r[0] not in VOLATILE
            ]
            exprs = [f"t.{c}" for c in cols]
            if table == "member.members":
                exprs.append("member.decrypt_phi(t.mbi_encrypted)")
            row = "ROW(" + ", ".join(exprs) + ")::text"
            out[table] = scalar(
                conn, f"SELECT md5(coalesce(string_agg({row}, '|' ORDER BY {row}), '')) FROM {table} AS t"
            )
    return out


@pytest.fixture(scope="module")
def seeded(server, template_db):
    """One database with the synthetic data of ARGS_YEAR, shared read-only by the tests of this module."""
    dsn = clone_database(server, template_db)
    result = run_pbm(*ARGS_YEAR, dsn=dsn, env=ENV)
    assert result.returncode == 0, result.stderr
    yield dsn, result.stdout
    drop_database(server, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


@pytest.fixture
def another_db(server, template_db):
    dsn = clone_database(server, template_db)
    yield dsn
    drop_database(server, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


# ---------------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------------
def test_same_seed_on_fresh_databases_gives_identical_data(seeded, fresh_db, another_db):
    dsn, _ = seeded
    again = run_pbm(*ARGS_YEAR, dsn=fresh_db, env=ENV)
    assert again.returncode == 0, again.stderr
    first, second = digests(dsn), digests(fresh_db)
    assert first == second
    other = run_pbm(*ARGS[:-1], str(SEED + 1), "--year", str(YEAR), dsn=another_db, env=ENV)
    assert other.returncode == 0, other.stderr
    third = digests(another_db)
    assert third["claims.batch_claims"] != first["claims.batch_claims"]
    assert third["member.members"] != first["member.members"]
    # The plan configuration and the drug catalog do not depend on the seed.
    for table in ("plan.plans", "plan.benefit_designs", "plan.formulary_entries", "drug.drugs"):
        assert third[table] == first[table], table


# ---------------------------------------------------------------------------------------------------
# what is in the database
# ---------------------------------------------------------------------------------------------------
def test_counts_batch_and_progress(seeded):
    dsn, stdout = seeded
    with connect(dsn) as conn:
        assert scalar(conn, "SELECT count(*) FROM member.members") == MEMBERS
        assert scalar(conn, "SELECT count(*) FROM claims.batches WHERE source = 'synthetic'") == 1
        batch = scalar(conn, "SELECT batch_id FROM claims.batches WHERE source = 'synthetic'")
        assert scalar(conn, "SELECT count(*) FROM claims.batch_claims WHERE batch_id = %s", [batch]) == CLAIMS
        assert scalar(conn, "SELECT min(line_no) = 1 AND max(line_no) = %s FROM claims.batch_claims", [CLAIMS])
        # line numbers follow the date of service
        assert (
            scalar(
                conn,
                "SELECT count(*) FROM (SELECT date_of_service < lag(date_of_service) OVER (ORDER BY "
                "line_no) AS back "
                "FROM claims.batch_claims) AS x WHERE back",
            )
            == 0
        )
        assert scalar(conn, "SELECT batch_id FROM pbm_meta.synthetic_runs") == batch
        written_late = "SELECT count(*) FROM claims.batch_claims WHERE date_prescription_written > date_of_service"
        assert scalar(conn, written_late) == 0
        years = scalar(conn, "SELECT array_agg(DISTINCT extract(YEAR FROM date_of_service)) FROM claims.batch_claims")
        assert years == [YEAR]
        assert (
            scalar(
                conn,
                "SELECT count(*) FROM claims.partitions WHERE partition_name::text LIKE %s",
                [f"claims.claims_y{YEAR}m%"],
            )
            == 12
        )
    assert "loaded 6,000 claim requests into batch" in stdout
    assert "problem claims: unknown_cardholder" in stdout


def test_part_d_plans_have_the_standard_benefit_of_the_year(seeded):
    dsn, _ = seeded
    with connect(dsn) as conn:
        rows = conn.execute(
            "SELECT p.contract_number, p.pbp_id, d.deductible = r.standard_deductible, d.oop_max = "
            "r.oop_threshold, "
            "d.deductible_tiers IS NULL, d.insulin_cap_per_month = r.insulin_cap_per_month, "
            "d.insulin_cap_per_month = 35, d.insulin_deductible_exempt, d.acip_vaccines_zero, "
            "(SELECT bool_and(t.cost_share_type = 'coinsurance' AND t.coinsurance_rate = "
            "r.initial_coinsurance "
            "  AND t.coinsurance_rate = 0.25) AND count(*) = 5 FROM plan.tier_cost_shares AS t "
            "  WHERE t.benefit_design_id = d.benefit_design_id) "
            "FROM plan.plans AS p JOIN plan.benefit_designs AS d USING (plan_id) "
            "JOIN ref.part_d_parameters AS r ON r.plan_year = d.plan_year "
            "WHERE p.plan_type = 'medicare_part_d' AND d.plan_year = %s ORDER BY 1",
            [YEAR],
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("H9999", "001"), ("S5884", "001")]
    assert all(all(r[2:]) for r in rows), rows
    with connect(dsn) as conn:
        assert scalar(conn, "SELECT standard_deductible FROM ref.part_d_parameters WHERE plan_year = %s", [YEAR]) == 590


def test_commercial_plans_have_tier_copays_specialty_coinsurance_and_brand_penalty(seeded):
    dsn, _ = seeded
    with connect(dsn) as conn:
        designs = conn.execute(
            "SELECT p.plan_code, d.deductible > 0, d.deductible_tiers, d.oop_max > d.deductible, "
            "d.brand_penalty_daw, "
            "array_agg(t.copay_amount ORDER BY t.tier) FILTER (WHERE t.cost_share_type = 'copay'), "
            "max(t.coinsurance_rate) FILTER (WHERE t.tier = 5), max(t.max_amount) FILTER (WHERE t.tier = 5) "
            "FROM plan.plans AS p JOIN plan.benefit_designs AS d USING (plan_id) "
            "JOIN plan.tier_cost_shares AS t USING (benefit_design_id) "
            "WHERE p.plan_type = 'commercial' GROUP BY 1, 2, 3, 4, 5 ORDER BY 1"
        ).fetchall()
    assert len(designs) >= 2
    for _code, has_deductible, tiers, oop_above, penalty, copays, specialty_rate, specialty_max in designs:
        assert has_deductible and oop_above
        assert tiers == [2, 3, 4]
        assert penalty == [2]
        assert copays == [Decimal("11.00"), Decimal("33.00"), Decimal("59.00"), Decimal("110.00")]
        assert 0 < specialty_rate < 1 and specialty_max > 0


def test_formularies_networks_contracts_and_prices(seeded):
    dsn, _ = seeded
    with connect(dsn) as conn:
        um = conn.execute(
            "SELECT f.formulary_code, count(*) FILTER (WHERE e.pa_required), count(*) FILTER (WHERE "
            "e.ql_quantity > 0), "
            "count(*) FILTER (WHERE e.step_therapy_class IS NOT NULL), count(*) FILTER (WHERE e.min_age IS "
            "NOT NULL "
            "OR e.max_age IS NOT NULL), count(*) FILTER (WHERE e.gender IS NOT NULL), count(*) FILTER "
            "(WHERE e.is_excluded), "
            "count(DISTINCT e.tier) "
            "FROM plan.formularies AS f JOIN plan.formulary_entries AS e USING (formulary_id) GROUP BY 1"
        ).fetchall()
        assert len(um) == 2
        for row in um:
            assert all(v > 0 for v in row[1:7]), row
            assert row[7] == 5
        # step therapy: a brand whose class has generics on the formulary
        assert scalar(
            conn,
            "SELECT bool_and(EXISTS (SELECT FROM drug.drugs AS g WHERE g.therapeutic_class = "
            "e.step_therapy_class "
            "AND g.multi_source_code = 'Y')) AND bool_and(d.is_brand) FROM plan.formulary_entries AS e "
            "JOIN drug.drugs AS d USING (ndc11) WHERE e.step_therapy_class IS NOT NULL",
        )
        contracts = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT contract_code, ingredient_basis, brand_awp_discount, generic_awp_discount, "
                "brand_dispensing_fee, generic_dispensing_fee, mac_list_id IS NOT NULL FROM network.contracts"
            )
        }
        assert contracts["SYN-RETAIL"] == (
            "AWP",
            Decimal("0.1700"),
            Decimal("0.7200"),
            Decimal("1.25"),
            Decimal("1.15"),
            True,
        )
        assert contracts["SYN-MAIL"] == (
            "AWP",
            Decimal("0.2000"),
            Decimal("0.7500"),
            Decimal("0"),
            Decimal("0"),
            True,
        )
        assert contracts["SYN-NADAC"][0] == "NADAC"
        types = dict(conn.execute("SELECT pharmacy_type, count(*) FROM network.pharmacies GROUP BY 1").fetchall())
        assert set(types) == {"retail", "mail", "specialty", "long_term_care"}
        assert types["retail"] > sum(v for k, v in types.items() if k != "retail")
        # MAC only for generics; prices change on a few dates
        assert scalar(
            conn,
            "SELECT bool_and(NOT d.is_brand) FROM drug.prices AS p JOIN drug.drugs AS d USING (ndc11) "
            "WHERE p.price_type = 'MAC'",
        )
        assert (
            scalar(
                conn,
                "SELECT count(*) FROM (SELECT ndc11 FROM drug.prices WHERE price_type = 'AWP' "
                "GROUP BY 1 HAVING count(*) > 1) AS x",
            )
            > 50
        )
        assert scalar(conn, "SELECT count(DISTINCT price_type) FROM drug.prices") == 4
        catalog = conn.execute(
            "SELECT count(*), count(DISTINCT generic_name), count(*) FILTER (WHERE is_insulin), "
            "count(*) FILTER (WHERE is_vaccine), count(*) FILTER (WHERE is_specialty), "
            "count(*) FILTER (WHERE dea_schedule > 0), count(DISTINCT multi_source_code) FROM drug.drugs"
        ).fetchone()
        assert catalog[0] >= 300 and catalog[1] >= 100 and all(v > 0 for v in catalog[2:6]) and catalog[6] == 3
        # brands and their generics share a drug group (ingredient|strength|form)
        assert (
            scalar(
                conn,
                "SELECT count(*) FROM drug.drugs AS b WHERE b.multi_source_code = 'O' AND NOT EXISTS "
                "(SELECT FROM drug.drugs AS g WHERE g.drug_group = b.drug_group AND g.multi_source_code = "
                "'Y')",
            )
            == 0
        )
        assert scalar(
            conn,
            "SELECT bool_and(drug_group = generic_name || '|' || strength || '|' || dosage_form) FROM drug.drugs",
        )


# ---------------------------------------------------------------------------------------------------
# identifiers
# ---------------------------------------------------------------------------------------------------
def test_every_identifier_is_valid(seeded):
    dsn, _ = seeded
    with connect(dsn) as conn:
        assert scalar(
            conn, "SELECT bool_and(ref.npi_is_valid(npi) AND ncpdp_id ~ '^[0-9]{7}$') FROM network.pharmacies"
        )
        assert scalar(conn, "SELECT bool_and(ref.npi_is_valid(npi)) FROM network.prescribers")
        # DEA: check digit = last digit of d1 + d3 + d5 + 2 * (d2 + d4 + d6); 2nd letter = last name initial
        assert scalar(
            conn,
            "SELECT bool_and(right(dea_number, 1)::int = (substr(dea_number, 3, 1)::int + "
            "substr(dea_number, 5, 1)::int "
            "+ substr(dea_number, 7, 1)::int + 2 * (substr(dea_number, 4, 1)::int + substr(dea_number, 6, "
            "1)::int "
            "+ substr(dea_number, 8, 1)::int)) % 10 AND substr(dea_number, 2, 1) = left(last_name, 1)) "
            "FROM network.prescribers WHERE dea_number IS NOT NULL",
        )
        assert scalar(conn, "SELECT count(*) FROM network.prescribers WHERE dea_number IS NOT NULL") > 0
        medicare = scalar(
            conn,
            "SELECT count(DISTINCT s.member_id) FROM member.coverage_spans AS s JOIN plan.plans AS p USING "
            "(plan_id) "
            "WHERE p.plan_type = 'medicare_part_d'",
        )
        mbis = conn.execute(
            "SELECT member.decrypt_phi(mbi_encrypted), mbi_hash = "
            "member.mbi_hash(member.decrypt_phi(mbi_encrypted)) "
            "FROM member.members WHERE mbi_encrypted IS NOT NULL"
        ).fetchall()
        assert len(mbis) == medicare > 0
        assert all(ok for _, ok in mbis)
        assert len({m for m, _ in mbis}) == len(mbis)
        assert scalar(
            conn,
            "SELECT bool_and(ref.mbi_is_valid(member.decrypt_phi(mbi_encrypted))) FROM member.members "
            "WHERE mbi_encrypted IS NOT NULL",
        )
        # NDC package codes in all three 10-digit layouts, each converting to its NDC-11
        assert scalar(conn, "SELECT bool_and(ref.ndc11(ndc_package_code) = ndc11) FROM drug.drugs")
        layouts = {
            r[0] for r in conn.execute("SELECT regexp_replace(ndc_package_code, '[0-9]', '9', 'g') FROM drug.drugs")
        }
        assert layouts == {"9999-9999-99", "99999-999-99", "99999-9999-9"}
        # claim requests: every identifier valid except on the lines generated to carry a bad one
        assert (
            scalar(
                conn,
                "SELECT count(*) FROM claims.batch_claims AS c WHERE NOT "
                "(ref.npi_is_valid(c.service_provider_id) "
                "AND ref.npi_is_valid(c.prescriber_id) AND c.product_id ~ '^[0-9]{11}$') AND c.line_no NOT "
                "IN "
                "(SELECT line_no FROM pbm_meta.synthetic_problem_claims WHERE kind IN "
                "('invalid_prescriber_npi', 'unknown_ndc'))",
            )
            == 0
        )


# ---------------------------------------------------------------------------------------------------
# plausible distributions
# ---------------------------------------------------------------------------------------------------
CLEAN = "claims.batch_claims AS c WHERE c.line_no NOT IN (SELECT line_no FROM pbm_meta.synthetic_problem_claims)"


def test_distributions_look_like_a_pbm(seeded):
    dsn, _ = seeded
    with connect(dsn) as conn:
        generic = scalar(
            conn,
            "SELECT avg((d.multi_source_code = 'Y')::int) FROM claims.batch_claims AS c "
            "JOIN drug.drugs AS d ON d.ndc11 = c.product_id "
            "WHERE c.line_no NOT IN (SELECT line_no FROM pbm_meta.synthetic_problem_claims)",
        )
        assert 0.82 <= generic <= 0.93, generic
        days = dict(
            conn.execute(f"SELECT c.days_supply, count(*)::float / {CLAIMS} FROM {CLEAN} GROUP BY 1").fetchall()
        )
        assert days.get(30, 0) + days.get(28, 0) > 0.55, days
        assert 0.07 < days.get(90, 0) + days.get(84, 0) < 0.35, days
        daw = dict(conn.execute(f"SELECT c.daw_code, count(*) FROM {CLEAN} GROUP BY 1").fetchall())
        assert daw[0] > 0.9 * sum(daw.values()) and daw.get(1, 0) > 0 and daw.get(2, 0) > 0
        kinds = conn.execute(
            "SELECT count(*) FILTER (WHERE d.is_specialty), count(*) FILTER (WHERE d.is_insulin), "
            "count(*) FILTER (WHERE d.is_vaccine), count(*) FILTER (WHERE d.dea_schedule > 0) "
            "FROM claims.batch_claims AS c JOIN drug.drugs AS d ON d.ndc11 = c.product_id"
        ).fetchone()
        assert all(k > 0 for k in kinds), kinds
        # submitted amounts: gross = ingredient + fee; U&C sometimes below it (cash-price generics)
        assert scalar(
            conn,
            "SELECT bool_and(gross_amount_due = ingredient_cost_submitted + dispensing_fee_submitted) "
            "FROM claims.batch_claims",
        )
        assert scalar(conn, f"SELECT count(*) FROM {CLEAN} AND c.usual_and_customary_charge < c.gross_amount_due") > 0
        # early refills of the same drug group (refill too soon at 75%)
        early = scalar(
            conn,
            "SELECT count(*) FROM (SELECT c.date_of_service - lag(c.date_of_service) OVER w AS gap, "
            "lag(c.days_supply) OVER w AS prev FROM claims.batch_claims AS c JOIN drug.drugs AS d "
            "ON d.ndc11 = c.product_id WINDOW w AS (PARTITION BY c.cardholder_id, c.person_code, "
            "d.drug_group "
            "ORDER BY c.date_of_service)) AS x WHERE gap < 0.75 * prev",
        )
        assert early > 0
        # Part D members: mostly 65-95 at the end of the year, some younger (disability)
        ages = conn.execute(
            "SELECT extract(YEAR FROM age(make_date(%s, 12, 31), m.date_of_birth))::int FROM member.members "
            "AS m "
            "WHERE EXISTS (SELECT FROM member.coverage_spans AS s JOIN plan.plans AS p USING (plan_id) "
            "WHERE s.member_id = m.member_id AND p.plan_type = 'medicare_part_d')",
            [YEAR],
        ).fetchall()
        aged = sum(1 for (a,) in ages if 65 <= a <= 96) / len(ages)
        assert 0.8 <= aged < 1.0, aged
        # commercial families: person codes 01/02/03 with relationship codes 1/2/3
        rel = dict(
            conn.execute(
                "SELECT person_code, array_agg(DISTINCT relationship_code) FROM member.members AS m "
                "WHERE EXISTS (SELECT FROM member.coverage_spans AS s JOIN plan.plans AS p USING (plan_id) "
                "WHERE s.member_id "
                "= "
                "m.member_id AND p.plan_type = 'commercial') AND person_code IN ('01', '02', '03') GROUP BY 1"
            ).fetchall()
        )
        assert rel == {"01": [1], "02": [2], "03": [3]}
        spans = conn.execute(
            "SELECT count(*) FILTER (WHERE effective_date > make_date(%s, 1, 1)), "
            "count(*) FILTER (WHERE termination_date <= make_date(%s, 12, 31)) FROM member.coverage_spans",
            [YEAR, YEAR],
        ).fetchone()
        assert all(v > 0 for v in spans), spans
        pas = dict(conn.execute("SELECT status, count(*) FROM claims.prior_authorizations GROUP BY 1").fetchall())
        assert pas["approved"] > 0.7 * sum(pas.values())
        assert scalar(conn, "SELECT count(*) FROM claims.prior_authorization_events") == 3 * sum(pas.values())
        m3p = conn.execute(
            "SELECT count(*), bool_and(p.plan_type = 'medicare_part_d'), count(*) FILTER (WHERE e.status = "
            "'opted_out') FROM ppp.elections AS e JOIN plan.plans AS p ON e.plan_id = p.plan_id"
        ).fetchone()
        assert m3p[0] > 0 and m3p[1], m3p
        assert scalar(conn, "SELECT count(*) FROM ppp.election_events WHERE event_type = 'elected'") == m3p[0]


def test_problem_claims_are_what_they_say_and_clean_claims_are_clean(seeded):
    dsn, _ = seeded
    checks = {
        "unknown_cardholder": "NOT EXISTS (SELECT FROM member.members AS m WHERE m.cardholder_id = "
        "c.cardholder_id "
        "AND m.person_code = c.person_code)",
        "outside_coverage": "NOT EXISTS (SELECT FROM member.members AS m JOIN member.coverage_spans AS s "
        "USING "
        "(member_id) WHERE m.cardholder_id = c.cardholder_id AND m.person_code = c.person_code AND "
        "c.date_of_service BETWEEN s.effective_date AND coalesce(s.termination_date, 'infinity'))",
        "out_of_network_pharmacy": "NOT EXISTS (SELECT FROM plan.plans AS p JOIN network.participations AS "
        "n USING "
        "(network_id) JOIN network.pharmacies AS ph USING (pharmacy_id) WHERE (p.bin, p.pcn, p.group_id) = "
        "(c.bin, c.pcn, c.group_id) AND ph.npi = c.service_provider_id AND c.date_of_service BETWEEN "
        "n.effective_date AND coalesce(n.termination_date, 'infinity'))",
        "unknown_ndc": "NOT EXISTS (SELECT FROM drug.drugs AS d WHERE d.ndc11 = c.product_id)",
        "invalid_prescriber_npi": "NOT ref.npi_is_valid(c.prescriber_id)",
        "excluded_drug": "EXISTS (SELECT FROM plan.plans AS p JOIN plan.benefit_designs AS b USING (plan_id) "
        "JOIN plan.formulary_entries AS e USING (formulary_id) WHERE (p.bin, p.pcn, p.group_id) = "
        "(c.bin, c.pcn, c.group_id) AND e.ndc11 = c.product_id AND e.is_excluded)",
        "missing_prior_authorization": "EXISTS (SELECT FROM plan.plans AS p JOIN plan.benefit_designs AS b "
        "USING "
        "(plan_id) JOIN plan.formulary_entries AS e USING (formulary_id) JOIN drug.drugs AS d USING (ndc11) "
        "WHERE (p.bin, p.pcn, p.group_id) = (c.bin, c.pcn, c.group_id) AND e.ndc11 = c.product_id AND "
        "e.pa_required AND NOT EXISTS (SELECT FROM claims.prior_authorizations AS pa JOIN member.members AS "
        "m "
        "USING (member_id) WHERE m.cardholder_id = c.cardholder_id AND m.person_code = c.person_code AND "
        "pa.drug_group = d.drug_group))",
        "over_quantity_limit": "EXISTS (SELECT FROM plan.plans AS p JOIN plan.benefit_designs AS b USING "
        "(plan_id) "
        "JOIN plan.formulary_entries AS e USING (formulary_id) WHERE (p.bin, p.pcn, p.group_id) = "
        "(c.bin, c.pcn, c.group_id) AND e.ndc11 = c.product_id AND c.quantity_dispensed > "
        "e.ql_quantity * c.days_supply / e.ql_days)",
    }
    with connect(dsn) as conn:
        per_kind = dict(conn.execute("SELECT kind, count(*) FROM pbm_meta.synthetic_problem_claims GROUP BY 1"))
        assert set(per_kind) == set(checks)
        assert sum(per_kind.values()) == round(0.03 * CLAIMS)
        assert max(per_kind.values()) - min(per_kind.values()) <= 1
        for kind, condition in checks.items():
            wrong = scalar(
                conn,
                f"SELECT count(*) FROM claims.batch_claims AS c JOIN pbm_meta.synthetic_problem_claims AS k "
                f"USING (line_no) WHERE k.kind = %s AND NOT ({condition})",
                [kind],
            )
            assert wrong == 0, f"{wrong} {kind} claim(s) are not what they say"
            clean_hits = scalar(conn, f"SELECT count(*) FROM {CLEAN} AND ({condition})")
            assert clean_hits == 0, f"{clean_hits} clean claim(s) look like {kind}"


# ---------------------------------------------------------------------------------------------------
# feed files
# ---------------------------------------------------------------------------------------------------
def test_out_writes_the_feeds_in_their_layouts(fresh_db, tmp_path, seeded):
    out = tmp_path / "inbox"
    result = run_pbm(*ARGS_YEAR, "--out", str(out), dsn=fresh_db, env={"PBM_PHI_KEY": ""})
    assert result.returncode == 0, result.stderr
    feeds = (
        "eligibility",
        "drugs",
        "drug_prices",
        "pharmacies",
        "network",
        "prescribers",
        "prior_authorizations",
        "claims",
        "desynpuf_beneficiary",
        "desynpuf_pde",
    )
    names = {p.name for p in out.iterdir()}
    assert len(names) == len(feeds)
    for feed in feeds:
        [path] = [out / n for n in names if n.startswith(feed + "_") and n[len(feed) + 1 :].split(".")[0].isdigit()]
        assert path.suffix == ".csv" and len(path.stem.split("_")[-1]) == 8
        header = path.read_text().splitlines()[0]
        if feed.startswith("desynpuf"):
            assert header == ",".join(f'"{c}"' for c in FEEDS[feed])
        else:
            assert header == ",".join(FEEDS[feed])
    claims_file = out / f"claims_{YEAR}1231.csv"
    with claims_file.open(newline="") as f:
        rows = list(csv.reader(f))[1:]
    assert len(rows) == CLAIMS
    with connect(fresh_db) as conn:
        assert scalar(conn, "SELECT count(*) FROM member.members") == 0  # members went to the files
        assert scalar(conn, "SELECT count(*) FROM plan.plans WHERE plan_code LIKE 'SYN-%'") == 4
        assert scalar(conn, "SELECT count(*) FROM drug.drugs") > 300  # formulary entries refer to them
        assert scalar(conn, "SELECT mode FROM pbm_meta.synthetic_runs") == "files"
    # The same data as the database mode of the same seed.
    dsn, _ = seeded
    with connect(dsn) as conn:
        db_rows = conn.execute("SELECT " + ", ".join(FEEDS["claims"]) + " FROM claims.batch_claims ORDER BY line_no")
        expected = [tuple("" if v is None else str(v) for v in r) for r in db_rows]

    def norm(row):
        """Numbers as numbers: the database shows quantities with 3 decimals, the feed in shortest form."""
        return tuple(Decimal(v) if re.fullmatch(r"[0-9]+(\.[0-9]+)?", v) else v for v in row)

    assert [norm(r) for r in rows] == [norm(r) for r in expected]
    # Again with the same options: files rewritten, database untouched.
    again = run_pbm(*ARGS_YEAR, "--out", str(out), dsn=fresh_db, env={"PBM_PHI_KEY": ""})
    assert again.returncode == 0, again.stderr
    assert claims_file.read_text().count("\n") == CLAIMS + 1


# ---------------------------------------------------------------------------------------------------
# errors and re-runs
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (("--members", "0", "--claims", "10", "--seed", "1"), "--members must be between 1"),
        (("--members", "ten", "--claims", "10", "--seed", "1"), "--members must be a whole number"),
        (("--members", "10", "--claims", "-5", "--seed", "1"), "--claims must be between 0"),
        (
            ("--members", "10", "--claims", "10", "--seed", "1", "--year", "1999"),
            "--year must be between 2006 and",
        ),
        (("--members", "10", "--claims", "10"), "missing --seed"),
        (
            ("--members", "10", "--claims", "10", "--seed", "1", "--year", "2010"),
            "no Part D parameters for 2010",
        ),
        (
            ("--members", "10", "--claims", "10", "--seed", "1", "--problem-share", "2"),
            "--problem-share must be",
        ),
        (
            ("--members", "10", "--claims", "10", "--seed", "1", "--problem-share", "x"),
            "--problem-share must be",
        ),
    ],
)
def test_bad_arguments_give_one_line_errors(seeded, args, message):
    result = run_pbm("seed", "synthetic", *args, dsn=seeded[0], env=ENV)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert line.count("\n") == 0 and line.startswith("error: "), line
    assert message in line


def test_missing_phi_key_is_a_one_line_error(seeded):
    result = run_pbm(*ARGS, dsn=seeded[0], env={"PBM_PHI_KEY": ""})
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.count("\n") == 0 and "PBM_PHI_KEY is not set" in line


def test_out_must_be_a_directory(seeded, tmp_path):
    file = tmp_path / "a-file"
    file.write_text("x")
    result = run_pbm(*ARGS, "--out", str(file), dsn=seeded[0], env=ENV)
    assert result.returncode == 2 and "is not a directory" in result.stderr and result.stderr.count("\n") == 1


def test_rerun_is_safe_and_replace_replaces(fresh_db):
    small = ("seed", "synthetic", "--members", "200", "--claims", "1500", "--year", str(YEAR))
    first = run_pbm(*small, "--seed", "3", dsn=fresh_db, env=ENV)
    assert first.returncode == 0, first.stderr
    before = digests(fresh_db)
    same = run_pbm(*small, "--seed", "3", dsn=fresh_db, env=ENV)
    assert same.returncode == 0 and "nothing to do" in same.stdout
    assert digests(fresh_db) == before
    other = run_pbm(*small, "--seed", "4", dsn=fresh_db, env=ENV)
    assert other.returncode == 1
    assert other.stderr.count("\n") == 1 and "--replace" in other.stderr and "seed 3" in other.stderr
    assert digests(fresh_db) == before
    replaced = run_pbm(*small, "--seed", "4", "--replace", dsn=fresh_db, env=ENV)
    assert replaced.returncode == 0, replaced.stderr
    after = digests(fresh_db)
    assert after["claims.batch_claims"] != before["claims.batch_claims"]
    with connect(fresh_db) as conn:
        assert scalar(conn, "SELECT count(*) FROM claims.batches WHERE source = 'synthetic'") == 1
        assert scalar(conn, "SELECT count(*) FROM member.members") == 200
        assert scalar(conn, "SELECT seed FROM pbm_meta.synthetic_runs") == 4
        assert scalar(conn, "SELECT count(*) FROM plan.plans") == 4


def test_the_adjudicator_rejects_the_problem_claims_and_pays_the_clean_ones(fresh_db):
    """Integration with api.adjudicate (docs/decisions/0004): each problem kind gets its reject code;
    clean requests pay, except the early refills (79) and claims of members whose PA was denied (75)."""
    small = ("seed", "synthetic", "--members", "150", "--claims", "800", "--seed", "5", "--year", str(YEAR))
    result = run_pbm(*small, "--problem-share", "0.1", dsn=fresh_db, env=ENV)
    assert result.returncode == 0, result.stderr
    expected = {
        "unknown_cardholder": {"52"},
        "outside_coverage": {"67", "68", "69"},
        "out_of_network_pharmacy": {"40"},
        "unknown_ndc": {"21", "54"},
        "invalid_prescriber_npi": {"25"},
        "excluded_drug": {"70"},
        "missing_prior_authorization": {"75"},
        "over_quantity_limit": {"76"},
    }
    with connect(fresh_db) as conn:
        # In line order: refill too soon depends on the claims before.
        rows = conn.execute(
            "SELECT x.line_no, x.kind, api.adjudicate(jsonb_strip_nulls(to_jsonb(x) - 'batch_id' - 'line_no' "
            "- 'kind')) FROM (SELECT bc.*, k.kind FROM claims.batch_claims AS bc LEFT JOIN "
            "pbm_meta.synthetic_problem_claims AS k USING (line_no) ORDER BY bc.line_no) AS x"
        ).fetchall()
    assert len(rows) == 800
    clean_outcomes = {}
    for line_no, kind, response in rows:
        status, codes = response["transaction_response_status"], set(response.get("reject_codes") or [])
        if kind is None:
            key = status if status != "R" else ",".join(sorted(codes))
            clean_outcomes[key] = clean_outcomes.get(key, 0) + 1
        else:
            assert status == "R" and codes & expected[kind], (line_no, kind, response)
    assert set(clean_outcomes) <= {"P", "79", "75"}, clean_outcomes
    assert clean_outcomes["P"] > 0.9 * sum(clean_outcomes.values()), clean_outcomes


def test_feed_files_load_through_the_etl(fresh_db, tmp_path):
    """pbm etl nightly takes every file; the only lines it refuses are problem claims whose prescriber NPI
    or NDC is malformed (the ETL checks identifiers at the door; the adjudicator would reject them too)."""
    inbox = tmp_path / "inbox"
    small = ("seed", "synthetic", "--members", "200", "--claims", "1500", "--seed", "6", "--year", str(YEAR))
    made = run_pbm(*small, "--out", str(inbox), dsn=fresh_db, env={"PBM_PHI_KEY": ""})
    assert made.returncode == 0, made.stderr
    nightly = run_pbm("etl", "nightly", str(inbox), dsn=fresh_db, env=ENV)
    assert "Traceback" not in nightly.stderr
    with connect(fresh_db) as conn:
        batches = conn.execute("SELECT feed, status, rows_received, rows_rejected FROM etl.batches").fetchall()
        assert len(batches) == 10 and {b[1] for b in batches} == {"completed"}, batches
        assert all(rejected == 0 for feed, _, _, rejected in batches if feed != "claims"), batches
        refused = conn.execute(
            "SELECT r.line_no - 1, r.rule, k.kind FROM etl.rejects AS r "
            "JOIN etl.batches AS b USING (batch_id) LEFT JOIN pbm_meta.synthetic_problem_claims AS k "
            "ON k.line_no = r.line_no - 1 WHERE b.feed = 'claims'"
        ).fetchall()
        assert refused, "expected the malformed problem claims to be refused"
        for line, rule, kind in refused:
            assert (rule, kind) in {("bad_npi", "invalid_prescriber_npi"), ("bad_ndc", "unknown_ndc")}, (
                line,
                rule,
            )
        members = scalar(conn, "SELECT count(*) FROM member.members WHERE cardholder_id LIKE 'SYN%'")
        assert members == 200


def test_set_based_elections_equal_what_ppp_elect_and_opt_out_make(seeded):
    """The loader writes M3P elections set-based; the M3P area's functions must give the same rows."""
    dsn, _ = seeded
    cols = (
        "member_id, plan_year, source, received_at, processed_at, effective_date, end_date, status, plan_id, "
        "acceptance_notice_on, termination_reason, termination_requested_at, termination_notice_on, auto_renew"
    )
    events = "member_id, plan_year, event_type, occurred_at, detail"
    with connect(dsn) as conn, conn.transaction(force_rollback=True):
        loaded = conn.execute(f"SELECT {cols} FROM ppp.elections ORDER BY member_id").fetchall()
        loaded_events = conn.execute(f"SELECT {events} FROM ppp.election_events ORDER BY 1, 3").fetchall()
        assert loaded and any(r[7] == "opted_out" for r in loaded)
        conn.execute(
            "CREATE TEMP TABLE again AS SELECT member_id, plan_year, source, received_at, processed_at, "
            "termination_requested_at FROM ppp.elections"
        )
        conn.execute("DELETE FROM ppp.election_events")
        conn.execute("DELETE FROM ppp.elections")
        conn.execute(
            "SELECT ppp.elect(member_id, source, received_at, plan_year, processed_at) FROM again ORDER BY member_id"
        )
        conn.execute(
            "SELECT ppp.opt_out(member_id, termination_requested_at, plan_year) FROM again "
            "WHERE termination_requested_at IS NOT NULL ORDER BY member_id"
        )
        assert conn.execute(f"SELECT {cols} FROM ppp.elections ORDER BY member_id").fetchall() == loaded
        assert conn.execute(f"SELECT {events} FROM ppp.election_events ORDER BY 1, 3").fetchall() == loaded_events


def test_the_claims_batch_goes_away_when_the_rest_of_the_load_fails(fresh_db):
    """The claims are COPYed on a second connection: rolled back, or deleted once committed, on failure."""
    from seeds import synthetic as syn
    from seeds import synthetic_io as sio

    ds = syn.generate(syn.Params(1, 50, 300, YEAR), syn.PartD("590.00", "2000.00", "0.2500", "35.00"))
    count = "SELECT count(*) FROM claims.batches WHERE source = 'synthetic'"
    before_commit = sio.ClaimsLoader(fresh_db, ds).start()
    before_commit.undo()
    committed = sio.ClaimsLoader(fresh_db, ds).start()
    batch_id = committed.commit()
    with connect(fresh_db) as conn:
        assert scalar(conn, count) == 1
        assert scalar(conn, "SELECT count(*) FROM claims.batch_claims WHERE batch_id = %s", [batch_id]) == 300
    committed.undo()
    with connect(fresh_db) as conn:
        assert scalar(conn, count) == 0
        assert scalar(conn, "SELECT count(*) FROM claims.batch_claims") == 0
