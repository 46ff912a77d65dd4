-- Medicare Prescription Payment Plan (M3P) elections: the participation periods adjudication reads.
-- The M3P area extends this table (notices, renewals, preclusion) in later migrations.

CREATE TABLE ppp.elections (
    election_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES member.members (member_id),
    plan_year smallint NOT NULL CONSTRAINT elections_plan_year_from_2025 CHECK (plan_year >= 2025),
    source text NOT NULL CONSTRAINT elections_source_is_known CHECK (
        source IN ('phone', 'web', 'mail', 'point_of_sale', 'renewal')
    ),
    received_at timestamptz NOT NULL,
    effective_date date NOT NULL,
    end_date date,
    status text NOT NULL DEFAULT 'active' CONSTRAINT elections_status_is_known CHECK (
        status IN ('active', 'opted_out', 'terminated', 'ended')
    ),
    CONSTRAINT elections_effective_in_plan_year CHECK (extract(YEAR FROM effective_date) = plan_year),
    CONSTRAINT elections_end_in_plan_year CHECK (
        end_date IS NULL OR (end_date >= effective_date AND extract(YEAR FROM end_date) = plan_year)
    ),
    CONSTRAINT elections_do_not_overlap EXCLUDE USING gist (
        member_id WITH =, daterange(effective_date, end_date, '[]') WITH &&
    )
);
COMMENT ON TABLE ppp.elections IS
'PHI. M3P elections: a member participates from effective_date to end_date (inclusive; NULL = to the end of the plan year). On those dates the pharmacy collects $0 and the cost share moves into the program.';
COMMENT ON COLUMN ppp.elections.source IS 'How the election arrived: phone, web, mail, point_of_sale (urgent) or renewal (automatic, 2026+)';
COMMENT ON COLUMN ppp.elections.received_at IS 'When the plan received the election request';
COMMENT ON COLUMN ppp.elections.effective_date IS
'First day of participation: January 1 for elections received before the plan year, else within 24 hours of receipt';
COMMENT ON COLUMN ppp.elections.end_date IS 'Last day of participation (opt-out or termination); NULL = through December 31';
