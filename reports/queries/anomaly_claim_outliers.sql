-- Report: Claims with unusual cost, quantity or days supply
-- Net paid claims whose ingredient cost per unit or daily quantity is far from their drug's median that year
-- (|robust z| > 3.5, robust z = 0.6745 (x - median) / MAD, and a value few claims share), or whose days
-- supply is above the plan's maximum.
-- Param from date: first date of service
-- Param to date: last date of service
-- Param metric choice(|unit_cost|daily_quantity|days_supply): one metric; empty for all
-- Param limit integer: most rows
\if :{?from}
\else
\set from 2000-01-01
\endif
\if :{?to}
\else
\set to 2099-12-31
\endif
\if :{?metric}
\else
\set metric ''
\endif
\if :{?limit}
\else
\set limit 100
\endif
SELECT * FROM reporting.anomaly_claim_outliers(:'from', :'to', nullif(:'metric', ''), :'limit');
