-- api.search_drugs: full-text prefix search (autocomplete) and trigram similarity (typos), ranked.
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(12);

\ir ../fixtures/reporting/entities.sql

SELECT results_eq(
    $$SELECT ndc11::text, matched_by FROM api.search_drugs('atorvastatn', 10) WHERE ndc11 LIKE '111111111%'$$,
    $$VALUES ('11111111101', 'similarity'), ('11111111102', 'similarity')$$,
    'a typo (atorvastatn) still finds atorvastatin and Lipitor (generic name atorvastatin calcium) by similarity'
);
SELECT results_eq(
    $$SELECT ndc11::text FROM api.search_drugs('eliqis', 10) WHERE ndc11 LIKE '111111111%'$$,
    $$VALUES ('11111111103')$$,
    'eliqis finds ELIQUIS'
);
SELECT results_eq(
    $$SELECT ndc11::text, matched_by FROM api.search_drugs('eli', 10) WHERE ndc11 LIKE '111111111%'$$,
    $$VALUES ('11111111103', 'text')$$,
    'autocomplete: the first letters match as a prefix'
);
SELECT results_eq(
    $$SELECT ndc11::text, matched_by FROM api.search_drugs('Atorva 10', 10) WHERE ndc11 LIKE '111111111%'$$,
    $$VALUES ('11111111101', 'text'), ('11111111102', 'text')$$,
    'several words are all prefixes (atorva + 10), case does not matter'
);
SELECT results_eq(
    $$SELECT ndc11::text FROM api.search_drugs('statins', 10) WHERE ndc11 LIKE '111111111%'$$,
    $$VALUES ('11111111101'), ('11111111102')$$,
    'the therapeutic class is searched too'
);
SELECT ok(
    (
        SELECT rank > 1 AND matched_by = 'text' FROM api.search_drugs('lipitor', 10)
        WHERE ndc11 = '11111111102'
    ),
    'a text match ranks above 1, above any similarity-only match'
);
SELECT is(
    (SELECT ndc11::text FROM api.search_drugs('lipitor', 1)), '11111111102',
    'the best match comes first and max_rows caps the rows'
);
SELECT is_empty(
    $$SELECT 1 FROM api.search_drugs('zzzzqqq', 10)$$,
    'nothing similar: no rows'
);
SELECT throws_ok($$SELECT * FROM api.search_drugs('  ', 10)$$, '22023', NULL, 'an empty query is refused');
SELECT throws_ok($$SELECT * FROM api.search_drugs('atorva', 0)$$, '22023', NULL, 'max_rows 0 is refused');
SELECT throws_ok($$SELECT * FROM api.search_drugs('atorva', 5000)$$, '22023', NULL, 'max_rows over 1000 is refused');
SELECT ok(
    (
        SELECT p.prosecdef AND 'search_path=pg_catalog, public' = any(p.proconfig)
        FROM pg_proc AS p
        WHERE p.oid = 'api.search_drugs(text, integer)'::regprocedure
    ),
    'search_drugs is SECURITY DEFINER with a pinned search_path'
);

SELECT * FROM finish();
ROLLBACK;
