-- Report: Possible duplicate claims
-- A member with more than one net paid claim for the same drug group on the same date of service.
-- Param from date: first date of service
-- Param to date: last date of service
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
SELECT * FROM reporting.anomaly_duplicates(:'from', :'to', :'limit');
