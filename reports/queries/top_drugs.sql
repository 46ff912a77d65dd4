-- Report: Top most expensive drugs
-- The drugs with the highest allowed cost of net paid claims, with claims, units, cost per claim and
-- share of all drug cost.
-- Param from date: first month
-- Param to date: last month
-- Param plan text: plan code; empty for all plans
-- Param limit integer: how many drugs
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
\set limit 10
\endif
SELECT * FROM reporting.top_drugs(:'from', :'to', nullif(:'plan', ''), :'limit');
