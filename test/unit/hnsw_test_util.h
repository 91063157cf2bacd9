/*
 * hnsw_test_util.h -- what the hnsw_*_test.cpp files share: deterministic
 * synthetic data (splitmix64 + Box-Muller, written out so every platform
 * draws the same numbers), a MemoryGraph that owns its block, a searcher
 * with its own scratch, recall against brute force, and graphs built once
 * per test binary and shared (building is the slow part of these tests).
 */
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "../../src/core/graph/hnsw.h"
#include "../../src/core/graph/hnsw_reference.h"
#include "../../src/core/simd/distance.h"

namespace vecdb::hnsw::testing {

/// n vectors of dims floats, row-major.
struct Dataset {
    std::uint32_t n = 0;
    std::uint32_t dims = 0;
    std::vector<float> data;

    const float *row(std::size_t i) const { return data.data() + i * dims; }
};

/// Standard normal deviates by Box-Muller over splitmix64.
struct Gaussian {
    SplitMix64 rng;
    bool has_spare = false;
    double spare = 0.0;

    explicit Gaussian(std::uint64_t seed) : rng{seed} {}

    double next()
    {
        if (has_spare) {
            has_spare = false;
            return spare;
        }
        const double u1 = rng.uniform(), u2 = rng.uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double theta = 6.283185307179586 * u2;
        spare = r * std::sin(theta);
        has_spare = true;
        return r * std::cos(theta);
    }
};

/// Gaussian blobs: `clusters` centres drawn N(0, 1) per dimension (fixed by
/// centre_seed), each point a uniformly chosen centre plus N(0, s_j^2) noise
/// in dimension j, s_j = spread * decay^j (decay < 1 concentrates the
/// variance in the first dimensions, as in real embeddings; 1 is isotropic,
/// the hardest case).  Queries drawn with another point_seed come from the
/// same distribution.
inline Dataset clustered(std::uint32_t n, std::uint32_t dims, std::uint32_t clusters, std::uint64_t centre_seed,
                         std::uint64_t point_seed, double spread = 0.5, double decay = 1.0)
{
    Gaussian centre_rng(centre_seed);
    std::vector<double> centres(std::size_t(clusters) * dims);
    for (double &c : centres)
        c = centre_rng.next();
    Gaussian g(point_seed);
    SplitMix64 pick{point_seed ^ 0xC1u};
    Dataset d;
    d.n = n;
    d.dims = dims;
    d.data.resize(std::size_t(n) * dims);
    for (std::uint32_t i = 0; i < n; i++) {
        const std::size_t c = pick.next() % clusters;
        for (std::uint32_t j = 0; j < dims; j++) {
            const double scale = spread * std::pow(decay, j);
            d.data[std::size_t(i) * dims + j] = static_cast<float>(centres[c * dims + j] + scale * g.next());
        }
    }
    return d;
}

/// Uniform in [-1, 1]^dims.
inline Dataset uniform(std::uint32_t n, std::uint32_t dims, std::uint64_t seed)
{
    SplitMix64 rng{seed};
    Dataset d;
    d.n = n;
    d.dims = dims;
    d.data.resize(std::size_t(n) * dims);
    for (float &x : d.data)
        x = static_cast<float>(2.0 * rng.uniform() - 1.0);
    return d;
}

inline void normalize(Dataset &d)
{
    for (std::uint32_t i = 0; i < d.n; i++) {
        float *r = d.data.data() + std::size_t(i) * d.dims;
        double s = 0;
        for (std::uint32_t j = 0; j < d.dims; j++)
            s += double(r[j]) * r[j];
        const double inv = 1.0 / std::sqrt(s);
        for (std::uint32_t j = 0; j < d.dims; j++)
            r[j] = static_cast<float>(r[j] * inv);
    }
}

/// A MemoryGraph with its block.
struct OwnedGraph {
    std::unique_ptr<char[]> memory;
    std::size_t bytes = 0;
    MemoryGraph graph;

    OwnedGraph(std::uint32_t capacity, std::uint32_t dims, Metric metric, const Params &params,
               VectorForm form = VectorForm::Floats)
    {
        bytes = MemoryGraph::bytes_needed(capacity, dims, params);
        memory.reset(new char[bytes]);
        graph.init(memory.get(), bytes, capacity, dims, metric, params, form);
    }
};

inline std::unique_ptr<OwnedGraph> make_graph(const Dataset &d, Metric metric, const Params &params,
                                              unsigned threads = 1, bool build_now = true)
{
    auto g = std::make_unique<OwnedGraph>(d.n, d.dims, metric, params);
    for (std::uint32_t i = 0; i < d.n; i++)
        g->graph.add(d.row(i));
    if (build_now) {
        BuildOptions options;
        options.threads = threads;
        build(g->graph, options);
    }
    return g;
}

/// Search scratch sized for one graph.
struct Searcher {
    const MemoryGraph *graph;
    std::vector<char> memory;
    EpochVisitedSet visited;
    SearchScratch<std::uint32_t> scratch;
    std::vector<float> query;

