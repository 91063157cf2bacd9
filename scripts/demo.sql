-- The vecdb demo: run by scripts/demo.sh in a throwaway cluster.
\pset footer off
\echo '== vecdb: CREATE EXTENSION'
CREATE EXTENSION vecdb;
SELECT extversion AS vecdb_version, vecdb_simd_kernels() AS simd_kernels FROM pg_extension WHERE extname = 'vecdb';

\echo '== A table of 20,000 items with 64-dimensional embeddings in 10 clusters (seeded, so the same every run)'
CREATE TABLE items (id bigserial PRIMARY KEY, category int, embedding vector(64));
SELECT setseed(0.42) \gset
CREATE TEMP TABLE centroids AS
SELECT k, array_agg((random() * 2 - 1)::real ORDER BY d) AS c
FROM generate_series(0, 9) k, generate_series(1, 64) d GROUP BY k ORDER BY k;
\timing on
INSERT INTO items (category, embedding)
SELECT i % 10, (SELECT array_agg(c[d] + (random() - 0.5) * 0.6 ORDER BY d) FROM generate_series(1, 64) d)::vector
FROM generate_series(1, 20000) i JOIN centroids ON k = i % 10 ORDER BY i;
\timing off
ANALYZE items;
SELECT count(*) AS items, pg_size_pretty(pg_total_relation_size('items')) AS size FROM items;

\echo '== The query vector: item 42 moved a little'
SELECT embedding + array_fill(0.01, ARRAY[64])::vector AS q FROM items WHERE id = 42 \gset
SELECT subvector(:'q'::vector, 1, 4) AS query_starts_with;

\echo '== 5 nearest by Euclidean distance (<->)'
\timing on
SELECT id, category, round((embedding <-> :'q')::numeric, 4) AS l2
FROM items ORDER BY embedding <-> :'q' LIMIT 5;
\echo '== 5 nearest by cosine distance (<=>)'
SELECT id, category, round((embedding <=> :'q')::numeric, 6) AS cosine
FROM items ORDER BY embedding <=> :'q' LIMIT 5;
\echo '== 5 largest inner products (<#> is the negative inner product)'
SELECT id, category, round((-(embedding <#> :'q'))::numeric, 3) AS inner_product
FROM items ORDER BY embedding <#> :'q' LIMIT 5;
\echo '== Filtered: 5 nearest in category 7 only, plain SQL WHERE'
SELECT id, category, round((embedding <-> :'q')::numeric, 4) AS l2
FROM items WHERE category = 7 ORDER BY embedding <-> :'q' LIMIT 5;
\echo '== Taxicab distance (<+>), with a join on the result'
SELECT n.id, n.l1, i.category FROM (
    SELECT id, round((embedding <+> :'q')::numeric, 3) AS l1 FROM items ORDER BY embedding <+> :'q' LIMIT 3
) n JOIN items i USING (id) ORDER BY n.l1;
\echo '== Per-category centroids with avg(vector)'
SELECT category, subvector(avg(embedding), 1, 3) AS centroid_starts_with, count(*)
FROM items GROUP BY category ORDER BY category LIMIT 4;
\timing off

\echo '== An hnsw index: sq8 codes in the graph, exact distances from the heap rows'
SET maintenance_work_mem = '256MB';
\timing on
CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64);
\timing off
SELECT pg_size_pretty(pg_relation_size('items_embedding_idx')) AS index_size,
       pg_size_pretty(pg_relation_size('items')) AS table_size;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 42) LIMIT 5;
\echo '== The same 5 nearest, now through the index'
\timing on
SELECT id, category, round((embedding <-> :'q')::numeric, 4) AS l2
FROM items ORDER BY embedding <-> :'q' LIMIT 5;
\echo '== Filtered through the index: the scan goes on until the LIMIT is filled (hnsw.iterative_scan)'
SELECT id, category, round((embedding <-> :'q')::numeric, 4) AS l2
FROM items WHERE category = 7 ORDER BY embedding <-> :'q' LIMIT 5;
\timing off
\echo '== Recall@10 of the index against exact search, 20 queries (hnsw.ef_search = 40, the default)'
CREATE TEMP TABLE demo_queries AS
SELECT id, embedding + array_fill(0.02, ARRAY[64])::vector AS q FROM items WHERE id % 1000 = 0;
-- vecdb_recall() runs a query as planned and again exactly (index scans off)
SELECT round(avg(r.recall)::numeric, 3) AS recall_at_10
FROM demo_queries d, vecdb_recall(format('SELECT id FROM items ORDER BY embedding <-> %L LIMIT 10', d.q)) r;
SET hnsw.ef_search = 10;
SELECT round(avg(r.recall)::numeric, 3) AS recall_at_10_ef_search_10
FROM demo_queries d, vecdb_recall(format('SELECT id FROM items ORDER BY embedding <-> %L LIMIT 10', d.q)) r;
RESET hnsw.ef_search;
\echo '== Writes keep the index current: insert 1,000 rows, delete 2,000, VACUUM, query again'
INSERT INTO items (category, embedding)
SELECT i % 10, (SELECT array_agg(c[d] + (random() - 0.5) * 0.6 ORDER BY d) FROM generate_series(1, 64) d)::vector
FROM generate_series(1, 1000) i JOIN centroids ON k = i % 10;
DELETE FROM items WHERE id % 10 = 3;
VACUUM items;
SELECT id, category, round((embedding <-> :'q')::numeric, 4) AS l2
FROM items ORDER BY embedding <-> :'q' LIMIT 5;

\echo '== A filter column in the index: WHERE category = 7 is tested as the scan walks (Index Cond), at no extra size'
REINDEX INDEX items_embedding_idx;
CREATE INDEX items_category_idx ON items USING hnsw (embedding vector_l2_ops, category);
SELECT pg_size_pretty(pg_relation_size('items_embedding_idx')) AS plain_index,
       pg_size_pretty(pg_relation_size('items_category_idx')) AS with_filter_column;
DROP INDEX items_embedding_idx;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE category = 7
ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 42) LIMIT 5;
SELECT id, category, round((embedding <-> :'q')::numeric, 4) AS l2
FROM items WHERE category = 7 ORDER BY embedding <-> :'q' LIMIT 5;

