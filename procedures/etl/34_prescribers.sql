-- Prescribers feed: prescribers by NPI, merged into network.prescribers.

CREATE OR REPLACE FUNCTION etl.validate_prescribers(p_batch_id bigint)
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
            t.npi IS NULL AS npi_missing,
            NOT ref.npi_is_valid(t.npi) AS npi_bad,
            t.dea_number !~ '^[A-Z]{2}[0-9]{7}$' AS dea_bad,
            t.first_name IS NULL AS first_missing,
            t.last_name IS NULL AS last_missing,
            t.specialty IS NULL AS specialty_missing,
            t.state IS NULL AS state_missing,
            t.state !~ '^[A-Z]{2}$' AS state_bad,
            t.deactivated_on IS NOT NULL AND etl.iso_date(t.deactivated_on) IS NULL AS deactivated_bad
        FROM (
            SELECT s.*
            FROM etl.stage_prescribers AS s
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
        ('npi', c.npi, 'required', c.npi_missing, NULL),
        ('npi', c.npi, 'bad_npi', c.npi_bad, NULL),
        ('dea_number', c.dea_number, 'bad_format', c.dea_bad, 'two capital letters and seven digits'),
        ('first_name', c.first_name, 'required', c.first_missing, NULL),
        ('last_name', c.last_name, 'required', c.last_missing, NULL),
        ('specialty', c.specialty, 'required', c.specialty_missing, NULL),
        ('state', c.state, 'required', c.state_missing, NULL),
        ('state', c.state, 'bad_format', c.state_bad, 'two capital letters'),
        ('deactivated_on', c.deactivated_on, 'bad_date', c.deactivated_bad, 'YYYY-MM-DD')
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.npi_missing OR c.npi_bad OR c.dea_bad OR c.first_missing OR c.last_missing OR c.specialty_missing
            OR c.state_missing OR c.state_bad OR c.deactivated_bad
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;
    RETURN v_rejects;
END;
$$;
COMMENT ON FUNCTION etl.validate_prescribers(bigint) IS
'Records every failing rule of every readable line of a prescribers batch in etl.rejects. Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.merge_prescribers(
    p_batch_id bigint, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_changed integer;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE p.prescriber_id IS NULL) INTO loaded, inserted
    FROM etl.stage_prescribers AS s
    LEFT JOIN network.prescribers AS p ON s.npi = p.npi::text
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (SELECT FROM etl.rejects AS r WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no);

    MERGE INTO network.prescribers AS p
    USING (
        SELECT s.npi, s.dea_number, s.first_name, s.last_name, s.specialty, s.state, s.deactivated_on::date AS deactivated_on
        FROM etl.stage_prescribers AS s
        WHERE
            s.batch_id = p_batch_id
            AND NOT EXISTS (SELECT FROM etl.rejects AS r WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no)
    ) AS g
        ON p.npi = g.npi
    WHEN MATCHED AND (p.dea_number, p.first_name, p.last_name, p.specialty, p.state, p.deactivated_on)
        IS DISTINCT FROM (g.dea_number, g.first_name, g.last_name, g.specialty, g.state, g.deactivated_on)
        THEN UPDATE SET
            dea_number = g.dea_number,
            first_name = g.first_name,
            last_name = g.last_name,
            specialty = g.specialty,
            state = g.state,
            deactivated_on = g.deactivated_on
    WHEN NOT MATCHED THEN
        INSERT (npi, dea_number, first_name, last_name, specialty, state, deactivated_on)
        VALUES (g.npi, g.dea_number, g.first_name, g.last_name, g.specialty, g.state, g.deactivated_on);
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    updated := v_changed - inserted;
END;
$$;
COMMENT ON FUNCTION etl.merge_prescribers(bigint) IS
'MERGE of the good lines of a prescribers batch into network.prescribers by NPI (new inserted, changed updated, equal left alone).';
