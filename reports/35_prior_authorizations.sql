-- Prior authorization requests (pseudonymous) and their turnaround: decision time against the due time
-- (72 hours standard, 24 hours expedited), and the requests still without a decision.

DROP FUNCTION IF EXISTS reporting.pa_turnaround(date, date);
DROP FUNCTION IF EXISTS reporting.pa_overdue(timestamptz, integer);
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_pa_turnaround;
DROP MATERIALIZED VIEW IF EXISTS reporting.fact_prior_authorizations;

CREATE MATERIALIZED VIEW reporting.fact_prior_authorizations AS
SELECT
    reporting_private.pseudonym(k.secret, 'pa', pa.prior_authorization_id) AS pa_key,
    mk.member_key,
    pa.drug_group,
    pa.urgency,
    pa.status,
    pa.received_at,
    date_trunc('month', pa.received_at)::date AS received_month,
    pa.due_at,
    pa.decided_at,
    pa.decided_at IS NOT NULL AS is_decided,
    round(extract(EPOCH FROM pa.decided_at - pa.received_at) / 3600, 2) AS turnaround_hours,
    pa.decided_at <= pa.due_at AS decided_on_time,
    pa.status IN ('approved', 'partially_approved', 'expired', 'revoked') AS was_approved,
    pa.status = 'denied' AS was_denied,
    pa.effective_date,
    pa.expiration_date
FROM claims.prior_authorizations AS pa
CROSS JOIN reporting_private.pseudonym_key AS k
LEFT JOIN reporting_private.member_keys AS mk ON pa.member_id = mk.member_id;
CREATE UNIQUE INDEX fact_prior_authorizations_key_idx ON reporting.fact_prior_authorizations (pa_key);
CREATE INDEX fact_prior_authorizations_open_idx ON reporting.fact_prior_authorizations (due_at)
WHERE decided_at IS NULL;
COMMENT ON MATERIALIZED VIEW reporting.fact_prior_authorizations IS
'Prior authorization requests, de-identified: one row per request with its urgency, status, timestamps and turnaround. Overdue = no decision and due_at before the moment asked about (as of the last refresh).';
COMMENT ON COLUMN reporting.fact_prior_authorizations.pa_key IS 'Pseudonym of the request (keyed hash, 16 hex digits)';
COMMENT ON COLUMN reporting.fact_prior_authorizations.member_key IS 'Member pseudonym (dim_member)';
COMMENT ON COLUMN reporting.fact_prior_authorizations.drug_group IS 'Drug group the request covers (dim_drug.drug_group)';
COMMENT ON COLUMN reporting.fact_prior_authorizations.urgency IS 'standard (decision due in 72 hours) or expedited (24 hours)';
COMMENT ON COLUMN reporting.fact_prior_authorizations.status IS
'received, pended_info, in_review, approved, partially_approved, denied, withdrawn, expired or revoked';
COMMENT ON COLUMN reporting.fact_prior_authorizations.received_at IS 'When the request was received';
COMMENT ON COLUMN reporting.fact_prior_authorizations.received_month IS 'First day of the month of receipt';
COMMENT ON COLUMN reporting.fact_prior_authorizations.due_at IS 'When the decision is due';
COMMENT ON COLUMN reporting.fact_prior_authorizations.decided_at IS 'When it was decided; NULL = still open';
COMMENT ON COLUMN reporting.fact_prior_authorizations.is_decided IS 'A decision was made';
COMMENT ON COLUMN reporting.fact_prior_authorizations.turnaround_hours IS 'Hours from receipt to decision';
COMMENT ON COLUMN reporting.fact_prior_authorizations.decided_on_time IS 'Decided no later than due_at';
COMMENT ON COLUMN reporting.fact_prior_authorizations.was_approved IS 'Approved in full or in part (including approvals since expired or revoked)';
COMMENT ON COLUMN reporting.fact_prior_authorizations.was_denied IS 'Denied';
COMMENT ON COLUMN reporting.fact_prior_authorizations.effective_date IS 'First day the approval applies';
COMMENT ON COLUMN reporting.fact_prior_authorizations.expiration_date IS 'Last day the approval applies';

