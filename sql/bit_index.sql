-- bit columns in hnsw, ivf and ivfflat indexes (bit_hamming_ops): each bit
-- string is indexed as a vector of 0s and 1s, whose squared L2 distance is
-- the Hamming distance; and hnsw's bit_jaccard_ops, on the same vectors.
-- Both store the bits themselves by default (quantization = 'bit', exact).
CREATE SCHEMA bit_index_test;
SET search_path = bit_index_test, public;

-- 1,200 rows of 64 bits: binary_quantize of 20 clusters of 64-dimensional
-- vectors; queries are rows with a few bits flipped.  Exact answers come
-- from sequential scans.
CREATE TABLE b (id int PRIMARY KEY, v bit(64));
INSERT INTO b SELECT i,
    binary_quantize((SELECT array_agg(cos(j * 0.9 + (i % 20) * 1.3) + 0.6 * sin(i * 0.41 + j * 1.7))
                       FROM generate_series(1, 64) j)::vector)::bit(64)
  FROM generate_series(1, 1200) i;
ANALYZE b;
CREATE TABLE bq AS SELECT id AS qid, v # (B'1001' || repeat('0', 60))::bit(64) AS q FROM b WHERE id % 60 = 0;

-- Hamming distances tie often, so answers are compared as distances: the
-- index's k-th distance list against the exact one.
CREATE FUNCTION knn_distances() RETURNS TABLE (qid int, d float8[]) AS $$
    SELECT qid, array(SELECT v <~> q FROM b ORDER BY v <~> q LIMIT 10) FROM bq ORDER BY qid
$$ LANGUAGE sql;
SET enable_indexscan = off;
CREATE TEMP TABLE exact AS SELECT * FROM knn_distances();
RESET enable_indexscan;
SET enable_seqscan = off;

-- Queries (of 20) whose 10 distances, in the order the index returned them,
-- equal the exact ones: in order and nothing nearer missed.
CREATE FUNCTION matches(am text, options text) RETURNS bigint AS $$
    DECLARE
        n bigint;
    BEGIN
        EXECUTE format('CREATE INDEX b_idx ON b USING %s (v bit_hamming_ops) %s', am, options);
        SELECT count(*) FILTER (WHERE e.d = a.d) INTO n FROM exact e JOIN knn_distances() a USING (qid);
        DROP INDEX b_idx;
        RETURN n;
    END $$ LANGUAGE plpgsql;

-- The plan uses the index, and the ORDER BY value is the Hamming distance.
CREATE INDEX b_idx ON b USING hnsw (v bit_hamming_ops);
EXPLAIN (COSTS OFF) SELECT id FROM b ORDER BY v <~> (SELECT q FROM bq WHERE qid = 60) LIMIT 5;
SELECT v <~> (SELECT q FROM bq WHERE qid = 60) AS d FROM b ORDER BY v <~> (SELECT q FROM bq WHERE qid = 60) LIMIT 3;
DROP INDEX b_idx;

SET hnsw.ef_search = 100;
SELECT matches('hnsw', '') >= 19 AS hnsw_bit,
       matches('hnsw', 'WITH (quantization = ''none'')') >= 19 AS hnsw_none,
       matches('hnsw', 'WITH (quantization = ''sq8'')') >= 19 AS hnsw_sq8;
-- ivf with every list probed: exact, with the bit code (the default) and sq8.
SET ivf.probes = 8;
SET ivfflat.probes = 8;
SELECT matches('ivf', 'WITH (lists = 8)') AS ivf, matches('ivfflat', 'WITH (lists = 8)') AS ivfflat,
       matches('ivf', 'WITH (lists = 8, quantization = ''sq8'')') AS ivf_sq8;

-- What each code costs: 1,024-bit rows take 132 bytes as 'bit' codes
-- (4 + 128), 1,036 as 'sq8', 4,096 as 'none' (64 rows, so that the builds
-- stay cheap under Valgrind: at 300 they took 50 s of its run; 'none' needs
-- no rows to learn from).
CREATE TABLE wide (id int, v bit(1024));
INSERT INTO wide SELECT i, (SELECT string_agg(('x' || md5(i || ':' || k))::bit(128)::text, '')
                              FROM generate_series(1, 8) k)::bit(1024) FROM generate_series(1, 64) i;
CREATE INDEX wide_bit ON wide USING hnsw (v bit_hamming_ops);
CREATE INDEX wide_none ON wide USING hnsw (v bit_hamming_ops) WITH (quantization = 'none');
SELECT pg_relation_size('wide_bit') * 8 < pg_relation_size('wide_none') AS bit_under_an_eighth_of_none;
DROP TABLE wide;

