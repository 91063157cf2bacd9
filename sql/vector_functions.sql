-- Distance operators, functions, arithmetic and comparison.

-- Distances on small integer vectors have exact answers.
SELECT '[1,2,3]'::vector <-> '[3,1,2]' AS l2, '[1,2,3]'::vector <#> '[3,1,2]' AS neg_ip,
       '[1,2,3]'::vector <=> '[3,1,2]' AS cosine, '[1,2,3]'::vector <+> '[3,1,2]' AS l1;
SELECT l2_distance('[0,0]'::vector, '[3,4]'), vector_l2_squared_distance('[0,0]', '[3,4]'),
       inner_product('[1,2]'::vector, '[3,4]'), vector_negative_inner_product('[1,2]', '[3,4]'),
       cosine_distance('[1,0]'::vector, '[0,1]'), cosine_distance('[1,1]'::vector, '[2,2]'), cosine_distance('[1,1]'::vector, '[-1,-1]'),
       l1_distance('[1,-2]'::vector, '[-3,4]');
SELECT vector_spherical_distance('[1,0]', '[0,1]'), vector_spherical_distance('[1,0]', '[1,0]');
-- The zero vector has no direction: cosine distance is NaN (as in pgvector).
SELECT cosine_distance('[0,0]'::vector, '[1,1]');

