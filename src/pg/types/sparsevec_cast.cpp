/*
 * sparsevec_cast.cpp -- casts between sparsevec and vector or halfvec, and
 * from SQL arrays to sparsevec.  Zeros of the dense form are not stored.
 */
#include "vector.h"
#include "halfvec.h"
#include "sparsevec.h"

namespace {

/* The dense values as a sparsevec of dim dimensions (dim already checked). */
SparseVector *DenseToSparse(const float *x, int dim)
{
    int nnz = 0;
    for (int i = 0; i < dim; i++)
        nnz += (x[i] != 0);
    SparsevecCheckNnz(nnz, dim);

    SparseVector *result = InitSparseVector(dim, nnz);
    float *values = SPARSEVEC_VALUES(result);
    int stored = 0;
    for (int i = 0; i < dim; i++) {
        if (x[i] != 0) {
            result->indices[stored] = i;
            values[stored] = x[i];
            stored++;
        }
    }
    return result;
}

/* One array element as float, as pgvector converts it: plain C casts, so
 * a double beyond float becomes infinity (refused later) and one below
 * float's range becomes 0 (dropped). */
float ArrayElementToFloat(Datum element, Oid type)
{
    switch (type) {
    case INT4OID:
        return (float) DatumGetInt32(element);
    case FLOAT8OID:
        return (float) DatumGetFloat8(element);
    case FLOAT4OID:
        return DatumGetFloat4(element);
    case NUMERICOID:
        return DatumGetFloat4(DirectFunctionCall1(numeric_float4, element));
    default:
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));
    }
    pg_unreachable();
}

}  // namespace

/*
 * vector_to_sparsevec(vector, typmod, explicit)
 */
VECDB_FUNCTION(vector_to_sparsevec)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    int32 typmod = PG_GETARG_INT32(1);

    SparsevecCheckDim(vector->dim);
    SparsevecCheckExpectedDim(typmod, vector->dim);
    PG_RETURN_SPARSEVEC_P(DenseToSparse(vector->x, vector->dim));
}

/*
 * sparsevec_to_vector(sparsevec, typmod, explicit) -- fails for more than
 * vector's 16,000 dimensions.
 */
VECDB_FUNCTION(sparsevec_to_vector)
{
    SparseVector *sparse = PG_GETARG_SPARSEVEC_P(0);
    int32 typmod = PG_GETARG_INT32(1);
    const float *values = SPARSEVEC_VALUES(sparse);

    CheckDim(sparse->dim);
    CheckExpectedDim(typmod, sparse->dim);

    Vector *result = InitVector(sparse->dim);
    for (int i = 0; i < sparse->nnz; i++) {
        int32 index = sparse->indices[i];
        if (index < 0 || index >= sparse->dim)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("sparsevec index out of bounds")));
        result->x[index] = values[i];
    }
    PG_RETURN_VECTOR_P(result);
}

/*
 * array_to_sparsevec(anyarray, typmod, explicit) -- integer[], real[],
 * double precision[] and numeric[] (the element type is read from the
 * array).  Checks in pgvector's order: shape, dimensions, element count,
 * then the stored values' finiteness.
 */
VECDB_FUNCTION(array_to_sparsevec)
{
    ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
    int32 typmod = PG_GETARG_INT32(1);
    Oid element_type = ARR_ELEMTYPE(array);
    int16 element_length;
    bool element_byval;
    char element_align;
    Datum *elements;
    int count;

    if (ARR_NDIM(array) > 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("array must not contain nulls")));

    get_typlenbyvalalign(element_type, &element_length, &element_byval, &element_align);
    deconstruct_array(array, element_type, element_length, element_byval, element_align, &elements, NULL,
                      &count);
    SparsevecCheckDim(count);
    SparsevecCheckExpectedDim(typmod, count);

    float *dense = (float *) palloc(sizeof(float) * (size_t) count);
    for (int i = 0; i < count; i++)
        dense[i] = ArrayElementToFloat(elements[i], element_type);

    SparseVector *result = DenseToSparse(dense, count);
    const float *values = SPARSEVEC_VALUES(result);
    for (int i = 0; i < result->nnz; i++)
        SparsevecCheckElement(values[i]);
    pfree(dense);
    PG_RETURN_SPARSEVEC_P(result);
}

/*
 * halfvec_to_sparsevec(halfvec, typmod, explicit) -- exact: a half is a
 * float.
 */
VECDB_FUNCTION(halfvec_to_sparsevec)
{
    const Vector *vector = HalfvecToVector(PG_GETARG_HALFVEC_P(0));
    int32 typmod = PG_GETARG_INT32(1);

    SparsevecCheckDim(vector->dim);
    SparsevecCheckExpectedDim(typmod, vector->dim);
    PG_RETURN_SPARSEVEC_P(DenseToSparse(vector->x, vector->dim));
}

/*
 * sparsevec_to_halfvec(sparsevec, typmod, explicit) -- the dense vector
 * (sparsevec_to_vector's checks), rounded to half; a value beyond the half
 * range is an error, as in a vector to halfvec cast.
 */
VECDB_FUNCTION(sparsevec_to_halfvec)
{
    Datum dense = DirectFunctionCall3(sparsevec_to_vector, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));
    PG_RETURN_POINTER(VectorToHalfvec(DatumGetVector(dense), HalfOverflow::Cast));
}
