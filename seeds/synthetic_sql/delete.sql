-- `pbm seed synthetic --replace`: removes the synthetic dataset of this database, and what other areas
-- derived from it (adjudicated claims, accumulators, PA events, M3P elections, ledger, statements and
-- payments, DE-SynPUF events of synthetic members), in foreign-key order.
-- Synthetic rows: codes starting SYN- (plans, formularies, networks, contracts, MAC lists), cardholder ids
-- starting SYN, batches with source 'synthetic', and the keys in pbm_meta.synthetic_keys (drugs,
-- pharmacies, prescribers). A row of another area that still refers to them stops this with a foreign
-- key error (nothing is deleted then).

CREATE TEMP TABLE _syn_old_members ON COMMIT DROP AS
SELECT m.member_id
FROM member.members AS m
WHERE m.cardholder_id LIKE 'SYN%';

CREATE TEMP TABLE _syn_old_keys ON COMMIT DROP AS
SELECT
    k.key_type,
    k.key_value
FROM pbm_meta.synthetic_keys AS k;

CREATE TEMP TABLE _syn_old_batches ON COMMIT DROP AS
SELECT b.batch_id
FROM claims.batches AS b
WHERE b.source = 'synthetic';

DELETE FROM claims.claims AS c
WHERE
    c.batch_id IN (SELECT o.batch_id FROM _syn_old_batches AS o)
    OR c.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM claims.accumulators AS a
WHERE a.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM claims.prior_authorization_events AS e
WHERE e.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM claims.prior_authorizations AS pa
WHERE pa.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

-- M3P: deleting the claims above wrote ledger entries for the program amounts; all of it goes.
DELETE FROM ppp.unbilled AS u
WHERE u.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.ledger AS l
WHERE l.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.payment_allocations AS a
WHERE a.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.refunds AS r
WHERE r.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.payments AS p
WHERE p.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.preclusions AS p
WHERE p.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.election_events AS e
WHERE e.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.elections AS e
WHERE e.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.statements AS s
WHERE s.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM ppp.plan_options AS o
WHERE o.plan_id IN (
    SELECT p.plan_id FROM plan.plans AS p
    WHERE p.plan_code LIKE 'SYN-%'
);

DELETE FROM claims.prescription_drug_events AS e
WHERE e.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM pbm_meta.synthetic_problem_claims;
DELETE FROM pbm_meta.synthetic_keys;
DELETE FROM pbm_meta.synthetic_runs;

DELETE FROM claims.batch_claims AS bc
WHERE bc.batch_id IN (SELECT o.batch_id FROM _syn_old_batches AS o);

DELETE FROM claims.batches AS b
WHERE b.batch_id IN (SELECT o.batch_id FROM _syn_old_batches AS o);

DELETE FROM member.coverage_spans AS s
WHERE s.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM member.member_history AS h
WHERE h.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM member.members AS m
WHERE m.member_id IN (SELECT o.member_id FROM _syn_old_members AS o);

DELETE FROM network.participations AS pt
WHERE
    pt.network_id IN (
        SELECT n.network_id FROM network.networks AS n
        WHERE n.network_code LIKE 'SYN-%'
    )
    OR pt.pharmacy_id IN (
        SELECT ph.pharmacy_id
        FROM network.pharmacies AS ph
        INNER JOIN _syn_old_keys AS k ON k.key_type = 'pharmacy_npi' AND ph.npi = k.key_value
    );

DELETE FROM network.pharmacies AS ph
USING _syn_old_keys AS k
WHERE k.key_type = 'pharmacy_npi' AND ph.npi = k.key_value;

DELETE FROM network.prescribers AS pr
USING _syn_old_keys AS k
WHERE k.key_type = 'prescriber_npi' AND pr.npi = k.key_value;

DELETE FROM plan.tier_cost_shares AS t
WHERE t.benefit_design_id IN (
    SELECT d.benefit_design_id
    FROM plan.benefit_designs AS d
    INNER JOIN plan.plans AS p ON d.plan_id = p.plan_id
    WHERE p.plan_code LIKE 'SYN-%'
);

DELETE FROM plan.benefit_designs AS d
WHERE d.plan_id IN (
    SELECT p.plan_id FROM plan.plans AS p
    WHERE p.plan_code LIKE 'SYN-%'
);

DELETE FROM plan.plans AS p
WHERE p.plan_code LIKE 'SYN-%';

DELETE FROM plan.formulary_entries AS e
WHERE
    e.formulary_id IN (
        SELECT f.formulary_id FROM plan.formularies AS f
        WHERE f.formulary_code LIKE 'SYN-%'
    );

DELETE FROM plan.formularies AS f
WHERE f.formulary_code LIKE 'SYN-%';

DELETE FROM network.networks AS n
WHERE n.network_code LIKE 'SYN-%';

DELETE FROM network.contracts AS c
WHERE c.contract_code LIKE 'SYN-%';

DELETE FROM drug.prices AS p
USING _syn_old_keys AS k
WHERE k.key_type = 'ndc11' AND p.ndc11 = k.key_value;

DELETE FROM drug.prices AS p
WHERE p.mac_list_id IN (
    SELECT m.mac_list_id FROM drug.mac_lists AS m
    WHERE m.mac_list_code LIKE 'SYN-%'
);

DELETE FROM drug.mac_lists AS m
WHERE m.mac_list_code LIKE 'SYN-%';

DELETE FROM drug.drugs AS d
USING _syn_old_keys AS k
WHERE k.key_type = 'ndc11' AND d.ndc11 = k.key_value;
