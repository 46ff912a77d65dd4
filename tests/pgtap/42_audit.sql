-- The audit log: an entry for every kind of change with the right old and new values, compact entries
-- for bulk claim inserts, a bulk update of 100,000 rows audited completely, PHI reads through api
-- functions, and nobody (superusers included) able to alter or delete an entry.
BEGIN;
SELECT plan(39);

SELECT set_config('pbm.effective_date', '2026-01-01', TRUE);
SELECT set_config('pbm.phi_key', 'test-key-42-abcdefghijklmnopqrstuvwxyz', TRUE);
INSERT INTO network.networks (network_code, name) VALUES ('T42-NET', 'Test network');
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, network_id)
SELECT
    'T42-PLAN',
    'Test plan',
    'commercial',
    '942001',
    'T42PCN',
    'T42GRP',
    n.network_id
FROM network.networks AS n
WHERE n.network_code = 'T42-NET';
SELECT security.create_login('etl_t42', 'etl');
SELECT security.create_login('admin_t42', 'admin');
SELECT security.create_login('auditor_t42', 'auditor');

-- Changes made by an ETL login on behalf of an application user.
SET LOCAL SESSION AUTHORIZATION etl_t42;
SELECT set_config('pbm.app_user', 'jane.doe@pbm.example', TRUE);
INSERT INTO member.members (
    cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5,
    mbi_encrypted, mbi_hash
)
VALUES (
    'T42M1', 'Grace', 'Hopper', '1946-12-09', 'F', '1 Navy Way', 'Arlington', 'VA', '22201',
    member.encrypt_phi('1EG4TE5MK73'), member.mbi_hash('1EG4TE5MK73')
);
UPDATE member.members SET last_name = 'Murray', city = 'Alexandria'
WHERE cardholder_id = 'T42M1';
RESET SESSION AUTHORIZATION;
CREATE TEMP TABLE t42_member ON COMMIT DROP AS
SELECT m.member_id
FROM member.members AS m
WHERE m.cardholder_id = 'T42M1';

SELECT results_eq(
    $$SELECT action, db_user::text COLLATE "default", app_user, txid = txid_current(), new_values ->> 'last_name',
             member_id = (SELECT member_id FROM t42_member), row_key = jsonb_build_object('member_id', member_id)
      FROM audit.log WHERE object_name = 'member.members' AND action = 'INSERT'$$,
    $$VALUES ('INSERT', 'etl_t42', 'jane.doe@pbm.example', TRUE, 'Hopper', TRUE, TRUE)$$,
    'an insert is logged with the login, the application user, the transaction, the key and the new row'
);
SELECT ok(
    (
        SELECT new_values ->> 'mbi_encrypted' LIKE '\\x01%' AND new_values ->> 'mbi_encrypted' NOT LIKE '%1EG4TE5MK73%'
        FROM audit.log
        WHERE object_name = 'member.members' AND action = 'INSERT'
    ),
    'the logged row carries the MBI encrypted, never in clear'
);
SELECT results_eq(
    $$SELECT changed_columns, old_values ->> 'last_name', new_values ->> 'last_name', old_values ->> 'city',
             new_values ->> 'city', old_values ? 'first_name'
      FROM audit.log WHERE object_name = 'member.members' AND action = 'UPDATE'$$,
    $$VALUES (ARRAY['last_name', 'city'], 'Hopper', 'Murray', 'Arlington', 'Alexandria', FALSE)$$,
    'an update is logged with the changed columns in column order and only their old and new values (updated_at'
    || ' is stamped with now(), the same within one transaction)'
);
SELECT is(
    (
        SELECT count(*)::int FROM audit.log
        WHERE object_name = 'member.member_history' AND member_id = (SELECT t.member_id FROM t42_member AS t)
    ),
    3, 'the history trigger''s own changes are audited too (insert, same-day delete, new version)'
);

-- Deletes and truncates log the whole row.
INSERT INTO member.coverage_spans (member_id, plan_id, effective_date)
SELECT
    m.member_id,
    p.plan_id,
    '2026-01-01'
