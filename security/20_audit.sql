-- Audit triggers: statement-level, with transition tables, so a bulk statement costs one INSERT ... SELECT
-- into audit.log however many rows it touched. The SQL of that INSERT is built from the catalog (primary
-- key, columns, member_id) for the table the trigger fired on.
--
-- The trigger functions are SECURITY DEFINER (owned by pbm_owner, in api as the house rule wants for
-- privileged code, `_`-prefixed and callable only as triggers): the roles whose changes are logged have no
-- INSERT privilege on audit.log, so nobody can write a forged entry. They record session_user, the
-- authenticated login, which neither SET ROLE nor a SECURITY DEFINER function changes.

-- The SQL pieces describing a table: a jsonb of its primary key for a row alias, its member_id column,
-- and the comparison that lists the columns an UPDATE changed.
CREATE OR REPLACE FUNCTION audit.key_expression(p_table regclass, p_alias text)
RETURNS text
LANGUAGE sql
STABLE
RETURN coalesce(
    (
        SELECT
            'jsonb_build_object('
            || string_agg(format('%L, %I.%I', a.attname, p_alias, a.attname), ', ' ORDER BY k.ord) || ')'  -- noqa: RF02
        FROM pg_catalog.pg_index AS i
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
        INNER JOIN pg_catalog.pg_attribute AS a ON i.indrelid = a.attrelid AND k.attnum = a.attnum
        WHERE i.indrelid = p_table AND i.indisprimary  -- noqa: RF02
    ),
    'NULL::jsonb'
);
COMMENT ON FUNCTION audit.key_expression(regclass, text) IS
'SQL building the primary key of row p_alias of p_table as a jsonb object (a NULL jsonb when p_table has no primary key).';

CREATE OR REPLACE FUNCTION audit.key_join(p_table regclass)
RETURNS text
LANGUAGE sql
STABLE
RETURN coalesce(
    (
        SELECT string_agg(format('o.%1$I = n.%1$I', a.attname), ' AND ' ORDER BY k.ord)
        FROM pg_catalog.pg_index AS i
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
        INNER JOIN pg_catalog.pg_attribute AS a ON i.indrelid = a.attrelid AND k.attnum = a.attnum
        WHERE i.indrelid = p_table AND i.indisprimary  -- noqa: RF02
    ),
    'false'
);
COMMENT ON FUNCTION audit.key_join(regclass) IS
'SQL joining old row o to new row n of p_table on its primary key (false without one: old and new rows then log apart).';

CREATE OR REPLACE FUNCTION audit.member_expression(p_table regclass, p_alias text)
RETURNS text
LANGUAGE sql
STABLE
RETURN coalesce(
    (
        SELECT format('%I.member_id', p_alias)  -- noqa: RF03
        FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = p_table AND a.attname = 'member_id' AND NOT a.attisdropped  -- noqa: RF03
    ),
    'NULL::bigint'
);
COMMENT ON FUNCTION audit.member_expression(regclass, text) IS
'SQL giving the member_id of row p_alias when p_table has that column, else a NULL bigint.';

CREATE OR REPLACE FUNCTION audit.changed_columns_expression(p_table regclass)
RETURNS text
LANGUAGE sql
STABLE
RETURN (
    SELECT
        'array_remove(ARRAY['
        || string_agg(
            -- json, xml and the geometric types have no equality operator: compare their text
            format(
                'CASE WHEN o.%1$I%2$s IS DISTINCT FROM n.%1$I%2$s THEN %1$L END',
                a.attname,
                CASE
                    WHEN a.atttypid IN (
                        'json'::regtype, 'xml'::regtype, 'point'::regtype, 'line'::regtype, 'lseg'::regtype,
                        'box'::regtype, 'path'::regtype, 'polygon'::regtype, 'circle'::regtype
                    ) THEN '::text'
                    ELSE ''
                END
            ),
            ', ' ORDER BY a.attnum
        )
        || ']::text[], NULL)'
    FROM pg_catalog.pg_attribute AS a
    WHERE a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped  -- noqa: RF03
);
COMMENT ON FUNCTION audit.changed_columns_expression(regclass) IS
'SQL listing, in column order, the columns of p_table whose value differs between old row o and new row n.';

CREATE OR REPLACE FUNCTION api._audit_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_object text := format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
    v_config audit.tables%ROWTYPE;
    v_group text;
    v_scattered bigint;
