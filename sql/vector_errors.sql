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
    ($$SELECT inner_product('[1,2]'::vector, '[1,2,3]')$$),
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
-- Every function that returns a vector: an element beyond float's range is
-- 22003, never Infinity (pgvector's "value out of range: overflow") ...
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT '[3.4e38,1]'::vector + '[1e38,1]'$$),
    ($$SELECT '[1,-3.4e38]'::vector - '[1,1e38]'$$),
    ($$SELECT '[2,3e38]'::vector * '[1,2]'$$),
    ($$SELECT sum(v) FROM (VALUES ('[3e38,1]'::vector), ('[1,1]'), ('[1e38,1]')) t(v)$$),
    ($$SELECT vector_avg('{1,1e300}'::float8[])$$),
    ($$SELECT vector_avg('{2,3.4e38,1e39}'::float8[])$$),
    ($$SELECT ARRAY[1e39]::float8[]::vector$$),
    ($$SELECT ARRAY[1,-3.5e38]::float8[]::vector$$),
    ($$SELECT ARRAY[1e39]::numeric[]::vector$$),
    ($$SELECT '[1,3.5e38]'::vector$$)
) AS t(statement);
-- ... NaN and infinity never enter: text and array casts refuse them with
-- 22P02 (binary input: TAP test 002) ...
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT '[1,NaN]'::vector$$),
    ($$SELECT ARRAY['NaN']::real[]::vector$$),
    ($$SELECT ARRAY[1, 'Infinity']::real[]::vector$$),
    ($$SELECT ARRAY[1, 'Infinity']::float8[]::vector$$),
    ($$SELECT ARRAY['-Infinity']::float8[]::vector$$),
    ($$SELECT ARRAY['NaN']::float8[]::vector$$),
    ($$SELECT ARRAY['NaN']::numeric[]::vector$$),
    ($$SELECT ARRAY['Infinity']::numeric[]::vector$$)
) AS t(statement);
-- ... an avg state written by hand with a non-finite sum or a row count that
-- is not a whole number >= 0 is refused (22000) ...
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT vector_avg('{2,Infinity,1}'::float8[])$$),
    ($$SELECT vector_avg('{2,1,NaN}'::float8[])$$),
    ($$SELECT vector_avg('{2,-Infinity}'::float8[])$$),
    ($$SELECT vector_avg('{Infinity,1}'::float8[])$$),
    ($$SELECT vector_avg('{-1,1}'::float8[])$$),
    ($$SELECT vector_avg('{0.5,1}'::float8[])$$),
    ($$SELECT vector_accum('{NaN}'::float8[], '[1]')$$),
    ($$SELECT vector_combine('{1,1}'::float8[], '{1.5,1}'::float8[])$$)
) AS t(statement);
SELECT vector_avg('{2,Infinity,1}'::float8[]);
SELECT vector_avg('{0.5,1}'::float8[]);
-- ... and a state of more than 16,000 sums is 54000, as in pgvector.
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT vector_combine('{0}', (SELECT array_agg(n) FROM generate_series(1, 16002) n))$$),
    ($$SELECT vector_avg((SELECT array_agg(n) FROM generate_series(1, 16002) n))$$),
    ($$SELECT vector_accum((SELECT array_agg(n) FROM generate_series(1, 16002) n), '[1]')$$)
) AS t(statement);
-- ... functions that cannot overflow give finite vectors at float's limits ...
SELECT l2_normalize('[3.4e38,-3.4e38,1e-45]'::vector), l2_normalize('[1e-45,0]'::vector), subvector('[3.4e38,1e-45,-3.4e38]'::vector, 2, 2),
       '[3.4028235e38]'::vector || '[-1e-45]' AS concat, vector_avg('{3,1.0208470e39}'::float8[]) AS avg;
-- ... and a quantization's decoded vector is finite or the call fails with
-- 22003 (value out of range for quantization); vecdb_quantization_error is
-- finite or 22003 too.
CREATE FUNCTION quantize_outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE statement INTO result;
    IF result ~* 'nan|inf' THEN
        RETURN 'not finite: ' || result;
    END IF;
    RETURN 'finite';
EXCEPTION WHEN numeric_value_out_of_range THEN
    RETURN '22003';
END
$$;
SELECT m, v, quantize_outcome(format('SELECT vecdb_quantize(%L, %L)', m, v)) IN ('finite', '22003') AS quantize_ok,
       quantize_outcome(format('SELECT vecdb_quantization_error(%L, %L)', m, v)) IN ('finite', '22003') AS error_ok
FROM unnest(ARRAY['none', 'sq8', 'e8', 'e8_4bit', 'h4', 'binary']) m,
     unnest(ARRAY['[3e38,-3e38,1,2,3,4,5,6]', '[3.4e38,3.4e38,3.4e38,3.4e38,3.4e38,3.4e38,3.4e38,3.4e38]',
                  '[1e-40,-1e-40,1e-45,0,0,0,0,1e-39]', '[3e38,1e-40,-1,0,2e38,-1e-45,5,6,7]']) v
ORDER BY v, m;
SELECT vecdb_quantize('none', '[3.4e38,-1e-45]') AS none_keeps_extremes;
DROP FUNCTION quantize_outcome(text);

-- subvector and concatenation must leave 1 .. 16000 dimensions
SELECT statement, sqlstate_of(statement) FROM (VALUES
    ($$SELECT subvector('[1,2,3]'::vector, 1, 0)$$),
    ($$SELECT subvector('[1,2,3]'::vector, 4, 1)$$),
    ($$SELECT subvector('[1,2,3]'::vector, -5, 3)$$),
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