-- Up to 16,000 bits in an hnsw index (vector's limit; 8,003 with sq8 codes,
-- 2,003 with 'none' at m = 16): exact Hamming order on 20 rows.
CREATE TABLE widest (id int, v bit(16000));
INSERT INTO widest SELECT i, (SELECT string_agg(('x' || md5(i || ':' || k))::bit(128)::text, '')
                                FROM generate_series(1, 125) k)::bit(16000) FROM generate_series(1, 20) i;
CREATE INDEX ON widest USING hnsw (v bit_hamming_ops);
CREATE INDEX ON widest USING hnsw (v bit_jaccard_ops);
SELECT array(SELECT v <~> (SELECT v FROM widest WHERE id = 7) FROM widest
             ORDER BY v <~> (SELECT v FROM widest WHERE id = 7) LIMIT 5) =
       array(SELECT v <~> (SELECT v FROM widest WHERE id = 7) FROM widest
             ORDER BY (v <~> (SELECT v FROM widest WHERE id = 7)) + 0 LIMIT 5) AS hamming_exact,
       array(SELECT v <%> (SELECT v FROM widest WHERE id = 7) FROM widest
             ORDER BY v <%> (SELECT v FROM widest WHERE id = 7) LIMIT 5) =
       array(SELECT v <%> (SELECT v FROM widest WHERE id = 7) FROM widest
             ORDER BY (v <%> (SELECT v FROM widest WHERE id = 7)) + 0 LIMIT 5) AS jaccard_exact;
DROP TABLE widest;
CREATE TABLE too_wide (v bit(16001));
CREATE INDEX ON too_wide USING hnsw (v bit_hamming_ops);
DROP TABLE too_wide;

-- The pattern pgvector documents: an expression index on binary_quantize,
-- used by a query that re-ranks its candidates with the exact distance.
CREATE TABLE items (id int, embedding vector(64));
INSERT INTO items SELECT i, (SELECT array_agg(cos(j * 0.9 + (i % 20) * 1.3) + 0.6 * sin(i * 0.41 + j * 1.7))
                               FROM generate_series(1, 64) j)::vector FROM generate_series(1, 1200) i;
CREATE INDEX ON items USING hnsw ((binary_quantize(embedding)::bit(64)) bit_hamming_ops);
EXPLAIN (COSTS OFF) SELECT id FROM items
  ORDER BY binary_quantize(embedding)::bit(64) <~> binary_quantize('[1,2,3]'::vector)::bit(64) LIMIT 5;
SELECT count(*) FILTER (WHERE found) AS self_found FROM (
    SELECT i.id = (SELECT x.id FROM (SELECT id, embedding FROM items
                                       ORDER BY binary_quantize(embedding)::bit(64) <~> binary_quantize(i.embedding)::bit(64)
                                       LIMIT 20) x
                    ORDER BY x.embedding <-> i.embedding LIMIT 1) AS found
      FROM items i WHERE i.id % 60 = 0) t;

-- bit_jaccard_ops (hnsw only, as in pgvector): bits stored as they are
-- ('bit', the default) or as fp32 0/1 vectors ('none'), the ORDER BY value
-- the exact Jaccard distance either way.  Rows of few set bits next to rows
-- of many: the Jaccard order is not the Hamming order.
CREATE TABLE j (id int PRIMARY KEY, v bit(64));
INSERT INTO j SELECT id, v FROM b;
INSERT INTO j SELECT 5000 + id, v & (repeat('0', 48) || repeat('1', 16))::bit(64) FROM b WHERE id % 3 = 0;
CREATE FUNCTION jaccard_distances() RETURNS TABLE (qid int, d float8[]) AS $$
    SELECT qid, array(SELECT v <%> q FROM j ORDER BY v <%> q LIMIT 10) FROM bq ORDER BY qid
$$ LANGUAGE sql;
SET enable_indexscan = off;
RESET enable_seqscan;
CREATE TEMP TABLE jaccard_exact AS SELECT * FROM jaccard_distances();
RESET enable_indexscan;
SET enable_seqscan = off;
CREATE INDEX j_idx ON j USING hnsw (v bit_jaccard_ops);
SELECT reloptions, (SELECT amname FROM pg_am WHERE oid = relam) FROM pg_class WHERE relname = 'j_idx';
EXPLAIN (COSTS OFF) SELECT id FROM j ORDER BY v <%> (SELECT q FROM bq WHERE qid = 60) LIMIT 5;
SELECT count(*) AS queries, count(*) FILTER (WHERE e.d = a.d) AS exact_answers
  FROM jaccard_exact e JOIN jaccard_distances() a USING (qid);
