-- avg(vector) and sum(vector), serial and parallel.

SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,4,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (VALUES (NULL::vector)) t(v);
SELECT avg(v), sum(v) FROM (SELECT '[1]'::vector v WHERE false) t;
SELECT category, avg(v), sum(v) FROM (VALUES (1, '[1,1]'::vector), (1, '[3,5]'), (2, '[10,20]')) t(category, v)
GROUP BY category ORDER BY category;
-- float8 sums keep precision that float accumulation would lose
SELECT avg(v) FROM (SELECT '[100000001]'::vector v UNION ALL SELECT '[1]'::vector UNION ALL SELECT '[-100000000]') t;
-- overflow of sum is an error, not infinity
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- avg of values near float's limit sums in double: no overflow, and it agrees
-- with float8 avg of the same elements
WITH r AS (
    SELECT ARRAY[3.4e38 * (1 - i * 1e-3), -3e38 + i * 1e36, 1e-40 * i]::real[] AS x FROM generate_series(1, 50) i
), a AS (
    SELECT avg(x::vector)::real[] AS v, avg(x[1]::float8) AS e1, avg(x[2]::float8) AS e2, avg(x[3]::float8) AS e3 FROM r
)
SELECT abs(v[1] - e1) <= 1e-6 * abs(e1) AND abs(v[2] - e2) <= 1e-6 * abs(e2) AND abs(v[3] - e3) <= 1e-6 * abs(e3)
       AS avg_agrees
FROM a;
-- different dimensions
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);

-- Parallel aggregation combines partial states and gives the serial answer.
CREATE TABLE many (v vector(4));
INSERT INTO many SELECT ARRAY[i % 7, i % 11, i % 13, 1]::vector FROM generate_series(1, 20000) i;
ANALYZE many;
CREATE TEMP TABLE serial AS SELECT avg(v) AS a, sum(v) AS s FROM many;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM many;
SELECT avg(v), sum(v), avg(v) = (SELECT a FROM serial) AS avg_same, sum(v) = (SELECT s FROM serial) AS sum_same FROM many;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE many;
