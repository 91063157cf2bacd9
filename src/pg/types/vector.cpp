/*
 * vector.cpp -- constructing and validating vectors; shared by every
 * vector function.
 */
#include <cmath>

#include "vector.h"

Vector *InitVector(int dim)
{
    Vector *result = (Vector *) palloc0(VECTOR_SIZE(dim));
    SET_VARSIZE(result, VECTOR_SIZE(dim));
    result->dim = dim;
    return result;
}

void CheckDim(int dim)
{
    if (dim < 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("vector must have at least 1 dimension")));
    if (dim > VECTOR_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("vector cannot have more than %d dimensions", VECTOR_MAX_DIM)));
}

void CheckExpectedDim(int32 typmod, int dim)
{
    if (typmod != -1 && typmod != dim)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %d dimensions, not %d", typmod, dim)));
}

void CheckElement(float value)
{
    if (std::isnan(value))
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION), errmsg("NaN not allowed in vector")));
    if (std::isinf(value))
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION), errmsg("infinite value not allowed in vector")));
}

void CheckSameDims(const Vector *a, const Vector *b)
{
    if (a->dim != b->dim)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different vector dimensions %d and %d", a->dim, b->dim)));
}

VectorPair GetVectorPair(FunctionCallInfo fcinfo)
{
    VectorPair pair = {PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)};
    CheckSameDims(pair.a, pair.b);
    return pair;
}