FROM t42_member AS m, plan.plans AS p
WHERE p.plan_code = 'T42-PLAN';
DELETE FROM member.coverage_spans
WHERE member_id = (SELECT member_id FROM t42_member);
SELECT results_eq(
    $$SELECT old_values ->> 'effective_date', new_values IS NULL, member_id = (SELECT member_id FROM t42_member)
      FROM audit.log WHERE object_name = 'member.coverage_spans' AND action = 'DELETE'$$,
    $$VALUES ('2026-01-01', TRUE, TRUE)$$,
    'a delete is logged with the whole old row'
);
-- A PHI table of its own (created here, so truncating it stalls no other test file): secured and audited
-- as it is created.
CREATE TABLE ppp.t42_notes (note_id bigint PRIMARY KEY, member_id bigint NOT NULL, channel text NOT NULL);
INSERT INTO ppp.t42_notes (note_id, member_id, channel)
SELECT
    1,
    m.member_id,
    'phone'
FROM t42_member AS m;
SELECT lives_ok('TRUNCATE ppp.t42_notes', 'the owner may truncate an M3P table');
SELECT results_eq(
    $$SELECT old_values ->> 'channel', member_id = (SELECT member_id FROM t42_member)
      FROM audit.log WHERE object_name = 'ppp.t42_notes' AND action = 'TRUNCATE'$$,
    $$VALUES ('phone', TRUE)$$,
    'a truncate is logged as one entry per row removed, with the row'
);

-- A queue whose rows copy audited rows is logged compactly both ways (audit.tables, like ppp.unbilled).
CREATE TABLE ppp.t42_queue (entry_id bigint PRIMARY KEY, member_id bigint NOT NULL, amount numeric(12, 2));
INSERT INTO audit.tables (schema_name, table_name, insert_mode, delete_mode, range_column, reason)
VALUES ('ppp', 't42_queue', 'compact', 'compact', 'entry_id', 'test queue');
INSERT INTO ppp.t42_queue (entry_id, member_id, amount)
SELECT
    g.n,
    m.member_id,
    g.n * 1.5
FROM t42_member AS m, generate_series(1, 10) AS g (n);
DELETE FROM ppp.t42_queue
WHERE entry_id IN (2, 3, 4, 8);
SELECT results_eq(
    $$SELECT action, row_count, key_ranges, old_values IS NULL AND new_values IS NULL FROM audit.log
      WHERE object_name = 'ppp.t42_queue' ORDER BY audit_id$$,
    $$VALUES ('INSERT', 10::bigint, '{[1,10]}'::int8multirange, TRUE),
             ('DELETE', 4::bigint, '{[2,4], [8,8]}'::int8multirange, TRUE)$$,
    'a compact queue logs each insert and delete statement as a count and exact key ranges'
);

-- Plan configuration changes are audited.
SET LOCAL SESSION AUTHORIZATION admin_t42;
UPDATE plan.plans SET name = 'Gold 2026'
WHERE plan_code = 'T42-PLAN';
INSERT INTO plan.formularies (formulary_code, name) VALUES ('T42-F', 'Test formulary');
RESET SESSION AUTHORIZATION;
SELECT results_eq(
    $$SELECT action, db_user::text COLLATE "default", changed_columns, old_values ->> 'name', new_values ->> 'name'
      FROM audit.log WHERE object_name = 'plan.plans' AND action = 'UPDATE'$$,
    $$VALUES ('UPDATE', 'admin_t42', ARRAY['name'], 'Test plan', 'Gold 2026')$$,
    'a plan configuration change is logged with the admin login and the old and new values'
);
SELECT is(
    (
        SELECT new_values ->> 'formulary_code' FROM audit.log
        WHERE object_name = 'plan.formularies'
    ),
    'T42-F', 'a new formulary is logged'
);
SELECT is(
    (
        SELECT count(*)::int FROM audit.log
        WHERE object_name = 'security.logins' AND action = 'INSERT'
    ),
    3, 'making logins is logged (security.logins)'
);

-- Claims: bulk inserts are logged compactly (count and key ranges); updates in full.
INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes)
SELECT
    -4200 - g,
    '2026-04-01',
    'R',
    '{65}'
