-- Catalog checks of the vecdb SQL surface: the vector and sparsevec types, their functions,
-- operators, btree operator class, casts and aggregates, and generic rules
-- every function the extension owns must follow (volatility, strictness,
-- parallel safety, comments).
--
-- Run in a throwaway database:
--   pg_prove -d <db> test/pgtap/*.sql
-- Everything happens inside one transaction that is rolled back.

\set ON_ERROR_STOP 1

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS vecdb;

SELECT plan(334);

-- ---------------------------------------------------------------------------
-- The type
-- ---------------------------------------------------------------------------
SELECT has_type('vector');
SELECT is((SELECT typstorage::text FROM pg_type WHERE oid = 'vector'::regtype), 'm',
          'vector has STORAGE main (typstorage = m)');
SELECT is((SELECT typlen::int FROM pg_type WHERE oid = 'vector'::regtype), -1,
          'vector is a varlena (typlen = -1)');
SELECT is((SELECT typmodin::regproc::text FROM pg_type WHERE oid = 'vector'::regtype),
          'vector_typmod_in', 'vector has the type modifier input function vector_typmod_in');
SELECT is((SELECT ARRAY[typinput::regproc::text, typoutput::regproc::text,
                        typreceive::regproc::text, typsend::regproc::text]
             FROM pg_type WHERE oid = 'vector'::regtype),
          ARRAY['vector_in', 'vector_out', 'vector_recv', 'vector_send'],
          'vector has text and binary I/O functions');
SELECT is(format_type('vector'::regtype, 3), 'vector(3)', 'typmod 3 displays as vector(3)');
SELECT ok(obj_description('vector'::regtype, 'pg_type') IS NOT NULL, 'type vector has a comment');

-- ---------------------------------------------------------------------------
-- Functions, with their argument and return types
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE expected_functions (name name, args name[], returns text) ON COMMIT DROP;
INSERT INTO expected_functions VALUES
    -- src/pg/vecdb.sql
    ('vecdb_simd_kernels',            '{}',                                          'text'),
    ('vecdb_raise_cpp_exception',     '{text}',                                      'void'),
    ('vecdb_index_check',             '{regclass}',                                  'setof record'),
    -- src/pg/quant/quant.sql
    ('vecdb_quantize',                '{text,vector}',                               'vector'),
    ('vecdb_quantization_error',      '{text,vector}',                               'double precision'),
    ('vecdb_quantization_bits',       '{text,integer}',                              'double precision'),
    -- src/pg/search/search.sql
    ('vecdb_mmr',                     '{vector,vector[],bigint[],integer,double precision,text}', 'bigint[]'),
    ('vecdb_mmr',                     '{halfvec,halfvec[],bigint[],integer,double precision,text}', 'bigint[]'),
    ('vecdb_rrf',                     '{bigint[],bigint[],integer,double precision,double precision}', 'setof record'),
    ('vecdb_recall',                  '{text}',                                      'record'),
    -- src/pg/hnsw/hnsw.sql
    ('hnsw_handler',                  '{internal}',                                  'index_am_handler'),
    -- src/pg/ivf/ivf.sql
    ('ivf_handler',                   '{internal}',                                  'index_am_handler'),
    -- src/pg/types/vector.sql
    ('vector_in',                     '{cstring,oid,integer}',                       'vector'),
    ('vector_out',                    '{vector}',                                    'cstring'),
    ('vector_typmod_in',              '{cstring[]}',                                 'integer'),
    ('vector_recv',                   '{internal,oid,integer}',                      'vector'),
    ('vector_send',                   '{vector}',                                    'bytea'),
    ('vector',                        '{vector,integer,boolean}',                    'vector'),
    ('array_to_vector',               '{integer[],integer,boolean}',                 'vector'),
    ('array_to_vector',               '{real[],integer,boolean}',                    'vector'),
    ('array_to_vector',               '{"double precision[]",integer,boolean}',      'vector'),
    ('array_to_vector',               '{numeric[],integer,boolean}',                 'vector'),
    ('vector_to_float4',              '{vector,integer,boolean}',                    'real[]'),
    -- src/pg/types/vector_functions.sql: distances
    ('l2_distance',                   '{vector,vector}',                             'double precision'),
    ('vector_l2_squared_distance',    '{vector,vector}',                             'double precision'),
    ('inner_product',                 '{vector,vector}',                             'double precision'),
    ('vector_negative_inner_product', '{vector,vector}',                             'double precision'),
    ('cosine_distance',               '{vector,vector}',                             'double precision'),
    ('vector_spherical_distance',     '{vector,vector}',                             'double precision'),
    ('l1_distance',                   '{vector,vector}',                             'double precision'),
    -- other functions
    ('vector_dims',                   '{vector}',                                    'integer'),
    ('vector_norm',                   '{vector}',                                    'double precision'),
    ('l2_normalize',                  '{vector}',                                    'vector'),
    ('subvector',                     '{vector,integer,integer}',                    'vector'),
    ('binary_quantize',               '{vector}',                                    'bit'),
    ('vector_add',                    '{vector,vector}',                             'vector'),
    ('vector_sub',                    '{vector,vector}',                             'vector'),
    ('vector_mul',                    '{vector,vector}',                             'vector'),
    ('vector_concat',                 '{vector,vector}',                             'vector'),
    -- comparison
    ('vector_lt',                     '{vector,vector}',                             'boolean'),
    ('vector_le',                     '{vector,vector}',                             'boolean'),
    ('vector_eq',                     '{vector,vector}',                             'boolean'),
    ('vector_ne',                     '{vector,vector}',                             'boolean'),
    ('vector_ge',                     '{vector,vector}',                             'boolean'),
    ('vector_gt',                     '{vector,vector}',                             'boolean'),
    ('vector_cmp',                    '{vector,vector}',                             'integer'),
    -- aggregate support
    ('vector_accum',                  '{"double precision[]",vector}',               'double precision[]'),
    ('vector_combine',                '{"double precision[]","double precision[]"}', 'double precision[]'),
    ('vector_avg',                    '{"double precision[]"}',                      'vector'),
    -- src/pg/types/bit.sql
    ('hamming_distance',              '{bit,bit}',                                   'double precision'),
    ('jaccard_distance',              '{bit,bit}',                                   'double precision'),
    ('bit_to_vector',                 '{bit,integer,boolean}',                       'vector'),
    -- src/pg/types/sparsevec.sql
    ('sparsevec_in',                  '{cstring,oid,integer}',                       'sparsevec'),
    ('sparsevec_out',                 '{sparsevec}',                                 'cstring'),
    ('sparsevec_typmod_in',           '{cstring[]}',                                 'integer'),
    ('sparsevec_recv',                '{internal,oid,integer}',                      'sparsevec'),
    ('sparsevec_send',                '{sparsevec}',                                 'bytea'),
    ('sparsevec',                     '{sparsevec,integer,boolean}',                 'sparsevec'),
    ('vector_to_sparsevec',           '{vector,integer,boolean}',                    'sparsevec'),
    ('sparsevec_to_vector',           '{sparsevec,integer,boolean}',                 'vector'),
    ('halfvec_to_sparsevec',          '{halfvec,integer,boolean}',                   'sparsevec'),
    ('sparsevec_to_halfvec',          '{sparsevec,integer,boolean}',                 'halfvec'),
    ('array_to_sparsevec',            '{integer[],integer,boolean}',                 'sparsevec'),
    ('array_to_sparsevec',            '{real[],integer,boolean}',                    'sparsevec'),
    ('array_to_sparsevec',            '{"double precision[]",integer,boolean}',      'sparsevec'),
    ('array_to_sparsevec',            '{numeric[],integer,boolean}',                 'sparsevec'),
    ('l2_distance',                   '{sparsevec,sparsevec}',                       'double precision'),
    ('sparsevec_l2_squared_distance', '{sparsevec,sparsevec}',                       'double precision'),
    ('inner_product',                 '{sparsevec,sparsevec}',                       'double precision'),
    ('sparsevec_negative_inner_product', '{sparsevec,sparsevec}',                    'double precision'),
    ('cosine_distance',               '{sparsevec,sparsevec}',                       'double precision'),
    ('l1_distance',                   '{sparsevec,sparsevec}',                       'double precision'),
    ('l2_norm',                       '{sparsevec}',                                 'double precision'),
    ('l2_normalize',                  '{sparsevec}',                                 'sparsevec'),
    ('sparsevec_lt',                  '{sparsevec,sparsevec}',                       'boolean'),
    ('sparsevec_le',                  '{sparsevec,sparsevec}',                       'boolean'),
    ('sparsevec_eq',                  '{sparsevec,sparsevec}',                       'boolean'),
    ('sparsevec_ne',                  '{sparsevec,sparsevec}',                       'boolean'),
    ('sparsevec_ge',                  '{sparsevec,sparsevec}',                       'boolean'),
    ('sparsevec_gt',                  '{sparsevec,sparsevec}',                       'boolean'),
    ('sparsevec_cmp',                 '{sparsevec,sparsevec}',                       'integer'),
    -- aggregates
    ('avg',                           '{vector}',                                    'vector'),
    ('sum',                           '{vector}',                                    'vector'),
    -- src/pg/types/halfvec.sql: pgvector's 39 halfvec functions and two aggregates
    ('array_to_halfvec', '{"double precision[]",integer,boolean}', 'halfvec'),
    ('array_to_halfvec', '{"integer[]",integer,boolean}', 'halfvec'),
    ('array_to_halfvec', '{"numeric[]",integer,boolean}', 'halfvec'),
    ('array_to_halfvec', '{"real[]",integer,boolean}', 'halfvec'),
    ('binary_quantize', '{halfvec}', 'bit'),
    ('cosine_distance', '{halfvec,halfvec}', 'double precision'),
    ('halfvec', '{halfvec,integer,boolean}', 'halfvec'),
    ('halfvec_accum', '{"double precision[]",halfvec}', 'double precision[]'),
    ('halfvec_add', '{halfvec,halfvec}', 'halfvec'),
    ('halfvec_avg', '{"double precision[]"}', 'halfvec'),
    ('halfvec_cmp', '{halfvec,halfvec}', 'integer'),
    ('halfvec_combine', '{"double precision[]","double precision[]"}', 'double precision[]'),
    ('halfvec_concat', '{halfvec,halfvec}', 'halfvec'),
    ('halfvec_eq', '{halfvec,halfvec}', 'boolean'),
    ('halfvec_ge', '{halfvec,halfvec}', 'boolean'),
    ('halfvec_gt', '{halfvec,halfvec}', 'boolean'),
    ('halfvec_in', '{cstring,oid,integer}', 'halfvec'),
    ('halfvec_l2_squared_distance', '{halfvec,halfvec}', 'double precision'),
    ('halfvec_le', '{halfvec,halfvec}', 'boolean'),
    ('halfvec_lt', '{halfvec,halfvec}', 'boolean'),
    ('halfvec_mul', '{halfvec,halfvec}', 'halfvec'),
    ('halfvec_ne', '{halfvec,halfvec}', 'boolean'),
    ('halfvec_negative_inner_product', '{halfvec,halfvec}', 'double precision'),
    ('halfvec_out', '{halfvec}', 'cstring'),
    ('halfvec_recv', '{internal,oid,integer}', 'halfvec'),
    ('halfvec_send', '{halfvec}', 'bytea'),
    ('halfvec_spherical_distance', '{halfvec,halfvec}', 'double precision'),
    ('halfvec_sub', '{halfvec,halfvec}', 'halfvec'),
    ('halfvec_to_float4', '{halfvec,integer,boolean}', 'real[]'),
    ('halfvec_to_vector', '{halfvec,integer,boolean}', 'vector'),
    ('halfvec_typmod_in', '{"cstring[]"}', 'integer'),
    ('inner_product', '{halfvec,halfvec}', 'double precision'),
    ('l1_distance', '{halfvec,halfvec}', 'double precision'),
    ('l2_distance', '{halfvec,halfvec}', 'double precision'),
    ('l2_norm', '{halfvec}', 'double precision'),
    ('l2_normalize', '{halfvec}', 'halfvec'),
    ('subvector', '{halfvec,integer,integer}', 'halfvec'),
    ('vector_dims', '{halfvec}', 'integer'),
    ('vector_to_halfvec', '{vector,integer,boolean}', 'halfvec'),
    ('avg', '{halfvec}', 'halfvec'),
    ('sum', '{halfvec}', 'halfvec');

-- 121 x has_function
SELECT has_function(name, args) FROM expected_functions ORDER BY name, args::text;
-- 121 x function_returns
SELECT function_returns(name, args, returns) FROM expected_functions ORDER BY name, args::text;

-- The extension owns exactly these functions: a function added to the SQL
-- files must be added above (and so pass through the generic checks below).
CREATE TEMP VIEW extension_functions AS
    SELECT p.oid, p.proname, p.prokind, l.lanname, p.provolatile, p.proisstrict, p.proparallel,
           p.oid::regprocedure::text AS signature
      FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
      JOIN pg_language l ON l.oid = p.prolang
     WHERE d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecdb')
       AND d.deptype = 'e';

SELECT set_eq(
    'SELECT signature FROM extension_functions',
    $$SELECT (name || '(' || array_to_string(args::regtype[]::text[], ',') || ')')::regprocedure::text
        FROM expected_functions$$,
    'the extension owns exactly the expected functions and aggregates');

-- ---------------------------------------------------------------------------
-- Generic rules over every function the extension owns
-- ---------------------------------------------------------------------------
SELECT cmp_ok((SELECT count(*)::int FROM extension_functions WHERE lanname = 'c'), '>=', 41,
              'the generic checks see the extension''s C functions');

SELECT is(ARRAY(SELECT signature FROM extension_functions
                 WHERE lanname = 'c'
                   AND proname NOT IN ('vecdb_simd_kernels', 'vecdb_raise_cpp_exception', 'vecdb_index_check',
                                       'hnsw_handler', 'ivf_handler')
                   AND provolatile <> 'i'
                 ORDER BY 1),
          '{}'::text[], 'every C function (but the diagnostics, the index check and the index handlers) is IMMUTABLE');
SELECT is(ARRAY(SELECT signature FROM extension_functions
                 WHERE lanname = 'c'
                   AND proname NOT IN ('vecdb_simd_kernels', 'vecdb_raise_cpp_exception', 'hnsw_handler', 'ivf_handler')
                   AND NOT proisstrict
                 ORDER BY 1),
          '{}'::text[], 'every C function (but the diagnostics and the index handler) is STRICT');
SELECT is(ARRAY(SELECT signature FROM extension_functions
                 WHERE lanname = 'c'
                   AND proname NOT IN ('vecdb_simd_kernels', 'vecdb_raise_cpp_exception', 'vecdb_index_check',
                                       'hnsw_handler', 'ivf_handler')
                   AND proparallel <> 's'
                 ORDER BY 1),
          '{}'::text[], 'every C function (but the diagnostics, the index check and the index handlers) is PARALLEL SAFE');
SELECT is(ARRAY(SELECT signature FROM extension_functions
                 WHERE prokind = 'f' AND lanname <> 'c' AND proname NOT IN ('vecdb_rrf', 'vecdb_recall')
                   AND signature <> 'vecdb_mmr(halfvec,halfvec[],bigint[],integer,double precision,text)'
                 ORDER BY 1),
          '{}'::text[], 'every plain function of the extension but vecdb_rrf(), vecdb_recall() and vecdb_mmr''s halfvec '
                        'wrapper is written in C');
SELECT is((SELECT ARRAY[lanname::text, provolatile::text, proparallel::text]
             FROM extension_functions WHERE proname = 'vecdb_rrf'),
          ARRAY['plpgsql', 'i', 's'], 'vecdb_rrf() is PL/pgSQL, IMMUTABLE and PARALLEL SAFE');
SELECT is((SELECT ARRAY[lanname::text, provolatile::text, proparallel::text]
             FROM extension_functions WHERE proname = 'vecdb_recall'),
          ARRAY['plpgsql', 'v', 'u'],
          'vecdb_recall() is PL/pgSQL, VOLATILE and PARALLEL UNSAFE (it runs queries and sets planner settings)');

SELECT ok(NOT has_function_privilege('public', 'vecdb_raise_cpp_exception(text)', 'EXECUTE'),
          'the test hook vecdb_raise_cpp_exception() is for superusers only');
SELECT is((SELECT provolatile::text FROM extension_functions WHERE proname = 'vecdb_simd_kernels'), 's',
          'vecdb_simd_kernels() is STABLE (the kernel set is chosen per server)');
SELECT is((SELECT ARRAY[proisstrict::text, proparallel::text]
             FROM extension_functions WHERE proname = 'vecdb_simd_kernels'),
          ARRAY['true', 's'], 'vecdb_simd_kernels() is STRICT and PARALLEL SAFE');
SELECT is((SELECT ARRAY[provolatile::text, proparallel::text]
             FROM extension_functions WHERE proname = 'vecdb_raise_cpp_exception'),
          ARRAY['v', 'u'], 'vecdb_raise_cpp_exception(text) is VOLATILE and PARALLEL UNSAFE');

SELECT is(ARRAY(SELECT signature FROM extension_functions
                 WHERE obj_description(oid, 'pg_proc') IS NULL
                 ORDER BY 1),
          '{}'::text[], 'every function and aggregate of the extension has a COMMENT');

-- ---------------------------------------------------------------------------
-- The hnsw access method and its operator classes
-- ---------------------------------------------------------------------------
SELECT ok(EXISTS (SELECT 1 FROM pg_am WHERE amname = 'hnsw' AND amtype = 'i'
                                        AND amhandler = 'hnsw_handler'::regproc),
          'hnsw is an index access method handled by hnsw_handler');
SELECT isnt(obj_description((SELECT oid FROM pg_am WHERE amname = 'hnsw'), 'pg_am'), NULL,
            'the hnsw access method has a COMMENT');
SELECT set_eq(
    $$SELECT c.opcname::text, o.oprname::text, p.proname::text
        FROM pg_opclass c
        JOIN pg_am a ON a.oid = c.opcmethod AND a.amname = 'hnsw'
        JOIN pg_amop ao ON ao.amopfamily = c.opcfamily AND ao.amoppurpose = 'o'
        JOIN pg_operator o ON o.oid = ao.amopopr
        JOIN pg_amproc ap ON ap.amprocfamily = c.opcfamily AND ap.amprocnum = 1
        JOIN pg_proc p ON p.oid = ap.amproc$$,
    $$VALUES ('vector_l2_ops', '<->', 'vector_l2_squared_distance'),
             ('vector_ip_ops', '<#>', 'vector_negative_inner_product'),
             ('vector_cosine_ops', '<=>', 'cosine_distance'),
             ('vector_l1_ops', '<+>', 'l1_distance'),
             ('halfvec_l2_ops', '<->', 'halfvec_l2_squared_distance'),
             ('halfvec_ip_ops', '<#>', 'halfvec_negative_inner_product'),
             ('halfvec_cosine_ops', '<=>', 'cosine_distance'),
             ('halfvec_l1_ops', '<+>', 'l1_distance'),
             ('sparsevec_l2_ops', '<->', 'sparsevec_l2_squared_distance'),
             ('sparsevec_ip_ops', '<#>', 'sparsevec_negative_inner_product'),
             ('sparsevec_cosine_ops', '<=>', 'cosine_distance'),
             ('sparsevec_l1_ops', '<+>', 'l1_distance'),
             ('bit_hamming_ops', '<~>', 'hamming_distance'),
             ('bit_jaccard_ops', '<%>', 'jaccard_distance')$$,
    'hnsw opclasses: pgvector''s names, ORDER BY operators and distance functions');
SELECT set_eq(
    $$SELECT c.opcname::text, c.opcintype::regtype::text FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
       WHERE a.amname = 'hnsw' AND c.opcdefault$$,
    $$VALUES ('int2_ops', 'smallint'), ('int4_ops', 'integer'), ('int8_ops', 'bigint'), ('text_ops', 'text'),
             ('array_ops', 'anyarray')$$,
    'the default hnsw opclasses are the filter columns''; no vector opclass is (the metric is always named)');
-- Filter opclasses (hnsw_filter.cpp): strategies 1-6 < <= = >= > <> for the
-- integers (every pair of int2, int4, int8), 3 = for text, 7-9 && @> <@ for
-- arrays; search operators only.
SELECT set_eq(
    $$SELECT f.opfname::text, ao.amopstrategy::int, o.oprname::text, count(*)::int
        FROM pg_amop ao JOIN pg_opfamily f ON f.oid = ao.amopfamily
        JOIN pg_am a ON a.oid = f.opfmethod AND a.amname = 'hnsw'
        JOIN pg_operator o ON o.oid = ao.amopopr
       WHERE ao.amoppurpose = 's' GROUP BY 1, 2, 3$$,
    $$VALUES ('integer_ops', 1, '<', 9), ('integer_ops', 2, '<=', 9), ('integer_ops', 3, '=', 9),
             ('integer_ops', 4, '>=', 9), ('integer_ops', 5, '>', 9), ('integer_ops', 6, '<>', 9),
             ('text_ops', 3, '=', 1), ('array_ops', 7, '&&', 1), ('array_ops', 8, '@>', 1), ('array_ops', 9, '<@', 1)$$,
    'hnsw filter opfamilies: their operators by strategy');

-- ---------------------------------------------------------------------------
-- The ivf access method, also under pgvector's name ivfflat
-- ---------------------------------------------------------------------------
SELECT set_eq(
    $$SELECT amname::text FROM pg_am WHERE amtype = 'i' AND amhandler = 'ivf_handler'::regproc$$,
    $$VALUES ('ivf'), ('ivfflat')$$,
    'ivf and ivfflat are index access methods handled by ivf_handler');
SELECT is(ARRAY(SELECT amname::text FROM pg_am WHERE amname IN ('ivf', 'ivfflat')
                 AND obj_description(oid, 'pg_am') IS NULL),
          '{}'::text[], 'the ivf and ivfflat access methods have COMMENTs');
SELECT set_eq(
    $$SELECT a.amname::text, c.opcname::text, o.oprname::text, p.proname::text, c.opcdefault
        FROM pg_opclass c
        JOIN pg_am a ON a.oid = c.opcmethod AND a.amname IN ('ivf', 'ivfflat')
        JOIN pg_amop ao ON ao.amopfamily = c.opcfamily AND ao.amoppurpose = 'o'
        JOIN pg_operator o ON o.oid = ao.amopopr
        JOIN pg_amproc ap ON ap.amprocfamily = c.opcfamily AND ap.amprocnum = 1
        JOIN pg_proc p ON p.oid = ap.amproc$$,
    $$VALUES ('ivf', 'vector_l2_ops', '<->', 'vector_l2_squared_distance', true),
             ('ivf', 'vector_ip_ops', '<#>', 'vector_negative_inner_product', false),
             ('ivf', 'vector_cosine_ops', '<=>', 'cosine_distance', false),
             ('ivfflat', 'vector_l2_ops', '<->', 'vector_l2_squared_distance', true),
             ('ivfflat', 'vector_ip_ops', '<#>', 'vector_negative_inner_product', false),
             ('ivfflat', 'vector_cosine_ops', '<=>', 'cosine_distance', false),
             ('ivf', 'halfvec_l2_ops', '<->', 'halfvec_l2_squared_distance', false),
             ('ivf', 'halfvec_ip_ops', '<#>', 'halfvec_negative_inner_product', false),
             ('ivf', 'halfvec_cosine_ops', '<=>', 'cosine_distance', false),
             ('ivfflat', 'halfvec_l2_ops', '<->', 'halfvec_l2_squared_distance', false),
             ('ivfflat', 'halfvec_ip_ops', '<#>', 'halfvec_negative_inner_product', false),
             ('ivfflat', 'halfvec_cosine_ops', '<=>', 'cosine_distance', false),
             ('ivf', 'bit_hamming_ops', '<~>', 'hamming_distance', false),
             ('ivfflat', 'bit_hamming_ops', '<~>', 'hamming_distance', false)$$,
    'ivf and ivfflat opclasses: pgvector''s names, ORDER BY operators, distance functions, l2 the default');
SELECT is((SELECT count(*)::int FROM pg_amop ao JOIN pg_opfamily f ON f.oid = ao.amopfamily
             JOIN pg_am a ON a.oid = f.opfmethod AND a.amname IN ('ivf', 'ivfflat') WHERE ao.amoppurpose = 's'),
          0, 'ivf opclasses have no search operators (ORDER BY only)');
SELECT set_eq(
    $$SELECT name::text, setting FROM pg_settings WHERE name ~ '^ivf(flat)?\.'$$,
    $$VALUES ('ivf.probes', '10'), ('ivf.iterative_scan', 'relaxed_order'), ('ivf.max_probes', '32768'),
             ('ivfflat.probes', '1'), ('ivfflat.iterative_scan', 'off'), ('ivfflat.max_probes', '32768')$$,
    'ivf.* and ivfflat.* settings and their defaults (ivfflat.*: pgvector''s)');

-- ---------------------------------------------------------------------------
-- Aggregates
-- ---------------------------------------------------------------------------
SELECT is_aggregate('avg', ARRAY['vector']);
SELECT is_aggregate('sum', ARRAY['vector']);
SELECT is(ARRAY(SELECT signature FROM extension_functions
                 WHERE prokind = 'a' AND proparallel <> 's' ORDER BY 1),
          '{}'::text[], 'every aggregate of the extension is PARALLEL SAFE');
SELECT is(ARRAY(SELECT f.signature FROM extension_functions f
                  JOIN pg_aggregate a ON a.aggfnoid = f.oid
                 WHERE f.prokind = 'a' AND a.aggcombinefn = 0 ORDER BY 1),
          '{}'::text[], 'every aggregate of the extension has a combine function');
SELECT results_eq(
    $$SELECT f.signature, a.aggtransfn::regproc::text, a.aggcombinefn::regproc::text,
             a.aggfinalfn::regproc::text, format_type(a.aggtranstype, NULL)
        FROM extension_functions f JOIN pg_aggregate a ON a.aggfnoid = f.oid
       ORDER BY 1$$,
    $$VALUES ('avg(halfvec)', 'halfvec_accum', 'halfvec_combine', 'halfvec_avg', 'double precision[]'),
             ('avg(vector)', 'vector_accum', 'vector_combine', 'vector_avg', 'double precision[]'),
             ('sum(halfvec)', 'halfvec_add', 'halfvec_add', '-', 'halfvec'),
             ('sum(vector)', 'vector_add',   'vector_add',     '-',          'vector')$$,
    'avg and sum of vector and halfvec have the expected support functions');

-- ---------------------------------------------------------------------------
-- Operators
-- ---------------------------------------------------------------------------
SELECT has_operator('vector', '<->', 'vector', 'double precision'::name);
SELECT has_operator('vector', '<#>', 'vector', 'double precision'::name);
SELECT has_operator('vector', '<=>', 'vector', 'double precision'::name);
SELECT has_operator('vector', '<+>', 'vector', 'double precision'::name);
SELECT has_operator('vector', '+', 'vector', 'vector'::name);
SELECT has_operator('vector', '-', 'vector', 'vector'::name);
SELECT has_operator('vector', '*', 'vector', 'vector'::name);
SELECT has_operator('vector', '||', 'vector', 'vector'::name);
SELECT has_operator('vector', '<', 'vector', 'boolean'::name);
SELECT has_operator('vector', '<=', 'vector', 'boolean'::name);
SELECT has_operator('vector', '=', 'vector', 'boolean'::name);
SELECT has_operator('vector', '<>', 'vector', 'boolean'::name);
SELECT has_operator('vector', '>=', 'vector', 'boolean'::name);
SELECT has_operator('vector', '>', 'vector', 'boolean'::name);
SELECT has_operator('bit', '<~>', 'bit', 'double precision'::name);
SELECT has_operator('bit', '<%>', 'bit', 'double precision'::name);
SELECT is((SELECT string_agg(oprname || ' ' || oprcode::regproc::text, ', ' ORDER BY oprname)
             FROM pg_operator WHERE oprname IN ('<~>', '<%>') AND oprleft = 'bit'::regtype),
          '<%> jaccard_distance, <~> hamming_distance', 'the bit operators and their functions');

SELECT results_eq(
    $$SELECT oprname::text COLLATE "default", oprcode::regprocedure::text
        FROM pg_operator
       WHERE oprleft = 'vector'::regtype AND oprright = 'vector'::regtype
       ORDER BY oprname COLLATE "C"$$,
    $$VALUES ('*', 'vector_mul(vector,vector)'), ('+', 'vector_add(vector,vector)'), ('-', 'vector_sub(vector,vector)'),
             ('<', 'vector_lt(vector,vector)'), ('<#>', 'vector_negative_inner_product(vector,vector)'),
             ('<+>', 'l1_distance(vector,vector)'), ('<->', 'l2_distance(vector,vector)'), ('<=', 'vector_le(vector,vector)'),
             ('<=>', 'cosine_distance(vector,vector)'), ('<>', 'vector_ne(vector,vector)'), ('=', 'vector_eq(vector,vector)'),
             ('>', 'vector_gt(vector,vector)'), ('>=', 'vector_ge(vector,vector)'), ('||', 'vector_concat(vector,vector)')$$,
    'the vector operators and the functions implementing them');
SELECT results_eq(
    $$SELECT oprname::text COLLATE "default", oprcode::regprocedure::text
        FROM pg_operator
       WHERE oprleft = 'halfvec'::regtype AND oprright = 'halfvec'::regtype
       ORDER BY oprname COLLATE "C"$$,
    $$VALUES ('*', 'halfvec_mul(halfvec,halfvec)'), ('+', 'halfvec_add(halfvec,halfvec)'), ('-', 'halfvec_sub(halfvec,halfvec)'),
             ('<', 'halfvec_lt(halfvec,halfvec)'), ('<#>', 'halfvec_negative_inner_product(halfvec,halfvec)'),
             ('<+>', 'l1_distance(halfvec,halfvec)'), ('<->', 'l2_distance(halfvec,halfvec)'), ('<=', 'halfvec_le(halfvec,halfvec)'),
             ('<=>', 'cosine_distance(halfvec,halfvec)'), ('<>', 'halfvec_ne(halfvec,halfvec)'), ('=', 'halfvec_eq(halfvec,halfvec)'),
             ('>', 'halfvec_gt(halfvec,halfvec)'), ('>=', 'halfvec_ge(halfvec,halfvec)'), ('||', 'halfvec_concat(halfvec,halfvec)')$$,
    'the halfvec operators and the functions implementing them');

-- ---------------------------------------------------------------------------
-- btree operator class
-- ---------------------------------------------------------------------------
SELECT has_opclass('vector_ops');
SELECT is((SELECT opcdefault FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
            WHERE c.opcname = 'vector_ops' AND a.amname = 'btree'
              AND c.opcintype = 'vector'::regtype),
          true, 'vector_ops is the default btree operator class for vector');
SELECT results_eq(
    $$SELECT amopstrategy::int, amopopr::regoperator::text
        FROM pg_amop o JOIN pg_opclass c ON o.amopfamily = c.opcfamily
       WHERE c.opcname = 'vector_ops' ORDER BY 1$$,
    $$VALUES (1, '<(vector,vector)'), (2, '<=(vector,vector)'), (3, '=(vector,vector)'),
             (4, '>=(vector,vector)'), (5, '>(vector,vector)')$$,
    'vector_ops has the five btree strategies');
SELECT results_eq(
    $$SELECT amprocnum::int, amproc::regproc::text
        FROM pg_amproc p JOIN pg_opclass c ON p.amprocfamily = c.opcfamily
       WHERE c.opcname = 'vector_ops' ORDER BY 1$$,
    $$VALUES (1, 'vector_cmp')$$,
    'vector_ops support function 1 is vector_cmp');

-- ---------------------------------------------------------------------------
-- Casts
-- ---------------------------------------------------------------------------
SELECT has_cast('vector', 'vector', 'vector'::name,
                'Cast (vector AS vector) WITH FUNCTION vector() should exist');
SELECT has_cast('vector', 'real[]', 'vector_to_float4'::name,
                'Cast (vector AS real[]) WITH FUNCTION vector_to_float4() should exist');
SELECT has_cast('integer[]', 'vector', 'array_to_vector'::name,
                'Cast (integer[] AS vector) WITH FUNCTION array_to_vector() should exist');
SELECT has_cast('real[]', 'vector', 'array_to_vector'::name,
                'Cast (real[] AS vector) WITH FUNCTION array_to_vector() should exist');
SELECT has_cast('double precision[]', 'vector', 'array_to_vector'::name,
                'Cast (double precision[] AS vector) WITH FUNCTION array_to_vector() should exist');
SELECT has_cast('numeric[]', 'vector', 'array_to_vector'::name,
                'Cast (numeric[] AS vector) WITH FUNCTION array_to_vector() should exist');

SELECT cast_context_is('vector',             'vector', 'implicit');
SELECT cast_context_is('vector',             'real[]', 'implicit');
SELECT cast_context_is('integer[]',          'vector', 'assignment');
SELECT cast_context_is('real[]',             'vector', 'assignment');
SELECT cast_context_is('double precision[]', 'vector', 'assignment');
SELECT cast_context_is('numeric[]',          'vector', 'assignment');

-- ---------------------------------------------------------------------------
-- sparsevec: pgvector's type, operators, btree operator class and casts
-- ---------------------------------------------------------------------------
SELECT has_type('sparsevec');
SELECT is((SELECT ARRAY[typstorage::text, typlen::text, typmodin::regproc::text, typinput::regproc::text,
                        typoutput::regproc::text, typreceive::regproc::text, typsend::regproc::text]
             FROM pg_type WHERE oid = 'sparsevec'::regtype),
          ARRAY['e', '-1', 'sparsevec_typmod_in', 'sparsevec_in', 'sparsevec_out', 'sparsevec_recv', 'sparsevec_send'],
          'sparsevec: a varlena with STORAGE external (as pgvector), typmod, text and binary I/O');
SELECT is(format_type('sparsevec'::regtype, 3), 'sparsevec(3)', 'typmod 3 displays as sparsevec(3)');
SELECT ok(obj_description('sparsevec'::regtype, 'pg_type') IS NOT NULL, 'type sparsevec has a comment');
SELECT results_eq(
    $$SELECT oprname::text COLLATE "default", p.proname::text COLLATE "default", oprresult::regtype::text
        FROM pg_operator JOIN pg_proc p ON p.oid = oprcode
       WHERE oprleft = 'sparsevec'::regtype AND oprright = 'sparsevec'::regtype
       ORDER BY oprname COLLATE "C"$$,
    $$VALUES ('<', 'sparsevec_lt', 'boolean'), ('<#>', 'sparsevec_negative_inner_product', 'double precision'),
             ('<+>', 'l1_distance', 'double precision'), ('<->', 'l2_distance', 'double precision'),
             ('<=', 'sparsevec_le', 'boolean'), ('<=>', 'cosine_distance', 'double precision'),
             ('<>', 'sparsevec_ne', 'boolean'), ('=', 'sparsevec_eq', 'boolean'),
             ('>', 'sparsevec_gt', 'boolean'), ('>=', 'sparsevec_ge', 'boolean')$$,
    'the sparsevec operators and the functions implementing them');
SELECT results_eq(
    $$SELECT c.opcdefault, o.amopstrategy::int, o.amopopr::regoperator::text
        FROM pg_amop o JOIN pg_opclass c ON o.amopfamily = c.opcfamily
        JOIN pg_am a ON a.oid = c.opcmethod AND a.amname = 'btree'
       WHERE c.opcname = 'sparsevec_ops' ORDER BY 2$$,
    $$VALUES (true, 1, '<(sparsevec,sparsevec)'), (true, 2, '<=(sparsevec,sparsevec)'),
             (true, 3, '=(sparsevec,sparsevec)'), (true, 4, '>=(sparsevec,sparsevec)'),
             (true, 5, '>(sparsevec,sparsevec)')$$,
    'sparsevec_ops is the default btree operator class of sparsevec, with the five strategies');
SELECT results_eq(
    $$SELECT p.amprocnum::int, p.amproc::regproc::text
        FROM pg_amproc p JOIN pg_opclass c ON p.amprocfamily = c.opcfamily
       WHERE c.opcname = 'sparsevec_ops' ORDER BY 1$$,
    $$VALUES (1, 'sparsevec_cmp')$$,
    'sparsevec_ops support function 1 is sparsevec_cmp');
SELECT cast_context_is('sparsevec',          'sparsevec', 'implicit');
SELECT cast_context_is('vector',             'sparsevec', 'implicit');
SELECT cast_context_is('sparsevec',          'vector',    'assignment');
SELECT cast_context_is('integer[]',          'sparsevec', 'assignment');
SELECT cast_context_is('real[]',             'sparsevec', 'assignment');
SELECT cast_context_is('double precision[]', 'sparsevec', 'assignment');
SELECT cast_context_is('numeric[]',          'sparsevec', 'assignment');
SELECT cast_context_is('halfvec',            'sparsevec', 'implicit');
SELECT cast_context_is('sparsevec',          'halfvec',   'assignment');

SELECT * FROM finish();
ROLLBACK;
