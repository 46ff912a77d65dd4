-- CMS DE-SynPUF Prescription Drug Events: fills adjudicated elsewhere, with patient pay and total cost
-- but no pharmacy, prescriber or BIN. They go to claims.prescription_drug_events (history for analysis),
-- never through adjudication (docs/decisions/0008-desynpuf-pde-table.md). The beneficiary must have been
-- loaded from a beneficiary summary file first (LOAD_ORDER). Validated like claims: one fault per column,
-- a parallel-capable scan for faulty lines, details only for those (0009-etl-validation-in-two-passes.md).

CREATE OR REPLACE FUNCTION etl.pde_faults(p_batch_id bigint)
RETURNS TABLE (
    line_no integer,
    faulty boolean,
    member_id bigint,
    service_date date,
    desynpuf_id text,
    f_desynpuf_id text,
    pde_id text,
    f_pde_id text,
    srvc_dt text,
    f_srvc_dt text,
    prod_srvc_id text,
    f_prod_srvc_id text,
    qty_dspnsd_num text,
    f_qty_dspnsd_num text,
    days_suply_num text,
    f_days_suply_num text,
    ptnt_pay_amt text,
    f_ptnt_pay_amt text,
    tot_rx_cst_amt text,
    f_tot_rx_cst_amt text
)
LANGUAGE sql
STABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT
        f.line_no,
        num_nonnulls(
            f.f_desynpuf_id, f.f_pde_id, f.f_srvc_dt, f.f_prod_srvc_id, f.f_qty_dspnsd_num, f.f_days_suply_num,
            f.f_ptnt_pay_amt, f.f_tot_rx_cst_amt
        ) > 0 AS faulty,
        f.member_id,
        f.service_date,
        f.desynpuf_id,
        f.f_desynpuf_id,
        f.pde_id,
        f.f_pde_id,
        f.srvc_dt,
        f.f_srvc_dt,
        f.prod_srvc_id,
        f.f_prod_srvc_id,
        f.qty_dspnsd_num,
        f.f_qty_dspnsd_num,
        f.days_suply_num,
        f.f_days_suply_num,
        f.ptnt_pay_amt,
        f.f_ptnt_pay_amt,
        f.tot_rx_cst_amt,
        f.f_tot_rx_cst_amt
    FROM (
        SELECT
            s.line_no,
            m.member_id,
            d.day AS service_date,
            s.desynpuf_id,
            CASE
                WHEN s.desynpuf_id IS NULL THEN 'required'
                WHEN s.desynpuf_id !~ '^[0-9A-F]{16}$' THEN 'bad_format'
                WHEN m.member_id IS NULL THEN 'unknown_member'
            END AS f_desynpuf_id,
            s.pde_id,
            CASE
                WHEN s.pde_id IS NULL THEN 'required'
                WHEN NOT etl.is_digits(s.pde_id, 18) OR ltrim(s.pde_id, '0') = '' THEN 'bad_format'
            END AS f_pde_id,
            s.srvc_dt,
            CASE WHEN s.srvc_dt IS NULL THEN 'required' WHEN d.day IS NULL THEN 'bad_date' END AS f_srvc_dt,
            s.prod_srvc_id,
            CASE
                WHEN s.prod_srvc_id IS NULL THEN 'required' WHEN NOT etl.is_digits(s.prod_srvc_id, 11) THEN 'bad_ndc'
            END AS f_prod_srvc_id,
            s.qty_dspnsd_num,
            CASE
                WHEN s.qty_dspnsd_num IS NULL THEN 'required' ELSE etl.quantity_fault(s.qty_dspnsd_num, TRUE)
            END AS f_qty_dspnsd_num,
            s.days_suply_num,
            CASE
                WHEN s.days_suply_num IS NULL THEN 'required' ELSE etl.whole_number_fault(s.days_suply_num, 0, 365)
            END AS f_days_suply_num,
            s.ptnt_pay_amt,
            CASE WHEN s.ptnt_pay_amt IS NULL THEN 'required' ELSE etl.money_fault(s.ptnt_pay_amt) END AS f_ptnt_pay_amt,
            s.tot_rx_cst_amt,
            CASE
                WHEN s.tot_rx_cst_amt IS NULL THEN 'required' ELSE etl.money_fault(s.tot_rx_cst_amt)
            END AS f_tot_rx_cst_amt
        FROM etl.stage_desynpuf_pde AS s
        LEFT JOIN etl.calendar AS c ON s.srvc_dt = c.yyyymmdd
        CROSS JOIN LATERAL (SELECT coalesce(c.day, etl.yyyymmdd_date(s.srvc_dt)) AS day) AS d
        LEFT JOIN member.members AS m ON s.desynpuf_id = m.cardholder_id AND m.person_code = '01'
        WHERE
            s.batch_id = p_batch_id
            AND NOT EXISTS (
                SELECT FROM etl.rejects AS r
                WHERE
                    r.batch_id = p_batch_id AND r.line_no = s.line_no
                    AND r.rule IN ('invalid_encoding', 'blank_line', 'malformed_csv', 'wrong_column_count')
            )
    ) AS f;
END;
COMMENT ON FUNCTION etl.pde_faults(bigint) IS
'Every readable line of a DE-SynPUF prescription drug event batch with its member, its service date and, for each column, the reject rule its value breaks (f_<column>, NULL when fine); faulty = any column broke one.';

CREATE OR REPLACE FUNCTION etl.faulty_pde_lines(p_batch_id bigint)
RETURNS SETOF integer
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    RETURN QUERY SELECT f.line_no FROM etl.pde_faults(p_batch_id) AS f WHERE f.faulty;
END;
$$;
COMMENT ON FUNCTION etl.faulty_pde_lines(bigint) IS
'The lines of a DE-SynPUF prescription drug event batch that break at least one rule: one scan, parallel when possible.';

