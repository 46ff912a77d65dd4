-- Report: Member utilization patterns
-- Members by net paid claims in the year (0, 1-2, 3-5, 6-11, 12-23, 24+): share of members and of cost,
-- averages, polypharmacy (5+ drug groups) and multi-pharmacy (3+ pharmacies) members.
-- Param year integer: calendar year; empty for every year
-- Param plan text: plan code; empty for all plans
\if :{?year}
\else
\set year ''
\endif
\if :{?plan}
\else
\set plan ''
\endif
SELECT * FROM reporting.member_utilization(nullif(:'year', '')::integer, nullif(:'plan', ''));
