-- Text input and output, type modifier, binary output, storage.

SELECT '[1,2,3]'::vector;
SELECT ' [ 1 , -2.5 , 3e2 ] '::vector;
SELECT '[1e-3,+4,-0]'::vector;
SELECT '[1.5E+2, 0.1, 3.4028235e38, -1.17549435e-38]'::vector;
-- Shortest round-trip output: 0.1 stays 0.1, and text -> vector -> text is stable.
SELECT '[0.1,0.2,0.30000001]'::vector::text::vector = '[0.1,0.2,0.30000001]'::vector AS round_trip;
SELECT '[1,2,3]'::vector(3);
SELECT vector_dims('[1,2,3,4,5]'::vector), vector_dims(array_fill(1, ARRAY[16000])::vector);

-- Type modifier in tables
CREATE TABLE items (id int, embedding vector(3));
INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, NULL);
SELECT * FROM items ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'embedding';
\d items
DROP TABLE items;

-- Binary output in pgvector's wire format: int16 dim, int16 unused, float4s (big-endian).
SELECT vector_send('[1,2,3]');
SELECT vector_send('[-0.5]');

-- STORAGE main: a vector that fits a heap page stays inline (no TOAST
-- lookup to read it); a larger one moves out of line.  Both read back intact.
CREATE TABLE wide (v vector);
INSERT INTO wide SELECT array_agg(i * 0.5)::vector FROM generate_series(1, 1500) i;
SELECT pg_relation_size(reltoastrelid) = 0 AS inline FROM pg_class WHERE relname = 'wide';
INSERT INTO wide SELECT array_agg(sin(i))::vector FROM generate_series(1, 4000) i;
SELECT pg_relation_size(reltoastrelid) > 0 AS out_of_line FROM pg_class WHERE relname = 'wide';
SELECT vector_dims(v), v = (SELECT array_agg(i * 0.5)::vector FROM generate_series(1, 1500) i) AS intact
FROM wide WHERE vector_dims(v) = 1500;
SELECT vector_dims(v), v = (SELECT array_agg(sin(i))::vector FROM generate_series(1, 4000) i) AS intact
FROM wide WHERE vector_dims(v) = 4000;
DROP TABLE wide;
