-- Cost reports on the hand-built data set (tests/fixtures/reporting/claims.sql): total cost by period,
-- the monthly trend with month-over-month and rolling 3-month change (window functions), PMPM with
-- prorated member months, generic dispensing rate and formulary compliance. Every number below is
-- worked out by hand from the table at the top of the fixture.
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(14);

\ir ../fixtures/reporting/entities.sql
\ir ../fixtures/reporting/claims.sql
CREATE TEMP TABLE refreshed ON COMMIT DROP AS SELECT * FROM reporting.refresh();

-- Net paid allowed cost per month: January A01 10 + A02 150 + A03 500 + B01 12 = 672; February
-- A05 10 + A07 500 + A08 40 + B03 520 = 1070 (A06 reversed); March A10 10 + A11 8 + A12 500 + B04 12
-- + B06 30 = 560; April A15 10 + A16 500 + A17 8 + A18 6 + A19 10 + B05 520 = 1054.
SELECT results_eq(
    $$SELECT * FROM reporting.cost_by_period('month', '2025-01-01', '2025-12-31')$$,
    $$VALUES
      ('2025-01-01'::date, 6::bigint, 4::bigint, 2::bigint, 672.00::numeric, 672.00::numeric, 0.00::numeric,
       577.00::numeric, 95.00::numeric, 168.00::numeric),
      ('2025-02-01', 6, 4, 1, 1070.00, 1070.00, 0.00, 1005.00, 65.00, 267.50),
      ('2025-03-01', 7, 5, 1, 560.00, 560.00, 0.00, 503.00, 57.00, 112.00),
      ('2025-04-01', 6, 6, 0, 1054.00, 1054.00, 0.00, 991.00, 63.00, 175.67)$$,
    'cost by month: claims submitted, paid, rejected, allowed, ingredient, fee, plan, member, cost per claim'
);
SELECT results_eq(
    $$SELECT period_start, paid_claims, gross_cost, plan_paid, member_paid, cost_per_claim
      FROM reporting.cost_by_period('quarter')$$,
    $$VALUES ('2025-01-01'::date, 13::bigint, 2302.00::numeric, 2085.00::numeric, 217.00::numeric, 177.08::numeric),
             ('2025-04-01', 6, 1054.00, 991.00, 63.00, 175.67)$$,
    'cost by quarter: Q1 = 672 + 1070 + 560'
);
SELECT results_eq(
    $$SELECT period_start, paid_claims, gross_cost FROM reporting.cost_by_period('week', '2025-04-01', '2025-04-30')$$,
    $$VALUES ('2025-03-31'::date, 1::bigint, 10.00::numeric), ('2025-04-07', 3, 514.00), ('2025-04-14', 2, 530.00)$$,
    'cost by ISO week in April: A15; A16 + A17 + A18; B05 + A19 (Sunday the 20th)'
);
SELECT results_eq(
    $$SELECT period_start, claims_submitted, paid_claims, rejected_claims, gross_cost, member_paid
      FROM reporting.cost_by_period('year', p_plan => 'RPT-B')$$,
    $$VALUES ('2025-01-01'::date, 6::bigint, 5::bigint, 1::bigint, 1094.00::numeric, 0.00::numeric)$$,
    'cost by year for plan RPT-B: 12 + 520 + 12 + 30 + 520'
);

-- Trend: MoM = this month - previous; rolling 3 months = this month and the two before;
-- March 672 + 1070 + 560 = 2302, April 1070 + 560 + 1054 = 2684, change 382 = 16.59 % of 2302.
SELECT results_eq(
    $$SELECT month, gross_cost, mom_change, mom_change_pct, rolling_3m_cost, rolling_3m_avg_cost,
             rolling_3m_change, rolling_3m_change_pct FROM reporting.cost_trend()$$,
    $$VALUES
      ('2025-01-01'::date, 672.00::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric,
       NULL::numeric, NULL::numeric),
      ('2025-02-01', 1070.00, 398.00, 59.23, NULL, NULL, NULL, NULL),
      ('2025-03-01', 560.00, -510.00, -47.66, 2302.00, 767.33, NULL, NULL),
      ('2025-04-01', 1054.00, 494.00, 88.21, 2684.00, 894.67, 382.00, 16.59)$$,
    'cost trend over all plans: month-over-month and rolling 3-month change'
);
SELECT results_eq(
    $$SELECT month, gross_cost, mom_change, mom_change_pct, rolling_3m_cost, rolling_3m_change,
             rolling_3m_change_pct FROM reporting.cost_trend(p_plan => 'RPT-A')$$,
    $$VALUES
      ('2025-01-01'::date, 660.00::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric),
      ('2025-02-01', 550.00, -110.00, -16.67, NULL, NULL, NULL),
      ('2025-03-01', 518.00, -32.00, -5.82, 1728.00, NULL, NULL),
      ('2025-04-01', 534.00, 16.00, 3.09, 1602.00, -126.00, -7.29)$$,
    'cost trend of plan RPT-A: windows within the plan'
);
SELECT results_eq(
    $$SELECT month, mom_change, rolling_3m_cost FROM reporting.cost_trend('2025-03-01', '2025-04-30')$$,
    $$VALUES ('2025-03-01'::date, -510.00::numeric, 2302.00::numeric), ('2025-04-01', 494.00, 2684.00)$$,
    'a trend from March still compares with February and January'
);

