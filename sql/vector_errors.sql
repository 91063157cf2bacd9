-- Every bad input gets a clear error with its SQLSTATE, and the session goes on.
-- sqlstate_of() runs a statement and shows the SQLSTATE and message it raised.
CREATE FUNCTION sqlstate_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- Malformed text: 22P02
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT '1,2,3'::vector$$),
    ($$SELECT '[1,2'::vector$$),
    ($$SELECT '[1,,2]'::vector$$),
    ($$SELECT '[1 2]'::vector$$),
    ($$SELECT '[1,2]x'::vector$$),
    ($$SELECT '[a]'::vector$$),
    ($$SELECT ''::vector$$)
) AS t(statement);
-- NaN and infinity in input: 22P02; a number beyond float: 22003
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT '[NaN]'::vector$$),
    ($$SELECT '[1,Infinity]'::vector$$),
    ($$SELECT '[-inf]'::vector$$),
    ($$SELECT '[1e39]'::vector$$)
) AS t(statement);
-- Empty: 22000; too many dimensions: 54000
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT '[]'::vector$$),
    ($$SELECT array_fill(1, ARRAY[16001])::vector$$),
    ($$SELECT ('[' || repeat('1,', 16000) || '1]')::vector$$)
) AS t(statement);
-- Type modifiers: 22023; dimension checks: 22000
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT '[1]'::vector(0)$$),
    ($$SELECT '[1]'::vector(16001)$$),
    ($$SELECT '[1]'::vector(1, 2)$$),
    ($$SELECT '[1,2]'::vector(3)$$)
) AS t(statement);
CREATE TABLE t (v vector(2));
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$INSERT INTO t VALUES ('[1,2,3]')$$)
) AS t(statement);
DROP TABLE t;

-- Dimension mismatch between operands: 22000
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT '[1,2]'::vector <-> '[1,2,3]'$$),
    ($$SELECT '[1,2]'::vector <#> '[1,2,3]'$$),
    ($$SELECT '[1,2]'::vector <=> '[1,2,3]'$$),
    ($$SELECT '[1,2]'::vector <+> '[1,2,3]'$$),
    ($$SELECT '[1,2]'::vector + '[1,2,3]'$$),
    ($$SELECT '[1,2]'::vector - '[1,2,3]'$$),
    ($$SELECT '[1,2]'::vector * '[1,2,3]'$$),
    ($$SELECT inner_product('[1,2]', '[1,2,3]')$$),
    ($$SELECT B'101' <~> B'10'$$),
    ($$SELECT B'101' <%> B'1011'$$)
) AS t(statement);

-- Arithmetic that leaves float's range: 22003
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT '[3e38]'::vector + '[3e38]'$$),
    ($$SELECT '[-3e38]'::vector - '[3e38]'$$),
    ($$SELECT '[1e30]'::vector * '[1e30]'$$),
    ($$SELECT '[1e-30]'::vector * '[1e-30]'$$)
) AS t(statement);
-- subvector and concatenation must leave 1 .. 16000 dimensions
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT subvector('[1,2,3]', 1, 0)$$),
    ($$SELECT subvector('[1,2,3]', 4, 1)$$),
    ($$SELECT subvector('[1,2,3]', -5, 3)$$),
    ($$SELECT array_fill(1, ARRAY[8001])::vector || array_fill(1, ARRAY[8000])::vector$$)
) AS t(statement);


-- C++ exceptions raised inside vecdb become ERRORs with their SQLSTATE ...
SELECT kind, sqlstate_of(format('SELECT vecdb_raise_cpp_exception(%L)', kind))
FROM unnest(ARRAY['bad_alloc', 'invalid_parameter', 'runtime_error', 'unknown', 'no such kind']) kind;
-- ... at top level, inside a transaction, which rolls back cleanly ...
BEGIN;
CREATE TABLE survivor (v vector);
INSERT INTO survivor VALUES ('[1]');
SELECT vecdb_raise_cpp_exception('runtime_error');
ROLLBACK;
SELECT to_regclass('survivor') IS NULL AS rolled_back;
-- ... and the session goes on.
SELECT vecdb_raise_cpp_exception('runtime_error');
SELECT '[1,2,3]'::vector <-> '[3,1,2]' AS still_working;
DROP FUNCTION sqlstate_of(text);
