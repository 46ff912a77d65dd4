-- Report: Rejections by pharmacy
-- Claims submitted and rejected per pharmacy, reject rate and most frequent reject code; most rejected first.
-- Param from date: first month
-- Param to date: last month
-- Param limit integer: most rows
\if :{?from}
\else
\set from 2000-01-01
\endif
\if :{?to}
\else
\set to 2099-12-31
\endif
\if :{?limit}
\else
\set limit 20
\endif
SELECT * FROM reporting.rejections_by_pharmacy(:'from', :'to', :'limit');