-- Member months, prorated: RPT0001, RPT0002 (plan A) and RPT0003 (plan B) every month; RPT0004 plan A
-- 15-28 February = 14/28 = 0.5 and all of March; RPT0005 plan B from March.
SELECT results_eq(
    $$SELECT month, enrolled_members, member_months, gross_pmpm, plan_paid_pmpm, member_paid_pmpm
      FROM reporting.pmpm()$$,
    $$VALUES ('2025-01-01'::date, 3::bigint, 3.0000::numeric, 224.00::numeric, 192.33::numeric, 31.67::numeric),
             ('2025-02-01', 4, 3.5000, 305.71, 287.14, 18.57),
             ('2025-03-01', 5, 5.0000, 112.00, 100.60, 11.40),
             ('2025-04-01', 4, 4.0000, 263.50, 247.75, 15.75)$$,
    'PMPM over all plans: 672 / 3, 1070 / 3.5, 560 / 5, 1054 / 4'
);
SELECT results_eq(
    $$SELECT month, member_months, gross_pmpm, plan_paid_pmpm, member_paid_pmpm
      FROM reporting.pmpm(p_plan => 'RPT-A')$$,
    $$VALUES ('2025-01-01'::date, 2.0000::numeric, 330.00::numeric, 282.50::numeric, 47.50::numeric),
             ('2025-02-01', 2.5000, 220.00, 194.00, 26.00),
             ('2025-03-01', 3.0000, 172.67, 153.67, 19.00),
             ('2025-04-01', 2.0000, 267.00, 235.50, 31.50)$$,
    'PMPM of plan RPT-A, February with half a member month for RPT0004'
);
SELECT is(
    (
        SELECT gross_pmpm FROM reporting.cost_trend()
        WHERE month = '2025-03-01'
    ), 112.00::numeric,
    'the trend carries the same PMPM'
);

-- Generic dispensing rate: generics are MONY Y (101, 104, 105, 106), brands M/N/O (102 O, 103 N).
SELECT results_eq(
    $$SELECT * FROM reporting.generic_dispensing_rate()$$,
    $$VALUES
      ('2025-01-01'::date, 4::bigint, 2::bigint, 2::bigint, 1::bigint, 1::bigint, 50.00::numeric, 22.00::numeric,
       650.00::numeric, 3.27::numeric),
      ('2025-02-01', 4, 2, 2, 0, 2, 50.00, 50.00, 1020.00, 4.67),
      ('2025-03-01', 5, 4, 1, 0, 1, 80.00, 60.00, 500.00, 10.71),
      ('2025-04-01', 6, 4, 2, 0, 2, 66.67, 34.00, 1020.00, 3.23)$$,
    'generic dispensing rate by month with the brand split and generic share of cost'
);
SELECT results_eq(
    $$SELECT month, generic_claims, brand_claims, generic_dispensing_rate_pct
      FROM reporting.generic_dispensing_rate(p_plan => 'RPT-B')$$,
    $$VALUES ('2025-01-01'::date, 1::bigint, 0::bigint, 100.00::numeric), ('2025-02-01', 0, 1, 0.00),
             ('2025-03-01', 2, 0, 100.00), ('2025-04-01', 0, 1, 0.00)$$,
    'generic dispensing rate of plan RPT-B'
);

-- Formulary compliance: RPT-FA lists every drug; RPT-FB lacks 102 and 105, so B06 (oxycodone) was
-- paid off formulary and B02 (Lipitor) rejected MR.
SELECT results_eq(
    $$SELECT * FROM reporting.formulary_compliance()$$,
    $$VALUES ('RPT-A', 18::bigint, 14::bigint, 14::bigint, 0::bigint, 100.00::numeric, 0::bigint, 0.00::numeric,
              8::bigint, 1::bigint, 5::bigint, 0::bigint, 0::bigint, 0::bigint),
             ('RPT-B', 6, 5, 4, 1, 80.00, 1, 16.67, 2, 1, 2, 0, 0, 0)$$,
    'formulary compliance by plan: paid on formulary, non-formulary rejects, claims by tier'
);
SELECT results_eq(
    $$SELECT month, claims_submitted, paid_claims, rejected_claims, reversed_claims, duplicate_claims
      FROM reporting.monthly_plan_summary WHERE plan_key IS NULL ORDER BY month$$,
    $$VALUES ('2025-01-01'::date, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint),
             ('2025-02-01', 1, 0, 1, 0, 0), ('2025-03-01', 0, 0, 0, 0, 0), ('2025-04-01', 0, 0, 0, 0, 0)$$,
    'claims that matched no plan (A09) are kept under plan NULL, months without any filled with zeros'
);

SELECT * FROM finish();
ROLLBACK;
