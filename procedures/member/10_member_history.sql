-- Demographic history of members (SCD type 2), kept set-based by statement-level triggers with
-- transition tables so a nightly eligibility MERGE of 100,000 members is one INSERT and one UPDATE here.

CREATE OR REPLACE FUNCTION member.history_effective_date()
RETURNS date
LANGUAGE sql
STABLE
RETURN coalesce(nullif(current_setting('pbm.effective_date', TRUE), '')::date, current_date);
COMMENT ON FUNCTION member.history_effective_date() IS
'The day a demographic change takes effect: setting pbm.effective_date (a feed''s file date) or today.';

CREATE OR REPLACE FUNCTION member.record_history_on_insert()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO member.member_history (
        member_id, valid_from, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5
    )
    SELECT n.member_id, member.history_effective_date(), n.first_name, n.last_name, n.date_of_birth, n.gender,
        n.address_line1, n.city, n.state, n.zip5
    FROM new_rows AS n;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION member.record_history_on_insert() IS 'Trigger: the first demographic version of new members.';

CREATE OR REPLACE FUNCTION member.record_history_on_update()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_effective date := member.history_effective_date();
BEGIN
    -- A second change on the same day replaces that day's version instead of leaving an empty range.
    DELETE FROM member.member_history AS h
    USING new_rows AS n, old_rows AS o
    WHERE n.member_id = o.member_id AND h.member_id = n.member_id
        AND h.valid_to = 'infinity' AND h.valid_from >= v_effective
        AND (n.first_name, n.last_name, n.date_of_birth, n.gender, n.address_line1, n.city, n.state, n.zip5)
        IS DISTINCT FROM (o.first_name, o.last_name, o.date_of_birth, o.gender, o.address_line1, o.city, o.state, o.zip5);

    UPDATE member.member_history AS h
    SET valid_to = v_effective
    FROM new_rows AS n, old_rows AS o
    WHERE n.member_id = o.member_id AND h.member_id = n.member_id AND h.valid_to = 'infinity'
        AND (n.first_name, n.last_name, n.date_of_birth, n.gender, n.address_line1, n.city, n.state, n.zip5)
        IS DISTINCT FROM (o.first_name, o.last_name, o.date_of_birth, o.gender, o.address_line1, o.city, o.state, o.zip5);

    INSERT INTO member.member_history (
        member_id, valid_from, first_name, last_name, date_of_birth, gender, address_line1, city, state, zip5
    )
    SELECT n.member_id, v_effective, n.first_name, n.last_name, n.date_of_birth, n.gender,
        n.address_line1, n.city, n.state, n.zip5
    FROM new_rows AS n
    INNER JOIN old_rows AS o ON n.member_id = o.member_id
    WHERE (n.first_name, n.last_name, n.date_of_birth, n.gender, n.address_line1, n.city, n.state, n.zip5)
        IS DISTINCT FROM (o.first_name, o.last_name, o.date_of_birth, o.gender, o.address_line1, o.city, o.state, o.zip5);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION member.record_history_on_update() IS
'Trigger: closes the current demographic version of members whose demographics changed and opens a new one from the effective date.';

CREATE OR REPLACE FUNCTION member.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION member.touch_updated_at() IS 'Trigger: stamps updated_at on every update of a member.';

CREATE OR REPLACE TRIGGER members_history_insert
AFTER INSERT ON member.members
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION member.record_history_on_insert();

CREATE OR REPLACE TRIGGER members_history_update
AFTER UPDATE ON member.members
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION member.record_history_on_update();

CREATE OR REPLACE TRIGGER members_touch_updated_at
BEFORE UPDATE ON member.members
FOR EACH ROW EXECUTE FUNCTION member.touch_updated_at();
