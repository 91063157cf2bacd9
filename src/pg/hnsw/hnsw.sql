-- The hnsw index access method (src/pg/hnsw) and its operator classes.

CREATE FUNCTION hnsw_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION hnsw_handler(internal) IS 'hnsw index access method handler';

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnsw_handler;
COMMENT ON ACCESS METHOD hnsw IS 'hnsw index access method: graph search on compact codes, exact re-rank';

-- Support function 1 names the distance the index orders by.
CREATE OPERATOR CLASS vector_l2_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 cosine_distance(vector, vector);

CREATE OPERATOR CLASS vector_l1_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(vector, vector);

-- halfvec columns: support function 2 converts each value (and the query)
-- to vector; the codes are then the same as for a vector column.
CREATE OPERATOR CLASS halfvec_l2_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_l2_squared_distance(halfvec, halfvec),
    FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 cosine_distance(halfvec, halfvec),
    FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

CREATE OPERATOR CLASS halfvec_l1_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(halfvec, halfvec),
    FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean);

-- Filter columns: an hnsw index's optional second key column, whose WHERE
-- clauses the scan tests while it walks (hnsw_filter.cpp).  Strategies 1-6
-- are < <= = >= > <>, 7-9 are && @> <@.  Integers form one family, so
-- int8_col = 42 (int8 = int4) is a key as btree's integer_ops would make it.
CREATE OPERATOR FAMILY integer_ops USING hnsw;
CREATE OPERATOR CLASS int2_ops DEFAULT FOR TYPE int2 USING hnsw FAMILY integer_ops AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, OPERATOR 6 <>;
CREATE OPERATOR CLASS int4_ops DEFAULT FOR TYPE int4 USING hnsw FAMILY integer_ops AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, OPERATOR 6 <>;
CREATE OPERATOR CLASS int8_ops DEFAULT FOR TYPE int8 USING hnsw FAMILY integer_ops AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, OPERATOR 6 <>;
DO $$
DECLARE
    l text;
    r text;
    op text;
    n int;
BEGIN
    FOREACH l IN ARRAY ARRAY['int2', 'int4', 'int8'] LOOP
        FOREACH r IN ARRAY ARRAY['int2', 'int4', 'int8'] LOOP
            CONTINUE WHEN l = r;
            n := 0;
            FOREACH op IN ARRAY ARRAY['<', '<=', '=', '>=', '>', '<>'] LOOP
                n := n + 1;
                EXECUTE format('ALTER OPERATOR FAMILY integer_ops USING hnsw ADD OPERATOR %s %s (%s, %s)',
                               n, op, l, r);
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;

CREATE OPERATOR CLASS text_ops DEFAULT FOR TYPE text USING hnsw AS
    OPERATOR 3 =;

CREATE OPERATOR CLASS array_ops DEFAULT FOR TYPE anyarray USING hnsw AS
    OPERATOR 7 && (anyarray, anyarray),
    OPERATOR 8 @> (anyarray, anyarray),
    OPERATOR 9 <@ (anyarray, anyarray);

-- sparsevec columns: support function 2 makes each value (and the query) a
-- dense vector (up to 16,000 dimensions), so the codes are a vector
-- column's; the operators sum over the stored indices in their own order,
-- which 'none' bounds allow for (codec.cpp).
CREATE OPERATOR CLASS sparsevec_l2_ops FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_l2_squared_distance(sparsevec, sparsevec),
    FUNCTION 2 sparsevec_to_vector(sparsevec, integer, boolean);

CREATE OPERATOR CLASS sparsevec_ip_ops FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_negative_inner_product(sparsevec, sparsevec),
    FUNCTION 2 sparsevec_to_vector(sparsevec, integer, boolean);

CREATE OPERATOR CLASS sparsevec_cosine_ops FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <=> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 cosine_distance(sparsevec, sparsevec),
    FUNCTION 2 sparsevec_to_vector(sparsevec, integer, boolean);

CREATE OPERATOR CLASS sparsevec_l1_ops FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <+> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(sparsevec, sparsevec),
    FUNCTION 2 sparsevec_to_vector(sparsevec, integer, boolean);

-- bit columns: support function 2 makes each bit string a vector of 0s and
-- 1s, whose squared L2 distance is the Hamming distance; the codec reports
-- bounds squared (OperatorIsSquaredL2).
CREATE OPERATOR CLASS bit_hamming_ops FOR TYPE bit USING hnsw AS
    OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 hamming_distance(bit, bit),
    FUNCTION 2 bit_to_vector(bit, integer, boolean);

-- Jaccard distance of the same 0/1 vectors: no code bounds it, so the
-- index stores them whole (quantization 'none', as for L1).
CREATE OPERATOR CLASS bit_jaccard_ops FOR TYPE bit USING hnsw AS
    OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 jaccard_distance(bit, bit),
    FUNCTION 2 bit_to_vector(bit, integer, boolean);
