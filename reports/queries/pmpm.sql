-- Report: Per-member-per-month cost
-- Allowed, plan-paid and member-paid cost of net paid claims per prorated member month (covered days /
-- days in the month), by month.
-- Param from date: first month
-- Param to date: last month
-- Param plan text: plan code; empty for all plans together
-- Chart: x=month y=gross_pmpm,plan_paid_pmpm,member_paid_pmpm
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
SELECT * FROM reporting.pmpm(:'from', :'to', nullif(:'plan', ''));
