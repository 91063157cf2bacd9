-- Extreme but valid values: magnitudes from subnormal (1e-44) to 3.4e38,
-- mixed within a vector, zero vectors; stored rows (built and inserted) and
-- query vectors.  Every code x every opclass, each under a statement_timeout
-- (a hang fails it; 60 s leaves room for slow machines, a check takes 0.1 to
-- 0.5 s here), compared with the sequential scan:
-- LIMIT filled, rows in exact order, no wrong-order error, recall above a
-- floor with the widest search (ef_search and rerank_window 1000).
SET statement_timeout = '60s';
SET hnsw.ef_search = 1000;
SET hnsw.rerank_window = 1000;

-- Row i: magnitude m(i) times sin(); every 5th row mixes 3e38 and 1e-40
-- entries; every 40th is zero.
CREATE FUNCTION extreme_vector(i int, phase float8) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT CASE
        WHEN i % 40 = 0 THEN 0
        WHEN i % 5 = 0 THEN (CASE WHEN j % 2 = 0 THEN 3e38 ELSE 1e-40 END) * sin(i * 7.1 + j * 3.3 + phase)
        ELSE greatest(-3.4e38, least(3.4e38,
            (ARRAY[1e-44, 1e-40, 1e-38, 1e-30, 1e-20, 1e-3, 1, 1e3, 1e20, 1e30, 1e36, 3.4e38])[1 + i % 12]
            * sin(i * 7.1 + j * 3.3 + phase)))
        END FROM generate_series(1, 12) j)::float8[]::vector
$$;

CREATE TABLE extreme (id int, v vector(12));
INSERT INTO extreme SELECT i, extreme_vector(i, 0) FROM generate_series(1, 1000) i;
CREATE TABLE extreme_queries AS
    SELECT i, extreme_vector(i, 0.5) AS q FROM generate_series(1, 24) i
    UNION ALL SELECT 100, extreme_vector(7, 0)      -- a stored row
    UNION ALL SELECT 101, '[3e38,3e38,3e38,3e38,3e38,3e38,3e38,3e38,3e38,3e38,3e38,3e38]'
    UNION ALL SELECT 102, '[1,1,1,1,1,1,1,0.9,1,1,1,1]';

-- Per query, LIMIT 10 and with a filter: disordered counts queries that
-- return fewer rows than the sequential scan or rows out of order (beyond a
-- late tail), recall is the share of the sequential scan's distances found.
CREATE FUNCTION extreme_compare(op text, OUT disordered int, OUT recall float8)
LANGUAGE plpgsql AS $$
DECLARE
    query record;
    through_index float8[];
    exact float8[];
    found int := 0;
    total int := 0;
    sql text;
BEGIN
    disordered := 0;
    FOREACH sql IN ARRAY ARRAY[
        format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM extreme ORDER BY v %s $1 LIMIT 10) s', op, op),
        format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM extreme WHERE id %% 3 = 0 ORDER BY v %s $1 LIMIT 5) s', op, op)]
    LOOP
        FOR query IN SELECT * FROM extreme_queries ORDER BY i LOOP
            PERFORM set_config('enable_seqscan', 'off', true);
            PERFORM set_config('enable_indexscan', 'on', true);
            EXECUTE sql INTO through_index USING query.q;
            PERFORM set_config('enable_seqscan', 'on', true);
            PERFORM set_config('enable_indexscan', 'off', true);
            EXECUTE sql INTO exact USING query.q;
            -- LIMIT filled, rows in order: one sorted run, or two when
            -- strict_order returned rows found late (after the walk found
            -- farther ones first) at the end, as the README says it may.
            IF cardinality(through_index) IS DISTINCT FROM cardinality(exact) OR
               (SELECT count(*) FROM generate_subscripts(through_index, 1) k
                WHERE k > 1 AND through_index[k] < through_index[k - 1]) > 1 THEN
                disordered := disordered + 1;
            END IF;
            found := found + (SELECT count(*) FROM unnest(exact) d WHERE d = ANY (through_index));
            total := total + cardinality(exact);
        END LOOP;
    END LOOP;
    PERFORM set_config('enable_seqscan', 'on', true);
    PERFORM set_config('enable_indexscan', 'on', true);
    recall := found::float8 / total;
END $$;

-- Builds the index and checks it, then inserts 60 more extreme rows and
-- checks again.  Every query must return its LIMIT in order.  The search
-- is approximate even here: huge and tiny distances rank coarsely
-- (vecdb::rank_float), codes of rows outside the range codes describe
-- estimate nothing, and an inserted outlier is linked as well as HNSW's
-- insert manages, without the build's reachability pass; so recall has a
-- floor (measured: 0.88 .. 1 after a build, 0.78 .. 1 after the inserts).
CREATE FUNCTION extreme_check(code text, opclass text, op text)
    RETURNS TABLE (step text, disordered int, recall_ok bool)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    DELETE FROM extreme WHERE id > 1000;
    DROP INDEX IF EXISTS extreme_idx;
    EXECUTE format('CREATE INDEX extreme_idx ON extreme USING hnsw (v %s) WITH (quantization = %L)', opclass, code);
    r := extreme_compare(op);
    step := 'build'; disordered := r.disordered; recall_ok := r.recall >= 0.8; RETURN NEXT;
    INSERT INTO extreme SELECT i, extreme_vector(i, 1.0) FROM generate_series(1001, 1060) i;
    r := extreme_compare(op);
    step := 'insert'; disordered := r.disordered; recall_ok := r.recall >= 0.7; RETURN NEXT;
END $$;

-- The comparisons below go through the index.
CREATE INDEX extreme_idx ON extreme USING hnsw (v vector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM extreme ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10;
RESET enable_seqscan;

-- One statement per code and opclass, each under the timeout.
SELECT format('SELECT %L AS code, %L AS opclass, * FROM extreme_check(%L, %L, %L)', code, opclass, code, opclass, op)
FROM (VALUES ('none'), ('sq8'), ('e8'), ('e8_4bit'), ('h4'), ('binary')) c(code),
     (VALUES ('vector_l2_ops', '<->'), ('vector_ip_ops', '<#>'), ('vector_cosine_ops', '<=>')) o(opclass, op)
ORDER BY 1 \gexec

SELECT * FROM extreme_check('none', 'vector_l1_ops', '<+>');

-- VACUUM repairs the graph around deleted extreme rows (inner product,
-- where every query matched the sequential scan).
SELECT count(*) FROM extreme_check('e8', 'vector_ip_ops', '<#>');
DELETE FROM extreme WHERE id % 4 = 1;
VACUUM extreme;
SELECT disordered, recall >= 0.95 AS recall_ok FROM extreme_compare('<#>');

-- A query vector no function can make (NaN) never reaches the scan: the
-- input functions reject it.
SELECT '[NaN,1,1,1,1,1,1,1,1,1,1,1]'::vector(12);

DROP TABLE extreme, extreme_queries;
DROP FUNCTION extreme_check, extreme_compare, extreme_vector;
RESET statement_timeout;
RESET hnsw.ef_search;
RESET hnsw.rerank_window;
