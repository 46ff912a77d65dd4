-- The seed-dependent synthetic data (database mode of `pbm seed synthetic`), from the staging tables:
-- prices, pharmacies and network participation, prescribers, members with encrypted MBIs (the session
-- must carry the PHI key) and coverage, prior authorizations with their events, M3P elections.

INSERT INTO drug.prices (ndc11, price_type, mac_list_id, unit_price, effective_date, end_date)
SELECT
    s.ndc11,
    s.price_type,
    m.mac_list_id,
    s.unit_price,
    s.effective_date,
    s.end_date
FROM _syn_drug_prices AS s
LEFT JOIN drug.mac_lists AS m ON s.mac_list_code = m.mac_list_code
ORDER BY s.ord;

INSERT INTO network.pharmacies (npi, ncpdp_id, name, address_line1, city, state, zip5, pharmacy_type)
SELECT
    s.npi,
    s.ncpdp_id,
    s.name,
    s.address_line1,
    s.city,
    s.state,
    s.zip5,
    s.pharmacy_type
FROM _syn_pharmacies AS s
ORDER BY s.ord;

INSERT INTO network.participations (network_id, pharmacy_id, contract_id, effective_date, termination_date)
SELECT
    n.network_id,
    ph.pharmacy_id,
    c.contract_id,
    s.effective_date,
    s.termination_date
FROM _syn_network AS s
INNER JOIN network.networks AS n ON s.network_code = n.network_code
INNER JOIN network.pharmacies AS ph ON s.pharmacy_npi = ph.npi
INNER JOIN network.contracts AS c ON s.contract_code = c.contract_code
ORDER BY s.ord;

INSERT INTO network.prescribers (npi, dea_number, first_name, last_name, specialty, state, deactivated_on)
SELECT
    s.npi,
    s.dea_number,
    s.first_name,
    s.last_name,
    s.specialty,
    s.state,
    s.deactivated_on
FROM _syn_prescribers AS s
ORDER BY s.ord;

INSERT INTO member.members (
    cardholder_id, person_code, relationship_code, first_name, last_name, date_of_birth, gender, address_line1,
    city, state, zip5, mbi_encrypted, mbi_hash
)
SELECT
    s.cardholder_id,
    s.person_code,
    s.relationship_code,
    s.first_name,
    s.last_name,
    s.date_of_birth,
    s.gender,
    s.address_line1,
    s.city,
    s.state,
    s.zip5,
    member.encrypt_phi(s.mbi) AS mbi_encrypted,
    CASE WHEN s.mbi IS NOT NULL THEN member.mbi_hash(s.mbi) END AS mbi_hash
FROM _syn_members AS s
ORDER BY s.ord;

INSERT INTO member.coverage_spans (member_id, plan_id, effective_date, termination_date, termination_reason)
SELECT
    m.member_id,
    p.plan_id,
    s.coverage_effective_date,
    s.coverage_termination_date,
    s.termination_reason
FROM _syn_coverage AS s
INNER JOIN member.members AS m ON s.cardholder_id = m.cardholder_id AND s.person_code = m.person_code
INNER JOIN plan.plans AS p ON s.plan_code = p.plan_code
ORDER BY s.ord;

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
