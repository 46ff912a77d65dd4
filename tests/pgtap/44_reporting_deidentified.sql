-- Nothing identifying leaves through the reporting schema, whatever it holds when this runs: no column
-- named or typed like a name, address, full date of birth, full ZIP code or raw identifier, and none of
-- a fixture member's values anywhere in any reporting relation. The checks first prove they catch a
-- leaky view, then run on the real schema.
BEGIN;
SELECT plan(9);

-- Columns whose name or type gives them away.
CREATE FUNCTION pg_temp.named_leaks()
RETURNS SETOF text
LANGUAGE sql
STABLE
AS $$
    SELECT c.oid::regclass::text || '.' || a.attname
    FROM pg_attribute AS a
    INNER JOIN pg_class AS c ON a.attrelid = c.oid
    INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
    WHERE n.nspname = 'reporting' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
        -- a pharmacy is a business: its city and ZIP code are public (NPPES), not a member's
        AND (c.relname, a.attname) NOT IN (('dim_pharmacy', 'city'), ('dim_pharmacy', 'zip5'))
        AND (
            a.attname ~ '(first|last|middle|full|given|family|patient|member|person|cardholder)_?name'
            OR a.attname ~ '(address|street|city|phone|email|ssn|social_security|mbi|hicn)'
            OR (a.attname ~ '(zip|postal)' AND a.attname !~ 'zip_?3')
            OR (a.attname ~ '(birth|dob)' AND a.atttypid IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype))
            OR a.attname ~ '^(member_id|cardholder_id|person_code|rx_number|mbi_hash|mbi_encrypted)$'
        )
$$;

-- Relations that show one of the fixture member's identifying values (matched in each row's text).
CREATE FUNCTION pg_temp.value_leaks()
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    v_rel regclass;
    v_hits bigint;
BEGIN
    FOR v_rel IN
        SELECT c.oid::regclass FROM pg_class AS c INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
        WHERE n.nspname = 'reporting' AND c.relkind IN ('r', 'p', 'v', 'm')
    LOOP
        EXECUTE format(
            'SELECT count(*) FROM %s AS r WHERE r::text ~ %L', v_rel,
            'Zebulonfixture|Quixotefixture|742 Evergreen|Fixtureville|99950|1931-07-17|T44FIXTURE|987654321'
        ) INTO v_hits;
        IF v_hits > 0 THEN
            RETURN NEXT v_rel::text;
        END IF;
    END LOOP;
END;
$$;

-- The fixture: one member with distinctive values, covered, with a paid-looking claim and accumulators.
SELECT set_config('pbm.effective_date', '2026-01-01', TRUE);
INSERT INTO network.networks (network_code, name) VALUES ('T44-NET', 'Test network');
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, network_id)
SELECT
    'T44-PLAN',
    'Test plan',
    'commercial',
    '944001',
    'T44PCN',
    'T44GRP',
    n.network_id
FROM network.networks AS n
WHERE n.network_code = 'T44-NET';
INSERT INTO member.members (
    member_id, cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5
)
OVERRIDING SYSTEM VALUE
VALUES (
    987654321, 'T44FIXTURE', 'Zebulonfixture', 'Quixotefixture', '1931-07-17', 'M', '742 Evergreen Terrace',
    'Fixtureville', 'OR', '99950'
);
INSERT INTO member.coverage_spans (member_id, plan_id, effective_date)
SELECT
    987654321,
    p.plan_id,
    '2026-01-01'
FROM plan.plans AS p
WHERE p.plan_code = 'T44-PLAN';
INSERT INTO claims.claims (
    claim_id, date_of_service, transaction_response_status, reject_codes, cardholder_id, person_code,
    patient_date_of_birth, member_id, service_provider_id
)
VALUES (-4401, '2026-03-03', 'R', '{70}', 'T44FIXTURE', '01', '1931-07-17', 987654321, '1234567893');
INSERT INTO claims.accumulators (member_id, plan_year, oop_accumulated) VALUES (987654321, 2026, 12.34);

