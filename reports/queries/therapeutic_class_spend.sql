-- Report: Spend by therapeutic class
-- Net paid claims and allowed, plan and member cost per therapeutic class, most expensive first.
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
SELECT * FROM reporting.therapeutic_class_spend(:'from', :'to', nullif(:'plan', ''));
