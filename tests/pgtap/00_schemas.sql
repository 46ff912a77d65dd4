-- The schemas of DESIGN.md exist, each documented, and the contrib extensions are installed.
BEGIN;
SELECT plan(27);

SELECT has_schema(s, format('schema %s exists', s))
FROM unnest(ARRAY[
    'ref', 'plan', 'member', 'drug', 'network', 'claims', 'ppp', 'etl', 'audit', 'reporting', 'api', 'pbm_meta'
]) AS s;

SELECT
    isnt(
        obj_description(to_regnamespace(s), 'pg_namespace'), NULL, format('schema %s has a comment', s)
    )
FROM unnest(ARRAY[
    'ref', 'plan', 'member', 'drug', 'network', 'claims', 'ppp', 'etl', 'audit', 'reporting', 'api', 'pbm_meta'
]) AS s;

SELECT has_extension('pgcrypto', 'pgcrypto is installed');
SELECT has_extension('pg_trgm', 'pg_trgm is installed');
SELECT has_extension('btree_gist', 'btree_gist is installed');

SELECT * FROM finish();
ROLLBACK;
