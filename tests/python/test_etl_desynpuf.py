"""The CMS DE-SynPUF fixture loads into members, Part D coverage and prescription drug events; the real
sample rows of the reference land exactly as read off their columns."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import pytest
from etl_helpers import load, rejects, rows, scalar, write

from etl import desynpuf

BENEFICIARY_HEADER = ",".join(f'"{c}"' for c in desynpuf.FEEDS["desynpuf_beneficiary"])
PDE_HEADER = ",".join(f'"{c}"' for c in desynpuf.FEEDS["desynpuf_pde"])


def test_the_fixture_files_are_what_the_generator_writes():
    for name, text in desynpuf.fixture_texts().items():
        assert (desynpuf.FIXTURE_DIR / name).read_text(encoding="utf-8") == text
    lines = (desynpuf.FIXTURE_DIR / desynpuf.PDE_FILE).read_text().splitlines()
    assert lines[1:3] == desynpuf.REAL_PDE


def test_the_fixture_loads_and_the_real_rows_land_as_read(fresh_db):
    ben = load(fresh_db, "desynpuf_beneficiary", desynpuf.FIXTURE_DIR / desynpuf.BENEFICIARY_FILE)
    pde = load(fresh_db, "desynpuf_pde", desynpuf.FIXTURE_DIR / desynpuf.PDE_FILE)
    assert (ben.status, ben.rows_received, ben.rows_loaded, ben.rows_rejected) == ("completed", 50, 50, 0)
    assert (pde.status, pde.rows_received, pde.rows_loaded, pde.rows_rejected) == ("completed", 200, 200, 0)
    # 0002056B40CEE448: born 19201001, sex 2, SSA state 15 (Indiana), county 680, 12 months of Part D in 2008
    # 0004D03F1BD5E607: born 19430701, sex 1, SSA state 5 (California), county 200, 12 months
    assert rows(
        fresh_db,
        "SELECT m.cardholder_id, m.date_of_birth, m.gender, m.state, m.city, p.plan_code, p.plan_type, "
        "cs.effective_date, cs.termination_date, cs.termination_reason "
        "FROM member.members m JOIN member.coverage_spans cs USING (member_id) "
        "JOIN plan.plans p USING (plan_id) "
        "WHERE m.cardholder_id IN ('0002056B40CEE448', '0004D03F1BD5E607') ORDER BY 1",
    ) == [
        ("0002056B40CEE448", dt.date(1920, 10, 1), "F", "IN", "SSA COUNTY 15680", "DESYNPUF",
         "medicare_part_d", dt.date(2008, 1, 1), dt.date(2008, 12, 31), None),
        ("0004D03F1BD5E607", dt.date(1943, 7, 1), "M", "CA", "SSA COUNTY 05200", "DESYNPUF",
         "medicare_part_d", dt.date(2008, 1, 1), dt.date(2008, 12, 31), None),
    ]  # fmt: skip
    # 30 units over 90 days for a total cost of 10 and patient pay 20: loaded as given
    assert rows(
        fresh_db,
        "SELECT m.cardholder_id, e.pde_id, e.date_of_service, e.product_id, e.quantity_dispensed, "
        "e.days_supply, e.patient_pay_amount, e.gross_drug_cost FROM claims.prescription_drug_events e "
        "JOIN member.members m USING (member_id) WHERE e.pde_id IN (782144413002221, 782974413241711) "
        "ORDER BY 2",
    ) == [
        ("0002056B40CEE448", 782144413002221, dt.date(2010, 3, 30), "61392018345", Decimal("30.000"), 30,
         Decimal("10.00"), Decimal("270.00")),
        ("0004D03F1BD5E607", 782974413241711, dt.date(2008, 4, 7), "53746022010", Decimal("30.000"), 90,
         Decimal("20.00"), Decimal("10.00")),
    ]  # fmt: skip
    # beneficiaries with no Part D month have no span; those who died are cut at the date of death
    fixture_lines = (desynpuf.FIXTURE_DIR / desynpuf.BENEFICIARY_FILE).read_text().splitlines()[1:]
    with_months = [line for line in fixture_lines if line.split(",")[11] != "0"]
    assert scalar(fresh_db, "SELECT count(*) FROM member.coverage_spans") == len(with_months)
    died = [line.split(",") for line in with_months if line.split(",")[2]]
    assert rows(
        fresh_db,
        "SELECT m.cardholder_id, cs.termination_date, cs.termination_reason FROM member.coverage_spans cs "
        "JOIN member.members m USING (member_id) WHERE cs.termination_reason IS NOT NULL ORDER BY 1",
    ) == sorted(
        (f[0], death, "death")
        for f in died
        for death in [dt.date(int(f[2][:4]), int(f[2][4:6]), int(f[2][6:]))]
        if death <= dt.date(2008, int(f[11]), calendar.monthrange(2008, int(f[11]))[1])
    )


def test_the_next_year_adds_a_span_and_history(fresh_db, tmp_path):
    real = desynpuf.REAL_BENEFICIARIES[0].split(",")
    load(fresh_db, "desynpuf_beneficiary", write(tmp_path, "DE1_0_2008_Beneficiary_Summary_File_Sample_0.csv",
         BENEFICIARY_HEADER + "\n" + ",".join(real) + "\n"))  # fmt: skip
    moved = list(real)
    moved[6], moved[11] = "45", "6"  # moved to Texas; 6 months of Part D in 2009
    name = "DE1_0_2009_Beneficiary_Summary_File_Sample_0.csv"
    r = load(
        fresh_db,
        "desynpuf_beneficiary",
        write(tmp_path, name, BENEFICIARY_HEADER + "\n" + ",".join(moved) + "\n"),
    )
    assert (r.rows_loaded, r.rows_inserted, r.rows_updated) == (1, 1, 1)
    assert rows(
        fresh_db,
        "SELECT cs.effective_date::text, cs.termination_date::text FROM member.coverage_spans cs ORDER BY 1",
    ) == [("2008-01-01", "2008-12-31"), ("2009-01-01", "2009-06-30")]
    assert rows(
        fresh_db,
        "SELECT state, valid_from::text, valid_to::text FROM member.member_history ORDER BY valid_from",
    ) == [("IN", "2008-01-01", "2009-01-01"), ("TX", "2009-01-01", "infinity")]


def test_desynpuf_reject_rules(fresh_db, tmp_path):
    real = desynpuf.REAL_BENEFICIARIES[0].split(",")

    def ben(**changes):
        cols = list(real)
        for index, value in changes.items():
            cols[int(index[1:])] = value
        return ",".join(cols)

    text = "\n".join(
        [
            BENEFICIARY_HEADER,
            ben(),  # 2
            ben(c0="0002056b40cee449"),  # 3: lower case
            ben(c0="00000000000000A1", c1="19201301"),  # 4: no month 13
            ben(c0="00000000000000A2", c6="77", c11="13"),  # 5: no SSA state 77, 13 months
            ben(c0="00000000000000A3", c2="20071231"),  # 6: died before 2008 with Part D months in 2008
            ben(c0="00000000000000A4", c3="3"),  # 7
        ]
    )
    r = load(fresh_db, "desynpuf_beneficiary", write(tmp_path, "desynpuf_beneficiary_2008.csv", text + "\n"))
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (6, 1, 5)
    assert rejects(fresh_db, r.batch_id) == [
        (3, "DESYNPUF_ID", "bad_format"),
        (4, "BENE_BIRTH_DT", "bad_date"),
        (5, "PLAN_CVRG_MOS_NUM", "out_of_range"),
        (5, "SP_STATE_CODE", "bad_code"),
        (6, "BENE_DEATH_DT", "inconsistent"),
        (7, "BENE_SEX_IDENT_CD", "bad_code"),
    ]
    text = "\n".join(
        [
            PDE_HEADER,
            "0002056B40CEE448,782144413002221,20100330,61392018345,30,30,10,270",  # 2: fine
            "00000000000000FF,782144413002222,20100330,61392018345,30,30,10,270",  # 3: nobody
            "0002056B40CEE448,782144413002223,20100230,61392018345,30,30,10,-270",  # 4: Feb 30, negative
            "0002056B40CEE448,782144413002224,20100301,6139201834X,30,400,10.5,270",  # 5: NDC, days, pay ok
            "0002056B40CEE448,782144413002221,20100330,61392018345,30,30,10,270",  # 6: same as 2
        ]
    )
    r = load(fresh_db, "desynpuf_pde", write(tmp_path, "desynpuf_pde_sample.csv", text + "\n"))
    assert (r.rows_received, r.rows_loaded, r.rows_rejected) == (5, 1, 4)
    assert rejects(fresh_db, r.batch_id) == [
        (3, "DESYNPUF_ID", "unknown_member"),
        (4, "SRVC_DT", "bad_date"),
        (4, "TOT_RX_CST_AMT", "negative_amount"),
        (5, "DAYS_SUPLY_NUM", "out_of_range"),
        (5, "PROD_SRVC_ID", "bad_ndc"),
        (6, "pde_id", "duplicate_row"),
    ]


@pytest.mark.parametrize("name", ["DE1_0_Beneficiary_Summary_File.csv", "beneficiaries.csv"])
def test_a_beneficiary_file_needs_its_year(fresh_db, tmp_path, name):
    from pbmdb import PbmError

    path = write(tmp_path, name, BENEFICIARY_HEADER + "\n")
    with pytest.raises(PbmError, match="cannot tell which year"):
        load(fresh_db, "desynpuf_beneficiary", path)
    assert load(fresh_db, "desynpuf_beneficiary", path, effective=dt.date(2009, 1, 1)).status == "completed"
