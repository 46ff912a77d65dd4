-- Drug search for people: full-text search with prefix matching (autocomplete as you type) and trigram
-- word similarity (typos: 'atorvastatn' still finds atorvastatin), ranked together.

CREATE OR REPLACE FUNCTION api.search_drugs(p_query text, p_max_rows integer DEFAULT 20)
RETURNS TABLE (
    ndc11 char(11),
    drug_name text,
    generic_name text,
    strength text,
    dosage_form text,
    multi_source_code char(1),
    therapeutic_class text,
    rank real,
    matched_by text
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
SET "pg_trgm.word_similarity_threshold" = 0.5
AS $$
DECLARE
    v_query text := lower(btrim(coalesce(p_query, '')));
    v_tsquery tsquery;
BEGIN
    IF v_query = '' THEN
        RAISE EXCEPTION 'search_drugs needs a search text'
            USING ERRCODE = '22023', HINT = 'e.g. SELECT * FROM api.search_drugs(''atorva'', 10)';
    END IF;
    IF length(v_query) > 200 THEN
        RAISE EXCEPTION 'search text too long: % characters (at most 200)', length(v_query) USING ERRCODE = '22023';
    END IF;
    IF p_max_rows IS NULL OR p_max_rows NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_rows must be between 1 and 1000 (got %)', p_max_rows USING ERRCODE = '22023';
    END IF;

    -- Every word is a prefix: 'atorva 10' -> 'atorva':* & '10':* (letters and digits only, so no
    -- tsquery syntax can be injected).
    SELECT to_tsquery('simple', string_agg(w.word || ':*', ' & '))
    INTO v_tsquery
    FROM regexp_split_to_table(v_query, '[^a-z0-9]+') AS w (word)
    WHERE w.word <> '';

    RETURN QUERY
    WITH candidates AS (
        SELECT d.ndc11 FROM drug.drugs AS d
        WHERE v_tsquery IS NOT NULL AND d.search @@ v_tsquery
        UNION
        SELECT d.ndc11 FROM drug.drugs AS d
        WHERE v_query <% d.drug_name OR v_query <% d.generic_name
    )
    SELECT
        d.ndc11,
        d.drug_name,
        d.generic_name,
        d.strength,
        d.dosage_form,
        d.multi_source_code,
        d.therapeutic_class,
        (
            CASE WHEN v_tsquery IS NOT NULL AND d.search @@ v_tsquery THEN 1 + ts_rank(d.search, v_tsquery) ELSE 0 END
            + greatest(word_similarity(v_query, lower(d.drug_name)), word_similarity(v_query, lower(d.generic_name)))
        )::real AS rank,
        CASE WHEN v_tsquery IS NOT NULL AND d.search @@ v_tsquery THEN 'text' ELSE 'similarity' END AS matched_by
    FROM candidates AS c
    INNER JOIN drug.drugs AS d ON c.ndc11 = d.ndc11
    ORDER BY rank DESC, d.drug_name ASC, d.strength ASC, d.ndc11 ASC
    LIMIT p_max_rows;
END;
$$;
COMMENT ON FUNCTION api.search_drugs(text, integer) IS
'Drug search for people: p_query (1-200 characters) matched as word prefixes against names, strength, form and class (full-text search, so ''atorva 10'' finds ATORVASTATIN 10 MG) or by trigram word similarity to the brand or generic name (typos: ''atorvastatn''). Returns at most p_max_rows (1-1000) drugs, best first: text matches above similarity-only ones. Errors 22023 on an empty query or a bad max_rows.';
REVOKE ALL ON FUNCTION api.search_drugs(text, integer) FROM public;

-- EXECUTE for the roles of the security area that look drugs up, once they exist.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pbm_analyst')
        AND EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pbm_admin')
        AND EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pbm_pharmacy') THEN
        GRANT EXECUTE ON FUNCTION api.search_drugs(text, integer) TO pbm_analyst, pbm_admin, pbm_pharmacy;
    END IF;
END;
$$;
