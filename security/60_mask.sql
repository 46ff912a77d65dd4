-- Non-production copies. pbm_meta.environment marks a database non-production (for this database name
-- and oid only, so a copy is production until marked again); security.mask replaces the identifying data
-- of such a database in place, consistently (one member gets one fake identity in every table), from
-- pools of fake values that `pbm db mask` makes with faker.

CREATE OR REPLACE FUNCTION security.environment()
RETURNS text
LANGUAGE sql
STABLE
RETURN coalesce(
    (
        SELECT e.environment
        FROM pbm_meta.environment AS e
        INNER JOIN pg_catalog.pg_database AS d ON e.database_oid = d.oid AND e.database_name = d.datname
        WHERE d.datname = current_database()
    ),
    'production'
);
COMMENT ON FUNCTION security.environment() IS
'production or non-production: the marker of pbm_meta.environment when it was set in this very database (same name and oid), else production.';

CREATE OR REPLACE FUNCTION security.set_environment(p_environment text, p_confirm_database text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_environment IS NULL OR p_environment NOT IN ('production', 'non-production') THEN
        RAISE EXCEPTION 'unknown environment %: production or non-production', coalesce(quote_literal(p_environment), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_environment = 'non-production' AND p_confirm_database IS DISTINCT FROM current_database() THEN
        RAISE EXCEPTION 'marking database % non-production needs its name as confirmation', current_database()
            USING ERRCODE = '22023',
            DETAIL = 'A non-production database may be masked: its names, birth dates, addresses and identifiers replaced.',
            HINT = format('SELECT security.set_environment(''non-production'', %L)', current_database());
    END IF;
    INSERT INTO pbm_meta.environment AS e (environment, database_name, database_oid)
    SELECT p_environment, d.datname, d.oid
    FROM pg_catalog.pg_database AS d
    WHERE d.datname = current_database()
    ON CONFLICT (singleton) DO UPDATE
        SET
            environment = excluded.environment,
            database_name = excluded.database_name,
            database_oid = excluded.database_oid,
            marked_at = now(),
            marked_by = session_user,
            masked_at = CASE WHEN excluded.environment = 'non-production' THEN e.masked_at END;
    RETURN security.environment();
END;
$$;
COMMENT ON FUNCTION security.set_environment(text, text) IS
'Marks this database production or non-production; non-production needs the database name as p_confirm_database. Owner or superuser only (pbm_meta is theirs).';

-- Every column of the PHI schemas that looks identifying must be listed here with what the mask does to
-- it: security.mask refuses to run while one is not, so a table added later is not left unmasked.
CREATE OR REPLACE FUNCTION security.mask_columns()
RETURNS TABLE (schema_name name, table_name name, column_name name, treatment text)
LANGUAGE sql
IMMUTABLE
BEGIN ATOMIC
    SELECT
        v.schema_name::name,
        v.table_name::name,
        v.column_name::name,
        v.treatment
    FROM (
        VALUES
        ('member', 'members', 'first_name', 'fake first name of the member''s gender'),
        ('member', 'members', 'last_name', 'fake last name'),
        ('member', 'members', 'date_of_birth', 'shifted by up to a year, the same shift everywhere'),
        ('member', 'members', 'address_line1', 'fake street address'),
        ('member', 'members', 'city', 'fake city of the same state'),
        ('member', 'members', 'zip5', 'fake ZIP code of the same state'),
        ('member', 'members', 'cardholder_id', 'mapped to a new identifier, the same everywhere'),
        ('member', 'members', 'mbi_encrypted', 'fake MBI encrypted under the session key'),
        ('member', 'members', 'mbi_hash', 'keyed hash of the fake MBI'),
        ('member', 'member_history', 'first_name', 'the member''s fake first name'),
        ('member', 'member_history', 'last_name', 'the member''s fake last name'),
        ('member', 'member_history', 'date_of_birth', 'the member''s shifted date of birth'),
        ('member', 'member_history', 'address_line1', 'fake street address per version'),
        ('member', 'member_history', 'city', 'fake city per version'),
        ('member', 'member_history', 'zip5', 'fake ZIP code per version'),
        ('claims', 'claims', 'cardholder_id', 'mapped identifier'),
        ('claims', 'claims', 'patient_date_of_birth', 'the member''s shifted date of birth'),
        ('claims', 'claims', 'rx_number', 'mapped per pharmacy'),
        ('claims', 'batch_claims', 'cardholder_id', 'mapped identifier'),
        ('claims', 'batch_claims', 'patient_date_of_birth', 'the member''s shifted date of birth'),
        ('claims', 'batch_claims', 'rx_number', 'mapped per pharmacy'),
        ('claims', 'batches', 'file_name', 'kept: a feed file name, not about a person'),
        ('claims', 'prior_authorizations', 'decision_reason', 'replaced by a fixed text'),
        ('claims', 'prior_authorization_events', 'note', 'replaced by a fixed text'),
        ('claims_archive', NULL, 'cardholder_id', 'mapped identifier'),
        ('claims_archive', NULL, 'patient_date_of_birth', 'the member''s shifted date of birth'),
        ('claims_archive', NULL, 'rx_number', 'mapped per pharmacy'),
        ('etl', 'rejects', 'value', 'replaced by a fixed text (it holds values, or whole lines, as received)'),
        ('etl', 'rejects', 'detail', 'replaced by a fixed text (it may quote other lines)'),
        ('etl', 'rejects', 'column_name', 'kept: a layout column name'),
        ('etl', 'batches', 'file_name', 'kept: a feed file name, not about a person'),
        ('etl', 'ssa_state_codes', 'name', 'kept: state names')
    ) AS v (schema_name, table_name, column_name, treatment);
END;
COMMENT ON FUNCTION security.mask_columns() IS
'The identifying columns security.mask knows and what it does to each (table_name NULL = every table of the schema).';

CREATE OR REPLACE FUNCTION security.unmasked_columns()
RETURNS TABLE (schema_name name, table_name name, column_name name)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT
        n.nspname,
        c.relname,
        a.attname
    FROM pg_catalog.pg_attribute AS a
    INNER JOIN pg_catalog.pg_class AS c ON a.attrelid = c.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE
        n.nspname IN ('member', 'claims', 'claims_archive', 'ppp', 'etl')
        AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        -- staging tables hold copies of feed files: the mask empties them
        AND NOT (n.nspname = 'etl' AND c.relname LIKE 'stage\_%')
        AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attname ~ (
            '(name|address|street|city|zip|postal|birth|dob|ssn|social_security|mbi|hicn|cardholder'
            || '|phone|email|fax|rx_number|note|comment|free_text|decision_reason)'
        )
        AND NOT EXISTS (
            SELECT
            FROM security.mask_columns() AS k
            WHERE
                k.schema_name = n.nspname AND (k.table_name IS NULL OR k.table_name = c.relname)
                AND k.column_name = a.attname
        )
    ORDER BY 1, 2, 3;
END;
COMMENT ON FUNCTION security.unmasked_columns() IS
'Columns of the PHI and ETL schemas (staging tables aside: the mask empties them) whose name looks identifying and that security.mask_columns() does not cover; security.mask refuses to run while there are any.';

CREATE OR REPLACE FUNCTION security.mask_pick(p_seed text, p_purpose text, p_key text, p_count integer)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN 1 + (abs(hashtextextended(p_purpose || ':' || p_key, hashtextextended(p_seed, 0))) % p_count)::integer;
COMMENT ON FUNCTION security.mask_pick(text, text, text, integer) IS
'A number 1..p_count chosen by p_key for p_purpose under p_seed: the same key always picks the same fake value.';

CREATE OR REPLACE FUNCTION security.fake_mbi(p_seed text, p_key text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN
security.mask_pick(p_seed, 'mbi1', p_key, 9)::text
|| substr('ACDEFGHJKMNPQRTUVWXY', security.mask_pick(p_seed, 'mbi2', p_key, 20), 1)
|| substr('ACDEFGHJKMNPQRTUVWXY0123456789', security.mask_pick(p_seed, 'mbi3', p_key, 30), 1)
|| (security.mask_pick(p_seed, 'mbi4', p_key, 10) - 1)::text
|| substr('ACDEFGHJKMNPQRTUVWXY', security.mask_pick(p_seed, 'mbi5', p_key, 20), 1)
|| substr('ACDEFGHJKMNPQRTUVWXY0123456789', security.mask_pick(p_seed, 'mbi6', p_key, 30), 1)
|| (security.mask_pick(p_seed, 'mbi7', p_key, 10) - 1)::text
|| substr('ACDEFGHJKMNPQRTUVWXY', security.mask_pick(p_seed, 'mbi8', p_key, 20), 1)
|| substr('ACDEFGHJKMNPQRTUVWXY', security.mask_pick(p_seed, 'mbi9', p_key, 20), 1)
|| lpad((security.mask_pick(p_seed, 'mbi10', p_key, 100) - 1)::text, 2, '0');
COMMENT ON FUNCTION security.fake_mbi(text, text) IS
'A well-formed fake Medicare Beneficiary Identifier chosen by p_key under p_seed (same key, same MBI).';

CREATE OR REPLACE FUNCTION security.mask(
    p_seed text,
    p_female_first_names text[],
    p_male_first_names text[],
    p_last_names text[],
    p_streets text[],
    p_place_states text[],
    p_place_cities text[],
    p_place_zips text[]
)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_unmasked text;
    v_counts jsonb := '{}';
    v_rows bigint;
    v_table regclass;
    -- The work tables are temporary, made at run time; naming their schema through a variable keeps
    -- plpgsql_check from looking for them when it checks this function.
    v_tmp text := 'pg_temp';
BEGIN
    IF security.environment() <> 'non-production' THEN
        RAISE EXCEPTION 'refusing to mask database %: it is not marked non-production', current_database()
            USING ERRCODE = '42501',
            HINT = format(
                'On a copy, mark it first: pbm db environment non-production --confirm %s', current_database()
            );
    END IF;
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'pbm db mask needs a superuser: it suspends triggers while it rewrites every row'
            USING ERRCODE = '42501';
    END IF;
    IF coalesce(cardinality(p_female_first_names), 0) = 0 OR coalesce(cardinality(p_male_first_names), 0) = 0
        OR coalesce(cardinality(p_last_names), 0) = 0 OR coalesce(cardinality(p_streets), 0) = 0
        OR coalesce(cardinality(p_place_states), 0) = 0
        OR cardinality(p_place_states) <> cardinality(p_place_cities)
        OR cardinality(p_place_states) <> cardinality(p_place_zips) THEN
        RAISE EXCEPTION 'security.mask needs non-empty pools of fake values (places as three arrays of one length)'
            USING ERRCODE = '22023';
    END IF;
    SELECT string_agg(format('%I.%I.%I', u.schema_name, u.table_name, u.column_name), ', ') INTO v_unmasked
    FROM security.unmasked_columns() AS u;
    IF v_unmasked IS NOT NULL THEN
        RAISE EXCEPTION 'refusing to mask: columns that look identifying have no masking rule: %', v_unmasked
            USING ERRCODE = '55000',
            HINT = 'Add them to security.mask_columns() and security.mask() (security/60_mask.sql), or rename them.';
    END IF;

    -- Triggers off for this transaction: the audit log must not receive the real values as old values,
    -- and the history trigger must not turn the masking into new demographic versions.
    PERFORM set_config('session_replication_role', 'replica', TRUE);

    EXECUTE 'CREATE TEMP TABLE ' || v_tmp || '.mask_places ON COMMIT DROP AS '
        'SELECT p.state, p.city, p.zip5, '
        '    row_number() OVER (PARTITION BY p.state ORDER BY p.ord)::integer AS i, '
        '    count(*) OVER (PARTITION BY p.state)::integer AS n, '
        '    row_number() OVER (ORDER BY p.ord)::integer AS gi, count(*) OVER ()::integer AS gn '
        'FROM unnest($1, $2, $3) WITH ORDINALITY AS p (state, city, zip5, ord)'
        USING p_place_states, p_place_cities, p_place_zips;
    -- One identifier per distinct original, in an order that says nothing about the original.
    EXECUTE 'CREATE TEMP TABLE ' || v_tmp || '.mask_cardholders ON COMMIT DROP AS '
        'SELECT o.cardholder_id AS original, '
        '    ''MSK'' || lpad((row_number() OVER (ORDER BY md5($1 || o.cardholder_id)))::text, 12, ''0'') AS masked '
        'FROM (SELECT cardholder_id FROM member.members UNION SELECT cardholder_id FROM claims.claims '
        '      UNION SELECT cardholder_id FROM claims.batch_claims) AS o '
        'WHERE o.cardholder_id IS NOT NULL'
        USING p_seed;
    EXECUTE 'CREATE UNIQUE INDEX ON ' || v_tmp || '.mask_cardholders (original)';
    EXECUTE 'CREATE TEMP TABLE ' || v_tmp || '.mask_rx ON COMMIT DROP AS '
        'SELECT o.pharmacy, o.rx_number AS original, lpad((row_number() OVER ('
        '    PARTITION BY o.pharmacy ORDER BY md5($1 || o.rx_number)))::text, 9, ''0'') AS masked '
        'FROM (SELECT coalesce(service_provider_id, '''') AS pharmacy, rx_number FROM claims.claims '
        '      UNION SELECT coalesce(service_provider_id, ''''), rx_number FROM claims.batch_claims) AS o '
        'WHERE o.rx_number IS NOT NULL'
        USING p_seed;
    EXECUTE 'CREATE UNIQUE INDEX ON ' || v_tmp || '.mask_rx (pharmacy, original)';
    -- Date of birth shift per member (-365..365 days), keyed by the member as the claims name it.
    EXECUTE 'CREATE TEMP TABLE ' || v_tmp || '.mask_members ON COMMIT DROP AS '
        'SELECT m.member_id, m.cardholder_id, m.person_code, '
        '    security.mask_pick($1, ''dob'', m.member_id::text, 731) - 366 AS dob_shift '
        'FROM member.members AS m'
        USING p_seed;
    EXECUTE 'CREATE UNIQUE INDEX ON ' || v_tmp || '.mask_members (member_id)';
    EXECUTE 'CREATE INDEX ON ' || v_tmp || '.mask_members (cardholder_id, person_code)';

    -- Claims first, while members still carry their original cardholder ids.
    FOR v_table IN
        SELECT 'claims.claims'::regclass
        UNION ALL
        SELECT c.oid::regclass
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        WHERE n.nspname = 'claims_archive' AND c.relkind = 'r'
    LOOP
        EXECUTE format(
            'UPDATE %s AS t SET '
            '    cardholder_id = (SELECT ch.masked FROM ' || v_tmp || '.mask_cardholders AS ch WHERE ch.original = t.cardholder_id), '
            '    patient_date_of_birth = t.patient_date_of_birth + coalesce('
            '        (SELECT mm.dob_shift FROM ' || v_tmp || '.mask_members AS mm WHERE mm.member_id = t.member_id), '
            '        security.mask_pick($1, ''dob'', concat(t.cardholder_id, ''/'', t.person_code), 731) - 366), '
            '    rx_number = (SELECT rx.masked FROM ' || v_tmp || '.mask_rx AS rx '
            '        WHERE rx.pharmacy = coalesce(t.service_provider_id, '''') AND rx.original = t.rx_number)',
            v_table
        ) USING p_seed;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_counts := v_counts || jsonb_build_object(v_table::text, v_rows);
    END LOOP;

    EXECUTE 'UPDATE claims.batch_claims AS t SET '
        '    cardholder_id = (SELECT ch.masked FROM ' || v_tmp || '.mask_cardholders AS ch WHERE ch.original = t.cardholder_id), '
        '    patient_date_of_birth = t.patient_date_of_birth + coalesce('
        '        (SELECT mm.dob_shift FROM ' || v_tmp || '.mask_members AS mm '
        '         WHERE mm.cardholder_id = t.cardholder_id AND mm.person_code = t.person_code), '
        '        security.mask_pick($1, ''dob'', concat(t.cardholder_id, ''/'', t.person_code), 731) - 366), '
        '    rx_number = (SELECT rx.masked FROM ' || v_tmp || '.mask_rx AS rx '
        '        WHERE rx.pharmacy = coalesce(t.service_provider_id, '''') AND rx.original = t.rx_number)'
        USING p_seed;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_counts := v_counts || jsonb_build_object('claims.batch_claims', v_rows);

    EXECUTE 'UPDATE member.members AS m SET '
        '    first_name = CASE WHEN m.gender = ''M'' '
        '        THEN $3[security.mask_pick($1, ''first'', m.member_id::text, cardinality($3))] '
        '        ELSE $2[security.mask_pick($1, ''first'', m.member_id::text, cardinality($2))] END, '
        '    last_name = $4[security.mask_pick($1, ''last'', m.member_id::text, cardinality($4))], '
        '    date_of_birth = m.date_of_birth + mm.dob_shift, '
        '    address_line1 = $5[security.mask_pick($1, ''street'', m.member_id::text, cardinality($5))], '
        '    (city, zip5) = (SELECT x.city, x.zip5 FROM ' || v_tmp || '.mask_places AS x '
        '        WHERE (x.state = m.state AND x.i = security.mask_pick($1, ''place'', m.member_id::text, x.n)) '
        '           OR (NOT EXISTS (SELECT FROM ' || v_tmp || '.mask_places AS y WHERE y.state = m.state) '
        '               AND x.gi = security.mask_pick($1, ''place'', m.member_id::text, x.gn)) '
        '        LIMIT 1), '
        '    cardholder_id = ch.masked, '
        '    mbi_encrypted = CASE WHEN m.mbi_encrypted IS NOT NULL '
        '        THEN member.encrypt_phi(security.fake_mbi($1, m.member_id::text)) END, '
        '    mbi_hash = CASE WHEN m.mbi_encrypted IS NOT NULL '
        '        THEN member.mbi_hash(security.fake_mbi($1, m.member_id::text)) END '
        'FROM ' || v_tmp || '.mask_members AS mm, ' || v_tmp || '.mask_cardholders AS ch '
        'WHERE mm.member_id = m.member_id AND ch.original = m.cardholder_id'
        USING p_seed, p_female_first_names, p_male_first_names, p_last_names, p_streets;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_counts := v_counts || jsonb_build_object('member.members', v_rows);

    -- History versions: the member's (new) name and shifted birth date; the current version the member's
    -- new address, each older one a fake address of its own.
    EXECUTE 'UPDATE member.member_history AS h SET '
        '    first_name = m.first_name, '
        '    last_name = m.last_name, '
        '    date_of_birth = h.date_of_birth + mm.dob_shift, '
        '    (address_line1, city, zip5) = (SELECT m.address_line1, m.city, m.zip5 WHERE h.valid_to = ''infinity'' '
        '        UNION ALL '
        '        SELECT $2[security.mask_pick($1, ''street'', h.member_history_id::text, cardinality($2))], x.city, x.zip5 '
        '        FROM ' || v_tmp || '.mask_places AS x '
        '        WHERE h.valid_to <> ''infinity'' AND ('
        '            (x.state = h.state AND x.i = security.mask_pick($1, ''place'', h.member_history_id::text, x.n)) '
        '            OR (NOT EXISTS (SELECT FROM ' || v_tmp || '.mask_places AS y WHERE y.state = h.state) '
        '                AND x.gi = security.mask_pick($1, ''place'', h.member_history_id::text, x.gn))) '
        '        LIMIT 1) '
        'FROM member.members AS m, ' || v_tmp || '.mask_members AS mm '
        'WHERE m.member_id = h.member_id AND mm.member_id = h.member_id'
        USING p_seed, p_streets;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_counts := v_counts || jsonb_build_object('member.member_history', v_rows);

    -- Copies of feed files (staging) and the batch adjudicator's scratch tables are emptied; rejects keep
    -- their rule and line but not the values they quote.
    FOR v_table IN
        SELECT c.oid::regclass
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        WHERE
            c.relkind = 'r'
            AND ((n.nspname = 'etl' AND c.relname LIKE 'stage\_%') OR n.nspname = 'claims_work')
    LOOP
        EXECUTE format('TRUNCATE %s', v_table);
    END LOOP;
    UPDATE etl.rejects AS r
    SET
        value = CASE WHEN r.value IS NOT NULL THEN 'masked value' END,
        detail = CASE WHEN r.detail IS NOT NULL THEN 'masked detail' END;

    UPDATE claims.prior_authorizations AS pa
    SET decision_reason = 'masked decision reason'
    WHERE pa.decision_reason IS NOT NULL;
    UPDATE claims.prior_authorization_events AS e
    SET note = 'masked note'
    WHERE e.note IS NOT NULL;

    -- The log held the real values (old and new values of every change): a masked copy starts a new one.
    TRUNCATE audit.log;
    PERFORM set_config('session_replication_role', 'origin', TRUE);
    INSERT INTO audit.log (action, object_name, row_count, details)
    SELECT 'MASK', current_database(), coalesce(sum(c.value::bigint), 0), v_counts
    FROM jsonb_each_text(v_counts) AS c;
    UPDATE pbm_meta.environment
    SET masked_at = now()
    WHERE singleton;

    -- Reporting snapshots were computed from the real data.
    FOR v_table IN
        SELECT c.oid::regclass
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        WHERE n.nspname = 'reporting' AND c.relkind = 'm'
        ORDER BY c.oid
    LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW %s', v_table);
    END LOOP;
    -- Database privileges are not copied with a database: give the copy its own.
    PERFORM security.secure_all();
    RETURN v_counts;
END;
$$;
COMMENT ON FUNCTION security.mask(text, text[], text[], text[], text[], text[], text[], text[]) IS
'Replaces the identifying data of a database marked non-production (security.environment()), consistently per member: names, dates of birth (shifted), addresses, cardholder ids, MBIs, Rx numbers, free-text notes and reject values; empties ETL staging, the batch scratch tables and the audit log, and refreshes reporting. Superuser only; refuses while security.unmasked_columns() finds an identifying column it does not cover. Returns the rows changed per table.';