DROP INDEX j_idx;
CREATE INDEX j_idx ON j USING hnsw (v bit_jaccard_ops) WITH (quantization = 'none');
SELECT count(*) AS queries, count(*) FILTER (WHERE e.d = a.d) AS exact_answers_none
  FROM jaccard_exact e JOIN jaccard_distances() a USING (qid);
INSERT INTO j SELECT 20000 + qid, q FROM bq;
SELECT count(*) FILTER (WHERE (SELECT v <%> q FROM j ORDER BY v <%> q LIMIT 1) = 0) AS inserted_found FROM bq;
DROP TABLE j;

-- Inserts go through the same conversion.
CREATE INDEX b_hnsw ON b USING hnsw (v bit_hamming_ops);
INSERT INTO b SELECT 10000 + qid, q FROM bq;
SELECT count(*) FILTER (WHERE (SELECT v <~> q FROM b ORDER BY v <~> q LIMIT 1) = 0) AS hnsw_found FROM bq;

-- Errors: another length; a column without a length; jaccard with codes
-- that estimate from inner products, or in an ivf index (pgvector's ivfflat
-- has none); the bit code for anything but a bit column.
SELECT id FROM b ORDER BY v <~> B'101' LIMIT 1;
CREATE TABLE nolen (v varbit);
CREATE INDEX ON nolen USING hnsw (v bit_hamming_ops);
CREATE TABLE bits (v bit(8));
CREATE INDEX ON bits USING hnsw (v bit_jaccard_ops) WITH (quantization = 'sq8');
CREATE INDEX ON bits USING ivf (v bit_jaccard_ops);
CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (quantization = 'bit');
CREATE INDEX ON items USING ivf (embedding vector_l2_ops) WITH (quantization = 'bit');
SELECT vecdb_quantization_error('bit', '[0,1,1,0]');
SELECT vecdb_quantization_error('bit', '[0,1,0.5,0]');

-- The hnsw build holds a bit column's strings packed, 32 bits a word, not a
-- float a bit: 600 strings of 1,000 bits fit maintenance_work_mem = 1MB (as
-- 0/1 floats 245 did, and the rest were inserted one by one: no
-- NOTICE now).  1,000 bits end in a part-used word.  Rows: 10 patterns with
-- about 1 bit in 8 flipped; queries: 12 rows; the distance lists through the
-- index equal the exact ones, for Hamming and Jaccard.
CREATE FUNCTION bits1024(seed text) RETURNS bit(1024) AS $$
    SELECT ('x' || string_agg(md5(seed || k), '' ORDER BY k))::bit(1024) FROM generate_series(1, 8) k
$$ LANGUAGE sql IMMUTABLE;
CREATE TABLE w (id int PRIMARY KEY, v bit(1000));
INSERT INTO w SELECT i, (bits1024('c' || i % 10) # (bits1024('a' || i) & bits1024('b' || i) & bits1024('d' || i)))::bit(1000)
  FROM generate_series(1, 600) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX w_hamming ON w USING hnsw (v bit_hamming_ops);
CREATE INDEX w_jaccard ON w USING hnsw (v bit_jaccard_ops);
RESET maintenance_work_mem;
SELECT (SELECT value FROM vecdb_index_check('w_hamming') WHERE item = 'live') AS hamming_live,
       (SELECT value FROM vecdb_index_check('w_jaccard') WHERE item = 'live') AS jaccard_live;
CREATE FUNCTION w_lists(op text) RETURNS TABLE (id int, d float8[]) AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT q.id, array(SELECT w.v %1$s q.v FROM w ORDER BY w.v %1$s q.v LIMIT 10)
                                   FROM w q WHERE q.id %% 50 = 7 ORDER BY q.id', op);
END $$ LANGUAGE plpgsql;
RESET enable_seqscan;
SET enable_indexscan = off;
CREATE TEMP TABLE w_exact AS SELECT 'hamming' AS op, * FROM w_lists('<~>') UNION ALL SELECT 'jaccard', * FROM w_lists('<%>');
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT e.op, count(*) AS queries, count(*) FILTER (WHERE e.d = a.d) AS exact_lists
  FROM w_exact e JOIN (SELECT 'hamming' AS op, * FROM w_lists('<~>') UNION ALL SELECT 'jaccard', * FROM w_lists('<%>')) a
       USING (op, id)
 GROUP BY e.op ORDER BY e.op;

RESET enable_seqscan;
RESET hnsw.ef_search;
RESET ivf.probes;
RESET ivfflat.probes;
RESET search_path;
DROP SCHEMA bit_index_test CASCADE;
