-- vecdb install script: built by concatenating the .sql files under src/pg
-- (see Makefile).  This part comes first.
\echo Use "CREATE EXTENSION vecdb" to load this file. \quit

CREATE FUNCTION vecdb_simd_kernels() RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_simd_kernels() IS
    'SIMD kernel set distances run on in this server: avx512f, avx2, neon or scalar';

CREATE FUNCTION vecdb_raise_cpp_exception(kind text) RETURNS void
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION vecdb_raise_cpp_exception(text) IS
    'diagnostics: throws a C++ exception (bad_alloc, invalid_parameter, runtime_error, unknown) inside vecdb to show it becomes an ERROR';
-- A test hook: superusers only.
REVOKE ALL ON FUNCTION vecdb_raise_cpp_exception(text) FROM PUBLIC;

CREATE FUNCTION vecdb_index_check(index regclass, OUT item text, OUT value bigint) RETURNS SETOF record
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION vecdb_index_check(regclass) IS
    'reads a whole hnsw or ivf index: an index_corrupted error (XX002) at the first problem, else what it counted';
