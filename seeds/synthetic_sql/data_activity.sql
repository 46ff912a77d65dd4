-- `pbm seed synthetic` (database mode), after data_people.sql: prior authorizations with their events,
-- and M3P elections, from the staging tables.

INSERT INTO claims.prior_authorizations (
    pa_number, member_id, drug_group, prescriber_npi, urgency, status, received_at, due_at, decided_at,
    decision_reason, effective_date, expiration_date, approved_quantity
)
SELECT
    s.pa_number,
    m.member_id,
    s.drug_group,
    s.prescriber_npi,
    s.urgency,
    s.status,
    s.received_at,
    s.due_at,
    s.decided_at,
    s.decision_reason,
    s.effective_date,
    s.expiration_date,
    s.approved_quantity
FROM _syn_prior_authorizations AS s
INNER JOIN member.members AS m ON s.cardholder_id = m.cardholder_id AND s.person_code = m.person_code
ORDER BY s.ord;

-- Each decided request went received -> in_review -> its decision.
INSERT INTO claims.prior_authorization_events (
    prior_authorization_id, member_id, occurred_at, from_status, to_status, note
)
SELECT
    pa.prior_authorization_id,
    pa.member_id,
    e.occurred_at,
    e.from_status,
    e.to_status,
    e.note
FROM _syn_prior_authorizations AS s
INNER JOIN claims.prior_authorizations AS pa ON s.pa_number = pa.pa_number
CROSS JOIN
    LATERAL (
        VALUES
        (1, pa.received_at, NULL, 'received', 'request received'),
        (2, pa.received_at + (pa.decided_at - pa.received_at) / 4, 'received', 'in_review', 'clinical review'),
        (3, pa.decided_at, 'in_review', pa.status, pa.decision_reason)
    ) AS e (step, occurred_at, from_status, to_status, note)
ORDER BY s.ord, e.step;

-- M3P elections, set-based, with the effect ppp.elect and ppp.opt_out have for members without claims,
-- earlier elections or preclusions (tests/python/test_synthetic.py compares the two): effective January 1
-- when received before the plan year, else the day processed (at most 24 hours after receipt); the Part D
-- plan of that day; the acceptance notice the day processed; an 'elected' event.
CREATE TEMP TABLE _syn_new_elections ON COMMIT DROP AS
SELECT
    s.ord,
    m.member_id,
    s.plan_year,
    s.source,
    s.received_at,
    s.processed_at,
    s.opt_out_received_at,
    CASE
        WHEN s.plan_year = extract(YEAR FROM s.received_at) + 1 THEN make_date(s.plan_year, 1, 1)
        ELSE least(s.processed_at, s.received_at + interval '24 hours')::date
    END AS effective_date
FROM _syn_m3p_elections AS s
INNER JOIN member.members AS m ON s.cardholder_id = m.cardholder_id AND s.person_code = m.person_code;

INSERT INTO ppp.elections (
    member_id, plan_year, source, received_at, processed_at, effective_date, plan_id, acceptance_notice_on
)
SELECT
    e.member_id,
    e.plan_year,
    e.source,
    e.received_at,
    e.processed_at,
    e.effective_date,
    ppp._part_d_plan_on(e.member_id, e.effective_date) AS plan_id,
    e.processed_at::date AS acceptance_notice_on
FROM _syn_new_elections AS e
ORDER BY e.ord;

INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
SELECT
    e.member_id,
    pe.election_id,
    e.plan_year,
    'elected' AS event_type,
    e.processed_at,
    jsonb_build_object('source', e.source, 'received_at', e.received_at, 'effective_date', e.effective_date)
        AS detail
FROM _syn_new_elections AS e
INNER JOIN ppp.elections AS pe ON e.member_id = pe.member_id AND e.plan_year = pe.plan_year
ORDER BY e.ord;

-- Opt-outs: participation ends the day the request arrived.
UPDATE ppp.elections AS pe
SET
    status = 'opted_out',
    termination_reason = 'voluntary',
    end_date = e.opt_out_received_at::date,
    termination_requested_at = e.opt_out_received_at,
    termination_notice_on = e.opt_out_received_at::date,
    auto_renew = FALSE
FROM _syn_new_elections AS e
WHERE
    e.member_id = pe.member_id AND e.plan_year = pe.plan_year AND e.opt_out_received_at IS NOT NULL
    AND e.opt_out_received_at::date >= pe.effective_date;

INSERT INTO ppp.election_events (member_id, election_id, plan_year, event_type, occurred_at, detail)
SELECT
    e.member_id,
    pe.election_id,
    e.plan_year,
    'opted_out' AS event_type,
    e.opt_out_received_at,
    jsonb_build_object('end_date', e.opt_out_received_at::date) AS detail
FROM _syn_new_elections AS e
INNER JOIN ppp.elections AS pe ON e.member_id = pe.member_id AND e.plan_year = pe.plan_year
WHERE pe.status = 'opted_out'
ORDER BY e.ord;
