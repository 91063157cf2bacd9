-- sparsevec: text and binary I/O, limits, type modifier, casts, and every
-- function and operator checked against the same computation on ::vector.

-- Text input: any order and whitespace; stored sorted, zeros dropped.
SELECT '{1:1.5,3:3.5}/5'::sparsevec;
SELECT ' { 3 : -4 ,  1  :  2.  } / 5 '::sparsevec;
SELECT (E'\t{\n2:1e3\r}\f/' || chr(11) || '2')::sparsevec;
SELECT '{1:0,2:1,3:-0}/3'::sparsevec, '{9:0}/3'::sparsevec, '{2:0,2:7}/3'::sparsevec;
SELECT '{}/1'::sparsevec, '{ }/1'::sparsevec;
SELECT '{1:0.1,2:3.4028235e38,3:-1.17549435e-38,4:1e-45}/4'::sparsevec;
-- Shortest round-trip output: text -> sparsevec -> text -> sparsevec is stable.
SELECT '{1:0.1,2:0.30000001,7:-2.5e-20}/9'::sparsevec::text::sparsevec = '{1:0.1,2:0.30000001,7:-2.5e-20}/9'::sparsevec AS round_trip;

-- Syntax errors (pgvector's messages and details)
SELECT ''::sparsevec;
SELECT '[1,2]'::sparsevec;
SELECT '{'::sparsevec;
SELECT '{}'::sparsevec;
SELECT '{1:1}'::sparsevec;
SELECT '{}/'::sparsevec;
SELECT '{}/1a'::sparsevec;
SELECT '{}/1.0'::sparsevec;
SELECT '{,}/1'::sparsevec;
SELECT '{1:}/1'::sparsevec;
SELECT '{:1}/1'::sparsevec;
SELECT '{1.5:1}/2'::sparsevec;
SELECT '{1:1,}/1'::sparsevec;
SELECT '{1:x}/1'::sparsevec;
-- Values
SELECT '{1:NaN}/1'::sparsevec;
SELECT '{1:-Infinity}/1'::sparsevec;
SELECT '{1:4e38}/1'::sparsevec;
SELECT '{1: -1e-46 }/1'::sparsevec;
-- Indices: 1-based, within the dimensions, once each
SELECT '{0:1}/1'::sparsevec;
SELECT '{2:1}/1'::sparsevec;
SELECT '{-2147483649:1}/1'::sparsevec;
SELECT '{2147483648:1}/1'::sparsevec;
SELECT '{1:1,2:1,1:2}/2'::sparsevec;

-- Limits: 1,000,000,000 dimensions and 16,000 elements, as pgvector
SELECT '{1000000000:-1}/1000000000'::sparsevec;
SELECT '{}/1000000001'::sparsevec;
SELECT '{}/9223372036854775808'::sparsevec;
SELECT '{}/0'::sparsevec;
SELECT '{}/-1'::sparsevec;
SELECT ('{' || string_agg(i || ':1', ',') || '}/16000')::sparsevec = array_fill(1, ARRAY[16000])::vector::sparsevec AS nnz_16000
FROM generate_series(1, 16000) i;
SELECT ('{' || string_agg(i || ':1', ',') || '}/16001')::sparsevec FROM generate_series(1, 16001) i;
-- The element bound counts written zeros too, as pgvector's does.
SELECT ('{' || string_agg(i || ':0', ',') || '}/16001')::sparsevec FROM generate_series(1, 16001) i;

-- Type modifier
SELECT '{1:1}/3'::sparsevec(3);
SELECT '{1:1}/3'::sparsevec(2);
SELECT '{}/3'::sparsevec(3, 2);
SELECT '{}/3'::sparsevec(0);
SELECT '{}/3'::sparsevec(1000000001);
CREATE TABLE sparse_items (id int, embedding sparsevec(5));
INSERT INTO sparse_items VALUES (1, '{1:1,5:2}/5'), (2, '[0,0,3,0,0]'::vector), (3, NULL);
INSERT INTO sparse_items VALUES (4, '{1:1}/4');
SELECT * FROM sparse_items ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'sparse_items'::regclass AND attname = 'embedding';
DROP TABLE sparse_items;

-- Casts
SELECT '[0,1.5,0,-3.5,0]'::vector::sparsevec, '[0,1.5,0,-3.5,0]'::vector::sparsevec(5);
SELECT '[0,1.5,0,-3.5,0]'::vector::sparsevec(4);
SELECT '{2:1.5,4:-3.5}/5'::sparsevec::vector, '{2:1.5,4:-3.5}/5'::sparsevec::vector(5);
SELECT '{2:1.5,4:-3.5}/5'::sparsevec::vector(4);
SELECT '{}/16000'::sparsevec::vector = array_fill(0, ARRAY[16000])::vector AS zeros_16000;
SELECT '{}/16001'::sparsevec::vector;
-- halfvec: exact to sparsevec (zeros dropped), rounded to half back; 22003 beyond half's range.
SELECT '[0,1.5,0,-3.5,0.1]'::halfvec::sparsevec, '{2:1.5,4:-3.5,5:0.1}/5'::sparsevec::halfvec,
       '{2:1.5}/5'::sparsevec::halfvec(5);
SELECT '{1:1}/3'::sparsevec::halfvec(2);
SELECT '{1:1e5}/3'::sparsevec::halfvec;
SELECT '[1,0,2]'::halfvec::sparsevec(4);
SELECT ARRAY[1,0,2,0,3,0]::sparsevec, ARRAY[1.5,0,-2]::numeric[]::sparsevec,
       '{0,2.5,0}'::real[]::sparsevec(3), '{1e-46,4}'::double precision[]::sparsevec;
SELECT '{1,0}'::real[]::sparsevec(3);
SELECT '{}'::real[]::sparsevec;
SELECT '{{1}}'::real[]::sparsevec;
SELECT '{1,NULL}'::real[]::sparsevec;
SELECT '{NaN}'::real[]::sparsevec;
SELECT '{4e38}'::double precision[]::sparsevec;
SELECT array_agg(n)::sparsevec FROM generate_series(1, 16001) n;
-- vector -> sparsevec is implicit, as in pgvector: a sparsevec function takes
-- a vector argument.  (l2_norm(vector) is ambiguous between the halfvec and
-- sparsevec ones, as in pgvector.)
SELECT l2_distance('{1:3}/3'::sparsevec, '[0,0,4]'::vector);
SELECT l2_norm('[3,0,4]'::vector);

-- Binary output, pgvector's wire format worked out by hand: dim 5, nnz 2,
-- unused 0, indices 0 and 2, values 1.5 (3fc00000) and -2 (c0000000).
SELECT sparsevec_send('{1:1.5,3:-2}/5');
SELECT sparsevec_send('{}/1000000000');

-- Distances, norms and comparisons against the same computation on ::vector,
-- over 900 pairs of 50-dimensional vectors of varied density (some zero).
CREATE TABLE dense AS
SELECT i AS id,
       array_agg(CASE WHEN (i * 31 + j * 17) % (1 + i % 4) = 0 AND i % 10 <> 0
                      THEN ((i * 7919 + j * 104729) % 2001 - 1000) / 1000.0 ELSE 0 END ORDER BY j)::vector(50) AS v
FROM generate_series(1, 30) i, generate_series(1, 50) j GROUP BY i;
CREATE TABLE sparse AS
SELECT id, v::sparsevec AS s,
       ('{' || coalesce((SELECT string_agg(k || ':' || x, ',' ORDER BY k DESC)
                         FROM unnest(v::real[]) WITH ORDINALITY AS u(x, k) WHERE x <> 0), '') || '}/50')::sparsevec AS s_text
FROM dense;
SELECT count(*) AS rows, count(*) FILTER (WHERE s::vector = v) AS cast_back,
       count(*) FILTER (WHERE s = s_text) AS text_equals_cast,
       count(*) FILTER (WHERE s::text = s_text::text) AS same_text,
       count(*) FILTER (WHERE s = '{}/50') AS zero_rows, min(length(s::text)), max(length(s::text))
FROM sparse JOIN dense USING (id);

WITH p AS (SELECT s, v FROM sparse JOIN dense USING (id))
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE abs(l2_distance(a.s, b.s) - l2_distance(a.v, b.v)) <= 1e-6 * (1 + l2_distance(a.v, b.v))) AS l2,
       count(*) FILTER (WHERE abs((a.s <-> b.s) - (a.v <-> b.v)) <= 1e-6 * (1 + (a.v <-> b.v))) AS l2_op,
       count(*) FILTER (WHERE abs(sparsevec_l2_squared_distance(a.s, b.s) - vector_l2_squared_distance(a.v, b.v))
                              <= 1e-6 * (1 + vector_l2_squared_distance(a.v, b.v))) AS l2_squared,
       count(*) FILTER (WHERE abs(inner_product(a.s, b.s) - inner_product(a.v, b.v)) <= 1e-5) AS ip,
       count(*) FILTER (WHERE abs((a.s <#> b.s) - (a.v <#> b.v)) <= 1e-5) AS ip_op,
       count(*) FILTER (WHERE abs(sparsevec_negative_inner_product(a.s, b.s) + inner_product(a.v, b.v)) <= 1e-5) AS neg_ip,
       count(*) FILTER (WHERE abs(cosine_distance(a.s, b.s) - cosine_distance(a.v, b.v)) <= 1e-6
                           OR (cosine_distance(a.s, b.s) = 'NaN' AND cosine_distance(a.v, b.v) = 'NaN')) AS cosine,
       count(*) FILTER (WHERE cosine_distance(a.s, b.s) = 'NaN') AS cosine_nan,
       count(*) FILTER (WHERE abs((a.s <=> b.s) - (a.v <=> b.v)) <= 1e-6 OR (a.s <=> b.s) = 'NaN') AS cosine_op,
       count(*) FILTER (WHERE abs(l1_distance(a.s, b.s) - l1_distance(a.v, b.v)) <= 1e-6 * (1 + l1_distance(a.v, b.v))) AS l1,
       count(*) FILTER (WHERE abs((a.s <+> b.s) - (a.v <+> b.v)) <= 1e-6 * (1 + (a.v <+> b.v))) AS l1_op,
       count(*) FILTER (WHERE sparsevec_cmp(a.s, b.s) = vector_cmp(a.v, b.v)) AS cmp,
       count(*) FILTER (WHERE (a.s < b.s) = (a.v < b.v) AND (a.s <= b.s) = (a.v <= b.v) AND (a.s = b.s) = (a.v = b.v)
                          AND (a.s <> b.s) = (a.v <> b.v) AND (a.s >= b.s) = (a.v >= b.v) AND (a.s > b.s) = (a.v > b.v)) AS cmp_ops,
       count(*) FILTER (WHERE a.s = b.s) AS equal_pairs
FROM p a, p b;

-- Norm and normalization match vector's exactly (both sum squares in double
-- in index order).
SELECT count(*) AS rows,
       count(*) FILTER (WHERE l2_norm(s) = vector_norm(v)) AS norm,
       count(*) FILTER (WHERE l2_normalize(s)::vector = l2_normalize(v)) AS normalize,
       count(*) FILTER (WHERE l2_normalize(s) = l2_normalize(v)::sparsevec) AS normalize_sparse
FROM sparse JOIN dense USING (id);

-- Comparisons across dimensions: the dense order, then fewer dimensions first.
WITH small(s) AS (VALUES ('{}/3'::sparsevec), ('{1:1}/3'), ('{1:-1}/3'), ('{3:2}/3'), ('{2:1,3:-1}/3'),
                         ('{}/2'), ('{1:1}/2'), ('{2:-1}/2'), ('{1:1,4:1}/4'), ('{4:-1}/4'), ('{1:1,2:2}/2'))
SELECT count(*) AS pairs, count(*) FILTER (WHERE sparsevec_cmp(a.s, b.s) = vector_cmp(a.s::vector, b.s::vector)) AS cmp,
       count(*) FILTER (WHERE sparsevec_cmp(a.s, b.s) < 0) AS less, count(*) FILTER (WHERE sparsevec_cmp(a.s, b.s) = 0) AS equal
FROM small a, small b;
SELECT sparsevec_cmp('{1:1,2:2}/2', '{1:1,2:2,3:3}/3'), sparsevec_cmp('{1:2}/3', '{1:1,2:9}/3'),
       sparsevec_cmp('{2:1}/3', '{1:1}/3'), '{1:1}/2'::sparsevec = '{1:1}/3';

-- Distances worked out by hand: a = (3,0,0,4), b = (0,0,1,4)
SELECT l2_distance('{1:3,4:4}/4'::sparsevec, '{3:1,4:4}/4') AS sqrt10, '{1:3,4:4}/4'::sparsevec <-> '{}/4' AS l2_5,
       inner_product('{1:3,4:4}/4'::sparsevec, '{3:1,4:4}/4') AS ip_16, '{1:3,4:4}/4'::sparsevec <#> '{3:1,4:4}/4' AS neg_ip,
       l1_distance('{1:3,4:4}/4'::sparsevec, '{3:1,4:4}/4') AS l1_4, l2_norm('{1:3,4:4}/4'::sparsevec) AS norm_5,
       round((('{1:3,4:4}/4'::sparsevec <=> '{3:1,4:4}/4') - (1 - 16 / (5 * sqrt(17))))::numeric, 12) AS cosine_error;
SELECT '{1:1}/2'::sparsevec <=> '{}/2', cosine_distance('{1:1,2:1}/2'::sparsevec, '{1:-1,2:-1}/2'),
       l2_normalize('{1:3,2:4}/2'::sparsevec), l2_normalize('{}/2'::sparsevec);
-- A value that rounds to 0 next to a huge one is dropped, as in pgvector.
SELECT l2_normalize('{1:3e38,2:1e-37}/2'::sparsevec);
-- Sums beyond float are redone in double, as for vector: finite, not Infinity
-- (pgvector: Infinity, Infinity, Infinity, NaN).
SELECT '{1:3e38,2:-3e38}/2'::sparsevec <-> '{1:-3e38,2:3e38}/2' AS l2_8_49e38,
       inner_product('{1:3e38}/1'::sparsevec, '{1:3e38}/1') AS ip_9e76,
       l1_distance('{1:3e38}/1'::sparsevec, '{1:-3e38}/1') AS l1_6e38;
SELECT '{1:3e38,2:-3e38}/2'::sparsevec <-> '{1:-3e38,2:3e38}/2' = '[3e38,-3e38]'::vector <-> '[-3e38,3e38]' AS l2_as_vector,
       inner_product('{1:3e38}/1'::sparsevec, '{1:3e38}/1') = inner_product('[3e38]'::vector, '[3e38]') AS ip_as_vector,
       l1_distance('{1:3e38}/1'::sparsevec, '{1:-3e38}/1') = l1_distance('[3e38]'::vector, '[-3e38]') AS l1_as_vector,
       '{1:1e-40}/2'::sparsevec <=> '{2:1e-40}/2' AS cosine_1;

-- Errors
SELECT '{1:1}/2'::sparsevec <-> '{1:1}/3';
SELECT inner_product('{1:1}/2'::sparsevec, '{1:1}/3');
SELECT '{1:1}/2'::sparsevec <=> '{1:1}/3';
SELECT l1_distance('{1:1}/2'::sparsevec, '{1:1}/3');
SELECT sparsevec_l2_squared_distance('{}/2', '{}/1');

-- btree operator class
CREATE TABLE sorted (s sparsevec);
INSERT INTO sorted SELECT s FROM sparse;
INSERT INTO sorted VALUES ('{1:1}/2'), ('{}/2'), ('{1:-1}/51');
CREATE INDEX ON sorted (s);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT s FROM sorted ORDER BY s;
SELECT (SELECT array_agg(s::text) FROM (SELECT s FROM sorted ORDER BY s) t)
     = (SELECT array_agg(s::text ORDER BY s::vector) FROM sorted) AS index_order_is_dense_order;
SELECT s FROM sorted WHERE s = '{1:1}/2';
RESET enable_seqscan;
DROP TABLE sorted;

-- Binary COPY to a file and back: every value identical.
SELECT '/tmp/vecdb_regress_sparsevec_' || pg_backend_pid() AS copy_file,
       'rm -f /tmp/vecdb_regress_sparsevec_' || pg_backend_pid() AS remove_copy_file \gset
CREATE TABLE sparse_copy (id int, s sparsevec(50));
CREATE TABLE extreme (s sparsevec);
INSERT INTO extreme VALUES ('{}/1'), ('{1000000000:-3.4028235e38}/1000000000'), ('{1:1e-45,2:1.17549435e-38,5:0.1}/7');
INSERT INTO extreme SELECT array_fill(1, ARRAY[16000])::vector::sparsevec;
CREATE TABLE extreme_binary (s sparsevec);
COPY sparse (id, s) TO :'copy_file' (FORMAT binary);
COPY sparse_copy FROM :'copy_file' (FORMAT binary);
COPY extreme TO :'copy_file' (FORMAT binary);
COPY extreme_binary FROM :'copy_file' (FORMAT binary);
SELECT count(*) AS rows, count(*) FILTER (WHERE c.s = o.s AND c.s::text = o.s::text) AS same
FROM sparse_copy c JOIN sparse o USING (id);
SELECT count(*) AS rows, count(*) FILTER (WHERE sparsevec_send(e.s) = sparsevec_send(b.s)) AS same_bytes
FROM extreme e JOIN extreme_binary b ON e.s::text = b.s::text;
-- A typmod is checked on binary input too.
CREATE TABLE narrow (s sparsevec(3));
COPY narrow FROM :'copy_file' (FORMAT binary);

-- Binary input that lies: a bytea column's binary COPY carries its bytes
-- unchanged, so crafted payloads reach sparsevec_recv.
CREATE TABLE payload (b bytea);
CREATE TABLE received (s sparsevec);
CREATE FUNCTION recv_payload(bytes bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE payload, received;
    INSERT INTO payload VALUES (bytes);
    EXECUTE format('COPY payload TO %L (FORMAT binary)', current_setting('vecdb.copy_file'));
    EXECUTE format('COPY received FROM %L (FORMAT binary)', current_setting('vecdb.copy_file'));
    RETURN (SELECT s::text FROM received);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT set_config('vecdb.copy_file', :'copy_file', false) IS NOT NULL AS set;
SELECT recv_payload('\x00000005000000020000000000000000000000023fc00000c0000000') AS valid;
SELECT recv_payload('\x00000005000000020000000100000000000000023fc00000c0000000') AS unused_1;
SELECT recv_payload('\x000000050000000200000000000000020000000000000000c0000000') AS descending;
SELECT recv_payload('\x000000050000000200000000000000020000000200000000c0000000') AS duplicate;
SELECT recv_payload('\x000000050000000100000000000000053fc00000') AS index_5_of_5;
SELECT recv_payload('\x0000000500000001000000000000000000000000') AS zero_value;
SELECT recv_payload('\x000000050000000100000000000000007fc00000') AS nan_value;
SELECT recv_payload('\x000000050000000100000000000000003fc00000ff') AS trailing_junk;
SELECT recv_payload('\x00000005000000010000000000000000ff800000') AS minus_infinity;
SELECT recv_payload('\x00000005000000020000000000000000') AS truncated;
SELECT recv_payload('\x000000050000000600000000') AS nnz_above_dim;
SELECT recv_payload('\x3b9aca010000000000000000') AS dim_1000000001;
SELECT recv_payload('\x00004e2000003e8100000000') AS nnz_16001;
SELECT recv_payload('\x00000005ffffffff00000000') AS nnz_negative;
DROP FUNCTION recv_payload(bytea);
COPY (SELECT WHERE false) TO PROGRAM :'remove_copy_file';
DROP TABLE payload, received, narrow, extreme, extreme_binary, sparse_copy, sparse, dense;
