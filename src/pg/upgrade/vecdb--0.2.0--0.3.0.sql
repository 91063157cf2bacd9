-- vecdb 0.2.0 -> 0.3.0 (ALTER EXTENSION vecdb UPDATE).  The library is the
-- new one already; this adds what 0.3.0's install script has that 0.2.0's
-- did not (TAP 016 compares the two catalogs).
\echo Use "ALTER EXTENSION vecdb UPDATE" to load this file. \quit

-- Search features over ordinary queries (src/pg/search): diversity (MMR),
-- rank fusion for hybrid search (RRF) and measured recall.

CREATE FUNCTION vecdb_mmr(query vector, candidates vector[], ids bigint[], k integer, lambda float8 DEFAULT 0.5,
                          distance text DEFAULT 'cosine') RETURNS bigint[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_mmr(vector, vector[], bigint[], integer, float8, text) IS
    'maximal marginal relevance: the ids of k candidates, each the one most relevant to the query and least like those picked before it';

-- halfvec columns: the same picks on their exact float values.
CREATE FUNCTION vecdb_mmr(query halfvec, candidates halfvec[], ids bigint[], k integer, lambda float8 DEFAULT 0.5,
                          distance text DEFAULT 'cosine') RETURNS bigint[]
    AS 'SELECT vecdb_mmr($1::vector, $2::vector[], $3, $4, $5, $6)' LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_mmr(halfvec, halfvec[], bigint[], integer, float8, text) IS
    'maximal marginal relevance over halfvec candidates (their exact float values)';

-- Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009): each
-- id scores weight / (k + rank) in every list that has it (its first place
-- there), summed; highest score first.
CREATE FUNCTION vecdb_rrf(a bigint[], b bigint[], k integer DEFAULT 60, weight_a float8 DEFAULT 1,
                          weight_b float8 DEFAULT 1) RETURNS TABLE (id bigint, score float8)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
#variable_conflict use_column
BEGIN
    IF k IS NULL OR k < 1 THEN
        RAISE EXCEPTION 'k must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (weight_a >= 0 AND weight_b >= 0 AND weight_a < 'Infinity' AND weight_b < 'Infinity') THEN
        RAISE EXCEPTION 'weights must be finite and not negative' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF array_ndims(a) > 1 OR array_ndims(b) > 1 THEN
        RAISE EXCEPTION 'ranked lists must be one-dimensional arrays' USING ERRCODE = 'array_subscript_error';
    END IF;
    RETURN QUERY
    SELECT r.id, sum(r.weight / (k + r.rank))::float8 AS score
      FROM (SELECT x AS id, min(n) AS rank, weight_a AS weight
              FROM unnest(a) WITH ORDINALITY u(x, n) WHERE x IS NOT NULL GROUP BY x
            UNION ALL
            SELECT x, min(n), weight_b
              FROM unnest(b) WITH ORDINALITY u(x, n) WHERE x IS NOT NULL GROUP BY x) r
     GROUP BY r.id
     ORDER BY 2 DESC, min(r.rank), r.id;
END
$$;
COMMENT ON FUNCTION vecdb_rrf(bigint[], bigint[], integer, float8, float8) IS
    'reciprocal rank fusion of two ranked id lists (e.g. a vector query and a full-text query): ids by fused score';

-- recall@k of a query as it runs (index, ef_search / probes, filters), against
-- the same query answered exactly (index scans off: a scan and a sort).  The
-- query's first column identifies a row; with a second (its distance), an
-- approximate row tied with the last exact one counts as found.
CREATE FUNCTION vecdb_recall(query text, OUT recall float8, OUT returned bigint, OUT expected bigint)
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    scans CONSTANT text[] := ARRAY['enable_indexscan', 'enable_bitmapscan', 'enable_indexonlyscan'];
    saved text[];
    approx_ids text[];
    approx_distances float8[];
    exact_ids text[];
    exact_distances float8[];
    with_distance boolean := true;
    last float8;
    hits bigint := 0;
BEGIN
    IF query IS NULL THEN
        RAISE EXCEPTION 'query must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    BEGIN
        EXECUTE format('SELECT array_agg(s.i::text ORDER BY s.o), array_agg(s.d::float8 ORDER BY s.o)
                          FROM (SELECT *, row_number() OVER () AS o FROM (%s) q(i, d)) s', query)
           INTO approx_ids, approx_distances;
    EXCEPTION WHEN invalid_column_reference THEN  -- one column: no distance
        with_distance := false;
        EXECUTE format('SELECT array_agg(q.i::text) FROM (%s) q(i)', query) INTO approx_ids;
    END;
    saved := ARRAY(SELECT current_setting(s) FROM unnest(scans) s);
    PERFORM set_config(s, 'off', true) FROM unnest(scans) s;
    IF with_distance THEN
        EXECUTE format('SELECT array_agg(s.i::text ORDER BY s.o), array_agg(s.d::float8 ORDER BY s.o)
                          FROM (SELECT *, row_number() OVER () AS o FROM (%s) q(i, d)) s', query)
           INTO exact_ids, exact_distances;
    ELSE
        EXECUTE format('SELECT array_agg(q.i::text) FROM (%s) q(i)', query) INTO exact_ids;
    END IF;
    PERFORM set_config(scans[i], saved[i], true) FROM generate_subscripts(scans, 1) i;

    returned := coalesce(cardinality(approx_ids), 0);
    expected := coalesce(cardinality(exact_ids), 0);
    IF expected = 0 THEN
        recall := CASE WHEN returned = 0 THEN 1 ELSE 0 END;
        RETURN;
    END IF;
    last := exact_distances[expected];
    SELECT count(DISTINCT a.i) INTO hits
      FROM unnest(approx_ids, approx_distances) a(i, d)
     WHERE a.i = ANY (exact_ids) OR (with_distance AND a.d <= last);
    recall := least(hits, expected)::float8 / expected;
END
$$;
COMMENT ON FUNCTION vecdb_recall(text) IS
    'recall@k of an ORDER BY ... LIMIT k query as it runs, against the same query answered exactly';
