"""What each feed does to the core tables: inserts, changes, history, spans, and its own reject rules."""

from __future__ import annotations

import psycopg
import pytest
from etl_helpers import (
    MBI,
    PHARMACY2_NPI,
    PHARMACY_NPI,
    PHI_KEY,
    PRESCRIBER_NPI,
    csv_text,
    load,
    reject_rows,
    rejects,
    rows,
    scalar,
    setup_reference,
    write,
)

from pbmdb.db import connect


@pytest.fixture
def db_ref(fresh_db, monkeypatch):
    monkeypatch.setenv("PBM_PHI_KEY", PHI_KEY)
    setup_reference(fresh_db)
    return fresh_db


def member(cardholder, person="01", *, first="Grace", last="Hopper", dob="1940-12-09", gender="F",
           address="1 Navy Way", city="Arlington", state="VA", zip5="22201", mbi="", plan="COMM1",
           start="2025-01-01", end="", reason="", relationship="1"):  # fmt: skip
    return [cardholder, person, relationship, first, last, dob, gender, address, city, state, zip5, mbi, plan,
            start, end, reason]  # fmt: skip


def with_key(dsn, query, params=None):
    with connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


# --------------------------------------------------------------------------------------------------
# eligibility
# --------------------------------------------------------------------------------------------------
def test_eligibility_adds_members_and_spans_with_encrypted_mbis(db_ref, tmp_path):
    text = csv_text(
        "eligibility",
        [
            member("NEW001", mbi=MBI, plan="PARTD1"),
            member("NEW001", "02", first="Vincent", dob="1945-01-01", gender="M", relationship="2"),
        ],
    )
    r = load(db_ref, "eligibility", write(tmp_path, "eligibility_20250101.csv", text))
    assert (r.status, r.rows_loaded, r.rows_rejected, r.rows_inserted, r.rows_updated) == (
        "completed",
        2,
        0,
        4,
        0,
    )
    assert with_key(
        db_ref,
        "SELECT m.person_code, member.decrypt_phi(m.mbi_encrypted), m.mbi_hash = member.mbi_hash(%s), "
        "p.plan_code FROM member.members m JOIN member.coverage_spans cs USING (member_id) "
        "JOIN plan.plans p USING (plan_id) "
        "WHERE m.cardholder_id = 'NEW001' ORDER BY 1",
        [MBI],
    ) == [("01", MBI, True, "PARTD1"), ("02", None, None, "COMM1")]
    assert rows(
        db_ref,
        "SELECT h.valid_from::text, h.valid_to::text FROM member.member_history h "
        "JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'NEW001' ORDER BY m.person_code",
    ) == [("2025-01-01", "infinity"), ("2025-01-01", "infinity")]


def test_a_demographic_change_is_history_from_the_file_date_and_a_termination_ends_the_span(db_ref, tmp_path):
    load(db_ref, "eligibility", write(tmp_path, "eligibility_20250101.csv", csv_text("eligibility", [
        member("NEW001", mbi=MBI, plan="PARTD1")])))  # fmt: skip
    mbi_before = scalar(db_ref, "SELECT mbi_encrypted FROM member.members WHERE cardholder_id = 'NEW001'")

    moved = member("NEW001", mbi=MBI, plan="PARTD1", address="9 Bay Rd", city="Norfolk", zip5="23501")
    r = load(db_ref, "eligibility", write(tmp_path, "eligibility_20250301.csv", csv_text("eligibility", [moved])))
    assert (r.rows_loaded, r.rows_inserted, r.rows_updated) == (1, 0, 1)
    assert rows(
        db_ref,
        "SELECT h.address_line1, h.valid_from::text, h.valid_to::text FROM member.member_history h "
        "JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'NEW001' ORDER BY h.valid_from",
    ) == [("1 Navy Way", "2025-01-01", "2025-03-01"), ("9 Bay Rd", "2025-03-01", "infinity")]
    # the MBI did not change: not re-encrypted (a new random IV would change the bytes)
    assert scalar(db_ref, "SELECT mbi_encrypted FROM member.members WHERE cardholder_id = 'NEW001'") == mbi_before

    ended = member("NEW001", mbi=MBI, plan="PARTD1", address="9 Bay Rd", city="Norfolk", zip5="23501",
                   end="2025-05-31", reason="voluntary")  # fmt: skip
    switched = member("NEW001", mbi=MBI, plan="COMM1", address="9 Bay Rd", city="Norfolk", zip5="23501",
                      start="2025-06-01")  # fmt: skip
    r = load(
        db_ref,
        "eligibility",
        write(tmp_path, "eligibility_20250601.csv", csv_text("eligibility", [ended, switched])),
    )
    assert (r.rows_loaded, r.rows_rejected, r.rows_inserted, r.rows_updated) == (2, 0, 1, 1)
    assert rows(
        db_ref,
        "SELECT p.plan_code, cs.effective_date::text, cs.termination_date::text, cs.termination_reason "
        "FROM member.coverage_spans cs JOIN plan.plans p USING (plan_id) "
        "JOIN member.members m USING (member_id) "
        "WHERE m.cardholder_id = 'NEW001' ORDER BY cs.effective_date",
    ) == [("PARTD1", "2025-01-01", "2025-05-31", "voluntary"), ("COMM1", "2025-06-01", None, None)]


