/*
 * hnsw_reference.h -- slow, obviously correct versions of the graph search,
 * for tests: the fast loop in hnsw_search.h must match them exactly.
 *
 *   reference_search_layer()  Algorithm 2 line by line, on
 *                             std::priority_queue and std::set, one distance
 *                             call per node, unbounded C
 *   brute_force_knn()         exact k nearest by scoring every node
 *
 * reference_search_layer() follows the same conventions as search_layer()
 * (the (distance, id) total order; non-result nodes in C but not in W; stop
 * on "c farther than f" only when |W| = ef), so the two agree on the result
 * ids, the number of nodes expanded and the number of distances computed --
 * unless the fast loop reports candidates_dropped > 0.
 */
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <queue>
#include <set>
#include <vector>

#include "hnsw.h"

namespace vecdb::hnsw {

/// reference_search_layer() -- SEARCH-LAYER(q, ep, ef, lc) over any graph
/// reader.  Returns W nearest first; adds to *stats.
template <class Reader, class Id = typename Reader::Id>
std::vector<ScoredId<Id>> reference_search_layer(Reader &reader, const std::vector<ScoredId<Id>> &ep, std::size_t ef,
                                                 int lc, SearchStats &stats)
{
    using S = ScoredId<Id>;
    auto nearer = [](const S &a, const S &b) { return closer(a, b); };
    auto farther = [](const S &a, const S &b) { return closer(b, a); };
    std::priority_queue<S, std::vector<S>, decltype(farther)> C(farther);  // top: nearest
    std::priority_queue<S, std::vector<S>, decltype(nearer)> W(nearer);    // top: furthest
    std::set<Id> v;

    if (ef < 1)
        ef = 1;
    for (const S &e : ep) {  // v ← ep; C ← ep; W ← ep
        if (!v.insert(e.id).second)
            continue;
        C.push(e);
        if (reader.is_result(e.id)) {
            W.push(e);
            if (W.size() > ef)
                W.pop();
        }
    }
    std::vector<Id> neighbourhood(reader.max_degree());
    while (!C.empty()) {
        S c = C.top();  // nearest element from C to q
        if (W.size() >= ef && closer(W.top(), c))
            break;  // distance(c, q) > distance(f, q): all elements in W are evaluated
        C.pop();
        stats.hops++;
        std::size_t n = reader.neighbors(c.id, lc, neighbourhood.data());
        for (std::size_t i = 0; i < n; i++) {
            Id id = neighbourhood[i];
            if (!v.insert(id).second)  // e ∉ v
                continue;
            S e{reader.distance(id), id};
            stats.distance_computations++;
            if (W.size() < ef || closer(e, W.top())) {
                C.push(e);
                if (reader.is_result(e.id)) {
                    W.push(e);
                    if (W.size() > ef)
                        W.pop();  // remove furthest element from W to q
                }
            }
        }
    }
    std::vector<S> out;
    for (; !W.empty(); W.pop())
        out.push_back(W.top());
    std::reverse(out.begin(), out.end());
    return out;
}

/// brute_force_knn() -- the exact k nearest live (not deleted) nodes of
/// graph among 0 .. inserted()-1 to prepared_query for which accept(id) is
/// true, nearest first.
template <class Accept>
std::vector<ScoredId<std::uint32_t>> brute_force_knn(const MemoryGraph &graph, const float *prepared_query,
                                                     std::size_t k, Accept accept)
{
    std::vector<ScoredId<std::uint32_t>> all;
    for (std::uint32_t id = 0; id < graph.inserted(); id++)
        if (!graph.is_deleted(id) && accept(id))
            all.push_back({graph.distance(prepared_query, graph.vector(id)), id});
    const std::size_t n = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + n, all.end(),
                      [](const ScoredId<std::uint32_t> &a, const ScoredId<std::uint32_t> &b) { return closer(a, b); });
    all.resize(n);
    return all;
}

inline std::vector<ScoredId<std::uint32_t>> brute_force_knn(const MemoryGraph &graph, const float *prepared_query,
                                                            std::size_t k)
{
    return brute_force_knn(graph, prepared_query, k, [](std::uint32_t) { return true; });
}

}  // namespace vecdb::hnsw
