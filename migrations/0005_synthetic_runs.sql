-- Bookkeeping of `pbm seed synthetic` (seeds/synthetic.py): which synthetic dataset a database holds,
-- the keys of the rows it created that carry no marker of their own, and which claim requests were
-- generated to be rejected. One synthetic dataset per database; --replace removes it first.

CREATE TABLE pbm_meta.synthetic_runs (
    run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    generator_version text NOT NULL,
    seed bigint NOT NULL,
    members integer NOT NULL CONSTRAINT synthetic_runs_members_positive CHECK (members > 0),
    claims integer NOT NULL CONSTRAINT synthetic_runs_claims_not_negative CHECK (claims >= 0),
    plan_year smallint NOT NULL,
    problem_share numeric(5, 4) NOT NULL CONSTRAINT synthetic_runs_problem_share_is_a_fraction CHECK (
        problem_share BETWEEN 0 AND 1
    ),
    mode text NOT NULL CONSTRAINT synthetic_runs_mode_is_known CHECK (mode IN ('database', 'files')),
    batch_id bigint REFERENCES claims.batches (batch_id),
    loaded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT synthetic_runs_batch_only_in_database_mode CHECK (mode = 'database' OR batch_id IS NULL)
);
COMMENT ON TABLE pbm_meta.synthetic_runs IS
'The synthetic dataset this database holds (at most one row): the parameters of `pbm seed synthetic` that made it. mode database: everything was loaded; mode files: only the plan configuration and drug catalog were loaded, the rest went to feed files.';
COMMENT ON COLUMN pbm_meta.synthetic_runs.generator_version IS
'Version of seeds/synthetic.py: the same seed gives the same data only with the same version';
COMMENT ON COLUMN pbm_meta.synthetic_runs.batch_id IS 'The claims.batches row (source synthetic) holding the claim requests';

-- A constant expression index: a second row is refused.
CREATE UNIQUE INDEX synthetic_runs_one_per_database ON pbm_meta.synthetic_runs ((TRUE));

CREATE TABLE pbm_meta.synthetic_keys (
    run_id bigint NOT NULL REFERENCES pbm_meta.synthetic_runs (run_id),
    key_type text NOT NULL CONSTRAINT synthetic_keys_type_is_known CHECK (
        key_type IN ('ndc11', 'pharmacy_npi', 'prescriber_npi')
    ),
    key_value text NOT NULL,
    PRIMARY KEY (key_type, key_value)
);
COMMENT ON TABLE pbm_meta.synthetic_keys IS
'Keys of synthetic drugs, pharmacies and prescribers (rows without a SYN marker of their own), so --replace can remove them.';
CREATE INDEX synthetic_keys_run_idx ON pbm_meta.synthetic_keys (run_id);

CREATE TABLE pbm_meta.synthetic_problem_claims (
    run_id bigint NOT NULL REFERENCES pbm_meta.synthetic_runs (run_id),
    line_no integer NOT NULL,
    kind text NOT NULL CONSTRAINT synthetic_problem_claims_kind_is_known CHECK (
        kind IN (
            'unknown_cardholder', 'outside_coverage', 'out_of_network_pharmacy', 'unknown_ndc',
            'invalid_prescriber_npi', 'excluded_drug', 'missing_prior_authorization', 'over_quantity_limit'
        )
    ),
    PRIMARY KEY (run_id, line_no)
);
COMMENT ON TABLE pbm_meta.synthetic_problem_claims IS
'Claim requests generated to be rejected, by kind: line_no of claims.batch_claims in the run''s batch (mode database) or the data line of the claims feed file (mode files).';
