-- Search features over ordinary queries: vecdb_mmr() (diversity),
-- vecdb_rrf() (rank fusion for hybrid search) and vecdb_recall().
CREATE SCHEMA search_test;
SET search_path = search_test, public;
SET extra_float_digits = 0;

-- Clustered candidates: five tight groups, so a diverse pick spreads over them.
CREATE TABLE c (id bigint PRIMARY KEY, v vector(6));
INSERT INTO c SELECT i, (SELECT array_agg(sin((i % 5) * 2.1 + j * 1.3) + 0.05 * sin(i * 7.7 + j))
                           FROM generate_series(1, 6) j)::vector
  FROM generate_series(1, 60) i;

-- The definition, step by step with the SQL operators: the first pick is the
-- nearest; then each maximizes -lambda d(q, c) + (1 - lambda) min over picks
-- of d(c, s), ties to the smaller id.
CREATE FUNCTION reference_mmr(q vector, k int, lambda float8, op text) RETURNS bigint[] AS $$
DECLARE
    picked bigint[] := '{}';
    best bigint;
BEGIN
    WHILE cardinality(picked) < least(k, (SELECT count(*) FROM c)) LOOP
        EXECUTE format($q$
            SELECT x.id FROM c x WHERE x.id <> ALL ($1)
             ORDER BY -$2 * (x.v %1$s $3)
                      + CASE WHEN cardinality($1) = 0 THEN 0
                             ELSE (1 - $2) * (SELECT min(x.v %1$s y.v) FROM c y WHERE y.id = ANY ($1)) END DESC,
                      x.id
             LIMIT 1$q$, op) INTO best USING picked, lambda, q;
        picked := picked || best;
    END LOOP;
    RETURN picked;
END $$ LANGUAGE plpgsql;

SELECT d.name, l.lambda,
       vecdb_mmr(q.v, (SELECT array_agg(v ORDER BY id) FROM c), (SELECT array_agg(id ORDER BY id) FROM c), 8,
                 l.lambda, d.name) = reference_mmr(q.v, 8, l.lambda, d.op) AS matches
  FROM (VALUES ('l2', '<->'), ('ip', '<#>'), ('cosine', '<=>'), ('l1', '<+>')) d(name, op),
       (VALUES (0.0), (0.25), (0.5), (0.9), (1.0)) l(lambda),
       (SELECT '[0.3,0.1,-0.2,0.5,0.4,-0.1]'::vector AS v) q
 ORDER BY 1, 2;

-- lambda = 1 is the nearest-first order; at 0.3 the first five picks fall in
-- four of the five groups (id % 5), where the nearest five fall in two.
SELECT vecdb_mmr(q, array_agg(v ORDER BY id), array_agg(id ORDER BY id), 5, 1.0, 'l2') =
       ARRAY(SELECT id FROM c ORDER BY v <-> q, id LIMIT 5) AS nearest_first,
       (SELECT count(DISTINCT x % 5) FROM unnest(vecdb_mmr(q, array_agg(v ORDER BY id), array_agg(id ORDER BY id), 5,
                                                            0.3, 'l2')) x) AS groups_mmr,
       (SELECT count(DISTINCT id % 5) FROM (SELECT id FROM c ORDER BY v <-> q LIMIT 5) s) AS groups_nearest
  FROM c, (SELECT v AS q FROM c WHERE id = 3) s
 GROUP BY q;

-- The outer step of an index query, as an application writes it.
CREATE INDEX ON c USING hnsw (v vector_cosine_ops);
SET enable_seqscan = off;
SELECT m.id, m.pick
  FROM (SELECT array_agg(v) AS vs, array_agg(id) AS ids
          FROM (SELECT id, v FROM c ORDER BY v <=> '[1,0,0,0,0,0]' LIMIT 30) s) n,
       unnest(vecdb_mmr('[1,0,0,0,0,0]', n.vs, n.ids, 5, 0.3)) WITH ORDINALITY m(id, pick)
 ORDER BY m.pick;
RESET enable_seqscan;

-- halfvec candidates: the same picks as their float values as vectors (the
-- sines are rounded to halves first, so both see the same numbers).
SELECT vecdb_mmr(q::halfvec, array_agg(v::halfvec ORDER BY id), array_agg(id ORDER BY id), 8, 0.4) =
       vecdb_mmr(q::halfvec::vector, array_agg(v::halfvec::vector ORDER BY id), array_agg(id ORDER BY id), 8, 0.4)
       AS halfvec_same
  FROM c, (SELECT v AS q FROM c WHERE id = 7) s
 GROUP BY q;

-- Edges: k past the candidates, k = 0, no candidates, a zero vector (its
-- cosine distance is NaN: last), NULL arguments (STRICT).  Untyped literals
-- need a cast (vector or halfvec), as for pgvector's functions.
SELECT vecdb_mmr('[1,1]', '{"[1,0]"}', '{10}', 1);
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0]","[0,1]","[1,1]"}', '{10,20,30}', 10, 0.5, 'l2') AS all_three,
       vecdb_mmr('[1,1]'::vector, '{"[1,0]","[0,1]"}', '{10,20}', 0) AS none,
       vecdb_mmr('[1,1]'::vector, '{}', '{}', 5) AS empty,
       vecdb_mmr('[1,1]'::vector, '{"[0,0]","[1,0]","[1,1]"}', '{10,20,30}', 3) AS zero_last,
       vecdb_mmr(NULL::vector, '{"[1,0]"}', '{1}', 1) IS NULL AS null_query;