CREATE OR REPLACE FUNCTION etl.validate_desynpuf_pde(p_batch_id bigint)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_faulty integer [] := ARRAY(SELECT etl.faulty_pde_lines(p_batch_id));
    v_rejects integer;
BEGIN
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT p_batch_id, f.line_no, v.column_name, v.value, v.rule, v.detail
    FROM etl.pde_faults(p_batch_id) AS f
    INNER JOIN unnest(v_faulty) AS l (line_no) ON f.line_no = l.line_no
    CROSS JOIN LATERAL (
        VALUES
        (
            'DESYNPUF_ID', f.desynpuf_id, f.f_desynpuf_id,
            CASE f.f_desynpuf_id
                WHEN 'bad_format' THEN '16 hexadecimal digits, upper case'
                WHEN 'unknown_member' THEN 'load the beneficiary summary first'
            END
        ),
        ('PDE_ID', f.pde_id, f.f_pde_id, CASE f.f_pde_id WHEN 'bad_format' THEN '1 to 18 digits, not zero' END),
        ('SRVC_DT', f.srvc_dt, f.f_srvc_dt, CASE f.f_srvc_dt WHEN 'bad_date' THEN 'YYYYMMDD' END),
        (
            'PROD_SRVC_ID', f.prod_srvc_id, f.f_prod_srvc_id,
            CASE f.f_prod_srvc_id WHEN 'bad_ndc' THEN 'up to 11 digits' END
        ),
        (
            'QTY_DSPNSD_NUM', f.qty_dspnsd_num, f.f_qty_dspnsd_num,
            CASE f.f_qty_dspnsd_num WHEN 'bad_number' THEN 'up to 9 digits and 3 decimals' END
        ),
        (
            'DAYS_SUPLY_NUM', f.days_suply_num, f.f_days_suply_num,
            CASE f.f_days_suply_num WHEN 'bad_number' THEN 'a whole number' WHEN 'out_of_range' THEN '0 to 365' END
        ),
        (
            'PTNT_PAY_AMT', f.ptnt_pay_amt, f.f_ptnt_pay_amt,
            CASE f.f_ptnt_pay_amt WHEN 'bad_number' THEN 'up to 10 digits and 2 decimals' END
        ),
        (
            'TOT_RX_CST_AMT', f.tot_rx_cst_amt, f.f_tot_rx_cst_amt,
            CASE f.f_tot_rx_cst_amt WHEN 'bad_number' THEN 'up to 10 digits and 2 decimals' END
        )
    ) AS v (column_name, value, rule, detail)
    WHERE v.rule IS NOT NULL;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;
    RETURN v_rejects;
END;
$$;
COMMENT ON FUNCTION etl.validate_desynpuf_pde(bigint) IS
'Records every failing rule of every readable line of a DE-SynPUF prescription drug event batch in etl.rejects (the beneficiary must be a member already). Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.merge_desynpuf_pde(
    p_batch_id bigint, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
BEGIN
    WITH merged AS (
        INSERT INTO claims.prescription_drug_events AS e (
            member_id, pde_id, date_of_service, product_id, quantity_dispensed, days_supply, patient_pay_amount,
            gross_drug_cost, etl_batch_id
        )
        SELECT
            m.member_id, s.pde_id::bigint, coalesce(c.day, etl.yyyymmdd_date(s.srvc_dt)),
            lpad(s.prod_srvc_id, 11, '0'),
            s.qty_dspnsd_num::numeric(12, 3), s.days_suply_num::smallint, s.ptnt_pay_amt::numeric(12, 2),
            s.tot_rx_cst_amt::numeric(12, 2), p_batch_id
        FROM etl.stage_desynpuf_pde AS s
        INNER JOIN member.members AS m ON s.desynpuf_id = m.cardholder_id AND m.person_code = '01'
        LEFT JOIN etl.calendar AS c ON s.srvc_dt = c.yyyymmdd
        WHERE
            s.batch_id = p_batch_id
            AND NOT EXISTS (SELECT FROM etl.rejects AS r WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no)
        ON CONFLICT (member_id, pde_id) DO UPDATE
            SET date_of_service = excluded.date_of_service,
                product_id = excluded.product_id,
                quantity_dispensed = excluded.quantity_dispensed,
                days_supply = excluded.days_supply,
                patient_pay_amount = excluded.patient_pay_amount,
                gross_drug_cost = excluded.gross_drug_cost,
                etl_batch_id = excluded.etl_batch_id
            WHERE
                (
                    e.date_of_service, e.product_id, e.quantity_dispensed, e.days_supply, e.patient_pay_amount,
                    e.gross_drug_cost
                )
                IS DISTINCT FROM (
                    excluded.date_of_service, excluded.product_id, excluded.quantity_dispensed, excluded.days_supply,
                    excluded.patient_pay_amount, excluded.gross_drug_cost
                )
        RETURNING e.xmax = 0 AS is_new
    )
    SELECT count(*) FILTER (WHERE m.is_new), count(*) FILTER (WHERE NOT m.is_new) INTO inserted, updated
    FROM merged AS m;
    SELECT count(*) INTO loaded
    FROM etl.stage_desynpuf_pde AS s
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (SELECT FROM etl.rejects AS r WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no);
END;
$$;
COMMENT ON FUNCTION etl.merge_desynpuf_pde(bigint) IS
'Upserts the good lines of a DE-SynPUF prescription drug event batch into claims.prescription_drug_events by (member, PDE_ID): new events inserted, changed ones updated, equal ones left alone.';
