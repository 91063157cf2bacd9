-- Rows of one code share an hnsw element: a non-HOT UPDATE that leaves the
-- vector as it was, or an INSERT of a copy, adds its heap TID to the
-- element of the same code and filter key (each element has page room for
-- one more between two VACUUMs) instead of adding a node; VACUUM removes
-- dead TIDs one by one.  vecdb_index_check() counts live elements (not
-- freed by VACUUM).

CREATE TABLE s (id int PRIMARY KEY, tag int, cat int, v vector(8));
CREATE INDEX s_tag ON s (tag); -- so that every UPDATE of tag is not HOT
INSERT INTO s SELECT i, 0, i % 4,
    (SELECT array_agg(sin(i * 0.37 + j * 1.91) * (1 + (i % 7)))::vector(8) FROM generate_series(1, 8) j)
  FROM generate_series(1, 1000) i;
CREATE INDEX s_sq8 ON s USING hnsw (v vector_l2_ops);
CREATE INDEX s_none ON s USING hnsw (v vector_cosine_ops) WITH (quantization = 'none');
CREATE INDEX s_l1 ON s USING hnsw (v vector_l1_ops) WITH (quantization = 'none');
CREATE INDEX s_h4 ON s USING hnsw (v vector_l2_ops) WITH (quantization = 'h4');
CREATE INDEX s_cat ON s USING hnsw (v vector_l2_ops, cat);

CREATE FUNCTION elements() RETURNS TABLE (index text, live_elements bigint) AS $$
    SELECT i, (SELECT value FROM vecdb_index_check(i::regclass) WHERE item = 'live')
      FROM unnest(ARRAY['s_sq8', 's_none', 's_l1', 's_h4', 's_cat']) i
$$ LANGUAGE sql;
-- Every row through each index: the ids an index scan returns (LIMIT past
-- the table; the iterative scan walks the whole graph) against the table's.
CREATE FUNCTION rows_found() RETURNS TABLE (index text, returned bigint, all_rows_once boolean) AS $$
    DECLARE
        ops text[] := ARRAY['<->', '<=>', '<+>'];
        idx text[] := ARRAY['s_sq8', 's_none', 's_l1'];
        ids int[];
    BEGIN
        SET LOCAL enable_seqscan = off;
        SET LOCAL hnsw.max_scan_tuples = 100000;
        FOR i IN 1 .. 3 LOOP
            EXECUTE format('SELECT array(SELECT id FROM s ORDER BY v %s ''[1,1,1,1,1,1,1,1]'' LIMIT 5000)', ops[i])
              INTO ids;
            index := idx[i];
            returned := cardinality(ids);
            all_rows_once := (SELECT array_agg(x ORDER BY x) FROM unnest(ids) x) =
                             (SELECT array_agg(id ORDER BY id) FROM s);
            RETURN NEXT;
        END LOOP;
        SELECT array(SELECT id FROM s WHERE cat = 1 ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 5000) INTO ids;
        index := 's_cat';
        returned := cardinality(ids);
        all_rows_once := (SELECT array_agg(x ORDER BY x) FROM unnest(ids) x) =
                         (SELECT array_agg(id ORDER BY id) FROM s WHERE cat = 1);
        RETURN NEXT;
    END $$ LANGUAGE plpgsql;

SELECT * FROM elements();

-- Every row updated (tag only): no element added, every row found once.
UPDATE s SET tag = 1;
SELECT * FROM elements();
SELECT * FROM rows_found();

-- VACUUM drops the old versions' TIDs; the elements stay.
VACUUM s;
SELECT * FROM elements();
SELECT * FROM rows_found();

-- A new filter key is a new element in s_cat, only there.
UPDATE s SET cat = cat + 1 WHERE id <= 100;
SELECT * FROM elements();
SELECT * FROM rows_found();
VACUUM s;

-- Copies of 200 rows share their elements; the originals deleted and
-- vacuumed, the copies are still found (the elements keep their TIDs).
INSERT INTO s SELECT id + 10000, tag, cat, v FROM s WHERE id <= 200;
SELECT * FROM elements();
SELECT * FROM rows_found();
DELETE FROM s WHERE id <= 200;
VACUUM s;
SELECT * FROM elements();
SELECT * FROM rows_found();