FROM generate_series(1, 3) AS g;
SELECT results_eq(
    $$SELECT row_count, key_ranges, new_values IS NULL FROM audit.log
      WHERE object_name = 'claims.claims' AND action = 'INSERT'$$,
    $$VALUES (3::bigint, '{[-4203,-4201]}'::int8multirange, TRUE)$$,
    'a claims insert is one compact entry: the row count and the claim_id range'
);
INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes)
VALUES (-4210, '2026-04-01', 'R', '{65}'), (-4212, '2026-05-01', 'R', '{65}'), (-4211, '2026-06-01', 'R', '{65}'),
(-4215, '2026-06-01', 'R', '{65}');
SELECT is(
    (
        SELECT key_ranges FROM audit.log
        WHERE object_name = 'claims.claims' AND action = 'INSERT' AND row_count = 4
    ),
    '{[-4215,-4215], [-4212,-4210]}'::int8multirange,
    'scattered claim ids are logged exactly, as several ranges'
);
UPDATE claims.claims SET claim_id = -4299
WHERE claim_id = -4201;
SELECT results_eq(
    $$SELECT row_key ->> 'claim_id', old_values ->> 'claim_id', new_values ->> 'claim_id' FROM audit.log
      WHERE object_name = 'claims.claims' AND action = 'UPDATE' ORDER BY audit_id$$,
    $$VALUES ('-4201', '-4201', NULL), ('-4299', NULL, '-4299')$$,
    'a change of primary key shows as the old key going and the new key coming'
);

-- A bulk update of 100,000 rows is audited completely.
INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes)
SELECT
    -1000000 - g,
    date '2026-01-01' + g % 300,
    'R',
    '{65}'
FROM generate_series(1, 100000) AS g;
SELECT results_eq(
    $$SELECT row_count, key_ranges FROM audit.log
      WHERE object_name = 'claims.claims' AND action = 'INSERT' AND row_count = 100000$$,
    $$VALUES (100000::bigint, '{[-1100000,-1000001]}'::int8multirange)$$,
    'inserting 100,000 claims is one entry naming all 100,000 ids'
);
UPDATE claims.claims SET reject_codes = '{70,75}'
WHERE claim_id BETWEEN -1100000 AND -1000001;
SELECT results_eq(
    $$SELECT count(*), count(DISTINCT row_key), min(changed_columns::text), max(changed_columns::text),
             count(*) FILTER (WHERE old_values = '{"reject_codes": ["65"]}' AND new_values = '{"reject_codes": ["70", "75"]}')
      FROM audit.log WHERE object_name = 'claims.claims' AND action = 'UPDATE'
        AND (row_key ->> 'claim_id')::bigint BETWEEN -1100000 AND -1000001$$,
    $$VALUES (100000::bigint, 100000::bigint, '{reject_codes}', '{reject_codes}', 100000::bigint)$$,
    'updating 100,000 claims logs 100,000 entries, one per row, each with the right old and new values'
);
SELECT is(
    (
        SELECT row_key ->> 'date_of_service' FROM audit.log
        WHERE object_name = 'claims.claims' AND action = 'UPDATE' AND row_key ->> 'claim_id' = '-1000123'
    ),
    (date '2026-01-01' + 123)::text, 'each entry names its row by the full primary key'
);

-- PHI reads through api functions are logged.
SET LOCAL SESSION AUTHORIZATION admin_t42;
SELECT is(
    (SELECT last_name FROM api.member_lookup('1EG4-TE5-MK73')), 'Murray', 'an admin looks a member up by MBI'
);
SELECT is_empty($$SELECT * FROM api.member_lookup('9AA9AA9AA99')$$, 'an unknown MBI finds nobody');
RESET SESSION AUTHORIZATION;
SELECT results_eq(
    $$SELECT db_user::text COLLATE "default", member_id = (SELECT member_id FROM t42_member), details FROM audit.log
      WHERE action = 'READ' AND object_name = 'api.member_lookup' ORDER BY audit_id$$,
    $$VALUES ('admin_t42', TRUE, '{"by": "mbi", "rows": 1}'::jsonb),
             ('admin_t42', NULL, '{"by": "mbi", "rows": 0}'::jsonb)$$,
    'each lookup is logged: who, which member was read (none for a miss), how'
);