    explicit Searcher(const MemoryGraph &g, std::size_t max_ef = 512) : graph(&g), query(g.dims())
    {
        const std::size_t vbytes = EpochVisitedSet::bytes(g.capacity());
        memory.resize(vbytes + SearchScratch<std::uint32_t>::bytes(max_ef, g.max_links(0)));
        visited.init(memory.data(), g.capacity());
        scratch.init(memory.data() + vbytes, max_ef, g.max_links(0));
    }

    /// The prepared form of q (normalized for cosine), valid until the next call.
    const float *prepare(const float *q)
    {
        graph->prepare_query(q, query.data());
        return query.data();
    }

    std::vector<ScoredId<std::uint32_t>> knn(const float *q, std::size_t k, std::size_t ef, SearchStats *stats = nullptr)
    {
        SearchStats local;
        const std::uint32_t n = search(*graph, prepare(q), std::max(ef, k), visited, scratch, stats ? *stats : local);
        return std::vector<ScoredId<std::uint32_t>>(scratch.results, scratch.results + std::min<std::size_t>(n, k));
    }
};

/// |found ∩ truth| / |truth|.
inline double overlap(const std::vector<ScoredId<std::uint32_t>> &found, const std::vector<ScoredId<std::uint32_t>> &truth)
{
    std::set<std::uint32_t> t;
    for (const auto &x : truth)
        t.insert(x.id);
    std::size_t hit = 0;
    for (const auto &x : found)
        hit += t.count(x.id);
    return truth.empty() ? 1.0 : double(hit) / truth.size();
}

/// Mean recall@k of the graph at ef over the queries.
inline double recall(const MemoryGraph &g, const Dataset &queries, std::size_t k, std::size_t ef)
{
    Searcher s(g);
    double sum = 0;
    for (std::uint32_t i = 0; i < queries.n; i++) {
        auto found = s.knn(queries.row(i), k, ef);
        auto truth = brute_force_knn(g, s.query.data(), k);
        sum += overlap(found, truth);
    }
    return sum / queries.n;
}

// --- the shared data and graphs ------------------------------------------------

inline constexpr std::uint32_t kPoints = 10000;
inline constexpr std::uint32_t kDims = 64;
inline constexpr std::uint32_t kClusters = 20;
inline constexpr std::uint32_t kQueries = 200;
inline constexpr std::uint64_t kCentreSeed = 11;

inline const Dataset &clustered_points()
{
    static const Dataset d = clustered(kPoints, kDims, kClusters, kCentreSeed, 101);
    return d;
}
inline const Dataset &clustered_queries()
{
    static const Dataset d = clustered(kQueries, kDims, kClusters, kCentreSeed, 202);
    return d;
}
inline const Dataset &normalized_points()
{
    static const Dataset d = [] {
        Dataset x = clustered_points();
        normalize(x);
        return x;
    }();
    return d;
}
inline const Dataset &normalized_queries()
{
    static const Dataset d = [] {
        Dataset x = clustered_queries();
        normalize(x);
        return x;
    }();
    return d;
}

/// The graph over clustered_points() (normalized_points() for inner
/// product) with default Params, built once per binary per (metric, threads).
inline const MemoryGraph &shared_graph(Metric metric, unsigned threads = 1)
{
    static std::map<std::pair<int, unsigned>, std::unique_ptr<OwnedGraph>> cache;
    auto key = std::make_pair(static_cast<int>(metric), threads);
    auto it = cache.find(key);
    if (it == cache.end()) {
        init_distance_kernels();
        const Dataset &d = metric == Metric::InnerProduct ? normalized_points() : clustered_points();
        it = cache.emplace(key, make_graph(d, metric, Params{}, threads)).first;
    }
    return it->second->graph;
}

inline const Dataset &queries_for(Metric metric)
{
    return metric == Metric::InnerProduct ? normalized_queries() : clustered_queries();
}

/// The first difference between two graphs' levels, entry points and
/// lists (in list order), or "" if they are the same.
inline std::string first_difference(const MemoryGraph &a, const MemoryGraph &b)
{
    if (a.inserted() != b.inserted() || a.entry_point() != b.entry_point() || a.max_level() != b.max_level())
        return "shape or entry point";
    for (std::uint32_t u = 0; u < a.inserted(); u++) {
        if (a.level(u) != b.level(u))
            return "level of node " + std::to_string(u);
        for (int lc = 0; lc <= a.level(u); lc++) {
            const std::uint32_t *x = a.links(u, lc), *y = b.links(u, lc);
            for (std::uint32_t i = 0; i <= x[0]; i++)
                if (x[i] != y[i])
                    return "node " + std::to_string(u) + " layer " + std::to_string(lc) + " entry " + std::to_string(i);
        }
    }
    return "";
}

/// The first violation of the graph's invariants among the inserted nodes,
/// or "" if none: list counts within Mmax(lc), no self-links, no duplicate
/// links, links only to inserted, not removed nodes whose level is >= lc;
/// the entry point on the top level, which no node exceeds.
inline std::string check_structure(const MemoryGraph &g)
{
    int top = -1;
    for (std::uint32_t u = 0; u < g.inserted(); u++) {
        if (g.is_removed(u)) {
            for (int lc = 0; lc <= g.level(u); lc++)
                if (g.links(u, lc)[0] != 0)
                    return "removed node " + std::to_string(u) + " keeps links";
            continue;
        }
        top = std::max(top, g.level(u));
        for (int lc = 0; lc <= g.level(u); lc++) {
            const std::uint32_t *l = g.links(u, lc);
            const std::string where = "node " + std::to_string(u) + " layer " + std::to_string(lc);
            if (l[0] > g.max_links(lc))
                return where + ": " + std::to_string(l[0]) + " links > Mmax";
            std::set<std::uint32_t> seen;
            for (std::uint32_t i = 0; i < l[0]; i++) {
                const std::uint32_t x = l[1 + i];
                if (x == u)
                    return where + ": links to itself";
                if (x >= g.inserted())
                    return where + ": links to uninserted " + std::to_string(x);
                if (g.is_removed(x))
                    return where + ": links to removed " + std::to_string(x);
                if (g.level(x) < lc)
                    return where + ": links to " + std::to_string(x) + " of lower level";
                if (!seen.insert(x).second)
                    return where + ": duplicate link " + std::to_string(x);
            }
        }
    }
    if (g.inserted() > 0 && top >= 0) {
        if (g.entry_point() == MemoryGraph::kNone)
            return "no entry point";
        if (g.level(g.entry_point()) != top || g.max_level() != top)
            return "entry point level " + std::to_string(g.level(g.entry_point())) + ", max_level " +
                   std::to_string(g.max_level()) + ", top level " + std::to_string(top);
        if (g.is_deleted(g.entry_point()) && g.is_removed(g.entry_point()))
            return "entry point removed";
    }
    return "";
}

/// Nodes reachable on layer 0 from `start`.
inline std::set<std::uint32_t> layer0_reachable(const MemoryGraph &g, std::uint32_t start)
{
    std::set<std::uint32_t> seen{start};
    std::vector<std::uint32_t> stack{start};
    while (!stack.empty()) {
        const std::uint32_t u = stack.back();
        stack.pop_back();
        const std::uint32_t *l = g.links(u, 0);
        for (std::uint32_t i = 0; i < l[0]; i++)
            if (seen.insert(l[1 + i]).second)
                stack.push_back(l[1 + i]);
    }
    return seen;
}

/// A 6-byte id shaped like PostgreSQL's ItemPointerData (block number in
/// two 16-bit halves, then the line pointer offset), ordered by (block,
/// offset) as PostgreSQL orders item pointers.
struct Tid {
    std::uint16_t block_hi, block_lo, offset;

