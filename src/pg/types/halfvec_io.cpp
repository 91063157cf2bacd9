/*
 * halfvec_io.cpp -- halfvec(n): construction, text and binary I/O, type
 * modifier, and casts to and from vector and SQL arrays.
 *
 * Text input reads floats with vector's parser and rounds each to half;
 * the binary format is pgvector's (int16 dim, int16 unused = 0, dim x
 * binary16, network byte order).
 */
#include <algorithm>
#include <cmath>

#include "../../core/simd/distance.h"
#include "../../core/vector_text.h"
#include "halfvec.h"

extern "C" {
PGDLLEXPORT Datum array_to_vector(PG_FUNCTION_ARGS);
}

HalfVector *InitHalfVector(int dim)
{
    HalfVector *result = (HalfVector *) palloc0(HALFVEC_SIZE(dim));
    SET_VARSIZE(result, HALFVEC_SIZE(dim));
    result->dim = dim;
    return result;
}

void CheckHalfvecDim(int dim)
{
    if (dim < 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("halfvec must have at least 1 dimension")));
    if (dim > HALFVEC_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("halfvec cannot have more than %d dimensions", HALFVEC_MAX_DIM)));
}

Vector *HalfvecToVector(const HalfVector *h)
{
    Vector *result = InitVector(h->dim);
    vecdb::distance_kernels().half_to_float(h->x, result->x, Size(h->dim));
    return result;
}

HalfVector *VectorToHalfvec(const Vector *v, HalfOverflow overflow)
{
    CheckHalfvecDim(v->dim);
    HalfVector *result = InitHalfVector(v->dim);
    for (int i = 0; i < v->dim; i++) {
        const float x = v->x[i];
        if (std::isnan(x))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in halfvec")));
        if (std::isinf(x))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in halfvec")));
        if (!vecdb::float_to_half(x, &result->x[i])) {
            if (overflow == HalfOverflow::Arithmetic)
                ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("value out of range: overflow")));
            char text[FLOAT_SHORTEST_DECIMAL_LEN];
            float_to_shortest_decimal_buf(x, text);
            ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                            errmsg("\"%s\" is out of range for type halfvec", text)));
        }
    }
    return result;
}

/*
 * halfvec_in(cstring, oid, typmod) -- parses "[1,2,3]".
 */
VECDB_FUNCTION(halfvec_in)
{
    char *literal = PG_GETARG_CSTRING(0);
    int32 typmod = PG_GETARG_INT32(2);
    size_t capacity = std::min<size_t>(vecdb::vector_text_dims_bound(literal), HALFVEC_MAX_DIM);
    Vector *floats = InitVector((int) std::max<size_t>(capacity, 1));
    vecdb::ParseResult parsed = vecdb::parse_vector_text(literal, floats->x, capacity);

    switch (parsed.status) {
    case vecdb::ParseStatus::Ok:
        break;
    case vecdb::ParseStatus::Malformed:
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type halfvec: \"%s\"", literal)));
        break;
    case vecdb::ParseStatus::NotFinite:
        /* pgvector's messages: halfvec says which of the two it met. */
        if (pg_strncasecmp(parsed.token + (*parsed.token == '-' || *parsed.token == '+'), "nan", 3) == 0)
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in halfvec")));
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in halfvec")));
        break;
    case vecdb::ParseStatus::Empty:
        CheckHalfvecDim(0);
        break;
    case vecdb::ParseStatus::TooManyDimensions:
        CheckHalfvecDim(HALFVEC_MAX_DIM + 1);
        break;
    case vecdb::ParseStatus::OutOfRange:
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("\"%.*s\" is out of range for type halfvec", (int) parsed.token_length, parsed.token)));
        break;
    }
    floats->dim = (int16) parsed.dims;
    CheckExpectedDim(typmod, floats->dim);
    PG_RETURN_POINTER(VectorToHalfvec(floats, HalfOverflow::Cast));
}

/*
 * halfvec_out(halfvec) -- each element in the shortest form that reads back
 * to the same float (and so to the same half).
 */
VECDB_FUNCTION(halfvec_out)
{
    HalfVector *h = PG_GETARG_HALFVEC_P(0);
    char *text = (char *) palloc(h->dim * FLOAT_SHORTEST_DECIMAL_LEN + 3);
    char *p = text;

    *p++ = '[';
    for (int i = 0; i < h->dim; i++) {
        if (i > 0)
            *p++ = ',';
        p += float_to_shortest_decimal_bufn(vecdb::half_to_float(h->x[i]), p);
    }
    *p++ = ']';
    *p = '\0';
    PG_FREE_IF_COPY(h, 0);
    PG_RETURN_CSTRING(text);
}