-- Nobody alters or deletes audit entries: not a superuser, not the owner, not any pbm role.
SELECT throws_ok(
    $$UPDATE audit.log SET app_user = 'someone else'$$,
    '42501',
    'the audit log is append-only: UPDATE on log is refused',
    'a superuser cannot update audit entries'
);
SELECT throws_ok(
    'DELETE FROM audit.log WHERE FALSE', '42501', NULL, 'a superuser cannot delete audit entries, not even none'
);
SELECT throws_ok(
    format('DELETE FROM audit.%I', 'log_y' || to_char(now(), 'YYYY') || 'm' || to_char(now(), 'MM')), '42501', NULL,
    'nor delete from a monthly partition directly'
);
SET LOCAL ROLE pbm_owner;
SELECT throws_ok($$UPDATE audit.log SET action = 'READ'$$, '42501', NULL, 'the owner cannot update audit entries');
SELECT throws_ok('DELETE FROM audit.log', '42501', NULL, 'the owner cannot delete audit entries');
SELECT throws_ok('TRUNCATE audit.log_default', '42501', NULL, 'the owner cannot truncate a partition');
RESET ROLE;
SET LOCAL SESSION AUTHORIZATION auditor_t42;
SELECT ok((SELECT count(*) FROM audit.log) > 100000, 'the auditor reads every entry');
SELECT throws_ok($$UPDATE audit.log SET action = 'READ'$$, '42501', NULL, 'the auditor cannot update entries');
SELECT throws_ok('DELETE FROM audit.log', '42501', NULL, 'the auditor cannot delete entries');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION admin_t42;
SELECT throws_ok('DELETE FROM audit.log', '42501', NULL, 'an admin cannot delete entries');
SELECT throws_ok(
    $$INSERT INTO audit.log (action, object_name) VALUES ('DELETE', 'member.members')$$, '42501', NULL,
    'an admin cannot forge an entry'
);
SELECT throws_ok(
    $$SELECT audit.log_read('api.member_lookup', '{1}', '{}')$$, '42501', NULL,
    'nor log a read outside a SECURITY DEFINER api function'
);
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION etl_t42;
SELECT throws_ok(
    $$UPDATE audit.log SET action = 'READ'$$, '42501', NULL, 'ETL, whose changes are logged, cannot touch the log'
);
SELECT throws_ok(
    'ALTER TABLE member.members DISABLE TRIGGER audit_update', '42501', NULL,
    'nor switch the audit triggers off'
);
RESET SESSION AUTHORIZATION;

-- Retention: whole months, older than six years, by the owner. (Dropping a month, and TRUNCATE of the
-- whole log, take an exclusive lock on audit.log: tests/python/test_security.py tries them in a database
-- of their own, so that test files running side by side here are not stalled.)
SELECT throws_ok(
    format('SELECT audit.drop_month_partition(%L)', date_trunc('month', now())::date), '42501', NULL,
    'a month younger than six years cannot be dropped'
);
SET LOCAL SESSION AUTHORIZATION admin_t42;
SELECT throws_ok(
    $$SELECT audit.drop_month_partition('2014-01-01')$$, '42501', NULL, 'only the owner runs retention'
);
RESET SESSION AUTHORIZATION;
SELECT is(
    (
        SELECT count(*)::int FROM audit.log
        WHERE txid = txid_current() AND action NOT IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'READ')
    ),
    0, 'every entry of these changes is an INSERT, UPDATE, DELETE, TRUNCATE or READ'
);
SELECT ok(
    (
        SELECT
            bool_and(
                tableoid::regclass::text
                = 'audit.log_y' || to_char(logged_at, 'YYYY') || 'm' || to_char(logged_at, 'MM')
            )
        FROM audit.log
    ),
    'entries land in the partition of their month'
);
SELECT is(
    (
        SELECT count(*)::int FROM audit.log
        WHERE db_user IS NULL OR txid IS NULL OR logged_at IS NULL
    ),
    0, 'every entry says who, when and in which transaction'
);

SELECT * FROM finish();
ROLLBACK;
