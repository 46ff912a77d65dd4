-- Row-level security, by being the user: pharmacy, member, analyst, BI, ETL, admin, switch and auditor
-- logins (made with security.create_login) read and change what their role allows and nothing else, and
-- cannot SET their way around the policies.
BEGIN;
SELECT plan(52);

-- Fixtures: two pharmacies, two members with coverage, claims at both pharmacies, accumulators, a prior
-- authorization with an event, an M3P election.
SELECT set_config('pbm.effective_date', '2026-01-01', TRUE);
INSERT INTO network.networks (network_code, name) VALUES ('T41-NET', 'Test network');
INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
VALUES
('1234567893', '4100001', 'Pharmacy A', '1 A St', 'Austin', 'TX', '78701', 'retail'),
('1123456786', '4100002', 'Pharmacy B', '2 B St', 'Dallas', 'TX', '75201', 'retail');
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, network_id)
SELECT
    'T41-PLAN',
    'Test plan',
    'commercial',
    '941001',
    'T41PCN',
    'T41GRP',
    n.network_id
FROM network.networks AS n
WHERE n.network_code = 'T41-NET';
INSERT INTO member.members (
    cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5
)
VALUES
('T41M1', 'Mary', 'One', '1950-01-01', 'F', '1 Elm', 'Austin', 'TX', '78701'),
('T41M2', 'Mark', 'Two', '1951-02-02', 'M', '2 Oak', 'Dallas', 'TX', '75201');
CREATE TEMP TABLE t41_members ON COMMIT DROP AS
SELECT
    m.cardholder_id,
    m.member_id
FROM member.members AS m
WHERE m.cardholder_id IN ('T41M1', 'T41M2');
GRANT SELECT ON t41_members TO public;
INSERT INTO member.coverage_spans (member_id, plan_id, effective_date)
SELECT
    m.member_id,
    p.plan_id,
    '2026-01-01'
FROM t41_members AS m, plan.plans AS p
WHERE p.plan_code = 'T41-PLAN';
-- Member 1 filled at A twice and at B once; member 2 at B twice.
INSERT INTO claims.claims (
    claim_id, date_of_service, transaction_response_status, reject_codes, service_provider_id, member_id
)
SELECT
    v.claim_id,
    '2026-03-01',
    'R',
    '{65}',
    v.npi,
    m.member_id
FROM (
    VALUES (-4101, '1234567893', 'T41M1'), (-4102, '1234567893', 'T41M1'), (-4103, '1123456786', 'T41M1'),
    (-4104, '1123456786', 'T41M2'), (-4105, '1123456786', 'T41M2')
) AS v (claim_id, npi, cardholder_id)
INNER JOIN t41_members AS m ON v.cardholder_id = m.cardholder_id;
INSERT INTO claims.accumulators (member_id, plan_year, oop_accumulated)
SELECT
    m.member_id,
    2026,
    10
FROM t41_members AS m;
INSERT INTO claims.prior_authorizations (pa_number, member_id, drug_group, received_at, due_at)
SELECT
    'PA' || m.cardholder_id,
    m.member_id,
    'ATORVASTATIN 10MG TAB',
    '2026-02-01',
    '2026-02-04'
FROM t41_members AS m;
INSERT INTO claims.prior_authorization_events (prior_authorization_id, member_id, occurred_at, to_status)
SELECT
    pa.prior_authorization_id,
    pa.member_id,
    '2026-02-01',
    'received'
FROM claims.prior_authorizations AS pa
INNER JOIN t41_members AS m ON pa.member_id = m.member_id;
INSERT INTO ppp.elections (member_id, plan_year, source, received_at, effective_date)
SELECT
    m.member_id,
    2026,
    'web',
    '2026-01-10',
    '2026-01-11'
FROM t41_members AS m;
CREATE VIEW reporting.t41_claim_counts AS
SELECT
    c.date_of_service,
    count(*) AS claims
FROM claims.claims AS c
GROUP BY c.date_of_service;
CREATE VIEW reporting.t41_plans AS
SELECT
    p.plan_code,
    p.name