/*
 * halfvec_typmod_in(cstring[]) -- the n of halfvec(n).
 */
VECDB_FUNCTION(halfvec_typmod_in)
{
    ArrayType *modifiers = PG_GETARG_ARRAYTYPE_P(0);
    int count;
    int32 *values = ArrayGetIntegerTypmods(modifiers, &count);

    if (count != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier")));
    if (values[0] < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type halfvec must be at least 1")));
    if (values[0] > HALFVEC_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type halfvec cannot exceed %d", HALFVEC_MAX_DIM)));
    PG_RETURN_INT32(values[0]);
}

/*
 * halfvec_recv(internal, oid, typmod) -- binary input; the length is
 * checked against the message before anything is allocated.
 */
VECDB_FUNCTION(halfvec_recv)
{
    StringInfo buffer = (StringInfo) PG_GETARG_POINTER(0);
    int32 typmod = PG_GETARG_INT32(2);
    int dim = (int16) pq_getmsgint(buffer, sizeof(int16));
    int unused = (int16) pq_getmsgint(buffer, sizeof(int16));

    CheckHalfvecDim(dim);
    CheckExpectedDim(typmod, dim);
    if (unused != 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected unused to be 0, not %d", unused)));
    if ((size_t) (buffer->len - buffer->cursor) < sizeof(vecdb::Half) * dim)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("insufficient data for a halfvec of %d dimensions", dim)));

    HalfVector *result = InitHalfVector(dim);
    for (int i = 0; i < dim; i++) {
        result->x[i] = (vecdb::Half) pq_getmsgint(buffer, sizeof(int16));
        const float x = vecdb::half_to_float(result->x[i]);
        if (std::isnan(x))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in halfvec")));
        if (std::isinf(x))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in halfvec")));
    }
    PG_RETURN_POINTER(result);
}

/*
 * halfvec_send(halfvec) -- binary output.
 */
VECDB_FUNCTION(halfvec_send)
{
    HalfVector *h = PG_GETARG_HALFVEC_P(0);
    StringInfoData buffer;

    pq_begintypsend(&buffer);
    pq_sendint16(&buffer, (uint16) h->dim);
    pq_sendint16(&buffer, (uint16) h->unused);
    for (int i = 0; i < h->dim; i++)
        pq_sendint16(&buffer, h->x[i]);
    PG_RETURN_BYTEA_P(pq_endtypsend(&buffer));
}

/*
 * halfvec(halfvec, typmod, explicit) -- enforces halfvec(n).
 */
VECDB_FUNCTION(halfvec)
{
    HalfVector *h = PG_GETARG_HALFVEC_P(0);
    CheckExpectedDim(PG_GETARG_INT32(1), h->dim);
    PG_RETURN_POINTER(h);
}

/*
 * halfvec_to_vector(halfvec, typmod, explicit) -- exact (every half is a
 * float).  Also the hnsw and ivf opclasses' support function 2.
 */
VECDB_FUNCTION(halfvec_to_vector)
{
    HalfVector *h = PG_GETARG_HALFVEC_P(0);
    CheckExpectedDim(PG_GETARG_INT32(1), h->dim);
    PG_RETURN_POINTER(HalfvecToVector(h));
}

/*
 * vector_to_halfvec(vector, typmod, explicit) -- rounds to nearest; a value
 * beyond +-65504 (after rounding) is an error, as in pgvector.
 */
VECDB_FUNCTION(vector_to_halfvec)
{
    Vector *v = PG_GETARG_VECTOR_P(0);
    CheckExpectedDim(PG_GETARG_INT32(1), v->dim);
    PG_RETURN_POINTER(VectorToHalfvec(v, HalfOverflow::Cast));
}

/*
 * array_to_halfvec(anyarray, typmod, explicit) -- through array_to_vector
 * (its element checks and errors), then rounded to half.
 */
VECDB_FUNCTION(array_to_halfvec)
{
    Datum floats = DirectFunctionCall3(array_to_vector, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));
    PG_RETURN_POINTER(VectorToHalfvec(DatumGetVector(floats), HalfOverflow::Cast));
}

/*
 * halfvec_to_float4(halfvec, typmod, explicit) -- halfvec as real[].
 */
VECDB_FUNCTION(halfvec_to_float4)
{
    HalfVector *h = PG_GETARG_HALFVEC_P(0);
    Datum *elements = (Datum *) palloc(sizeof(Datum) * h->dim);

    for (int i = 0; i < h->dim; i++)
        elements[i] = Float4GetDatum(vecdb::half_to_float(h->x[i]));
    PG_RETURN_POINTER(construct_array(elements, h->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
}
