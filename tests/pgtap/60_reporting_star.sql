-- The reporting star schema: the claim fact built from claims.claims, keyed pseudonyms, the SCD2
-- de-identified member dimension, incremental refresh month by month, and a documented catalog.
-- Data: tests/fixtures/reporting_*.sql (25 B1 claims, January to April 2025).
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(38);

\ir ../fixtures/reporting_entities.sql
\ir ../fixtures/reporting_claims.sql

-- Demographic history of RPT0001: a new street in the same ZIP3 on 2025-03-01 (a version of
-- member_history that reporting collapses), a move to NH ZIP 03601 (a restricted ZIP3) on 2025-05-01.
SELECT set_config('pbm.effective_date', '2025-03-01', TRUE);
UPDATE member.members SET address_line1 = '9 Lamar Blvd', zip5 = '78703'
WHERE cardholder_id = 'RPT0001';
SELECT set_config('pbm.effective_date', '2025-05-01', TRUE);
UPDATE member.members SET address_line1 = '1 Bridge St', city = 'Colebrook', state = 'NH', zip5 = '03601'
WHERE cardholder_id = 'RPT0001';

CREATE TEMP TABLE first_refresh ON COMMIT DROP AS
SELECT * FROM reporting.refresh();

SELECT is(
    (SELECT rows_written FROM first_refresh WHERE step = 'fact_claims (4 month(s) rebuilt)'), 25::bigint,
    'the first refresh builds the four months of service: 25 B1 claims'
);
SELECT is(
    (SELECT count(*) FROM reporting.fact_claims), 25::bigint,
    'the fact has one row per B1 transaction; the B2 reversal is not a row of its own'
);
SELECT is(
    (SELECT count(*) FROM reporting.fact_claims WHERE is_paid), 19::bigint,
    '19 net paid claims: 20 paid B1 less the reversed A06'
);
SELECT results_eq(
    $$SELECT f.is_paid, f.is_reversed, f.reversed_date, f.transaction_response_status::text
      FROM reporting.fact_claims f JOIN claims.claims c
        ON f.claim_key = reporting_private.pseudonym((SELECT secret FROM reporting_private.pseudonym_key), 'claim', c.claim_id)
      WHERE c.rx_number = 'A06'$$,
    $$VALUES (FALSE, TRUE, '2025-02-09'::date, 'P')$$,
    'the reversed claim stays status P, is_reversed, not net paid, with its reversal date'
);
SELECT results_eq(
    $$SELECT c.rx_number::text, f.member_key IS NULL, f.plan_key IS NULL, f.on_formulary, f.reject_codes::text[]
      FROM reporting.fact_claims f JOIN claims.claims c
        ON f.claim_key = reporting_private.pseudonym((SELECT secret FROM reporting_private.pseudonym_key), 'claim', c.claim_id)
      WHERE c.rx_number IN ('A09', 'B01', 'B06', 'A13') ORDER BY c.rx_number$$,
    $$VALUES ('A09', TRUE, TRUE, NULL::boolean, '{65}'::text[]), ('A13', FALSE, FALSE, TRUE, '{75,76}'),
             ('B01', FALSE, FALSE, TRUE, '{}'), ('B06', FALSE, FALSE, FALSE, '{}')$$,
    'unknown member: no member or plan key; on_formulary follows the plan''s formulary (oxycodone is not on RPT-FB)'
);
SELECT is(
    (SELECT count(*) FROM reporting.fact_claims WHERE is_duplicate), 1::bigint,
    'the status D claim is kept and flagged as a duplicate'
);
SELECT results_eq(
    $$SELECT gross_cost, plan_paid, member_paid FROM reporting.fact_claims f JOIN claims.claims c
        ON f.claim_key = reporting_private.pseudonym((SELECT secret FROM reporting_private.pseudonym_key), 'claim', c.claim_id)
      WHERE c.rx_number = 'A02'$$,
    $$VALUES (150.00::numeric, 110.00::numeric, 40.00::numeric)$$,
    'measures: allowed 150.00 = plan 110.00 + member 40.00'
);

