-- CMS DE-SynPUF Prescription Drug Events: fills adjudicated elsewhere, with patient pay and total cost
-- but no pharmacy, prescriber or BIN. They go to claims.prescription_drug_events (history for analysis),
-- never through adjudication (docs/decisions/0004-desynpuf-pde-table.md). The beneficiary must have been
-- loaded from a beneficiary summary file first (LOAD_ORDER).

CREATE OR REPLACE FUNCTION etl.validate_desynpuf_pde(p_batch_id bigint)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_rejects integer;
BEGIN
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT p_batch_id, c.line_no, v.column_name, v.value, v.rule, v.detail
    FROM (
        SELECT
            t.*,
            t.desynpuf_id IS NULL AS id_missing,
            t.desynpuf_id !~ '^[0-9A-F]{16}$' AS id_bad,
            t.desynpuf_id ~ '^[0-9A-F]{16}$' AND t.member_id IS NULL AS member_unknown,
            t.pde_id IS NULL AS pde_missing,
            t.pde_id !~ '^[0-9]{1,18}$' OR t.pde_id ~ '^0+$' AS pde_bad,
            t.srvc_dt IS NULL AS date_missing,
            t.srvc_dt IS NOT NULL AND t.service_date IS NULL AS date_bad,
            t.prod_srvc_id IS NULL AS ndc_missing,
            t.prod_srvc_id !~ '^[0-9]{1,11}$' AS ndc_bad,
            t.qty_dspnsd_num IS NULL AS qty_missing,
            t.qty_dspnsd_num IS NOT NULL AND t.qty IS NULL AS qty_bad,
            t.qty < 0 AS qty_negative,
            t.days_suply_num IS NULL AS days_missing,
            t.days_suply_num IS NOT NULL AND t.days IS NULL AS days_bad,
            t.days NOT BETWEEN 0 AND 365 AS days_range,
            t.ptnt_pay_amt IS NULL AS pay_missing,
            t.ptnt_pay_amt IS NOT NULL AND t.pay IS NULL AS pay_bad,
            t.pay < 0 AS pay_negative,
            t.tot_rx_cst_amt IS NULL AS cost_missing,
            t.tot_rx_cst_amt IS NOT NULL AND t.cost IS NULL AS cost_bad,
            t.cost < 0 AS cost_negative
        FROM (
            SELECT
                s.*,
                m.member_id,
                etl.yyyymmdd_date(s.srvc_dt) AS service_date,
                etl.to_quantity(s.qty_dspnsd_num) AS qty,
                etl.to_integer(s.days_suply_num) AS days,
                etl.to_money(s.ptnt_pay_amt) AS pay,
                etl.to_money(s.tot_rx_cst_amt) AS cost
            FROM etl.stage_desynpuf_pde AS s
            LEFT JOIN member.members AS m ON s.desynpuf_id = m.cardholder_id AND m.person_code = '01'
            WHERE
                s.batch_id = p_batch_id
                AND NOT EXISTS (
                    SELECT FROM etl.rejects AS r
                    WHERE
                        r.batch_id = p_batch_id AND r.line_no = s.line_no
                        AND r.rule IN ('invalid_encoding', 'blank_line', 'malformed_csv', 'wrong_column_count')
                )
            OFFSET 0
        ) AS t
        OFFSET 0
    ) AS c
    CROSS JOIN LATERAL (
        VALUES
        ('DESYNPUF_ID', c.desynpuf_id, 'required', c.id_missing, NULL),
        ('DESYNPUF_ID', c.desynpuf_id, 'bad_format', c.id_bad, '16 hexadecimal digits, upper case'),
        ('DESYNPUF_ID', c.desynpuf_id, 'unknown_member', c.member_unknown, 'load the beneficiary summary first'),
        ('PDE_ID', c.pde_id, 'required', c.pde_missing, NULL),
        ('PDE_ID', c.pde_id, 'bad_format', c.pde_bad, '1 to 18 digits, not zero'),
        ('SRVC_DT', c.srvc_dt, 'required', c.date_missing, NULL),
        ('SRVC_DT', c.srvc_dt, 'bad_date', c.date_bad, 'YYYYMMDD'),
        ('PROD_SRVC_ID', c.prod_srvc_id, 'required', c.ndc_missing, NULL),
        ('PROD_SRVC_ID', c.prod_srvc_id, 'bad_ndc', c.ndc_bad, 'up to 11 digits'),
        ('QTY_DSPNSD_NUM', c.qty_dspnsd_num, 'required', c.qty_missing, NULL),
        ('QTY_DSPNSD_NUM', c.qty_dspnsd_num, 'bad_number', c.qty_bad, 'up to 9 digits and 3 decimals'),
        ('QTY_DSPNSD_NUM', c.qty_dspnsd_num, 'negative_amount', c.qty_negative, NULL),
        ('DAYS_SUPLY_NUM', c.days_suply_num, 'required', c.days_missing, NULL),
        ('DAYS_SUPLY_NUM', c.days_suply_num, 'bad_number', c.days_bad, 'a whole number'),
        ('DAYS_SUPLY_NUM', c.days_suply_num, 'out_of_range', c.days_range, '0 to 365'),
        ('PTNT_PAY_AMT', c.ptnt_pay_amt, 'required', c.pay_missing, NULL),
        ('PTNT_PAY_AMT', c.ptnt_pay_amt, 'bad_number', c.pay_bad, 'up to 10 digits and 2 decimals'),
        ('PTNT_PAY_AMT', c.ptnt_pay_amt, 'negative_amount', c.pay_negative, NULL),
        ('TOT_RX_CST_AMT', c.tot_rx_cst_amt, 'required', c.cost_missing, NULL),
        ('TOT_RX_CST_AMT', c.tot_rx_cst_amt, 'bad_number', c.cost_bad, 'up to 10 digits and 2 decimals'),
        ('TOT_RX_CST_AMT', c.tot_rx_cst_amt, 'negative_amount', c.cost_negative, NULL)
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.id_missing OR c.id_bad OR c.member_unknown OR c.pde_missing OR c.pde_bad OR c.date_missing
            OR c.date_bad OR c.ndc_missing OR c.ndc_bad OR c.qty_missing OR c.qty_bad OR c.qty_negative
            OR c.days_missing OR c.days_bad OR c.days_range OR c.pay_missing OR c.pay_bad OR c.pay_negative
            OR c.cost_missing OR c.cost_bad OR c.cost_negative
        )
        AND v.failed;
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
            m.member_id, s.pde_id::bigint, to_date(s.srvc_dt, 'YYYYMMDD'), lpad(s.prod_srvc_id, 11, '0'),
            s.qty_dspnsd_num::numeric(12, 3), s.days_suply_num::smallint, s.ptnt_pay_amt::numeric(12, 2),
            s.tot_rx_cst_amt::numeric(12, 2), p_batch_id
        FROM etl.stage_desynpuf_pde AS s
        INNER JOIN member.members AS m ON s.desynpuf_id = m.cardholder_id AND m.person_code = '01'
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
                (e.date_of_service, e.product_id, e.quantity_dispensed, e.days_supply, e.patient_pay_amount, e.gross_drug_cost)
                IS DISTINCT FROM (
                    excluded.date_of_service, excluded.product_id, excluded.quantity_dispensed, excluded.days_supply,
                    excluded.patient_pay_amount, excluded.gross_drug_cost
                )
        RETURNING e.xmax = 0 AS is_new
    )
    SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) INTO inserted, updated FROM merged;
    SELECT count(*) INTO loaded
    FROM etl.stage_desynpuf_pde AS s
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (SELECT FROM etl.rejects AS r WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no);
END;
$$;
COMMENT ON FUNCTION etl.merge_desynpuf_pde(bigint) IS
'Upserts the good lines of a DE-SynPUF prescription drug event batch into claims.prescription_drug_events by (member, PDE_ID): new events inserted, changed ones updated, equal ones left alone.';
