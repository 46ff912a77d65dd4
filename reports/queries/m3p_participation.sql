-- Report: M3P participation
-- Medicare Prescription Payment Plan per month: participants, new elections, opt-outs, terminations,
-- and the cost share of net paid claims moved into the program.
-- Param from date: first month
-- Param to date: last month
-- Chart: x=month y=participants
\if :{?from}
\else
\set from 2000-01-01
\endif
\if :{?to}
\else
\set to 2099-12-31
\endif
SELECT * FROM reporting.m3p_participation(:'from', :'to');
