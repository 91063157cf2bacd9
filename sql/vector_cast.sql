-- Casts between vector and arrays, and between vector lengths.

SELECT ARRAY[1,2,3]::vector;
SELECT ARRAY[1.5,2.5,-3]::real[]::vector;
SELECT ARRAY[1.5,2.5,-3]::double precision[]::vector;
SELECT ARRAY[1.5,2.5,-3]::numeric[]::vector;
SELECT '{1,2,3}'::int[]::vector(3);
SELECT '[1,2,3]'::vector::real[];
SELECT ('[1.5,2]'::vector::real[])[2];

-- Assignment casts from arrays into a vector(n) column
CREATE TABLE t (v vector(2));
INSERT INTO t VALUES (ARRAY[1,2]), (ARRAY[1.5,2.5]::real[]), (ARRAY[3,4]::float8[]), (ARRAY[5,6]::numeric[]);
SELECT v FROM t;
DROP TABLE t;

-- vector(n) to vector(m) checks the length
SELECT '[1,2,3]'::vector(3)::vector(3);
SELECT '[1,2,3]'::vector::vector(2);
SELECT ARRAY[1,2,3]::vector(4);

-- Values a vector cannot hold
SELECT ARRAY[1e300]::float8[]::vector;
SELECT ARRAY['NaN']::float8[]::vector;
SELECT ARRAY['Infinity']::real[]::vector;
SELECT ARRAY[1e39]::numeric[]::vector;
SELECT ARRAY['NaN']::numeric[]::vector;
SELECT ARRAY[[1,2],[3,4]]::vector;
SELECT ARRAY[1,NULL,3]::vector;
SELECT '{}'::int[]::vector;
SELECT array_fill(1, ARRAY[16001])::vector;
