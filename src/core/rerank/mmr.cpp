/*
 * mmr.cpp -- maximal marginal relevance (see mmr.h).
 *
 * Kept per candidate: its distance to the query, and the least distance to
 * any pick so far (the most similar pick), updated with one distance per
 * candidate after each pick.  Scores are compared in double; ties keep the
 * earlier candidate.
 */
#include "mmr.h"

#include <cmath>
#include <limits>

#include "../error.h"
#include "../simd/distance.h"

namespace vecdb {

std::size_t mmr_select(const float *query, const float *const *candidates, std::size_t n, std::size_t dims,
                       Metric metric, double lambda, std::size_t k, std::uint32_t *order, double *scratch,
                       bool (*cancelled)())
{
    if (!(lambda >= 0.0 && lambda <= 1.0))
        throw Error(ErrorKind::InvalidParameter, "MMR's lambda must be between 0 and 1");
    if (metric == Metric::Jaccard)
        throw Error(ErrorKind::InvalidParameter, "MMR supports the l2, ip, cosine and l1 distances");
    constexpr double kInf = std::numeric_limits<double>::infinity();
    double *relevance = scratch;       // distance to the query; NaN: last
    // Least distance to a pick so far; -inf marks a pick (no distance is:
    // the checked kernels redo an overflowing sum in double).
    double *nearest_pick = scratch + n;
    for (std::size_t i = 0; i < n; i++) {
        relevance[i] = operator_distance(metric, query, candidates[i], dims);
        nearest_pick[i] = kInf;
    }
    const std::size_t want = k < n ? k : n;
    std::size_t picked = 0;
    while (picked < want) {
        if (cancelled != nullptr && cancelled())
            return picked;
        std::size_t best = n;
        double best_score = -kInf;
        for (std::size_t i = 0; i < n; i++) {
            if (nearest_pick[i] == -kInf || std::isnan(relevance[i]))
                continue;
            // Before the first pick only relevance counts (nothing to be
            // similar to yet).  A NaN distance to a pick (never between
            // two finite non-zero vectors) counts as no similarity.
            double score = -lambda * relevance[i];
            if (picked > 0 && lambda < 1.0 && !std::isnan(nearest_pick[i]))
                score += (1.0 - lambda) * nearest_pick[i];
            if (best == n || score > best_score) {
                best = i;
                best_score = score;
            }
        }
        if (best == n)
            break;  // only NaN candidates are left
        order[picked++] = static_cast<std::uint32_t>(best);
        nearest_pick[best] = -kInf;
        for (std::size_t i = 0; i < n && picked < want; i++) {
            if (nearest_pick[i] == -kInf || std::isnan(relevance[i]))
                continue;
            const double d = operator_distance(metric, candidates[i], candidates[best], dims);
            if (d < nearest_pick[i])
                nearest_pick[i] = d;
        }
    }
    for (std::size_t i = 0; i < n && picked < want; i++)
        if (std::isnan(relevance[i]))
            order[picked++] = static_cast<std::uint32_t>(i);
    return picked;
}

}  // namespace vecdb
