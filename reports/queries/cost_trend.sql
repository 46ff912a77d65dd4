-- Report: Cost trend with month-over-month and rolling 3-month change
-- Allowed cost of net paid claims per month, its change from the month before, and the rolling 3-month
-- cost (the month and the two before) with its change; with PMPM. Comparisons reach back before from.
-- Param from date: first month shown
-- Param to date: last month shown
-- Param plan text: plan code; empty for all plans together
-- Chart: x=month y=gross_cost,rolling_3m_avg_cost
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
SELECT * FROM reporting.cost_trend(:'from', :'to', nullif(:'plan', ''));
