-- Runbook: the monthly Medicare Prescription Payment Plan (M3P) billing run.
--
-- What: bills one month, as `pbm ppp bill` does and in one transaction: past-due processing as of the run date
--       (notices for unpaid statements, terminations after the grace period: ppp.process_past_due), then
--       ppp.run_billing for the month (one statement per participant or member still owing, reversal credits
--       applied); commits, prints the run, and fails (exit 3) when the M3P consistency check (ppp.check(),
--       ops.check_m3p_ledger()) finds anything afterwards.
-- When: monthly, on the first business day after the month ends (December in January), before the statements
--       are printed and mailed; months are billed in order.
-- How:  psql -X -v ON_ERROR_STOP=1 -d pbm -f sql/m3p_billing.sql -v month=2026-10
--           -v month=YYYY-MM         the month to bill (required)
--           -v run_date=2026-11-02   issue date of the statements (default today)
--       As the owner, pbm_admin or pbm_etl. Safe to re-run: re-billing a month writes only what is missing, and
--       nobody is billed twice; billing a month before one already billed is refused.
\if :{?month}
\else
\echo 'set the month to bill: -v month=YYYY-MM'
\quit
\endif
\if :{?run_date}
\else
\set run_date ''
\endif

BEGIN;

\echo '== past-due processing'
SELECT
    p.notices_sent,
    p.terminated,
    p.precluded,
    p.elections_cancelled
FROM ppp.process_past_due(coalesce(nullif(:'run_date', '')::date, current_date)) AS p;

\echo '== billing run'
SELECT
    b.run_id,
    b.billing_month,
    b.statements_written,
    b.participants,
    b.amount_billed,
    b.credits_issued
FROM ppp.run_billing(to_date(:'month', 'YYYY-MM'), coalesce(nullif(:'run_date', '')::date, current_date)) AS b;

COMMIT;

\echo '== M3P consistency (no row: consistent)'
SELECT
    c.check_name,
    c.key,
    c.detail
FROM ops.check_m3p_ledger() AS c
UNION ALL
SELECT
    c.check_name,
    c.key,
    c.detail
FROM ops.check_m3p_billing() AS c;

DO $$
BEGIN
    IF EXISTS (SELECT FROM ops.check_m3p_ledger()) OR EXISTS (SELECT FROM ops.check_m3p_billing()) THEN
        RAISE EXCEPTION 'the M3P consistency check found problems (listed above)'
            USING HINT = 'see docs/operations.md, "What to do on a finding"';
    END IF;
END;
$$;
