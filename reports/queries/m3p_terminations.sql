-- Report: M3P opt-outs and terminations
-- Participations that ended early with an end date in the period: opt-outs (voluntary) and terminations for
-- failure to pay, with the termination notice date and what the member still owes.
-- Param from date: first end date
-- Param to date: last end date
\if :{?from}
\else
\set from 2000-01-01
\endif
\if :{?to}
\else
\set to 2099-12-31
\endif
SELECT * FROM reporting.m3p_terminations(:'from', :'to');