-- The checks catch a leaky view.
CREATE VIEW reporting.t44_leaky AS
SELECT
    m.member_id,
    m.first_name,
    m.zip5,
    m.date_of_birth
FROM member.members AS m;
CREATE VIEW reporting.t44_renamed AS
SELECT m.member_id AS patient_key
FROM member.members AS m;
SELECT is(
    (SELECT array_agg(l ORDER BY l) FROM pg_temp.named_leaks() AS l),
    ARRAY[
        'reporting.t44_leaky.date_of_birth', 'reporting.t44_leaky.first_name', 'reporting.t44_leaky.member_id',
        'reporting.t44_leaky.zip5'
    ],
    'the name check flags names, full ZIP codes, full dates of birth and raw member ids'
);
SELECT is(
    (SELECT array_agg(l ORDER BY l) FROM pg_temp.value_leaks() AS l),
    ARRAY['reporting.t44_leaky', 'reporting.t44_renamed'],
    'the value check also flags a raw member id under another name'
);
DROP VIEW reporting.t44_leaky;
DROP VIEW reporting.t44_renamed;

-- The real reporting schema, as it stands.
SELECT lives_ok(
    $t$DO $do$
    DECLARE v regclass;
    BEGIN
        FOR v IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'reporting' AND c.relkind = 'm' ORDER BY c.oid
        LOOP
            EXECUTE format('REFRESH MATERIALIZED VIEW %s', v);
        END LOOP;
    END $do$$t$,
    'every reporting materialized view refreshes with the fixture in place'
);
SELECT is_empty(
    'SELECT * FROM pg_temp.named_leaks()',
    'no reporting column is named like a name, address, full ZIP, full date of birth or raw identifier'
);
SELECT is_empty(
    'SELECT * FROM pg_temp.value_leaks()',
    'no reporting relation shows the fixture member''s name, address, ZIP, date of birth or ids'
);

-- Analysts and BI reach reporting and nothing that could map pseudonyms back.
SELECT is_empty(
    $$SELECT r || ' ' || c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN unnest(ARRAY['pbm_analyst', 'pbm_bi']) r
      WHERE n.nspname <> 'reporting' AND n.nspname !~ '^(pg_|information_schema)'
        AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND has_table_privilege(r, c.oid, 'SELECT')
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')$$,
    'analysts and BI read no table or view outside reporting (extensions'' own aside)'
);
SELECT is_empty(
    $$SELECT r || ' ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      CROSS JOIN unnest(ARRAY['pbm_analyst', 'pbm_bi']) r
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas()) AND p.prosecdef
        AND has_schema_privilege(r, n.oid, 'USAGE') AND has_function_privilege(r, p.oid, 'EXECUTE')
        -- the drug search reads the drug catalog only (no PHI)
        AND p.oid <> 'api.search_drugs(text, integer)'::regprocedure$$,
    'analysts and BI may call no SECURITY DEFINER function but the drug search'
);
SELECT is_empty(
    $$SELECT r || ' ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      CROSS JOIN unnest(ARRAY['pbm_analyst', 'pbm_bi']) r
      WHERE n.nspname IN (SELECT schema_name FROM security.schemas()) AND p.proname ~ '(pseudonym|phi|decrypt|mbi)'
        AND has_schema_privilege(r, n.oid, 'USAGE') AND has_function_privilege(r, p.oid, 'EXECUTE')$$,
    'analysts and BI cannot call a pseudonym or PHI function (which would map pseudonyms back to members)'
);
SELECT is_empty(
    $$SELECT r || ' ' || c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN unnest(ARRAY['pbm_analyst', 'pbm_bi']) r
      WHERE n.nspname = 'reporting' AND c.relkind IN ('v', 'm')
        AND coalesce('security_invoker=true' = ANY(c.reloptions), false)$$,
    'reporting views run as their owner (security_invoker would need base-table grants for analysts)'
);

SELECT * FROM finish();
ROLLBACK;
