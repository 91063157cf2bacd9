-- halfvec: I/O, limits, casts, functions, operators, aggregates and errors.
-- Every function is checked against the vector function on the same
-- (exactly converted) values.

-- Input and output: shortest decimal of each half's value.
SELECT '[1,2.5,-3]'::halfvec, '[0.1]'::halfvec, '[ 1 , 2 ]'::halfvec(2), '[-0]'::halfvec;
-- The half range: 65504 is the largest finite value; 65519 rounds to it,
-- 65520 rounds to infinity (an error); subnormals down to 2^-24 (6e-8).
SELECT '[65504,-65504,65519]'::halfvec, '[6e-8,3e-8,2e-8]'::halfvec;
SELECT '[65520]'::halfvec;
SELECT '[-1e5]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[-Infinity]'::halfvec;
SELECT '[1,a]'::halfvec;
SELECT '[]'::halfvec;
SELECT '[1,2]'::halfvec(3);
SELECT NULL::halfvec(0);
SELECT NULL::halfvec(16001);
-- 16,000 dimensions, and one more.
SELECT vector_dims(array_fill(1.5, ARRAY[16000])::halfvec);
SELECT array_fill(1.5, ARRAY[16001])::halfvec;
SELECT ('[' || repeat('1,', 16000) || '1]')::halfvec;

-- Binary: pgvector's wire format (dim, unused, big-endian binary16).
SELECT halfvec_send('[1,2,3]'), halfvec_send('[-2,65504,6e-8]');
CREATE TEMP TABLE hb (id int, v halfvec(3));
INSERT INTO hb VALUES (1, '[1,2,3]'), (2, '[-0.1,65504,6e-8]'), (3, NULL);
COPY hb TO '/tmp/vecdb_halfvec_regress.bin' WITH (FORMAT binary);
CREATE TEMP TABLE hb2 (LIKE hb);
COPY hb2 FROM '/tmp/vecdb_halfvec_regress.bin' WITH (FORMAT binary);
SELECT a.id, a.v = b.v OR (a.v IS NULL AND b.v IS NULL) AS same, b.v FROM hb a JOIN hb2 b USING (id) ORDER BY 1;
-- A value of another dimension in the file is refused by the column's typmod.
CREATE TEMP TABLE hb4 (id int, v halfvec(4));
COPY hb4 FROM '/tmp/vecdb_halfvec_regress.bin' WITH (FORMAT binary);

-- Casts: to and from vector (rounding to nearest), arrays, real[].
SELECT '[1.0009765625,0.1]'::vector::halfvec, '[0.1]'::halfvec::vector, '[1,2]'::halfvec::real[];
SELECT '{1,2}'::int[]::halfvec, '{1.5,2}'::real[]::halfvec, '{1.5,2}'::float8[]::halfvec, '{1.5,2}'::numeric[]::halfvec;
SELECT '[70000]'::vector::halfvec;
SELECT '{1e6}'::float8[]::halfvec;
SELECT '{1,NULL}'::real[]::halfvec;
SELECT '[1,2,3]'::vector::halfvec(2);

-- Distances and functions equal vector's on the converted values.
CREATE TEMP TABLE pairs AS
    SELECT i, (SELECT array_agg(round((sin(i * 7 + j) * 100)::numeric, 2))::halfvec FROM generate_series(1, 16) j) a,
              (SELECT array_agg(round((cos(i * 3 + j) * 100)::numeric, 2))::halfvec FROM generate_series(1, 16) j) b
      FROM generate_series(1, 50) i;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE a <-> b = a::vector <-> b::vector) AS l2,
       count(*) FILTER (WHERE a <#> b = a::vector <#> b::vector) AS neg_ip,
       count(*) FILTER (WHERE inner_product(a, b) = inner_product(a::vector, b::vector)) AS ip,
       count(*) FILTER (WHERE a <=> b = a::vector <=> b::vector) AS cosine,
       count(*) FILTER (WHERE a <+> b = a::vector <+> b::vector) AS l1,
       count(*) FILTER (WHERE l2_norm(a) = vector_norm(a::vector)) AS norm,
       count(*) FILTER (WHERE halfvec_l2_squared_distance(a, b) = vector_l2_squared_distance(a::vector, b::vector)) AS l2sq,
       count(*) FILTER (WHERE halfvec_spherical_distance(a, b) = vector_spherical_distance(a::vector, b::vector)) AS spherical,
       count(*) FILTER (WHERE binary_quantize(a) = binary_quantize(a::vector)) AS bits,
       count(*) FILTER (WHERE l2_normalize(a) = l2_normalize(a::vector)::halfvec) AS normalize,
       count(*) FILTER (WHERE subvector(a, 3, 5) = subvector(a::vector, 3, 5)::halfvec) AS sub,
       count(*) FILTER (WHERE a + b = (a::vector + b::vector)::halfvec) AS plus,
       count(*) FILTER (WHERE a - b = (a::vector - b::vector)::halfvec) AS minus,
       count(*) FILTER (WHERE a * b = (a::vector * b::vector)::halfvec) AS times,
       count(*) FILTER (WHERE a || b = (a::vector || b::vector)::halfvec) AS concat,
       count(*) FILTER (WHERE (a < b) = (a::vector < b::vector) AND halfvec_cmp(a, b) = vector_cmp(a::vector, b::vector)) AS cmp
  FROM pairs;
SELECT l2_distance('[0,0]'::halfvec, '[3,4]'), '[1,2]'::halfvec <=> '[0,0]', vector_dims('[1,2,3]'::halfvec),
       l2_normalize('[3,4]'::halfvec), l2_normalize('[0,0]'::halfvec), subvector('[1,2,3,4,5]'::halfvec, 2, 3);
SELECT '[1,2]'::halfvec <-> '[1,2,3]';
SELECT '[60000]'::halfvec + '[60000]';
SELECT '[65504]'::halfvec * '[2]';
SELECT '[1e-4]'::halfvec * '[1e-4]';
SELECT subvector('[1,2,3]'::halfvec, 4, 1);

-- Comparisons and the btree opclass: vector's order.
SELECT v FROM (VALUES ('[1,2,3]'::halfvec), ('[1,2]'), ('[0,5]'), ('[1,2,-1]')) t(v) ORDER BY v;
CREATE TEMP TABLE hbt (v halfvec);
INSERT INTO hbt SELECT ARRAY[i % 7, i % 3]::halfvec FROM generate_series(1, 100) i;
CREATE INDEX ON hbt (v);
SET enable_seqscan = off;
SELECT count(*) FROM hbt WHERE v = '[3,1]';
RESET enable_seqscan;

-- Aggregates.
SELECT avg(v), sum(v) FROM (VALUES ('[1,2]'::halfvec), ('[3,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (SELECT '[1]'::halfvec v WHERE false) t;
-- avg keeps float8 sums: it equals vector's, rounded once.  sum rounds to
-- half at each step, as pgvector's does: on integers below 2048 every step
-- is exact, so it equals vector's there.
SELECT avg(a) = avg(a::vector)::halfvec AS avg_matches FROM pairs;
SELECT sum(v) = sum(v::vector)::halfvec AS sum_matches, sum(v)
  FROM (SELECT ARRAY[i, i % 7, -i]::halfvec v FROM generate_series(1, 50) i) t;
SELECT sum(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v);
SELECT avg(v) FROM (VALUES ('[1,2]'::halfvec), ('[3]')) t(v);
