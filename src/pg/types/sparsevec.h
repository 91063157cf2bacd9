/*
 * sparsevec.h -- the on-disk and in-memory form of the SQL type sparsevec(n).
 *
 * The layout is pgvector's SparseVector, byte for byte, so binary dumps and
 * the wire format move between the two:
 *
 *   int32 vl_len_           varlena header
 *   int32 dim               dimensions, 1 .. SPARSEVEC_MAX_DIM
 *   int32 nnz               stored elements, 0 .. SPARSEVEC_MAX_NNZ (and <= dim)
 *   int32 unused            always 0
 *   int32 indices[nnz]      0-based, strictly ascending, < dim
 *   float values[nnz]       finite and non-zero
 *
 * Include after C++ standard headers (it includes pg.h).
 */
#pragma once

#include "../../core/sparse_distance.h"
#include "../guard.h"

#define SPARSEVEC_MAX_DIM 1000000000
#define SPARSEVEC_MAX_NNZ 16000

struct SparseVector {
    int32 vl_len_;
    int32 dim;
    int32 nnz;
    int32 unused;
    int32 indices[FLEXIBLE_ARRAY_MEMBER];
};

/* nnz is at most SPARSEVEC_MAX_NNZ wherever a size is computed, so the
 * arithmetic cannot overflow. */
#define SPARSEVEC_SIZE(nnz) (offsetof(SparseVector, indices) + (sizeof(int32) + sizeof(float)) * (size_t) (nnz))
#define SPARSEVEC_VALUES(v) ((float *) ((char *) (v)->indices + sizeof(int32) * (size_t) (v)->nnz))
#define DatumGetSparseVector(d) ((SparseVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_SPARSEVEC_P(n) DatumGetSparseVector(PG_GETARG_DATUM(n))
#define PG_RETURN_SPARSEVEC_P(v) PG_RETURN_POINTER(v)

/* A sparse vector of dim dimensions with room for nnz elements (zeroed). */
SparseVector *InitSparseVector(int dim, int nnz);

/* The elements as core code sees them. */
inline vecdb::SparseView SparseVectorView(SparseVector *v)
{
    return vecdb::SparseView{v->indices, SPARSEVEC_VALUES(v), (size_t) v->nnz};
}

/* ERROR unless 1 <= dim <= SPARSEVEC_MAX_DIM. */
void SparsevecCheckDim(int dim);

/* ERROR unless a sparsevec of dim dimensions fits typmod (-1: any). */
void SparsevecCheckExpectedDim(int32 typmod, int dim);

/* ERROR unless 0 <= nnz <= SPARSEVEC_MAX_NNZ and nnz <= dim. */
void SparsevecCheckNnz(int nnz, int dim);

/* ERROR unless indices[i] is in 0 .. dim - 1 and above indices[i - 1]. */
void SparsevecCheckIndex(const int32 *indices, int i, int dim);

/* ERROR if value is NaN or infinite. */
void SparsevecCheckElement(float value);

/* Arguments 0 and 1 of a binary sparsevec function, detoasted and checked
 * to have the same dimension. */
struct SparseVectorPair {
    SparseVector *a;
    SparseVector *b;
};
SparseVectorPair GetSparseVectorPair(FunctionCallInfo fcinfo);
