-- Claims feed: NCPDP B1 claim requests as CSV. The ETL refuses what cannot be a claim request (missing
-- or malformed fields, bad identifiers, negative amounts, impossible dates, duplicates); everything
-- about meaning (eligibility, network, formulary, pricing) is adjudication's to decide, with NCPDP
-- reject codes. Good rows become a claims.batches row and its claims.batch_claims.

CREATE OR REPLACE FUNCTION etl.validate_claims(p_batch_id bigint, p_as_of date)
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
            t.bin IS NULL AS bin_missing,
            t.bin !~ '^[0-9]{6}([0-9]{2})?$' AS bin_bad,
            t.pcn IS NULL AS pcn_missing,
            t.pcn !~ '^[0-9A-Z]{1,10}$' AS pcn_bad,
            t.group_id IS NULL AS group_missing,
            t.group_id !~ '^[0-9A-Z-]{1,15}$' AS group_bad,
            t.cardholder_id IS NULL AS cardholder_missing,
            t.cardholder_id !~ '^[0-9A-Z]{1,20}$' AS cardholder_bad,
            t.person_code !~ '^[0-9]{1,3}$' AS person_code_bad,
            t.patient_date_of_birth IS NOT NULL AND t.dob IS NULL AS dob_bad,
            t.dob > t.dos AS dob_after_service,
            t.patient_gender_code NOT IN ('0', '1', '2') AS gender_bad,
            t.date_of_service IS NULL AS dos_missing,
            t.date_of_service IS NOT NULL AND t.dos IS NULL AS dos_bad,
            t.dos > p_as_of AS dos_future,
            t.service_provider_id IS NULL AS pharmacy_missing,
            t.pharmacy_id IS NULL AND NOT ref.npi_is_valid(t.service_provider_id) AS pharmacy_bad,
            t.prescriber_id IS NULL AS prescriber_missing,
            t.known_prescriber_id IS NULL AND NOT ref.npi_is_valid(t.prescriber_id) AS prescriber_bad,
            t.product_id IS NULL AS ndc_missing,
            t.product_id !~ '^[0-9]{11}$' AS ndc_bad,
            t.quantity_dispensed IS NULL AS qty_missing,
            t.quantity_dispensed IS NOT NULL AND t.qty IS NULL AS qty_bad,
            t.qty < 0 AS qty_negative,
            t.qty = 0 AS qty_zero,
            t.days_supply IS NULL AS days_missing,
            t.days_supply IS NOT NULL AND t.days IS NULL AS days_bad,
            t.days NOT BETWEEN 1 AND 365 AS days_range,
            t.fill_number IS NULL AS fill_missing,
            t.fill_number IS NOT NULL AND t.fill IS NULL AS fill_bad,
            t.fill NOT BETWEEN 0 AND 99 AS fill_range,
            t.daw_code !~ '^[0-9]$' AS daw_bad,
            t.rx_number IS NULL AS rx_missing,
            t.rx_number !~ '^[0-9]{1,12}$' AS rx_bad,
            t.date_prescription_written IS NOT NULL AND t.written IS NULL AS written_bad,
            t.written > t.dos AS written_after_service,
            t.submission_clarification_code IS NOT NULL AND t.scc IS NULL AS scc_bad,
            t.scc NOT BETWEEN 1 AND 99 AS scc_range,
            t.prior_authorization_number_submitted !~ '^[0-9A-Z]{1,11}$' AS pa_bad,
            t.ingredient_cost_submitted IS NULL AS ingredient_missing,
            t.ingredient_cost_submitted IS NOT NULL AND t.ingredient IS NULL AS ingredient_bad,
            t.ingredient < 0 AS ingredient_negative,
            t.dispensing_fee_submitted IS NOT NULL AND t.fee IS NULL AS fee_bad,
            t.fee < 0 AS fee_negative,
            t.usual_and_customary_charge IS NULL AS uc_missing,
            t.usual_and_customary_charge IS NOT NULL AND t.uc IS NULL AS uc_bad,
            t.uc < 0 AS uc_negative,
            t.gross_amount_due IS NULL AS gad_missing,
            t.gross_amount_due IS NOT NULL AND t.gad IS NULL AS gad_bad,
            t.gad < 0 AS gad_negative
        FROM (
            SELECT
                s.*,
                ph.pharmacy_id,
                pr.prescriber_id AS known_prescriber_id,
                etl.iso_date(s.patient_date_of_birth) AS dob,
                etl.iso_date(s.date_of_service) AS dos,
                etl.iso_date(s.date_prescription_written) AS written,
                etl.to_quantity(s.quantity_dispensed) AS qty,
                etl.to_integer(s.days_supply) AS days,
                etl.to_integer(s.fill_number) AS fill,
                etl.to_integer(s.submission_clarification_code) AS scc,
                etl.to_money(s.ingredient_cost_submitted) AS ingredient,
                etl.to_money(s.dispensing_fee_submitted) AS fee,
                etl.to_money(s.usual_and_customary_charge) AS uc,
                etl.to_money(s.gross_amount_due) AS gad
            FROM etl.stage_claims AS s
            -- An NPI the network already knows passed the check-digit constraint: only unknown ones are computed.
            LEFT JOIN network.pharmacies AS ph ON s.service_provider_id = ph.npi::text
            LEFT JOIN network.prescribers AS pr ON s.prescriber_id = pr.npi::text
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
        ('bin', c.bin, 'required', c.bin_missing, NULL),
        ('bin', c.bin, 'bad_format', c.bin_bad, '6 or 8 digits'),
        ('pcn', c.pcn, 'required', c.pcn_missing, NULL),
        ('pcn', c.pcn, 'bad_format', c.pcn_bad, '1 to 10 digits or capital letters'),
        ('group_id', c.group_id, 'required', c.group_missing, NULL),
        ('group_id', c.group_id, 'bad_format', c.group_bad, '1 to 15 digits, capital letters or dashes'),
        ('cardholder_id', c.cardholder_id, 'required', c.cardholder_missing, NULL),
        ('cardholder_id', c.cardholder_id, 'bad_format', c.cardholder_bad, '1 to 20 digits or capital letters'),
        ('person_code', c.person_code, 'bad_format', c.person_code_bad, '1 to 3 digits'),
        ('patient_date_of_birth', c.patient_date_of_birth, 'bad_date', c.dob_bad, 'YYYY-MM-DD'),
        (
            'patient_date_of_birth', c.patient_date_of_birth, 'date_in_future', c.dob_after_service,
            'after the date of service ' || c.date_of_service
        ),
        ('patient_gender_code', c.patient_gender_code, 'bad_code', c.gender_bad, '0 unknown, 1 male, 2 female'),
        ('date_of_service', c.date_of_service, 'required', c.dos_missing, NULL),
        ('date_of_service', c.date_of_service, 'bad_date', c.dos_bad, 'YYYY-MM-DD'),
        ('date_of_service', c.date_of_service, 'date_in_future', c.dos_future, 'after the file date ' || p_as_of),
        ('service_provider_id', c.service_provider_id, 'required', c.pharmacy_missing, NULL),
        ('service_provider_id', c.service_provider_id, 'bad_npi', c.pharmacy_bad, NULL),
        ('prescriber_id', c.prescriber_id, 'required', c.prescriber_missing, NULL),
        ('prescriber_id', c.prescriber_id, 'bad_npi', c.prescriber_bad, NULL),
        ('product_id', c.product_id, 'required', c.ndc_missing, NULL),
        ('product_id', c.product_id, 'bad_ndc', c.ndc_bad, NULL),
        ('quantity_dispensed', c.quantity_dispensed, 'required', c.qty_missing, NULL),
        ('quantity_dispensed', c.quantity_dispensed, 'bad_number', c.qty_bad, 'up to 9 digits and 3 decimals'),
        ('quantity_dispensed', c.quantity_dispensed, 'negative_amount', c.qty_negative, NULL),
        ('quantity_dispensed', c.quantity_dispensed, 'not_positive', c.qty_zero, NULL),
        ('days_supply', c.days_supply, 'required', c.days_missing, NULL),
        ('days_supply', c.days_supply, 'bad_number', c.days_bad, 'a whole number'),
        ('days_supply', c.days_supply, 'out_of_range', c.days_range, '1 to 365'),
        ('fill_number', c.fill_number, 'required', c.fill_missing, NULL),
        ('fill_number', c.fill_number, 'bad_number', c.fill_bad, 'a whole number'),
        ('fill_number', c.fill_number, 'out_of_range', c.fill_range, '0 to 99'),
        ('daw_code', c.daw_code, 'bad_code', c.daw_bad, 'one digit 0-9'),
        ('rx_number', c.rx_number, 'required', c.rx_missing, NULL),
        ('rx_number', c.rx_number, 'bad_format', c.rx_bad, '1 to 12 digits'),
        ('date_prescription_written', c.date_prescription_written, 'bad_date', c.written_bad, 'YYYY-MM-DD'),
        (
            'date_prescription_written', c.date_prescription_written, 'date_in_future', c.written_after_service,
            'after the date of service ' || c.date_of_service
        ),
        ('submission_clarification_code', c.submission_clarification_code, 'bad_number', c.scc_bad, 'a whole number'),
        ('submission_clarification_code', c.submission_clarification_code, 'out_of_range', c.scc_range, '1 to 99'),
        (
            'prior_authorization_number_submitted', c.prior_authorization_number_submitted, 'bad_format', c.pa_bad,
            '1 to 11 digits or capital letters'
        ),
        ('ingredient_cost_submitted', c.ingredient_cost_submitted, 'required', c.ingredient_missing, NULL),
        (
            'ingredient_cost_submitted', c.ingredient_cost_submitted, 'bad_number', c.ingredient_bad,
            'up to 10 digits and 2 decimals'
        ),
        ('ingredient_cost_submitted', c.ingredient_cost_submitted, 'negative_amount', c.ingredient_negative, NULL),
        ('dispensing_fee_submitted', c.dispensing_fee_submitted, 'bad_number', c.fee_bad, 'up to 10 digits and 2 decimals'),
        ('dispensing_fee_submitted', c.dispensing_fee_submitted, 'negative_amount', c.fee_negative, NULL),
        ('usual_and_customary_charge', c.usual_and_customary_charge, 'required', c.uc_missing, NULL),
        ('usual_and_customary_charge', c.usual_and_customary_charge, 'bad_number', c.uc_bad, 'up to 10 digits and 2 decimals'),
        ('usual_and_customary_charge', c.usual_and_customary_charge, 'negative_amount', c.uc_negative, NULL),
        ('gross_amount_due', c.gross_amount_due, 'required', c.gad_missing, NULL),
        ('gross_amount_due', c.gross_amount_due, 'bad_number', c.gad_bad, 'up to 10 digits and 2 decimals'),
        ('gross_amount_due', c.gross_amount_due, 'negative_amount', c.gad_negative, NULL)
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.bin_missing OR c.bin_bad OR c.pcn_missing OR c.pcn_bad OR c.group_missing OR c.group_bad
            OR c.cardholder_missing OR c.cardholder_bad OR c.person_code_bad OR c.dob_bad OR c.dob_after_service
            OR c.gender_bad OR c.dos_missing OR c.dos_bad OR c.dos_future OR c.pharmacy_missing OR c.pharmacy_bad
            OR c.prescriber_missing OR c.prescriber_bad OR c.ndc_missing OR c.ndc_bad OR c.qty_missing OR c.qty_bad
            OR c.qty_negative OR c.qty_zero OR c.days_missing OR c.days_bad OR c.days_range OR c.fill_missing
            OR c.fill_bad OR c.fill_range OR c.daw_bad OR c.rx_missing OR c.rx_bad OR c.written_bad
            OR c.written_after_service OR c.scc_bad OR c.scc_range OR c.pa_bad OR c.ingredient_missing
            OR c.ingredient_bad OR c.ingredient_negative OR c.fee_bad OR c.fee_negative OR c.uc_missing OR c.uc_bad
            OR c.uc_negative OR c.gad_missing OR c.gad_bad OR c.gad_negative
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;
    RETURN v_rejects;
END;
$$;
COMMENT ON FUNCTION etl.validate_claims(bigint, date) IS
'Records every failing rule of every readable line of a claims batch in etl.rejects (formats, NPI check digits, NDC-11, dates, amounts); p_as_of is the file date (no date of service after it). Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.merge_claims(
    p_batch_id bigint, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_claims_batch_id bigint;
BEGIN
    updated := 0;
    INSERT INTO claims.batches (source, file_name)
    SELECT 'etl', b.file_name FROM etl.batches AS b WHERE b.batch_id = p_batch_id
    RETURNING batch_id INTO v_claims_batch_id;

    -- Only validated lines reach the casts (the anti-join filters before the select list is computed).
    INSERT INTO claims.batch_claims (
        batch_id, line_no, bin, pcn, group_id, cardholder_id, person_code, patient_date_of_birth,
        patient_gender_code, date_of_service, service_provider_id, prescriber_id, product_id, quantity_dispensed,
        days_supply, fill_number, daw_code, rx_number, date_prescription_written, submission_clarification_code,
        prior_authorization_number_submitted, ingredient_cost_submitted, dispensing_fee_submitted,
        usual_and_customary_charge, gross_amount_due
    )
    SELECT
        v_claims_batch_id, s.line_no, s.bin, s.pcn, s.group_id, s.cardholder_id, s.person_code,
        s.patient_date_of_birth::date, s.patient_gender_code::smallint, s.date_of_service::date,
        s.service_provider_id, s.prescriber_id, s.product_id, s.quantity_dispensed::numeric(12, 3),
        s.days_supply::smallint, s.fill_number::smallint, s.daw_code::smallint, s.rx_number,
        s.date_prescription_written::date, s.submission_clarification_code::smallint,
        s.prior_authorization_number_submitted, s.ingredient_cost_submitted::numeric(12, 2),
        s.dispensing_fee_submitted::numeric(12, 2), s.usual_and_customary_charge::numeric(12, 2),
        s.gross_amount_due::numeric(12, 2)
    FROM etl.stage_claims AS s
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (SELECT FROM etl.rejects AS r WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no);
    GET DIAGNOSTICS inserted = ROW_COUNT;
    loaded := inserted;

    IF inserted = 0 THEN
        DELETE FROM claims.batches AS cb WHERE cb.batch_id = v_claims_batch_id;
    ELSE
        UPDATE etl.batches AS b SET claims_batch_id = v_claims_batch_id WHERE b.batch_id = p_batch_id;
    END IF;
END;
$$;
COMMENT ON FUNCTION etl.merge_claims(bigint) IS
'Stages the good lines of a claims batch as a claims.batches row (source etl, status received) with typed claims.batch_claims rows, ready for claims.adjudicate_batch; returns the lines loaded.';
