/*
 * neighbor_select.cpp -- Algorithms 3 and 4 (neighbor_select.h) over a
 * MemoryGraph's fp32 vectors: what the build's INSERT and the deletion
 * repair call.
 */
#include "neighbor_select.h"

#include <cstdlib>

#include "hnsw.h"

#include "../metric.h"
#include "../sparse_slots.h"

#include "../core_only.h"

namespace vecdb::hnsw {

namespace {

/// Sparse forms under inner product or cosine: Algorithm 4 scores each
/// candidate against the neighbours kept so far, so the candidate is
/// spread over a dense array once and each pair costs a gather, not a
/// merge (on SPLADE-like rows the merges were 70% of a build).  The values
/// are bitwise the merges' (SparseScatter).  Indices wider than
/// kMaxScatterWidth, or no memory for the array: the merges.

/// Scatters the first node of each pair (the candidate, in Algorithm 4's
/// inner loop) once, and scores the second by a gather.
struct ScatterDistance {
    const MemoryGraph &graph;
    SparseScatter scatter;
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

/// The width a scatter of the candidates needs (their largest index + 1),
/// or 0 where none applies.
std::size_t candidates_width(const MemoryGraph &graph, const ScoredId<std::uint32_t> *candidates, std::size_t n)
{
    if (!scatters(graph.metric(), graph.metric_distance()))
        return 0;
    std::size_t width = 0;
    for (std::size_t i = 0; i < n; i++) {
        const SparseView v = sparse_view(graph.vector(candidates[i].id));
        if (v.nnz > 0 && std::size_t(v.indices[v.nnz - 1]) + 1 > width)
            width = std::size_t(v.indices[v.nnz - 1]) + 1;
    }
    return width <= kMaxScatterWidth ? width : 0;
}

}  // namespace

std::size_t select_neighbors(const MemoryGraph &graph, const ScoredId<std::uint32_t> *candidates, std::size_t n,
                             std::size_t m, ScoredId<std::uint32_t> *out, ScoredId<std::uint32_t> *pruned)
{
    if (!graph.params().heuristic)
        return select_neighbors_simple(candidates, n, m, out);
    if (const std::size_t width = candidates_width(graph, candidates, n); width > 0) {
        /* calloc: no exception can leave a build thread; null falls back */
        if (auto *dense = static_cast<float *>(std::calloc(width, sizeof(float))); dense != nullptr) {
            ScatterDistance distance{graph, SparseScatter(dense, width)};
            const std::size_t count = select_neighbors_heuristic(candidates, n, m, distance,
                                                                 graph.params().keep_pruned, out, pruned);
            std::free(dense);
            return count;
        }
    }
    const MetricDistance &distance = graph.metric_distance();
    return select_neighbors_heuristic(
        candidates, n, m,
        [&](std::uint32_t a, std::uint32_t b) { return distance(graph.vector(a), graph.vector(b)); },
        graph.params().keep_pruned, out, pruned);
}

}  // namespace vecdb::hnsw
