-- Codes an hnsw index can store (quantization = 'e8', 'e8_4bit', 'h4',
-- 'binary', next to 'sq8' and 'none') and the functions that inspect them.
-- Recall on larger data and standby replay of an e8 index are TAP tests.

-- Bits per dimension, the 12-byte header included: e8 and h4 2 bits/dim,
-- e8_4bit 4, binary 1, sq8 8, none 32 (dimensions padded to 8 for the
-- rotated codes).
SELECT m, vecdb_quantization_bits(m, 128) AS bits_128, round(vecdb_quantization_bits(m, 100)::numeric, 2) AS bits_100
  FROM unnest(ARRAY['none', 'sq8', 'e8', 'e8_4bit', 'h4', 'binary']) m;

-- Round trips: dimensions kept, 'none' exact, errors ordered by bits.
CREATE TABLE qv AS SELECT i, (SELECT array_agg(sin(i * 1.3 + j * 0.71) + cos(j * i * 0.05))::vector(96)
                                FROM generate_series(1, 96) j) AS v
  FROM generate_series(1, 50) i;
SELECT bool_and(vector_dims(vecdb_quantize('e8', v)) = 96) AS dims_kept,
       bool_and(vecdb_quantize('none', v) = v) AS none_exact,
       bool_and(vecdb_quantization_error('none', v) = 0) AS none_no_error
  FROM qv;
-- Mean relative squared error per code (Gaussian-like data: e8 ~0.09,
-- h4 ~0.11, e8_4bit ~0.008, binary ~0.36; lattice.md).
SELECT m, avg(vecdb_quantization_error(m, v)) BETWEEN lo AND hi AS error_in_expected_range
  FROM qv, (VALUES ('sq8', 0, 0.001), ('e8_4bit', 0.003, 0.02), ('e8', 0.05, 0.15), ('h4', 0.06, 0.17),
                   ('binary', 0.25, 0.45)) r(m, lo, hi)
 GROUP BY m, lo, hi ORDER BY hi;
-- A reconstruction is near the vector: |v - v^| = sqrt(error) |v|.
SELECT bool_and(abs((v <-> vecdb_quantize('e8', v)) - sqrt(vecdb_quantization_error('e8', v)) * vector_norm(v))
                < 1e-4 * vector_norm(v)) AS consistent
  FROM qv;
SELECT vecdb_quantization_error('e8', '[0,0,0,0]');
SELECT vecdb_quantize('e8', '[0,0,0,0]');
SELECT vecdb_quantization_error('e9', '[1,2,3]');
SELECT vecdb_quantization_bits('e8', 0);

-- Indexes on each code: answers come in exact order (the scan re-ranks its
-- candidates on the table rows) but for rare rows found late, and recall@10
-- is high.
CREATE TABLE t (id int PRIMARY KEY, category int, v vector(16));
INSERT INTO t SELECT i, i % 100,
    (SELECT array_agg(sin(i * 0.37 + j * 1.91) * (1 + (i % 7)) + cos(i * 0.11 * j))::vector(16)
       FROM generate_series(1, 16) j)
  FROM generate_series(1, 2000) i;
ANALYZE t;
CREATE TABLE queries AS SELECT id AS qid, v + array_fill(0.15, ARRAY[16])::vector(16) AS q FROM t WHERE id % 100 = 0;
CREATE FUNCTION knn(op text) RETURNS TABLE (qid int, ids int[]) AS $$
    BEGIN
        RETURN QUERY EXECUTE format(
            'SELECT qid, array(SELECT id FROM t ORDER BY v %s q LIMIT 10) FROM queries ORDER BY qid', op);
    END $$ LANGUAGE plpgsql;
CREATE TEMP TABLE exact AS
    SELECT '<->' op, * FROM knn('<->') UNION ALL SELECT '<#>', * FROM knn('<#>') UNION ALL SELECT '<=>', * FROM knn('<=>');

