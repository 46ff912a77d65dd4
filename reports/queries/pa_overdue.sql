-- Report: Overdue prior authorization requests
-- Requests without a decision (as of the last refresh) whose due time has passed at as_of; longest overdue
-- first.
-- Param as_of timestamp: the moment asked about
-- Param limit integer: most rows
\if :{?as_of}
\else
\set as_of now
\endif
\if :{?limit}
\else
\set limit 100
\endif
SELECT * FROM reporting.pa_overdue(:'as_of', :'limit');
