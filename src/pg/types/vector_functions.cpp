/*
 * vector_functions.cpp -- everything on vectors that is not I/O, a cast, a
 * distance or an aggregate: dims, norm, normalize, subvector, binary
 * quantization, element-wise arithmetic, concatenation and the btree
 * comparison family.
 */
#include <cmath>
#include <cstdint>

#include "vector.h"

namespace {

/* Arithmetic results are checked like float4 arithmetic in PostgreSQL:
 * overflow to infinity is an error, never a stored value. */
void CheckOverflow(float result)
{
    if (std::isinf(result))
        float_overflow_error();
}

/* Lexicographic on elements, then shorter first: a total order for btree. */
int CompareVectors(const Vector *a, const Vector *b)
{
    int common = a->dim < b->dim ? a->dim : b->dim;
    for (int i = 0; i < common; i++) {
        if (a->x[i] < b->x[i])
            return -1;
        if (a->x[i] > b->x[i])
            return 1;
    }
    return (a->dim > b->dim) - (a->dim < b->dim);
}

int CompareArgs(FunctionCallInfo fcinfo)
{
    return CompareVectors(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1));
}

}  // namespace

/* vector_dims(vector) */
VECDB_FUNCTION(vector_dims)
{
    PG_RETURN_INT32(PG_GETARG_VECTOR_P(0)->dim);
}

/* vector_norm(vector): Euclidean norm, summed in double. */
VECDB_FUNCTION(vector_norm)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    double sum = 0.0;
    for (int i = 0; i < vector->dim; i++)
        sum += (double) vector->x[i] * vector->x[i];
    PG_RETURN_FLOAT8(std::sqrt(sum));
}

/* l2_normalize(vector): unit length; the zero vector stays zero. */
VECDB_FUNCTION(l2_normalize)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    Vector *result = InitVector(vector->dim);
    double sum = 0.0;

    for (int i = 0; i < vector->dim; i++)
        sum += (double) vector->x[i] * vector->x[i];
    if (sum > 0) {
        double norm = std::sqrt(sum);
        for (int i = 0; i < vector->dim; i++) {
            result->x[i] = (float) (vector->x[i] / norm);
            CheckOverflow(result->x[i]);
        }
    }
    PG_RETURN_VECTOR_P(result);
}

/* subvector(vector, start, count): elements start .. start + count - 1
 * (1-based), clipped to the vector like substring(); at least one element
 * must remain. */
VECDB_FUNCTION(subvector)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    int64_t start = PG_GETARG_INT32(1);
    int64_t count = PG_GETARG_INT32(2);
    int64_t end = start + count;

    if (count < 1)
        CheckDim(0);
    if (start < 1)
        start = 1;
    if (end > vector->dim + 1)
        end = vector->dim + 1;
    if (end <= start)
        CheckDim(0);

    int dim = (int) (end - start);
    Vector *result = InitVector(dim);
    for (int i = 0; i < dim; i++)
        result->x[i] = vector->x[start - 1 + i];
    PG_RETURN_VECTOR_P(result);
}

/* binary_quantize(vector) -> bit(dim): bit i is set where x[i] > 0. */
VECDB_FUNCTION(binary_quantize)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    VarBit *result = (VarBit *) palloc0(VARBITTOTALLEN(vector->dim));

    SET_VARSIZE(result, VARBITTOTALLEN(vector->dim));
    VARBITLEN(result) = vector->dim;
    for (int i = 0; i < vector->dim; i++)
        VARBITS(result)[i / 8] |= (bits8) ((vector->x[i] > 0) << (7 - i % 8));
    PG_RETURN_VARBIT_P(result);
}

/* vector_add(vector, vector), operator + */
VECDB_FUNCTION(vector_add)
{
    auto [a, b] = GetVectorPair(fcinfo);
    Vector *result = InitVector(a->dim);
    for (int i = 0; i < a->dim; i++) {
        result->x[i] = a->x[i] + b->x[i];
        CheckOverflow(result->x[i]);
    }
    PG_RETURN_VECTOR_P(result);
}

/* vector_sub(vector, vector), operator - */
VECDB_FUNCTION(vector_sub)
{
    auto [a, b] = GetVectorPair(fcinfo);
    Vector *result = InitVector(a->dim);
    for (int i = 0; i < a->dim; i++) {
        result->x[i] = a->x[i] - b->x[i];
        CheckOverflow(result->x[i]);
    }
    PG_RETURN_VECTOR_P(result);
}

/* vector_mul(vector, vector), operator *: element-wise.  A product that
 * rounds to zero from non-zero factors is an underflow error, as for real. */
VECDB_FUNCTION(vector_mul)
{
    auto [a, b] = GetVectorPair(fcinfo);
    Vector *result = InitVector(a->dim);
    for (int i = 0; i < a->dim; i++) {
        result->x[i] = a->x[i] * b->x[i];
        CheckOverflow(result->x[i]);
        if (result->x[i] == 0 && a->x[i] != 0 && b->x[i] != 0)
            float_underflow_error();
    }
    PG_RETURN_VECTOR_P(result);
}

/* vector_concat(vector, vector), operator || */
VECDB_FUNCTION(vector_concat)
{
    Vector *a = PG_GETARG_VECTOR_P(0);
    Vector *b = PG_GETARG_VECTOR_P(1);
    int dim = a->dim + b->dim;

    CheckDim(dim);
    Vector *result = InitVector(dim);
    memcpy(result->x, a->x, sizeof(float) * a->dim);
    memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
    PG_RETURN_VECTOR_P(result);
}

/* The btree family: < <= = <> >= > and the support function vector_cmp. */
VECDB_FUNCTION(vector_lt) { PG_RETURN_BOOL(CompareArgs(fcinfo) < 0); }
VECDB_FUNCTION(vector_le) { PG_RETURN_BOOL(CompareArgs(fcinfo) <= 0); }
VECDB_FUNCTION(vector_eq) { PG_RETURN_BOOL(CompareArgs(fcinfo) == 0); }
VECDB_FUNCTION(vector_ne) { PG_RETURN_BOOL(CompareArgs(fcinfo) != 0); }
VECDB_FUNCTION(vector_ge) { PG_RETURN_BOOL(CompareArgs(fcinfo) >= 0); }
VECDB_FUNCTION(vector_gt) { PG_RETURN_BOOL(CompareArgs(fcinfo) > 0); }
VECDB_FUNCTION(vector_cmp) { PG_RETURN_INT32(CompareArgs(fcinfo)); }
