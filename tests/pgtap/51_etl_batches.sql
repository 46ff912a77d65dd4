-- A batch in SQL alone (the rows COPY would stage are inserted by hand): a file seen before, the
-- header, line-level rejects, duplicates, validation, the merge and counts that add up.
BEGIN;
SELECT plan(17);

-- the first load of a pharmacies file
SELECT set_config('test.batch', (
    SELECT b.batch_id::text FROM etl.begin_batch(
        'pharmacies', 'pharmacies_20250101.csv', repeat('a', 64), 100, '2025-01-01', 'file name'
    ) AS b
), TRUE);
SELECT is(
    (
        SELECT status FROM etl.batches
        WHERE batch_id = current_setting('test.batch')::bigint
    ), 'loading',
    'begin_batch opens a batch'
);
SELECT is(etl.current_batch_id(), current_setting('test.batch')::bigint, 'the batch is the transaction''s');
SELECT ok(
    etl.check_header(
        current_setting('test.batch')::bigint, E'npi,ncpdp_id,name,address_line1,city,state,zip5,pharmacy_type\r',
        ARRAY['npi', 'ncpdp_id', 'name', 'address_line1', 'city', 'state', 'zip5', 'pharmacy_type']
    ),
    'a header with a CRLF line end is the layout''s'
);

-- what COPY would have staged, line by line (raw lines: a structural problem in the file)
INSERT INTO etl.stage_pharmacies (raw_line) VALUES
('1234567893,4512345,Main Street Pharmacy,1 Main St,Austin,TX,78701,retail'),
(''),
('1558598797,4599999,Elm,2 Elm St,Austin,TX,78702'),
('1234567893,4512345,Main Street Pharmacy,1 Main St,Austin,TX,78701,retail'),
('1234567890,45,"Bad, Inc.",3 Oak St,Austin,tx,7870,drive_thru');

SELECT is(
    (SELECT array_agg(line_no ORDER BY line_no) FROM etl.stage_pharmacies), ARRAY[2, 3, 4, 5, 6],
    'staged lines are numbered from 2 (the header is line 1)'
);

SELECT is(
    (etl.process_batch(current_setting('test.batch')::bigint, 5, 'line_by_line')).status, 'completed',
    'the batch completes'
);
SELECT results_eq(
    $$SELECT line_no, rule, coalesce(column_name, '') FROM etl.rejects
      WHERE batch_id = current_setting('test.batch')::bigint ORDER BY line_no, column_name COLLATE "C"$$,
    $$VALUES
        (3, 'blank_line', ''),
        (4, 'wrong_column_count', ''),
        (5, 'duplicate_row', 'npi'),
        (6, 'bad_format', 'ncpdp_id'),
        (6, 'bad_npi', 'npi'),
        (6, 'bad_code', 'pharmacy_type'),
        (6, 'bad_format', 'state'),
        (6, 'bad_format', 'zip5')$$,
    'every failing rule of every line, one reject each'
);
SELECT is(
    (
        SELECT detail FROM etl.rejects
        WHERE batch_id = current_setting('test.batch')::bigint AND line_no = 4
    ),
    'expected 8 columns, found 7', 'the wrong column count says what it expected'
);
SELECT is(
    (
        SELECT detail FROM etl.rejects
        WHERE batch_id = current_setting('test.batch')::bigint AND line_no = 5
    ),
    'same as line 2', 'a duplicate names the line it repeats'
);
SELECT is(
    (
        SELECT (rows_received, rows_loaded, rows_rejected, rows_inserted, rows_updated)::text FROM etl.batches
        WHERE batch_id = current_setting('test.batch')::bigint
    ),
    '(5,1,4,1,0)', 'received 5 = loaded 1 + rejected 4; one pharmacy inserted'
);
SELECT is(
    (
        SELECT name FROM network.pharmacies
        WHERE npi = '1234567893'
    ), 'Main Street Pharmacy', 'the good line is merged'
);
SELECT ok(
    (
        SELECT phase_seconds ?& ARRAY['split', 'duplicates', 'validate', 'merge'] FROM etl.batches
        WHERE batch_id = current_setting('test.batch')::bigint
    ),
    'the batch keeps the time of each phase'
);

-- the same file again is recognised
SELECT is(
    (
        SELECT (b.batch_id, b.loaded_before_batch_id, b.loaded_before_status)::text FROM etl.begin_batch(
            'pharmacies', 'renamed.csv', repeat('a', 64), 100, '2025-01-02', 'file name'
        ) AS b
    ),
    format('(,%s,completed)', current_setting('test.batch')),
    'the same content again opens no batch and names the one that loaded it'
);
SELECT is(
    (
        SELECT b.loaded_before_batch_id::text FROM etl.begin_batch(
            'pharmacies', 'again.csv', repeat('a', 64), 100, '2025-01-02', 'file name', TRUE
        ) AS b
    ),
    current_setting('test.batch'), 'forced, it opens a new batch that repeats the first'
);

-- a file refused as a whole
SELECT set_config('test.empty', (
    SELECT b.batch_id::text FROM etl.begin_batch(
        'drugs', 'drugs.csv', repeat('b', 64), 0, '2025-01-01', 'file name'
    ) AS b
), TRUE);
SELECT is(
    (etl.reject_file(current_setting('test.empty')::bigint, 0, 'empty_file', 0, NULL, 'no bytes')).status, 'rejected',
    'an empty file is a rejected batch'
);
SELECT ok(
    NOT etl.check_header(
        current_setting('test.empty')::bigint, 'ndc,name', ARRAY['ndc11', 'ndc_package_code', 'drug_name']
    ),
    'a wrong header is refused'
);
SELECT results_eq(
    $$SELECT line_no, column_name, value, detail FROM etl.rejects
      WHERE batch_id = current_setting('test.empty')::bigint AND rule = 'unexpected_header'
      ORDER BY column_name COLLATE "C"$$,
    $$VALUES
        (1, 'drug_name', NULL, 'column 3: expected ''drug_name'', found nothing'),
        (1, 'ndc11', 'ndc', 'column 1: expected ''ndc11'', found ''ndc'''),
        (1, 'ndc_package_code', 'name', 'column 2: expected ''ndc_package_code'', found ''name''')$$,
    'each differing header column is named with what was found'
);
SELECT throws_ok(
    $$UPDATE etl.batches SET rows_loaded = rows_loaded + 1 WHERE batch_id = current_setting('test.batch')::bigint$$,
    '23514', NULL, 'received = loaded + rejected is a constraint'
);

SELECT * FROM finish();
ROLLBACK;
