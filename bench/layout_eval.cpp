/*
 * layout_eval.cpp -- how many 8 KB page accesses does one HNSW query cost
 * under candidate on-disk layouts?  A simulation, to choose the layout of
 * the PostgreSQL HNSW access method by numbers before writing it.
 *
 * What it models:
 *   - One HNSW graph (M 16, ef_construction 64, fp32 build, --threads
 *     threads), searched with knn_search() (Algorithm 5) through a reader
 *     that scores nodes with fp32 or with a quantizer's code and logs every
 *     tuple the search touches: "expand c on layer lc" (read c's neighbour
 *     list) and "score e" (read e's vector or code).
 *   - Every node's tuple(s) are packed into 8192-byte pages in some node
 *     order (24-byte page header, 8-byte special space, 4-byte line pointer
 *     per tuple, MAXALIGN 8; block 0 is a meta page read once per query).
 *     The log is then replayed per layout:
 *       accesses      one per touched tuple, but consecutive touches of the
 *                     same page count once (the scan keeps the buffer pinned)
 *       grouped       the same, but a reader that sorts each distances()
 *                     batch by block and reads each block once per batch
 *                     (a design option for our reader; pgvector does not)
 *       distinct      distinct index pages touched per query
 *   - Heap: a re-rank of R candidates costs R heap page accesses (the heap
 *     row carries the full vector); the executor then fetches the 10
 *     returned rows (10 more heap accesses, counted for every layout).
 *
 * Layouts:
 *   A  pgvector: element tuple (72-byte header incl. 10 heap TIDs + the
 *      Vector varlena 8 + 4 dim) and a neighbour tuple (4 + 6 (level+2) M),
 *      same page when the pair fits, insertion order; search on fp32, no
 *      re-rank.  Scoring e reads e's element tuple, expanding c reads c's
 *      neighbour tuple.
 *   B  one tuple per node: 16-byte header + code + 6-byte ids for 2M slots
 *      on layer 0 and M per upper layer; insertion order.
 *   C  as B, in a locality order: "bfs" = BFS over layer 0 from the entry
 *      point; "cluster" = each page is filled by a BFS that starts at the
 *      next unplaced node (in BFS order) and adds its unplaced layer-0
 *      neighbours while they fit, so a node's neighbours share its page.
 *   D  as B/C, and the tuple also carries the codes of its 2M layer-0
 *      neighbour slots: expanding c on layer 0 gives all neighbour codes,
 *      so scoring them touches no page.  Upper layers and the entry point
 *      still read the neighbour's own tuple.
 *   D' as D (insertion order), with codes inline on the upper layers'
 *      lists too (M more codes per upper level), so the greedy descent
 *      also reads one tuple per hop (only when the largest tuple fits a page).
 *   D'' as D (insertion order); a node of level >= 1 also has a second tuple
 *      with its upper-layer lists and their codes, on separate pages.
 *   E  split codes: one tuple per node with its header, a 4-byte code
 *      pointer and its lists, packed as "C cluster"; the codes apart, in
 *      fixed-size slots on code pages, in the same node order (page by
 *      page of lists).  Scoring e reads e's code page, expanding c reads
 *      c's list page: the smaller the code, the fewer code pages a
 *      neighbour list spans.
 *   fp32 in B/C layouts (one tuple with the fp32 vector) separates the
 *   layout effect from the code effect.
 *
 * What it does NOT model: buffer locking and pin/unpin costs beyond the
 * count, shared-buffer replacement and cache misses (every access counts
 * the same, hot or cold), WAL, concurrent inserts, free-space left for
 * updates, TOAST, deleted tuples / VACUUM, heap tuple sizes (one heap page
 * per fetch, no sharing), and iterative scans.  The graph is the in-memory
 * build's; neighbour lists are full-size reserved slots as in pgvector.
 *
 * Build (after `make`):
 *   g++ -std=c++17 -O3 -pthread -o /tmp/layout_eval bench/layout_eval.cpp \
 *       $(ls src/core/?*.o src/core/graph/?*.o src/core/quant/?*.o src/core/simd/?*.o)
 * Run:
 *   /tmp/layout_eval --metric l2 /work/shared/data/siftsmall/siftsmall_base.fvecs \
 *       /work/shared/data/siftsmall/siftsmall_query.fvecs
 *   zcat /work/shared/data/glove-100-angular/glove-100_base.fvecs.gz > /tmp/vecdb_glove_base.fvecs
 *   zcat /work/shared/data/glove-100-angular/glove-100_query.fvecs.gz > /tmp/vecdb_glove_query.fvecs
 *   /tmp/layout_eval --metric cosine --queries 1000 /tmp/vecdb_glove_base.fvecs /tmp/vecdb_glove_query.fvecs
 * Options: --metric l2|cosine, --base N, --queries N (default 1000),
 * --threads T (default 2), --seed S (quantizer rotations).
 */
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../src/core/graph/hnsw.h"
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
constexpr std::size_t kEfs[] = {20, 30, 40, 50, 60, 80, 100, 120, 160, 240, 320};
constexpr std::size_t kMaxEf = 320;
constexpr std::size_t kDepths[] = {10, 15, 20, 30, 40, 60, 80, 160, 320};
constexpr std::size_t kNDepths = std::size(kDepths);

