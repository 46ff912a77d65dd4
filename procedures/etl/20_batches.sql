-- The door of every feed: open a batch (recognising a file loaded before), check the header, split raw
-- lines when COPY could not, record file-, line- and duplicate-level rejects, dispatch the feed's
-- validation and merge, and close the batch with counts that add up. The caller (etl/loader.py) runs
-- all of it in one transaction: a batch is completed or rejected, never half merged.

CREATE OR REPLACE FUNCTION etl.seconds_since(p_start timestamptz)
RETURNS numeric
LANGUAGE sql
VOLATILE
RETURN round(extract(EPOCH FROM clock_timestamp() - p_start)::numeric, 3);
COMMENT ON FUNCTION etl.seconds_since(timestamptz) IS 'Seconds (3 decimals) from p_start to now on the wall clock (clock_timestamp).';

CREATE OR REPLACE FUNCTION etl.begin_batch(
    p_feed text,
    p_file_name text,
    p_file_sha256 text,
    p_file_bytes bigint,
    p_effective_date date,
    p_effective_date_source text,
    p_force boolean DEFAULT FALSE
)
RETURNS TABLE (batch_id bigint, staging_table text, loaded_before_batch_id bigint, loaded_before_status text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_staging regclass;
    v_previous bigint;
    v_batch bigint;
BEGIN
    SELECT f.staging_table INTO v_staging FROM etl.feeds AS f WHERE f.feed = p_feed;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown feed %', p_feed
            USING ERRCODE = '22023',
                HINT = 'feeds: ' || (SELECT string_agg(f.feed, ', ' ORDER BY f.feed) FROM etl.feeds AS f);
    END IF;

    SELECT b.batch_id INTO v_previous
    FROM etl.batches AS b
    WHERE b.feed = p_feed AND b.file_sha256 = p_file_sha256 AND b.reload_of_batch_id IS NULL;

    IF p_force AND v_previous IS NOT NULL THEN
        INSERT INTO etl.batches AS b (
            feed, file_name, file_sha256, file_bytes, reload_of_batch_id, effective_date, effective_date_source
        )
        VALUES (p_feed, p_file_name, p_file_sha256, p_file_bytes, v_previous, p_effective_date, p_effective_date_source)
        RETURNING b.batch_id INTO v_batch;
    ELSE
        -- A second loader of the same file waits here for the first one to commit, then finds its batch.
        INSERT INTO etl.batches AS b (feed, file_name, file_sha256, file_bytes, effective_date, effective_date_source)
        VALUES (p_feed, p_file_name, p_file_sha256, p_file_bytes, p_effective_date, p_effective_date_source)
        ON CONFLICT (feed, file_sha256) WHERE reload_of_batch_id IS NULL DO NOTHING
        RETURNING b.batch_id INTO v_batch;
        IF v_batch IS NULL THEN
            RETURN QUERY
            SELECT NULL::bigint, v_staging::text, b.batch_id, b.status
            FROM etl.batches AS b
            WHERE b.feed = p_feed AND b.file_sha256 = p_file_sha256 AND b.reload_of_batch_id IS NULL;
            RETURN;
        END IF;
    END IF;

    PERFORM set_config('pbm.etl_batch_id', v_batch::text, TRUE);
    -- Staging keeps the latest file of the feed; loads of one feed queue on this lock.
    EXECUTE format('TRUNCATE %s RESTART IDENTITY', v_staging);
    RETURN QUERY SELECT v_batch, v_staging::text, v_previous, NULL::text;
END;
$$;
COMMENT ON FUNCTION etl.begin_batch(text, text, text, bigint, date, text, boolean) IS
'Opens the batch of a feed file and empties the feed''s staging table. When the same file (feed and SHA-256) was loaded before and p_force is false, opens nothing and returns that batch (loaded_before_*). With p_force a new batch repeats it.';

CREATE OR REPLACE FUNCTION etl.staging_columns(p_feed text)
RETURNS text[]
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT array_agg(a.attname::text ORDER BY a.attnum)
    FROM etl.feeds AS f
    INNER JOIN pg_catalog.pg_attribute AS a ON f.staging_table = a.attrelid
    WHERE f.feed = p_feed AND a.attnum > 3 AND NOT a.attisdropped;
END;
COMMENT ON FUNCTION etl.staging_columns(text) IS
'The layout columns of a feed''s staging table in file order (after batch_id, line_no, raw_line).';

CREATE OR REPLACE FUNCTION etl.check_header(p_batch_id bigint, p_header text, p_expected text[])
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
    v_line text := CASE WHEN right(p_header, 1) = E'\r' THEN left(p_header, -1) ELSE p_header END;
    v_found text [] := etl.csv_fields(v_line);
BEGIN
    IF v_found IS NULL THEN
        INSERT INTO etl.rejects (batch_id, line_no, value, rule, detail)
        VALUES (p_batch_id, 1, v_line, 'unexpected_header', 'the header line cannot be split into columns');
        RETURN FALSE;
    END IF;
    INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
    SELECT
        p_batch_id,
        1,
        e.name,
        g.name,
        'unexpected_header',
        format(
            'column %s: expected %s, found %s', n,
            coalesce(quote_literal(e.name), 'nothing'), coalesce(quote_literal(g.name), 'nothing')
        )
    FROM unnest(p_expected) WITH ORDINALITY AS e (name, n)
    FULL JOIN unnest(v_found) WITH ORDINALITY AS g (name, n) USING (n)
    WHERE e.name IS DISTINCT FROM g.name;
    RETURN NOT FOUND;
END;
$$;
COMMENT ON FUNCTION etl.check_header(bigint, text, text[]) IS
'Compares the header line with the layout''s column names; records one unexpected_header reject per differing position and returns whether the header is right.';

CREATE OR REPLACE FUNCTION etl.reject_file(
    p_batch_id bigint,
    p_rows_received integer,
    p_rule text DEFAULT NULL,
    p_line_no integer DEFAULT 0,
    p_value text DEFAULT NULL,
    p_detail text DEFAULT NULL
)
RETURNS etl.batches
LANGUAGE plpgsql
AS $$
DECLARE
    v_batch etl.batches;
BEGIN
    IF p_rule IS NOT NULL THEN
        INSERT INTO etl.rejects (batch_id, line_no, value, rule, detail)
        VALUES (p_batch_id, p_line_no, p_value, p_rule, p_detail);
    END IF;
    UPDATE etl.batches AS b
    SET status = 'rejected',
        rows_received = p_rows_received,
        rows_loaded = 0,
        rows_rejected = p_rows_received,
        finished_at = clock_timestamp()
    WHERE b.batch_id = p_batch_id
    RETURNING b.* INTO v_batch;
    RETURN v_batch;
END;
$$;
COMMENT ON FUNCTION etl.reject_file(bigint, integer, text, integer, text, text) IS
'Closes a batch whose file is refused as a whole (empty, not UTF-8, truncated, unexpected header): records the reason (when given) and counts every data line as received and rejected.';

CREATE OR REPLACE FUNCTION etl.split_raw_lines(p_batch_id bigint, p_bad_encoding_lines integer[] DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_staging regclass;
    v_columns text [];
    v_rejected integer;
BEGIN
    SELECT f.staging_table, etl.staging_columns(f.feed) INTO v_staging, v_columns
    FROM etl.batches AS b INNER JOIN etl.feeds AS f ON b.feed = f.feed
    WHERE b.batch_id = p_batch_id;

    -- One line-level reject per line that cannot become a row: bad bytes, blank, bad quoting, column count.
    EXECUTE format(
        $sql$
        INSERT INTO etl.rejects (batch_id, line_no, value, rule, detail)
        SELECT $1, l.line_no, l.line,
            CASE
                WHEN l.line_no = ANY ($2) THEN 'invalid_encoding'
                WHEN l.line = '' THEN 'blank_line'
                WHEN l.fields IS NULL THEN 'malformed_csv'
                ELSE 'wrong_column_count'
            END,
            CASE
                WHEN l.line_no = ANY ($2) THEN 'bytes that are not UTF-8 (or NUL) are shown as \xNN'
                WHEN l.line = '' THEN NULL
                WHEN l.fields IS NULL THEN 'unbalanced or misplaced double quotes'
                ELSE format('expected %%s columns, found %%s', %2$s, cardinality(l.fields))
            END
        FROM (
            SELECT s.line_no, x.line, etl.csv_fields(x.line) AS fields
            FROM %1$s AS s
            CROSS JOIN LATERAL (
                SELECT CASE WHEN right(s.raw_line, 1) = E'\r' THEN left(s.raw_line, -1) ELSE s.raw_line END AS line
            ) AS x
            WHERE s.batch_id = $1
        ) AS l
        WHERE l.line_no = ANY ($2) OR l.line = '' OR l.fields IS NULL OR cardinality(l.fields) <> %2$s
        $sql$,
        v_staging, cardinality(v_columns)
    ) USING p_batch_id, p_bad_encoding_lines;
    GET DIAGNOSTICS v_rejected = ROW_COUNT;

    -- Every other line into its columns.
    EXECUTE format(
        $sql$
        UPDATE %1$s AS s
        SET (%2$s) = ROW (%3$s)
        FROM (
            SELECT t.line_no,
                etl.csv_fields(CASE WHEN right(t.raw_line, 1) = E'\r' THEN left(t.raw_line, -1) ELSE t.raw_line END) AS f
            FROM %1$s AS t
            WHERE t.batch_id = $1 AND NOT t.line_no = ANY ($2)
        ) AS l
        WHERE s.batch_id = $1 AND s.line_no = l.line_no AND cardinality(l.f) = %4$s
        $sql$,
        v_staging,
        (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_columns) AS c),
        (SELECT string_agg(format('l.f[%s]', i), ', ') FROM generate_series(1, cardinality(v_columns)) AS i),
        cardinality(v_columns)
    ) USING p_batch_id, p_bad_encoding_lines;
    RETURN v_rejected;
END;
$$;
COMMENT ON FUNCTION etl.split_raw_lines(bigint, integer[]) IS
'For a file staged as raw lines (COPY could not parse it): records invalid_encoding, blank_line, malformed_csv and wrong_column_count rejects and splits every other line into the staging columns. Returns the lines rejected.';

CREATE OR REPLACE FUNCTION etl.lines_with_repeated_keys(p_batch_id bigint)
RETURNS SETOF integer
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_staging regclass;
    v_key text [];
BEGIN
    SELECT f.staging_table, f.natural_key INTO v_staging, v_key
    FROM etl.batches AS b INNER JOIN etl.feeds AS f ON b.feed = f.feed
    WHERE b.batch_id = p_batch_id;
    -- Lines are grouped by a 64-bit hash of their key (missing values as ''; staging never holds '' itself):
    -- a compact hash table even when every key is unique. A hash collision only makes two lines candidates;
    -- etl.reject_duplicates compares the keys themselves. RETURN QUERY lets the scan run in parallel.
    RETURN QUERY EXECUTE format(
        $sql$
        WITH keyed AS MATERIALIZED (
            SELECT s.line_no, hashtextextended(concat_ws(E'\x1f', %2$s), 0) AS h
            FROM %1$s AS s
            WHERE
                s.batch_id = $1
                AND NOT EXISTS (
                    SELECT FROM etl.rejects AS r
                    WHERE
                        r.batch_id = $1 AND r.line_no = s.line_no
                        AND r.rule IN ('invalid_encoding', 'blank_line', 'malformed_csv', 'wrong_column_count')
                )
        )
        SELECT k.line_no
        FROM keyed AS k
        WHERE k.h IN (SELECT r.h FROM keyed AS r GROUP BY r.h HAVING count(*) > 1)
        $sql$,
        v_staging,
        (SELECT string_agg(format('coalesce(s.%I, %L)', c, ''), ', ') FROM unnest(v_key) AS c)
    ) USING p_batch_id;
END;
$$;
COMMENT ON FUNCTION etl.lines_with_repeated_keys(bigint) IS
'The readable lines of a batch whose natural key (etl.feeds.natural_key, missing values equal) occurs more than once in the file: one grouping scan, parallel when possible.';

CREATE OR REPLACE FUNCTION etl.reject_duplicates(p_batch_id bigint)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_staging regclass;
    v_key text [];
    v_columns text [];
    v_lines integer [] := ARRAY(SELECT etl.lines_with_repeated_keys(p_batch_id));
    v_rejected integer;
BEGIN
    IF cardinality(v_lines) = 0 THEN
        RETURN 0;
    END IF;
    SELECT f.staging_table, f.natural_key, etl.staging_columns(f.feed) INTO v_staging, v_key, v_columns
    FROM etl.batches AS b INNER JOIN etl.feeds AS f ON b.feed = f.feed
    WHERE b.batch_id = p_batch_id;

    -- Among lines sharing a key: identical ones after the first are duplicate_row; when the versions
    -- differ, every one of them is conflicting_duplicate (nobody can tell which is right).
    EXECUTE format(
        $sql$
        WITH contents AS (
            SELECT s.line_no, ROW (%2$s)::text AS k, ROW (%3$s)::text AS content
            FROM %1$s AS s
            INNER JOIN unnest($2) AS l (line_no) ON s.line_no = l.line_no
            WHERE s.batch_id = $1
        ),
        ranked AS (
            SELECT
                c.*,
                array_agg(c.line_no) OVER (PARTITION BY c.k ORDER BY c.line_no
                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS lines,
                dense_rank() OVER (PARTITION BY c.k ORDER BY c.content) AS version,
                min(c.line_no) OVER (PARTITION BY c.k, c.content) AS first_line
            FROM contents AS c
        ),
        judged AS (
            SELECT r.*, max(r.version) OVER (PARTITION BY r.k) AS versions
            FROM ranked AS r
        )
        INSERT INTO etl.rejects (batch_id, line_no, column_name, value, rule, detail)
        SELECT $1, j.line_no, %4$L, j.content,
            CASE WHEN j.versions > 1 THEN 'conflicting_duplicate' ELSE 'duplicate_row' END,
            CASE
                WHEN j.versions > 1
                    THEN format('lines %%s have the same %%s with different values', array_to_string(j.lines, ', '), %4$L)
                ELSE format('same as line %%s', j.first_line)
            END
        FROM judged AS j
        WHERE j.versions > 1 OR j.line_no > j.first_line
        $sql$,
        v_staging,
        (SELECT string_agg('s.' || quote_ident(c), ', ') FROM unnest(v_key) AS c),
        (SELECT string_agg('s.' || quote_ident(c), ', ') FROM unnest(v_columns) AS c),
        array_to_string(v_key, ', ')
    ) USING p_batch_id, v_lines;
    GET DIAGNOSTICS v_rejected = ROW_COUNT;
    RETURN v_rejected;
END;
$$;
COMMENT ON FUNCTION etl.reject_duplicates(bigint) IS
'Records duplicate_row (a line identical to an earlier one) and conflicting_duplicate (same natural key, different values: all of them) for the readable lines of a batch. Returns the rejects recorded.';

CREATE OR REPLACE FUNCTION etl.restart_staging(p_batch_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_staging regclass;
BEGIN
    SELECT f.staging_table INTO v_staging
    FROM etl.batches AS b INNER JOIN etl.feeds AS f ON b.feed = f.feed
    WHERE b.batch_id = p_batch_id AND b.status = 'loading';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch % is not being loaded', p_batch_id USING ERRCODE = '55000';
    END IF;
    EXECUTE format('TRUNCATE %s RESTART IDENTITY', v_staging);
END;
$$;
COMMENT ON FUNCTION etl.restart_staging(bigint) IS
'Empties the staging table of a batch being loaded and restarts its line numbering (before staging the file again line by line).';