-- O(n k) distances: 50,000 candidates, all picked, would take many seconds;
-- a statement timeout cancels it between picks.
SET statement_timeout = '300ms';
SELECT cardinality(vecdb_mmr('[1,1]'::vector, array_agg(format('[%s,%s]', sin(i), cos(i))::vector), array_agg(i::bigint),
                             50000, 0.5, 'l2'))
  FROM generate_series(1, 50000) i;
RESET statement_timeout;

-- Errors.
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0]","[0,1]"}', '{10}', 2);
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0]",NULL}', '{10,20}', 2);
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0]","[0,1]"}', '{10,NULL}', 2);
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0,0]"}', '{10}', 1);
SELECT vecdb_mmr('[1,1]'::vector, '{{"[1,0]"},{"[0,1]"}}', '{10,20}', 1);
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0]"}', '{10}', -1);
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0]"}', '{10}', 1, 1.5);
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0]"}', '{10}', 1, 'NaN');
SELECT vecdb_mmr('[1,1]'::vector, '{"[1,0]"}', '{10}', 1, 0.5, 'hamming');

-- vecdb_rrf: 1 / (60 + rank) per list, summed; ties by the best single rank,
-- then id.  Duplicates count at their first place; NULL ids and NULL or
-- empty lists are skipped.
SELECT id, round(score::numeric, 6) AS score FROM vecdb_rrf('{1,2,3,4}', '{3,9,1}');
SELECT id, round(score::numeric, 6) AS score FROM vecdb_rrf('{5,5,NULL,6}', NULL, k => 1);
SELECT id, round(score::numeric, 6) AS score FROM vecdb_rrf('{1,2}', '{2,1}', weight_a => 3, weight_b => 1);
SELECT count(*) FROM vecdb_rrf('{}', '{}');
SELECT * FROM vecdb_rrf('{1}', '{2}', k => 0);
SELECT * FROM vecdb_rrf('{1}', '{2}', weight_a => -1);
SELECT * FROM vecdb_rrf('{{1},{2}}', '{2}');

-- Hybrid search end to end: a vector query and a full-text query fused.
CREATE TABLE docs (id bigint PRIMARY KEY, body text, tsv tsvector, e vector(3));
INSERT INTO docs VALUES
  (1, 'postgres vector search with hnsw', NULL, '[1,0,0]'),
  (2, 'cooking pasta at home', NULL, '[0,1,0]'),
  (3, 'vector indexes in postgres', NULL, '[0.9,0.1,0]'),
  (4, 'hnsw graphs explained', NULL, '[0.7,0,0.7]'),
  (5, 'garden tomatoes', NULL, '[0,0.8,0.6]');
UPDATE docs SET tsv = to_tsvector('english', body);
SELECT f.id, d.body
  FROM vecdb_rrf(ARRAY(SELECT id FROM docs ORDER BY e <=> '[1,0,0.1]' LIMIT 4),
                 ARRAY(SELECT id FROM docs, plainto_tsquery('english', 'hnsw postgres') q
                        WHERE tsv @@ q ORDER BY ts_rank_cd(tsv, q) DESC, id LIMIT 4)) f
  JOIN docs d USING (id)
 ORDER BY f.score DESC, f.id
 LIMIT 3;

-- vecdb_recall: the query as it runs against the same query answered
-- exactly.  An exact code ('none'): recall 1.  Settings are as before after.
CREATE TABLE r (id int PRIMARY KEY, cat int, v vector(4));
INSERT INTO r SELECT i, i % 4, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::vector FROM generate_series(1, 3000) i;
CREATE INDEX r_none ON r USING hnsw (v vector_l2_ops) WITH (quantization = 'none');
SELECT * FROM vecdb_recall($$SELECT id FROM r ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 10$$);
SELECT * FROM vecdb_recall($$SELECT id FROM r WHERE cat = 2 ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 25$$);
SHOW enable_indexscan;
-- A poor plan shows: ivf with one probe of 30 lists finds part of the rows,
-- and vecdb_recall says how many, as counting both lists by hand does.
DROP INDEX r_none;
CREATE INDEX r_ivf ON r USING ivf (v vector_l2_ops) WITH (lists = 30);
SET ivf.probes = 1;
CREATE TEMP TABLE approx AS SELECT id FROM r ORDER BY v <-> '[0.5,-0.5,0.5,-0.5]' LIMIT 50;
SET enable_indexscan = off;
CREATE TEMP TABLE exact AS SELECT id FROM r ORDER BY v <-> '[0.5,-0.5,0.5,-0.5]' LIMIT 50;
RESET enable_indexscan;
SELECT recall = (SELECT count(*) FROM approx JOIN exact USING (id)) / 50.0 AS as_counted, recall < 1 AS partial,
       returned, expected
  FROM vecdb_recall($$SELECT id FROM r ORDER BY v <-> '[0.5,-0.5,0.5,-0.5]' LIMIT 50$$);
RESET ivf.probes;
-- Ties at the k-th distance: with the distance as a second column, a tied
-- row counts as found whichever of the ties each plan returns.
CREATE TABLE t (id int, v vector(2));
INSERT INTO t SELECT i, '[1,1]' FROM generate_series(1, 40) i;
CREATE INDEX ON t USING hnsw (v vector_l2_ops);
SELECT recall FROM vecdb_recall($$SELECT id, v <-> '[0,0]' FROM t ORDER BY v <-> '[0,0]' LIMIT 5$$);
-- Nothing to find: recall 1.
SELECT * FROM vecdb_recall($$SELECT id FROM r WHERE cat = 9 ORDER BY v <-> '[0,0,0,0]' LIMIT 5$$);
SELECT * FROM vecdb_recall(NULL);
SELECT * FROM vecdb_recall('SELECT no_such_column FROM r');

DROP SCHEMA search_test CASCADE;
