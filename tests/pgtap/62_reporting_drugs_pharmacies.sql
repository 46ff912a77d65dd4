-- Drug, rejection and pharmacy reports on the hand-built data set (tests/fixtures/reporting/claims.sql):
-- top drugs overall and by plan, spend by therapeutic class, generic vs brand utilization, brand-to-generic
-- savings, rejections by code, pharmacy and drug, pharmacy network performance. Numbers worked out by hand.
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(18);

\ir ../fixtures/reporting/entities.sql
\ir ../fixtures/reporting/claims.sql
CREATE TEMP TABLE refreshed ON COMMIT DROP AS SELECT * FROM reporting.refresh();

-- Net paid allowed cost by drug: ELIQUIS 4 x 500 + 2 x 520 = 3040; LIPITOR 150 (A06 reversed);
-- ATORVASTATIN 5 x 10 + 2 x 12 = 74; OXYCODONE 40 + 30 = 70; METFORMIN 8 + 8 = 16; LISINOPRIL 6.
-- Total 3356.
SELECT results_eq(
    $$SELECT rank, drug_key::text, drug_name, mony_category, paid_claims, units, gross_cost, cost_per_claim,
             cost_share_pct
      FROM reporting.top_drugs()$$,
    $$VALUES
      (1::bigint, '11111111103', 'ELIQUIS', 'single-source brand', 6::bigint, 360.000::numeric, 3040.00::numeric,
       506.67::numeric, 90.58::numeric),
      (2, '11111111102', 'LIPITOR', 'multi-source brand', 1, 30.000, 150.00, 150.00, 4.47),
      (3, '11111111101', 'ATORVASTATIN CALCIUM', 'generic', 7, 330.000, 74.00, 10.57, 2.21),
      (4, '11111111105', 'OXYCODONE HCL', 'generic', 2, 30.000, 70.00, 35.00, 2.09),
      (5, '11111111104', 'METFORMIN HCL', 'generic', 2, 120.000, 16.00, 8.00, 0.48),
      (6, '11111111106', 'LISINOPRIL', 'generic', 1, 30.000, 6.00, 6.00, 0.18)$$,
    'top drugs by allowed cost with cost per claim and share of all drug cost'
);
SELECT results_eq(
    $$SELECT rank, drug_name FROM reporting.top_drugs(p_limit => 3)$$,
    $$VALUES (1::bigint, 'ELIQUIS'), (2, 'LIPITOR'), (3, 'ATORVASTATIN CALCIUM')$$,
    'top 3'
);
SELECT results_eq(
    $$SELECT year::int, plan_code, rank, drug_name, paid_claims, gross_cost, cost_per_claim, cost_share_pct
      FROM reporting.top_drugs_by_plan(p_limit => 4)$$,
    $$VALUES
      (2025, 'RPT-A', 1::bigint, 'ELIQUIS', 4::bigint, 2000.00::numeric, 500.00::numeric, 88.42::numeric),
      (2025, 'RPT-A', 2, 'LIPITOR', 1, 150.00, 150.00, 6.63),
      (2025, 'RPT-A', 3, 'ATORVASTATIN CALCIUM', 5, 50.00, 10.00, 2.21),
      (2025, 'RPT-A', 4, 'OXYCODONE HCL', 1, 40.00, 40.00, 1.77),
      (2025, 'RPT-B', 1, 'ELIQUIS', 2, 1040.00, 520.00, 95.06),
      (2025, 'RPT-B', 2, 'OXYCODONE HCL', 1, 30.00, 30.00, 2.74),
      (2025, 'RPT-B', 3, 'ATORVASTATIN CALCIUM', 2, 24.00, 12.00, 2.19)$$,
    'top drugs by plan in the latest plan year (plan A 2262.00, plan B 1094.00); ties would be broken by NDC'
);
SELECT results_eq(
    $$SELECT rank, drug_name, gross_cost FROM reporting.top_drugs(p_plan => 'RPT-B')$$,
    $$VALUES (1::bigint, 'ELIQUIS', 1040.00::numeric), (2, 'OXYCODONE HCL', 30.00),
             (3, 'ATORVASTATIN CALCIUM', 24.00)$$,
    'top drugs of one plan (read from the per-plan summary)'
);
SELECT is_empty($$SELECT * FROM reporting.top_drugs_by_plan(2024)$$, 'no plan year 2024 in the data');
SELECT results_eq(
    $$SELECT rank, drug_name, paid_claims, gross_cost
      FROM reporting.top_drugs('2025-02-01', '2025-03-31', p_limit => 2)$$,
    $$VALUES (1::bigint, 'ELIQUIS', 3::bigint, 1520.00::numeric), (2, 'OXYCODONE HCL', 2, 70.00)$$,
    'top drugs of February and March: Eliquis A07 + B03 + A12 = 500 + 520 + 500; oxycodone A08 + B06 = 40 + 30'
);
SELECT is_empty($$SELECT * FROM reporting.top_drugs('2030-01-01', '2030-12-31')$$, 'a period without claims: no rows');
SELECT results_eq(
    $$SELECT * FROM reporting.therapeutic_class_spend()$$,
    $$VALUES
      ('ANTICOAGULANTS', 6::bigint, 3040.00::numeric, 2840.00::numeric, 200.00::numeric, 506.67::numeric, 90.58::numeric),
      ('STATINS', 8, 224.00, 159.00, 65.00, 28.00, 6.67),
      ('OPIOIDS', 2, 70.00, 60.00, 10.00, 35.00, 2.09),
      ('BIGUANIDES', 2, 16.00, 12.00, 4.00, 8.00, 0.48),
      ('ACE INHIBITORS', 1, 6.00, 5.00, 1.00, 6.00, 0.18)$$,
    'spend by therapeutic class, most expensive first'
);
SELECT results_eq(
    $$SELECT * FROM reporting.generic_brand_utilization()$$,
    $$VALUES
      ('generic', 12::bigint, 510.000::numeric, 430::bigint, 166.00::numeric, 13.83::numeric, 63.16::numeric, 4.95::numeric),
      ('multi-source brand', 1, 30.000, 30, 150.00, 150.00, 5.26, 4.47),
      ('single-source brand', 6, 360.000, 180, 3040.00, 506.67, 31.58, 90.58)$$,
    'generic vs brand utilization: claims, units, days supply, cost and shares'
);
-- Lipitor A02: 30 units for 150.00; its generic group paid 74.00 for 330 units = 0.224242 per unit;
-- 30 units at that price = 6.73; savings 143.27. A06 (DAW 1) was reversed and does not count.
SELECT results_eq(
    $$SELECT * FROM reporting.brand_generic_savings()$$,
    $$VALUES ('11111111102'::char(11), 'LIPITOR', 'ATORVASTATIN 10MG TAB', 1::bigint, 30.000::numeric, 150.00::numeric,
              0::bigint, 1::bigint, 0.22424::numeric, 6.73::numeric, 143.27::numeric)$$,
    'brand-to-generic savings: Lipitor at the generic''s average allowed cost per unit'
);
SELECT is_empty(
    $$SELECT * FROM reporting.brand_generic_savings(p_plan => 'RPT-B')$$,
    'plan B paid no multi-source brand: no opportunity'
);