def test_overlapping_coverage_refuses_every_line_of_the_member(db_ref, tmp_path):
    lines = [
        member(
            "ABC123",
            first="Ada",
            last="Lovelace",
            dob="1950-12-10",
            address="1 Main St",
            city="Austin",
            state="TX",
            zip5="78701",
            mbi=MBI,
            end="2025-12-31",
        ),  # fmt: skip
        member(
            "ABC123",
            first="Ada",
            last="Lovelace",
            dob="1950-12-10",
            address="1 Main St",
            city="Austin",
            state="TX",
            zip5="78701",
            plan="PARTD1",
            mbi=MBI,
            start="2025-06-01",
        ),  # fmt: skip
        member("OTHER1"),
    ]
    r = load(db_ref, "eligibility", write(tmp_path, "eligibility_20250101.csv", csv_text("eligibility", lines)))
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (3, 1, 2)
    assert rejects(db_ref, r.batch_id) == [
        (2, "coverage_effective_date", "overlapping_span"),
        (3, "coverage_effective_date", "overlapping_span"),
    ]
    assert scalar(db_ref, "SELECT count(*) FROM member.coverage_spans cs JOIN member.members m "
                          "USING (member_id) "
                          "WHERE m.cardholder_id = 'ABC123'") == 0  # fmt: skip


def test_eligibility_reject_rules(db_ref, tmp_path):
    load(db_ref, "eligibility", write(tmp_path, "eligibility_20250101.csv", csv_text("eligibility", [
        member("OWNER1", mbi=MBI, plan="PARTD1")])))  # fmt: skip
    lines = [
        member("M1", plan="PARTD1", mbi="1EG4-TE5-MK73"),  # 2
        member("M2", plan="PARTD1"),  # 3: a Part D member needs an MBI
        member("M3", plan="PARTD1", mbi=MBI),  # 4: OWNER1's MBI
        member("M4", plan="NOPE"),  # 5
        member("M5", reason="death"),  # 6: a reason without a termination date
        member("M6", gender="X", zip5="7870", dob="2025-03-01"),  # 7: born after the file date 2025-02-01
        member("M7", last="One"),  # 8 and 9: one member, two versions
        member("M7", last="Two", start="2026-01-01"),
        member("m8", person="1234", start="2025-13-01", end="2024-12-31"),  # 10
    ]
    r = load(db_ref, "eligibility", write(tmp_path, "eligibility_20250201.csv", csv_text("eligibility", lines)))
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (9, 0, 9)
    assert rejects(db_ref, r.batch_id) == [
        (2, "mbi", "bad_mbi"),
        (3, "mbi", "required"),
        (4, "mbi", "key_in_use"),
        (5, "plan_code", "unknown_plan"),
        (6, "termination_reason", "inconsistent"),
        (7, "date_of_birth", "date_in_future"),
        (7, "gender", "bad_code"),
        (7, "zip5", "bad_format"),
        (8, "cardholder_id, person_code", "conflicting_duplicate"),
        (9, "cardholder_id, person_code", "conflicting_duplicate"),
        (10, "cardholder_id", "bad_format"),
        (10, "coverage_effective_date", "bad_date"),
        (10, "person_code", "bad_format"),
    ]
    # no MBI stays readable outside member.members
    found = {(n, c): v for n, c, v, _r, _d in reject_rows(db_ref, r.batch_id)}
    assert (found[(2, "mbi")], found[(4, "mbi")]) == ("1E*********73", "1E*******73")
    assert scalar(db_ref, "SELECT count(*) FROM etl.stage_eligibility WHERE mbi IS NOT NULL") == 0


def test_eligibility_with_mbis_needs_the_phi_key(db_ref, tmp_path, monkeypatch):
    monkeypatch.delenv("PBM_PHI_KEY")
    path = write(tmp_path, "eligibility_20250101.csv", csv_text("eligibility", [member("NEW001", mbi=MBI)]))
    with pytest.raises(psycopg.Error, match="the PHI key is not set"):
        load(db_ref, "eligibility", path)
    assert scalar(db_ref, "SELECT count(*) FROM etl.batches") == 0


