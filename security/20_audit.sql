-- Audit triggers: statement-level, with transition tables, so a bulk statement costs one INSERT ... SELECT
-- into audit.log however many rows it touched. Each audited table gets its own trigger function, generated
-- here from the catalog (primary key, columns, member_id) as static SQL: PL/pgSQL plans it once per
-- session, where dynamic SQL would be planned at every statement (about 1 ms, too much for real-time
-- adjudication). security.enable_audit (security/30) creates it, and again whenever the table changes.
--
-- The generated functions are SECURITY DEFINER (owned by pbm_owner, in api as the house rule wants for
-- privileged code, `_audit_`-prefixed, callable only as triggers): the roles whose changes are logged
-- have no INSERT privilege on audit.log, so nobody can write a forged entry. They record session_user,
-- the authenticated login, which neither SET ROLE nor a SECURITY DEFINER function changes.

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

CREATE OR REPLACE FUNCTION audit.update_expressions(p_table regclass)
RETURNS TABLE (changed_columns text, old_values text, new_values text)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    -- Column by column, no whole-row to_jsonb (which costs more than the UPDATE it logs): the changed
    -- columns in column order, and objects holding only their values before and after. json, xml and the
    -- geometric types have no equality operator: their text is compared.
    SELECT
        'array_remove(ARRAY[' || string_agg(format('CASE WHEN %s THEN %L END', d.cond, d.col), ', ' ORDER BY d.num)
        || ']::text[], NULL)' AS changed_columns,
        string_agg(
            format('CASE WHEN %s THEN jsonb_build_object(%L, o.%I) ELSE ''{}''::jsonb END', d.cond, d.col, d.col),
            ' || ' ORDER BY d.num
        ) AS old_values,
        string_agg(
            format('CASE WHEN %s THEN jsonb_build_object(%L, n.%I) ELSE ''{}''::jsonb END', d.cond, d.col, d.col),
            ' || ' ORDER BY d.num
        ) AS new_values
    FROM (
        SELECT
            a.attnum AS num,
            a.attname::text AS col,
            format(
                'o.%1$I%2$s IS DISTINCT FROM n.%1$I%2$s',
                a.attname,
                CASE
                    WHEN a.atttypid IN (
                        'json'::regtype, 'xml'::regtype, 'point'::regtype, 'line'::regtype, 'lseg'::regtype,
                        'box'::regtype, 'path'::regtype, 'polygon'::regtype, 'circle'::regtype
                    ) THEN '::text'
                    ELSE ''
                END
            ) AS cond
        FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped
    ) AS d;
END;
COMMENT ON FUNCTION audit.update_expressions(regclass) IS
'SQL, for old row o and new row n of p_table: the array of changed columns, and the jsonb objects of their values before and after.';

CREATE OR REPLACE FUNCTION audit.compact_statement(
    p_action text, p_transition text, p_group text, p_range_column name, p_object text
)
RETURNS text
LANGUAGE sql
IMMUTABLE
-- One entry per statement (and group): the count and the key ranges. Keys from a sequence are contiguous,
-- which one pass finds (min, max, count); scattered keys are cut into runs (gaps and islands: one sort).
RETURN format(
    $f$
        WITH s AS (
            SELECT %1$s AS g, min(n.%2$I)::bigint AS lo, max(n.%2$I)::bigint AS hi, count(*) AS c
            FROM %3$I AS n
            GROUP BY 1
        ), logged AS (
            INSERT INTO audit.log (action, object_name, row_key, row_count, key_ranges)
            SELECT %4$L, %5$L, s.g, s.c, int8multirange(int8range(s.lo, s.hi, '[]'))
            FROM s
            WHERE s.hi - s.lo + 1 = s.c
        )
        SELECT count(*) INTO v_scattered FROM s WHERE s.hi - s.lo + 1 <> s.c;
        IF v_scattered > 0 THEN
            INSERT INTO audit.log (action, object_name, row_key, row_count, key_ranges)
            SELECT %4$L, %5$L, r.g, sum(r.c), range_agg(int8range(r.lo, r.hi, '[]'))
            FROM (
                SELECT i.g, min(i.k) AS lo, max(i.k) AS hi, count(*) AS c
                FROM (
                    SELECT k.g, k.k, k.k - row_number() OVER (PARTITION BY k.g ORDER BY k.k) AS island
                    FROM (SELECT %1$s AS g, n.%2$I::bigint AS k FROM %3$I AS n) AS k
                ) AS i
                GROUP BY i.g, i.island
            ) AS r
            GROUP BY r.g
            HAVING max(r.hi) - min(r.lo) + 1 <> sum(r.c);
        END IF;$f$,
    p_group, p_range_column, p_transition, p_action, p_object
);
COMMENT ON FUNCTION audit.compact_statement(text, text, text, name, text) IS
'PL/pgSQL statements logging the rows of transition table p_transition compactly: count and key ranges per group.';

