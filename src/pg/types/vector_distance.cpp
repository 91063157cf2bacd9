/*
 * vector_distance.cpp -- the distance functions behind <-> <#> <=> <+>.
 *
 * Each one checks dimensions and calls the process-wide SIMD kernel set
 * (src/core/simd); sums come back in float and become distances in double,
 * as pgvector computes them, so results agree with pgvector's.
 */
#include <cmath>

#include "../../core/simd/distance.h"
#include "vector.h"

namespace {

/* 1 - cos(a, b) from the fused sums; NaN when either vector is zero, as in
 * pgvector, so a zero vector is never "closest" by accident. */
double CosineDistance(const Vector *a, const Vector *b)
{
    vecdb::CosineSums sums = vecdb::distance_kernels().cosine_sums(a->x, b->x, a->dim);
    double similarity = (double) sums.dot / std::sqrt((double) sums.norm_a * (double) sums.norm_b);

    if (std::isnan(similarity))
        return NAN;
    /* Rounding can leave |similarity| slightly above 1. */
    similarity = std::fmax(-1.0, std::fmin(1.0, similarity));
    return 1.0 - similarity;
}

}  // namespace

/* l2_distance(vector, vector), operator <-> */
VECDB_FUNCTION(l2_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(std::sqrt((double) vecdb::distance_kernels().l2_squared(a->x, b->x, a->dim)));
}

/* vector_l2_squared_distance(vector, vector): <-> without the square root,
 * for index support functions. */
VECDB_FUNCTION(vector_l2_squared_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8((double) vecdb::distance_kernels().l2_squared(a->x, b->x, a->dim));
}

/* inner_product(vector, vector) */
VECDB_FUNCTION(inner_product)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8((double) vecdb::distance_kernels().dot(a->x, b->x, a->dim));
}

/* vector_negative_inner_product(vector, vector), operator <#>: ascending
 * order means descending inner product. */
VECDB_FUNCTION(vector_negative_inner_product)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(-(double) vecdb::distance_kernels().dot(a->x, b->x, a->dim));
}

/* cosine_distance(vector, vector), operator <=> */
VECDB_FUNCTION(cosine_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(CosineDistance(a, b));
}

/* vector_spherical_distance(vector, vector): the angle between two unit
 * vectors divided by pi, in [0, 1]; a metric, unlike cosine distance. */
VECDB_FUNCTION(vector_spherical_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    double dot = vecdb::distance_kernels().dot(a->x, b->x, a->dim);
    PG_RETURN_FLOAT8(std::acos(std::fmax(-1.0, std::fmin(1.0, dot))) / M_PI);
}

/* l1_distance(vector, vector), operator <+> */
VECDB_FUNCTION(l1_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8((double) vecdb::distance_kernels().l1(a->x, b->x, a->dim));
}
