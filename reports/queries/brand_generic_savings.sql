-- Report: Brand-to-generic savings opportunities
-- Multi-source brands (MONY O) dispensed while a generic of their drug group exists, and what their units
-- would have cost at the generic's average allowed cost per unit over the period; largest savings first.
-- Param from date: first month
-- Param to date: last month
-- Param plan text: plan code; empty for all plans
-- Param limit integer: most rows
\if :{?from}
\else
\set from 2000-01-01
\endif
\if :{?to}
\else
\set to 2099-12-31
\endif
\if :{?plan}
\else
\set plan ''
\endif
\if :{?limit}
\else
\set limit 20
\endif
SELECT * FROM reporting.brand_generic_savings(:'from', :'to', nullif(:'plan', ''), :'limit');