FROM plan.plans AS p;

-- Logins, one per role, made the way pbm user create makes them. The tests become each login with
-- SET SESSION AUTHORIZATION, so session_user and current_user are the login, as after a real login.
SELECT lives_ok(
    $$SELECT security.create_login('t41_pharm_a', 'pharmacy', NULL, '1234567893')$$,
    'a pharmacy login is created scoped to its NPI'
);
SELECT security.create_login('t41_pharm_b', 'pharmacy', NULL, '1123456786');
SELECT security.create_login('t41_member_1', 'member', NULL, NULL, m.member_id)
FROM t41_members AS m
WHERE m.cardholder_id = 'T41M1';
SELECT security.create_login('t41_member_2', 'member', NULL, NULL, m.member_id)
FROM t41_members AS m
WHERE m.cardholder_id = 'T41M2';
SELECT security.create_login(r || '_t41', r)
FROM unnest(ARRAY['analyst', 'bi', 'etl', 'admin', 'switch', 'auditor']) AS r;
SELECT is(
    (
        SELECT array_agg(b.rolname::text ORDER BY b.rolname)
        FROM pg_auth_members AS am
        INNER JOIN pg_roles AS r ON am.member = r.oid
        INNER JOIN pg_roles AS b ON am.roleid = b.oid
        WHERE r.rolname = 't41_pharm_a'
    ),
    ARRAY['pbm_pharmacy'], 'a login is granted exactly its one group role'
);
SELECT throws_ok(
    $$SELECT security.create_login('t41_pharm_c', 'pharmacy')$$, '22023',
    'a pharmacy login needs the NPI of its pharmacy', 'a pharmacy login without a pharmacy is refused'
);
SELECT throws_ok(
    $$SELECT security.create_login('t41_pharm_c', 'pharmacy', NULL, '1123456794')$$, '23503',
    'no pharmacy with NPI 1123456794', 'a pharmacy login for an unknown NPI is refused'
);
SELECT throws_ok(
    $$SELECT security.create_login('t41_who', 'owner')$$, '22023', NULL, 'nobody logs in as pbm_owner'
);
SELECT throws_ok(
    $$SELECT security.create_login('t41_clear', 'bi', 'secret')$$, '28P01', NULL,
    'a clear-text password is refused: only SCRAM verifiers reach the server'
);

-- Every PHI table, including tables other areas add later, has row-level security enabled and forced,
-- the audit triggers and a primary key.
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('member', 'claims', 'ppp') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND NOT (c.relrowsecurity AND c.relforcerowsecurity)$$,
    'every table of member, claims and ppp has row-level security enabled and forced'
);
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('member', 'claims', 'ppp') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgenabled = 'O'
             AND t.tgname IN ('audit_insert', 'audit_update', 'audit_delete', 'audit_truncate')) <> 4$$,
    'every table of member, claims and ppp has the four enabled audit triggers'
);
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('member', 'claims', 'ppp') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)$$,
    'every table of member, claims and ppp has a primary key (audit entries name rows by it)'
);
SELECT is_empty(
    $$SELECT t.tgrelid::regclass::text || ' ' || t.tgname FROM pg_trigger t
      JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE p.pronamespace = 'api'::regnamespace AND p.proname LIKE '\_audit\_%' AND t.tgtype & 1 = 1$$,
    'no audit trigger is a per-row trigger'
);

