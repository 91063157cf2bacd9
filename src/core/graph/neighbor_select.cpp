/*
 * neighbor_select.cpp -- Algorithms 3 and 4 (neighbor_select.h) over a
 * MemoryGraph's fp32 vectors: what the build's INSERT and the deletion
 * repair call.
 */
#include "neighbor_select.h"

#include "hnsw.h"

#include "../core_only.h"

namespace vecdb::hnsw {

std::size_t select_neighbors(const MemoryGraph &graph, const ScoredId<std::uint32_t> *candidates, std::size_t n,
                             std::size_t m, ScoredId<std::uint32_t> *out, ScoredId<std::uint32_t> *pruned)
{
    if (!graph.params().heuristic)
        return select_neighbors_simple(candidates, n, m, out);
    const MetricDistance &distance = graph.metric_distance();
    return select_neighbors_heuristic(
        candidates, n, m,
        [&](std::uint32_t a, std::uint32_t b) { return distance(graph.vector(a), graph.vector(b)); },
        graph.params().keep_pruned, out, pruned);
}

}  // namespace vecdb::hnsw
