"""Every kind of bad feed file gets precise rejects and counts that add up; nothing crashes.

The expected rejects are read off the files written in each test (line 1 is the header).
"""

from __future__ import annotations

import pytest
from etl_helpers import (
    BAD_NPI,
    claim,
    csv_text,
    load,
    reject_rows,
    rejects,
    rows,
    scalar,
    setup_reference,
    write,
)

from etl.layouts import FEEDS


@pytest.fixture
def db_ref(fresh_db):
    setup_reference(fresh_db)
    return fresh_db


def staged_claims(dsn, claims_batch_id):
    return [
        r[0]
        for r in rows(
            dsn,
            "SELECT line_no FROM claims.batch_claims WHERE batch_id = %s ORDER BY line_no",
            [claims_batch_id],
        )
    ]


def test_wrong_column_count_rejects_those_lines_and_loads_the_others(db_ref, tmp_path):
    text = csv_text("claims", [claim(rx_number="100001"), claim(rx_number="100002")[:-1]])
    text += ",".join(claim(rx_number="100003")) + "\n" + ",".join([*claim(rx_number="100004"), "extra"]) + "\n"
    r = load(db_ref, "claims", write(tmp_path, "claims_20251101.csv", text))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("completed", 4, 2, 2)
    assert r.staging_method == "line_by_line"
    assert reject_rows(db_ref, r.batch_id) == [
        (
            3,
            None,
            ",".join(claim(rx_number="100002")[:-1]),
            "wrong_column_count",
            "expected 23 columns, found 22",
        ),
        (
            5,
            None,
            ",".join([*claim(rx_number="100004"), "extra"]),
            "wrong_column_count",
            "expected 23 columns, found 24",
        ),
    ]
    assert staged_claims(db_ref, r.claims_batch_id) == [2, 4]


def test_bad_dates(db_ref, tmp_path):
    text = csv_text(
        "claims",
        [
            claim(rx_number="1", date_of_service="2025-02-30"),  # 2: no such day
            claim(rx_number="2", date_of_service="20251015"),  # 3: not YYYY-MM-DD
            claim(rx_number="3", date_of_service="2025-11-02"),  # 4: after the file date 2025-11-01
            claim(rx_number="4", patient_date_of_birth="1950-13-01"),  # 5: no month 13
            claim(rx_number="5", date_prescription_written="2025-10-20"),  # 6: written after service 2025-10-15
            claim(rx_number="6", date_of_service="2024-02-29", date_prescription_written="2024-02-01"),  # 7: leap day
        ],
    )
    r = load(db_ref, "claims", write(tmp_path, "claims_20251101.csv", text))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("completed", 6, 1, 5)
    assert r.staging_method == "copy_csv"
    assert rejects(db_ref, r.batch_id) == [
        (2, "date_of_service", "bad_date"),
        (3, "date_of_service", "bad_date"),
        (4, "date_of_service", "date_in_future"),
        (5, "patient_date_of_birth", "bad_date"),
        (6, "date_prescription_written", "date_in_future"),
    ]
    assert staged_claims(db_ref, r.claims_batch_id) == [7]


def test_bad_npi_and_ndc(db_ref, tmp_path):
    text = csv_text(
        "claims",
        [
            claim(rx_number="1", service_provider_id=BAD_NPI),  # 2: wrong check digit
            claim(rx_number="2", prescriber_id="123456789"),  # 3: 9 digits
            claim(rx_number="3", product_id="0002-7597-01"),  # 4: dashes
            claim(rx_number="4", product_id="0000275970"),  # 5: 10 digits
            claim(rx_number="5"),  # 6: fine
        ],
    )
    r = load(db_ref, "claims", write(tmp_path, "claims_20251101.csv", text))
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (5, 1, 4)
    assert rejects(db_ref, r.batch_id) == [
        (2, "service_provider_id", "bad_npi"),
        (3, "prescriber_id", "bad_npi"),
        (4, "product_id", "bad_ndc"),
        (5, "product_id", "bad_ndc"),
    ]


def test_negative_amounts_and_every_failing_rule_of_a_line(db_ref, tmp_path):
    text = csv_text(
        "claims",
        [
            claim(rx_number="1", ingredient_cost_submitted="-12.50"),
            claim(
                rx_number="2",
                quantity_dispensed="-30",
                usual_and_customary_charge="-20.00",
                gross_amount_due="-1",
            ),
            claim(rx_number="3", ingredient_cost_submitted="12.345", quantity_dispensed="0", days_supply="400"),
            claim(rx_number="4", bin="", pcn="pcn 1", fill_number="x"),
            claim(rx_number="5"),
        ],
    )
    r = load(db_ref, "claims", write(tmp_path, "claims_20251101.csv", text))
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (5, 1, 4)
    assert rejects(db_ref, r.batch_id) == [
        (2, "ingredient_cost_submitted", "negative_amount"),
        (3, "gross_amount_due", "negative_amount"),
        (3, "quantity_dispensed", "negative_amount"),
        (3, "usual_and_customary_charge", "negative_amount"),
        (4, "days_supply", "out_of_range"),
        (4, "ingredient_cost_submitted", "bad_number"),
        (4, "quantity_dispensed", "not_positive"),
        (5, "bin", "required"),
        (5, "fill_number", "bad_number"),
        (5, "pcn", "bad_format"),
    ]


