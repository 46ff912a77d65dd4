-- Member reports on the hand-built data set (tests/fixtures/reporting/claims.sql): members with more than
-- 3 paid claims within 30 days, and utilization patterns by utilization band and by age band and gender.
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(9);

\ir ../fixtures/reporting/entities.sql
\ir ../fixtures/reporting/claims.sql
CREATE TEMP TABLE refreshed ON COMMIT DROP AS SELECT * FROM reporting.refresh();
CREATE TEMP TABLE member_key_of ON COMMIT DROP AS
SELECT
    m.cardholder_id,
    k.member_key
FROM member.members AS m
INNER JOIN reporting_private.member_keys AS k ON m.member_id = k.member_id;

-- RPT0002 has net paid claims on 03-14, 04-09, 04-10, 04-12 and 04-20 (the 03-14 duplicate A14 was not
-- paid). The 30 days ending 04-12 run from 03-14: 4 claims (500 + 500 + 8 + 6 = 1014); ending 04-20 they
-- run from 03-22: 04-09, 04-10, 04-12, 04-20 = 4 claims (500 + 8 + 6 + 10 = 524). No other member reaches 4.
SELECT results_eq(
    $$SELECT k.cardholder_id::text, b.window_start, b.window_end, b.claims_in_window, b.gross_cost_in_window
      FROM reporting.member_claim_bursts b JOIN member_key_of k USING (member_key) ORDER BY b.window_end$$,
    $$VALUES ('RPT0002', '2025-03-14'::date, '2025-04-12'::date, 4, 1014.00::numeric),
             ('RPT0002', '2025-03-22', '2025-04-20', 4, 524.00)$$,
    'windows of 30 days (the day and the 29 before) with more than 3 paid claims'
);
SELECT results_eq(
    $$SELECT k.cardholder_id::text, f.max_claims_in_30_days, f.first_window_end, f.last_window_end, f.flagged_days,
             f.max_cost_in_30_days, f.age_band, f.gender::text, f.state::text
      FROM reporting.frequent_claimants() f JOIN member_key_of k USING (member_key)$$,
    $$VALUES ('RPT0002', 4, '2025-04-12'::date, '2025-04-20'::date, 2::bigint, 1014.00::numeric, '35-49', 'M', 'CA')$$,
    'members with more than 3 claims in 30 days: RPT0002, pseudonymous, with age band, gender and state'
);
SELECT results_eq(
    $$SELECT f.first_window_end, f.flagged_days, f.max_cost_in_30_days
      FROM reporting.frequent_claimants('2025-04-15', '2025-04-30') AS f$$,
    $$VALUES ('2025-04-20'::date, 1::bigint, 524.00::numeric)$$,
    'only windows ending in the period count'
);
SELECT is_empty(
    $$SELECT * FROM reporting.frequent_claimants('2025-01-01', '2025-04-11')$$,
    'no window with 4 claims ends before 04-12'
);

-- Utilization in 2025: RPT0001 6 claims 198.00 (plan A), RPT0002 7 claims 2024.00 (A), RPT0004 1 claim
-- 40.00 (A), RPT0003 5 claims 1094.00 (B), RPT0005 enrolled in B without a claim.
SELECT results_eq(
    $$SELECT k.cardholder_id::text, u.paid_claims, u.utilization_band, u.gross_cost, u.generic_claims, u.drug_groups,
             u.pharmacies, u.prescribers, u.months_with_claims, u.first_fill, u.last_fill
      FROM reporting.member_utilization u JOIN member_key_of k USING (member_key) ORDER BY k.cardholder_id$$,
    $$VALUES
      ('RPT0001', 6::bigint, '6-11', 198.00::numeric, 5::bigint, 2::bigint, 1::bigint, 1::bigint, 4::bigint,
       '2025-01-05'::date, '2025-04-02'::date),
      ('RPT0002', 7, '6-11', 2024.00, 3, 4, 2, 1, 4, '2025-01-12', '2025-04-20'),
      ('RPT0003', 5, '3-5', 1094.00, 3, 3, 1, 1, 4, '2025-01-15', '2025-04-15'),
      ('RPT0004', 1, '1-2', 40.00, 1, 1, 1, 1, 1, '2025-02-20', '2025-02-20'),
      ('RPT0005', 0, '0', 0.00, 0, 0, 0, 0, 0, NULL, NULL)$$,
    'utilization per member and year, members enrolled without claims included'
);
SELECT results_eq(
    $$SELECT * FROM reporting.member_utilization(2025)$$,
    $$VALUES ('0', 1::bigint, 20.00::numeric, 0::bigint, 0.00::numeric, 0.00::numeric, 0.00::numeric, 0.00::numeric,
              0::bigint, 0::bigint),
             ('1-2', 1, 20.00, 1, 40.00, 1.19, 1.00, 40.00, 0, 0),
             ('3-5', 1, 20.00, 5, 1094.00, 32.60, 5.00, 1094.00, 0, 0),
             ('6-11', 2, 40.00, 13, 2222.00, 66.21, 6.50, 1111.00, 0, 0)$$,
    'utilization bands: members, share of members and of cost, averages'
);
SELECT results_eq(
    $$SELECT utilization_band, members, members_pct, cost_pct FROM reporting.member_utilization(2025, 'RPT-B')$$,
    $$VALUES ('0', 1::bigint, 50.00::numeric, 0.00::numeric), ('3-5', 1, 50.00, 100.00)$$,
    'utilization bands of plan RPT-B'
);
-- Ages on 2025-12-31: RPT0004 15, RPT0002 40, RPT0005 65, RPT0001 75, RPT0003 95.
SELECT results_eq(
    $$SELECT * FROM reporting.member_utilization_by_age(2025)$$,
    $$VALUES ('0-17', 'M'::char(1), 1::bigint, 1::bigint, 1::bigint, 40.00::numeric, 1.00::numeric, 40.00::numeric,
              0::bigint),
             ('35-49', 'M', 1, 1, 7, 2024.00, 7.00, 2024.00, 0),
             ('65-74', 'F', 1, 0, 0, 0.00, 0.00, 0.00, 0),
             ('75-84', 'F', 1, 1, 6, 198.00, 6.00, 198.00, 0),
             ('90+', 'F', 1, 1, 5, 1094.00, 5.00, 1094.00, 0)$$,
    'utilization by age band (90+ grouped) and gender'
);
SELECT is(
    (SELECT sum(members)::int FROM reporting.member_utilization_summary), 5,
    'the summary counts each member-plan-year once'
);

SELECT * FROM finish();
ROLLBACK;
