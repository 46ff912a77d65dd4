"""Helpers for the ETL tests: write feed files, load them through etl.loader, read batches and rejects.

Every test writes its own files; the expected rejects are worked out from those files by hand.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import psycopg

from etl.layouts import FEEDS
from etl.loader import LoadResult, load_file
from pbmdb.db import connect

PHI_KEY = "etl-test-key-not-a-secret-0123456789"  # PHI keys have at least 32 characters

# Valid identifiers from the reference: NPIs 1234567893 (CMS worked example) and 1558598797; the other
# NPIs below were computed with the Luhn-80840 rule by hand (check digit in the last position).
PHARMACY_NPI = "1234567893"
PHARMACY2_NPI = "1558598797"
PRESCRIBER_NPI = "1003000126"
BAD_NPI = "1234567890"  # check digit should be 3
MBI = "1EG4TE5MK73"  # CMS example

REFERENCE_SQL = f"""
INSERT INTO network.networks (network_code, name) VALUES ('NET1', 'Test network'), ('NET2', 'Second network');
INSERT INTO network.contracts (contract_code, name, brand_awp_discount, generic_awp_discount,
    brand_dispensing_fee, generic_dispensing_fee)
VALUES ('RETAIL', 'Retail contract', 0.17, 0.72, 1.50, 1.75);
INSERT INTO drug.mac_lists (mac_list_code, name) VALUES ('MAC1', 'Standard MAC');
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, network_id)
SELECT 'COMM1', 'Commercial', 'commercial', '610014', 'PCN1', 'GRP1', network_id
FROM network.networks WHERE network_code = 'NET1';
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, contract_number, pbp_id, network_id)
SELECT 'PARTD1', 'Part D', 'medicare_part_d', '610014', 'PCND', 'GRPD', 'S1234', '001', network_id
FROM network.networks WHERE network_code = 'NET1';
INSERT INTO drug.drugs (ndc11, drug_name, generic_name, strength, dosage_form, multi_source_code,
    therapeutic_class, drug_group)
VALUES
    ('00002759701', 'LIPITOR', 'atorvastatin calcium', '10 MG', 'TABLET', 'O', 'STATINS',
     'ATORVASTATIN 10MG TAB'),
    ('50242004062', 'XOLAIR', 'omalizumab', '150 MG', 'INJECTION', 'N', 'IMMUNOLOGY',
     'OMALIZUMAB 150MG INJ');
INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
VALUES ('{PHARMACY_NPI}', '4512345', 'Main Street Pharmacy', '1 Main St', 'Austin', 'TX', '78701', 'retail');
INSERT INTO member.members (cardholder_id, person_code, first_name, last_name, date_of_birth, gender,
    address_line1, city, state, zip5)
VALUES ('ABC123', '01', 'Ada', 'Lovelace', '1950-12-10', 'F', '1 Main St', 'Austin', 'TX', '78701');
"""


def setup_reference(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT set_config('pbm.effective_date', '2025-01-01', false)")
        conn.execute(REFERENCE_SQL)


def csv_text(feed: str, rows: list[list[str]], header: list[str] | None = None) -> str:
    """A feed file's text: the layout's header (or the one given) and the rows, CSV-quoted where needed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header if header is not None else FEEDS[feed])
    writer.writerows(rows)
    return out.getvalue()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def load(dsn: str, feed: str, path: Path, **kw) -> LoadResult:
    with connect(dsn) as conn:
        return load_file(conn, feed, path, **kw)


def reject_rows(dsn: str, batch_id: int) -> list[tuple]:
    """(line, column, value, rule, detail) of a batch, sorted by line, column and rule (code points, not
    the database's collation)."""
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT line_no, column_name, value, rule, detail FROM etl.rejects WHERE batch_id = %s",
            [batch_id],
        ).fetchall()
    return sorted(found, key=lambda r: (r[0], r[1] or "", r[3]))


def rejects(dsn: str, batch_id: int) -> list[tuple[int, str | None, str]]:
    """(line, column, rule) of a batch, sorted."""
    return [(n, c, rule) for n, c, _v, rule, _d in reject_rows(dsn, batch_id)]


def scalar(dsn: str, query: str, params=None):
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchone()[0]


def rows(dsn: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def claim(**overrides: str) -> list[str]:
    """A valid claims line (file date 2025-11-01 or later); override fields by name."""
    values = {
        "bin": "610014",
        "pcn": "PCN1",
        "group_id": "GRP1",
        "cardholder_id": "ABC123",
        "person_code": "01",
        "patient_date_of_birth": "1950-12-10",
        "patient_gender_code": "2",
        "date_of_service": "2025-10-15",
        "service_provider_id": PHARMACY_NPI,
        "prescriber_id": PRESCRIBER_NPI,
        "product_id": "00002759701",
        "quantity_dispensed": "30",
        "days_supply": "30",
        "fill_number": "0",
        "daw_code": "0",
        "rx_number": "100001",
        "date_prescription_written": "2025-10-01",
        "submission_clarification_code": "",
        "prior_authorization_number_submitted": "",
        "ingredient_cost_submitted": "12.50",
        "dispensing_fee_submitted": "1.75",
        "usual_and_customary_charge": "20.00",
        "gross_amount_due": "14.25",
    }
    unknown = set(overrides) - set(values)
    assert not unknown, unknown
    values.update(overrides)
    return [values[c] for c in FEEDS["claims"]]
