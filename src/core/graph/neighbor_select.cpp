/*
 * neighbor_select.cpp -- Algorithms 3 and 4 (neighbor_select.h) over a
 * MemoryGraph's fp32 vectors: what the build's INSERT and the deletion
 * repair call.
 */
#include "neighbor_select.h"

#include "hnsw.h"

#include "../metric.h"
#include "../sparse_slots.h"

#include "../core_only.h"

namespace vecdb::hnsw {

namespace {

/// Sparse forms under inner product or cosine: Algorithm 4 scores each
/// candidate against the neighbours kept so far, so the candidate (the
/// first of each pair) is spread over the dense array once and each pair
/// costs a gather, not a merge (on SPLADE-like rows the merges were 70% of
/// a build).  The values are bitwise the merges' (SparseScatter).
struct ScatterDistance {
    const MemoryGraph &graph;
    SparseScatter &scatter;
    SparseQueryScore score{&scatter, SparseView{nullptr, nullptr, 0}, 0.0f, Metric::InnerProduct};
    std::uint32_t loaded = MemoryGraph::kNone;

    float operator()(std::uint32_t a, std::uint32_t b)
    {
        if (a == b)
            return graph.distance(a, b);
        if (a != loaded) {
            const SparseView va = sparse_view(graph.vector(a));
            scatter.load(va);
            score = SparseQueryScore{&scatter, va, graph.metric() == Metric::Cosine ? sparse_squares_float(va) : 0.0f,
                                     graph.metric()};
            loaded = a;
        }
        return score(graph.vector(b));
    }
};

}  // namespace

std::size_t select_neighbors(const MemoryGraph &graph, const ScoredId<std::uint32_t> *candidates, std::size_t n,
                             std::size_t m, ScoredId<std::uint32_t> *out, ScoredId<std::uint32_t> *pruned,
                             SparseScatter *scatter, bool *kept)
{
    if (!graph.params().heuristic)
        return select_neighbors_simple(candidates, n, m, out);
    if (scatter != nullptr && scatters(graph.metric(), graph.metric_distance())) {
        ScatterDistance distance{graph, *scatter};
        return select_neighbors_heuristic(candidates, n, m, distance, graph.params().keep_pruned, out, pruned, kept);
    }
    const MetricDistance &distance = graph.metric_distance();
    return select_neighbors_heuristic(
        candidates, n, m,
        [&](std::uint32_t a, std::uint32_t b) { return distance(graph.vector(a), graph.vector(b)); },
        graph.params().keep_pruned, out, pruned, kept);
}

}  // namespace vecdb::hnsw