-- Shared elements come back in exact order: the 10 nearest distances to
-- a row of an updated element, through each index, equal the exact ones.
SET enable_seqscan = off;
SELECT array(SELECT round((v <-> q)::numeric, 5) FROM s ORDER BY v <-> q LIMIT 10) =
       array(SELECT round((v <-> q)::numeric, 5) FROM s ORDER BY (v <-> q) + 0 LIMIT 10) AS l2_exact,
       array(SELECT round((v <=> q)::numeric, 5) FROM s ORDER BY v <=> q LIMIT 10) =
       array(SELECT round((v <=> q)::numeric, 5) FROM s ORDER BY (v <=> q) + 0 LIMIT 10) AS cosine_exact,
       array(SELECT round((v <+> q)::numeric, 5) FROM s ORDER BY v <+> q LIMIT 10) =
       array(SELECT round((v <+> q)::numeric, 5) FROM s ORDER BY (v <+> q) + 0 LIMIT 10) AS l1_exact
  FROM (SELECT v AS q FROM s WHERE id = 250) x;
RESET enable_seqscan;

-- Changing the vector is a new element.
UPDATE s SET v = v + v WHERE id BETWEEN 10001 AND 10050;
SELECT * FROM elements();
SELECT * FROM rows_found();

DROP TABLE s;
DROP FUNCTION elements();
DROP FUNCTION rows_found();

-- A build shares elements too: 400 vectors in 3 rows each, and one vector
-- in 40 rows (an element holds 33: two elements).
CREATE TABLE d (id int, v vector(8));
INSERT INTO d SELECT i, (SELECT array_agg(sin((i % 400) * 0.37 + j * 1.91) * (1 + (i % 400) % 7))::vector(8)
                           FROM generate_series(1, 8) j)
  FROM generate_series(1, 1200) i;
INSERT INTO d SELECT 2000 + i, '[1,2,3,4,5,6,7,8]' FROM generate_series(1, 40) i;
CREATE INDEX d_sq8 ON d USING hnsw (v vector_l2_ops);
CREATE INDEX d_none ON d USING hnsw (v vector_cosine_ops) WITH (quantization = 'none');
SELECT i AS index, c.value AS live_elements
  FROM unnest('{d_sq8,d_none}'::regclass[]) i, vecdb_index_check(i) c WHERE c.item = 'live';
SET enable_seqscan = off;
SELECT count(*) AS returned, count(DISTINCT id) AS distinct_rows
  FROM (SELECT id FROM d ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 2000) x;
SELECT count(*) AS returned, count(DISTINCT id) AS distinct_rows
  FROM (SELECT id FROM d ORDER BY v <=> '[1,1,1,1,1,1,1,1]' LIMIT 2000) x;
SELECT array(SELECT id FROM d ORDER BY v <-> '[1,2,3,4,5,6,7,8]', id LIMIT 3) AS nearest_copies;
RESET enable_seqscan;
DROP TABLE d;

-- Elements too large to take 32 more TIDs on their page: the build keeps
-- as many as fit and inserts the other rows after it (they share too).
CREATE TABLE b (id int, v vector(1990));
INSERT INTO b SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 1.91))::vector(1990) FROM generate_series(1, 1990) j)
  FROM generate_series(1, 50) i;
INSERT INTO b SELECT 1000 + i, (SELECT array_agg(cos(j * 1.91))::vector(1990) FROM generate_series(1, 1990) j)
  FROM generate_series(1, 45) i;
CREATE INDEX b_none ON b USING hnsw (v vector_l2_ops) WITH (quantization = 'none');
SELECT value < 95 AS shared FROM vecdb_index_check('b_none') WHERE item = 'live';
SET enable_seqscan = off;
SELECT count(*) AS returned, count(DISTINCT id) AS distinct_rows, count(*) FILTER (WHERE id > 1000) AS copies
  FROM (SELECT id FROM b ORDER BY v <-> (SELECT v FROM b WHERE id = 1001) LIMIT 200) x;
RESET enable_seqscan;
DROP TABLE b;
