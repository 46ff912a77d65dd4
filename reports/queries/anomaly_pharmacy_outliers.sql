-- Report: Pharmacies with outlier patterns
-- Pharmacies whose reject, cost per claim, brand, controlled-substance or reversal rate stands out from
-- pharmacies of the same type that year (|robust z| > 3.5).
-- Param year integer: calendar year; empty for every year
-- Param all boolean: show every score, not only outliers
\if :{?year}
\else
\set year ''
\endif
\if :{?all}
\else
\set all false
\endif
SELECT * FROM reporting.anomaly_pharmacy_outliers(nullif(:'year', '')::integer, :'all');