// Page geometry.
constexpr std::size_t kPageSize = 8192;
constexpr std::size_t kUsable = kPageSize - 24 - 8;  // header, special space
constexpr std::size_t kLinePointer = 4;
constexpr std::size_t kTid = 6;
constexpr std::size_t kNodeHeader = 16;  // layouts B-D
std::size_t maxalign(std::size_t n) { return (n + 7) & ~std::size_t(7); }

// --- the touch log ------------------------------------------------------------------

struct Event {
    std::uint32_t id;
    std::int8_t lc;      // expand: the layer; score: the layer of the list it came from, -1 for the entry point
    bool expand;
    std::uint32_t batch;  // score events: which distances() call
};

/// A graph reader over a MemoryGraph's links and any scorer; logs touches.
template <class Scorer>
class LoggingReader {
public:
    using Id = std::uint32_t;
    LoggingReader(const hnsw::MemoryGraph &g, Scorer sc, std::vector<Event> *log) : g_(&g), sc_(sc), log_(log) {}

    std::size_t max_degree() const { return g_->max_links(0); }
    std::size_t neighbors(Id id, int lc, Id *out)
    {
        log_->push_back(Event{id, std::int8_t(lc), true, 0});
        last_lc_ = lc;
        const std::uint32_t *l = g_->links(id, lc);
        std::memcpy(out, l + 1, l[0] * sizeof(Id));
        return l[0];
    }
    float distance(Id id)
    {
        log_->push_back(Event{id, -1, false, ++batch_});
        return sc_(id);
    }
    void distances(const Id *ids, std::size_t n, float *out)
    {
        ++batch_;
        for (std::size_t i = 0; i < n; i++) {
            log_->push_back(Event{ids[i], std::int8_t(last_lc_), false, batch_});
            out[i] = sc_(ids[i]);
        }
    }
    bool is_result(Id) const { return true; }

private:
    const hnsw::MemoryGraph *g_;
    Scorer sc_;
    std::vector<Event> *log_;
    int last_lc_ = 0;
    std::uint32_t batch_ = 0;
};

// --- layouts --------------------------------------------------------------------------

struct Layout {
    std::string name;
    std::vector<std::uint32_t> elem_page, nbr_page;  // per node: where "score" / "expand" touch
    std::vector<std::uint32_t> upper_page;           // if set: where "expand on layer >= 1" touches
    int inline_max = -1;  // neighbour codes of layers 0..inline_max live in the expanded tuple (-1: none)
    std::uint32_t pages = 0;                         // including the meta page
    double bytes() const { return double(pages) * kPageSize; }
    // replay state
    std::vector<std::uint32_t> mark;
    std::uint32_t epoch = 0;
    double acc = 0, grouped = 0, distinct = 0;
};