def test_duplicate_lines_inside_a_file(db_ref, tmp_path):
    text = csv_text(
        "claims",
        [
            claim(rx_number="100001"),  # 2: kept
            claim(rx_number="100001"),  # 3: same as 2
            claim(rx_number="100002", ingredient_cost_submitted="12.50"),  # 4: same key as 5, other values
            claim(rx_number="100002", ingredient_cost_submitted="13.00"),  # 5
            claim(rx_number="100001"),  # 6: same as 2
            claim(rx_number="100003"),  # 7: kept
        ],
    )
    r = load(db_ref, "claims", write(tmp_path, "claims_20251101.csv", text))
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (6, 2, 4)
    found = reject_rows(db_ref, r.batch_id)
    assert [(n, rule, detail) for n, _c, _v, rule, detail in found] == [
        (3, "duplicate_row", "same as line 2"),
        (
            4,
            "conflicting_duplicate",
            "lines 4, 5 have the same service_provider_id, rx_number, fill_number with different values",
        ),
        (
            5,
            "conflicting_duplicate",
            "lines 4, 5 have the same service_provider_id, rx_number, fill_number with different values",
        ),
        (6, "duplicate_row", "same as line 2"),
    ]
    assert staged_claims(db_ref, r.claims_batch_id) == [2, 7]


def test_lines_in_a_wrong_encoding_are_rejected_with_their_bytes_shown(db_ref, tmp_path, monkeypatch):
    monkeypatch.setenv("PBM_PHI_KEY", "k")
    good = [
        "ABC999",
        "01",
        "1",
        "Ada",
        "Byron",
        "1950-12-10",
        "F",
        "1 Main St",
        "Austin",
        "TX",
        "78701",
        "",
        "COMM1",
        "2025-01-01",
        "",
        "",
    ]
    text = csv_text("eligibility", [good]).encode("utf-8")
    latin1 = ",".join(
        [
            "JOS001",
            "01",
            "1",
            "José",
            "García",
            "1960-01-01",
            "M",
            "2 Elm St",
            "Austin",
            "TX",
            "78701",
            "",
            "COMM1",
            "2025-01-01",
            "",
            "",
        ]
    ).encode("latin-1")
    nul = b"NUL001,01,1,A\x00B,C,1960-01-01,M,3 Oak St,Austin,TX,78701,,COMM1,2025-01-01,,"
    data = text + latin1 + b"\n" + nul + b"\n"
    r = load(db_ref, "eligibility", write(tmp_path, "eligibility_20251101.csv", data))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("completed", 3, 1, 2)
    assert r.staging_method == "line_by_line"
    found = reject_rows(db_ref, r.batch_id)
    assert [(n, c, rule) for n, c, _v, rule, _d in found] == [
        (3, None, "invalid_encoding"),
        (4, None, "invalid_encoding"),
    ]
    assert found[0][2].startswith("JOS001,01,1,Jos\\xe9,Garc\\xeda,")
    assert found[1][2].startswith("NUL001,01,1,A\\x00B,")
    assert scalar(db_ref, "SELECT count(*) FROM member.members WHERE cardholder_id = 'ABC999'") == 1


