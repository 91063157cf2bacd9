/*
 * vector_distance.cpp -- the distance functions behind <-> <#> <=> <+>.
 *
 * Each one checks dimensions and calls the checked distances of src/core/simd:
 * the process-wide SIMD kernels sum in float, as pgvector does, so ordinary
 * results agree with pgvector's; a sum that overflowed or may have lost terms
 * to underflow is redone in double, so extreme but valid vectors (elements up
 * to 3.4e38, subnormals) get finite, accurate distances instead of Infinity,
 * NaN or 0.
 */
#include <cmath>

#include "../../core/simd/distance.h"
#include "vector.h"

/* l2_distance(vector, vector), operator <-> */
VECDB_FUNCTION(l2_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::operator_distance(vecdb::Metric::L2, a->x, b->x, a->dim));
}

/* vector_l2_squared_distance(vector, vector): <-> without the square root,
 * for index support functions. */
VECDB_FUNCTION(vector_l2_squared_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::l2_squared_checked(a->x, b->x, a->dim));
}

/* inner_product(vector, vector) */
VECDB_FUNCTION(inner_product)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::dot_checked(a->x, b->x, a->dim));
}

/* vector_negative_inner_product(vector, vector), operator <#>: ascending
 * order means descending inner product. */
VECDB_FUNCTION(vector_negative_inner_product)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::operator_distance(vecdb::Metric::InnerProduct, a->x, b->x, a->dim));
}

/* cosine_distance(vector, vector), operator <=>: 1 - cos in [0, 2]; NaN when
 * either vector is zero, as in pgvector, so a zero vector is never "closest"
 * by accident. */
VECDB_FUNCTION(cosine_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::cosine_distance_checked(a->x, b->x, a->dim));
}

/* vector_spherical_distance(vector, vector): the angle between two unit
 * vectors divided by pi, in [0, 1]; a metric, unlike cosine distance. */
VECDB_FUNCTION(vector_spherical_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::spherical_distance_checked(a->x, b->x, a->dim));
}

/* l1_distance(vector, vector), operator <+> */
VECDB_FUNCTION(l1_distance)
{
    auto [a, b] = GetVectorPair(fcinfo);
    PG_RETURN_FLOAT8(vecdb::l1_checked(a->x, b->x, a->dim));
}
