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
