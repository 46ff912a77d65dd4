-- Claims feed: NCPDP B1 claim requests as CSV. The ETL refuses what cannot be a claim request (missing
-- or malformed fields, bad identifiers, negative amounts, impossible dates, duplicates); everything
-- about meaning (eligibility, network, formulary, pricing) is adjudication's to decide, with NCPDP
-- reject codes. Good rows become a claims.batches row and its claims.batch_claims.
--
-- Built for a million lines (docs/decisions/0009-etl-validation-in-two-passes.md): the rules of one column
-- exclude each other, so each column has one fault (the rule it breaks, or NULL); one scan that can run
-- in parallel finds the faulty lines, and only those are spelled out as rejects.

CREATE OR REPLACE FUNCTION etl.claim_faults(p_batch_id bigint, p_as_of date)
RETURNS TABLE (
    line_no integer,
    faulty boolean,
    bin text,
    f_bin text,
    pcn text,
    f_pcn text,
    group_id text,
    f_group_id text,
    cardholder_id text,
    f_cardholder_id text,
    person_code text,
    f_person_code text,
    patient_date_of_birth text,
    f_patient_date_of_birth text,
    patient_gender_code text,
    f_patient_gender_code text,
    date_of_service text,
    f_date_of_service text,
    service_provider_id text,
    f_service_provider_id text,
    prescriber_id text,
    f_prescriber_id text,
    product_id text,
    f_product_id text,
    quantity_dispensed text,
    f_quantity_dispensed text,
    days_supply text,
    f_days_supply text,
    fill_number text,
    f_fill_number text,
    daw_code text,
    f_daw_code text,
    rx_number text,
    f_rx_number text,
    date_prescription_written text,
    f_date_prescription_written text,
    submission_clarification_code text,
    f_submission_clarification_code text,
    prior_authorization_number_submitted text,
    f_prior_authorization_number_submitted text,
    ingredient_cost_submitted text,
    f_ingredient_cost_submitted text,
    dispensing_fee_submitted text,
    f_dispensing_fee_submitted text,
    usual_and_customary_charge text,
    f_usual_and_customary_charge text,
    gross_amount_due text,
    f_gross_amount_due text
)
LANGUAGE sql
STABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT
        f.line_no,
        num_nonnulls(
            f.f_bin, f.f_pcn, f.f_group_id, f.f_cardholder_id, f.f_person_code, f.f_patient_date_of_birth,
            f.f_patient_gender_code, f.f_date_of_service, f.f_service_provider_id, f.f_prescriber_id, f.f_product_id,
            f.f_quantity_dispensed, f.f_days_supply, f.f_fill_number, f.f_daw_code, f.f_rx_number,
            f.f_date_prescription_written, f.f_submission_clarification_code, f.f_prior_authorization_number_submitted,
            f.f_ingredient_cost_submitted, f.f_dispensing_fee_submitted, f.f_usual_and_customary_charge,
            f.f_gross_amount_due
        ) > 0 AS faulty,
        f.bin,
        f.f_bin,
        f.pcn,
        f.f_pcn,
        f.group_id,
        f.f_group_id,
        f.cardholder_id,
        f.f_cardholder_id,
        f.person_code,
        f.f_person_code,
        f.patient_date_of_birth,
        f.f_patient_date_of_birth,
        f.patient_gender_code,
        f.f_patient_gender_code,
        f.date_of_service,
        f.f_date_of_service,
        f.service_provider_id,
        f.f_service_provider_id,
        f.prescriber_id,
        f.f_prescriber_id,
        f.product_id,
        f.f_product_id,
        f.quantity_dispensed,
        f.f_quantity_dispensed,
        f.days_supply,
        f.f_days_supply,
        f.fill_number,
        f.f_fill_number,
        f.daw_code,
        f.f_daw_code,
        f.rx_number,
        f.f_rx_number,
        f.date_prescription_written,
        f.f_date_prescription_written,
        f.submission_clarification_code,
        f.f_submission_clarification_code,
        f.prior_authorization_number_submitted,
        f.f_prior_authorization_number_submitted,
        f.ingredient_cost_submitted,
        f.f_ingredient_cost_submitted,
        f.dispensing_fee_submitted,
        f.f_dispensing_fee_submitted,
        f.usual_and_customary_charge,
        f.f_usual_and_customary_charge,
        f.gross_amount_due,
        f.f_gross_amount_due
    FROM (
        SELECT
            s.line_no,
            s.bin,
            CASE
                WHEN s.bin IS NULL THEN 'required'
                WHEN length(s.bin) NOT IN (6, 8) OR ltrim(s.bin, '0123456789') <> '' THEN 'bad_format'
            END AS f_bin,
            s.pcn,
            CASE WHEN s.pcn IS NULL THEN 'required' WHEN s.pcn !~ '^[0-9A-Z]{1,10}$' THEN 'bad_format' END AS f_pcn,
            s.group_id,
            CASE
                WHEN s.group_id IS NULL THEN 'required' WHEN s.group_id !~ '^[0-9A-Z-]{1,15}$' THEN 'bad_format'
            END AS f_group_id,
            s.cardholder_id,
            CASE
                WHEN s.cardholder_id IS NULL THEN 'required'
                WHEN s.cardholder_id !~ '^[0-9A-Z]{1,20}$' THEN 'bad_format'
            END AS f_cardholder_id,
            s.person_code,
            CASE WHEN NOT etl.is_digits(s.person_code, 3) THEN 'bad_format' END AS f_person_code,
            s.patient_date_of_birth,
            CASE
                WHEN s.patient_date_of_birth IS NULL THEN NULL
                WHEN d.dob IS NULL THEN 'bad_date'
                WHEN d.dob > d.dos THEN 'date_in_future'
            END AS f_patient_date_of_birth,
            s.patient_gender_code,
            CASE WHEN s.patient_gender_code NOT IN ('0', '1', '2') THEN 'bad_code' END AS f_patient_gender_code,
            s.date_of_service,
            CASE
                WHEN s.date_of_service IS NULL THEN 'required'
                WHEN d.dos IS NULL THEN 'bad_date'
                WHEN d.dos > p_as_of THEN 'date_in_future'
            END AS f_date_of_service,
            s.service_provider_id,
            CASE
                WHEN s.service_provider_id IS NULL THEN 'required'
                -- an NPI the network knows passed the check-digit constraint: only unknown ones are computed
                WHEN ph.pharmacy_id IS NULL AND NOT ref.npi_is_valid(s.service_provider_id) THEN 'bad_npi'
            END AS f_service_provider_id,
            s.prescriber_id,
            CASE
                WHEN s.prescriber_id IS NULL THEN 'required'
                WHEN pr.prescriber_id IS NULL AND NOT ref.npi_is_valid(s.prescriber_id) THEN 'bad_npi'
            END AS f_prescriber_id,
            s.product_id,
            CASE
                WHEN s.product_id IS NULL THEN 'required'
                WHEN length(s.product_id) <> 11 OR ltrim(s.product_id, '0123456789') <> '' THEN 'bad_ndc'
            END AS f_product_id,
            s.quantity_dispensed,
            CASE
                WHEN s.quantity_dispensed IS NULL THEN 'required' ELSE etl.quantity_fault(s.quantity_dispensed)
            END AS f_quantity_dispensed,
            s.days_supply,
            CASE
                WHEN s.days_supply IS NULL THEN 'required' ELSE etl.whole_number_fault(s.days_supply, 1, 365)
            END AS f_days_supply,
            s.fill_number,
            CASE
                WHEN s.fill_number IS NULL THEN 'required' ELSE etl.whole_number_fault(s.fill_number, 0, 99)
            END AS f_fill_number,
            s.daw_code,
            CASE
                WHEN s.daw_code NOT IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') THEN 'bad_code'
            END AS f_daw_code,
            s.rx_number,
            CASE
                WHEN s.rx_number IS NULL THEN 'required' WHEN NOT etl.is_digits(s.rx_number, 12) THEN 'bad_format'
            END AS f_rx_number,
            s.date_prescription_written,
            CASE
                WHEN s.date_prescription_written IS NULL THEN NULL
                WHEN d.written IS NULL THEN 'bad_date'
                WHEN d.written > d.dos THEN 'date_in_future'
            END AS f_date_prescription_written,
            s.submission_clarification_code,
            etl.whole_number_fault(s.submission_clarification_code, 1, 99) AS f_submission_clarification_code,
            s.prior_authorization_number_submitted,
            CASE
                WHEN s.prior_authorization_number_submitted !~ '^[0-9A-Z]{1,11}$' THEN 'bad_format'
            END AS f_prior_authorization_number_submitted,
            s.ingredient_cost_submitted,
            CASE
                WHEN s.ingredient_cost_submitted IS NULL THEN 'required'
                ELSE etl.money_fault(s.ingredient_cost_submitted)
            END AS f_ingredient_cost_submitted,
            s.dispensing_fee_submitted,
            etl.money_fault(s.dispensing_fee_submitted) AS f_dispensing_fee_submitted,
            s.usual_and_customary_charge,
            CASE
                WHEN s.usual_and_customary_charge IS NULL THEN 'required'
                ELSE etl.money_fault(s.usual_and_customary_charge)
            END AS f_usual_and_customary_charge,
            s.gross_amount_due,
            CASE
                WHEN s.gross_amount_due IS NULL THEN 'required' ELSE etl.money_fault(s.gross_amount_due)
            END AS f_gross_amount_due
        FROM etl.stage_claims AS s
        -- dates by one hash join each; a valid day outside the calendar falls back to etl.iso_date
        LEFT JOIN etl.calendar AS c_dob ON s.patient_date_of_birth = c_dob.iso
        LEFT JOIN etl.calendar AS c_dos ON s.date_of_service = c_dos.iso
        LEFT JOIN etl.calendar AS c_written ON s.date_prescription_written = c_written.iso
        CROSS JOIN
            LATERAL (
                SELECT
                    coalesce(c_dob.day, etl.iso_date(s.patient_date_of_birth)) AS dob,
                    coalesce(c_dos.day, etl.iso_date(s.date_of_service)) AS dos,
                    coalesce(c_written.day, etl.iso_date(s.date_prescription_written)) AS written
            ) AS d
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
    ) AS f;
