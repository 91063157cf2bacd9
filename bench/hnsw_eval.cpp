/*
 * hnsw_eval.cpp -- HNSW search over quantized codes, plus exact re-rank.
 *
 * The design question for the PostgreSQL HNSW index: if the graph walk
 * scores nodes with a quantizer's asymmetric estimate (DistanceComputer::
 * distance after set_query) instead of fp32 vectors, and the best
 * candidates are then re-ranked by exact fp32 distance, what recall@10 do
 * we get, and how many exact distances (heap fetches, in PostgreSQL) does
 * recall@10 >= 0.95 / 0.99 take?
 *
 * What it does:
 *   1. Builds one HNSW graph (M 16, ef_construction 64) with fp32
 *      distances (hnsw::build, --threads threads) and reports build time.
 *   2. Exact brute force (the SQL operator's distance, as quant_eval) gives
 *      each query's true 10th distance; recall is tie-aware: a returned id
 *      counts when its exact distance is <= that.
 *   3. For each code in {fp32, SQ8, E8 residual 4-bit, E8P 2-bit, H4 600-cell,
 *      binary} and each ef in {20, 40, 80, 160, 320}: knn_search(ef) over
 *      the fp32-built graph with a reader whose distance() is the code's
 *      estimate; the ef results (ordered by code distance) are re-ranked
 *      by exact distance.  Reported per query: recall@10 without re-rank
 *      (the first 10 by code distance), recall@10 after re-rank, code
 *      distances computed, exact distances computed (= results re-ranked),
 *      and single-thread QPS (set_query + search + re-rank; best of 3 passes).  For fp32 the
 *      search distance is already exact and nothing is re-ranked.
 *   4. "Re-rank depth" table: the ef 320 search, re-ranking only the first
 *      R in {10, 20, 40, 80, 160} results by code distance.  This separates
 *      how wide the graph walk must be from how many exact distances
 *      are needed.
 *   5. Bound-guided re-rank (VectorChord style) for E8P and SQ8: the ef
 *      results are visited in lower_bound() order and re-ranked until the
 *      next lower bound exceeds the 10th exact distance found so far
 *      (exact within the candidate set; the graph walk is still approximate).
 *      Reports exact distances per query and recall.
 *   6. With --decoded-build: a second graph built from the E8P-decoded
 *      vectors (what a build that only keeps codes would produce), searched
 *      with the E8P reader and re-ranked, for comparison with step 3's E8P.
 *
 * Input: plain TEXMEX .fvecs; gzipped files must be decompressed first.
 * Build (after `make`, which compiles the core objects):
 *   g++ -std=c++17 -O3 -pthread -o /tmp/hnsw_eval bench/hnsw_eval.cpp \
 *       $(ls src/core/?*.o src/core/graph/?*.o src/core/quant/?*.o src/core/simd/?*.o)
 * Run:
 *   /tmp/hnsw_eval --metric l2 /work/shared/data/siftsmall/siftsmall_base.fvecs \
 *       /work/shared/data/siftsmall/siftsmall_query.fvecs
 *   zcat /work/shared/data/glove-100-angular/glove-100_base.fvecs.gz > /tmp/vecdb_glove_base.fvecs
 *   zcat /work/shared/data/glove-100-angular/glove-100_query.fvecs.gz > /tmp/vecdb_glove_query.fvecs
 *   /tmp/hnsw_eval --metric cosine --queries 1000 /tmp/vecdb_glove_base.fvecs /tmp/vecdb_glove_query.fvecs
 * Options: --metric l2|cosine, --base N, --queries N (default 100), --threads T
 * (build and brute force; default 2), --seed S (quantizer rotations),
 * --decoded-build.
 */
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../src/core/graph/hnsw.h"
#include "../src/core/quant/binary.h"
#include "../src/core/quant/e8.h"
#include "../src/core/quant/h4.h"
#include "../src/core/quant/quantizer.h"
#include "../src/core/quant/sq8.h"
#include "../src/core/simd/distance.h"
#include "eval_util.h"

namespace {

using namespace vecdb;
using namespace vecdb::eval;

constexpr std::size_t kK = 10;
constexpr std::size_t kEfs[] = {20, 40, 80, 160, 320};
constexpr std::size_t kMaxEf = 320;
constexpr std::size_t kDepths[] = {10, 20, 40, 80, 160};
constexpr int kReps = 3;  // QPS: best of this many passes over the queries

/// A graph reader over a MemoryGraph's links and a code array: the walk
/// scores nodes with the code's asymmetric estimate.
class CodeReader {
public:
    using Id = std::uint32_t;