CREATE OR REPLACE FUNCTION audit.trigger_source(p_table regclass)
RETURNS text
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_object text;
    v_config audit.tables%ROWTYPE;
    v_group text;
    v_insert text;
    v_delete text;
    v_update record;
BEGIN
    SELECT format('%I.%I', n.nspname, c.relname) INTO v_object
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE c.oid = p_table;
    SELECT t.* INTO v_config
    FROM audit.tables AS t
    INNER JOIN pg_catalog.pg_class AS c ON t.table_name = c.relname
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid AND t.schema_name = n.nspname
    WHERE c.oid = p_table;
    SELECT * INTO v_update FROM audit.update_expressions(p_table);

    v_group := coalesce(
        (
            SELECT 'jsonb_build_object(' || string_agg(format('%L, n.%I', g, g), ', ') || ')'
            FROM unnest(v_config.group_columns) AS g
        ),
        'NULL::jsonb'
    );
    v_insert := CASE
        WHEN v_config.insert_mode = 'compact'
            THEN audit.compact_statement('INSERT', 'new_rows', v_group, v_config.range_column, v_object)
        ELSE format(
            $f$
        INSERT INTO audit.log (action, object_name, row_key, member_id, new_values)
        SELECT 'INSERT', %L, %s, %s, to_jsonb(n) FROM new_rows AS n;$f$,
            v_object, audit.key_expression(p_table, 'n'), audit.member_expression(p_table, 'n')
        )
    END;
    v_delete := CASE
        WHEN v_config.delete_mode = 'compact'
            THEN audit.compact_statement('DELETE', 'old_rows', v_group, v_config.range_column, v_object)
        ELSE format(
            $f$
        INSERT INTO audit.log (action, object_name, row_key, member_id, old_values)
        SELECT 'DELETE', %L, %s, %s, to_jsonb(n) FROM old_rows AS n;$f$,
            v_object, audit.key_expression(p_table, 'n'), audit.member_expression(p_table, 'n')
        )
    END;

    RETURN format(
        $f$
-- Audit trigger of %1$s, generated by security.enable_audit from the table's columns and
-- audit.tables: do not edit, regenerate. Static SQL, so each session plans it once.
DECLARE
    v_scattered bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN%2$s
    ELSIF TG_OP = 'UPDATE' THEN
        -- Rows pair up on the primary key; a row whose key changed shows as two entries.
        INSERT INTO audit.log (action, object_name, row_key, member_id, old_values, new_values, changed_columns)
        SELECT
            'UPDATE', %1$L,
            CASE WHEN n IS NULL THEN %3$s ELSE %4$s END,
            coalesce(%5$s, %6$s),
            %7$s,
            %8$s,
            %9$s
        FROM old_rows AS o FULL JOIN new_rows AS n ON %10$s;
    ELSIF TG_OP = 'DELETE' THEN%11$s
    ELSE
        -- BEFORE TRUNCATE: the rows are still there, and each is logged like a delete.
        INSERT INTO audit.log (action, object_name, row_key, member_id, old_values)
        SELECT 'TRUNCATE', %1$L, %3$s, %6$s, to_jsonb(o) FROM %1$s AS o;
    END IF;
    RETURN NULL;
END;
$f$,
        v_object, v_insert,
        audit.key_expression(p_table, 'o'), audit.key_expression(p_table, 'n'),
        audit.member_expression(p_table, 'n'), audit.member_expression(p_table, 'o'),
        v_update.old_values, v_update.new_values, v_update.changed_columns, audit.key_join(p_table), v_delete
    );
END;
$$;
COMMENT ON FUNCTION audit.trigger_source(regclass) IS
'The PL/pgSQL body of the audit trigger of p_table: static SQL built from its primary key, columns, member_id and its audit.tables line (full or compact inserts).';

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
