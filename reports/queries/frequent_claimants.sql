-- Report: Members with more than 3 claims in 30 days
-- Pseudonymous members with more than 3 net paid claims within 30 days (a day of service and the 29
-- before), for windows ending in the period: most claims in one window, first and last such window.
-- Param from date: first day a window may end
-- Param to date: last day a window may end
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
\set limit 100
\endif
SELECT * FROM reporting.frequent_claimants(:'from', :'to', :'limit');
