/*
 * mmr.h -- maximal marginal relevance (Carbonell and Goldstein, SIGIR 1998):
 * a diverse k of n candidates, picked one at a time, each the candidate c
 * that maximizes
 *
 *     lambda * sim(q, c) - (1 - lambda) * max over picked s of sim(c, s)
 *
 * with sim = -distance, the distance being the SQL operator's value (<->,
 * <#>, <=>, <+>), so the picks are those a SQL reference over the operators
 * makes.  Under cosine, sim = 1 - distance is the usual cosine similarity
 * up to a constant that does not change the argmax.  lambda = 1 keeps the
 * nearest-first order; lambda = 0 picks the nearest first, then the
 * candidates farthest from those picked.
 *
 * The usual outer step of a retrieval query: the index returns ~100
 * nearest rows, MMR keeps 10 that do not repeat each other.  Cost: n
 * distances to the query and n distances to each pick, O(n k) in all.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "../metric.h"

namespace vecdb {

/// Picks min(k, n) of the candidates (dims floats each) into order[] (their
/// indexes, in pick order) and returns how many.  Ties go to the earlier
/// candidate.  A candidate whose distance to the query is NaN (a zero
/// vector under cosine) is never preferred: such candidates come last, in
/// their input order.  metric: L2, InnerProduct, Cosine or L1.  scratch
/// holds 2 n doubles.  Distances are operator_distance() (simd/distance.h).
/// cancelled, if given, is asked before each pick; once
/// it says so, the picks so far are returned.
std::size_t mmr_select(const float *query, const float *const *candidates, std::size_t n, std::size_t dims,
                       Metric metric, double lambda, std::size_t k, std::uint32_t *order, double *scratch,
                       bool (*cancelled)() = nullptr);

}  // namespace vecdb
