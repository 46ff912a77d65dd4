-- Drug prices feed: unit prices by NDC, benchmark (AWP, WAC, NADAC, MAC) and MAC list with effective
-- dates, merged into drug.prices by (NDC, benchmark, MAC list, effective date). A price without an end
-- date lasts until the next price of the same NDC and benchmark: the open price before a new one is
-- closed the day before it starts. Explicit end dates that would overlap refuse every line of that NDC
-- and benchmark.

CREATE OR REPLACE FUNCTION etl.validate_drug_prices(p_batch_id bigint)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_rejects integer;
    v_overlaps integer;
BEGIN
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT p_batch_id, c.line_no, v.column_name, v.value, v.rule, v.detail
    FROM (
        SELECT
            t.*,
            t.ndc11 IS NULL AS ndc_missing,
            t.ndc11 !~ '^[0-9]{11}$' AS ndc_bad,
            t.ndc11 ~ '^[0-9]{11}$' AND NOT t.drug_known AS drug_unknown,
            t.price_type IS NULL AS type_missing,
            t.price_type NOT IN ('AWP', 'WAC', 'NADAC', 'MAC') AS type_bad,
            t.price_type = 'MAC' AND t.mac_list_code IS NULL AS mac_list_missing,
            t.price_type <> 'MAC' AND t.mac_list_code IS NOT NULL AS mac_list_not_mac,
            t.price_type = 'MAC' AND t.mac_list_code IS NOT NULL AND t.mac_list_id IS NULL AS mac_list_unknown,
            t.unit_price IS NULL AS price_missing,
            t.unit_price IS NOT NULL AND t.price IS NULL AS price_bad,
            t.price < 0 AS price_negative,
            t.price = 0 AS price_zero,
            t.effective_date IS NULL AS start_missing,
            t.effective_date IS NOT NULL AND t.start_date IS NULL AS start_bad,
            t.end_date IS NOT NULL AND t.stop_date IS NULL AS end_bad,
            t.stop_date < t.start_date AS end_before_start
        FROM (
            SELECT
                s.*,
                EXISTS (SELECT FROM drug.drugs AS d WHERE d.ndc11 = s.ndc11) AS drug_known,
                m.mac_list_id,
                etl.to_unit_price(s.unit_price) AS price,
                etl.iso_date(s.effective_date) AS start_date,
                etl.iso_date(s.end_date) AS stop_date
            FROM etl.stage_drug_prices AS s
            LEFT JOIN drug.mac_lists AS m ON s.mac_list_code = m.mac_list_code
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
        ('ndc11', c.ndc11, 'unknown_drug', c.drug_unknown, NULL),
        ('price_type', c.price_type, 'required', c.type_missing, NULL),
        ('price_type', c.price_type, 'bad_code', c.type_bad, 'AWP, WAC, NADAC or MAC'),
        ('mac_list_code', c.mac_list_code, 'required', c.mac_list_missing, 'required for a MAC price'),
        ('mac_list_code', c.mac_list_code, 'inconsistent', c.mac_list_not_mac, 'only MAC prices name a MAC list'),
        ('mac_list_code', c.mac_list_code, 'unknown_mac_list', c.mac_list_unknown, NULL),
        ('unit_price', c.unit_price, 'required', c.price_missing, NULL),
        ('unit_price', c.unit_price, 'bad_number', c.price_bad, 'up to 9 digits and 5 decimals'),
        ('unit_price', c.unit_price, 'negative_amount', c.price_negative, NULL),
        ('unit_price', c.unit_price, 'not_positive', c.price_zero, NULL),
        ('effective_date', c.effective_date, 'required', c.start_missing, NULL),
        ('effective_date', c.effective_date, 'bad_date', c.start_bad, 'YYYY-MM-DD'),
        ('end_date', c.end_date, 'bad_date', c.end_bad, 'YYYY-MM-DD'),
        ('end_date', c.end_date, 'end_before_start', c.end_before_start, 'before ' || c.effective_date)
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.ndc_missing OR c.ndc_bad OR c.drug_unknown OR c.type_missing OR c.type_bad OR c.mac_list_missing
            OR c.mac_list_not_mac OR c.mac_list_unknown OR c.price_missing OR c.price_bad OR c.price_negative
            OR c.price_zero OR c.start_missing OR c.start_bad OR c.end_bad OR c.end_before_start
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;

    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT
        p_batch_id, f.line_no, 'effective_date', f.effective_date::text, 'overlapping_span',
        'the prices of this NDC and benchmark would overlap: its lines are not loaded'
    FROM etl.future_prices(p_batch_id) AS f
    WHERE
        f.line_no IS NOT NULL
        AND f.clashes;
    GET DIAGNOSTICS v_overlaps = ROW_COUNT;
    RETURN v_rejects + v_overlaps;
END;
$$;
COMMENT ON FUNCTION etl.validate_drug_prices(bigint) IS
'Records every failing rule of every readable line of a drug prices batch in etl.rejects, then overlapping_span for every line of an NDC and benchmark whose prices would overlap after the merge. Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.future_prices(p_batch_id bigint)
RETURNS TABLE (
    price_id bigint,
    line_no integer,
    ndc11 char(11),
    price_type text,
    mac_list_id bigint,
    unit_price numeric,
    effective_date date,
    end_date date,
    clashes boolean
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    WITH good AS (
        SELECT
            s.line_no,
            s.ndc11::char(11) AS ndc11,
            s.price_type,
            m.mac_list_id,
            s.unit_price::numeric(14, 5) AS unit_price,
            s.effective_date::date AS effective_date,
            s.end_date::date AS end_date
        FROM etl.stage_drug_prices AS s
        LEFT JOIN drug.mac_lists AS m ON s.mac_list_code = m.mac_list_code
        WHERE
            s.batch_id = p_batch_id
            AND NOT EXISTS (
                SELECT FROM etl.rejects AS r
                WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no
            )
    ),

    keys AS (
        SELECT DISTINCT
            g.ndc11,
            g.price_type,
            g.mac_list_id
        FROM good AS g
    ),

    together AS (
        -- the file's lines, matched to the database price with the same start (which they replace)
        SELECT
            p.price_id,
            g.line_no,
            g.ndc11,
            g.price_type,
            g.mac_list_id,
            g.unit_price,
            g.effective_date,
            g.end_date
        FROM good AS g
        LEFT JOIN drug.prices AS p
            ON
                g.ndc11 = p.ndc11 AND g.price_type = p.price_type
                AND g.mac_list_id IS NOT DISTINCT FROM p.mac_list_id AND g.effective_date = p.effective_date
        UNION ALL
        -- the database prices of the same NDCs and benchmarks that no line replaces
        SELECT
            p.price_id,
            NULL AS line_no,
            p.ndc11,
            p.price_type,
            p.mac_list_id,
            p.unit_price,
            p.effective_date,
            p.end_date
        FROM drug.prices AS p
        INNER JOIN keys AS k
            ON p.ndc11 = k.ndc11 AND p.price_type = k.price_type AND p.mac_list_id IS NOT DISTINCT FROM k.mac_list_id
        WHERE NOT EXISTS (
            SELECT FROM good AS g
            WHERE
                g.ndc11 = p.ndc11 AND g.price_type = p.price_type
                AND g.mac_list_id IS NOT DISTINCT FROM p.mac_list_id AND g.effective_date = p.effective_date
        )
    ),

    closed AS (
        SELECT
            t.price_id,
            t.line_no,
            t.ndc11,
            t.price_type,
            t.mac_list_id,
            t.unit_price,
            t.effective_date,
            coalesce(
                t.end_date,
                lead(t.effective_date) OVER (
                    PARTITION BY t.ndc11, t.price_type, t.mac_list_id ORDER BY t.effective_date
                ) - 1
            ) AS end_date
        FROM together AS t
    ),

    checked AS (
        SELECT
            c.*,
            max(coalesce(c.end_date, 'infinity')) OVER (
                PARTITION BY c.ndc11, c.price_type, c.mac_list_id ORDER BY c.effective_date
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) >= c.effective_date AS clash
        FROM closed AS c
    )

    SELECT
        c.price_id,
        c.line_no,
        c.ndc11,
        c.price_type,
        c.mac_list_id,
        c.unit_price,
        c.effective_date,
        c.end_date,
        bool_or(c.clash) OVER (PARTITION BY c.ndc11, c.price_type, c.mac_list_id) AS clashes
    FROM checked AS c;
END;
COMMENT ON FUNCTION etl.future_prices(bigint) IS
'The prices of every NDC, benchmark and MAC list a drug prices batch touches, as they will be after the merge: the batch''s lines without rejects (line_no set; price_id when they replace a price with the same start) and the database''s other prices, open prices closed the day before the next one starts; clashes = some of them overlap.';

CREATE OR REPLACE FUNCTION etl.merge_drug_prices(
    p_batch_id bigint, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_rows integer;
BEGIN
    SELECT count(*) INTO loaded FROM etl.future_prices(p_batch_id) AS f WHERE f.line_no IS NOT NULL;
    -- Prices that end sooner (or keep their dates) first, then the others: no transient overlap. The
    -- future state is a fixed point: recomputing it after some of the updates gives the same rows.
    UPDATE drug.prices AS p
    SET unit_price = f.unit_price, end_date = f.end_date
    FROM etl.future_prices(p_batch_id) AS f
    WHERE
        p.price_id = f.price_id
        AND (p.unit_price, p.end_date) IS DISTINCT FROM (f.unit_price, f.end_date)
        AND coalesce(f.end_date, 'infinity') <= coalesce(p.end_date, 'infinity');
    GET DIAGNOSTICS updated = ROW_COUNT;
    UPDATE drug.prices AS p
    SET unit_price = f.unit_price, end_date = f.end_date
    FROM etl.future_prices(p_batch_id) AS f
    WHERE p.price_id = f.price_id AND coalesce(f.end_date, 'infinity') > coalesce(p.end_date, 'infinity');
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    updated := updated + v_rows;
    INSERT INTO drug.prices (ndc11, price_type, mac_list_id, unit_price, effective_date, end_date)
    SELECT f.ndc11, f.price_type, f.mac_list_id, f.unit_price, f.effective_date, f.end_date
    FROM etl.future_prices(p_batch_id) AS f
    WHERE f.price_id IS NULL;
    GET DIAGNOSTICS inserted = ROW_COUNT;
END;
$$;
COMMENT ON FUNCTION etl.merge_drug_prices(bigint) IS
'Merges the good lines of a drug prices batch into drug.prices: new prices inserted, changed ones updated, open prices closed the day before the next one.';
