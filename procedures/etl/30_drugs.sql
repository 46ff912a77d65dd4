-- Drugs feed: the drug catalog by NDC-11, merged into drug.drugs (insert new NDCs, update changed ones).

CREATE OR REPLACE FUNCTION etl.validate_drugs(p_batch_id bigint)
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
            t.ndc11 IS NULL AS ndc_missing,
            t.ndc11 !~ '^[0-9]{11}$' AS ndc_bad,
            t.ndc_package_code IS NOT NULL AND t.package_ndc11 IS NULL AS package_bad,
            t.package_ndc11 <> t.ndc11 AS package_mismatch,
            t.drug_name IS NULL AS name_missing,
            t.generic_name IS NULL AS generic_missing,
            t.strength IS NULL AS strength_missing,
            t.dosage_form IS NULL AS form_missing,
            t.multi_source_code IS NULL AS mony_missing,
            t.multi_source_code NOT IN ('M', 'N', 'O', 'Y') AS mony_bad,
            t.therapeutic_class IS NULL AS class_missing,
            t.drug_group IS NULL AS group_missing,
            t.dea_schedule NOT IN ('0', '1', '2', '3', '4', '5') AS dea_bad,
            t.is_insulin IS NOT NULL AND etl.to_boolean(t.is_insulin) IS NULL AS insulin_bad,
            t.is_vaccine IS NOT NULL AND etl.to_boolean(t.is_vaccine) IS NULL AS vaccine_bad,
            t.is_specialty IS NOT NULL AND etl.to_boolean(t.is_specialty) IS NULL AS specialty_bad,
            t.unit_of_measure NOT IN ('EA', 'ML', 'GM') AS uom_bad,
            t.package_size IS NOT NULL AND t.size IS NULL AS size_bad,
            t.size < 0 AS size_negative,
            t.size = 0 AS size_zero,
            t.market_end_date IS NOT NULL AND etl.iso_date(t.market_end_date) IS NULL AS end_bad
        FROM (
            SELECT s.*, ref.ndc11(s.ndc_package_code) AS package_ndc11, etl.to_quantity(s.package_size) AS size
            FROM etl.stage_drugs AS s
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
        ('ndc11', c.ndc11, 'required', c.ndc_missing, NULL),
        ('ndc11', c.ndc11, 'bad_ndc', c.ndc_bad, NULL),
        ('ndc_package_code', c.ndc_package_code, 'bad_format', c.package_bad, 'hyphenated 4-4-2, 5-3-2, 5-4-1 or 5-4-2'),
        ('ndc_package_code', c.ndc_package_code, 'inconsistent', c.package_mismatch, 'is NDC-11 ' || c.package_ndc11 || ', not ' || c.ndc11),
        ('drug_name', c.drug_name, 'required', c.name_missing, NULL),
        ('generic_name', c.generic_name, 'required', c.generic_missing, NULL),
        ('strength', c.strength, 'required', c.strength_missing, NULL),
        ('dosage_form', c.dosage_form, 'required', c.form_missing, NULL),
        ('multi_source_code', c.multi_source_code, 'required', c.mony_missing, NULL),
        ('multi_source_code', c.multi_source_code, 'bad_code', c.mony_bad, 'M, N, O or Y'),
        ('therapeutic_class', c.therapeutic_class, 'required', c.class_missing, NULL),
        ('drug_group', c.drug_group, 'required', c.group_missing, NULL),
        ('dea_schedule', c.dea_schedule, 'bad_code', c.dea_bad, '0 (not controlled) to 5'),
        ('is_insulin', c.is_insulin, 'bad_code', c.insulin_bad, 't or f'),
        ('is_vaccine', c.is_vaccine, 'bad_code', c.vaccine_bad, 't or f'),
        ('is_specialty', c.is_specialty, 'bad_code', c.specialty_bad, 't or f'),
        ('unit_of_measure', c.unit_of_measure, 'bad_code', c.uom_bad, 'EA, ML or GM'),
        ('package_size', c.package_size, 'bad_number', c.size_bad, 'up to 9 digits and 3 decimals'),
        ('package_size', c.package_size, 'negative_amount', c.size_negative, NULL),
        ('package_size', c.package_size, 'not_positive', c.size_zero, NULL),
        ('market_end_date', c.market_end_date, 'bad_date', c.end_bad, 'YYYY-MM-DD')
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.ndc_missing OR c.ndc_bad OR c.package_bad OR c.package_mismatch OR c.name_missing OR c.generic_missing
            OR c.strength_missing OR c.form_missing OR c.mony_missing OR c.mony_bad OR c.class_missing
            OR c.group_missing OR c.dea_bad OR c.insulin_bad OR c.vaccine_bad OR c.specialty_bad OR c.uom_bad
            OR c.size_bad OR c.size_negative OR c.size_zero OR c.end_bad
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;
    RETURN v_rejects;
END;
$$;
COMMENT ON FUNCTION etl.validate_drugs(bigint) IS
'Records every failing rule of every readable line of a drugs batch in etl.rejects. Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.good_drugs(p_batch_id bigint)
RETURNS TABLE (
    line_no integer,
    ndc11 char(11),
    ndc_package_code varchar(12),
    drug_name text,
    generic_name text,
    strength text,
    dosage_form text,
    route text,
    multi_source_code char(1),
    therapeutic_class text,
    drug_group text,
    dea_schedule smallint,
    is_insulin boolean,
    is_vaccine boolean,
    is_specialty boolean,
    unit_of_measure char(2),
    package_size numeric,
    market_end_date date
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        s.line_no,
        s.ndc11,
        s.ndc_package_code,
        s.drug_name,
        s.generic_name,
        s.strength,
        s.dosage_form,
        coalesce(s.route, 'ORAL') AS route,
        s.multi_source_code,
        s.therapeutic_class,
        s.drug_group,
        coalesce(s.dea_schedule::smallint, 0) AS dea_schedule,
        coalesce(s.is_insulin::boolean, FALSE) AS is_insulin,
        coalesce(s.is_vaccine::boolean, FALSE) AS is_vaccine,
        coalesce(s.is_specialty::boolean, FALSE) AS is_specialty,
        coalesce(s.unit_of_measure, 'EA') AS unit_of_measure,
        s.package_size::numeric(12, 3),
        s.market_end_date::date
    FROM etl.stage_drugs AS s
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (
            SELECT FROM etl.rejects AS r
            WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no
        );
END;
COMMENT ON FUNCTION etl.good_drugs(bigint) IS
'The lines of a drugs batch without rejects, typed as drug.drugs columns (defaults: route ORAL, DEA schedule 0, flags false, unit EA).';

CREATE OR REPLACE FUNCTION etl.merge_drugs(
    p_batch_id bigint, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_changed integer;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE d.ndc11 IS NULL) INTO loaded, inserted
    FROM etl.good_drugs(p_batch_id) AS g
    LEFT JOIN drug.drugs AS d ON g.ndc11 = d.ndc11;

    MERGE INTO drug.drugs AS d
    USING etl.good_drugs(p_batch_id) AS g
        ON d.ndc11 = g.ndc11
    WHEN MATCHED AND (
        d.ndc_package_code, d.drug_name, d.generic_name, d.strength, d.dosage_form, d.route, d.multi_source_code,
        d.therapeutic_class, d.drug_group, d.dea_schedule, d.is_insulin, d.is_vaccine, d.is_specialty,
        d.unit_of_measure, d.package_size, d.market_end_date
    ) IS DISTINCT FROM (
        g.ndc_package_code, g.drug_name, g.generic_name, g.strength, g.dosage_form, g.route, g.multi_source_code,
        g.therapeutic_class, g.drug_group, g.dea_schedule, g.is_insulin, g.is_vaccine, g.is_specialty,
        g.unit_of_measure, g.package_size, g.market_end_date
    ) THEN UPDATE SET
        ndc_package_code = g.ndc_package_code,
        drug_name = g.drug_name,
        generic_name = g.generic_name,
        strength = g.strength,
        dosage_form = g.dosage_form,
        route = g.route,
        multi_source_code = g.multi_source_code,
        therapeutic_class = g.therapeutic_class,
        drug_group = g.drug_group,
        dea_schedule = g.dea_schedule,
        is_insulin = g.is_insulin,
        is_vaccine = g.is_vaccine,
        is_specialty = g.is_specialty,
        unit_of_measure = g.unit_of_measure,
        package_size = g.package_size,
        market_end_date = g.market_end_date
    WHEN NOT MATCHED THEN INSERT (
        ndc11, ndc_package_code, drug_name, generic_name, strength, dosage_form, route, multi_source_code,
        therapeutic_class, drug_group, dea_schedule, is_insulin, is_vaccine, is_specialty, unit_of_measure,
        package_size, market_end_date
    ) VALUES (
        g.ndc11, g.ndc_package_code, g.drug_name, g.generic_name, g.strength, g.dosage_form, g.route,
        g.multi_source_code, g.therapeutic_class, g.drug_group, g.dea_schedule, g.is_insulin, g.is_vaccine,
        g.is_specialty, g.unit_of_measure, g.package_size, g.market_end_date
    );
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    updated := v_changed - inserted;
END;
$$;
COMMENT ON FUNCTION etl.merge_drugs(bigint) IS
'MERGE of the good lines of a drugs batch into drug.drugs by NDC-11: new NDCs inserted, changed ones updated, equal ones left alone.';
