-- Report: Total claims cost by period
-- Claims submitted, paid and rejected, and the allowed, ingredient, fee, plan and member amounts of net paid
-- claims per day, week (ISO, from Monday), month, quarter or year of service.
-- Param period choice(day|week|month|quarter|year): length of the periods
-- Param from date: first date of service
-- Param to date: last date of service
-- Param plan text: plan code; empty for all plans
-- Chart: x=period_start y=gross_cost,plan_paid,member_paid kind=bar
\if :{?period}
\else
\set period month
\endif
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
SELECT * FROM reporting.cost_by_period(:'period', :'from', :'to', nullif(:'plan', ''));
