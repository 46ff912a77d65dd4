-- Report: Generic dispensing rate
-- Generic / (generic + brand) net paid claims by month (generic = MONY Y), with the brand split
-- (multi-source O, single-source M and N) and the generic share of cost.
-- Param from date: first month
-- Param to date: last month
-- Param plan text: plan code; empty for all plans together
-- Chart: x=month y=generic_dispensing_rate_pct
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
SELECT * FROM reporting.generic_dispensing_rate(:'from', :'to', nullif(:'plan', ''));
