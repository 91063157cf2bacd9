-- bruteforce.sql -- helpers for scripts/bench_sql.sh, loaded into each
-- benchmark database (vecdb's and, when installed, pgvector's): both define
-- a type named vector with the same operators, so the same SQL runs on both.

-- bench_load(rows, dims): `rows` seeded pseudo-random vectors in 100 clusters.
CREATE FUNCTION bench_load(rows int, dims int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(0.5);
    DROP TABLE IF EXISTS items, centers;
    CREATE TABLE centers AS
        SELECT k, array_agg((random() * 2 - 1)::real ORDER BY d) AS c
        FROM generate_series(0, 99) k, generate_series(1, dims) d GROUP BY k ORDER BY k;
    EXECUTE format('CREATE TABLE items (id int PRIMARY KEY, embedding vector(%s))', dims);
    INSERT INTO items
        SELECT i, (SELECT array_agg(c[d] + (random() - 0.5) * 0.5 ORDER BY d) FROM generate_series(1, dims) d)::vector
        FROM generate_series(1, rows) i JOIN centers ON k = i % 100 ORDER BY i;
    ANALYZE items;
END
$$;

-- bench_run(op, queries): mean milliseconds of `ORDER BY embedding <op> q
-- LIMIT 10` over `queries` query vectors taken from the table, and an md5
-- of all result ids so two implementations can be checked to agree.
CREATE FUNCTION bench_run(op text, queries int, OUT ms_per_query float8, OUT ids_md5 text)
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    ids int[];
    all_ids text := '';
    started timestamptz;
    total interval := '0';
    n int := (SELECT count(*) FROM items);
BEGIN
    FOR i IN 1 .. queries LOOP
        SELECT embedding::text INTO q FROM items WHERE id = (i * 7919) % n + 1;
        started := clock_timestamp();
        EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY embedding %s $1::vector LIMIT 10) t', op)
            INTO ids USING q;
        total := total + (clock_timestamp() - started);
        all_ids := all_ids || ids::text;
    END LOOP;
    ms_per_query := extract(epoch FROM total) * 1000 / queries;
    ids_md5 := md5(all_ids);
END
$$;
