/*
 * vector_io.cpp -- text and binary input/output of vector(n), its type
 * modifier, and the vector(n) -> vector(m) length check.
 *
 * The binary format is pgvector's (int16 dim, int16 unused = 0, dim x
 * float4, network byte order), so drivers in binary mode work unchanged.
 */
#include <algorithm>
#include <cmath>

#include "../../core/vector_text.h"
#include "vector.h"

/*
 * vector_in(cstring, oid, typmod) -- parses "[1,2,3]".
 */
VECDB_FUNCTION(vector_in)
{
    char *literal = PG_GETARG_CSTRING(0);
    int32 typmod = PG_GETARG_INT32(2);
    size_t capacity = std::min<size_t>(vecdb::vector_text_dims_bound(literal), VECTOR_MAX_DIM);
    Vector *result = InitVector((int) capacity);
    vecdb::ParseResult parsed = vecdb::parse_vector_text(literal, result->x, capacity);

    switch (parsed.status) {
    case vecdb::ParseStatus::Ok:
        break;
    case vecdb::ParseStatus::Malformed:
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type vector: \"%s\"", literal)));
        break;
    case vecdb::ParseStatus::Empty:
        CheckDim(0);
        break;
    case vecdb::ParseStatus::TooManyDimensions:
        CheckDim(VECTOR_MAX_DIM + 1);
        break;
    case vecdb::ParseStatus::OutOfRange:
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("\"%.*s\" is out of range for type real", (int) parsed.token_length, parsed.token)));
        break;
    case vecdb::ParseStatus::NotFinite:
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type vector: \"%s\"", literal),
                        errdetail("NaN and infinity are not allowed in a vector.")));
        break;
    }

    SET_VARSIZE(result, VECTOR_SIZE(parsed.dims));
    result->dim = (int16) parsed.dims;
    CheckExpectedDim(typmod, result->dim);
    PG_RETURN_VECTOR_P(result);
}

/*
 * vector_out(vector) -- "[1,2.5,-3]", each element in the shortest form that
 * reads back to the same float.
 */
VECDB_FUNCTION(vector_out)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    /* Each element needs at most FLOAT_SHORTEST_DECIMAL_LEN - 1 characters
     * plus a separator; then the brackets and the terminator. */
    char *text = (char *) palloc(vector->dim * FLOAT_SHORTEST_DECIMAL_LEN + 3);
    char *p = text;

    *p++ = '[';
    for (int i = 0; i < vector->dim; i++) {
        if (i > 0)
            *p++ = ',';
        p += float_to_shortest_decimal_bufn(vector->x[i], p);
    }
    *p++ = ']';
    *p = '\0';
    PG_FREE_IF_COPY(vector, 0);
    PG_RETURN_CSTRING(text);
}

/*
 * vector_typmod_in(cstring[]) -- the n of vector(n).
 */
VECDB_FUNCTION(vector_typmod_in)
{
    ArrayType *modifiers = PG_GETARG_ARRAYTYPE_P(0);
    int count;
    int32 *values = ArrayGetIntegerTypmods(modifiers, &count);

    if (count != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier")));
    if (values[0] < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type vector must be at least 1")));
    if (values[0] > VECTOR_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type vector cannot exceed %d", VECTOR_MAX_DIM)));
    PG_RETURN_INT32(values[0]);
}

/*
 * vector_recv(internal, oid, typmod) -- binary input.  A dimension count that
 * promises more floats than the message holds fails in pq_getmsgfloat4
 * ("insufficient data left in message") before anything is trusted.
 */
VECDB_FUNCTION(vector_recv)
{
    StringInfo buffer = (StringInfo) PG_GETARG_POINTER(0);
    int32 typmod = PG_GETARG_INT32(2);
    int dim = (int16) pq_getmsgint(buffer, sizeof(int16));
    int unused = (int16) pq_getmsgint(buffer, sizeof(int16));

    CheckDim(dim);
    CheckExpectedDim(typmod, dim);
    if (unused != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("expected unused to be 0, not %d", unused)));
    if ((size_t) (buffer->len - buffer->cursor) < sizeof(float) * dim)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("insufficient data for a vector of %d dimensions", dim)));

    Vector *result = InitVector(dim);
    for (int i = 0; i < dim; i++) {
        result->x[i] = pq_getmsgfloat4(buffer);
        if (std::isnan(result->x[i]) || std::isinf(result->x[i]))
            ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                            errmsg("NaN and infinity are not allowed in a vector")));
    }
    PG_RETURN_VECTOR_P(result);
}

/*
 * vector_send(vector) -- binary output.
 */
VECDB_FUNCTION(vector_send)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    StringInfoData buffer;

    pq_begintypsend(&buffer);
    pq_sendint(&buffer, vector->dim, sizeof(int16));
    pq_sendint(&buffer, vector->unused, sizeof(int16));
    for (int i = 0; i < vector->dim; i++)
        pq_sendfloat4(&buffer, vector->x[i]);
    PG_RETURN_BYTEA_P(pq_endtypsend(&buffer));
}

/*
 * vector(vector, typmod, explicit) -- the cast that enforces vector(n) on
 * assignment and on ::vector(n).
 */
VECDB_FUNCTION(vector)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    CheckExpectedDim(PG_GETARG_INT32(1), vector->dim);
    PG_RETURN_VECTOR_P(vector);
}
