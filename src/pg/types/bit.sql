-- Distances between bit strings, as binary_quantize(vector) produces them
-- (src/pg/types/bit_distance.cpp).  Typical use: a coarse search on bits,
-- re-ranked with exact vector distances.

CREATE FUNCTION hamming_distance(bit, bit) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION jaccard_distance(bit, bit) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION bit_to_vector(bit, integer, boolean) RETURNS vector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bit_to_vector(bit, integer, boolean) IS
    'the bits as a vector of 0s and 1s (support function 2 of bit_hamming_ops)';

COMMENT ON FUNCTION hamming_distance(bit, bit) IS 'number of differing bits (operator <~>)';
COMMENT ON FUNCTION jaccard_distance(bit, bit) IS '1 - shared set bits / all set bits (operator <%>)';

CREATE OPERATOR <~> (LEFTARG = bit, RIGHTARG = bit, FUNCTION = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = bit, RIGHTARG = bit, FUNCTION = jaccard_distance, COMMUTATOR = '<%>');

COMMENT ON OPERATOR <~>(bit, bit) IS 'Hamming distance';
COMMENT ON OPERATOR <%>(bit, bit) IS 'Jaccard distance';
