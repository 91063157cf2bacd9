-- vecdb_index_check(regclass): reads a whole hnsw or ivf index, raises
-- XX002 at the first problem (TAP 008 and 013 corrupt pages for that),
-- else returns what it counted.  Here: healthy indexes of every kind, before
-- and after deletes, VACUUM and inserts, and the errors.
CREATE SCHEMA index_check_test;
SET search_path = index_check_test, public;

-- One build thread: a parallel build's graph depends on timing.
SET max_parallel_maintenance_workers = 0;
CREATE TABLE t (id int, v vector(8), b bit(64));
INSERT INTO t SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i), i % 7, i % 3, sin(i * 0.1), 1]::vector,
                     ('x' || md5(i::text))::bit(64)
  FROM generate_series(1, 1000) i;
CREATE INDEX t_sq8 ON t USING hnsw (v vector_l2_ops);
CREATE INDEX t_e8 ON t USING hnsw (v vector_cosine_ops) WITH (quantization = 'e8');
CREATE INDEX t_none ON t USING hnsw (v vector_l1_ops);
CREATE INDEX t_bit ON t USING hnsw (b bit_jaccard_ops);
CREATE INDEX t_ip ON t USING hnsw (v vector_ip_ops);
CREATE INDEX t_ivf ON t USING ivf (v vector_ip_ops) WITH (lists = 10);
CREATE INDEX t_ivfflat ON t USING ivfflat (b bit_hamming_ops) WITH (lists = 10);

-- One row per index: every live element reached from the entry point, every
-- entry in a list, and the counts adding up.  After churn, how many freed
-- slots inserts reused depends on the graph (and so on autovacuum's
-- timing), and unreachable elements are shown as a bound.
CREATE FUNCTION summary(idx regclass, churn boolean DEFAULT false) RETURNS text AS $$
    SELECT string_agg(CASE WHEN churn AND item = 'unreachable' THEN 'unreachable<=30=' || (value <= 30)::text
                           ELSE item || '=' || value END, ' ' ORDER BY ord)
             FILTER (WHERE item IN ('live', 'deleted', 'unreachable', 'lists', 'entries', 'unreached_pages') OR
                           (NOT churn AND item IN ('elements', 'free'))) ||
           coalesce(' counts_add_up=' || (sum(value) FILTER (WHERE item = 'elements') =
                                          sum(value) FILTER (WHERE item IN ('live', 'deleted', 'free'))), '')
      FROM vecdb_index_check(idx) WITH ORDINALITY AS c(item, value, ord)
$$ LANGUAGE sql;
SELECT i AS index, summary(i) FROM unnest('{t_sq8,t_e8,t_none,t_bit,t_ip,t_ivf,t_ivfflat}'::regclass[]) i;

DELETE FROM t WHERE id % 5 = 0;
VACUUM t;
INSERT INTO t SELECT 5000 + i, ARRAY[sin(i), cos(i), 0, 0, i % 7, 0, 0, 1]::vector, ('x' || md5((-i)::text))::bit(64)
  FROM generate_series(1, 150) i;
-- Inserts can leave live elements no walk from the entry point reaches (a
-- search cannot return them; 500 inserts into 3,000 rows left 13 to 19 in
-- the e8 index); VACUUM reconnects them.  Kept small: under Valgrind every
-- insert costs about 0.1 s.
SELECT i AS index, summary(i, true) FROM unnest('{t_sq8,t_e8,t_none,t_bit,t_ivf,t_ivfflat}'::regclass[]) i;
-- Under inner product, rows of small norm are no row's nearest neighbour,
-- and re-selected lists drop them: inserts leave many unreachable, and
-- VACUUM links each in without dropping any other link (SpliceLink).
SELECT value > 10 AS many_unreachable FROM vecdb_index_check('t_ip') WHERE item = 'unreachable';
VACUUM t;
SELECT i AS index, c.value AS unreachable
  FROM unnest('{t_sq8,t_e8,t_none,t_bit,t_ip}'::regclass[]) i, vecdb_index_check(i) c WHERE c.item = 'unreachable';
-- Rows past the ranges sq8 learned at build (the last coordinate was 1) are
-- clamped: they decode alike, re-selections by decoded distance dropped
-- members at random, and these 150 left 66 of the inner-product index's
-- rows unreachable.  Their links in are spliced instead: none.  The check
-- counts the clamped codes (a sign to REINDEX): these 150 rows in each sq8
-- index, none in e8's (its codes have no ranges; its inserts re-select lists
-- as above, so its unreachable count is shown as a bound).
INSERT INTO t SELECT 6000 + i, ARRAY[sin(i), cos(i), 0, 0, i % 7, 0, 0, 2 + i * 0.01]::vector,
                     ('x' || md5((-i)::text))::bit(64)
  FROM generate_series(1, 150) i;
SELECT i AS index,
       string_agg(CASE WHEN i = 't_e8'::regclass AND c.item = 'unreachable' THEN 'unreachable<=30=' || (c.value <= 30)
                       ELSE c.item || '=' || c.value END, ' ' ORDER BY c.item) AS counts
  FROM unnest('{t_sq8,t_ip,t_e8,t_ivf}'::regclass[]) i, vecdb_index_check(i) c
 WHERE c.item IN ('unreachable', 'clamped')
 GROUP BY i ORDER BY i::text;

-- An empty index, and one with a filter column.
CREATE TABLE e (v vector(3), c int);
CREATE INDEX e_hnsw ON e USING hnsw (v vector_l2_ops, c);
CREATE INDEX e_ivf ON e USING ivf (v vector_l2_ops);
SELECT summary('e_hnsw'), summary('e_ivf');
INSERT INTO e VALUES ('[1,2,3]', 1), ('[3,2,1]', 2);
SELECT summary('e_hnsw'), summary('e_ivf');

-- Errors: not an index, another kind of index, NULL; a role that does not
-- own the table.
SELECT * FROM vecdb_index_check('t');
CREATE INDEX t_id ON t (id);
SELECT * FROM vecdb_index_check('t_id');
SELECT * FROM vecdb_index_check(NULL);
CREATE ROLE index_check_stranger;
GRANT USAGE ON SCHEMA index_check_test TO index_check_stranger;
SET ROLE index_check_stranger;
SELECT * FROM vecdb_index_check('t_sq8');
RESET ROLE;
REVOKE USAGE ON SCHEMA index_check_test FROM index_check_stranger;
DROP ROLE index_check_stranger;

RESET max_parallel_maintenance_workers;
RESET search_path;
DROP SCHEMA index_check_test CASCADE;
