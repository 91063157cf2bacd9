-- The hnsw access method's SQL surface: opclasses, options, GUCs, plans,
-- exact ordering, NULLs and zero vectors, and every error a user can meet.
-- Recall, crashes, replicas, concurrency and VACUUM are TAP tests (test/t).

CREATE TABLE t (id int PRIMARY KEY, category int, v vector(8));
-- 2,000 deterministic rows spread over 8 dimensions.
INSERT INTO t SELECT i, i % 100,
    (SELECT array_agg(sin(i * 0.37 + j * 1.91) * (1 + (i % 7)))::vector(8) FROM generate_series(1, 8) j)
  FROM generate_series(1, 2000) i;
ANALYZE t;

-- One index per opclass; each query's answer equals the exact answer and
-- comes in exact order.
CREATE TABLE queries AS SELECT id AS qid, v + '[0.1,-0.2,0.3,-0.1,0.2,0.05,-0.3,0.15]' AS q FROM t WHERE id % 200 = 0;
CREATE FUNCTION knn(op text, k int) RETURNS TABLE (qid int, ids int[]) AS $$
    BEGIN
        RETURN QUERY EXECUTE format(
            'SELECT qid, array(SELECT id FROM t ORDER BY v %s q LIMIT %s) FROM queries ORDER BY qid', op, k);
    END $$ LANGUAGE plpgsql;

CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops);
CREATE INDEX t_ip ON t USING hnsw (v vector_ip_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX t_cos ON t USING hnsw (v vector_cosine_ops) WITH (quantization = 'sq8');
CREATE INDEX t_l1 ON t USING hnsw (v vector_l1_ops);
CREATE INDEX t_l2_none ON t USING hnsw (v vector_l2_ops) WITH (quantization = 'none');

SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <#> '[1,2,3,4,5,6,7,8]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <+> '[1,2,3,4,5,6,7,8]' LIMIT 5;
-- No ORDER BY: never the hnsw index.
EXPLAIN (COSTS OFF) SELECT count(*) FROM t WHERE v IS NOT NULL;

CREATE TEMP TABLE approx AS
    SELECT '<->' op, * FROM knn('<->', 10) UNION ALL SELECT '<#>', * FROM knn('<#>', 10)
    UNION ALL SELECT '<=>', * FROM knn('<=>', 10) UNION ALL SELECT '<+>', * FROM knn('<+>', 10);
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE exact AS
    SELECT '<->' op, * FROM knn('<->', 10) UNION ALL SELECT '<#>', * FROM knn('<#>', 10)
    UNION ALL SELECT '<=>', * FROM knn('<=>', 10) UNION ALL SELECT '<+>', * FROM knn('<+>', 10);
RESET enable_indexscan;
RESET enable_bitmapscan;
-- Recall@10 per operator (1.000 expected on 2,000 rows at ef_search 40).
SELECT op, round(avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (e.ids)) / 10.0), 3) AS recall
  FROM approx a JOIN exact e USING (op, qid) GROUP BY op ORDER BY op;

-- Distances come back non-decreasing, through the index.
SET enable_seqscan = off;
SELECT bool_and(d >= lag_d) AS ordered FROM (
    SELECT v <-> '[3,1,4,1,5,9,2,6]' AS d, lag(v <-> '[3,1,4,1,5,9,2,6]') OVER () AS lag_d
      FROM (SELECT v FROM t ORDER BY v <-> '[3,1,4,1,5,9,2,6]' LIMIT 300) s) s WHERE lag_d IS NOT NULL;

-- Filters fill the LIMIT (iterative scan, on by default): 1% of rows match.
SHOW hnsw.iterative_scan;
SELECT count(*) FROM (SELECT id FROM t WHERE category = 42 ORDER BY v <-> '[1,0,1,0,1,0,1,0]' LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM t WHERE category = 42 ORDER BY v <-> '[1,0,1,0,1,0,1,0]' LIMIT 25) s;
SET hnsw.iterative_scan = off;
SET hnsw.ef_search = 10;
SELECT count(*) < 10 AS fewer_without_iterative_scan
  FROM (SELECT id FROM t WHERE category = 42 ORDER BY v <-> '[1,0,1,0,1,0,1,0]' LIMIT 10) s;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;

-- ORDER BY a NULL query: rows in some order, distances NULL.
SELECT count(*), count(d) FROM (SELECT v <-> NULL AS d FROM t ORDER BY v <-> NULL LIMIT 5) s;
-- Cosine to a zero query: every distance is NaN, rows still come.
SELECT count(*), bool_and(d = 'NaN') FROM (SELECT v <=> '[0,0,0,0,0,0,0,0]' AS d FROM t ORDER BY 1 LIMIT 5) s;

-- NULL vectors are not indexed; zero vectors are not indexed under cosine
-- (no direction), as in pgvector.
INSERT INTO t VALUES (5001, 0, NULL), (5002, 0, '[0,0,0,0,0,0,0,0]');
SELECT id FROM t ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 1;
-- All 2,000 other rows come back (strict_order holds late rows back, never drops them).
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <=> '[1,1,1,1,1,1,1,1]' LIMIT 3000) s;
RESET enable_seqscan;