/// Packs one tuple per node in `order`; size(node) includes the line pointer.
template <class Size>
std::uint32_t pack_in_order(const std::vector<std::uint32_t> &order, Size size, std::vector<std::uint32_t> &page)
{
    page.assign(order.empty() ? 0 : *std::max_element(order.begin(), order.end()) + 1, 0);
    std::uint32_t cur = 1;
    std::size_t free = kUsable;
    for (std::uint32_t u : order) {
        const std::size_t s = size(u);
        if (s > free) {
            cur++;
            free = kUsable;
        }
        page[u] = cur;
        free -= s;
    }
    return cur + 1;
}

/// "cluster": each page is filled by a BFS over layer 0 among unplaced nodes,
/// seeded by the next unplaced node of `seed_order`.
template <class Size>
std::uint32_t pack_cluster(const hnsw::MemoryGraph &g, const std::vector<std::uint32_t> &seed_order, Size size,
                           std::size_t min_size, std::vector<std::uint32_t> &page)
{
    const std::size_t n = seed_order.size();
    page.assign(n, 0);
    std::vector<char> placed(n, 0);
    std::vector<std::uint32_t> queued(n, 0), queue;
    std::uint32_t epoch = 0, cur = 1;
    std::size_t free = kUsable, cursor = 0, done = 0;
    while (done < n) {
        while (placed[seed_order[cursor]])
            cursor++;
        const std::uint32_t seed = seed_order[cursor];
        if (size(seed) > free) {
            cur++;
            free = kUsable;
        }
        epoch++;
        queue.clear();
        queue.push_back(seed);
        queued[seed] = epoch;
        for (std::size_t head = 0; head < queue.size() && free >= min_size; head++) {
            const std::uint32_t u = queue[head];
            if (placed[u] || size(u) > free)
                continue;
            page[u] = cur;
            free -= size(u);
            placed[u] = 1;
            done++;
            const std::uint32_t *l = g.links(u, 0);
            for (std::uint32_t i = 0; i < l[0]; i++) {
                const std::uint32_t v = l[1 + i];
                if (!placed[v] && queued[v] != epoch) {
                    queued[v] = epoch;
                    queue.push_back(v);
                }
            }
        }
        if (free < min_size) {
            cur++;
            free = kUsable;
        }
    }
    // the last page may be empty
    std::uint32_t maxp = 0;
    for (std::uint32_t p : page)
        maxp = std::max(maxp, p);
    return maxp + 1;
}

std::vector<std::uint32_t> bfs_order(const hnsw::MemoryGraph &g)
{
    const std::uint32_t n = g.size();
    std::vector<char> seen(n, 0);
    std::vector<std::uint32_t> order;
    order.reserve(n);
    auto bfs = [&](std::uint32_t s) {
        std::size_t head = order.size();
        order.push_back(s);
        seen[s] = 1;
        for (; head < order.size(); head++) {
            const std::uint32_t *l = g.links(order[head], 0);
            for (std::uint32_t i = 0; i < l[0]; i++)
                if (!seen[l[1 + i]]) {
                    seen[l[1 + i]] = 1;
                    order.push_back(l[1 + i]);
                }
        }
    };
    bfs(g.entry_point());
    for (std::uint32_t u = 0; u < n; u++)  // nodes without a layer-0 in-link path
        if (!seen[u])
            bfs(u);
    return order;
}

