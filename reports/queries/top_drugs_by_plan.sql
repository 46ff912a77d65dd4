-- Report: Top most expensive drugs of each plan
-- For every plan, its drugs with the highest allowed cost of net paid claims in a plan year and their share
-- of the plan's drug cost that year.
-- Param year integer: plan year; empty for the latest year with claims
-- Param limit integer: how many drugs per plan
\if :{?year}
\else
\set year ''
\endif
\if :{?limit}
\else
\set limit 10
\endif
SELECT * FROM reporting.top_drugs_by_plan(nullif(:'year', '')::integer, :'limit');