-- A pharmacy sees its own claims and nothing else.
SET LOCAL SESSION AUTHORIZATION t41_pharm_a;
SELECT results_eq(
    'SELECT claim_id FROM claims.claims ORDER BY claim_id DESC', ARRAY[-4101::bigint, -4102],
    'pharmacy A sees exactly its two claims'
);
SELECT is_empty(
    $$SELECT claim_id FROM claims.claims WHERE service_provider_id = '1123456786'$$,
    'pharmacy A asking for pharmacy B''s claims gets none'
);
SELECT throws_ok('SELECT count(*) FROM member.members', '42501', NULL, 'a pharmacy cannot read members');
SELECT throws_ok(
    $$UPDATE claims.claims SET reject_codes = '{70}' WHERE claim_id = -4101$$, '42501', NULL,
    'a pharmacy cannot change its claims'
);
SELECT throws_ok(
    $$INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes,
          service_provider_id) VALUES (-4199, '2026-03-02', 'R', '{65}', '1234567893')$$,
    '42501', NULL, 'a pharmacy cannot insert claims directly (only through the api)'
);
-- Escape attempts.
SELECT set_config('pbm.pharmacy_npi', '1123456786', TRUE);
SELECT set_config('pbm.member_id', '1', TRUE);
SELECT is(
    (SELECT count(*)::int FROM claims.claims), 2, 'setting custom pbm.* variables changes nothing'
);
SELECT throws_ok('SET LOCAL ROLE t41_pharm_b', '42501', NULL, 'a pharmacy cannot SET ROLE to another pharmacy');
SELECT throws_ok('SET LOCAL ROLE pbm_admin', '42501', NULL, 'nor to a group role it was not granted');
SELECT set_config('row_security', 'off', TRUE);
SELECT throws_ok(
    'SELECT count(*) FROM claims.claims', '42501', NULL,
    'with row_security off a query that policies would filter is refused, not unfiltered'
);
SELECT set_config('row_security', 'on', TRUE);
SELECT throws_ok(
    $$UPDATE security.logins SET pharmacy_npi = '1123456786' WHERE login_name = current_user$$, '42501', NULL,
    'a pharmacy cannot rewrite its own mapping'
);
SET LOCAL ROLE pbm_pharmacy;
SELECT is(
    (SELECT count(*)::int FROM claims.claims), 0,
    'SET ROLE to the group role itself leaves no mapping: nothing visible'
);
RESET ROLE;
RESET SESSION AUTHORIZATION;

SET LOCAL SESSION AUTHORIZATION t41_pharm_b;
SELECT results_eq(
    'SELECT claim_id FROM claims.claims ORDER BY claim_id DESC', ARRAY[-4103::bigint, -4104, -4105],
    'pharmacy B sees exactly its three claims'
);
RESET SESSION AUTHORIZATION;

-- A member sees their own records in every PHI table and nobody else's.
SET LOCAL SESSION AUTHORIZATION t41_member_1;
SELECT results_eq(
    'SELECT cardholder_id::text FROM member.members', ARRAY['T41M1'], 'member 1 sees only their own member row'
);
SELECT results_eq(
    'SELECT claim_id FROM claims.claims ORDER BY claim_id DESC', ARRAY[-4101::bigint, -4102, -4103],
    'member 1 sees their own claims at both pharmacies, and only those'
);
SELECT is_empty(
    $$SELECT m.member_id FROM member.members m JOIN t41_members t ON t.member_id = m.member_id
      WHERE t.cardholder_id = 'T41M2'$$,
    'member 1 asking for member 2 gets nothing'
);
SELECT is(
    ARRAY[
        (SELECT count(*) FROM member.member_history), (SELECT count(*) FROM member.coverage_spans),
        (SELECT count(*) FROM claims.accumulators), (SELECT count(*) FROM claims.prior_authorizations),
        (SELECT count(*) FROM claims.prior_authorization_events), (SELECT count(*) FROM ppp.elections)
    ]::int[],
    ARRAY[1, 1, 1, 1, 1, 1],
    'member 1 sees one row (their own) of history, coverage, accumulators, PAs, PA events and M3P elections'
);
SELECT is((SELECT count(*)::int FROM security.logins), 1, 'member 1 sees only their own login mapping');
SELECT throws_ok(
    $$UPDATE member.members SET last_name = 'X'$$, '42501', NULL, 'a member cannot change their own record'
);
SELECT throws_ok('SELECT count(*) FROM audit.log', '42501', NULL, 'a member cannot read the audit log');
SELECT throws_ok('SELECT * FROM reporting.t41_claim_counts', '42501', NULL, 'a member cannot read reporting');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION t41_member_2;
SELECT results_eq(
    'SELECT claim_id FROM claims.claims ORDER BY claim_id DESC', ARRAY[-4104::bigint, -4105],
    'member 2 sees only their own claims'
);
RESET SESSION AUTHORIZATION;