/// Replays one query's log on a layout, adding to its counters.
void replay(Layout &L, const std::vector<Event> &log, std::vector<std::uint32_t> &tmp)
{
    if (L.mark.empty())
        L.mark.assign(L.pages, 0);
    const std::uint32_t ep = ++L.epoch;
    std::size_t acc = 1, grouped = 1, distinct = 1;  // the meta page
    std::uint32_t last_seq = 0, last_grp = 0;
    L.mark[0] = ep;
    auto see = [&](std::uint32_t p) {
        if (L.mark[p] != ep) {
            L.mark[p] = ep;
            distinct++;
        }
    };
    for (std::size_t i = 0; i < log.size();) {
        const Event &e = log[i];
        if (e.expand) {
            const std::uint32_t p = e.lc >= 1 && !L.upper_page.empty() ? L.upper_page[e.id] : L.nbr_page[e.id];
            acc += p != last_seq;
            last_seq = p;
            grouped += p != last_grp;
            last_grp = p;
            see(p);
            i++;
            continue;
        }
        // a score batch
        tmp.clear();
        const std::uint32_t b = e.batch;
        for (; i < log.size() && !log[i].expand && log[i].batch == b; i++) {
            const Event &s = log[i];
            if (s.lc >= 0 && s.lc <= L.inline_max)
                continue;
            const std::uint32_t p = L.elem_page[s.id];
            acc += p != last_seq;
            last_seq = p;
            see(p);
            tmp.push_back(p);
        }
        if (!tmp.empty()) {
            std::sort(tmp.begin(), tmp.end());
            tmp.erase(std::unique(tmp.begin(), tmp.end()), tmp.end());
            const bool has_last = std::binary_search(tmp.begin(), tmp.end(), last_grp);
            grouped += tmp.size() - (has_last ? 1 : 0);
            if (!(has_last && tmp.size() == 1))
                last_grp = tmp.back() != last_grp ? tmp.back() : tmp.front();
        }
    }
    L.acc += double(acc);
    L.grouped += double(grouped);
    L.distinct += double(distinct);
}

struct Code {
    const char *name;
    std::shared_ptr<void> owner;
    Quantizer *quantizer;  // null: fp32
    std::shared_ptr<std::vector<float>> ranges;
    template <typename Q, typename... Args>
    static Code make(const char *name, Args &&...args)
    {
        auto q = std::make_shared<Q>(std::forward<Args>(args)...);
        return Code{name, q, q.get(), nullptr};
    }
};

struct Result {  // one (layout, code, ef) row
    std::string layout, code;
    std::size_t ef;
    double recall[kNDepths + 1];  // per depth R (kDepths), and [kNDepths] = re-rank all ef
    double acc, grouped, distinct;
    double mb, size_ratio;
    bool rerank;
};

}  // namespace

