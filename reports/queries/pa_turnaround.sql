-- Report: Prior authorization turnaround
-- Requests per month of receipt and urgency: decided, approved, denied, on time, late, still open, and hours
-- from receipt to decision (average, median, 90th percentile, maximum).
-- Param from date: first month of receipt
-- Param to date: last month of receipt
\if :{?from}
\else
\set from 2000-01-01
\endif
\if :{?to}
\else
\set to 2099-12-31
\endif
SELECT * FROM reporting.pa_turnaround(:'from', :'to');
