-- The seed-dependent master data of `pbm seed synthetic` (database mode), from the staging tables:
-- prices, pharmacies and network participation, prescribers, members with encrypted MBIs (the session
-- must carry the PHI key) and their coverage. data_activity.sql follows once the claims are made.

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
