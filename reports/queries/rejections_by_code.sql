-- Report: Rejections by reject code
-- Rejected claims per NCPDP reject code (a claim counts under each of its codes), how often the code was
-- the first edit that failed, and shares of rejected and submitted claims.
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
SELECT * FROM reporting.rejections_by_code(:'from', :'to', nullif(:'plan', ''));
