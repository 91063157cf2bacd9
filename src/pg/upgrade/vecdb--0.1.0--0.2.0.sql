-- vecdb 0.1.0 -> 0.2.0 (ALTER EXTENSION vecdb UPDATE).  The library is the
-- new one already; this adds what 0.2.0's install script has that 0.1.0's
-- did not (TAP 016 compares the two catalogs).
\echo Use "ALTER EXTENSION vecdb UPDATE" to load this file. \quit

-- A test hook: superusers only.
REVOKE ALL ON FUNCTION vecdb_raise_cpp_exception(text) FROM PUBLIC;

CREATE FUNCTION vecdb_index_check(index regclass, OUT item text, OUT value bigint) RETURNS SETOF record
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION vecdb_index_check(regclass) IS
    'reads a whole hnsw or ivf index: an index_corrupted error (XX002) at the first problem, else what it counted';
