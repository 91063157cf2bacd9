-- The ivf index access method (src/pg/ivf), under its own name and under
-- pgvector's (ivfflat), and their operator classes.

CREATE FUNCTION ivf_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION ivf_handler(internal) IS 'ivf index access method handler';

CREATE ACCESS METHOD ivf TYPE INDEX HANDLER ivf_handler;
COMMENT ON ACCESS METHOD ivf IS 'ivf index access method: inverted lists of compact codes, exact re-rank';
CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivf_handler;
COMMENT ON ACCESS METHOD ivfflat IS 'the ivf index access method under pgvector''s name (ivfflat.* settings)';

-- Support function 1 names the distance the index orders by (as for hnsw).
DO $$
DECLARE
    am text;
BEGIN
    FOREACH am IN ARRAY ARRAY['ivf', 'ivfflat'] LOOP
        EXECUTE format('CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING %s AS '
                       'OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops, '
                       'FUNCTION 1 vector_l2_squared_distance(vector, vector)', am);
        EXECUTE format('CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING %s AS '
                       'OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops, '
                       'FUNCTION 1 vector_negative_inner_product(vector, vector)', am);
        EXECUTE format('CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING %s AS '
                       'OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops, '
                       'FUNCTION 1 cosine_distance(vector, vector)', am);
        -- halfvec: support function 2 converts each value to vector.
        EXECUTE format('CREATE OPERATOR CLASS halfvec_l2_ops FOR TYPE halfvec USING %s AS '
                       'OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops, '
                       'FUNCTION 1 halfvec_l2_squared_distance(halfvec, halfvec), '
                       'FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean)', am);
        EXECUTE format('CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING %s AS '
                       'OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops, '
                       'FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec), '
                       'FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean)', am);
        EXECUTE format('CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING %s AS '
                       'OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops, '
                       'FUNCTION 1 cosine_distance(halfvec, halfvec), '
                       'FUNCTION 2 halfvec_to_vector(halfvec, integer, boolean)', am);
        -- bit: 0/1 vectors, whose squared L2 distance is the Hamming distance.
        EXECUTE format('CREATE OPERATOR CLASS bit_hamming_ops FOR TYPE bit USING %s AS '
                       'OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops, '
                       'FUNCTION 1 hamming_distance(bit, bit), '
                       'FUNCTION 2 bit_to_vector(bit, integer, boolean)', am);
    END LOOP;
END
$$;
