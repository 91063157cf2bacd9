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
            'SELECT qid, array(SELECT id FROM s ORDER BY v %s q LIMIT %s) FROM sq ORDER BY qid', op, k);
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
       (VALUES ('WITH (quantization = ''none'')'), ('WITH (quantization = ''sq8'')'),
               ('WITH (quantization = ''sparse'')')) q(options),
       LATERAL index_check(opclass, op, options) c
  WHERE op <> '<+>' OR options NOT LIKE '%sq8%'
  ORDER BY 1, 3;

-- Writes after the build go through the same conversion: each query,
-- inserted as a row, is its own nearest neighbour.
CREATE INDEX s_hnsw ON s USING hnsw (v sparsevec_l2_ops);
INSERT INTO s SELECT 10000 + qid, q FROM sq;
SELECT count(*) FILTER (WHERE (SELECT id FROM s ORDER BY v <-> q LIMIT 1) = 10000 + qid) AS hnsw_found FROM sq;

-- Errors: a query of another dimension (dense and 'sparse' codes); dense
-- codes of a column beyond the 16,000 dimensions an index converts to;
-- 'sparse' on a vector column or in an ivf index.
SELECT id FROM s ORDER BY v <-> '{1:1}/3' LIMIT 1;
DROP INDEX s_hnsw;
CREATE INDEX s_hnsw ON s USING hnsw (v sparsevec_l2_ops) WITH (quantization = 'sparse');
SELECT id FROM s ORDER BY v <-> '{1:1}/3' LIMIT 1;
CREATE TABLE wide (v sparsevec(20000));
INSERT INTO wide VALUES ('{1:1}/20000');
CREATE INDEX ON wide USING hnsw (v sparsevec_l2_ops) WITH (quantization = 'e8');
CREATE TABLE mid (v sparsevec(10000));
CREATE INDEX ON mid USING hnsw (v sparsevec_l2_ops) WITH (quantization = 'sq8');
CREATE INDEX ON mid USING hnsw (v sparsevec_l2_ops);  -- 'sparse' by default past 2,000 dimensions
CREATE TABLE dense (v vector(3));
CREATE INDEX ON dense USING hnsw (v vector_l2_ops) WITH (quantization = 'sparse');
CREATE INDEX ON dense USING ivf (v vector_l2_ops) WITH (quantization = 'sparse');
SELECT vecdb_quantization_error('sparse', '[1,2,3]');