-- Pseudonyms: HMAC-SHA256 under the owner-only key, first 16 hex digits, stable across refreshes.
SELECT is(
    (
        SELECT k.member_key FROM reporting_private.member_keys AS k
        INNER JOIN member.members AS m ON k.member_id = m.member_id
        WHERE m.cardholder_id = 'RPT0002'
    ),
    (
        SELECT substr(encode(public.hmac(convert_to('member:' || m.member_id, 'UTF8'), k.secret, 'sha256'), 'hex'), 1, 16)
        FROM member.members AS m, reporting_private.pseudonym_key AS k
        WHERE m.cardholder_id = 'RPT0002'
    ),
    'member_key = first 16 hex digits of HMAC-SHA256(''member:<id>'') under the pseudonym key'
);
SELECT is(
    (SELECT count(DISTINCT member_key) FROM reporting.fact_claims WHERE member_key IS NOT NULL), 4::bigint,
    'four members with claims, four pseudonyms'
);
SELECT ok(
    (SELECT bool_and(member_key ~ '^[0-9a-f]{16}$' AND claim_key ~ '^[0-9a-f]{16}$') FROM reporting.fact_claims),
    'every pseudonym is 16 hex digits'
);
SELECT is_empty(
    $$SELECT 1 FROM reporting.fact_claims f JOIN member.members m ON f.member_key = m.member_id::text$$,
    'no member id appears as a member key'
);

-- The SCD2 member dimension: only de-identified attributes, consecutive identical versions collapsed.
SELECT results_eq(
    $$SELECT d.member_version, d.valid_from, d.valid_to, d.is_current, d.birth_year::int, d.age_band,
             d.gender::text, d.state::text, d.zip3::text
      FROM reporting.dim_member d JOIN reporting_private.member_keys k USING (member_key)
      JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'RPT0001' ORDER BY d.member_version$$,
    $$VALUES (1, '2025-01-01'::date, '2025-05-01'::date, FALSE, 1950, '75-84', 'F', 'TX', '787'),
             (2, '2025-05-01'::date, 'infinity'::date, TRUE, 1950, '75-84', 'F', 'NH', '000')$$,
    'RPT0001: the street change in ZIP3 787 is not a version; the move to NH is, with ZIP3 036 shown as 000'
);
SELECT is(
    (SELECT count(*) FROM member.member_history AS h INNER JOIN member.members AS m USING (member_id)
        WHERE m.cardholder_id = 'RPT0001'),
    3::bigint,
    '(member_history itself keeps the three versions)'
);
SELECT results_eq(
    $$SELECT d.birth_year, d.age_band, d.zip3::text FROM reporting.dim_member d
      JOIN reporting_private.member_keys k USING (member_key) JOIN member.members m USING (member_id)
      WHERE m.cardholder_id = 'RPT0003'$$,
    $$VALUES (NULL::smallint, '90+', '000')$$,
    'a member over 89 has no birth year, age band 90+ (Safe Harbor)'
);
SELECT is(
    (SELECT member_version_key FROM reporting.dim_member WHERE member_version = 2),
    (SELECT member_key || '.2' FROM reporting.dim_member WHERE member_version = 2),
    'member_version_key is member_key.version'
);

