-- The ivf access method's SQL surface (and pgvector's ivfflat spelling):
-- opclasses, options, GUCs, plans, exact ordering, NULLs and zero vectors,
-- extreme values, writes, and every error a user can meet.  Recall,
-- crashes, replicas and concurrency are TAP tests (test/t/011_ivf.pl).

-- Its own schema: the suites share one database.
CREATE SCHEMA ivf_test;
SET search_path = ivf_test, public;

CREATE TABLE t (id int PRIMARY KEY, category int, v vector(8));
-- 3,000 deterministic rows in 30 clusters over 8 dimensions.
INSERT INTO t SELECT i, i % 100,
    (SELECT array_agg((i % 30) * 0.7 * cos(j * 1.3 + (i % 30)) + 0.4 * sin(i * 0.37 + j * 1.91))::vector(8)
       FROM generate_series(1, 8) j)
  FROM generate_series(1, 3000) i;
ANALYZE t;

CREATE TABLE queries AS SELECT id AS qid, v + '[0.1,-0.2,0.3,-0.1,0.2,0.05,-0.3,0.15]' AS q FROM t WHERE id % 300 = 0;
CREATE FUNCTION knn(op text, k int) RETURNS TABLE (qid int, ids int[]) AS $$
    BEGIN
        RETURN QUERY EXECUTE format(
            'SELECT qid, array(SELECT id FROM t ORDER BY v %s q LIMIT %s) FROM queries ORDER BY qid', op, k);
    END $$ LANGUAGE plpgsql;
CREATE TEMP TABLE exact AS
    SELECT '<->' op, * FROM knn('<->', 10) UNION ALL SELECT '<#>', * FROM knn('<#>', 10)
    UNION ALL SELECT '<=>', * FROM knn('<=>', 10);

-- Defaults: ivf reads 10 lists and goes on while rows are wanted; ivfflat
-- keeps pgvector's defaults (1 list, no iterative scan).
SHOW ivf.probes;
SHOW ivf.iterative_scan;
SHOW ivf.max_probes;
SHOW ivfflat.probes;
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;
SET ivf.iterative_scan = strict_order;
SET ivf.probes = 0;

-- One index per opclass and code, every list probed: an exhaustive scan,
-- so each answer equals the exact one, in exact order.
CREATE INDEX t_l2 ON t USING ivf (v vector_l2_ops) WITH (lists = 20);
CREATE INDEX t_ip ON t USING ivf (v vector_ip_ops) WITH (lists = 20, quantization = 'none');
CREATE INDEX t_cos ON t USING ivfflat (v vector_cosine_ops) WITH (lists = 20);
SELECT c.relname, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname LIKE 't\_%' ORDER BY 1;
SET enable_seqscan = off;
SET ivf.probes = 20;
SET ivfflat.probes = 20;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <#> '[1,2,3,4,5,6,7,8]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 5;
-- The shape knn() runs: an index scan per query.
EXPLAIN (COSTS OFF) SELECT qid, array(SELECT id FROM t ORDER BY v <-> q LIMIT 10) FROM queries;
-- No ORDER BY: never an ivf index.
EXPLAIN (COSTS OFF) SELECT count(*) FROM t WHERE v IS NOT NULL;
SELECT e.op, count(*) AS queries, count(*) FILTER (WHERE e.ids = a.ids) AS exact_answers
  FROM exact e JOIN (SELECT '<->' op, * FROM knn('<->', 10) UNION ALL SELECT '<#>', * FROM knn('<#>', 10)
                     UNION ALL SELECT '<=>', * FROM knn('<=>', 10)) a USING (op, qid)
  GROUP BY 1 ORDER BY 1;
DROP INDEX t_l2, t_ip, t_cos;

-- Every code, every list probed: exact answers.
CREATE FUNCTION exact_answers(code text, operator text, opclass text) RETURNS bigint AS $$
    DECLARE
        n bigint;
    BEGIN
        EXECUTE format('CREATE INDEX t_code ON t USING ivf (v %s) WITH (lists = 16, quantization = %L)', opclass, code);
        SET LOCAL ivf.probes = 16;
        SELECT count(*) INTO n FROM exact e JOIN knn(operator, 10) a USING (qid) WHERE e.op = operator AND e.ids = a.ids;
        DROP INDEX t_code;
        RETURN n;
    END $$ LANGUAGE plpgsql;
SELECT code, exact_answers(code, '<->', 'vector_l2_ops') AS l2, exact_answers(code, '<=>', 'vector_cosine_ops') AS cosine,
       exact_answers(code, '<#>', 'vector_ip_ops') AS ip
  FROM unnest(ARRAY['none', 'sq8', 'e8', 'e8_4bit', 'h4', 'binary']) code;

