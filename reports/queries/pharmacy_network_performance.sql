-- Report: Pharmacy network performance
-- Per pharmacy: claims, net paid claims, allowed cost, cost per claim, reject rate, generic rate,
-- reversal rate and average days supply; busiest first.
-- Param from date: first month
-- Param to date: last month
-- Param type choice(|retail|mail|specialty|long_term_care): pharmacy type; empty for all
-- Param limit integer: most rows
\if :{?from}
\else
\set from 2000-01-01
\endif
\if :{?to}
\else
\set to 2099-12-31
\endif
\if :{?type}
\else
\set type ''
\endif
\if :{?limit}
\else
\set limit 50
\endif
SELECT * FROM reporting.pharmacy_network_performance(:'from', :'to', nullif(:'type', ''), :'limit');
