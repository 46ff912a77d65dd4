-- The M3P formula, ppp.monthly_bill, against the reference's worked examples (m3p-rules.md E1 and E2) and
-- cases worked by hand. Months are chained by a recursive query: each month carries the previous
-- month's rounded balance.
BEGIN;
SELECT plan(15);

SELECT function_returns(
    'ppp', 'monthly_bill', ARRAY['numeric', 'numeric', 'numeric', 'numeric', 'integer', 'boolean'], 'setof record',
    'ppp.monthly_bill has the signature of the issue'
);
SELECT volatility_is(
    'ppp', 'monthly_bill', ARRAY['numeric', 'numeric', 'numeric', 'numeric', 'integer', 'boolean'], 'immutable',
    'ppp.monthly_bill is IMMUTABLE (pure math)'
);

-- E1: 42 CFR 423.137(b)(2): $2,000 incurred in January 2025, opt-in January, T = $2,000.
SELECT results_eq(
    $$
    WITH RECURSIVE oop (month, amount) AS (
        SELECT g, CASE WHEN g = 1 THEN 2000.00 ELSE 0 END FROM generate_series(1, 12) AS g
    ),
    chain AS (
        SELECT 1 AS month, b.* FROM ppp.monthly_bill(2000, 0, 0, 2000.00, 1, TRUE) AS b
        UNION ALL
        SELECT c.month + 1, b.*
        FROM chain AS c
        INNER JOIN oop AS o ON o.month = c.month + 1
        CROSS JOIN LATERAL ppp.monthly_bill(2000, 0, c.balance_after, o.amount, c.month + 1, FALSE) AS b
    )
    SELECT month, max_monthly_cap, amount_billed, balance_after FROM chain ORDER BY month
    $$,
    $$
    VALUES
    (1, 166.67, 166.67, 1833.33), (2, 166.67, 166.67, 1666.66), (3, 166.67, 166.67, 1499.99),
    (4, 166.67, 166.67, 1333.32), (5, 166.67, 166.67, 1166.65), (6, 166.66, 166.66, 999.99),
    (7, 166.67, 166.67, 833.32), (8, 166.66, 166.66, 666.66), (9, 166.67, 166.67, 499.99),
    (10, 166.66, 166.66, 333.33), (11, 166.67, 166.67, 166.66), (12, 166.66, 166.66, 0.00)
    $$,
    'E1 (42 CFR 423.137(b)(2)): cap, bill and remaining balance of every month to the cent'
);

-- E2: medicare.gov Example 1: $500 every month January-April, opt-in January 2025, T = $2,000.
SELECT results_eq(
    $$
    WITH RECURSIVE oop (month, amount) AS (
        SELECT g, CASE WHEN g <= 4 THEN 500.00 ELSE 0 END FROM generate_series(1, 12) AS g
    ),
    chain AS (
        SELECT 1 AS month, b.* FROM ppp.monthly_bill(2000, 0, 0, 500.00, 1, TRUE) AS b
        UNION ALL
        SELECT c.month + 1, b.*
        FROM chain AS c
        INNER JOIN oop AS o ON o.month = c.month + 1
        CROSS JOIN LATERAL ppp.monthly_bill(2000, 0, c.balance_after, o.amount, c.month + 1, FALSE) AS b
    )
    SELECT month, max_monthly_cap, amount_billed, balance_after FROM chain ORDER BY month
    $$,
    $$
    VALUES
    (1, 166.67, 166.67, 333.33), (2, 75.76, 75.76, 757.57), (3, 125.76, 125.76, 1131.81),
    (4, 181.31, 181.31, 1450.50), (5, 181.31, 181.31, 1269.19), (6, 181.31, 181.31, 1087.88),
    (7, 181.31, 181.31, 906.57), (8, 181.31, 181.31, 725.26), (9, 181.32, 181.32, 543.94),
    (10, 181.31, 181.31, 362.63), (11, 181.32, 181.32, 181.31), (12, 181.31, 181.31, 0.00)
    $$,
    'E2 (medicare.gov example 1): cap, bill and remaining balance of every month to the cent'
);

