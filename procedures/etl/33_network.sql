-- Network feed: pharmacies in a network under a contract between two dates, merged into
-- network.participations by (network, pharmacy, effective date). Spans of one pharmacy in one network
-- may not overlap: when the file would make them overlap (with each other or with the database), every
-- line of that pharmacy and network is refused, so the spans stay as they were.

CREATE OR REPLACE FUNCTION etl.validate_network(p_batch_id bigint)
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
            t.network_code IS NULL AS network_missing,
            t.network_code IS NOT NULL AND t.network_id IS NULL AS network_unknown,
            t.pharmacy_npi IS NULL AS npi_missing,
            NOT ref.npi_is_valid(t.pharmacy_npi) AS npi_bad,
            ref.npi_is_valid(t.pharmacy_npi) AND t.pharmacy_id IS NULL AS pharmacy_unknown,
            t.contract_code IS NULL AS contract_missing,
            t.contract_code IS NOT NULL AND t.contract_id IS NULL AS contract_unknown,
            t.effective_date IS NULL AS start_missing,
            t.effective_date IS NOT NULL AND t.start_date IS NULL AS start_bad,
            t.termination_date IS NOT NULL AND t.end_date IS NULL AS end_bad,
            t.end_date < t.start_date AS end_before_start
        FROM (
            SELECT
                s.*,
                n.network_id,
                p.pharmacy_id,
                k.contract_id,
                etl.iso_date(s.effective_date) AS start_date,
                etl.iso_date(s.termination_date) AS end_date
            FROM etl.stage_network AS s
            LEFT JOIN network.networks AS n ON s.network_code = n.network_code
            LEFT JOIN network.pharmacies AS p ON s.pharmacy_npi = p.npi::text
            LEFT JOIN network.contracts AS k ON s.contract_code = k.contract_code
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
        ('network_code', c.network_code, 'required', c.network_missing, NULL),
        ('network_code', c.network_code, 'unknown_network', c.network_unknown, NULL),
        ('pharmacy_npi', c.pharmacy_npi, 'required', c.npi_missing, NULL),
        ('pharmacy_npi', c.pharmacy_npi, 'bad_npi', c.npi_bad, NULL),
        ('pharmacy_npi', c.pharmacy_npi, 'unknown_pharmacy', c.pharmacy_unknown, NULL),
        ('contract_code', c.contract_code, 'required', c.contract_missing, NULL),
        ('contract_code', c.contract_code, 'unknown_contract', c.contract_unknown, NULL),
        ('effective_date', c.effective_date, 'required', c.start_missing, NULL),
        ('effective_date', c.effective_date, 'bad_date', c.start_bad, 'YYYY-MM-DD'),
        ('termination_date', c.termination_date, 'bad_date', c.end_bad, 'YYYY-MM-DD'),
        ('termination_date', c.termination_date, 'end_before_start', c.end_before_start, 'before ' || c.effective_date)
    ) AS v (column_name, value, rule, failed, detail)
    WHERE
        (
            c.network_missing OR c.network_unknown OR c.npi_missing OR c.npi_bad OR c.pharmacy_unknown
            OR c.contract_missing OR c.contract_unknown OR c.start_missing OR c.start_bad OR c.end_bad
            OR c.end_before_start
        )
        AND v.failed;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;

    -- The spans after the merge: the database's, replaced by the file's line with the same start, plus the
    -- new ones. A span starting before the latest end seen so far overlaps.
    WITH good AS (
        SELECT * FROM etl.good_network(p_batch_id)
    ),
    future AS (
        SELECT g.network_id, g.pharmacy_id, g.effective_date, g.termination_date
        FROM good AS g
        UNION ALL
        SELECT p.network_id, p.pharmacy_id, p.effective_date, p.termination_date
        FROM network.participations AS p
        WHERE
            EXISTS (SELECT FROM good AS g WHERE g.network_id = p.network_id AND g.pharmacy_id = p.pharmacy_id)
            AND NOT EXISTS (
                SELECT FROM good AS g
                WHERE
                    g.network_id = p.network_id AND g.pharmacy_id = p.pharmacy_id
                    AND g.effective_date = p.effective_date
            )
    ),
    ordered AS (
        SELECT
            f.*,
            max(coalesce(f.termination_date, 'infinity')) OVER (
                PARTITION BY f.network_id, f.pharmacy_id ORDER BY f.effective_date
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS latest_end_before
        FROM future AS f
    ),
    clashing AS (
        SELECT DISTINCT o.network_id, o.pharmacy_id
        FROM ordered AS o
        WHERE o.latest_end_before >= o.effective_date
    )
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT
        p_batch_id, g.line_no, 'effective_date', g.effective_date::text, 'overlapping_span',
        'the participation spans of this pharmacy in this network would overlap: its lines are not loaded'
    FROM good AS g
    INNER JOIN clashing AS x ON g.network_id = x.network_id AND g.pharmacy_id = x.pharmacy_id;
    GET DIAGNOSTICS v_overlaps = ROW_COUNT;
    RETURN v_rejects + v_overlaps;
END;
$$;
COMMENT ON FUNCTION etl.validate_network(bigint) IS
'Records every failing rule of every readable line of a network batch in etl.rejects, then overlapping_span for every line of a (network, pharmacy) whose spans would overlap after the merge. Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.good_network(p_batch_id bigint)
RETURNS TABLE (
    line_no integer,
    network_id bigint,
    pharmacy_id bigint,
    contract_id bigint,
    effective_date date,
    termination_date date
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        s.line_no,
        n.network_id,
        p.pharmacy_id,
        k.contract_id,
        s.effective_date::date,
        s.termination_date::date
    FROM etl.stage_network AS s
    INNER JOIN network.networks AS n ON s.network_code = n.network_code
    INNER JOIN network.pharmacies AS p ON s.pharmacy_npi = p.npi::text
    INNER JOIN network.contracts AS k ON s.contract_code = k.contract_code
    WHERE
        s.batch_id = p_batch_id
        AND NOT EXISTS (
            SELECT FROM etl.rejects AS r
            WHERE r.batch_id = p_batch_id AND r.line_no = s.line_no
        );
END;
COMMENT ON FUNCTION etl.good_network(bigint) IS
'The lines of a network batch without rejects (so far), with their network, pharmacy and contract resolved and dates typed.';

CREATE OR REPLACE FUNCTION etl.merge_network(
    p_batch_id bigint, OUT loaded integer, OUT inserted integer, OUT updated integer
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_rows integer;
BEGIN
    SELECT count(*) INTO loaded FROM etl.good_network(p_batch_id);
    -- Spans that shrink (or keep their dates) first, then those that grow: no transient overlap.
    UPDATE network.participations AS p
    SET contract_id = g.contract_id, termination_date = g.termination_date
    FROM etl.good_network(p_batch_id) AS g
    WHERE
        p.network_id = g.network_id AND p.pharmacy_id = g.pharmacy_id AND p.effective_date = g.effective_date
        AND (p.contract_id, p.termination_date) IS DISTINCT FROM (g.contract_id, g.termination_date)
        AND coalesce(g.termination_date, 'infinity') <= coalesce(p.termination_date, 'infinity');
    GET DIAGNOSTICS updated = ROW_COUNT;
    UPDATE network.participations AS p
    SET contract_id = g.contract_id, termination_date = g.termination_date
    FROM etl.good_network(p_batch_id) AS g
    WHERE
        p.network_id = g.network_id AND p.pharmacy_id = g.pharmacy_id AND p.effective_date = g.effective_date
        AND coalesce(g.termination_date, 'infinity') > coalesce(p.termination_date, 'infinity');
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    updated := updated + v_rows;
    INSERT INTO network.participations (network_id, pharmacy_id, contract_id, effective_date, termination_date)
    SELECT g.network_id, g.pharmacy_id, g.contract_id, g.effective_date, g.termination_date
    FROM etl.good_network(p_batch_id) AS g
    WHERE NOT EXISTS (
        SELECT FROM network.participations AS p
        WHERE p.network_id = g.network_id AND p.pharmacy_id = g.pharmacy_id AND p.effective_date = g.effective_date
    );
    GET DIAGNOSTICS inserted = ROW_COUNT;
END;
$$;
COMMENT ON FUNCTION etl.merge_network(bigint) IS
'Merges the good lines of a network batch into network.participations by (network, pharmacy, effective date): changed contract or termination updated, new spans inserted.';