    CodeReader(const hnsw::MemoryGraph &g, const std::uint8_t *codes, std::size_t size, const DistanceComputer *dc)
        : g_(&g), codes_(codes), size_(size), dc_(dc)
    {
    }

    std::size_t max_degree() const { return g_->max_links(0); }
    std::size_t neighbors(Id id, int lc, Id *out) const
    {
        const std::uint32_t *l = g_->links(id, lc);
        std::memcpy(out, l + 1, l[0] * sizeof(Id));
        return l[0];
    }
    float distance(Id id) const { return dc_->distance(code(id)); }
    void distances(const Id *ids, std::size_t n, float *out) const
    {
        std::size_t j = 0;
        for (std::size_t i = 0; i < n; i++)
            __builtin_prefetch(code(ids[i]));
        for (; j + 4 <= n; j += 4) {
            const std::uint8_t *c[4] = {code(ids[j]), code(ids[j + 1]), code(ids[j + 2]), code(ids[j + 3])};
            dc_->distance_batch4(c, out + j);
        }
        for (; j < n; j++)
            out[j] = dc_->distance(code(ids[j]));
    }
    bool is_result(Id) const { return true; }
    const std::uint8_t *code(Id id) const { return codes_ + std::size_t(id) * size_; }

private:
    const hnsw::MemoryGraph *g_;
    const std::uint8_t *codes_;
    std::size_t size_;
    const DistanceComputer *dc_;
};

struct Code {
    const char *name;
    std::shared_ptr<void> owner;  // the concrete quantizer (the interface has no public destructor)
    Quantizer *quantizer;         // null: fp32
    std::shared_ptr<std::vector<float>> ranges;  // SQ8's caller memory
    bool bound_guided;

    template <typename Q, typename... Args>
    static Code make(const char *name, bool bound_guided, Args &&...args)
    {
        auto q = std::make_shared<Q>(std::forward<Args>(args)...);
        return Code{name, q, q.get(), nullptr, bound_guided};
    }
};

struct GraphHolder {
    std::vector<std::uint64_t> memory;
    hnsw::MemoryGraph graph;
};

std::unique_ptr<GraphHolder> build_graph(const float *vectors, std::size_t n, std::size_t d, Metric metric,
                                         unsigned threads, double *build_seconds)
{
    auto h = std::make_unique<GraphHolder>();
    hnsw::Params params;
    params.M = 16;
    params.ef_construction = 64;
    const std::size_t bytes = hnsw::MemoryGraph::bytes_needed(std::uint32_t(n), std::uint32_t(d), params);
    h->memory.resize(bytes / 8 + 1);
    h->graph.init(h->memory.data(), h->memory.size() * 8, std::uint32_t(n), std::uint32_t(d), metric, params);
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; i++)
        h->graph.add(vectors + i * d);
    hnsw::BuildOptions opts;
    opts.threads = threads;
    hnsw::build(h->graph, opts);
    *build_seconds = seconds_since(t0);
    return h;
}

/// Per-query search state.
struct Searcher {
    std::vector<std::uint64_t> scratch_mem, visited_mem;
    hnsw::SearchScratch<std::uint32_t> s;
    hnsw::EpochVisitedSet visited;

    Searcher(std::size_t n, std::size_t degree)
    {
        scratch_mem.resize(hnsw::SearchScratch<std::uint32_t>::bytes(kMaxEf, degree) / 8 + 1);
        s.init(scratch_mem.data(), kMaxEf, degree);
        visited_mem.resize(hnsw::EpochVisitedSet::bytes(std::uint32_t(n)) / 8 + 1);
        visited.init(visited_mem.data(), std::uint32_t(n));
    }
};

}  // namespace