-- Rejections: A04 {75}, B02 {MR}, A09 {65}, A13 {75, 76}; 25 claims submitted.
SELECT results_eq(
    $$SELECT * FROM reporting.rejections_by_code()$$,
    $$VALUES ('75'::varchar(3), 'Prior Authorization Required', 2::bigint, 2::bigint, 50.00::numeric, 8.00::numeric),
             ('65', 'Patient Is Not Covered', 1, 1, 25.00, 4.00),
             ('76', 'Plan Limitations Exceeded', 1, 0, 25.00, 4.00),
             ('MR', 'Product Not On Formulary', 1, 1, 25.00, 4.00)$$,
    'rejections by code: claims with the code, as first code, share of rejected and of submitted claims'
);
SELECT results_eq(
    $$SELECT reject_code::text, rejected_claims, share_of_rejected_pct, share_of_submitted_pct
      FROM reporting.rejections_by_code(p_plan => 'RPT-A')$$,
    $$VALUES ('75', 2::bigint, 100.00::numeric, 11.11::numeric), ('76', 1, 50.00, 5.56)$$,
    'rejections by code for plan RPT-A (2 rejected of 18 submitted)'
);
SELECT results_eq(
    $$SELECT * FROM reporting.rejections_by_pharmacy()$$,
    $$VALUES ('1000000020'::char(10), 'PH2 Corner', 9::bigint, 2::bigint, 22.22::numeric, '75'::varchar(3), 2::bigint),
             ('1000000012', 'PH1 Main Street', 10, 1, 10.00, '65', 1),
             ('1000000038', 'PH3 Mail Order', 6, 1, 16.67, 'MR', 1)$$,
    'rejections by pharmacy with the most frequent code'
);
SELECT results_eq(
    $$SELECT * FROM reporting.rejections_by_drug()$$,
    $$VALUES ('11111111101'::char(11), 'ATORVASTATIN CALCIUM', 8::bigint, 1::bigint, 12.50::numeric, '65'::varchar(3),
              1::bigint),
             ('11111111102', 'LIPITOR', 3, 1, 33.33, 'MR', 1),
             ('11111111104', 'METFORMIN HCL', 3, 1, 33.33, '75', 1),
             ('11111111105', 'OXYCODONE HCL', 3, 1, 33.33, '75', 1)$$,
    'rejections by drug (oxycodone: 75 and 76 tie, the lower code wins)'
);

-- Pharmacies: PH1 10 claims, 8 net paid (A06 reversed, A09 rejected) for 214.00, 7 generic of 8;
-- PH2 9 claims, 6 net paid for 2048.00, 2 generic; PH3 6 claims, 5 net paid for 1094.00, 3 generic.
SELECT results_eq(
    $$SELECT * FROM reporting.pharmacy_network_performance()$$,
    $$VALUES
      ('1000000012'::char(10), 'PH1 Main Street', 'retail', 'TX'::char(2), 10::bigint, 8::bigint, 214.00::numeric,
       26.75::numeric, 10.00::numeric, 87.50::numeric, 11.11::numeric, 30.0::numeric),
      ('1000000020', 'PH2 Corner', 'retail', 'TX', 9, 6, 2048.00, 341.33, 22.22, 33.33, 0.00, 25.8),
      ('1000000038', 'PH3 Mail Order', 'mail', 'TX', 6, 5, 1094.00, 218.80, 16.67, 60.00, 0.00, 49.0)$$,
    'pharmacy network performance: volume, cost per claim, reject, generic and reversal rates, days supply'
);
SELECT results_eq(
    $$SELECT npi::text, paid_claims FROM reporting.pharmacy_network_performance(p_pharmacy_type => 'mail')$$,
    $$VALUES ('1000000038', 5::bigint)$$,
    'pharmacy network performance of mail pharmacies only'
);
SELECT results_eq(
    $$SELECT npi::text, paid_claims, gross_cost
      FROM reporting.pharmacy_network_performance('2025-04-01', '2025-04-30')$$,
    $$VALUES ('1000000012', 3::bigint, 26.00::numeric), ('1000000020', 2, 508.00), ('1000000038', 1, 520.00)$$,
    'pharmacy network performance in April: A15 + A18 + A19; A16 + A17; B05'
);

SELECT * FROM finish();
ROLLBACK;