    std::uint32_t block() const { return (std::uint32_t(block_hi) << 16) | block_lo; }
    bool operator==(const Tid &o) const { return block_hi == o.block_hi && block_lo == o.block_lo && offset == o.offset; }
    bool operator<(const Tid &o) const
    {
        return block() < o.block() || (block() == o.block() && offset < o.offset);
    }
};
static_assert(sizeof(Tid) == 6, "like ItemPointerData");

/// A reader over a MemoryGraph that names node u by the Tid (block u / 7 +
/// 70000, offset u % 7 + 1): what a reader over index pages will look like.
/// The mapping preserves order, so searches through it visit exactly what
/// the dense reader visits.
struct TidReader {
    using Id = Tid;
    static constexpr std::uint32_t kPerBlock = 7;

    MemoryReader<false> inner;
    std::vector<std::uint32_t> ids;  // scratch for translating lists

    TidReader(const MemoryGraph &g, const float *q) : inner(g, q), ids(g.max_links(0)) {}

    static Tid to_tid(std::uint32_t u)
    {
        const std::uint32_t block = u / kPerBlock + 70000;
        return Tid{std::uint16_t(block >> 16), std::uint16_t(block & 0xFFFF), std::uint16_t(u % kPerBlock + 1)};
    }
    static std::uint32_t to_node(const Tid &t) { return (t.block() - 70000) * kPerBlock + (t.offset - 1); }

    std::size_t max_degree() const { return inner.max_degree(); }
    std::size_t neighbors(Tid id, int lc, Tid *out)
    {
        const std::size_t n = inner.neighbors(to_node(id), lc, ids.data());
        for (std::size_t i = 0; i < n; i++)
            out[i] = to_tid(ids[i]);
        return n;
    }
    float distance(Tid id) const { return inner.distance(to_node(id)); }
    void distances(const Tid *t, std::size_t n, float *out) const
    {
        for (std::size_t i = 0; i < n; i++)
            out[i] = inner.distance(to_node(t[i]));
    }
    bool is_result(Tid id) const { return inner.is_result(to_node(id)); }
};

}  // namespace vecdb::hnsw::testing