-- A vocabulary-sized column (30,522 dimensions, as SPLADE's) indexes its
-- elements by default ('sparse').  1,500 rows of 4 to 9 elements: the build
-- sizes elements for 99% of them (8 here); rows inserted later with 40
-- elements keep their 8 largest and are marked truncated (counted as
-- clamped by vecdb_index_check).  Recall@10 against sequential scans, long
-- rows included (as queries too: a query keeps all its elements).  Every
-- row comes with a bound the executor checks against its distance ("index
-- returned tuples in wrong order" if above it): a truncated row's must
-- allow for the elements it lost.
CREATE TABLE splade (id int PRIMARY KEY, v sparsevec(30522));
INSERT INTO splade SELECT i,
    ('{' || (SELECT string_agg(k || ':' || round((1.1 + sin(k * 0.3 + i))::numeric, 3), ',' ORDER BY k)
               FROM (SELECT DISTINCT 1 + ((i % 25) * 1201 + (j * j + i * j) % 40 * 613) % 30522 AS k
                       FROM generate_series(1, 4 + i % 6) j) ks) || '}/30522')::sparsevec
  FROM generate_series(1, 1500) i;
CREATE INDEX splade_ip ON splade USING hnsw (v sparsevec_ip_ops);
CREATE INDEX splade_l2 ON splade USING hnsw (v sparsevec_l2_ops);
INSERT INTO splade SELECT 5000 + i,
    ('{' || (SELECT string_agg(k || ':' || round((1.1 + cos(k * 0.7 + i))::numeric, 3), ',' ORDER BY k)
               FROM (SELECT DISTINCT 1 + ((i % 25) * 1201 + j * 613) % 30522 AS k
                       FROM generate_series(1, 40) j) ks) || '}/30522')::sparsevec
  FROM generate_series(1, 30) i;
-- Beside each long row, its 8 largest elements scaled by 1.2: nearer by
-- inner product than the long row's 8 kept elements say it is, farther
-- than the row really is.  A truncated row's bound has to allow for what
-- it lost, or such a row would come first.
INSERT INTO splade SELECT id + 1000,
    ('{' || (SELECT string_agg(k || ':' || round(x * 1.2, 3), ',' ORDER BY k)
               FROM (SELECT m[1]::int k, m[2]::numeric x FROM regexp_matches(v::text, '(\d+):([-0-9.e]+)', 'g') m
                      ORDER BY abs(m[2]::numeric) DESC, m[1]::int LIMIT 8) t) || '}/30522')::sparsevec
  FROM splade WHERE id > 5000;
SELECT item, value FROM vecdb_index_check('splade_ip') WHERE item IN ('elements', 'unreachable', 'clamped');
CREATE TEMP TABLE splade_q AS SELECT id AS qid, v AS q FROM splade WHERE id % 97 = 0 OR id BETWEEN 5001 AND 5999;
CREATE FUNCTION splade_knn(op text) RETURNS TABLE (qid int, ids int[]) AS $$
    BEGIN
        RETURN QUERY EXECUTE format(
            'SELECT qid, array(SELECT id FROM splade ORDER BY v %s q LIMIT 10) FROM splade_q ORDER BY qid', op);
    END $$ LANGUAGE plpgsql;
SET enable_seqscan = on;
SET enable_indexscan = off;
CREATE TEMP TABLE splade_exact AS
    SELECT '<#>' op, * FROM splade_knn('<#>') UNION ALL SELECT '<->', * FROM splade_knn('<->');
RESET enable_indexscan;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM splade ORDER BY v <#> '{1:1}/30522' LIMIT 5;
SELECT op, count(*) AS queries,
       sum(cardinality(ARRAY(SELECT unnest(e.ids) INTERSECT SELECT unnest(a.ids)))) >= 0.9 * count(*) * 10
         AS recall_at_least_090
  FROM splade_exact e JOIN (SELECT '<#>' op, * FROM splade_knn('<#>') UNION ALL
                            SELECT '<->', * FROM splade_knn('<->')) a USING (op, qid)
  GROUP BY op ORDER BY op;

-- A column of no dimension count: scans spread a query over an array as
-- wide as its largest index (a row's elements past it count 0), or merge
-- when that index is past 2^20.  With ef_search past the row count, the
-- index's ten nearest distances are the exact ones.
CREATE TABLE anywidth (id int, v sparsevec);
INSERT INTO anywidth SELECT i, format('{%s:%s,%s:1.5}/2000000', 1 + i % 50, i, 1 + (i * 7919) % 1999999)::sparsevec
  FROM generate_series(1, 400) i;
CREATE INDEX anywidth_ip ON anywidth USING hnsw (v sparsevec_ip_ops);
CREATE TEMP TABLE anywidth_q (q sparsevec);
INSERT INTO anywidth_q VALUES ('{3:1}/2000000'), ('{3:1,1999999:2}/2000000'),
    ((SELECT v FROM anywidth WHERE id = 77)), ('{1:0.5,50:1}/2000000');
CREATE FUNCTION anywidth_knn() RETURNS SETOF float8[] AS
    'SELECT array(SELECT v <#> q FROM anywidth ORDER BY v <#> q LIMIT 10) FROM anywidth_q' LANGUAGE sql;
SET enable_seqscan = off;
SET hnsw.ef_search = 500;
EXPLAIN (COSTS OFF) SELECT id FROM anywidth ORDER BY v <#> '{3:1}/2000000' LIMIT 10;
CREATE TEMP TABLE anywidth_index AS SELECT anywidth_knn() d;
DROP INDEX anywidth_ip;
SELECT (SELECT array_agg(d) FROM anywidth_index) = (SELECT array_agg(d) FROM anywidth_knn() d) AS exact_distances;

RESET enable_seqscan;
RESET hnsw.ef_search;
RESET search_path;
DROP SCHEMA sparsevec_index_test CASCADE;
