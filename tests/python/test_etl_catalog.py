"""The catalog agrees with etl/layouts.py and documents itself; every claims rule fires on its own line."""

from __future__ import annotations

from etl_helpers import claim, csv_text, load, reject_rows, rows, setup_reference, write

from etl.layouts import FEEDS, LOAD_ORDER


def test_staging_tables_are_the_layouts(db):
    assert sorted(LOAD_ORDER) == sorted(FEEDS)
    assert sorted(r[0] for r in rows(db, "SELECT feed FROM etl.feeds")) == sorted(FEEDS)
    for feed, columns in FEEDS.items():
        staged = rows(db, "SELECT etl.staging_columns(%s)", [feed])[0][0]
        assert staged == [c.lower() for c in columns], feed


def test_every_etl_object_has_a_comment(db):
    missing = rows(
        db,
        """
        SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'etl' AND c.relkind IN ('r', 'v', 'm', 'p')
            AND obj_description(c.oid, 'pg_class') IS NULL
        UNION ALL
        SELECT c.oid::regclass::text || '.' || a.attname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE n.nspname = 'etl' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            AND col_description(c.oid, a.attnum) IS NULL
            AND a.attname NOT IN ('batch_id', 'reject_id', 'rule', 'feed', 'day')
        UNION ALL
        SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'etl' AND obj_description(p.oid, 'pg_proc') IS NULL
        UNION ALL
        SELECT 'claims.prescription_drug_events.' || a.attname FROM pg_attribute a
        WHERE a.attrelid = 'claims.prescription_drug_events'::regclass AND a.attnum > 0
            AND col_description(a.attrelid, a.attnum) IS NULL
        """,
    )
    assert missing == []


# One line per rule of the claims feed: the field changed, and the (column, rule) it must give.
CLAIM_RULES = [
    ({"bin": ""}, "bin", "required"),
    ({"bin": "61001"}, "bin", "bad_format"),
    ({"pcn": ""}, "pcn", "required"),
    ({"pcn": "pcn1"}, "pcn", "bad_format"),
    ({"group_id": ""}, "group_id", "required"),
    ({"group_id": "GRP_1"}, "group_id", "bad_format"),
    ({"cardholder_id": ""}, "cardholder_id", "required"),
    ({"cardholder_id": "A" * 21}, "cardholder_id", "bad_format"),
    ({"person_code": "1234"}, "person_code", "bad_format"),
    ({"patient_date_of_birth": "1950-02-29"}, "patient_date_of_birth", "bad_date"),
    ({"patient_date_of_birth": "2025-10-16"}, "patient_date_of_birth", "date_in_future"),
    ({"patient_gender_code": "M"}, "patient_gender_code", "bad_code"),
    ({"date_of_service": ""}, "date_of_service", "required"),
    ({"date_of_service": "2025-10-32"}, "date_of_service", "bad_date"),
    ({"date_of_service": "2025-11-02"}, "date_of_service", "date_in_future"),
    ({"service_provider_id": ""}, "service_provider_id", "required"),
    ({"service_provider_id": "1234567890"}, "service_provider_id", "bad_npi"),
    ({"prescriber_id": ""}, "prescriber_id", "required"),
    ({"prescriber_id": "3234567893"}, "prescriber_id", "bad_npi"),
    ({"product_id": ""}, "product_id", "required"),
    ({"product_id": "0000275970A"}, "product_id", "bad_ndc"),
    ({"quantity_dispensed": ""}, "quantity_dispensed", "required"),
    ({"quantity_dispensed": "30.0001"}, "quantity_dispensed", "bad_number"),
    ({"quantity_dispensed": "-1"}, "quantity_dispensed", "negative_amount"),
    ({"quantity_dispensed": "0.000"}, "quantity_dispensed", "not_positive"),
    ({"days_supply": ""}, "days_supply", "required"),
    ({"days_supply": "30.5"}, "days_supply", "bad_number"),
    ({"days_supply": "0"}, "days_supply", "out_of_range"),
    ({"fill_number": ""}, "fill_number", "required"),
    ({"fill_number": "one"}, "fill_number", "bad_number"),
    ({"fill_number": "100"}, "fill_number", "out_of_range"),
    ({"daw_code": "10"}, "daw_code", "bad_code"),
    ({"rx_number": ""}, "rx_number", "required"),
    ({"rx_number": "1234567890123"}, "rx_number", "bad_format"),
    ({"date_prescription_written": "2025/10/01"}, "date_prescription_written", "bad_date"),
    ({"date_prescription_written": "2025-10-16"}, "date_prescription_written", "date_in_future"),
    ({"submission_clarification_code": "x"}, "submission_clarification_code", "bad_number"),
    ({"submission_clarification_code": "0"}, "submission_clarification_code", "out_of_range"),
    ({"prior_authorization_number_submitted": "PA-1"}, "prior_authorization_number_submitted", "bad_format"),
    ({"ingredient_cost_submitted": ""}, "ingredient_cost_submitted", "required"),
    ({"ingredient_cost_submitted": "1,5"}, "ingredient_cost_submitted", "bad_number"),
    ({"ingredient_cost_submitted": "-0.01"}, "ingredient_cost_submitted", "negative_amount"),
    ({"dispensing_fee_submitted": "12345678901"}, "dispensing_fee_submitted", "bad_number"),
    ({"dispensing_fee_submitted": "-1.75"}, "dispensing_fee_submitted", "negative_amount"),
    ({"usual_and_customary_charge": ""}, "usual_and_customary_charge", "required"),
    ({"usual_and_customary_charge": "$20"}, "usual_and_customary_charge", "bad_number"),
    ({"usual_and_customary_charge": "-20"}, "usual_and_customary_charge", "negative_amount"),
    ({"gross_amount_due": ""}, "gross_amount_due", "required"),
    ({"gross_amount_due": "14.255"}, "gross_amount_due", "bad_number"),
    ({"gross_amount_due": "-14.25"}, "gross_amount_due", "negative_amount"),
]


def test_every_claims_rule_fires_on_its_line_and_nothing_else(fresh_db, tmp_path):
    setup_reference(fresh_db)
    # each line its own Rx number (the claims key), unless the line is about the Rx number
    lines = [claim(**({"rx_number": str(1000 + i)} | fields)) for i, (fields, _c, _r) in enumerate(CLAIM_RULES)]
    lines.append(claim(rx_number="999999", quantity_dispensed="0.5", ingredient_cost_submitted="-0.00"))
    r = load(fresh_db, "claims", write(tmp_path, "claims_20251101.csv", csv_text("claims", lines)))
    expected = sorted((i + 2, column, rule) for i, (_f, column, rule) in enumerate(CLAIM_RULES))
    found = [(n, c, rule) for n, c, _v, rule, _d in reject_rows(fresh_db, r.batch_id)]
    assert found == expected
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (len(lines), 1, len(CLAIM_RULES))
