-- The filter column: an hnsw index's second key column, tested inside the
-- index (hnsw_filter.cpp).  Each query runs through the index (Index Cond)
-- and exactly (sequential scan and sort); same: the two agree.
SET client_min_messages = warning;
CREATE TABLE f (id int PRIMARY KEY, v vector(4), i2 int2, i4 int4, i8 int8, t text, vc varchar, tags int[], words text[]);
-- 3,000 rows on a spiral; every filter value has NULLs among it; i8 has
-- values beyond int32's range (clamped in the index) next to small ones.
INSERT INTO f
SELECT i,
       ARRAY[cos(i * 0.1), sin(i * 0.1), i * 0.001, cos(i * 0.37)]::vector(4),
       CASE WHEN i % 97 = 0 THEN NULL ELSE (i % 30)::int2 END,
       CASE WHEN i % 89 = 0 THEN NULL ELSE i % 50 END,
       CASE WHEN i % 83 = 0 THEN NULL
            WHEN i % 3 = 0 THEN (i % 7) * 10000000000 - 30000000000
            WHEN i % 3 = 1 THEN 2147483647::int8 + (i % 2)
            ELSE i % 11 END,
       CASE WHEN i % 79 = 0 THEN NULL ELSE 'tenant ' || (i % 20) END,
       CASE WHEN i % 79 = 0 THEN NULL ELSE 'v' || (i % 20) END,
       CASE WHEN i % 73 = 0 THEN NULL WHEN i % 71 = 0 THEN '{}'
            ELSE ARRAY[i % 13, 100 + i % 17, CASE WHEN i % 5 = 0 THEN NULL ELSE 200 + i % 3 END] END,
       CASE WHEN i % 67 = 0 THEN NULL ELSE ARRAY['w' || (i % 9), 'x' || (i % 4)] END
  FROM generate_series(1, 3000) i;
ANALYZE f;
SET hnsw.ef_search = 400;

-- same(filter): the 20 nearest rows passing filter, through the index and
-- exactly, agree; in_index(filter): the index tests it (an Index Cond);
-- plan(filter): the plan.  One hnsw index at a time: with two, the planner
-- may walk the other one and filter rows on the heap.
CREATE FUNCTION rows_of(filter text, exact bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  IF exact THEN
    SET LOCAL enable_indexscan = off;
  ELSE
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    SET LOCAL enable_sort = off;
  END IF;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM f WHERE %s ORDER BY v <-> ''[1,0,1.5,0]'' LIMIT 20) s', filter) INTO r;
  RETURN r;
END $$;
CREATE FUNCTION same(filter text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN rows_of(filter, false) IS NOT DISTINCT FROM rows_of(filter, true)
              THEN 'same, ' || coalesce(cardinality(rows_of(filter, true)), 0) || ' rows'
              ELSE 'DIFFERENT: ' || rows_of(filter, false)::text || ' against ' || rows_of(filter, true)::text END $$;
CREATE FUNCTION in_index(filter text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  SET LOCAL enable_sort = off;
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM f WHERE %s ORDER BY v <-> ''[1,0,1.5,0]'' LIMIT 20', filter) LOOP
    IF line LIKE '%Index Cond%' THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END $$;
CREATE FUNCTION plan(filter text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  SET LOCAL enable_sort = off;
  RETURN QUERY EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM f WHERE %s ORDER BY v <-> ''[1,0,1.5,0]'' LIMIT 20', filter);
END $$;

-- Integers: every operator, each integer type as the column and as the value.
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops, i4);
SELECT plan('i4 = 7');
SELECT f, same(f), in_index(f) FROM unnest(ARRAY[
  'i4 = 7', 'i4 < 3', 'i4 <= 3', 'i4 > 46', 'i4 >= 46', 'i4 <> 7', 'i4 = 7::int2', 'i4 = 7::int8',
  'i4 > 5 AND i4 < 9', 'i4 = 1000', 'i4 = NULL::int']) f;
-- IN (...) is not an index condition in PostgreSQL 15: a heap filter.
SELECT plan('i4 IN (1, 2)');
DROP INDEX f_hnsw;
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops, i2);
SELECT f, same(f), in_index(f) FROM unnest(ARRAY['i2 = 4', 'i2 < 2::int2', 'i2 >= 28::int8', 'i2 <> 0']) f;
DROP INDEX f_hnsw;
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops, i8);
SELECT f, same(f), in_index(f) FROM unnest(ARRAY[
  'i8 = 3', 'i8 = 30000000000', 'i8 = -30000000000', 'i8 = 2147483647', 'i8 = 2147483648',
  'i8 < 0', 'i8 > 2147483647', 'i8 >= 2147483647', 'i8 <> 2147483648', 'i8 <= 10', 'i8 = 5::int4']) f;
DROP INDEX f_hnsw;
-- Text: = only (a hash in the index); varchar columns use it too.
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops, t);
SELECT plan('t = ''tenant 3''');
SELECT f, same(f), in_index(f) FROM unnest(ARRAY['t = ''tenant 3''', 't = ''tenant 99''', 't = NULL']) f;
-- <> on text is not an index condition: a heap filter.
SELECT plan('t <> ''tenant 3''');
DROP INDEX f_hnsw;
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops, vc);
SELECT f, same(f), in_index(f) FROM unnest(ARRAY['vc = ''v7''']) f;
DROP INDEX f_hnsw;
-- Arrays: && @> <@ on signatures, NULL elements and empty arrays included.
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops, tags);
SELECT plan('tags && ''{5}''');
SELECT f, same(f), in_index(f) FROM unnest(ARRAY[
  'tags && ''{5}''', 'tags && ''{5,105}''', 'tags && ''{}''', 'tags @> ''{5,105}''', 'tags @> ''{}''',
  'tags <@ ''{1,2,3,101,102,103,200,201,202}''', 'tags <@ ''{}''', 'tags && ''{NULL}''']) f;
DROP INDEX f_hnsw;
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops, words);
SELECT f, same(f), in_index(f) FROM unnest(ARRAY[
  'words && ''{w3}''', 'words @> ''{w3,x1}''', 'words <@ ''{w1,w2,x0,x1,x2,x3}''']) f;
DROP INDEX f_hnsw;

-- Updates of the filter column: the old row's entry dies with it.
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops, i4);
UPDATE f SET i4 = 7 WHERE id % 50 = 1;
SELECT same('i4 = 7'), same('i4 = 1');
-- VACUUM removes the dead entries; inserts after it get theirs.
VACUUM f;
INSERT INTO f SELECT 3000 + i, ARRAY[1, 0, 1.5, i * 0.0001]::vector(4), NULL, 7, NULL, 'tenant 3', NULL, '{5}', NULL
  FROM generate_series(1, 30) i;
SELECT same('i4 = 7'), same('i4 > 5 AND i4 < 9'), in_index('i4 = 7');

-- Column layouts an hnsw index does not take.
CREATE INDEX ON f USING hnsw (i4, v vector_l2_ops);
CREATE INDEX ON f USING hnsw (v vector_l2_ops, v vector_l2_ops);
CREATE INDEX ON f USING hnsw (v vector_l2_ops, i4, t);
CREATE INDEX ON f USING hnsw (v vector_l2_ops) INCLUDE (i4);
CREATE INDEX ON f USING hnsw (v vector_l2_ops, (i4 > 3));
DROP TABLE f;
DROP FUNCTION rows_of, same, in_index, plan;