\echo '== Lattice codes: what each code keeps of a vector (relative squared error, bits per dimension)'
SELECT m AS quantization, round(avg(vecdb_quantization_error(m, embedding))::numeric, 4) AS error,
       round(vecdb_quantization_bits(m, 64)::numeric, 2) AS bits_per_dim
FROM items, unnest(ARRAY['sq8', 'e8_4bit', 'e8', 'h4', 'binary']) m WHERE id <= 200 GROUP BY m ORDER BY 2;
\echo '== An index of E8 lattice codes (2 bits/dim): smaller; its scan re-ranks candidates on the table rows'
DROP INDEX items_category_idx;
\timing on
CREATE INDEX items_e8_idx ON items USING hnsw (embedding vector_l2_ops) WITH (quantization = 'e8');
\timing off
SELECT pg_size_pretty(pg_relation_size('items_e8_idx')) AS e8_index_size;
SELECT id, category, round((embedding <-> :'q')::numeric, 4) AS l2
FROM items ORDER BY embedding <-> :'q' LIMIT 5;

\echo '== Functions'
SELECT vector_dims(:'q'::vector) AS dims, round(vector_norm(:'q')::numeric, 4) AS norm,
       round(vector_norm(l2_normalize(:'q'::vector))::numeric, 4) AS normalized_norm,
       binary_quantize(subvector(:'q'::vector, 1, 16)) AS sign_bits_1_16;
SELECT '[1,2,3]'::vector + '[4,5,6]' AS sum, '[1,2]'::vector || '[3]' AS concat,
       ARRAY[1.5, 2.5]::real[]::vector AS from_array, '[1,2]'::vector::real[] AS to_array;

\echo '== Diverse results: 5 of the 50 nearest picked by maximal marginal relevance (vecdb_mmr), against the nearest 5'
WITH c AS (SELECT id, embedding FROM items ORDER BY embedding <-> :'q' LIMIT 50),
     sets AS (SELECT 'nearest 5' AS picks, ARRAY(SELECT id FROM c ORDER BY embedding <-> :'q' LIMIT 5) AS ids
              UNION ALL
              SELECT 'vecdb_mmr, lambda 0.3', vecdb_mmr(:'q', (SELECT array_agg(embedding) FROM c),
                                                       (SELECT array_agg(id) FROM c), 5, 0.3, 'l2'))
SELECT picks, ids,
       (SELECT round(min(a.embedding <-> b.embedding)::numeric, 3) FROM items a, items b
        WHERE a.id = ANY (ids) AND b.id = ANY (ids) AND a.id < b.id) AS closest_pair,
       (SELECT round(max(embedding <-> :'q')::numeric, 3) FROM items WHERE id = ANY (ids)) AS farthest_from_query
FROM sets;

\echo '== Bad input gets a clear error (expected):'
\set ON_ERROR_STOP 0
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[1,NaN]'::vector;
\set ON_ERROR_STOP 1
