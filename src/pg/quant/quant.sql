
-- What a code keeps of a vector (src/pg/quant/quant_functions.cpp).
CREATE FUNCTION vecdb_quantize(method text, v vector) RETURNS vector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_quantize(text, vector) IS
    'the vector a code of v decodes to: method none, sq8, e8, e8_4bit, h4 or binary';

CREATE FUNCTION vecdb_quantization_error(method text, v vector) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_quantization_error(text, vector) IS
    'relative squared error |v - vecdb_quantize(method, v)|^2 / |v|^2 of a code of v';

CREATE FUNCTION vecdb_quantization_bits(method text, dims integer) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecdb_quantization_bits(text, integer) IS
    'bits per dimension of a code of a dims-dimensional vector, its header included';
