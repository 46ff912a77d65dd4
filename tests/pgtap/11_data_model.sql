-- The data model's invariants: non-overlapping coverage, claims routed to monthly partitions (and the
-- default partition), partition maintenance, and member demographic history.
BEGIN;
-- Partition DDL below needs the claims table to itself: take the lock first, so a test file running in
-- parallel waits for this one (or this one for it) instead of deadlocking halfway.
LOCK TABLE claims.claims IN ACCESS EXCLUSIVE MODE;
SELECT plan(16);

SELECT set_config('pbm.effective_date', '2025-01-01', TRUE);
INSERT INTO network.networks (network_code, name) VALUES ('T-NET', 'Test network');
INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, network_id)
SELECT
    'T-COMM',
    'Test commercial',
    'commercial',
    '999001',
    'TESTPCN',
    'GRP1',
    network_id
FROM network.networks
WHERE network_code = 'T-NET';
INSERT INTO member.members (
    cardholder_id, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5
)
VALUES ('TST000001', 'Ada', 'Lovelace', '1950-12-10', 'F', '1 Main St', 'Austin', 'TX', '78701');

-- Coverage spans of one member may not overlap.
INSERT INTO member.coverage_spans (member_id, plan_id, effective_date, termination_date)
SELECT
    m.member_id,
    p.plan_id,
    '2025-01-01',
    '2025-06-30'
FROM member.members AS m, plan.plans AS p
WHERE m.cardholder_id = 'TST000001' AND p.plan_code = 'T-COMM';

SELECT lives_ok(
    $$INSERT INTO member.coverage_spans (member_id, plan_id, effective_date)
      SELECT m.member_id, p.plan_id, '2025-07-01' FROM member.members m, plan.plans p
      WHERE m.cardholder_id = 'TST000001' AND p.plan_code = 'T-COMM'$$,
    'a span starting the day after the previous one ends is accepted'
);
SELECT throws_like(
    $$INSERT INTO member.coverage_spans (member_id, plan_id, effective_date, termination_date)
      SELECT m.member_id, p.plan_id, '2025-06-30', '2025-12-31' FROM member.members m, plan.plans p
      WHERE m.cardholder_id = 'TST000001' AND p.plan_code = 'T-COMM'$$,
    '%coverage_spans_do_not_overlap%', 'an overlapping coverage span is refused by coverage_spans_do_not_overlap'
);
SELECT throws_ok(
    $$INSERT INTO member.coverage_spans (member_id, plan_id, effective_date, termination_date)
      SELECT m.member_id, p.plan_id, '2026-02-01', '2026-01-01' FROM member.members m, plan.plans p
      WHERE m.cardholder_id = 'TST000001' AND p.plan_code = 'T-COMM'$$,
    '23514', NULL, 'a span ending before it starts is refused'
);

-- Claims route to the partition of their month; dates with no partition land in the default.
INSERT INTO claims.claims (claim_id, date_of_service, transaction_response_status, reject_codes)
VALUES (-1, date_trunc('month', current_date)::date + 3, 'R', '{65}'),
(-2, '1990-01-15', 'R', '{65}');
SELECT is(
    (
        SELECT tableoid::regclass::text FROM claims.claims
        WHERE claim_id = -1
    ),
    format('claims.claims_y%sm%s', to_char(current_date, 'YYYY'), to_char(current_date, 'MM')),
    'a claim of this month lands in this month''s partition'
);
SELECT is(
    (
        SELECT tableoid::regclass::text FROM claims.claims
        WHERE claim_id = -2
    ),
    'claims.claims_default', 'a claim from 1990 lands in the default partition'
);
SELECT ok(
    (
        SELECT count(*) >= 36 FROM claims.partitions
        WHERE partition_name::text ~ '^claims\.claims_y'
    ),
    'the migration created monthly partitions around today (two years back to a year ahead)'
);

-- Creating the 1990-01 partition moves the default partition's January 1990 rows into it.
SELECT is(
    (SELECT array_agg(n) FROM claims.create_month_partitions('1990-01-01', '1990-02-10') AS n),
    ARRAY['claims_y1990m01', 'claims_y1990m02'], 'create_month_partitions returns the partitions it created'
);
SELECT is(
    (
        SELECT tableoid::regclass::text FROM claims.claims
        WHERE claim_id = -2
    ),
    'claims.claims_y1990m01', 'the 1990-01 claim moved from the default partition to its new partition'
);
SELECT is(
    (SELECT count(*)::int FROM claims.create_month_partitions('1990-01-01', '1990-01-31')), 0,
    'creating an existing partition again creates nothing'
);
SELECT is(
    claims.detach_month_partition('1990-01-01'), 'claims_archive.claims_y1990m01',
    'detach_month_partition moves the month to claims_archive'
);
SELECT is(
    (
        SELECT count(*)::int FROM claims.claims
        WHERE claim_id = -2
    ), 0,
    'the detached month is no longer part of claims.claims'
);
SELECT is(
    (
        SELECT count(*)::int FROM claims_archive.claims_y1990m01
        WHERE claim_id = -2
    ), 1,
    'its rows are kept in the archive table'
);
SELECT throws_ok(
    $$SELECT claims.detach_month_partition('1989-01-01')$$, '42P01', NULL,
    'detaching a month without a partition fails with a clear error'
);

-- Demographic history: a change of address closes the old version and opens a new one.
SELECT set_config('pbm.effective_date', '2025-03-01', TRUE);
UPDATE member.members SET address_line1 = '2 Oak Ave', zip5 = '78702'
WHERE cardholder_id = 'TST000001';
SELECT results_eq(
    $$SELECT h.address_line1, h.valid_from, h.valid_to FROM member.member_history h
      JOIN member.members m USING (member_id) WHERE m.cardholder_id = 'TST000001' ORDER BY h.valid_from$$,
    $$VALUES ('1 Main St', '2025-01-01'::date, '2025-03-01'::date),
             ('2 Oak Ave', '2025-03-01'::date, 'infinity'::date)$$,
    'an address change is kept as a new version from its effective date'
);
UPDATE member.members SET city = 'Round Rock'
WHERE cardholder_id = 'TST000001';
SELECT
    is(
        (
            SELECT count(*)::int
            FROM member.member_history AS h
            INNER JOIN member.members AS m ON h.member_id = m.member_id
            WHERE m.cardholder_id = 'TST000001' AND h.valid_from = '2025-03-01'
        ), 1,
        'a second change on the same effective date replaces that day''s version'
    );
UPDATE member.members SET updated_at = updated_at
WHERE cardholder_id = 'TST000001';
SELECT
    is(
        (
            SELECT count(*)::int
            FROM member.member_history
            INNER JOIN member.members AS m ON member_history.member_id = m.member_id
            WHERE m.cardholder_id = 'TST000001'
        ), 2,
        'an update that changes no demographics adds no version'
    );

SELECT * FROM finish();
ROLLBACK;
