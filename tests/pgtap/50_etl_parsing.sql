-- Text to typed values without raising: calendar dates, timestamps, numbers, faults and CSV fields.
BEGIN;
SELECT plan(34);

SELECT is(etl.iso_date('2024-02-29'), '2024-02-29'::date, '2024-02-29 is a leap day');
SELECT is(etl.iso_date('2025-02-29'), NULL, '2025-02-29 is not a day');
SELECT is(etl.iso_date('1900-02-29'), NULL, '1900 was not a leap year (divisible by 100)');
SELECT is(etl.iso_date('2000-02-29'), '2000-02-29'::date, '2000 was a leap year (divisible by 400)');
SELECT is(etl.iso_date('2025-04-31'), NULL, 'April has 30 days');
SELECT is(etl.iso_date('2025-13-01'), NULL, 'there is no month 13');
SELECT is(etl.iso_date('2025-1-01'), NULL, 'months have two digits');
SELECT is(etl.iso_date('20250101'), NULL, 'YYYYMMDD is not the pbmdb layout date');
SELECT is(etl.iso_date('0000-01-01'), NULL, 'year 0 does not exist');
SELECT is(etl.yyyymmdd_date('20100330'), '2010-03-30'::date, 'DE-SynPUF SRVC_DT 20100330');
SELECT is(etl.yyyymmdd_date('20100230'), NULL, 'DE-SynPUF date February 30 is refused');
SELECT is(etl.yyyymmdd_date('2010033'), NULL, 'seven digits are not a date');

SELECT is(
    etl.iso_timestamptz('2025-03-01T09:00:00Z'), '2025-03-01 09:00:00+00'::timestamptz, 'ISO timestamp with Z'
);
SELECT is(
    etl.iso_timestamptz('2025-03-01 04:00-05:00'), '2025-03-01 09:00:00+00'::timestamptz, 'offset -05:00 is honoured'
);
SELECT is(
    etl.iso_timestamptz('2025-03-01T09:00'), '2025-03-01 09:00:00+00'::timestamptz, 'no offset is UTC'
);
SELECT is(etl.iso_timestamptz('2025-03-01T24:00'), NULL, 'hour 24 is refused');
SELECT is(etl.iso_timestamptz('2025-02-30T10:00Z'), NULL, 'a timestamp on February 30 is refused');

SELECT is(etl.to_integer('-42'), -42, 'a negative whole number');
SELECT is(etl.to_integer('4.0'), NULL, 'decimals are not a whole number');
SELECT is(etl.to_integer('1234567890'), NULL, 'ten digits do not fit');
SELECT is(etl.to_boolean('t'), TRUE, 't is true');
SELECT is(etl.to_boolean('true'), NULL, 'only t and f are booleans in the layouts');

SELECT is(etl.money_fault('12.50'), NULL, 'a money amount');
SELECT is(etl.money_fault('-0.00'), NULL, 'minus zero is not negative');
SELECT is(etl.money_fault('-0.01'), 'negative_amount', 'a negative amount');
SELECT is(etl.money_fault('12.345'), 'bad_number', 'three decimals are too many for money');
SELECT is(etl.quantity_fault('0.000'), 'not_positive', 'a zero quantity');
SELECT is(etl.quantity_fault('0', TRUE), NULL, 'zero allowed when asked');
SELECT is(etl.whole_number_fault('400', 1, 365), 'out_of_range', 'days supply 400');
SELECT is(etl.whole_number_fault('30.5', 1, 365), 'bad_number', 'days supply 30.5');

SELECT is(etl.csv_fields('a,,b'), ARRAY['a', NULL, 'b'], 'an empty field is NULL');
SELECT is(
    etl.csv_fields('"a,b","say ""hi""",""'), ARRAY['a,b', 'say "hi"', NULL],
    'quoted commas and doubled quotes; a quoted empty field is NULL too (COPY ... FORCE_NULL)'
);
SELECT is(etl.csv_fields('"open,b'), NULL, 'an unterminated quote is no line');
SELECT is(etl.csv_fields('ab"c,d'), NULL, 'a quote inside an unquoted field is no line');

SELECT * FROM finish();
ROLLBACK;
