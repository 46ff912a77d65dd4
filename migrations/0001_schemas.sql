-- The PostgreSQL schemas of pbmdb (one namespace per area) and the contrib extensions it relies on.
-- Extensions live in public so every schema can reach them with schema-qualified names.

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

CREATE SCHEMA IF NOT EXISTS ref;
COMMENT ON SCHEMA ref IS
'Code sets and yearly parameters: NCPDP reject, DAW and DUR codes, basis of reimbursement, Part D parameters by year.';

CREATE SCHEMA IF NOT EXISTS plan;
COMMENT ON SCHEMA plan IS
'Benefit plans, benefit designs (phases, tiers, copay/coinsurance), formularies and utilization management rules.';

CREATE SCHEMA IF NOT EXISTS member;
COMMENT ON SCHEMA member IS
'PHI: members, coverage (eligibility) spans, identifiers and demographic history.';

CREATE SCHEMA IF NOT EXISTS drug;
COMMENT ON SCHEMA drug IS
'Drug catalog by NDC-11 and drug prices (AWP, WAC, NADAC, MAC) with effective dates.';

CREATE SCHEMA IF NOT EXISTS network;
COMMENT ON SCHEMA network IS
'Pharmacies, prescribers, network participation and contract pricing terms.';

CREATE SCHEMA IF NOT EXISTS claims;
COMMENT ON SCHEMA claims IS
'PHI: claims (partitioned by month), accumulators, prior authorizations and adjudication internals.';

CREATE SCHEMA IF NOT EXISTS ppp;
COMMENT ON SCHEMA ppp IS
'PHI: Medicare Prescription Payment Plan (M3P) elections, monthly statements and payments.';

CREATE SCHEMA IF NOT EXISTS etl;
COMMENT ON SCHEMA etl IS
'Feed batches, text staging tables and per-row rejects of the nightly loads.';

CREATE SCHEMA IF NOT EXISTS audit;
COMMENT ON SCHEMA audit IS
'Append-only log of changes to PHI and plan configuration, and of PHI reads through api functions.';

CREATE SCHEMA IF NOT EXISTS reporting;
COMMENT ON SCHEMA reporting IS
'De-identified, documented views and materialized views for analysts and BI tools.';

CREATE SCHEMA IF NOT EXISTS api;
COMMENT ON SCHEMA api IS
'The public functions that roles are granted EXECUTE on (adjudication, eligibility, M3P, lookups).';

CREATE SCHEMA IF NOT EXISTS pbm_meta;
COMMENT ON SCHEMA pbm_meta IS
'Tooling bookkeeping: yoyo migration records and checksums of applied repeatable files.';

CREATE TABLE pbm_meta.repeatables (
    file_path text PRIMARY KEY,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pbm_meta.repeatables IS
'One row per repeatable SQL file (procedures/, security/, reports/): checksum when last applied by pbm db migrate.';
