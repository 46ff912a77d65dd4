-- Report: M3P statements past due
-- Pseudonymous M3P statements not settled (as of the last refresh) whose due date has passed at as_of: open
-- amount, days past due, past-due notice, whether the grace period still runs, the member's election status.
-- Param as_of date: the day asked about
-- Param limit integer: most rows
\if :{?as_of}
\else
\set as_of today
\endif
\if :{?limit}
\else
\set limit 100
\endif
SELECT * FROM reporting.m3p_past_due(:'as_of', :'limit');
