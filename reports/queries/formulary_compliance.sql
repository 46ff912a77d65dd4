-- Report: Formulary compliance by plan
-- Share of net paid claims for drugs on the plan's formulary on the date of service, claims rejected as
-- non-formulary (MR, 70), and net paid claims by tier.
-- Param from date: first month
-- Param to date: last month
-- Param plan text: plan code; empty for every plan
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
SELECT * FROM reporting.formulary_compliance(:'from', :'to', nullif(:'plan', ''));