END;
COMMENT ON FUNCTION etl.claim_faults(bigint, date) IS
'Every readable line of a claims batch with, for each column, the reject rule its value breaks (f_<column>, NULL when fine) and faulty = any column broke one. p_as_of is the file date (no date of service after it). Inlined by the planner.';

CREATE OR REPLACE FUNCTION etl.faulty_claim_lines(p_batch_id bigint, p_as_of date)
RETURNS SETOF integer
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    -- RETURN QUERY runs the scan in parallel workers when the server has them to spare.
    RETURN QUERY SELECT c.line_no FROM etl.claim_faults(p_batch_id, p_as_of) AS c WHERE c.faulty;
END;
$$;
COMMENT ON FUNCTION etl.faulty_claim_lines(bigint, date) IS
'The lines of a claims batch that break at least one rule: one scan of the staging table, parallel when possible.';

CREATE OR REPLACE FUNCTION etl.validate_claims(p_batch_id bigint, p_as_of date)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_faulty integer [] := ARRAY(SELECT etl.faulty_claim_lines(p_batch_id, p_as_of));
    v_rejects integer;
BEGIN
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT p_batch_id, c.line_no, v.column_name, v.value, v.rule, v.detail
    FROM etl.claim_faults(p_batch_id, p_as_of) AS c
    INNER JOIN unnest(v_faulty) AS f (line_no) ON c.line_no = f.line_no
    CROSS JOIN LATERAL (
        VALUES
        ('bin', c.bin, c.f_bin, CASE c.f_bin WHEN 'bad_format' THEN '6 or 8 digits' END),
        ('pcn', c.pcn, c.f_pcn, CASE c.f_pcn WHEN 'bad_format' THEN '1 to 10 digits or capital letters' END),
        (
            'group_id', c.group_id, c.f_group_id,
            CASE c.f_group_id WHEN 'bad_format' THEN '1 to 15 digits, capital letters or dashes' END
        ),
        (
            'cardholder_id', c.cardholder_id, c.f_cardholder_id,
            CASE c.f_cardholder_id WHEN 'bad_format' THEN '1 to 20 digits or capital letters' END
        ),
        ('person_code', c.person_code, c.f_person_code, '1 to 3 digits'),
        (
            'patient_date_of_birth', c.patient_date_of_birth, c.f_patient_date_of_birth,
            CASE c.f_patient_date_of_birth
                WHEN 'bad_date' THEN 'YYYY-MM-DD'
                ELSE 'after the date of service ' || c.date_of_service
            END
        ),
        ('patient_gender_code', c.patient_gender_code, c.f_patient_gender_code, '0 unknown, 1 male, 2 female'),
        (
            'date_of_service', c.date_of_service, c.f_date_of_service,
            CASE c.f_date_of_service
                WHEN 'bad_date' THEN 'YYYY-MM-DD' WHEN 'date_in_future' THEN 'after the file date ' || p_as_of
            END
        ),
        ('service_provider_id', c.service_provider_id, c.f_service_provider_id, NULL),
        ('prescriber_id', c.prescriber_id, c.f_prescriber_id, NULL),
        ('product_id', c.product_id, c.f_product_id, NULL),
        (
            'quantity_dispensed', c.quantity_dispensed, c.f_quantity_dispensed,
            CASE c.f_quantity_dispensed WHEN 'bad_number' THEN 'up to 9 digits and 3 decimals' END
        ),
        (
            'days_supply', c.days_supply, c.f_days_supply,
            CASE c.f_days_supply WHEN 'bad_number' THEN 'a whole number' WHEN 'out_of_range' THEN '1 to 365' END
        ),
        (
            'fill_number', c.fill_number, c.f_fill_number,
            CASE c.f_fill_number WHEN 'bad_number' THEN 'a whole number' WHEN 'out_of_range' THEN '0 to 99' END
        ),
        ('daw_code', c.daw_code, c.f_daw_code, 'one digit 0-9'),
        ('rx_number', c.rx_number, c.f_rx_number, CASE c.f_rx_number WHEN 'bad_format' THEN '1 to 12 digits' END),
        (
            'date_prescription_written', c.date_prescription_written, c.f_date_prescription_written,
            CASE c.f_date_prescription_written
                WHEN 'bad_date' THEN 'YYYY-MM-DD'
                ELSE 'after the date of service ' || c.date_of_service
            END
        ),
        (
            'submission_clarification_code', c.submission_clarification_code, c.f_submission_clarification_code,
            CASE c.f_submission_clarification_code WHEN 'bad_number' THEN 'a whole number' ELSE '1 to 99' END
        ),
        (
            'prior_authorization_number_submitted', c.prior_authorization_number_submitted,
            c.f_prior_authorization_number_submitted, '1 to 11 digits or capital letters'
        ),
        (
            'ingredient_cost_submitted', c.ingredient_cost_submitted, c.f_ingredient_cost_submitted,
            CASE c.f_ingredient_cost_submitted WHEN 'bad_number' THEN 'up to 10 digits and 2 decimals' END
        ),
        (
            'dispensing_fee_submitted', c.dispensing_fee_submitted, c.f_dispensing_fee_submitted,
            CASE c.f_dispensing_fee_submitted WHEN 'bad_number' THEN 'up to 10 digits and 2 decimals' END
        ),
        (
            'usual_and_customary_charge', c.usual_and_customary_charge, c.f_usual_and_customary_charge,
            CASE c.f_usual_and_customary_charge WHEN 'bad_number' THEN 'up to 10 digits and 2 decimals' END
        ),
        (
            'gross_amount_due', c.gross_amount_due, c.f_gross_amount_due,
            CASE c.f_gross_amount_due WHEN 'bad_number' THEN 'up to 10 digits and 2 decimals' END
        )
    ) AS v (column_name, value, rule, detail)
    WHERE v.rule IS NOT NULL;
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
