/*
 * neighbor_select.h -- choosing a node's neighbours from a candidate list:
 * Algorithm 3 (SELECT-NEIGHBORS-SIMPLE) and Algorithm 4
 * (SELECT-NEIGHBORS-HEURISTIC) of Malkov & Yashunin 2018.
 *
 * Templates over the id type and a pair-distance function, so the build
 * (fp32 vectors in memory), VACUUM's repair and later inserts through pages
 * (codes) share them.  Candidates come sorted nearest first (W as
 * search_layer() leaves it), with their distances to the base node q.
 *
 * Algorithm 4 is implemented without extendCandidates (the paper recommends
 * it only for extremely clustered data; hnswlib and pgvector omit it too).
 */
#pragma once

#include <algorithm>
#include <cstddef>

#include "scored_heap.h"

namespace vecdb::hnsw {

/// select_neighbors_simple() -- Algorithm 3: the M nearest of C.
/// C[0 .. n) sorted nearest first; writes R[0 .. min(n, M)).
template <class Id>
std::size_t select_neighbors_simple(const ScoredId<Id> *C, std::size_t n, std::size_t M, ScoredId<Id> *R)
{
    std::size_t count = n < M ? n : M;
    for (std::size_t i = 0; i < count; i++)
        R[i] = C[i];
    return count;
}

/// select_neighbors_heuristic() -- Algorithm 4: takes candidates e nearest
/// first and keeps e only if it is closer to q than to every neighbour
/// already kept (distance(e, q) < distance(e, r) for all r in R), so the
/// kept neighbours point in different directions.  With keep_pruned
/// (keepPrunedConnections) the discarded ones then fill R up to M, nearest
/// first -- except copies of a kept neighbour (as near to r as r and e are
/// to themselves: distance(e, r) <= min(distance(r, r), distance(e, e))),
/// which would spend a link on nothing new (GloVe-100 index, 5% of the rows
/// inserted again as copies: recall@10 0.943 refilling copies, 0.981 not).
/// Both self-distances are needed for inner product, where distance(x, x)
/// = -|x|^2 is not a minimum: by Cauchy-Schwarz only e = r meets both, while
/// the test against r alone caught every longer e pointing along r.
///
/// C[0 .. n) sorted nearest first, distances to q.  pair_distance(a, b)
/// gives the distance between two candidate ids.  R: M entries, must not
/// alias C.  Wd: n entries of scratch when keep_pruned (else may be null).
/// Returns |R|; R is nearest first among the kept, then the refilled.
/// kept (or null): M entries, set to whether R[i] passed the test (true
/// for the first ones, false for the refilled).
template <class Id, class PairDistance>
std::size_t select_neighbors_heuristic(const ScoredId<Id> *C, std::size_t n, std::size_t M,
                                       PairDistance &&pair_distance, bool keep_pruned, ScoredId<Id> *R,
                                       ScoredId<Id> *Wd, bool *kept = nullptr)
{
    std::size_t r = 0;
    std::size_t discarded = 0;
    for (std::size_t i = 0; i < n && r < M; i++) {
        // e ← extract nearest element from W to q
        const ScoredId<Id> e = C[i];
        bool good = true, copy = false;
        for (std::size_t j = 0; j < r; j++) {
            const auto d = pair_distance(e.id, R[j].id);
            if (!(e.distance < d)) {
                good = false;
                copy = keep_pruned && !(d > pair_distance(R[j].id, R[j].id)) &&
                       !(d > pair_distance(e.id, e.id));
                break;
            }
        }
        if (good)
            R[r++] = e;  // R ← R ∪ e
        else if (keep_pruned && !copy)
            Wd[discarded++] = e;  // Wd ← Wd ∪ e
    }
    // Candidates never reached (R filled first) are not needed: |R| = M.
    if (kept != nullptr)
        std::fill(kept, kept + r, true);
    for (std::size_t i = 0; keep_pruned && i < discarded && r < M; i++) {
        if (kept != nullptr)
            kept[r] = false;
        R[r++] = Wd[i];
    }
    return r;
}

}  // namespace vecdb::hnsw
