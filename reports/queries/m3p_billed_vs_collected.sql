-- Report: M3P billed vs collected
-- Medicare Prescription Payment Plan statements per billing month: costs posted, billed, collected from
-- members, credited by reversals, still open and past due, collection rate (payments as of the last refresh).
-- Param from date: first billing month
-- Param to date: last billing month
-- Chart: x=billing_month y=amount_billed,amount_collected kind=bar
\if :{?from}
\else
\set from 2000-01-01
\endif
\if :{?to}
\else
\set to 2099-12-31
\endif
SELECT * FROM reporting.m3p_billed_vs_collected(:'from', :'to');
