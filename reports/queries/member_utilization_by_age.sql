-- Report: Member utilization by age band and gender
-- Members, members with claims, claims and cost per member by age band (on December 31; 90+ grouped) and
-- gender.
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
SELECT * FROM reporting.member_utilization_by_age(nullif(:'year', '')::integer, nullif(:'plan', ''));
