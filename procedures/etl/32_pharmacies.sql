-- Pharmacies feed: dispensing pharmacies by NPI, merged into network.pharmacies.

CREATE OR REPLACE FUNCTION etl.validate_pharmacies(p_batch_id bigint)
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
            t.ncpdp_id IS NULL AS ncpdp_missing,
            t.ncpdp_id !~ '^[0-9]{7}$' AS ncpdp_bad,
            t.ncpdp_owner_npi <> t.npi OR t.ncpdp_lines > 1 AS ncpdp_taken,
            t.name IS NULL AS name_missing,
            t.address_line1 IS NULL AS address_missing,
            t.city IS NULL AS city_missing,
            t.state IS NULL AS state_missing,
            t.state !~ '^[A-Z]{2}$' AS state_bad,
            t.zip5 IS NULL AS zip_missing,
            t.zip5 !~ '^[0-9]{5}$' AS zip_bad,
            t.pharmacy_type IS NULL AS type_missing,
            t.pharmacy_type NOT IN ('retail', 'mail', 'specialty', 'long_term_care') AS type_bad
        FROM (
            SELECT
                s.*,
                p.npi::text AS ncpdp_owner_npi,
                n.npis AS ncpdp_lines
            FROM etl.stage_pharmacies AS s
            LEFT JOIN network.pharmacies AS p ON s.ncpdp_id = p.ncpdp_id::text
            -- how many NPIs this file gives the NCPDP ID to
            LEFT JOIN (
                SELECT x.ncpdp_id, count(DISTINCT x.npi) AS npis
                FROM etl.stage_pharmacies AS x
                WHERE x.batch_id = p_batch_id
                GROUP BY x.ncpdp_id
            ) AS n ON s.ncpdp_id = n.ncpdp_id
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
        ('ncpdp_id', c.ncpdp_id, 'required', c.ncpdp_missing, NULL),
        ('ncpdp_id', c.ncpdp_id, 'bad_format', c.ncpdp_bad, '7 digits'),
        (
            'ncpdp_id', c.ncpdp_id, 'key_in_use', c.ncpdp_taken,
            CASE
                WHEN c.ncpdp_lines > 1 THEN 'the file gives this NCPDP ID to more than one NPI'
                ELSE 'belongs to the pharmacy with NPI ' || c.ncpdp_owner_npi
            END
        ),
        ('name', c.name, 'required', c.name_missing, NULL),
        ('address_line1', c.address_line1, 'required', c.address_missing, NULL),
        ('city', c.city, 'required', c.city_missing, NULL),
        ('state', c.state, 'required', c.state_missing, NULL),
        ('state', c.state, 'bad_format', c.state_bad, 'two capital letters'),
        ('zip5', c.zip5, 'required', c.zip_missing, NULL),
        ('zip5', c.zip5, 'bad_format', c.zip_bad, '5 digits'),
        ('pharmacy_type', c.pharmacy_type, 'required', c.type_missing, NULL),
        ('pharmacy_type', c.pharmacy_type, 'bad_code', c.type_bad, 'retail, mail, specialty or long_term_care')
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.npi_missing OR c.npi_bad OR c.ncpdp_missing OR c.ncpdp_bad OR c.ncpdp_taken OR c.name_missing
            OR c.address_missing OR c.city_missing OR c.state_missing OR c.state_bad OR c.zip_missing OR c.zip_bad
            OR c.type_missing OR c.type_bad
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;
    RETURN v_rejects;
END;
$$;
COMMENT ON FUNCTION etl.validate_pharmacies(bigint) IS
'Records every failing rule of every readable line of a pharmacies batch in etl.rejects (an NCPDP ID of another pharmacy is key_in_use). Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.merge_pharmacies(
    p_batch_id bigint, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_changed integer;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE p.pharmacy_id IS NULL) INTO loaded, inserted
    FROM etl.stage_pharmacies AS s
    LEFT JOIN network.pharmacies AS p ON s.npi = p.npi::text
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (SELECT FROM etl.rejects AS r WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no);

    MERGE INTO network.pharmacies AS p
    USING (
        SELECT s.*
        FROM etl.stage_pharmacies AS s
        WHERE
            s.batch_id = p_batch_id
            AND NOT EXISTS (SELECT FROM etl.rejects AS r WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no)
    ) AS g
        ON p.npi = g.npi
    WHEN MATCHED AND (p.ncpdp_id, p.name, p.address_line1, p.city, p.state, p.zip5, p.pharmacy_type)
        IS DISTINCT FROM (g.ncpdp_id, g.name, g.address_line1, g.city, g.state, g.zip5, g.pharmacy_type)
        THEN UPDATE SET
            ncpdp_id = g.ncpdp_id,
            name = g.name,
            address_line1 = g.address_line1,
            city = g.city,
            state = g.state,
            zip5 = g.zip5,
            pharmacy_type = g.pharmacy_type
    WHEN NOT MATCHED THEN
        INSERT (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
        VALUES (g.npi, g.ncpdp_id, g.name, g.address_line1, g.city, g.state, g.zip5, g.pharmacy_type);
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    updated := v_changed - inserted;
END;
$$;
COMMENT ON FUNCTION etl.merge_pharmacies(bigint) IS
'MERGE of the good lines of a pharmacies batch into network.pharmacies by NPI (new inserted, changed updated, equal left alone).';
