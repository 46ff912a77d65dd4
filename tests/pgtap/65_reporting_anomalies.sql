-- Claims anomaly rules on hand-built claims: duplicate paid claims, robust z-scores (median and MAD,
-- mean absolute deviation when the MAD is 0) of unit cost, quantity and days supply per drug, and
-- pharmacies standing out from their peers.
\set ON_ERROR_STOP true
BEGIN;
SELECT plan(10);

\ir ../fixtures/reporting/entities.sql

DO $$
BEGIN
    -- Duplicates: RPT0001 got atorvastatin at PH1 and Lipitor (same drug group) at PH2 on 06-10;
    -- RPT0002 got Eliquis twice on 06-12 but the second was reversed.
    PERFORM pg_temp.paid_claim('X01', '2025-06-10', 'RPT0001', '11111111101', '1000000012', 10.00, 5.00, 30, 30, 1);
    PERFORM pg_temp.paid_claim('X02', '2025-06-10', 'RPT0001', '11111111102', '1000000020', 150.00, 40.00, 30, 30, 3);
    PERFORM pg_temp.paid_claim('X04', '2025-06-12', 'RPT0002', '11111111103', '1000000012', 500.00, 50.00, 60, 30, 3);
    PERFORM pg_temp.paid_claim('X05', '2025-06-12', 'RPT0002', '11111111103', '1000000020', 500.00, 50.00, 60, 30, 3);
    PERFORM pg_temp.reverse_claim('X05', '2025-06-13');
    -- Metformin: four claims, one at 5.00 a unit: fewer than 5 claims, so not scored.
    PERFORM pg_temp.paid_claim('X03', '2025-06-11', 'RPT0002', '11111111104', '1000000012', 8.00, 2.00, 60, 30, 1);
    PERFORM pg_temp.paid_claim('Y1', '2025-06-15', 'RPT0002', '11111111104', '1000000012', 8.00, 2.00, 60, 30, 1);
    PERFORM pg_temp.paid_claim('Y2', '2025-06-16', 'RPT0002', '11111111104', '1000000012', 8.00, 2.00, 60, 30, 1);
    PERFORM pg_temp.paid_claim('Y3', '2025-06-17', 'RPT0002', '11111111104', '1000000012', 300.00, 2.00, 60, 30, 1);
    -- Lisinopril, 42 claims: 40 ordinary ones (30 units for 30 days at 6.00, 6.30, 5.70, 6.00 in turn:
    -- 0.20, 0.21, 0.19, 0.20 a unit), L7 at 1.00 a unit, L8 300 units for 120 days at 0.20.
    -- Unit cost: median 0.20 (21st and 22nd of 42), absolute deviations 0 x 21, 0.01 x 20, 0.80, MAD 0.005;
    -- L7: 0.6745 x 0.80 / 0.005 = 107.92. Daily quantity: 1 x 41 and 2.5; MAD 0, mean absolute deviation
    -- 1.5 / 42; L8: 1.5 / (1.253314 x 1.5 / 42) = 33.51. L8's 120 days are over plan A's maximum of 90.
    PERFORM pg_temp.paid_claim(
        format('N%s', g), '2025-06-01'::date + g, CASE WHEN g % 2 = 0 THEN 'RPT0001' ELSE 'RPT0002' END,
        '11111111106', CASE WHEN g % 2 = 0 THEN '1000000012' ELSE '1000000020' END,
        (ARRAY[6.00, 6.30, 5.70, 6.00])[1 + g % 4], 1.00, 30, 30, 1
    )
    FROM generate_series(1, 40) AS g;
    PERFORM pg_temp.paid_claim('L7', '2025-08-07', 'RPT0001', '11111111106', '1000000020', 30.00, 1.00, 30, 30, 1);
    PERFORM pg_temp.paid_claim('L8', '2025-08-08', 'RPT0002', '11111111106', '1000000020', 60.00, 1.00, 300, 120, 1);
    -- Atorvastatin: X01 and 20 more claims, two of them 60 units for 30 days. Daily quantity 2 scores
    -- 1 / (1.253314 x 2 / 21) = 8.38, but 2 of 21 claims (9.5 %) share it: a pattern, not an outlier.
    PERFORM pg_temp.paid_claim(
        format('T%s', g), '2025-09-01'::date + g, CASE WHEN g % 2 = 0 THEN 'RPT0001' ELSE 'RPT0002' END,
        '11111111101', '1000000012', CASE WHEN g <= 2 THEN 20.00 ELSE 10.00 END, 5.00,
        CASE WHEN g <= 2 THEN 60 ELSE 30 END, 30, 1
    )
    FROM generate_series(1, 20) AS g;

    -- Pharmacy peers, 2024, five retail pharmacies with 10 claims each: PH1, PH2, PH4, PH5 paid 9
    -- atorvastatin claims (at 10, 11, 12, 13 a claim) and rejected 1; PH6 paid 4 lisinopril claims at 40
    -- and rejected 6. (One pharmacy a month, so no duplicates; lisinopril has too few 2024 claims to be
    -- scored, and atorvastatin's unit costs stay within 1.01 robust z of their median.)
    PERFORM pg_temp.paid_claim(
        format('P%s-%s', v.pharmacy, g.n), make_date(2024, v.pharmacy::integer, g.n), 'RPT0001', v.ndc, v.npi, v.cost,
        0.00, 30, 30, 1, p_plan => 'RPT-A'
    )
    FROM (
        VALUES ('1', '1000000012', '11111111101', 10.00, 9), ('2', '1000000020', '11111111101', 11.00, 9),
        ('4', '1000000046', '11111111101', 12.00, 9), ('5', '1000000053', '11111111101', 13.00, 9),
        ('6', '1000000061', '11111111106', 40.00, 4)
    ) AS v (pharmacy, npi, ndc, cost, paid)
    CROSS JOIN LATERAL generate_series(1, v.paid) AS g (n);
    PERFORM pg_temp.rejected_claim(format('R%s-%s', v.pharmacy, g.n), make_date(2024, 7, g.n), 'RPT0001',
        '11111111101', v.npi, '{75}')
    FROM (
        VALUES ('1', '1000000012', 1), ('2', '1000000020', 1), ('4', '1000000046', 1), ('5', '1000000053', 1),
        ('6', '1000000061', 6)
    ) AS v (pharmacy, npi, rejected)
    CROSS JOIN LATERAL generate_series(1, v.rejected) AS g (n);
END;
$$;

CREATE TEMP TABLE refreshed ON COMMIT DROP AS SELECT * FROM reporting.refresh();
CREATE TEMP TABLE claim_key_of ON COMMIT DROP AS
SELECT
    c.rx_number,
    reporting_private.pseudonym(k.secret, 'claim', c.claim_id) AS claim_key
FROM claims.claims AS c, reporting_private.pseudonym_key AS k
WHERE c.transaction_code = 'B1';

SELECT results_eq(
    $$SELECT a.date_key, a.drug_group, a.paid_claims, a.pharmacies, a.ndcs, a.gross_cost, a.claim_keys
      FROM reporting.anomaly_duplicates() a$$,
    $$SELECT '2025-06-10'::date, 'ATORVASTATIN 10MG TAB', 2::bigint, 2::bigint, 2::bigint, 160.00::numeric,
             array_agg(claim_key ORDER BY claim_key)
      FROM claim_key_of WHERE rx_number IN ('X01', 'X02')$$,
    'duplicate: one member, one drug group, one day, two pharmacies; the reversed second Eliquis is not one'
);
SELECT results_eq(
    $$SELECT k.rx_number::text, o.metric, o.value, o.peer_claims, o.median, o.mad, o.robust_z, o.plan_limit
      FROM reporting.anomaly_claim_outliers AS o JOIN claim_key_of AS k USING (claim_key)
      ORDER BY k.rx_number, o.metric$$,
    $$VALUES ('L7', 'unit_cost', 1.00000::numeric, 42::bigint, 0.20000::numeric, 0.00500::numeric, 107.92::numeric,
              NULL::smallint),
             ('L8', 'daily_quantity', 2.500, 42, 1.00000, 0.00000, 33.51, NULL),
             ('L8', 'days_supply', 120, NULL, NULL, NULL, NULL, 90::smallint)$$,
    'outliers: L7 by unit cost (MAD), L8 by daily quantity (mean absolute deviation) and by days over the plan maximum'
);
SELECT results_eq(
    $$SELECT metric, robust_z FROM reporting.anomaly_claim_outliers()$$,
    $$VALUES ('days_supply', NULL::numeric), ('unit_cost', 107.92), ('daily_quantity', 33.51)$$,
    'the report lists plan limits broken first, then the most extreme scores'
);
SELECT is(
    (SELECT count(*) FROM reporting.anomaly_claim_outliers(p_metric => 'unit_cost')), 1::bigint,
    'one unit cost outlier'
);
SELECT is_empty(
    $$SELECT 1 FROM reporting.anomaly_claim_outliers AS o JOIN claim_key_of AS k USING (claim_key)
      WHERE k.rx_number IN ('Y3', 'T1', 'T2')$$,
    'not flagged: metformin (4 claims, too few to score) and the 60-unit atorvastatin fills (a value 9.5 % share)'
);

-- Pharmacies 2024: reject rates 10 10 10 10 60 (median 10, MAD 0, mean absolute deviation 10;
-- PH6: 50 / 12.53314 = 3.99); cost per claim 10 11 12 13 40 (median 12, deviations 2 1 0 1 28, MAD 1;
-- PH6: 0.6745 x 28 = 18.89, PH1 -1.35, PH2 -0.67, PH5 0.67).
SELECT results_eq(
    $$SELECT year::int, npi::text, metric, value, peer_pharmacies, peer_median, peer_mad, robust_z
      FROM reporting.anomaly_pharmacy_outliers(2024)$$,
    $$VALUES (2024, '1000000061', 'cost_per_claim', 40.0000::numeric, 5::bigint, 12.0000::numeric,
              1.0000::numeric, 18.89::numeric),
             (2024, '1000000061', 'reject_rate_pct', 60.0000, 5, 10.0000, 0.0000, 3.99)$$,
    'pharmacy outliers against retail peers of 2024: PH6 by cost per claim and by reject rate'
);
SELECT results_eq(
    $$SELECT npi::text, robust_z FROM reporting.anomaly_pharmacy_outliers(2024, TRUE)
      WHERE metric = 'cost_per_claim' ORDER BY npi$$,
    $$VALUES ('1000000012', -1.35::numeric), ('1000000020', -0.67), ('1000000046', 0.00), ('1000000053', 0.67),
             ('1000000061', 18.89)$$,
    'every pharmacy''s cost per claim score'
);
SELECT is(
    (SELECT count(*) FROM reporting.anomaly_pharmacy_outliers(2024, TRUE)), 25::bigint,
    'five pharmacies x five metrics scored in 2024'
);
SELECT is(
    (SELECT count(*) FROM reporting.anomaly_pharmacy_outliers(2025, TRUE)), 0::bigint,
    '2025 has fewer than 5 retail pharmacies with 10 claims: no peer group, no scores'
);
SELECT is(
    (
        SELECT count(*) FROM reporting.anomaly_pharmacy_outliers
        WHERE metric = 'brand_rate_pct' AND robust_z <> 0
    ),
    0::bigint,
    'equal values (no brand anywhere) score 0'
);

SELECT * FROM finish();
ROLLBACK;