-- By hand: election in April after $4 in each of January-March paid at the pharmacy (incurred before the
-- election: 12.00), then 617 / 4 / 4 / 124 / 4 / 4 / 124 / 4 / 4 from April to December.
-- April (first month): cap = (2000 - 12) / 9 = 220.888.. -> 220.89 < 617, billed 220.89, balance 396.11.
-- May (396.11 + 4) / 8 = 50.01375 -> 50.01; June 354.10 / 7 -> 50.59; July 427.51 / 6 -> 71.25;
-- August 360.26 / 5 -> 72.05; September 292.21 / 4 -> 73.05; October 343.16 / 3 -> 114.39;
-- November 232.77 / 2 = 116.385 -> 116.39 (half up); December 120.38. Total 889.00 = the costs incurred.
SELECT results_eq(
    $$
    WITH RECURSIVE oop (month, amount) AS (
        VALUES (4, 617.00), (5, 4.00), (6, 4.00), (7, 124.00), (8, 4.00), (9, 4.00), (10, 124.00), (11, 4.00),
        (12, 4.00)
    ),
    chain AS (
        SELECT 4 AS month, b.* FROM ppp.monthly_bill(2000, 12.00, 0, 617.00, 4, TRUE) AS b
        UNION ALL
        SELECT c.month + 1, b.*
        FROM chain AS c
        INNER JOIN oop AS o ON o.month = c.month + 1
        CROSS JOIN LATERAL ppp.monthly_bill(2000, 12.00, c.balance_after, o.amount, c.month + 1, FALSE) AS b
    )
    SELECT month, amount_billed, balance_after FROM chain ORDER BY month
    $$,
    $$
    VALUES
    (4, 220.89, 396.11), (5, 50.01, 350.10), (6, 50.59, 303.51), (7, 71.25, 356.26), (8, 72.05, 288.21),
    (9, 73.05, 219.16), (10, 114.39, 228.77), (11, 116.39, 116.38), (12, 120.38, 0.00)
    $$,
    'election in April with costs incurred before it: first-month cap uses the threshold minus those costs'
);

-- By hand: December election after 1,650.50 incurred: cap = 2000 - 1650.50 = 349.50 over 1 month.
SELECT results_eq(
    $$SELECT * FROM ppp.monthly_bill(2000, 1650.50, 0, 349.50, 12, TRUE)$$,
    $$VALUES (349.50, 349.50, 0.00)$$,
    'December election: one month remaining, the cap is what is left to the threshold and the bill clears it'
);
SELECT results_eq(
    $$SELECT * FROM ppp.monthly_bill(2000, 0, 0, 150.00, 12, TRUE)$$,
    $$VALUES (2000.00, 150.00, 0.00)$$,
    'December election with nothing incurred before: billed the month''s costs (lesser of cap and costs)'
);
SELECT results_eq(
    $$SELECT * FROM ppp.monthly_bill(2000, 0, 0, 0, 1, TRUE)$$,
    $$VALUES (166.67, 0.00, 0.00)$$,
    'a first month without costs bills nothing'
);
SELECT results_eq(
    $$SELECT * FROM ppp.monthly_bill(2100, 0, 0, 2100.00, 1, TRUE)$$,
    $$VALUES (175.00, 175.00, 1925.00)$$,
    '2026 threshold (2,100): January cap 175.00'
);

-- Rounding: half up at the cent, never half-even, never float.
SELECT results_eq(
    $$SELECT * FROM ppp.monthly_bill(2000, 0, 725.26, 0, 9, FALSE)$$,
    $$VALUES (181.32, 181.32, 543.94)$$,
    '725.26 / 4 = 181.315 exactly: rounded half up to 181.32'
);
SELECT results_eq(
    $$SELECT * FROM ppp.monthly_bill(2000, 0, 0.05, 0.00, 11, FALSE)$$,
    $$VALUES (0.03, 0.03, 0.02)$$,
    '0.05 / 2 = 0.025: half up gives 0.03 (half-even would give 0.02)'
);

-- Reversals: a later month whose new costs are negative.
SELECT results_eq(
    $$SELECT * FROM ppp.monthly_bill(2000, 0, 1033.33, -600.00, 2, FALSE)$$,
    $$VALUES (39.39, 39.39, 393.94)$$,
    'a reversal smaller than the unbilled balance is a credit on the next statement: (1033.33 - 600) / 11'
);
SELECT results_eq(
    $$SELECT * FROM ppp.monthly_bill(2000, 0, 1033.33, -1200.00, 2, FALSE)$$,
    $$VALUES (0.00, 0.00, -166.67)$$,
    'a reversal beyond the unbilled balance bills nothing and returns the over-billed amount as a negative balance'
);

SELECT throws_ok(
    $$SELECT * FROM ppp.monthly_bill(2000, 0, 0, 10, 13, FALSE)$$, '22023', 'month_of_year must be 1 to 12 (got 13)',
    'a month of year outside 1..12 is refused'
);
SELECT throws_ok(
    $$SELECT * FROM ppp.monthly_bill(2000, 0, 0, 10, 0, TRUE)$$, '22023', 'month_of_year must be 1 to 12 (got 0)',
    'month 0 is refused too'
);

SELECT * FROM finish();
ROLLBACK;