def test_a_utf16_file_is_refused_as_a_whole(db_ref, tmp_path):
    text = csv_text(
        "drugs",
        [
            [
                "00002759701",
                "",
                "LIPITOR",
                "atorvastatin",
                "10 MG",
                "TABLET",
                "",
                "O",
                "STATINS",
                "G",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        ]
        * 2,
    )
    r = load(db_ref, "drugs", write(tmp_path, "drugs_20251101.csv", text.encode("utf-16")))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("rejected", 2, 0, 2)
    assert reject_rows(db_ref, r.batch_id) == [
        (0, None, None, "wrong_encoding", "UTF-16LE byte order mark: save the file as UTF-8")
    ]


def test_an_empty_file(db_ref, tmp_path):
    r = load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20251101.csv", b""))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("rejected", 0, 0, 0)
    assert reject_rows(db_ref, r.batch_id) == [(0, None, None, "empty_file", "the file has no bytes")]


def test_a_header_only_file_is_a_complete_batch_of_nothing(db_ref, tmp_path):
    r = load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20251101.csv", csv_text("pharmacies", [])))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("completed", 0, 0, 0)
    assert rejects(db_ref, r.batch_id) == []


def test_a_truncated_file_is_refused_and_nothing_is_merged(db_ref, tmp_path):
    text = csv_text("claims", [claim(rx_number="1"), claim(rx_number="2")])
    cut = ",".join(claim(rx_number="3"))[:40]
    r = load(db_ref, "claims", write(tmp_path, "claims_20251101.csv", text + cut))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("rejected", 3, 0, 3)
    assert reject_rows(db_ref, r.batch_id) == [
        (
            4,
            None,
            cut,
            "truncated_file",
            "line 4 does not end with a line break: the file was cut off; nothing loaded",
        )
    ]
    assert r.claims_batch_id is None
    assert scalar(db_ref, "SELECT count(*) FROM claims.batch_claims") == 0


def test_an_unexpected_header_names_each_differing_column(db_ref, tmp_path):
    header = list(FEEDS["claims"])
    header[2] = "group"  # column 3
    header = header[:-1]  # gross_amount_due missing
    text = csv_text("claims", [claim(rx_number="1"), claim(rx_number="2")], header=header)
    r = load(db_ref, "claims", write(tmp_path, "claims_20251101.csv", text))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("rejected", 2, 0, 2)
    assert reject_rows(db_ref, r.batch_id) == [
        (
            1,
            "gross_amount_due",
            None,
            "unexpected_header",
            "column 23: expected 'gross_amount_due', found nothing",
        ),
        (1, "group_id", "group", "unexpected_header", "column 3: expected 'group_id', found 'group'"),
    ]


def test_blank_lines_and_broken_quotes(db_ref, tmp_path):
    good = "1234567893,4512345,Main Street Pharmacy,1 Main St,Austin,TX,78701,retail\n"
    text = (
        csv_text("pharmacies", [])
        + good
        + "\n"
        + '1558598797,4599999,"Broken, Inc,2 Elm St,Austin,TX,78702,retail\n'
        + '1558598797,4599999,"Quoted, Inc.",2 Elm St,Austin,TX,78702,retail\n'
    )
    r = load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20251101.csv", text))
    assert (r.status, r.rows_received, r.rows_loaded, r.rows_rejected) == ("completed", 4, 2, 2)
    assert rejects(db_ref, r.batch_id) == [(3, None, "blank_line"), (4, None, "malformed_csv")]
    assert scalar(db_ref, "SELECT name FROM network.pharmacies WHERE npi = '1558598797'") == "Quoted, Inc."


def test_crlf_files_and_quoted_fields_load_by_copy(db_ref, tmp_path):
    text = csv_text(
        "pharmacies",
        [["1558598797", "4599999", 'The "Corner", Pharmacy', "2 Elm St", "Austin", "TX", "78702", "retail"]],
    ).replace("\n", "\r\n")
    r = load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20251101.csv", text))
    assert (r.status, r.rows_loaded, r.staging_method) == ("completed", 1, "copy_csv")
    assert scalar(db_ref, "SELECT name FROM network.pharmacies WHERE npi = '1558598797'") == 'The "Corner", Pharmacy'


def test_line_by_line_staging_reads_good_lines_exactly_as_copy_does(db_ref, tmp_path):
    lines = [
        ["1558598797", "4599999", 'The "Corner", Pharmacy', "", "Austin", "TX", "78702", "retail"],
        ["1003000126", "4500001", "Plain", "3 Oak St", "Dallas", "TX", "75001", "mail"],
        ["1111111112", "4500002", ",", '""', "", "TX", "75001", "mail"],
    ]
    text = csv_text("pharmacies", lines)
    fast = load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20251101.csv", text))
    staged_fast = rows(
        db_ref,
        "SELECT line_no, npi, ncpdp_id, name, address_line1, city FROM etl.stage_pharmacies ORDER BY 1",
    )
    slow = load(db_ref, "pharmacies", write(tmp_path, "pharmacies_20251102.csv", text + "only,three,columns\n"))
    staged_slow = rows(
        db_ref,
        "SELECT line_no, npi, ncpdp_id, name, address_line1, city FROM etl.stage_pharmacies ORDER BY 1",
    )
    assert (fast.staging_method, slow.staging_method) == ("copy_csv", "line_by_line")
    assert staged_slow[:3] == staged_fast
    assert staged_fast[0][3:] == ('The "Corner", Pharmacy', None, "Austin")
    assert staged_fast[2][3:] == (",", '""', None)