BEGIN
    SELECT t.* INTO v_config
    FROM audit.tables AS t
    WHERE t.schema_name = TG_TABLE_SCHEMA AND t.table_name = TG_TABLE_NAME;

    IF v_config.insert_mode = 'compact' THEN
        v_group := CASE
            WHEN cardinality(v_config.group_columns) = 0 THEN 'NULL::jsonb'
            ELSE (
                SELECT 'jsonb_build_object(' || string_agg(format('%L, n.%I', g, g), ', ') || ')'
                FROM unnest(v_config.group_columns) AS g
            )
        END;
        -- One entry per group; the common case (keys from a sequence, contiguous) needs one pass.
        EXECUTE format(
            'WITH s AS ('
            '    SELECT %1$s AS g, min(n.%2$I)::bigint AS lo, max(n.%2$I)::bigint AS hi, count(*) AS c'
            '    FROM new_rows AS n GROUP BY 1'
            '), logged AS ('
            '    INSERT INTO audit.log (action, object_name, row_key, row_count, key_ranges)'
            '    SELECT ''INSERT'', $1, s.g, s.c, int8multirange(int8range(s.lo, s.hi, ''[]''))'
            '    FROM s WHERE s.hi - s.lo + 1 = s.c'
            ') SELECT count(*) FROM s WHERE s.hi - s.lo + 1 <> s.c',
            v_group, v_config.range_column
        ) INTO v_scattered USING v_object;
        IF v_scattered > 0 THEN
            EXECUTE format(
                'INSERT INTO audit.log (action, object_name, row_key, row_count, key_ranges) '
                'SELECT ''INSERT'', $1, s.g, count(*), range_agg(int8range(s.k, s.k, ''[]'')) '
                'FROM (SELECT %1$s AS g, n.%2$I::bigint AS k FROM new_rows AS n) AS s '
                'GROUP BY s.g HAVING max(s.k) - min(s.k) + 1 <> count(*)',
                v_group, v_config.range_column
            ) USING v_object;
        END IF;
    ELSE
        EXECUTE format(
            'INSERT INTO audit.log (action, object_name, row_key, member_id, new_values) '
            'SELECT ''INSERT'', $1, %s, %s, to_jsonb(n) FROM new_rows AS n',
            audit.key_expression(TG_RELID, 'n'), audit.member_expression(TG_RELID, 'n')
        ) USING v_object;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION api._audit_insert() IS
'Audit trigger (AFTER INSERT, statement level, transition table new_rows): one entry per row with the whole row, or compact entries (count and key ranges) for tables listed compact in audit.tables.';

CREATE OR REPLACE FUNCTION api._audit_update()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    -- Rows pair up on the primary key; a row whose key changed shows as two entries (old key, new key).
    EXECUTE format(
        'INSERT INTO audit.log (action, object_name, row_key, member_id, old_values, new_values, changed_columns) '
        'SELECT ''UPDATE'', $1, d.row_key, d.member_id, '
        '    (SELECT jsonb_object_agg(c, d.old_row -> c) FROM unnest(d.changed) AS c), '
        '    (SELECT jsonb_object_agg(c, d.new_row -> c) FROM unnest(d.changed) AS c), '
        '    d.changed '
        'FROM ('
        '    SELECT CASE WHEN n IS NULL THEN %1$s ELSE %2$s END AS row_key, coalesce(%3$s, %4$s) AS member_id, '
        '        to_jsonb(o) AS old_row, to_jsonb(n) AS new_row, %5$s AS changed '
        '    FROM old_rows AS o FULL JOIN new_rows AS n ON %6$s'
        ') AS d',
        audit.key_expression(TG_RELID, 'o'), audit.key_expression(TG_RELID, 'n'),
        audit.member_expression(TG_RELID, 'n'), audit.member_expression(TG_RELID, 'o'),
        audit.changed_columns_expression(TG_RELID), audit.key_join(TG_RELID)
    ) USING format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION api._audit_update() IS
'Audit trigger (AFTER UPDATE, statement level, transition tables old_rows/new_rows): one entry per row with its key, the changed columns and their values before and after.';

CREATE OR REPLACE FUNCTION api._audit_delete()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO audit.log (action, object_name, row_key, member_id, old_values) '
        'SELECT ''DELETE'', $1, %s, %s, to_jsonb(o) FROM old_rows AS o',
        audit.key_expression(TG_RELID, 'o'), audit.member_expression(TG_RELID, 'o')
    ) USING format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION api._audit_delete() IS
'Audit trigger (AFTER DELETE, statement level, transition table old_rows): one entry per deleted row with the whole row.';

CREATE OR REPLACE FUNCTION api._audit_truncate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    -- BEFORE TRUNCATE: the rows are still there, and each is logged like a delete.
    EXECUTE format(
        'INSERT INTO audit.log (action, object_name, row_key, member_id, old_values) '
        'SELECT ''TRUNCATE'', $1, %s, %s, to_jsonb(o) FROM %s AS o',
        audit.key_expression(TG_RELID, 'o'), audit.member_expression(TG_RELID, 'o'), TG_RELID::regclass
    ) USING format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION api._audit_truncate() IS
'Audit trigger (BEFORE TRUNCATE, statement level): one entry per row about to be removed, with the whole row.';

CREATE OR REPLACE FUNCTION audit.log_read(p_object text, p_member_ids bigint[], p_details jsonb)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    -- One entry per member whose PHI was returned (an empty result is logged too: the attempt is the fact).
    INSERT INTO audit.log (action, object_name, row_key, member_id, details)
    SELECT
        'READ',
        p_object,
        CASE WHEN m.member_id IS NOT NULL THEN jsonb_build_object('member_id', m.member_id) END,
        m.member_id,
        p_details
    FROM unnest(coalesce(nullif(p_member_ids, '{}'), ARRAY[NULL]::bigint [])) AS m (member_id);
    -- The table entry rolls back with the caller's transaction; the server log line does not.
    RAISE LOG 'pbm PHI read: % by % (app user %) members % %',
        p_object, session_user, coalesce(current_setting('pbm.app_user', TRUE), '-'), p_member_ids, p_details;
END;
$$;
COMMENT ON FUNCTION audit.log_read(text, bigint[], jsonb) IS
'Logs a PHI read by an api function: one READ entry per member returned (one with no member when nothing was found), and a LOG line in the server log that survives a rollback. Works only where audit.log may be written (SECURITY DEFINER api functions).';
