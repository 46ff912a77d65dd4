-- CMS DE-SynPUF: where its Prescription Drug Events go (docs/decisions/0008-desynpuf-pde-table.md) and
-- the SSA state codes of its Beneficiary Summary files.

CREATE TABLE claims.prescription_drug_events (
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    pde_id bigint NOT NULL CONSTRAINT prescription_drug_events_pde_id_positive CHECK (pde_id > 0),
    source text NOT NULL DEFAULT 'desynpuf' CONSTRAINT prescription_drug_events_source_is_known CHECK (
        source IN ('desynpuf')
    ),
    date_of_service date NOT NULL,
    product_id char(11) NOT NULL CONSTRAINT prescription_drug_events_product_id_is_11_digits CHECK (
        product_id ~ '^[0-9]{11}$'
    ),
    quantity_dispensed numeric(12, 3) NOT NULL CONSTRAINT prescription_drug_events_quantity_not_negative CHECK (
        quantity_dispensed >= 0
    ),
    days_supply smallint NOT NULL CONSTRAINT prescription_drug_events_days_supply_0_to_365 CHECK (
        days_supply BETWEEN 0 AND 365
    ),
    patient_pay_amount numeric(12, 2) NOT NULL CONSTRAINT prescription_drug_events_patient_pay_not_negative CHECK (
        patient_pay_amount >= 0
    ),
    gross_drug_cost numeric(12, 2) NOT NULL CONSTRAINT prescription_drug_events_gross_cost_not_negative CHECK (
        gross_drug_cost >= 0
    ),
    etl_batch_id bigint NOT NULL REFERENCES etl.batches (batch_id),
    PRIMARY KEY (member_id, pde_id)
);
COMMENT ON TABLE claims.prescription_drug_events IS
'PHI. Part D prescription drug events adjudicated elsewhere (CMS DE-SynPUF): what was filled and what it cost, with no pharmacy, prescriber or BIN. History for analysis; never adjudicated, never moves accumulators.';
COMMENT ON COLUMN claims.prescription_drug_events.member_id IS 'The member (DE-SynPUF beneficiary: cardholder ID = DESYNPUF_ID)';
COMMENT ON COLUMN claims.prescription_drug_events.pde_id IS 'PDE PDE_ID: CCW Part D Event Number';
COMMENT ON COLUMN claims.prescription_drug_events.source IS 'Where the events came from: desynpuf (CMS synthetic public use file)';
COMMENT ON COLUMN claims.prescription_drug_events.date_of_service IS 'PDE SRVC_DT: RX service date (NCPDP 401-D1)';
COMMENT ON COLUMN claims.prescription_drug_events.product_id IS
'PDE PROD_SRVC_ID: NDC-11 as given, left-padded with zeros to 11 digits (NCPDP 407-D7); not necessarily in drug.drugs';
COMMENT ON COLUMN claims.prescription_drug_events.quantity_dispensed IS 'PDE QTY_DSPNSD_NUM (NCPDP 442-E7)';
COMMENT ON COLUMN claims.prescription_drug_events.days_supply IS 'PDE DAYS_SUPLY_NUM (NCPDP 405-D5)';
COMMENT ON COLUMN claims.prescription_drug_events.patient_pay_amount IS 'PDE PTNT_PAY_AMT: patient pay (NCPDP 505-F5)';
COMMENT ON COLUMN claims.prescription_drug_events.gross_drug_cost IS 'PDE TOT_RX_CST_AMT: gross drug cost (total prescription cost)';
COMMENT ON COLUMN claims.prescription_drug_events.etl_batch_id IS 'The feed batch that loaded or last changed the event';
CREATE INDEX prescription_drug_events_batch_idx ON claims.prescription_drug_events (etl_batch_id);
CREATE INDEX prescription_drug_events_date_idx ON claims.prescription_drug_events (date_of_service);

CREATE TABLE etl.ssa_state_codes (
    ssa_state_code smallint PRIMARY KEY,
    name text NOT NULL,
    usps_code char(2) NOT NULL CONSTRAINT ssa_state_codes_usps_is_2_letters CHECK (usps_code ~ '^[A-Z]{2}$')
);
COMMENT ON TABLE etl.ssa_state_codes IS
'SSA state codes (CMS beneficiary STATE_CD, DE-SynPUF SP_STATE_CODE) and the USPS code stored in member.members.state. Source: https://bluebutton.cms.gov/resources/variables/state_cd . Codes 54-63 (abroad) have no USPS code and map to XX.';

INSERT INTO etl.ssa_state_codes (ssa_state_code, name, usps_code) VALUES
(1, 'Alabama', 'AL'), (2, 'Alaska', 'AK'), (3, 'Arizona', 'AZ'), (4, 'Arkansas', 'AR'),
(5, 'California', 'CA'), (6, 'Colorado', 'CO'), (7, 'Connecticut', 'CT'), (8, 'Delaware', 'DE'),
(9, 'District of Columbia', 'DC'), (10, 'Florida', 'FL'), (11, 'Georgia', 'GA'), (12, 'Hawaii', 'HI'),
(13, 'Idaho', 'ID'), (14, 'Illinois', 'IL'), (15, 'Indiana', 'IN'), (16, 'Iowa', 'IA'),
(17, 'Kansas', 'KS'), (18, 'Kentucky', 'KY'), (19, 'Louisiana', 'LA'), (20, 'Maine', 'ME'),
(21, 'Maryland', 'MD'), (22, 'Massachusetts', 'MA'), (23, 'Michigan', 'MI'), (24, 'Minnesota', 'MN'),
(25, 'Mississippi', 'MS'), (26, 'Missouri', 'MO'), (27, 'Montana', 'MT'), (28, 'Nebraska', 'NE'),
(29, 'Nevada', 'NV'), (30, 'New Hampshire', 'NH'), (31, 'New Jersey', 'NJ'), (32, 'New Mexico', 'NM'),
(33, 'New York', 'NY'), (34, 'North Carolina', 'NC'), (35, 'North Dakota', 'ND'), (36, 'Ohio', 'OH'),
(37, 'Oklahoma', 'OK'), (38, 'Oregon', 'OR'), (39, 'Pennsylvania', 'PA'), (40, 'Puerto Rico', 'PR'),
(41, 'Rhode Island', 'RI'), (42, 'South Carolina', 'SC'), (43, 'South Dakota', 'SD'), (44, 'Tennessee', 'TN'),
(45, 'Texas', 'TX'), (46, 'Utah', 'UT'), (47, 'Vermont', 'VT'), (48, 'Virgin Islands', 'VI'),
(49, 'Virginia', 'VA'), (50, 'Washington', 'WA'), (51, 'West Virginia', 'WV'), (52, 'Wisconsin', 'WI'),
(53, 'Wyoming', 'WY'), (54, 'Africa', 'XX'), (55, 'Asia', 'XX'), (56, 'Canada', 'XX'),
(57, 'Central America and West Indies', 'XX'), (58, 'Europe', 'XX'), (59, 'Mexico', 'XX'), (60, 'Oceania', 'XX'),
(61, 'Philippines', 'XX'), (62, 'South America', 'XX'), (63, 'US Possessions', 'XX'), (97, 'Saipan', 'MP'),
(98, 'Guam', 'GU'), (99, 'American Samoa', 'AS');
