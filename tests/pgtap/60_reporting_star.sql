-- The reporting star schema: the claim fact built from claims.claims, keyed pseudonyms, the SCD2
-- de-identified member dimension, incremental refresh month by month, and a documented catalog.
-- Data: tests/fixtures/reporting/*.sql (25 B1 claims, January to April 2025).
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(36);

\ir ../fixtures/reporting/entities.sql
\ir ../fixtures/reporting/claims.sql

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
CREATE TEMP TABLE claim_key_of ON COMMIT DROP AS
SELECT
    c.rx_number,
    reporting_private.pseudonym(k.secret, 'claim', c.claim_id) AS claim_key
FROM claims.claims AS c
CROSS JOIN reporting_private.pseudonym_key AS k
WHERE c.transaction_code = 'B1';

SELECT results_eq(
    $$SELECT rows_written FROM first_refresh WHERE step LIKE 'fact_claims%'$$,
    $$VALUES (25::bigint)$$,
    'the first refresh builds the four months of service: 25 B1 claims'
);
SELECT results_eq(
    $$SELECT count(*), count(*) FILTER (WHERE is_paid), count(*) FILTER (WHERE is_duplicate)
      FROM reporting.fact_claims$$,
    $$VALUES (25::bigint, 19::bigint, 1::bigint)$$,
    'one row per B1 (the B2 reversal is no row of its own); 19 net paid (20 paid less the reversed A06); 1 duplicate'
);
SELECT results_eq(
    $$SELECT f.is_paid, f.is_reversed, f.reversed_date, f.transaction_response_status::text
      FROM reporting.fact_claims AS f JOIN claim_key_of AS k USING (claim_key) WHERE k.rx_number = 'A06'$$,
    $$VALUES (FALSE, TRUE, '2025-02-09'::date, 'P')$$,
    'the reversed claim stays status P, is_reversed, not net paid, with its reversal date'
);
SELECT results_eq(
    $$SELECT k.rx_number::text, f.member_key IS NULL, f.plan_key IS NULL, f.on_formulary, f.reject_codes::text[]
      FROM reporting.fact_claims AS f JOIN claim_key_of AS k USING (claim_key)
      WHERE k.rx_number IN ('A09', 'B01', 'B06', 'A13') ORDER BY k.rx_number$$,
    $$VALUES ('A09', TRUE, TRUE, NULL::boolean, '{65}'::text[]), ('A13', FALSE, FALSE, TRUE, '{75,76}'),
             ('B01', FALSE, FALSE, TRUE, '{}'), ('B06', FALSE, FALSE, FALSE, '{}')$$,
    'unknown member: no member or plan key; on_formulary follows the plan''s formulary (oxycodone is not on RPT-FB)'
);
SELECT results_eq(
    $$SELECT f.gross_cost, f.plan_paid, f.member_paid
      FROM reporting.fact_claims AS f JOIN claim_key_of AS k USING (claim_key) WHERE k.rx_number = 'A02'$$,
    $$VALUES (150.00::numeric, 110.00::numeric, 40.00::numeric)$$,
    'measures: allowed 150.00 = plan 110.00 + member 40.00'
);

-- Pseudonyms: HMAC-SHA256 under the owner-only key, first 16 hex digits, stable across refreshes.
SELECT results_eq(
    $$SELECT k.member_key FROM reporting_private.member_keys AS k
      JOIN member.members AS m USING (member_id) WHERE m.cardholder_id = 'RPT0002'$$,
    $$SELECT substr(encode(public.hmac(convert_to('member:' || m.member_id, 'UTF8'), k.secret, 'sha256'), 'hex'), 1, 16)
      FROM member.members AS m, reporting_private.pseudonym_key AS k WHERE m.cardholder_id = 'RPT0002'$$,
    'member_key = first 16 hex digits of HMAC-SHA256(''member:<id>'') under the pseudonym key'
);
SELECT results_eq(
    $$SELECT count(DISTINCT member_key) FROM reporting.fact_claims$$,
    $$VALUES (4::bigint)$$,
    'four members with claims, four pseudonyms'
);
SELECT is_empty(
    $$SELECT 1 FROM reporting.fact_claims WHERE member_key !~ '^[0-9a-f]{16}$' OR claim_key !~ '^[0-9a-f]{16}$'$$,
    'every pseudonym is 16 hex digits'
);
SELECT is_empty(
    $$SELECT 1 FROM reporting.fact_claims AS f JOIN member.members AS m ON f.member_key = m.member_id::text$$,
    'no member id appears as a member key'
);

-- The SCD2 member dimension: only de-identified attributes, consecutive identical versions collapsed.
SELECT results_eq(
    $$SELECT d.member_version, d.valid_from, d.valid_to, d.is_current, d.birth_year::int, d.age_band,
             d.gender::text, d.state::text, d.zip3::text
      FROM reporting.dim_member AS d JOIN reporting_private.member_keys AS k USING (member_key)
      JOIN member.members AS m USING (member_id) WHERE m.cardholder_id = 'RPT0001' ORDER BY d.member_version$$,
    $$VALUES (1, '2025-01-01'::date, '2025-05-01'::date, FALSE, 1950, '75-84', 'F', 'TX', '787'),
             (2, '2025-05-01'::date, 'infinity'::date, TRUE, 1950, '75-84', 'F', 'NH', '000')$$,
    'RPT0001: the street change in ZIP3 787 is not a version; the move to NH is, with ZIP3 036 shown as 000'
);
SELECT results_eq(
    $$SELECT count(*) FROM member.member_history AS h JOIN member.members AS m USING (member_id)
      WHERE m.cardholder_id = 'RPT0001'$$,
    $$VALUES (3::bigint)$$,
    '(member_history itself keeps the three versions)'
);
SELECT results_eq(
    $$SELECT d.birth_year, d.age_band, d.zip3::text FROM reporting.dim_member AS d
      JOIN reporting_private.member_keys AS k USING (member_key) JOIN member.members AS m USING (member_id)
      WHERE m.cardholder_id = 'RPT0003'$$,
    $$VALUES (NULL::smallint, '90+', '000')$$,
    'a member over 89 has no birth year, age band 90+ (Safe Harbor)'
);
SELECT is_empty(
    $$SELECT 1 FROM reporting.dim_member WHERE member_version_key <> member_key || '.' || member_version$$,
    'member_version_key is member_key.version'
);

-- Nothing identifying in reporting: no names, addresses, dates of birth, ids or full ZIP codes
-- (the pharmacy dimension keeps the pharmacy's own city and ZIP: a business, not a person).
SELECT is_empty(
    $$SELECT a.attrelid::regclass, a.attname FROM pg_attribute AS a JOIN pg_class AS c ON a.attrelid = c.oid
      WHERE c.relnamespace = 'reporting'::regnamespace AND c.relkind IN ('r', 'v', 'm') AND a.attnum > 0
        AND (a.attname IN ('first_name', 'last_name', 'address_line1', 'date_of_birth', 'member_id',
                           'cardholder_id', 'person_code', 'mbi_encrypted', 'mbi_hash', 'rx_number',
                           'claim_id', 'prior_authorization_id', 'election_id', 'pa_number')
             OR (a.attname IN ('zip5', 'city') AND c.relname <> 'dim_pharmacy'))$$,
    'no reporting relation has a name, address, date of birth, raw id or full ZIP column'
);

-- Incremental refresh: only months whose claims changed are rebuilt.
SELECT results_eq(
    $$SELECT months_rebuilt FROM reporting.refresh_log ORDER BY refresh_id DESC LIMIT 1$$,
    $$VALUES ('{2025-01-01,2025-02-01,2025-03-01,2025-04-01}'::date[])$$,
    'the refresh log lists the months built'
);
SELECT results_eq(
    $$SELECT rows_written FROM reporting.refresh() WHERE step LIKE 'fact_claims%'$$,
    $$VALUES (0::bigint)$$,
    'a refresh with no new claims rebuilds nothing'
);
DO $$
BEGIN
    PERFORM pg_temp.paid_claim('A20', '2025-04-25', 'RPT0001', '11111111101', '1000000012', 10.00, 5.00, 30, 30, 1);
END;
$$;
SELECT results_eq(
    $$SELECT step FROM reporting.refresh() WHERE step LIKE 'fact_claims%'$$,
    $$VALUES ('fact_claims (1 month(s) rebuilt)')$$,
    'a new April claim: one month rebuilt'
);
SELECT results_eq(
    $$SELECT months_rebuilt FROM reporting.refresh_log ORDER BY refresh_id DESC LIMIT 1$$,
    $$VALUES ('{2025-04-01}'::date[])$$,
    '... April'
);
DO $$
BEGIN
    PERFORM pg_temp.reverse_claim('A01', '2025-01-08');
END;
$$;
SELECT results_eq(
    $$SELECT step FROM reporting.refresh() WHERE step LIKE 'fact_claims%'$$,
    $$VALUES ('fact_claims (1 month(s) rebuilt)')$$,
    'reversing a January claim: one month rebuilt'
);
SELECT results_eq(
    $$SELECT months_rebuilt FROM reporting.refresh_log ORDER BY refresh_id DESC LIMIT 1$$,
    $$VALUES ('{2025-01-01}'::date[])$$,
    '... January'
);
SELECT results_eq(
    $$SELECT count(*), count(*) FILTER (WHERE is_paid), sum(gross_cost) FILTER (WHERE is_paid)
      FROM reporting.fact_claims$$,
    $$VALUES (26::bigint, 19::bigint, 3356.00::numeric)$$,
    'after both: 26 B1 rows, 19 net paid (A20 added, A01 reversed), allowed 3356.00 - 10.00 + 10.00'
);
SELECT results_eq(
    $$SELECT s.gross_cost FROM reporting.monthly_plan_summary AS s JOIN plan.plans AS p ON s.plan_key = p.plan_id
      WHERE s.month = '2025-01-01' AND p.plan_code = 'RPT-A'$$,
    $$VALUES (650.00::numeric)$$,
    'the dashboards follow: plan A''s January is 660.00 - 10.00 after the reversal'
);

-- Rotating the key changes every pseudonym.
CREATE TEMP TABLE keys_before ON COMMIT DROP AS
SELECT
    member_id,
    member_key
FROM reporting_private.member_keys;
SELECT isnt_empty(
    $$SELECT * FROM reporting.rotate_pseudonym_key()$$,
    'rotate_pseudonym_key rebuilds everything'
);
SELECT is_empty(
    $$SELECT 1 FROM keys_before AS b JOIN reporting_private.member_keys AS k USING (member_id)
      WHERE b.member_key = k.member_key$$,
    'after a key rotation no member keeps its pseudonym'
);
SELECT results_eq(
    $$SELECT count(*) FROM reporting.fact_claims AS f JOIN reporting_private.member_keys AS k USING (member_key)$$,
    $$VALUES (25::bigint)$$,
    'and the fact carries the new pseudonyms (25 rows with a member)'
);

-- Refresh, privileges and documentation.
SELECT is_empty(
    $$SELECT mv.view_name FROM reporting.materialized_views AS mv
      WHERE NOT EXISTS (SELECT FROM pg_index AS i WHERE i.indrelid = mv.view_name AND i.indisunique
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
    $$SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = 'reporting'::regnamespace
        AND c.relkind IN ('r', 'v', 'm') AND obj_description(c.oid, 'pg_class') IS NULL$$,
    'every table, view and materialized view of reporting has a comment'
);
SELECT is_empty(
    $$SELECT c.relname, a.attname FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid
      WHERE c.relnamespace = 'reporting'::regnamespace AND c.relkind IN ('r', 'v', 'm')
        AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL$$,
    'every column of every table, view and materialized view of reporting has a comment'
);
SELECT is_empty(
    $$SELECT p.oid::regprocedure FROM pg_proc AS p
      WHERE p.pronamespace IN ('reporting'::regnamespace, 'reporting_private'::regnamespace)
        AND obj_description(p.oid, 'pg_proc') IS NULL$$,
    'every function of reporting and reporting_private has a comment'
);
SELECT isnt(
    obj_description('api.search_drugs(text, integer)'::regprocedure, 'pg_proc'), NULL,
    'api.search_drugs has a comment'
);
SELECT throws_ok(
    $$SELECT * FROM reporting.cost_by_period('fortnight')$$, '22023', NULL,
    'a report refuses an unknown period with 22023'
);
SELECT throws_ok(
    $$SELECT * FROM reporting.top_drugs(p_plan => 'NOPE')$$, '22023', 'unknown plan code NOPE',
    'a report refuses an unknown plan code with 22023, naming it'
);
SELECT throws_ok(
    $$SELECT * FROM reporting.top_drugs(p_limit => 0)$$, '22023', NULL,
    'a report refuses a limit below 1'
);

SELECT * FROM finish();
ROLLBACK;