-- Builds the three indexes of one code, then per operator: recall@10 against
-- `exact`, and whether the first 300 rows come in non-decreasing order but
-- for at most 3 (a row the walk finds after a farther one went out comes
-- late: the README's strict_order entry).
CREATE FUNCTION check_code(code text) RETURNS TABLE (op text, recall numeric, ordered bool) AS $$
    DECLARE o text;
    BEGIN
        EXECUTE format('CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops) WITH (quantization = %L)', code);
        EXECUTE format('CREATE INDEX t_ip ON t USING hnsw (v vector_ip_ops) WITH (quantization = %L)', code);
        EXECUTE format('CREATE INDEX t_cos ON t USING hnsw (v vector_cosine_ops) WITH (quantization = %L)', code);
        SET LOCAL enable_seqscan = off;
        FOREACH o IN ARRAY ARRAY['<->', '<#>', '<=>'] LOOP
            op := o;
            SELECT round(avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (e.ids)) / 10.0), 2)
              INTO recall FROM knn(o) a JOIN exact e USING (qid) WHERE e.op = o;
            EXECUTE format('SELECT count(*) FILTER (WHERE d < lag_d) <= 3 FROM (SELECT d, lag(d) OVER () AS lag_d FROM '
                           '(SELECT v %s ''[1,-2,3,-4,5,-6,7,-8,1,-2,3,-4,5,-6,7,-8]'' AS d FROM t ORDER BY 1 LIMIT 300) s) s '
                           'WHERE lag_d IS NOT NULL', o) INTO ordered;
            RETURN NEXT;
        END LOOP;
        DROP INDEX t_l2, t_ip, t_cos;
    END $$ LANGUAGE plpgsql;
SELECT 'e8' code, op, recall >= 0.95 AS recall_ok, ordered FROM check_code('e8');
SELECT 'e8_4bit' code, op, recall >= 0.95 AS recall_ok, ordered FROM check_code('e8_4bit');
SELECT 'h4' code, op, recall >= 0.95 AS recall_ok, ordered FROM check_code('h4');
SELECT 'binary' code, op, recall >= 0.8 AS recall_ok, ordered FROM check_code('binary');

CREATE INDEX t_e8 ON t USING hnsw (v vector_l2_ops) WITH (quantization = 'e8');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]' LIMIT 5;
-- The ORDER BY values are the operator's: the same rows and order as exact search.
SELECT array(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 77) LIMIT 5) =
       array(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 77), id LIMIT 5) AS same_first_rows;
-- A 1% filter still fills the LIMIT.
SELECT count(*) FROM (SELECT id FROM t WHERE category = 42 ORDER BY v <-> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' LIMIT 10) s;
-- Rows the snapshot does not see are skipped by the re-rank, and rows it
-- sees are not lost.
BEGIN;
DELETE FROM t WHERE id <= 1000;
SELECT count(*) AS visible, bool_and(id > 1000) AS only_live
  FROM (SELECT id FROM t ORDER BY v <-> '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]' LIMIT 2000) s;
ROLLBACK;
UPDATE t SET v = array_fill(100, ARRAY[16])::vector(16) WHERE id = 5;
SELECT id FROM t ORDER BY v <-> array_fill(99, ARRAY[16])::vector(16) LIMIT 1;
-- An expression index re-ranks on the expression's value.
CREATE INDEX t_expr ON t USING hnsw ((l2_normalize(v)::vector(16)) vector_l2_ops) WITH (quantization = 'h4');
DROP INDEX t_e8;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY l2_normalize(v)::vector(16) <-> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5;
SELECT array(SELECT id FROM t ORDER BY l2_normalize(v)::vector(16) <-> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5) =
       array(SELECT id FROM t ORDER BY l2_normalize(v)::vector(16) <-> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]', id LIMIT 5)
       AS expression_same_first_rows;
-- ALTER INDEX ... SET (quantization) takes effect at the next REINDEX: the
-- metapage records the code an index was built with.
CREATE INDEX t_alter ON t USING hnsw (v vector_l2_ops) WITH (quantization = 'e8');
SELECT pg_relation_size('t_alter') AS e8_size \gset
ALTER INDEX t_alter SET (quantization = 'sq8');
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]' LIMIT 5) s;
REINDEX INDEX t_alter;
SELECT pg_relation_size('t_alter') > :e8_size AS sq8_codes_are_larger;
ALTER INDEX t_alter SET (quantization = 'e9');
RESET enable_seqscan;
SET hnsw.rerank_window = 0;
SET hnsw.rerank_window = 10;
SHOW hnsw.rerank_window;
RESET hnsw.rerank_window;

-- Option errors.
CREATE INDEX ON t USING hnsw (v vector_l1_ops) WITH (quantization = 'e8');
-- Many dimensions fit e8 codes (2 bits/dim) where fp32 ones do not.
CREATE TABLE wide (v vector(4000));
CREATE INDEX ON wide USING hnsw (v vector_l2_ops) WITH (quantization = 'none');
CREATE INDEX ON wide USING hnsw (v vector_l2_ops) WITH (quantization = 'e8');
DROP TABLE wide, t, queries, qv;
DROP FUNCTION knn(text), check_code(text);