-- Distances agree with the definitions computed in SQL, across the SIMD
-- main loop and scalar tail (dims 1 .. 70).
WITH pairs AS (
    SELECT d, array_agg(sin(d * 7 + i)::real ORDER BY i) AS a, array_agg(cos(d * 3 + i * 2)::real ORDER BY i) AS b
    FROM generate_series(1, 70) d, generate_series(1, d) i GROUP BY d
), expected AS (
    SELECT d, a::vector AS va, b::vector AS vb,
           (SELECT sqrt(sum((x - y)^2)) FROM unnest(a, b) u(x, y)) AS l2,
           (SELECT sum(x * y) FROM unnest(a, b) u(x, y)) AS ip,
           (SELECT 1 - sum(x * y) / sqrt(sum(x * x) * sum(y * y)) FROM unnest(a, b) u(x, y)) AS cos,
           (SELECT sum(abs(x - y)) FROM unnest(a, b) u(x, y)) AS l1
    FROM pairs
)
SELECT count(*) AS dims_checked,
       max(abs((va <-> vb) - l2)) < 1e-5 AS l2_ok,
       max(abs(-(va <#> vb) - ip)) < 1e-5 AS ip_ok,
       max(abs((va <=> vb) - cos)) < 1e-5 AS cosine_ok,
       max(abs((va <+> vb) - l1)) < 1e-4 AS l1_ok
FROM expected;

-- Extreme but valid elements: up to 3.4e38 (float's largest is 3.4028235e38),
-- subnormal (1e-40, 1e-45), mixed signs and magnitudes, 16000 dimensions.
-- Float sums of these overflow to Infinity or underflow to 0; the distances
-- must still be finite (NaN only for cosine with a zero vector) and agree with
-- the definitions computed here in float8 from the same float elements.
CREATE TABLE extreme (id int, a vector, b vector);
INSERT INTO extreme VALUES
    (1, '[3e38,-3e38]', '[-3e38,3e38]'),
    (2, '[3.4e38,3.4e38,-3.4e38]', '[3.4e38,3.4e38,-3.4e38]'),
    (3, '[3.4028235e38,1]', '[-3.4028235e38,-1]'),
    (4, '[1e-40,2e-40]', '[-1e-40,3e-40]'),
    (5, '[1e-40,0]', '[0,1e-40]'),
    (6, '[1e-45]', '[-1e-45]'),
    (7, '[3e-21,-7e-22,5e-21]', '[-2e-21,4e-21,1e-21]'),
    (8, '[1e20,1e20]', '[-1e20,3e20]'),
    (9, '[3e38,1e-40,-1,0]', '[-1e-40,-3e38,2,5e-39]'),
    (10, '[1,2,3]', '[4,-5,6]');
INSERT INTO extreme SELECT 10 + k,
    array_agg((CASE k WHEN 1 THEN 3.4e38 * sin(i) WHEN 2 THEN 1e-40 * (1.5 + sin(i)) ELSE 3e38 * sin(i) END)::real ORDER BY i)::vector,
    array_agg((CASE k WHEN 1 THEN -3.4e38 * cos(i) WHEN 2 THEN -1e-40 * (1.5 + cos(i)) ELSE 1e-40 * (1.5 + cos(i)) END)::real ORDER BY i)::vector
    FROM generate_series(1, 3) k, generate_series(1, 16000) i GROUP BY k;
CREATE TEMP TABLE extreme_expected AS
SELECT id, vector_dims(a) AS dims, s.*
FROM extreme, LATERAL (
    SELECT sum((x - y) * (x - y)) AS l2sq, sum(x * y) AS ip, sum(abs(x * y)) AS abs_ip, sum(x * x) AS na, sum(y * y) AS nb,
           sum(abs(x - y)) AS l1
    FROM unnest(a::real[]::float8[], b::real[]::float8[]) u(x, y)) s;
-- Relative tolerance 1e-6: float sums where they can be trusted, double sums
-- elsewhere.  Infinity, NaN or a lost term fails.
SELECT id, dims,
       abs((a <-> b) - sqrt(l2sq)) <= 1e-6 * sqrt(l2sq) AS l2,
       abs(vector_l2_squared_distance(a, b) - l2sq) <= 1e-6 * l2sq AS l2_squared,
       abs(inner_product(a, b) - ip) <= 1e-6 * abs_ip AND (a <#> b) = -inner_product(a, b) AS ip,
       abs((a <=> b) - (1 - ip / sqrt(na * nb))) <= 1e-6 AS cosine,
       abs((a <+> b) - l1) <= 1e-6 * l1 AS l1,
       abs(vector_norm(a) - sqrt(na)) <= 1e-12 * sqrt(na) AS norm,
       abs(vector_norm(l2_normalize(a)) - 1) <= 1e-6 AS normalize
FROM extreme JOIN extreme_expected USING (id) ORDER BY id;
-- Exactly representable cases: parallel, opposite and orthogonal directions
-- at both ends of float's range; a zero vector still gives NaN cosine.
SELECT '[3e38,3e38]'::vector <=> '[3e38,3e38]' AS same, '[3e38,-3e38]'::vector <=> '[-3e38,3e38]' AS opposite,
       '[1e-40,0]'::vector <=> '[0,1e-40]' AS orthogonal, '[1e-45]'::vector <=> '[1e-45]' AS tiny_same,
       '[0,0]'::vector <=> '[1e-40,0]' AS zero, '[0,0]'::vector <-> '[0,0]' AS zero_l2,
       vector_spherical_distance('[3e38,0]', '[-3e38,0]') AS spherical_clamped;

-- COPY to a file and back, text and binary: every stored vector, extremes
-- included, reads back bit for bit (no stored vector is ever non-finite).
SELECT '/tmp/vecdb_regress_copy_' || pg_backend_pid() AS copy_file,
       'rm -f /tmp/vecdb_regress_copy_' || pg_backend_pid() AS remove_copy_file \gset
CREATE TABLE extreme_text (LIKE extreme);
CREATE TABLE extreme_binary (LIKE extreme);
COPY extreme TO :'copy_file';
COPY extreme_text FROM :'copy_file';
COPY extreme TO :'copy_file' (FORMAT binary);
COPY extreme_binary FROM :'copy_file' (FORMAT binary);
COPY (SELECT WHERE false) TO PROGRAM :'remove_copy_file';
SELECT count(*) AS rows,
       count(*) FILTER (WHERE vector_send(e.a) = vector_send(t.a) AND vector_send(e.b) = vector_send(t.b)) AS text_same,
       count(*) FILTER (WHERE vector_send(e.a) = vector_send(b.a) AND vector_send(e.b) = vector_send(b.b)) AS binary_same
FROM extreme e JOIN extreme_text t USING (id) JOIN extreme_binary b USING (id);
DROP TABLE extreme, extreme_text, extreme_binary, extreme_expected;

-- Nearest neighbours by each operator (exact scan)
CREATE TABLE items (id int, category int, embedding vector(3));
INSERT INTO items VALUES (1, 1, '[1,1,1]'), (2, 1, '[2,2,2]'), (3, 2, '[1,1,2]'), (4, 2, '[-1,-1,-1]'), (5, 1, '[0,0,5]');
SELECT id FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 3;
SELECT id FROM items ORDER BY embedding <#> '[1,1,1]' LIMIT 3;
SELECT id FROM items ORDER BY embedding <=> '[1,1,1]', id LIMIT 3;
SELECT id FROM items ORDER BY embedding <+> '[1,1,1]' LIMIT 3;
SELECT id, round((embedding <-> '[3,1,2]')::numeric, 4) AS dist FROM items WHERE category = 1 ORDER BY dist LIMIT 5;
DROP TABLE items;

-- Norm, normalize, dims, subvector, binary quantization
SELECT vector_norm('[3,4]'), vector_norm('[0,0,0]'), vector_dims('[1,2,3]'::vector);
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector), vector_norm(l2_normalize('[1,2,3,4,5]'::vector));
SELECT subvector('[1,2,3,4,5]'::vector, 1, 3), subvector('[1,2,3,4,5]'::vector, 3, 2), subvector('[1,2,3,4,5]'::vector, 4, 10),
       subvector('[1,2,3,4,5]'::vector, -1, 3), subvector('[1,2,3,4,5]'::vector, 5, 1);
SELECT binary_quantize('[1,-2,3,0,0.5,-0.1,7,8,9]'::vector), binary_quantize('[-1]'::vector), length(binary_quantize(array_fill(1, ARRAY[100])::vector));

-- Element-wise arithmetic and concatenation
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]', vector_dims(array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8000])::vector);

-- Comparison: element by element, then the shorter first; a btree index uses it.
SELECT '[1,2,3]'::vector < '[1,2,4]', '[1,2,3]'::vector <= '[1,2,3]', '[1,2,3]'::vector = '[1,2,3]',
       '[1,2,3]'::vector <> '[1,2]', '[1,2]'::vector < '[1,2,3]', '[2]'::vector > '[1,9]', '[1,2]'::vector >= '[1,3]';
SELECT vector_cmp('[1,2]', '[1,3]'), vector_cmp('[1,2]', '[1,2]'), vector_cmp('[1,3]', '[1,2]'), vector_cmp('[1]', '[1,0]');
CREATE TABLE sorted (v vector);
INSERT INTO sorted VALUES ('[2,1]'), ('[1,2,3]'), ('[1,2]'), ('[-1,5]'), ('[1,2]');
SELECT v FROM sorted ORDER BY v;
SELECT DISTINCT v FROM sorted ORDER BY v;
CREATE INDEX ON sorted (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT v FROM sorted WHERE v = '[1,2]';
SELECT v FROM sorted WHERE v = '[1,2]';
RESET enable_seqscan;
DROP TABLE sorted;

-- Bit strings from binary_quantize: Hamming (<~>) and Jaccard (<%>) distance
SELECT B'1010' <~> B'0110' AS hamming, B'1010' <%> B'0110' AS jaccard, B'1110' <%> B'1110' AS same,
       B'0000' <%> B'0000' AS zeros, hamming_distance(B'1', B'0'), jaccard_distance(B'11', B'01');
-- across whole 64-bit words and the tail: checked against a bit-by-bit count
WITH bits AS (
    SELECT n, binary_quantize(array_agg(sin(n * i)::real ORDER BY i)::vector) AS a,
              binary_quantize(array_agg(cos(n + i * 3)::real ORDER BY i)::vector) AS b
    FROM generate_series(1, 200) n, generate_series(1, n) i GROUP BY n
)
SELECT count(*) AS lengths_checked,
       bool_and((a <~> b) = length(replace((a # b)::text, '0', ''))) AS hamming_ok,
       bool_and((a <%> b) = CASE WHEN length(replace((a & b)::text, '0', '')) = 0 THEN 1
                             ELSE 1 - length(replace((a & b)::text, '0', ''))::float8
                                    / length(replace((a | b)::text, '0', '')) END) AS jaccard_ok
FROM bits;
SELECT id FROM (VALUES (1, '[1,-1,1,-1]'::vector), (2, '[1,1,1,1]'), (3, '[-1,-1,1,-1]')) t(id, v)
ORDER BY binary_quantize(v)::bit(4) <~> binary_quantize('[1,-1,1,1]'::vector), id;

SELECT vecdb_simd_kernels() IN ('avx512f', 'avx2', 'neon', 'scalar') AS known_kernel_set;
