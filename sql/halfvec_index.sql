-- halfvec columns in hnsw and ivf indexes (support function 2 converts each
-- value to vector; the codes are the same as for a vector column).
CREATE SCHEMA halfvec_index_test;
SET search_path = halfvec_index_test, public;

-- 2,000 rows in 20 clusters over 16 dimensions, stored as halfvec; queries
-- near rows.  Exact answers come from sequential scans of the same operators.
CREATE TABLE h (id int PRIMARY KEY, v halfvec(16));
INSERT INTO h SELECT i,
    (SELECT array_agg((i % 20) * 0.5 * cos(j * 0.9 + (i % 20)) + 0.3 * sin(i * 0.41 + j * 1.7))::halfvec(16)
       FROM generate_series(1, 16) j)
  FROM generate_series(1, 2000) i;
ANALYZE h;
CREATE TABLE hq AS SELECT id AS qid, (v::vector + array_fill(0.05, ARRAY[16])::vector)::halfvec(16) AS q
  FROM h WHERE id % 100 = 0;

CREATE FUNCTION knn(op text, k int) RETURNS TABLE (qid int, ids int[]) AS $$
    BEGIN
        RETURN QUERY EXECUTE format(
            'SELECT qid, array(SELECT id FROM h ORDER BY v %s q LIMIT %s) FROM hq ORDER BY qid', op, k);
    END $$ LANGUAGE plpgsql;
SET enable_indexscan = off;
CREATE TEMP TABLE exact AS
    SELECT '<->' op, * FROM knn('<->', 10) UNION ALL SELECT '<#>', * FROM knn('<#>', 10)
    UNION ALL SELECT '<=>', * FROM knn('<=>', 10) UNION ALL SELECT '<+>', * FROM knn('<+>', 10);
RESET enable_indexscan;
SET enable_seqscan = off;

-- Recall@10 against the exact answers: the true neighbours found by the 20
-- queries (of 200).
CREATE FUNCTION hits(op text) RETURNS bigint AS $$
    SELECT sum(cardinality(ARRAY(SELECT unnest(e.ids) INTERSECT SELECT unnest(a.ids))))
      FROM exact e JOIN knn($1, 10) a USING (qid) WHERE e.op = $1
$$ LANGUAGE sql;

CREATE FUNCTION index_hits(am text, opclass text, op text, options text) RETURNS bigint AS $$
    DECLARE
        n bigint;
    BEGIN
        EXECUTE format('CREATE INDEX h_idx ON h USING %s (v %s) %s', am, opclass, options);
        SELECT hits(op) INTO n;
        DROP INDEX h_idx;
        RETURN n;
    END $$ LANGUAGE plpgsql;

-- The plan uses the index.
CREATE INDEX h_idx ON h USING hnsw (v halfvec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM h ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 5;
DROP INDEX h_idx;

SET hnsw.ef_search = 100;
SELECT opclass, op, index_hits('hnsw', opclass, op, '') >= 196 AS hnsw_recall_at_least_098
  FROM (VALUES ('halfvec_l2_ops', '<->'), ('halfvec_ip_ops', '<#>'), ('halfvec_cosine_ops', '<=>'),
               ('halfvec_l1_ops', '<+>')) o(opclass, op);
SELECT index_hits('hnsw', 'halfvec_cosine_ops', '<=>', 'WITH (quantization = ''e8'')') >= 190 AS e8_recall_at_least_095;

-- ivf with every list probed: exact answers.
SET ivf.probes = 8;
SET ivfflat.probes = 8;
SELECT am, opclass, op, index_hits(am, opclass, op, 'WITH (lists = 8)') AS hits_of_200
  FROM (VALUES ('halfvec_l2_ops', '<->'), ('halfvec_ip_ops', '<#>'), ('halfvec_cosine_ops', '<=>')) o(opclass, op),
       (VALUES ('ivf'), ('ivfflat')) a(am)
  ORDER BY 1, 2;

-- Writes after the build go through the same conversion: each query,
-- inserted as a row, is its own nearest neighbour through either index.
CREATE INDEX h_ivf ON h USING ivf (v halfvec_l2_ops) WITH (lists = 8);
INSERT INTO h SELECT 10000 + qid, q FROM hq;
SELECT count(*) FILTER (WHERE (SELECT id FROM h ORDER BY v <-> q LIMIT 1) = 10000 + qid) AS ivf_found FROM hq;
DROP INDEX h_ivf;
CREATE INDEX h_hnsw ON h USING hnsw (v halfvec_l2_ops);
INSERT INTO h SELECT 20000 + qid, (q::vector + array_fill(0.01, ARRAY[16])::vector)::halfvec FROM hq;
SELECT count(*) FILTER (WHERE (SELECT id FROM h ORDER BY v <-> (q::vector + array_fill(0.01, ARRAY[16])::vector)::halfvec
                               LIMIT 1) = 20000 + qid) AS hnsw_found FROM hq;

-- Errors: a query of another dimension, a column without dimensions.
SELECT id FROM h ORDER BY v <-> '[1,2,3]'::halfvec LIMIT 1;
CREATE TABLE nodims (v halfvec);
CREATE INDEX ON nodims USING hnsw (v halfvec_l2_ops);

RESET search_path;
DROP SCHEMA halfvec_index_test CASCADE;