-- Duplicates: many rows with one vector all come back.
CREATE TABLE dup (id int, v vector(3));
INSERT INTO dup SELECT i, '[1,2,3]' FROM generate_series(1, 300) i;
INSERT INTO dup SELECT i, array[i, -i, i * 2]::vector(3) FROM generate_series(301, 400) i;
CREATE INDEX ON dup USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE d = 0) AS zero_distance, count(*)
  FROM (SELECT v <-> '[1,2,3]' AS d FROM dup ORDER BY v <-> '[1,2,3]' LIMIT 320) s;
RESET enable_seqscan;

-- GUCs.
SHOW hnsw.ef_search;
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.iterative_scan = 'sometimes';
SET hnsw.max_scan_tuples = 0;

-- Option and definition errors.
CREATE INDEX ON t USING hnsw (v);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (m = 32, ef_construction = 40);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (quantization = 'e9');
CREATE INDEX ON t USING hnsw (v vector_l1_ops) WITH (quantization = 'sq8');
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (color = 'red');
CREATE INDEX ON t USING hnsw (category vector_l2_ops);
CREATE INDEX ON t USING hnsw (id, v vector_l2_ops);
CREATE TABLE nodim (v vector);
CREATE INDEX ON nodim USING hnsw (v vector_l2_ops);
CREATE TABLE wide (v vector(2100));
CREATE INDEX ON wide USING hnsw (v vector_l2_ops) WITH (quantization = 'none');
CREATE INDEX ON wide USING hnsw (v vector_l2_ops);
-- A query of the wrong dimension.
SET enable_seqscan = off;
SELECT id FROM t ORDER BY v <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;

-- Unlogged tables get an init fork; TRUNCATE and REINDEX work.
CREATE UNLOGGED TABLE u (id int, v vector(3));
CREATE INDEX u_idx ON u USING hnsw (v vector_l2_ops);
INSERT INTO u SELECT i, array[i, i % 7, i % 3]::vector(3) FROM generate_series(1, 100) i;
SET enable_seqscan = off;
SELECT id FROM u ORDER BY v <-> '[50,1,2]' LIMIT 3;
TRUNCATE u;
SELECT count(*) FROM (SELECT id FROM u ORDER BY v <-> '[50,1,2]' LIMIT 3) s;
INSERT INTO u VALUES (1, '[1,1,1]');
REINDEX INDEX u_idx;
SELECT id FROM u ORDER BY v <-> '[50,1,2]' LIMIT 3;
RESET enable_seqscan;

-- Rows inserted far outside the data an sq8 index learned its ranges from
-- (their codes clamped) are still found: for queries next to each, the
-- index's nearest row is the sequential scan's (before the fix, 3 of 10
-- under L2).  Each opclass gets a fresh copy of the table, so no deleted
-- row widens the ranges, built on one thread: a parallel build's graph
-- depends on the threads' timing, and on a loaded machine it sometimes
-- left 2 of the 10 unfound under L2 (8 runs: 10, 10, 10, 9, 10, 9, 10, 10).
-- The 10 rows inserted afterwards still draw their levels from the
-- session's random state (pg_global_prng_state, seeded per backend), so
-- the graph differs from run to run: 9 failed once in about 10 runs.  8 is
-- still far from the 3 of 10 before the fix.
CREATE TABLE drift (id int, v vector(16));
INSERT INTO drift SELECT i, (SELECT array_agg((i % 20) * 0.5 * cos(j * 0.9 + (i % 20)) + 0.3 * sin(i * 0.41 + j * 1.7))
                              FROM generate_series(1, 16) j)::vector(16)
  FROM generate_series(1, 2000) i;
CREATE TEMP TABLE far AS
  SELECT 10000 + k AS id, (SELECT array_agg(k * (30 + 5 * sin(j * k)) * (CASE WHEN (j + k) % 3 = 0 THEN 1 ELSE -1 END))
                             FROM generate_series(1, 16) j)::vector(16) AS v
    FROM generate_series(1, 10) k;
CREATE FUNCTION drift_agrees(opclass text, op text) RETURNS bigint AS $$
    DECLARE
        n bigint := 0;
        q vector;
        exact int;
        found int;
    BEGIN
        CREATE TEMP TABLE drift_copy AS SELECT * FROM drift;
        PERFORM set_config('max_parallel_maintenance_workers', '0', true);
        EXECUTE format('CREATE INDEX ON drift_copy USING hnsw (v %s) WITH (quantization = ''sq8'')', opclass);
        INSERT INTO drift_copy SELECT * FROM far;
        FOR q IN SELECT v + array_fill(0.01, ARRAY[16])::vector FROM far LOOP
            PERFORM set_config('enable_indexscan', 'off', true);
            PERFORM set_config('enable_seqscan', 'on', true);
            EXECUTE format('SELECT id FROM drift_copy ORDER BY v %s $1, id LIMIT 1', op) INTO exact USING q;
            PERFORM set_config('enable_indexscan', 'on', true);
            PERFORM set_config('enable_seqscan', 'off', true);
            EXECUTE format('SELECT id FROM drift_copy ORDER BY v %s $1 LIMIT 1', op) INTO found USING q;
            n := n + (exact = found)::int;
        END LOOP;
        DROP TABLE drift_copy;
        RETURN n;
    END $$ LANGUAGE plpgsql;
SELECT drift_agrees('vector_l2_ops', '<->') >= 8 AS l2, drift_agrees('vector_cosine_ops', '<=>') >= 8 AS cosine;
RESET enable_seqscan;
RESET enable_indexscan;

DROP TABLE t, queries, dup, nodim, wide, u, drift;
DROP FUNCTION drift_agrees;
DROP FUNCTION knn;
