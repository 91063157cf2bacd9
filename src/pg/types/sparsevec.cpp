/*
 * sparsevec.cpp -- constructing and validating sparse vectors; shared by
 * every sparsevec function.  Messages and SQLSTATEs are pgvector's.
 */
#include <cmath>

#include "../../core/sparse_text.h"
#include "sparsevec.h"

SparseVector *InitSparseVector(int dim, int nnz)
{
    SparseVector *result = (SparseVector *) palloc0(SPARSEVEC_SIZE(nnz));
    SET_VARSIZE(result, SPARSEVEC_SIZE(nnz));
    result->dim = dim;
    result->nnz = nnz;
    return result;
}

void SparsevecCheckDim(int dim)
{
    if (dim < 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec must have at least 1 dimension")));
    if (dim > SPARSEVEC_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("sparsevec cannot have more than %d dimensions", SPARSEVEC_MAX_DIM)));
}

void SparsevecCheckExpectedDim(int32 typmod, int dim)
{
    if (typmod != -1 && typmod != dim)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %d dimensions, not %d", typmod, dim)));
}

void SparsevecCheckNnz(int nnz, int dim)
{
    if (nnz < 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("sparsevec cannot have negative number of elements")));
    if (nnz > SPARSEVEC_MAX_NNZ)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("sparsevec cannot have more than %d non-zero elements", SPARSEVEC_MAX_NNZ)));
    if (nnz > dim)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("sparsevec cannot have more elements than dimensions")));
}

void SparsevecCheckIndex(const int32 *indices, int i, int dim)
{
    switch (vecdb::check_sparse_index(indices, (size_t) i, dim)) {
    case vecdb::SparseIndexStatus::Ok:
        break;
    case vecdb::SparseIndexStatus::OutOfBounds:
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec index out of bounds")));
        break;
    case vecdb::SparseIndexStatus::NotAscending:
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec indices must be in ascending order")));
        break;
    case vecdb::SparseIndexStatus::Duplicate:
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec indices must not contain duplicates")));
        break;
    }
}

void SparsevecCheckElement(float value)
{
    if (std::isnan(value))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in sparsevec")));
    if (std::isinf(value))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in sparsevec")));
}

SparseVectorPair GetSparseVectorPair(FunctionCallInfo fcinfo)
{
    SparseVectorPair pair = {PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)};
    if (pair.a->dim != pair.b->dim)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different sparsevec dimensions %d and %d", pair.a->dim, pair.b->dim)));
    return pair;
}