-- Analysts and BI tools: reporting only, read only.
SET LOCAL SESSION AUTHORIZATION analyst_t41;
SELECT throws_ok('SELECT count(*) FROM member.members', '42501', NULL, 'an analyst cannot read member.members');
SELECT throws_ok('SELECT count(*) FROM claims.claims', '42501', NULL, 'an analyst cannot read claims.claims');
SELECT throws_ok('SELECT count(*) FROM plan.plans', '42501', NULL, 'an analyst cannot read base tables at all');
SELECT is(
    (SELECT sum(claims)::int FROM reporting.t41_claim_counts), 5,
    'an analyst reads reporting views (which see every claim through the view owner)'
);
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION bi_t41;
SELECT throws_ok(
    $$INSERT INTO reporting.t41_plans VALUES ('T41-NEW', 'New')$$, '42501', NULL,
    'a BI login cannot insert through a (writable) reporting view'
);
SELECT throws_ok(
    $$UPDATE reporting.t41_plans SET name = 'X'$$, '42501', NULL, 'nor update through it'
);
SELECT throws_ok(
    'CREATE TABLE reporting.t41_bi_table (id int)', '42501', NULL, 'a BI login cannot create tables in reporting'
);
SELECT throws_ok(
    'CREATE TEMP TABLE t41_bi_scratch (id int)', '42501', NULL, 'a BI login cannot even create temporary tables'
);
SELECT throws_ok('SELECT count(*) FROM audit.log', '42501', NULL, 'a BI login cannot read the audit log');
RESET SESSION AUTHORIZATION;

-- The service paths still work under forced row-level security.
SET LOCAL SESSION AUTHORIZATION etl_t41;
SELECT lives_ok(
    $$INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes)
      VALUES (-4106, '2026-03-02', 'R', '{65}')$$,
    'ETL inserts claims (batch adjudication runs as ETL)'
);
SELECT lives_ok(
    $$UPDATE member.members SET city = 'Round Rock' WHERE cardholder_id = 'T41M1'$$,
    'ETL updates members (and the history trigger writes member_history as ETL)'
);
SELECT throws_ok(
    'DELETE FROM claims.claims WHERE claim_id = -4106', '42501', NULL, 'ETL cannot delete claims'
);
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION admin_t41;
SELECT is((
    SELECT count(*)::int FROM claims.claims
    WHERE claim_id <= -4101
), 6, 'an admin sees every claim');
SELECT lives_ok(
    $$UPDATE plan.plans SET name = 'Renamed' WHERE plan_code = 'T41-PLAN'$$, 'an admin changes plan configuration'
);
SELECT throws_ok(
    $$UPDATE claims.claims SET reject_codes = '{70}' WHERE claim_id = -4101$$, '42501', NULL,
    'an admin cannot rewrite claims'
);
SELECT throws_ok('SELECT count(*) FROM audit.log', '42501', NULL, 'an admin cannot read the audit log');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION switch_t41;
SELECT throws_ok('SELECT count(*) FROM claims.claims', '42501', NULL, 'the switch reads no table');
SELECT throws_ok(
    $$SELECT * FROM api.member_lookup('1EG4TE5MK73')$$, '42501', NULL,
    'the switch may not call api functions it was not granted'
);
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION auditor_t41;
SELECT ok((SELECT count(*) FROM audit.log) > 0, 'the auditor reads the audit log');
SELECT throws_ok('SELECT count(*) FROM member.members', '42501', NULL, 'the auditor does not read PHI tables');
RESET SESSION AUTHORIZATION;
-- The owner (and with it every SECURITY DEFINER api function) goes through the policies too: its policy
-- gives it every row.
SET LOCAL ROLE pbm_owner;
SELECT is((
    SELECT count(*)::int FROM claims.claims
    WHERE claim_id <= -4101
), 6, 'the owner sees every claim');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
