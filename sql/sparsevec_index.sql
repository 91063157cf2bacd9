-- sparsevec columns in hnsw indexes (support function 2 makes each value a
-- dense vector; the codes are the same as for a vector column).
CREATE SCHEMA sparsevec_index_test;
SET search_path = sparsevec_index_test, public;

-- 1,200 rows of 48 dimensions with 4 to 9 non-zero values each, in 20
-- clusters (each cluster has its own 12 likely indices); queries near rows.
-- (Small: the suite also runs under Valgrind.)
-- Exact answers come from sequential scans of the same operators.
CREATE TABLE s (id int PRIMARY KEY, v sparsevec(48));
INSERT INTO s SELECT i,
    ('{' || (SELECT string_agg(k || ':' || round((((i % 20) + 1) * 0.2 * cos(k * 0.7 + i) + 0.5 * sin(i * 0.37 + k))::numeric, 3),
                               ',' ORDER BY k)
               FROM (SELECT DISTINCT 1 + ((i % 20) * 5 + (j * j + i * j) % 12) % 48 AS k
                       FROM generate_series(1, 4 + i % 6) j) ks) || '}/48')::sparsevec
  FROM generate_series(1, 1200) i;
ANALYZE s;
CREATE TABLE sq AS SELECT id AS qid, (v::vector + array_fill(0.01, ARRAY[48])::vector)::sparsevec(48) AS q
  FROM s WHERE id % 60 = 0;

CREATE FUNCTION knn(op text, k int) RETURNS TABLE (qid int, ids int[]) AS $$
    BEGIN
        RETURN QUERY EXECUTE format(
            'SELECT qid, array(SELECT id FROM s ORDER BY v %s q, id LIMIT %s) FROM sq ORDER BY qid', op, k);
    END $$ LANGUAGE plpgsql;
SET enable_indexscan = off;
CREATE TEMP TABLE exact AS
    SELECT '<->' op, * FROM knn('<->', 10) UNION ALL SELECT '<#>', * FROM knn('<#>', 10)
    UNION ALL SELECT '<=>', * FROM knn('<=>', 10) UNION ALL SELECT '<+>', * FROM knn('<+>', 10);
RESET enable_indexscan;
SET enable_seqscan = off;

-- Recall@10 against the exact answers (of 200), and whether every query's
-- distances came back in order (the executor's recheck on the bounds).
CREATE FUNCTION hits(op text) RETURNS bigint AS $$
    SELECT sum(cardinality(ARRAY(SELECT unnest(e.ids) INTERSECT SELECT unnest(a.ids))))
      FROM exact e JOIN knn($1, 10) a USING (qid) WHERE e.op = $1
$$ LANGUAGE sql;
CREATE FUNCTION in_order(op text) RETURNS boolean AS $$
    DECLARE
        ok boolean;
    BEGIN
        EXECUTE format('SELECT bool_and(d = sorted) FROM (SELECT array(SELECT v %1$s q FROM s ORDER BY v %1$s q LIMIT 10) d,
                               array(SELECT x FROM unnest(array(SELECT v %1$s q FROM s ORDER BY v %1$s q LIMIT 10)) x
                                      ORDER BY x) sorted FROM sq) t', op) INTO ok;
        RETURN ok;
    END $$ LANGUAGE plpgsql;

CREATE FUNCTION index_check(opclass text, op text, options text, OUT hits bigint, OUT ordered boolean) AS $$
    BEGIN
        EXECUTE format('CREATE INDEX s_idx ON s USING hnsw (v %s) %s', opclass, options);
        hits := hits(op);
        ordered := in_order(op);
        DROP INDEX s_idx;
    END $$ LANGUAGE plpgsql;

-- The plan uses the index.
CREATE INDEX s_idx ON s USING hnsw (v sparsevec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM s ORDER BY v <-> '{1:1,7:2}/48' LIMIT 5;
DROP INDEX s_idx;

SET hnsw.ef_search = 100;
SELECT opclass, op, options, c.hits >= 196 AS recall_at_least_098, c.ordered
  FROM (VALUES ('sparsevec_l2_ops', '<->'), ('sparsevec_ip_ops', '<#>'), ('sparsevec_cosine_ops', '<=>'),
               ('sparsevec_l1_ops', '<+>')) o(opclass, op),
       (VALUES ('WITH (quantization = ''none'')'), ('WITH (quantization = ''sq8'')')) q(options),
       LATERAL index_check(opclass, op, options) c
  WHERE op <> '<+>' OR options LIKE '%none%'
  ORDER BY 1, 3;

-- Writes after the build go through the same conversion: each query,
-- inserted as a row, is its own nearest neighbour.
CREATE INDEX s_hnsw ON s USING hnsw (v sparsevec_l2_ops);
INSERT INTO s SELECT 10000 + qid, q FROM sq;
SELECT count(*) FILTER (WHERE (SELECT id FROM s ORDER BY v <-> q LIMIT 1) = 10000 + qid) AS hnsw_found FROM sq;

-- Errors: a query of another dimension; a column beyond the 16,000
-- dimensions an index converts to.
SELECT id FROM s ORDER BY v <-> '{1:1}/3' LIMIT 1;
CREATE TABLE wide (v sparsevec(20000));
INSERT INTO wide VALUES ('{1:1}/20000');
CREATE INDEX ON wide USING hnsw (v sparsevec_l2_ops);
CREATE INDEX ON wide USING hnsw (v sparsevec_l2_ops) WITH (quantization = 'e8');

RESET enable_seqscan;
RESET hnsw.ef_search;
RESET search_path;
DROP SCHEMA sparsevec_index_test CASCADE;