CREATE MATERIALIZED VIEW reporting.monthly_pa_turnaround AS
SELECT
    pa.received_month,
    pa.urgency,
    count(*) AS requests,
    count(*) FILTER (WHERE pa.is_decided) AS decided,
    count(*) FILTER (WHERE pa.was_approved) AS approved,
    count(*) FILTER (WHERE pa.was_denied) AS denied,
    count(*) FILTER (WHERE pa.decided_on_time) AS decided_on_time,
    count(*) FILTER (WHERE NOT pa.decided_on_time) AS decided_late,
    count(*) FILTER (WHERE NOT pa.is_decided) AS open_requests,
    round(100.0 * count(*) FILTER (WHERE pa.decided_on_time) / nullif(count(*) FILTER (WHERE pa.is_decided), 0), 2)
        AS on_time_pct,
    round(avg(pa.turnaround_hours), 2) AS avg_turnaround_hours,
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY pa.turnaround_hours))::numeric, 2) AS median_turnaround_hours,
    round((percentile_cont(0.9) WITHIN GROUP (ORDER BY pa.turnaround_hours))::numeric, 2) AS p90_turnaround_hours,
    max(pa.turnaround_hours) AS max_turnaround_hours
FROM reporting.fact_prior_authorizations AS pa
GROUP BY pa.received_month, pa.urgency;
CREATE UNIQUE INDEX monthly_pa_turnaround_key_idx ON reporting.monthly_pa_turnaround (received_month, urgency);
COMMENT ON MATERIALIZED VIEW reporting.monthly_pa_turnaround IS
'Prior authorization turnaround per month of receipt and urgency: requests, decisions, approvals, denials, on-time rate and turnaround hours (average, median, 90th percentile, maximum of decided requests).';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.received_month IS 'First day of the month of receipt';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.urgency IS 'standard or expedited';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.requests IS 'Requests received';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.decided IS 'Requests decided';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.approved IS 'Approved in full or in part';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.denied IS 'Denied';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.decided_on_time IS 'Decided no later than due';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.decided_late IS 'Decided after due';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.open_requests IS 'Still without a decision at the last refresh';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.on_time_pct IS '100 x decided on time / decided';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.avg_turnaround_hours IS 'Average hours from receipt to decision';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.median_turnaround_hours IS 'Median hours from receipt to decision';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.p90_turnaround_hours IS '90th percentile (interpolated) of hours to decision';
COMMENT ON COLUMN reporting.monthly_pa_turnaround.max_turnaround_hours IS 'Longest hours to decision';

CREATE FUNCTION reporting.pa_turnaround(
    p_from date DEFAULT '2000-01-01',
    p_to date DEFAULT '2099-12-31'
)
RETURNS TABLE (
    received_month date,
    urgency text,
    requests bigint,
    decided bigint,
    approved bigint,
    denied bigint,
    decided_on_time bigint,
    decided_late bigint,
    open_requests bigint,
    on_time_pct numeric,
    avg_turnaround_hours numeric,
    median_turnaround_hours numeric,
    p90_turnaround_hours numeric,
    max_turnaround_hours numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        t.received_month,
        t.urgency,
        t.requests,
        t.decided,
        t.approved,
        t.denied,
        t.decided_on_time,
        t.decided_late,
        t.open_requests,
        t.on_time_pct,
        t.avg_turnaround_hours,
        t.median_turnaround_hours,
        t.p90_turnaround_hours,
        t.max_turnaround_hours
    FROM reporting.monthly_pa_turnaround AS t
    WHERE t.received_month BETWEEN date_trunc('month', p_from::timestamp)::date AND p_to
    ORDER BY t.received_month, t.urgency;
END;
COMMENT ON FUNCTION reporting.pa_turnaround(date, date) IS
'Prior authorization turnaround per month of receipt (months starting in p_from..p_to) and urgency: requests, decisions, approvals, denials, on time and late, still open, and hours to decision.';

CREATE FUNCTION reporting.pa_overdue(
    p_as_of timestamptz DEFAULT now(),
    p_limit integer DEFAULT 100
)
RETURNS TABLE (
    pa_key text,
    member_key text,
    drug_group text,
    urgency text,
    status text,
    received_at timestamptz,
    due_at timestamptz,
    hours_overdue numeric
)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        pa.pa_key,
        pa.member_key,
        pa.drug_group,
        pa.urgency,
        pa.status,
        pa.received_at,
        pa.due_at,
        round(extract(EPOCH FROM p_as_of - pa.due_at) / 3600, 2) AS hours_overdue
    FROM reporting.fact_prior_authorizations AS pa
    WHERE pa.decided_at IS NULL AND pa.due_at < p_as_of
    ORDER BY pa.due_at, pa.pa_key
    LIMIT reporting.row_limit(p_limit);
END;
COMMENT ON FUNCTION reporting.pa_overdue(timestamptz, integer) IS
'Prior authorization requests overdue at p_as_of (default now): no decision (as of the last refresh) and due before p_as_of; longest overdue first, at most p_limit rows.';