# --------------------------------------------------------------------------------------------------
# drugs and prices
# --------------------------------------------------------------------------------------------------
def drug(ndc, **kw):
    values = dict(ndc_package_code="", drug_name="LIPITOR", generic_name="atorvastatin calcium",
                  strength="20 MG",
                  dosage_form="TABLET", route="", multi_source_code="O", therapeutic_class="STATINS",
                  drug_group="ATORVASTATIN 20MG TAB", dea_schedule="", is_insulin="", is_vaccine="",
                  is_specialty="", unit_of_measure="", package_size="", market_end_date="")  # fmt: skip
    values.update(kw)
    return [ndc, *values.values()]


def test_drugs_insert_update_and_defaults(db_ref, tmp_path):
    r = load(db_ref, "drugs", write(tmp_path, "drugs_20250101.csv", csv_text("drugs", [
        drug("00002759801", ndc_package_code="0002-7598-01"),
        drug("00002759701", ndc_package_code="0002-7597-01", drug_name="LIPITOR",
             generic_name="atorvastatin calcium",
             strength="10 MG", drug_group="ATORVASTATIN 10MG TAB", market_end_date="2030-12-31"),
        drug("00002759901", ndc_package_code="0002-7598-01"),
    ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_inserted, r.rows_updated) == (2, 1, 1)
    assert rejects(db_ref, r.batch_id) == [(4, "ndc_package_code", "inconsistent")]
    assert rows(
        db_ref,
        "SELECT route, dea_schedule, is_insulin, unit_of_measure, market_end_date::text FROM drug.drugs "
        "WHERE ndc11 IN ('00002759801', '00002759701') ORDER BY ndc11",
    ) == [("ORAL", 0, False, "EA", "2030-12-31"), ("ORAL", 0, False, "EA", None)]


def price(ndc, kind, unit, start, end="", mac=""):
    return [ndc, kind, mac, unit, start, end]


def prices_of(dsn, ndc):
    return rows(
        dsn,
        "SELECT p.price_type, m.mac_list_code, p.unit_price::text, p.effective_date::text, p.end_date::text "
        "FROM drug.prices p LEFT JOIN drug.mac_lists m USING (mac_list_id) WHERE p.ndc11 = %s "
        "ORDER BY p.price_type, p.effective_date",
        [ndc],
    )


def test_drug_prices_reject_rules(db_ref, tmp_path):
    lines = [
        price("00002759701", "AWP", "4.12345", "2025-01-01"),  # 2: fine
        price("00002759701", "MAC", "0.5", "2025-01-01"),  # 3: a MAC price needs its list
        price("00002759701", "AWP", "4.1", "2025-02-01", mac="MAC1"),  # 4: only MAC prices name a list
        price("00002759701", "MAC", "0.5", "2025-01-01", mac="NOPE"),  # 5
        price("99999999999", "WAC", "1", "2025-01-01"),  # 6: not in the catalog
        price("50242004062", "NADAC", "0", "2025-01-01"),  # 7
        price("50242004062", "WAC", "-3.5", "2025-01-01", end="2024-12-31"),  # 8
        price("50242004062", "AWP", "1.234567", "2025-01-01"),  # 9: 6 decimals
    ]
    r = load(db_ref, "drug_prices", write(tmp_path, "drug_prices_20250101.csv", csv_text("drug_prices", lines)))
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (8, 1, 7)
    assert rejects(db_ref, r.batch_id) == [
        (3, "mac_list_code", "required"),
        (4, "mac_list_code", "inconsistent"),
        (5, "mac_list_code", "unknown_mac_list"),
        (6, "ndc11", "unknown_drug"),
        (7, "unit_price", "not_positive"),
        (8, "end_date", "end_before_start"),
        (8, "unit_price", "negative_amount"),
        (9, "unit_price", "bad_number"),
    ]


def test_a_new_price_closes_the_open_one_before_it(db_ref, tmp_path):
    load(db_ref, "drug_prices", write(tmp_path, "drug_prices_20250101.csv", csv_text("drug_prices", [
        price("00002759701", "AWP", "4.00", "2025-01-01"),
        price("00002759701", "MAC", "0.50", "2025-01-01", mac="MAC1"),
    ])))  # fmt: skip
    r = load(db_ref, "drug_prices", write(tmp_path, "drug_prices_20250301.csv", csv_text("drug_prices", [
        price("00002759701", "AWP", "4.40", "2025-03-01"),
        price("50242004062", "NADAC", "10.00", "2025-01-01"),
        price("50242004062", "NADAC", "11.00", "2025-02-01"),
    ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_inserted, r.rows_updated) == (3, 3, 1)
    assert prices_of(db_ref, "00002759701") == [
        ("AWP", None, "4.00000", "2025-01-01", "2025-02-28"),
        ("AWP", None, "4.40000", "2025-03-01", None),
        ("MAC", "MAC1", "0.50000", "2025-01-01", None),
    ]
    assert prices_of(db_ref, "50242004062") == [
        ("NADAC", None, "10.00000", "2025-01-01", "2025-01-31"),
        ("NADAC", None, "11.00000", "2025-02-01", None),
    ]
    # an explicit end after the next start would overlap: every line of that NDC and benchmark is refused
    r = load(db_ref, "drug_prices", write(tmp_path, "drug_prices_20250401.csv", csv_text("drug_prices", [
        price("00002759701", "AWP", "4.50", "2025-04-01", end="2025-12-31"),
        price("00002759701", "AWP", "4.60", "2025-05-01"),
        price("00002759701", "WAC", "3.00", "2025-04-01"),
    ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_rejected) == (1, 2)
    assert rejects(db_ref, r.batch_id) == [
        (2, "effective_date", "overlapping_span"),
        (3, "effective_date", "overlapping_span"),
    ]


# --------------------------------------------------------------------------------------------------
# pharmacies, network, prescribers
# --------------------------------------------------------------------------------------------------
def test_pharmacies_and_their_ncpdp_ids(db_ref, tmp_path):
    r = load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20250101.csv", csv_text("pharmacies", [
        [PHARMACY_NPI, "4512345", "Main Street Pharmacy", "1 Main St", "Austin", "TX", "78701", "specialty"],
        ["1003000126", "451234", "Short ID", "3 Oak St", "Austin", "tx", "78703", "drive_thru"],
    ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_inserted, r.rows_updated) == (1, 0, 1)
    assert rejects(db_ref, r.batch_id) == [
        (3, "ncpdp_id", "bad_format"),
        (3, "pharmacy_type", "bad_code"),
        (3, "state", "bad_format"),
    ]
    assert scalar(db_ref, "SELECT pharmacy_type FROM network.pharmacies WHERE npi = %s", [PHARMACY_NPI]) == "specialty"
    # the NCPDP ID of another pharmacy, and one NCPDP ID for two NPIs in one file
    r = load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20250102.csv", csv_text("pharmacies", [
        [PHARMACY2_NPI, "4512345", "Copycat", "2 Elm St", "Austin", "TX", "78702", "retail"],
        ["1003000126", "4600001", "Twin A", "3 Oak St", "Austin", "TX", "78703", "retail"],
        ["1111111112", "4600001", "Twin B", "4 Oak St", "Austin", "TX", "78703", "retail"],
    ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_rejected) == (0, 3)
    assert reject_rows(db_ref, r.batch_id) == [
        (2, "ncpdp_id", "4512345", "key_in_use", f"belongs to the pharmacy with NPI {PHARMACY_NPI}"),
        (3, "ncpdp_id", "4600001", "key_in_use", "the file gives this NCPDP ID to more than one NPI"),
        (4, "ncpdp_id", "4600001", "key_in_use", "the file gives this NCPDP ID to more than one NPI"),
    ]


def test_network_participation(db_ref, tmp_path):
    r = load(db_ref, "network", write(tmp_path, "network_20250101.csv", csv_text("network", [
        ["NET1", PHARMACY_NPI, "RETAIL", "2025-01-01", ""],
        ["NET2", PHARMACY_NPI, "RETAIL", "2025-01-01", "2025-06-30"],
        ["NET9", PHARMACY_NPI, "RETAIL", "2025-01-01", ""],
        ["NET1", PHARMACY2_NPI, "NOPE", "2025-01-01", ""],
        ["NET1", "1234567890", "RETAIL", "2025-01-01", ""],
    ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_inserted, r.rows_rejected) == (2, 2, 3)
    assert rejects(db_ref, r.batch_id) == [
        (4, "network_code", "unknown_network"),
        (5, "contract_code", "unknown_contract"),
        (5, "pharmacy_npi", "unknown_pharmacy"),
        (6, "pharmacy_npi", "bad_npi"),
    ]
    # terminate NET1; a second NET2 span overlapping the first refuses both NET2 lines
    r = load(db_ref, "network", write(tmp_path, "network_20250201.csv", csv_text("network", [
        ["NET1", PHARMACY_NPI, "RETAIL", "2025-01-01", "2025-03-31"],
        ["NET2", PHARMACY_NPI, "RETAIL", "2025-01-01", "2025-12-31"],
        ["NET2", PHARMACY_NPI, "RETAIL", "2025-07-01", ""],
    ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_updated, r.rows_rejected) == (1, 1, 2)
    assert rejects(db_ref, r.batch_id) == [
        (3, "effective_date", "overlapping_span"),
        (4, "effective_date", "overlapping_span"),
    ]
    assert rows(
        db_ref,
        "SELECT n.network_code, p.termination_date::text FROM network.participations p "
        "JOIN network.networks n USING (network_id) ORDER BY 1",
    ) == [("NET1", "2025-03-31"), ("NET2", "2025-06-30")]


def test_prescribers(db_ref, tmp_path):
    r = load(db_ref, "prescribers", write(tmp_path, "prescribers_20250101.csv", csv_text("prescribers", [
        [PRESCRIBER_NPI, "AB1234567", "Jane", "Doe", "FAMILY MEDICINE", "TX", ""],
        ["1111111112", "A1234567", "John", "Roe", "CARDIOLOGY", "TX", "2025-02-30"],
        ["1222222220", "", "Edgar", "Poe", "PSYCHIATRY", "MD", "2024-12-31"],
    ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_inserted) == (2, 2)
    assert rejects(db_ref, r.batch_id) == [(3, "dea_number", "bad_format"), (3, "deactivated_on", "bad_date")]


# --------------------------------------------------------------------------------------------------
# prior authorizations
# --------------------------------------------------------------------------------------------------
def pa(number, **kw):
    values = dict(cardholder_id="ABC123", person_code="01", drug_group="OMALIZUMAB 150MG INJ",
                  prescriber_npi=PRESCRIBER_NPI, urgency="standard", status="received",
                  received_at="2025-03-01T09:00:00Z", decided_at="", decision_reason="", effective_date="",
                  expiration_date="", approved_quantity="")  # fmt: skip
    values.update(kw)
    return [number, *values.values()]


def test_prior_authorization_requests_decisions_and_events(db_ref, tmp_path):
    r = load(db_ref, "prior_authorizations", write(tmp_path, "prior_authorizations_20250301.csv", csv_text(
        "prior_authorizations", [
            pa("PA1", urgency="expedited"),
            pa("PA2", cardholder_id="NOBODY"),
            pa("PA3", drug_group="NO SUCH GROUP"),
            pa("PA4", status="approved", decided_at="2025-03-02T10:00:00Z"),
            pa("PA5", status="denied", decided_at="2025-02-28T10:00:00Z"),
            pa("PA6", status="approved", decided_at="2025-03-02T10:00", effective_date="2025-03-02",
               expiration_date="2026-03-01", approved_quantity="1"),
        ])))  # fmt: skip
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (6, 2, 4)
    assert rejects(db_ref, r.batch_id) == [
        (3, "cardholder_id", "unknown_member"),
        (4, "drug_group", "unknown_drug_group"),
        (5, "effective_date", "required"),
        (5, "expiration_date", "required"),
        (6, "decided_at", "end_before_start"),
        (6, "decision_reason", "required"),
    ]
    assert rows(
        db_ref,
        "SELECT pa_number, status, due_at - received_at, decided_at::text FROM claims.prior_authorizations "
        "ORDER BY pa_number",
    )[0][:3] == ("PA1", "received", __import__("datetime").timedelta(hours=24))
    r = load(db_ref, "prior_authorizations", write(tmp_path, "prior_authorizations_20250305.csv", csv_text(
        "prior_authorizations", [
            pa("PA1", urgency="expedited", status="denied", decided_at="2025-03-01T20:00:00Z",
               decision_reason="step therapy not tried"),
            pa("PA6", status="approved", decided_at="2025-03-02T10:00", effective_date="2025-03-02",
               expiration_date="2026-03-01", approved_quantity="1"),
        ])))  # fmt: skip
    assert (r.rows_loaded, r.rows_inserted, r.rows_updated) == (2, 0, 1)
    assert rows(
        db_ref,
        "SELECT pa.pa_number, e.from_status, e.to_status, e.occurred_at::text "
        "FROM claims.prior_authorization_events e JOIN claims.prior_authorizations pa "
        "USING (prior_authorization_id) ORDER BY e.occurred_at, pa.pa_number",
    ) == [
        ("PA1", None, "received", "2025-03-01 09:00:00+00"),
        ("PA1", "received", "denied", "2025-03-01 20:00:00+00"),
        ("PA6", None, "approved", "2025-03-02 10:00:00+00"),
    ]
