-- The de-identified member dimension, slowly changing type 2, from member.member_history.
-- Only de-identified attributes are kept (birth year, gender, state, ZIP3); consecutive history versions
-- that differ only in what is dropped (name, street, city, the rest of the ZIP) collapse into one version.

DROP MATERIALIZED VIEW IF EXISTS reporting.dim_member;
CREATE MATERIALIZED VIEW reporting.dim_member AS
WITH versions AS (
    SELECT
        k.member_key,
        h.valid_from,
        h.valid_to,
        h.date_of_birth,
        extract(YEAR FROM h.date_of_birth)::smallint AS year_of_birth,
        h.gender,
        h.state,
        reporting.zip3(h.zip5) AS zip3,
        concat_ws('|', extract(YEAR FROM h.date_of_birth), h.gender, h.state, reporting.zip3(h.zip5)) AS attributes
    FROM member.member_history AS h
    INNER JOIN reporting_private.member_keys AS k ON h.member_id = k.member_id
),

starts AS (
    SELECT
        v.*,
        CASE
            WHEN
                lag(v.valid_to) OVER w = v.valid_from
                AND lag(v.attributes) OVER w = v.attributes
                THEN 0
            ELSE 1
        END AS starts_version
    FROM versions AS v
    WINDOW w AS (PARTITION BY v.member_key ORDER BY v.valid_from)
),

numbered AS (
    SELECT
        s.*,
        sum(s.starts_version) OVER (
            PARTITION BY s.member_key ORDER BY s.valid_from ROWS UNBOUNDED PRECEDING
        )::integer AS member_version
    FROM starts AS s
)

SELECT
    n.member_key || '.' || n.member_version AS member_version_key,
    n.member_key,
    n.member_version,
    min(n.valid_from) AS valid_from,
    max(n.valid_to) AS valid_to,
    max(n.valid_to) = 'infinity' AS is_current,
    reporting.birth_year(max(n.date_of_birth), current_date) AS birth_year,
    reporting.age_band(max(n.date_of_birth), current_date) AS age_band,
    n.gender,
    n.state,
    n.zip3
FROM numbered AS n
GROUP BY n.member_key, n.member_version, n.year_of_birth, n.gender, n.state, n.zip3;
CREATE UNIQUE INDEX dim_member_version_key_idx ON reporting.dim_member (member_version_key);
CREATE UNIQUE INDEX dim_member_validity_idx ON reporting.dim_member (member_key, valid_from);
COMMENT ON MATERIALIZED VIEW reporting.dim_member IS
'De-identified member dimension, slowly changing type 2: one row per version of a member''s de-identified demographics (birth year, gender, state, ZIP3), from member.member_history. No names, addresses, full dates of birth, full ZIP codes or member ids. A claim belongs to the version with valid_from <= fact_claims.date_key < valid_to.';
COMMENT ON COLUMN reporting.dim_member.member_version_key IS 'Key of the version: member_key.member_version';
COMMENT ON COLUMN reporting.dim_member.member_key IS 'Member pseudonym (keyed hash, 16 hex digits; the same in every reporting view)';
COMMENT ON COLUMN reporting.dim_member.member_version IS 'Version number 1, 2, ... in date order';
COMMENT ON COLUMN reporting.dim_member.valid_from IS 'First day the version is in effect';
COMMENT ON COLUMN reporting.dim_member.valid_to IS 'First day it no longer is (exclusive); infinity for the current version';
COMMENT ON COLUMN reporting.dim_member.is_current IS 'The version in effect now';
COMMENT ON COLUMN reporting.dim_member.birth_year IS 'Year of birth; NULL when the member is 90 or older on the refresh day (Safe Harbor)';
COMMENT ON COLUMN reporting.dim_member.age_band IS 'Age band on the refresh day: 0-17, 18-34, 35-49, 50-64, 65-74, 75-84, 85-89, 90+';
COMMENT ON COLUMN reporting.dim_member.gender IS 'M, F or U (not specified)';
COMMENT ON COLUMN reporting.dim_member.state IS 'State of residence';
COMMENT ON COLUMN reporting.dim_member.zip3 IS 'First three digits of the ZIP code; 000 for three-digit areas of 20,000 people or fewer';