int main(int argc, char **argv)
{
    Options opt;
    opt.max_queries = 1000;
    if (!parse_options(argc, argv, opt))
        return 2;
    Dataset base, queries;
    load_inputs(opt, base, queries);
    const Metric metric = opt.metric;
    const unsigned threads = opt.threads;
    const std::uint64_t seed = opt.seed;
    const std::size_t n = base.n, d = base.d, nq = queries.n;

    // 1. The graph.
    hnsw::Params params;
    params.M = 16;
    params.ef_construction = 64;
    std::vector<std::uint64_t> gmem(hnsw::MemoryGraph::bytes_needed(std::uint32_t(n), std::uint32_t(d), params) / 8 + 1);
    hnsw::MemoryGraph graph;
    graph.init(gmem.data(), gmem.size() * 8, std::uint32_t(n), std::uint32_t(d), metric, params);
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; i++)
        graph.add(&base.v[i * d]);
    hnsw::BuildOptions opts;
    opts.threads = threads;
    hnsw::build(graph, opts);
    std::printf("graph: M 16, ef_construction 64, build %.2f s, max level %d\n", seconds_since(t0), graph.max_level());
    const std::size_t M = params.M;

    // 2. Ground truth.
    std::vector<double> kth(nq);
    parallel_for(nq, threads, [&](std::size_t j) {
        std::vector<double> all(n);
        for (std::size_t i = 0; i < n; i++)
            all[i] = exact_distance(metric, &queries.v[j * d], &base.v[i * d], d);
        std::nth_element(all.begin(), all.begin() + (kK - 1), all.end());
        kth[j] = all[kK - 1];
    });
    auto exact = [&](std::size_t j, std::uint32_t id) { return exact_distance(metric, &queries.v[j * d], &base.v[std::size_t(id) * d], d); };

    const std::vector<std::uint32_t> bfs = bfs_order(graph);
    std::vector<std::uint32_t> insertion(n);
    for (std::size_t i = 0; i < n; i++)
        insertion[i] = std::uint32_t(i);
    auto nbr_bytes = [&](std::uint32_t u) { return kTid * (2 * M + std::size_t(graph.level(u)) * M); };

    // Layout A (pgvector).
    Layout A;
    A.name = "A pgvector";
    {
        A.elem_page.assign(n, 0);
        A.nbr_page.assign(n, 0);
        const std::size_t etup = maxalign(72 + 8 + 4 * d) + kLinePointer;
        std::uint32_t cur = 1;
        std::size_t free = kUsable;
        for (std::uint32_t u = 0; u < n; u++) {
            const std::size_t ntup = maxalign(4 + nbr_bytes(u)) + kLinePointer;
            if (free < etup || (etup + ntup <= kUsable && free < etup + ntup)) {
                cur++;
                free = kUsable;
            }
            A.elem_page[u] = cur;
            free -= etup;
            if (free < ntup) {
                cur++;
                free = kUsable;
            }
            A.nbr_page[u] = cur;
            free -= ntup;
        }
        A.pages = cur + 1;
    }
    const double a_bytes = A.bytes();

    // Codes.
    std::vector<Code> codes_list;
    codes_list.push_back(Code{"fp32", nullptr, nullptr, nullptr});
    {
        auto ranges = std::make_shared<std::vector<float>>(2 * d);
        Code sq8 = Code::make<SQ8Quantizer>("SQ8", d, metric, ranges->data());
        sq8.ranges = ranges;
        codes_list.push_back(sq8);
    }
    codes_list.push_back(Code::make<E8Quantizer>("E8 RVQ 4-bit", d, metric, seed, E8Quantizer::Mode::Residual4));
    codes_list.push_back(Code::make<E8Quantizer>("E8P 2-bit", d, metric, seed, E8Quantizer::Mode::E8P));
    codes_list.push_back(Code::make<H4Quantizer>("H4 600-cell", d, metric, seed));

    std::vector<std::uint64_t> smem(hnsw::SearchScratch<std::uint32_t>::bytes(kMaxEf, graph.max_links(0)) / 8 + 1);
    hnsw::SearchScratch<std::uint32_t> S;
    S.init(smem.data(), kMaxEf, graph.max_links(0));
    std::vector<std::uint64_t> vmem(hnsw::EpochVisitedSet::bytes(std::uint32_t(n)) / 8 + 1);
    hnsw::EpochVisitedSet visited;
    visited.init(vmem.data(), std::uint32_t(n));
    std::vector<float> prepared(d), work;
    std::vector<Event> log;
    std::vector<std::uint32_t> tmp;
    std::vector<std::pair<double, std::uint32_t>> rr(kMaxEf);
    std::vector<Result> results;
    std::string layout_table;
    char line[512];

    auto recall_of = [&](std::size_t j, const std::pair<double, std::uint32_t> *v, std::size_t m) {
        std::size_t hits = 0;
        for (std::size_t t = 0; t < std::min(kK, m); t++)
            hits += v[t].first <= kth[j];
        return double(hits) / kK;
    };

    for (Code &c : codes_list) {
        const bool rerank = c.quantizer != nullptr;
        std::size_t csize = 4 * d;
        std::vector<std::uint8_t> codes;
        std::vector<std::uint64_t> dc_mem;
        DistanceComputer *dc = nullptr;
        if (rerank) {
            Quantizer &quant = *c.quantizer;
            work.assign(quant.work_floats(), 0.0f);
            if (quant.needs_training())
                quant.train(n, base.v.data(), work.data());
            csize = quant.code_size();
            codes.resize(n * csize);
            for (std::size_t i = 0; i < n; i++)
                quant.encode(&base.v[i * d], &codes[i * csize], work.data());
            dc_mem.resize(quant.distance_computer_bytes() / 8 + 1);
            dc = quant.distance_computer(dc_mem.data());
        }

        // Layouts for this code.
        std::vector<Layout> layouts;
        if (!rerank)
            layouts.push_back(A);
        auto tupB = [&](std::uint32_t u) { return maxalign(kNodeHeader + csize + nbr_bytes(u)) + kLinePointer; };
        auto tupD = [&](std::uint32_t u) { return maxalign(kNodeHeader + csize + nbr_bytes(u) + 2 * M * csize) + kLinePointer; };
        const std::size_t minB = maxalign(kNodeHeader + csize + kTid * 2 * M) + kLinePointer;
        const std::size_t minD = maxalign(kNodeHeader + csize + kTid * 2 * M + 2 * M * csize) + kLinePointer;
        std::size_t maxlevel = 0;
        for (std::uint32_t u = 0; u < n; u++)
            maxlevel = std::max<std::size_t>(maxlevel, graph.level(u));
        auto tupD2 = [&](std::uint32_t u) { return maxalign(kNodeHeader + csize + nbr_bytes(u) / kTid * (kTid + csize)) + kLinePointer; };
        auto add_layout = [&](const std::string &name, int inl, auto size, std::size_t min_size, int order) {
            const std::size_t biggest = maxalign(kNodeHeader + csize + kTid * (2 * M + maxlevel * M) +
                                                 (inl == 0 ? 2 * M * csize : inl > 0 ? (2 * M + maxlevel * M) * csize : 0)) + kLinePointer;
            if (biggest > kUsable) {
                std::snprintf(line, sizeof line, "| %s | %s | tuple %zu B does not fit a page |\n", name.c_str(),
                              c.name, biggest);
                layout_table += line;
                return;
            }
            Layout L;
            L.name = name;
            L.inline_max = inl;
            if (order == 0)
                L.pages = pack_in_order(insertion, size, L.elem_page);
            else if (order == 1)
                L.pages = pack_in_order(bfs, size, L.elem_page);
            else
                L.pages = pack_cluster(graph, bfs, size, min_size, L.elem_page);
            L.nbr_page = L.elem_page;
            layouts.push_back(std::move(L));
        };
        add_layout("B insertion", -1, tupB, minB, 0);
        add_layout("C bfs", -1, tupB, minB, 1);
        add_layout("C cluster", -1, tupB, minB, 2);
        add_layout("D insertion", 0, tupD, minD, 0);
        add_layout("D cluster", 0, tupD, minD, 2);
        add_layout("D' all layers", 99, tupD2, minD, 0);
        {
            // D'': D's layer-0 tuples (insertion order), and each node of level >= 1 gets a second tuple with
            // its upper-layer lists and their codes, packed on separate pages after the layer-0 pages.
            auto tupD0 = [&](std::uint32_t) { return minD; };  // layer-0 list only
            const std::size_t biggest_upper = maxalign(kNodeHeader + maxlevel * M * (kTid + csize)) + kLinePointer;
            if (minD > kUsable || biggest_upper > kUsable)
                goto skip_split;
            Layout L;
            L.name = "D'' split upper";
            L.inline_max = 99;
            L.pages = pack_in_order(insertion, tupD0, L.elem_page);
            L.nbr_page = L.elem_page;
            std::vector<std::uint32_t> upper;
            for (std::uint32_t u = 0; u < n; u++)
                if (graph.level(u) >= 1)
                    upper.push_back(u);
            auto tupU = [&](std::uint32_t u) {
                return maxalign(kNodeHeader + std::size_t(graph.level(u)) * M * (kTid + csize)) + kLinePointer;
            };
            std::vector<std::uint32_t> up;
            const std::uint32_t upages = pack_in_order(upper, tupU, up);  // pages 1 .. upages-1
            L.upper_page.assign(n, 0);
            for (std::uint32_t u : upper)
                L.upper_page[u] = L.pages - 1 + up[u];
            L.pages += upages - 1;
            layouts.push_back(std::move(L));
        }
    skip_split:
        {
            auto tupE = [&](std::uint32_t u) { return maxalign(kNodeHeader + 4 + nbr_bytes(u)) + kLinePointer; };
            const std::size_t minE = maxalign(kNodeHeader + 4 + kTid * 2 * M) + kLinePointer;
            Layout L;
            L.name = "E split codes";
            const std::uint32_t list_pages = pack_cluster(graph, bfs, tupE, minE, L.nbr_page);
            std::vector<std::uint32_t> pos(n), order(n);
            for (std::size_t k = 0; k < n; k++)
                pos[bfs[k]] = std::uint32_t(k);
            for (std::size_t k = 0; k < n; k++)
                order[k] = std::uint32_t(k);
            std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
                return L.nbr_page[a] != L.nbr_page[b] ? L.nbr_page[a] < L.nbr_page[b] : pos[a] < pos[b];
            });
            const std::size_t per_page = kUsable / csize;
            L.elem_page.assign(n, 0);
            for (std::size_t k = 0; k < n; k++)
                L.elem_page[order[k]] = list_pages + std::uint32_t(k / per_page);
            L.pages = list_pages + std::uint32_t((n + per_page - 1) / per_page);
            layouts.push_back(std::move(L));
        }
        for (const Layout &L : layouts) {
            std::snprintf(line, sizeof line, "| %s | %s | %zu | %u | %.1f | %.2f | %.1f |\n", L.name.c_str(), c.name,
                          L.name[0] == 'A' ? maxalign(72 + 8 + 4 * d) : csize, L.pages, L.bytes() / 1048576.0,
                          L.bytes() / a_bytes, double(n) / (L.pages - 1));
            layout_table += line;
        }

        for (std::size_t ef : kEfs) {
            for (Layout &L : layouts)
                L.acc = L.grouped = L.distinct = 0;
            double rsum[kNDepths + 1] = {};
            for (std::size_t j = 0; j < nq; j++) {
                log.clear();
                hnsw::SearchStats st;
                std::uint32_t m;
                if (rerank) {
                    dc->set_query(&queries.v[j * d]);
                    auto sc = [&](std::uint32_t id) { return dc->distance(&codes[std::size_t(id) * csize]); };
                    LoggingReader<decltype(sc)> reader(graph, sc, &log);
                    m = hnsw::knn_search(reader, visited, S, graph.entry_point(), graph.max_level(), ef, st);
                } else {
                    graph.prepare_query(&queries.v[j * d], prepared.data());
                    const float *q = prepared.data();
                    auto sc = [&](std::uint32_t id) { return graph.distance(q, graph.vector(id)); };
                    LoggingReader<decltype(sc)> reader(graph, sc, &log);
                    m = hnsw::knn_search(reader, visited, S, graph.entry_point(), graph.max_level(), ef, st);
                }
                for (Layout &L : layouts)
                    replay(L, log, tmp);
                // Recall: first R by search distance, re-ranked exactly.
                std::vector<double> ex(m);
                for (std::uint32_t i = 0; i < m; i++)
                    ex[i] = exact(j, S.results[i].id);
                for (std::size_t t = 0; t <= kNDepths; t++) {
                    const std::size_t R = t < kNDepths ? std::min<std::size_t>(kDepths[t], m) : m;
                    for (std::size_t i = 0; i < R; i++)
                        rr[i] = {ex[i], S.results[i].id};
                    const std::size_t top = std::min(kK, R);
                    if (rerank)
                        std::partial_sort(rr.begin(), rr.begin() + top, rr.begin() + R);
                    rsum[t] += recall_of(j, rr.data(), top);
                }
            }
            for (Layout &L : layouts) {
                Result r;
                r.layout = L.name;
                r.code = c.name;
                r.ef = ef;
                for (std::size_t t = 0; t <= kNDepths; t++)
                    r.recall[t] = rsum[t] / nq;
                r.acc = L.acc / nq;
                r.grouped = L.grouped / nq;
                r.distinct = L.distinct / nq;
                r.mb = L.bytes() / 1048576.0;
                r.size_ratio = L.bytes() / a_bytes;
                r.rerank = rerank;
                results.push_back(r);
            }
        }
        std::fprintf(stderr, "%s done (%.1f s)\n", c.name, seconds_since(t0));
    }

    std::printf("\n## Layouts (index size; vs A = size / layout A's size)\n\n");
    std::printf("| layout | code | code/vector B | pages | MiB | vs A | nodes/page |\n|---|---|---:|---:|---:|---:|---:|\n%s",
                layout_table.c_str());

    std::printf("\n## Per query, re-rank all ef candidates (fp32: none).  heap = re-rank fetches + 10 returned rows\n\n");
    std::printf("| layout | code | ef | R@10 | idx accesses | idx accesses (grouped) | distinct idx pages | heap | "
                "total (acc + heap) | index MiB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const Result &r : results) {
        if (r.ef != 20 && r.ef != 40 && r.ef != 80 && r.ef != 160)
            continue;
        const double heap = (r.rerank ? double(r.ef) : 0) + kK;
        std::printf("| %s | %s | %zu | %.4f | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f |\n", r.layout.c_str(),
                    r.code.c_str(), r.ef, r.recall[kNDepths], r.acc, r.grouped, r.distinct, heap, r.acc + heap, r.mb);
    }

    std::printf("\n## Re-rank depth: R@10 when only the first R candidates (by code distance) are re-ranked\n\n");
    std::printf("| code | ef |");
    for (std::size_t R : kDepths)
        std::printf(" R=%zu |", R);
    std::printf("\n|---|---:|");
    for (std::size_t t = 0; t < kNDepths; t++)
        std::printf("---:|");
    std::printf("\n");
    for (const Result &r : results) {
        if (!r.rerank || r.layout != "B insertion" || (r.ef != 20 && r.ef != 40 && r.ef != 80 && r.ef != 160 && r.ef != 320))
            continue;
        std::printf("| %s | %zu |", r.code.c_str(), r.ef);
        for (std::size_t t = 0; t < kNDepths; t++) {
            if (kDepths[t] <= r.ef)
                std::printf(" %.4f |", r.recall[t]);
            else
                std::printf(" - |");
        }
        std::printf("\n");
    }

    // Cheapest (ef, R) reaching each target, by index accesses + heap.
    for (double target : {0.95, 0.99}) {
        std::printf("\n## Cheapest configuration with R@10 >= %.2f (minimising idx accesses + heap; ef in 20..320)\n\n",
                    target);
        std::printf("| layout | code | ef | R | R@10 | idx accesses | grouped | distinct | heap | total | "
                    "idx vs A | total vs A | total (grouped) vs A | index MiB |\n"
                    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        struct Best {
            const Result *r = nullptr;
            std::size_t R = 0;
            double recall = 0, total = 1e300;
        };
        std::vector<std::pair<std::string, Best>> best;
        for (const Result &r : results) {
            const std::string key = r.layout + "|" + r.code;
            auto it = std::find_if(best.begin(), best.end(), [&](auto &p) { return p.first == key; });
            if (it == best.end()) {
                best.push_back({key, Best{}});
                it = best.end() - 1;
            }
            for (std::size_t t = 0; t <= kNDepths; t++) {
                const std::size_t R = t < kNDepths ? kDepths[t] : r.ef;
                if (R > r.ef || (!r.rerank && t != kNDepths))
                    continue;
                const double heap = (r.rerank ? double(R) : 0) + kK;
                if (r.recall[t] >= target && r.acc + heap < it->second.total)
                    it->second = Best{&r, r.rerank ? R : 0, r.recall[t], r.acc + heap};
            }
        }
        const Best *a = nullptr;
        for (auto &p : best)
            if (p.first.rfind("A pgvector", 0) == 0)
                a = &p.second;
        for (auto &p : best) {
            const Best &b = p.second;
            const std::size_t bar = p.first.find('|');
            if (!b.r) {
                std::printf("| %s | %s | not reached | | | | | | | | | | | |\n", p.first.substr(0, bar).c_str(),
                            p.first.substr(bar + 1).c_str());
                continue;
            }
            const double heap = double(b.R) + kK;
            const bool ha = a && a->r;
            std::printf("| %s | %s | %zu | %zu | %.4f | %.1f | %.1f | %.1f | %.0f | %.1f | %s | %s | %s | %.1f |\n",
                        b.r->layout.c_str(), b.r->code.c_str(), b.r->ef, b.R, b.recall, b.r->acc, b.r->grouped,
                        b.r->distinct, heap, b.total,
                        ha ? std::to_string(b.r->acc / a->r->acc).substr(0, 5).c_str() : "-",
                        ha ? std::to_string(b.total / a->total).substr(0, 5).c_str() : "-",
                        ha ? std::to_string((b.r->grouped + heap) / a->total).substr(0, 5).c_str() : "-", b.r->mb);
        }
    }
    std::printf("\nAccesses count the meta page once per query.  \"grouped\": each distances() batch read block by block.\n"
                "Recall is tie-aware against exact brute force over %zu vectors; per-query means over %zu queries.\n",
                n, nq);
    return 0;
}
