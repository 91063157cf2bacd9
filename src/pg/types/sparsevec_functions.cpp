/*
 * sparsevec_functions.cpp -- distances behind <-> <#> <=> <+>, the norm,
 * normalization and the btree comparison family of sparsevec.
 *
 * Distances merge the two sorted index lists (src/core/sparse_distance.h):
 * float sums in pgvector's order, redone in double when float overflowed or
 * underflow may have emptied them, as vector's distances are.
 */
#include <cmath>

#include "sparsevec.h"

namespace {

int CompareArgs(FunctionCallInfo fcinfo)
{
    SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
    SparseVector *b = PG_GETARG_SPARSEVEC_P(1);
    return vecdb::sparse_compare(SparseVectorView(a), a->dim, SparseVectorView(b), b->dim);
}

}  // namespace

/* l2_distance(sparsevec, sparsevec), operator <-> */
VECDB_FUNCTION(sparsevec_l2_distance)
{
    auto [a, b] = GetSparseVectorPair(fcinfo);
    PG_RETURN_FLOAT8(std::sqrt(vecdb::sparse_l2_squared(SparseVectorView(a), SparseVectorView(b))));
}

/* sparsevec_l2_squared_distance(sparsevec, sparsevec): <-> without the
 * square root, for index support functions. */
VECDB_FUNCTION(sparsevec_l2_squared_distance)
{
    auto [a, b] = GetSparseVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::sparse_l2_squared(SparseVectorView(a), SparseVectorView(b)));
}

/* inner_product(sparsevec, sparsevec) */
VECDB_FUNCTION(sparsevec_inner_product)
{
    auto [a, b] = GetSparseVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::sparse_dot(SparseVectorView(a), SparseVectorView(b)));
}

/* sparsevec_negative_inner_product(sparsevec, sparsevec), operator <#> */
VECDB_FUNCTION(sparsevec_negative_inner_product)
{
    auto [a, b] = GetSparseVectorPair(fcinfo);
    PG_RETURN_FLOAT8(-vecdb::sparse_dot(SparseVectorView(a), SparseVectorView(b)));
}

/* cosine_distance(sparsevec, sparsevec), operator <=>: NaN when either is zero. */
VECDB_FUNCTION(sparsevec_cosine_distance)
{
    auto [a, b] = GetSparseVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::sparse_cosine_distance(SparseVectorView(a), SparseVectorView(b)));
}

/* l1_distance(sparsevec, sparsevec), operator <+> */
VECDB_FUNCTION(sparsevec_l1_distance)
{
    auto [a, b] = GetSparseVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::sparse_l1(SparseVectorView(a), SparseVectorView(b)));
}

/* l2_norm(sparsevec): Euclidean norm, summed in double. */
VECDB_FUNCTION(sparsevec_l2_norm)
{
    PG_RETURN_FLOAT8(vecdb::sparse_norm(SparseVectorView(PG_GETARG_SPARSEVEC_P(0))));
}

/* l2_normalize(sparsevec): unit length; the zero vector stays zero.  A value
 * that rounds to 0 next to much larger ones is dropped, since zeros are
 * never stored. */
VECDB_FUNCTION(sparsevec_l2_normalize)
{
    SparseVector *sparse = PG_GETARG_SPARSEVEC_P(0);
    const float *values = SPARSEVEC_VALUES(sparse);
    double norm = vecdb::sparse_norm(SparseVectorView(sparse));

    if (norm == 0)
        PG_RETURN_SPARSEVEC_P(InitSparseVector(sparse->dim, 0));

    float *scaled = (float *) palloc(sizeof(float) * (size_t) (sparse->nnz + 1));
    int nnz = 0;
    for (int i = 0; i < sparse->nnz; i++) {
        scaled[i] = (float) (values[i] / norm);
        if (std::isinf(scaled[i]))
            float_overflow_error();
        nnz += (scaled[i] != 0);
    }

    SparseVector *result = InitSparseVector(sparse->dim, nnz);
    float *result_values = SPARSEVEC_VALUES(result);
    int stored = 0;
    for (int i = 0; i < sparse->nnz; i++) {
        if (scaled[i] != 0) {
            result->indices[stored] = sparse->indices[i];
            result_values[stored] = scaled[i];
            stored++;
        }
    }
    pfree(scaled);
    PG_RETURN_SPARSEVEC_P(result);
}

/* The btree family: < <= = <> >= > and the support function sparsevec_cmp;
 * the order is that of the dense forms (vector's). */
VECDB_FUNCTION(sparsevec_lt) { PG_RETURN_BOOL(CompareArgs(fcinfo) < 0); }
VECDB_FUNCTION(sparsevec_le) { PG_RETURN_BOOL(CompareArgs(fcinfo) <= 0); }
VECDB_FUNCTION(sparsevec_eq) { PG_RETURN_BOOL(CompareArgs(fcinfo) == 0); }
VECDB_FUNCTION(sparsevec_ne) { PG_RETURN_BOOL(CompareArgs(fcinfo) != 0); }
VECDB_FUNCTION(sparsevec_ge) { PG_RETURN_BOOL(CompareArgs(fcinfo) >= 0); }
VECDB_FUNCTION(sparsevec_gt) { PG_RETURN_BOOL(CompareArgs(fcinfo) > 0); }
VECDB_FUNCTION(sparsevec_cmp) { PG_RETURN_INT32(CompareArgs(fcinfo)); }
