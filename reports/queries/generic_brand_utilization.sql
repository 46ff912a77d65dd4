-- Report: Generic vs brand utilization
-- Net paid claims, units, days supply and cost of generics, multi-source brands and single-source brands,
-- with their shares.
-- Param from date: first month
-- Param to date: last month
-- Param plan text: plan code; empty for all plans
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
SELECT * FROM reporting.generic_brand_utilization(:'from', :'to', nullif(:'plan', ''));