-- A round keeps its best 64 rows in order and the rest unordered until the
-- executor asks for them; a WHERE clause that keeps 1 row in 100 takes it
-- past those 64.  Every list probed, the answers are still exact.
CREATE FUNCTION filtered_exact(operator text, opclass text) RETURNS bigint AS $$
    DECLARE
        n bigint;
        query text := format('SELECT qid, array(SELECT id FROM t WHERE category = 7 ORDER BY v %s q LIMIT 10) ids
                              FROM queries', operator);
    BEGIN
        EXECUTE format('CREATE INDEX t_code ON t USING ivf (v %s) WITH (lists = 16)', opclass);
        SET LOCAL ivf.probes = 16;
        EXECUTE 'CREATE TEMP TABLE by_index AS ' || query;
        SET LOCAL enable_indexscan = off;
        EXECUTE 'CREATE TEMP TABLE by_scan AS ' || query;
        SELECT count(*) INTO n FROM by_index i JOIN by_scan s USING (qid) WHERE i.ids = s.ids AND cardinality(i.ids) = 10;
        DROP TABLE by_index, by_scan;
        DROP INDEX t_code;
        RETURN n;
    END $$ LANGUAGE plpgsql;
SELECT count(*) AS queries, filtered_exact('<->', 'vector_l2_ops') AS l2, filtered_exact('<=>', 'vector_cosine_ops') AS cosine,
       filtered_exact('<#>', 'vector_ip_ops') AS ip
  FROM queries;

-- Fewer lists probed: still exact order among the rows returned.
CREATE INDEX t_l2 ON t USING ivf (v vector_l2_ops) WITH (lists = 20);
SET ivf.probes = 3;
SET ivf.iterative_scan = off;
SELECT bool_and(d = (SELECT array_agg(x ORDER BY x) FROM unnest(d) x)) AS ordered, min(cardinality(d)) AS fewest_rows
  FROM (SELECT array(SELECT v <-> q FROM t ORDER BY v <-> q LIMIT 10) d FROM queries) s;

-- A WHERE clause that rejects most rows: relaxed_order reads further lists
-- until the LIMIT is filled; off stops at the probed lists.
SET ivf.probes = 1;
SELECT count(*) AS rows_off FROM (SELECT id FROM t WHERE category = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 20) s;
SET ivf.iterative_scan = relaxed_order;
SELECT count(*) AS rows_relaxed FROM (SELECT id FROM t WHERE category = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 20) s;
SET ivf.max_probes = 2;
SELECT count(*) <= 20 AS capped FROM (SELECT id FROM t WHERE category = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 20) s;
RESET ivf.max_probes;
RESET ivf.probes;

-- NULL query: rows in no particular order, distance NULL.
SELECT count(*), count(d) FROM (SELECT v <-> NULL d FROM t ORDER BY v <-> NULL LIMIT 5) s;

-- Inserts, deletes and VACUUM keep the index exact.
INSERT INTO t SELECT i, i % 100, (SELECT array_agg(sin(i * 0.11 + j))::vector(8) FROM generate_series(1, 8) j)
  FROM generate_series(3001, 4000) i;
DELETE FROM t WHERE id % 4 = 0;
VACUUM t;
SET ivf.probes = 20;
SELECT count(*) AS queries, count(*) FILTER (WHERE ids = array(SELECT id FROM t ORDER BY v <-> q, id LIMIT 10)) AS exact
  FROM (SELECT qid, q, array(SELECT id FROM t ORDER BY v <-> q LIMIT 10) ids FROM queries) s;
SELECT count(*) AS indexed FROM (SELECT id FROM t ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 100000) s;
SELECT count(*) FROM t;
DROP INDEX t_l2;

-- NULL vectors are not indexed; nor are zero vectors under cosine.
CREATE TABLE z (id int, v vector(3));
INSERT INTO z VALUES (1, '[1,0,0]'), (2, '[0,0,0]'), (3, NULL), (4, '[0,1,0]');
CREATE INDEX ON z USING ivf (v vector_cosine_ops);
INSERT INTO z VALUES (5, '[0,0,0]'), (6, NULL), (7, '[1,1,0]');
SELECT id FROM z ORDER BY v <=> '[1,0,0]' LIMIT 10;
-- Cosine to a zero query: the operator gives NaN for every row.
SELECT id, v <=> '[0,0,0]' AS d FROM z ORDER BY v <=> '[0,0,0]', id LIMIT 10;

-- An index created on an empty table: one list, filled by inserts.
CREATE TABLE e (id int, v vector(4));
CREATE INDEX e_ivf ON e USING ivf (v vector_l2_ops) WITH (lists = 50);
INSERT INTO e SELECT i, ARRAY[i % 7, i % 11, i % 13, i % 17]::vector FROM generate_series(1, 500) i;
SET ivf.probes = 1;
SELECT array(SELECT id FROM e ORDER BY v <-> '[3,3,3,3]', id LIMIT 5) AS ids;
SELECT count(*) FROM (SELECT id FROM e ORDER BY v <-> '[3,3,3,3]' LIMIT 1000) s;
-- REINDEX gives the lists asked for.
REINDEX INDEX e_ivf;
SET ivf.iterative_scan = off;
SELECT count(*) < 500 AS fewer_rows_from_one_list FROM (SELECT id FROM e ORDER BY v <-> '[3,3,3,3]' LIMIT 1000) s;
SET ivf.iterative_scan = relaxed_order;

-- Extreme but valid values: no error, no hang, exact answers with every list probed.
SET statement_timeout = '60s';
CREATE TABLE x (id int, v vector(4));
INSERT INTO x SELECT i, ARRAY[(ARRAY[1e-44, 1e-30, 1, 1e20, 3e38])[1 + i % 5] * sin(i), cos(i), -3.4e38 * (i % 2), 1e-40]::vector
  FROM generate_series(1, 300) i;
CREATE INDEX x_l2 ON x USING ivf (v vector_l2_ops) WITH (lists = 8);
CREATE INDEX x_cos ON x USING ivf (v vector_cosine_ops) WITH (lists = 8, quantization = 'e8');
SET ivf.probes = 8;
CREATE TEMP TABLE x_queries AS SELECT v AS q FROM x WHERE id % 30 = 0 UNION ALL SELECT '[3e38,1,0,0]' UNION ALL SELECT '[1e-44,0,0,1e-40]';
CREATE TEMP TABLE x_index AS SELECT q, array(SELECT v <-> q FROM x ORDER BY v <-> q LIMIT 10) AS l2,
    array(SELECT v <=> q FROM x ORDER BY v <=> q LIMIT 10) AS cosine FROM x_queries;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT count(*) AS queries, count(*) FILTER (WHERE l2 = array(SELECT v <-> q FROM x ORDER BY v <-> q LIMIT 10)) AS l2_exact,
       count(*) FILTER (WHERE cosine = array(SELECT v <=> q FROM x ORDER BY v <=> q LIMIT 10)) AS cosine_exact
  FROM x_index;
RESET enable_indexscan;
SET enable_seqscan = off;
RESET statement_timeout;

-- Partial and expression indexes, partitions, unlogged tables, concurrent builds.
CREATE INDEX t_part ON t USING ivf (v) WHERE category < 10;
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE category < 10 ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 3;
DROP INDEX t_part;
CREATE INDEX t_expr ON t USING ivf ((v::vector(8)) vector_l2_ops) WITH (lists = 4);
DROP INDEX t_expr;
CREATE TABLE p (id int, v vector(3)) PARTITION BY RANGE (id);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);
CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200);
INSERT INTO p SELECT i, ARRAY[i, i % 10, 1]::vector FROM generate_series(0, 199) i;
CREATE INDEX ON p USING ivf (v vector_l2_ops) WITH (lists = 2);
SET ivf.probes = 2;
EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY v <-> '[50,5,1]' LIMIT 3;
SELECT id FROM p ORDER BY v <-> '[150,5,1]' LIMIT 3;
CREATE UNLOGGED TABLE u (id int, v vector(3));
CREATE INDEX u_ivf ON u USING ivf (v);
INSERT INTO u SELECT i, ARRAY[i, 0, 0]::vector FROM generate_series(1, 100) i;
SELECT id FROM u ORDER BY v <-> '[42,0,0]' LIMIT 3;
CREATE INDEX CONCURRENTLY t_conc ON t USING ivf (v vector_l2_ops) WITH (lists = 10);
REINDEX INDEX CONCURRENTLY t_conc;
SET ivf.probes = 10;
CREATE TEMP TABLE conc AS SELECT array(SELECT id FROM t ORDER BY v <-> '[1,1,1,1,1,1,1,1]', id LIMIT 5) AS ids;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT ids = array(SELECT id FROM t ORDER BY v <-> '[1,1,1,1,1,1,1,1]', id LIMIT 5) AS same_as_seqscan FROM conc;
RESET enable_indexscan;
SET enable_seqscan = off;

-- Errors.
CREATE INDEX ON t USING ivf (v) WITH (quantization = 'pq');
CREATE INDEX ON t USING ivf (v) WITH (lists = 40000);
CREATE INDEX ON t USING ivf (v) WITH (m = 16);
CREATE INDEX ON t USING ivf (v vector_l1_ops);
CREATE INDEX ON t USING ivf (id);
CREATE INDEX ON t USING ivf (v, category);
CREATE TABLE nodims (v vector);
CREATE INDEX ON nodims USING ivf (v);
CREATE TABLE wide (v vector(2001));
CREATE INDEX ON wide USING ivf (v);
CREATE INDEX ON wide USING ivfflat (v);
SELECT id FROM t ORDER BY v <-> '[1,2,3]' LIMIT 1;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA ivf_test CASCADE;
RESET client_min_messages;