-- Nothing identifying in reporting: no names, addresses, dates of birth, ids or full ZIP codes
-- (the pharmacy dimension keeps the pharmacy's own city and ZIP: a business, not a person).
SELECT is_empty(
    $$SELECT c.table_name, c.column_name FROM information_schema.columns c
      WHERE c.table_schema = 'reporting'
        AND (c.column_name IN ('first_name', 'last_name', 'address_line1', 'date_of_birth', 'member_id',
                               'cardholder_id', 'person_code', 'mbi_encrypted', 'mbi_hash', 'rx_number',
                               'claim_id', 'prior_authorization_id', 'election_id', 'pa_number')
             OR (c.column_name IN ('zip5', 'city') AND c.table_name <> 'dim_pharmacy'))$$,
    'no reporting relation has a name, address, date of birth, raw id or full ZIP column'
);
SELECT is(
    (
        SELECT count(*) FROM pg_catalog.pg_attribute AS a
        INNER JOIN pg_catalog.pg_class AS c ON a.attrelid = c.oid
        WHERE c.relnamespace = 'reporting'::regnamespace AND c.relkind = 'm' AND a.attnum > 0
            AND a.attname IN ('date_of_birth', 'member_id', 'zip5')
    ),
    0::bigint,
    'no materialized view keeps a date of birth, member id or ZIP5 either'
);

-- Incremental refresh: only months whose claims changed are rebuilt.
SELECT is(
    (SELECT months_rebuilt FROM reporting.refresh_log ORDER BY refresh_id DESC LIMIT 1),
    '{2025-01-01,2025-02-01,2025-03-01,2025-04-01}'::date[],
    'the refresh log lists the months built'
);
SELECT is(
    (SELECT rows_written FROM reporting.refresh() WHERE step LIKE 'fact_claims%'), 0::bigint,
    'a refresh with no new claims rebuilds nothing'
);
DO $$ BEGIN PERFORM pg_temp.paid_claim('A20', '2025-04-25', 'RPT0001', '11111111101', '1000000012', 10.00, 5.00, 30, 30, 1); END $$;
SELECT is(
    (SELECT step FROM reporting.refresh() WHERE step LIKE 'fact_claims%'), 'fact_claims (1 month(s) rebuilt)',
    'a new April claim: one month rebuilt'
);
SELECT is(
    (SELECT months_rebuilt FROM reporting.refresh_log ORDER BY refresh_id DESC LIMIT 1), '{2025-04-01}'::date[],
    '... April'
);
DO $$ BEGIN PERFORM pg_temp.reverse_claim('A01', '2025-01-08'); END $$;
SELECT is(
    (SELECT step FROM reporting.refresh() WHERE step LIKE 'fact_claims%'), 'fact_claims (1 month(s) rebuilt)',
    'reversing a January claim: one month rebuilt'
);
SELECT is(
    (SELECT months_rebuilt FROM reporting.refresh_log ORDER BY refresh_id DESC LIMIT 1), '{2025-01-01}'::date[],
    '... January'
);
SELECT results_eq(
    $$SELECT count(*), count(*) FILTER (WHERE is_paid), sum(gross_cost) FILTER (WHERE is_paid) FROM reporting.fact_claims$$,
    $$VALUES (26::bigint, 19::bigint, 3356.00::numeric)$$,
    'after both: 26 B1 rows, 19 net paid (A20 added, A01 reversed), allowed 3356.00 - 10.00 + 10.00'
);
SELECT is(
    (SELECT gross_cost FROM reporting.monthly_plan_summary WHERE month = '2025-01-01' AND plan_key IS NOT NULL
        AND plan_key = (SELECT plan_id FROM plan.plans WHERE plan_code = 'RPT-A')),
    650.00::numeric,
    'the dashboards follow: plan A''s January is 660.00 - 10.00 after the reversal'
);

-- Rotating the key changes every pseudonym.
CREATE TEMP TABLE keys_before ON COMMIT DROP AS SELECT member_id, member_key FROM reporting_private.member_keys;
SELECT ok((SELECT count(*) > 0 FROM reporting.rotate_pseudonym_key()), 'rotate_pseudonym_key rebuilds everything');
SELECT is_empty(
    $$SELECT 1 FROM keys_before b JOIN reporting_private.member_keys k USING (member_id) WHERE b.member_key = k.member_key$$,
    'after a key rotation no member keeps its pseudonym'
);
SELECT is(
    (SELECT count(*) FROM reporting.fact_claims f JOIN reporting_private.member_keys k USING (member_key)), 25::bigint,
    'and the fact carries the new pseudonyms (25 rows with a member)'
);

-- Refresh, privileges and documentation.
SELECT is_empty(
    $$SELECT view_name FROM reporting.materialized_views mv
      WHERE NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = mv.view_name AND i.indisunique
                        AND i.indpred IS NULL AND i.indexprs IS NULL)$$,
    'every materialized view has a plain unique index (REFRESH ... CONCURRENTLY needs one)'
);
SELECT ok(
    NOT has_schema_privilege('public', 'reporting_private', 'USAGE'),
    'reporting_private (the key, the member map) is not usable by PUBLIC'
);
SELECT ok(
    NOT has_table_privilege('public', 'reporting_private.pseudonym_key', 'SELECT'),
    'the pseudonym key is not readable by PUBLIC'
);
SELECT ok(
    NOT has_function_privilege('public', 'reporting.refresh(boolean)', 'EXECUTE')
    AND NOT has_function_privilege('public', 'reporting.rotate_pseudonym_key()', 'EXECUTE'),
    'refresh and key rotation are not executable by PUBLIC'
);
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'reporting'::regnamespace
        AND c.relkind IN ('r', 'v', 'm') AND obj_description(c.oid, 'pg_class') IS NULL$$,
    'every table, view and materialized view of reporting has a comment'
);
SELECT is_empty(
    $$SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE c.relnamespace = 'reporting'::regnamespace AND c.relkind IN ('r', 'v', 'm')
        AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL$$,
    'every column of every table, view and materialized view of reporting has a comment'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure FROM pg_proc p
      WHERE p.pronamespace IN ('reporting'::regnamespace, 'reporting_private'::regnamespace)
        AND obj_description(p.oid, 'pg_proc') IS NULL$$,
    'every function of reporting and reporting_private has a comment'
);
SELECT isnt(
    obj_description('api.search_drugs(text, integer)'::regprocedure, 'pg_proc'), NULL, 'api.search_drugs has a comment'
);
SELECT throws_ok(
    $$SELECT * FROM reporting.cost_by_period('fortnight')$$, '22023', NULL,
    'a report refuses an unknown period with 22023'
);
SELECT throws_ok(
    $$SELECT * FROM reporting.top_drugs(p_plan => 'NOPE')$$, '22023', 'unknown plan code NOPE',
    'a report refuses an unknown plan code with 22023, naming it'
);

SELECT * FROM finish();
ROLLBACK;