int main(int argc, char **argv)
{
    Options opt;
    opt.max_queries = 100;
    if (!parse_options(argc, argv, opt, {"--decoded-build"}))
        return 2;
    Dataset base, queries;
    load_inputs(opt, base, queries);
    const Metric metric = opt.metric;
    const unsigned threads = opt.threads;
    const std::uint64_t seed = opt.seed;
    const bool decoded_build = opt.has("--decoded-build");
    const std::size_t n = base.n, d = base.d, nq = queries.n;

    // 1. The fp32 graph.
    double build_s = 0;
    std::unique_ptr<GraphHolder> fp32 = build_graph(base.v.data(), n, d, metric, threads, &build_s);
    const hnsw::MemoryGraph &graph = fp32->graph;
    std::printf("fp32 graph: M 16, ef_construction 64, build %.2f s (%u threads), max level %d\n", build_s, threads,
                graph.max_level());

    // 2. Exact brute force: each query's true 10th distance.
    std::vector<double> kth(nq);
    auto t_bf = Clock::now();
    parallel_for(nq, threads, [&](std::size_t j) {
        std::vector<double> all(n);
        for (std::size_t i = 0; i < n; i++)
            all[i] = exact_distance(metric, &queries.v[j * d], &base.v[i * d], d);
        std::nth_element(all.begin(), all.begin() + (kK - 1), all.end());
        kth[j] = all[kK - 1];
    });
    std::printf("brute force %.2f s\n", seconds_since(t_bf));
    auto exact = [&](std::size_t j, std::uint32_t id) { return exact_distance(metric, &queries.v[j * d], &base.v[id * d], d); };
    // Tie-aware recall of the first min(k, m) ids.
    auto recall = [&](std::size_t j, const std::uint32_t *ids, std::size_t m) {
        std::size_t hits = 0;
        for (std::size_t t = 0; t < std::min(kK, m); t++)
            hits += exact(j, ids[t]) <= kth[j];
        return static_cast<double>(hits) / kK;
    };

    std::vector<Code> codes_list;
    codes_list.push_back(Code{"fp32", nullptr, nullptr, nullptr, false});
    {
        auto ranges = std::make_shared<std::vector<float>>(2 * d);
        Code sq8 = Code::make<SQ8Quantizer>("SQ8", true, d, metric, ranges->data());
        sq8.ranges = ranges;
        codes_list.push_back(sq8);
    }
    codes_list.push_back(Code::make<E8Quantizer>("E8 RVQ 4-bit", false, d, metric, seed, E8Quantizer::Mode::Residual4));
    codes_list.push_back(Code::make<E8Quantizer>("E8P 2-bit", true, d, metric, seed, E8Quantizer::Mode::E8P));
    codes_list.push_back(Code::make<H4Quantizer>("H4 600-cell", false, d, metric, seed));
    codes_list.push_back(Code::make<BinaryQuantizer>("Binary 1-bit", false, d, metric, seed));

    Searcher S(n, graph.max_links(0));
    std::vector<float> prepared(d);
    std::vector<std::uint32_t> ids(kMaxEf);
    std::vector<std::pair<double, std::uint32_t>> rr(kMaxEf);

    std::string main_table, depth_table, bound_table, decoded_table;
    char line[512];

    // Runs one (reader, ef) configuration over all queries.
    struct Row {
        double r_norr = 0, r_rr = 0, code_d = 0, exact_d = 0, qps = 0;
        double r_depth[std::size(kDepths)] = {};
        double bg_exact = 0, bg_recall = 0;
    };
    // search_fn(j, ef, stats) -> count, leaves s.results; exact_rerank: whether to re-rank.
    auto run = [&](auto &&search_fn, std::size_t ef, bool rerank, const DistanceComputer *dc_for_bounds,
                   const CodeReader *reader) {
        Row row;
        // Timing: the whole query set, search + re-rank only, best of kReps.
        double t_total = 1e300;
        for (int rep = 0; rep < kReps; rep++) {
            auto t0 = Clock::now();
            for (std::size_t j = 0; j < nq; j++) {
                hnsw::SearchStats stats;
                std::uint32_t m = search_fn(j, ef, stats);
                if (rerank) {
                    for (std::uint32_t i = 0; i < m; i++)
                        rr[i] = {exact(j, S.s.results[i].id), S.s.results[i].id};
                    std::partial_sort(rr.begin(), rr.begin() + std::min<std::size_t>(kK, m), rr.begin() + m);
                }
            }
            t_total = std::min(t_total, seconds_since(t0));
        }
        // Evaluation (untimed).
        for (std::size_t j = 0; j < nq; j++) {
            hnsw::SearchStats stats;
            std::uint32_t m = search_fn(j, ef, stats);
            std::size_t top = m;
            if (rerank) {
                for (std::uint32_t i = 0; i < m; i++)
                    rr[i] = {exact(j, S.s.results[i].id), S.s.results[i].id};
                top = std::min<std::size_t>(kK, m);
                std::partial_sort(rr.begin(), rr.begin() + top, rr.begin() + m);
            }
            for (std::uint32_t i = 0; i < m; i++)
                ids[i] = S.s.results[i].id;
            row.r_norr += recall(j, ids.data(), m);
            row.code_d += double(stats.distance_computations);
            if (rerank) {
                row.exact_d += m;
                for (std::size_t i = 0; i < top; i++)
                    ids[i] = rr[i].second;
                row.r_rr += recall(j, ids.data(), top);
            } else {
                row.r_rr += recall(j, ids.data(), m);
            }
            if (rerank && ef == kMaxEf) {
                // Re-rank depth: only the first R by code distance.
                for (std::size_t t = 0; t < std::size(kDepths); t++) {
                    const std::size_t R = std::min<std::size_t>(kDepths[t], m);
                    for (std::size_t i = 0; i < R; i++)
                        rr[i] = {exact(j, S.s.results[i].id), S.s.results[i].id};
                    const std::size_t tk = std::min(kK, R);
                    std::partial_sort(rr.begin(), rr.begin() + tk, rr.begin() + R);
                    for (std::size_t i = 0; i < tk; i++)
                        ids[i] = rr[i].second;
                    row.r_depth[t] += recall(j, ids.data(), tk);
                }
            }
            if (dc_for_bounds) {
                // Bound-guided: visit the candidates by lower bound, stop once
                // the next bound is above the 10th exact distance so far.
                std::vector<std::pair<float, std::uint32_t>> byb(m);
                for (std::uint32_t i = 0; i < m; i++)
                    byb[i] = {dc_for_bounds->lower_bound(reader->code(S.s.results[i].id)), S.s.results[i].id};
                std::sort(byb.begin(), byb.end());
                std::vector<std::pair<double, std::uint32_t>> best;  // ascending, at most k
                std::size_t visited = 0;
                for (auto &b : byb) {
                    if (best.size() == kK && double(b.first) > best.back().first)
                        break;
                    visited++;
                    std::pair<double, std::uint32_t> e{exact(j, b.second), b.second};
                    best.insert(std::upper_bound(best.begin(), best.end(), e), e);
                    if (best.size() > kK)
                        best.pop_back();
                }
                row.bg_exact += visited;
                for (std::size_t i = 0; i < best.size(); i++)
                    ids[i] = best[i].second;
                row.bg_recall += recall(j, ids.data(), best.size());
            }
        }
        row.r_norr /= nq;
        row.r_rr /= nq;
        row.code_d /= nq;
        row.exact_d /= nq;
        row.qps = nq / t_total;
        for (double &x : row.r_depth)
            x /= nq;
        row.bg_exact /= nq;
        row.bg_recall /= nq;
        return row;
    };

    std::vector<float> work;
    std::vector<std::uint8_t> e8p_codes;
    std::size_t e8p_size = 0;
    Quantizer *e8p_quant = nullptr;
    for (Code &c : codes_list) {
        if (!c.quantizer) {
            for (std::size_t ef : kEfs) {
                Row row = run(
                    [&](std::size_t j, std::size_t e, hnsw::SearchStats &st) {
                        graph.prepare_query(&queries.v[j * d], prepared.data());
                        return hnsw::search(graph, prepared.data(), e, S.visited, S.s, st);
                    },
                    ef, false, nullptr, nullptr);
                std::snprintf(line, sizeof line, "| %s | %zu | %.4f | %.4f | %.0f | %.0f | %.0f |\n", c.name, ef,
                              row.r_norr, row.r_rr, row.code_d, 0.0, row.qps);
                main_table += line;
            }
            continue;
        }
        Quantizer &quant = *c.quantizer;
        work.assign(quant.work_floats(), 0.0f);
        if (quant.needs_training())
            quant.train(n, base.v.data(), work.data());
        const std::size_t size = quant.code_size();
        std::vector<std::uint8_t> codes(n * size);
        for (std::size_t i = 0; i < n; i++)
            quant.encode(&base.v[i * d], &codes[i * size], work.data());
        std::vector<std::uint64_t> dc_mem(quant.distance_computer_bytes() / 8 + 1);
        DistanceComputer *dc = quant.distance_computer(dc_mem.data());
        CodeReader reader(graph, codes.data(), size, dc);
        for (std::size_t ef : kEfs) {
            Row row = run(
                [&](std::size_t j, std::size_t e, hnsw::SearchStats &st) {
                    dc->set_query(&queries.v[j * d]);
                    return hnsw::knn_search(reader, S.visited, S.s, graph.entry_point(), graph.max_level(), e, st);
                },
                ef, true, c.bound_guided ? dc : nullptr, &reader);
            std::snprintf(line, sizeof line, "| %s (%zu B) | %zu | %.4f | %.4f | %.0f | %.0f | %.0f |\n", c.name, size,
                          ef, row.r_norr, row.r_rr, row.code_d, row.exact_d, row.qps);
            main_table += line;
            if (ef == kMaxEf) {
                std::snprintf(line, sizeof line, "| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", c.name,
                              row.r_depth[0], row.r_depth[1], row.r_depth[2], row.r_depth[3], row.r_depth[4], row.r_rr);
                depth_table += line;
            }
            if (c.bound_guided) {
                std::snprintf(line, sizeof line, "| %s | %zu | %.4f | %.1f | %.0f | %.4f |\n", c.name, ef,
                              row.bg_recall, row.bg_exact, row.exact_d, row.r_rr);
                bound_table += line;
            }
        }
        std::fflush(stdout);
        if (std::strcmp(c.name, "E8P 2-bit") == 0) {
            e8p_codes = codes;
            e8p_size = size;
            e8p_quant = &quant;
        }
    }

    std::printf("\n## HNSW on codes (fp32-built graph), re-rank all ef candidates by exact distance\n\n");
    std::printf("| code | ef | R@10 no re-rank | R@10 re-ranked | code dist/q | exact dist/q | QPS (1 thread) |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n%s", main_table.c_str());
    std::printf("\n## Re-rank depth: ef 320 search, re-rank only the first R by code distance (R@10)\n\n");
    std::printf("| code | R=10 | R=20 | R=40 | R=80 | R=160 | R=320 |\n|---|---:|---:|---:|---:|---:|---:|\n%s",
                depth_table.c_str());
    std::printf("\n## Bound-guided re-rank (visit by lower_bound, stop past the 10th exact distance)\n\n");
    std::printf("| code | ef | R@10 | exact dist/q | exact dist/q (re-rank all) | R@10 (re-rank all) |\n"
                "|---|---:|---:|---:|---:|---:|\n%s",
                bound_table.c_str());

    // 6. Optional: a graph built over E8P-decoded vectors.
    if (decoded_build && e8p_quant) {
        std::vector<float> decoded(n * d);
        work.assign(e8p_quant->work_floats(), 0.0f);
        for (std::size_t i = 0; i < n; i++)
            e8p_quant->decode(&e8p_codes[i * e8p_size], &decoded[i * d], work.data());
        double dbuild_s = 0;
        std::unique_ptr<GraphHolder> dg = build_graph(decoded.data(), n, d, metric, threads, &dbuild_s);
        std::vector<std::uint64_t> dc_mem(e8p_quant->distance_computer_bytes() / 8 + 1);
        DistanceComputer *dc = e8p_quant->distance_computer(dc_mem.data());
        CodeReader reader(dg->graph, e8p_codes.data(), e8p_size, dc);
        for (std::size_t ef : kEfs) {
            Row row = run(
                [&](std::size_t j, std::size_t e, hnsw::SearchStats &st) {
                    dc->set_query(&queries.v[j * d]);
                    return hnsw::knn_search(reader, S.visited, S.s, dg->graph.entry_point(), dg->graph.max_level(), e,
                                            st);
                },
                ef, true, nullptr, &reader);
            std::snprintf(line, sizeof line, "| E8P, decoded-built graph | %zu | %.4f | %.4f | %.0f | %.0f | %.0f |\n",
                          ef, row.r_norr, row.r_rr, row.code_d, row.exact_d, row.qps);
            decoded_table += line;
        }
        std::printf("\n## E8P search over a graph built from E8P-decoded vectors (build %.2f s)\n\n", dbuild_s);
        std::printf("| graph | ef | R@10 no re-rank | R@10 re-ranked | code dist/q | exact dist/q | QPS (1 thread) |\n");
        std::printf("|---|---:|---:|---:|---:|---:|---:|\n%s", decoded_table.c_str());
    }
    std::printf("\nRecall is tie-aware against exact brute force over %zu vectors; dist/q are means per query; QPS\n"
                "covers set_query, the graph walk and the re-rank, best of %d passes (the bound-guided pass is not timed).\n", n, kReps);
    return 0;
}
