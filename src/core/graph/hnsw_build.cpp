/*
 * hnsw_build.cpp -- building a MemoryGraph: Algorithm 1 (INSERT) for each
 * added node, on several threads.
 *
 * INSERT(q): draw q's level l (done by add(); see random_level()); descend
 * greedily from the entry point through layers L .. l+1; then on each layer
 * lc = min(L, l) .. 0 run SEARCH-LAYER with efConstruction from the previous
 * layer's results W, pick M neighbours with SELECT-NEIGHBORS (Algorithm 4 by
 * default), link q to them and them to q, shrinking any neighbour list that
 * overflows Mmax (2M on layer 0) with the same selection; if l > L, q
 * becomes the entry point.  Layer 0 links M neighbours and keeps up to 2M,
 * as in the paper and hnswlib; with Params::select_max_links a new node
 * links up to Mmax (2M on layer 0), as pgvector does.
 *
 * Full lists.  With keepPrunedConnections a full list plus q always
 * selects back to a full list: q or one member drops out.  Selecting over
 * the whole list costs up to (2M)^2 / 2 pair distances, and was most of a
 * build.  ListCache keeps, per layer-0 list, each member's distance to
 * the list's node and whether Algorithm 4 kept or refilled it; a member's
 * verdict depends only on the kept members nearer than it, so adding q
 * tests q against those and re-tests only the members past q against what
 * newly became kept (add_to_cached_list()).  The graph is the same, to the
 * bit (hnsw_build_test.cpp); GloVe-100's graph builds 13% faster in the
 * index, sparse rows (where q's distances are gathers) 2.4 times.
 *
 * One departure in order, none in result: the paper links q on layer lc
 * before searching layer lc-1; here every layer is searched first, then q's
 * lists are written (all layers, under q's lock), then the back-links.  A
 * search on layer lc-1 reads only layer lc-1 lists and linking on layer lc
 * writes only layer lc lists, so one thread builds the same graph either
 * way.  With several threads the order matters: q becomes reachable (through
 * a back-link) only once its own lists are complete, so no other insert can
 * link to q on a layer q's insert has not written yet -- which would let q's
 * later search reach q itself (a self-link) and q's write overwrite the
 * other insert's link.  hnswlib's insert has that window (it throws "The
 * newly inserted element should have blank link list" when hit).  pgvector's
 * on-disk insert uses the same order as here: the element with its
 * neighbours first, then the neighbours' updates.
 *
 * After the inserts (unless cancelled), build() runs connect_unreachable()
 * on the calling thread: see hnsw_connect.cpp.
 *
 * Threads.  build() runs the calling thread plus threads - 1 std::threads;
 * each takes the next node id from an atomic counter and inserts it, so the
 * linked nodes are always the prefix 0 .. counter-1.  Locks (hnswlib's
 * scheme, with spinlocks in the graph block):
 *   - node lock: held while a node's list on any layer is copied (by a
 *     search) or rewritten (linking, shrinking).  One node lock at a time;
 *     distances to other nodes' vectors need no lock (vectors never change
 *     during a build).
 *   - entry lock: held while reading the entry point and top level; and,
 *     when the new node's level is above the top, for its whole insert, so
 *     that two new top levels cannot be raised at once (each would miss the
 *     other's upper layers).  Taken before any node lock, never while one is
 *     held: no deadlock.
 * Only the calling thread polls the cancel callback (between its inserts)
 * and reports progress; the other threads see an atomic stop flag, finish
 * the insert in hand and exit, and the calling thread joins them before
 * returning.  Workers run pure core code only and allocate nothing: all
 * scratch is allocated by the calling thread first.
 */
#include "hnsw.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include <pthread.h>
#include <signal.h>

#include "../sparse_slots.h"
#include "neighbor_select.h"

#include "../core_only.h"

namespace vecdb::hnsw {

namespace {

using Node = ScoredId<std::uint32_t>;
using BuildReader = MemoryReader<true>;

constexpr std::size_t kAlign = 64;

std::size_t round_up(std::size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

/// A layer-0 list member as a full list's update sees it.
struct Member {
    Node node;             ///< the distance is to the list's node
    std::uint8_t verdict;  ///< Algorithm 4's: kKept, kRefilled or kCopy
};
enum : std::uint8_t { kKept, kRefilled, kCopy };

/// One thread's working memory for INSERT.
struct InsertScratch {
    EpochVisitedSet visited;          ///< v, over every node id
    SearchScratch<std::uint32_t> search;
    Node *entries;     ///< ef_construction: W of the layer above = ep of this one
    Node *selected;    ///< Mmax per layer, layers 0 .. kMaxLevel: SELECT-NEIGHBORS output
    Node *shrink;      ///< 2M + 1: a full neighbour list plus q, with distances
    Node *shrink_out;  ///< 2M + 1
    Node *pruned;      ///< max(ef_construction, 2M + 1): the heuristic's Wd
    bool *kept;        ///< 2M + 1: select_neighbors()'s verdicts on shrink_out
    Member *members;   ///< 2M + 1: a cached list plus q, nearest first
    std::uint32_t *picked;  ///< 2M + 1: indices into members
    SparseScatter *scatter = nullptr;  ///< sparse forms under IP / cosine: q spread for the searches
    SparseQueryScore score{};          ///< q's distances through scatter (when not null)
    SearchStats stats;
    BuildStats build_stats;

    static std::size_t list_entries(const Params &p) { return 2 * std::size_t(p.M) + 1; }
    static std::size_t selected_entries(const Params &p) { return 2 * std::size_t(p.M) * (kMaxLevel + 1); }
    static std::size_t pruned_entries(const Params &p)
    {
        return std::max<std::size_t>(p.ef_construction, list_entries(p));
    }

    static std::size_t bytes(std::uint32_t capacity, const Params &p)
    {
        return kAlign + round_up(EpochVisitedSet::bytes(capacity)) +
               round_up(SearchScratch<std::uint32_t>::bytes(p.ef_construction, 2 * p.M)) +
               round_up(p.ef_construction * sizeof(Node)) + round_up(selected_entries(p) * sizeof(Node)) +
               2 * round_up(list_entries(p) * sizeof(Node)) + round_up(pruned_entries(p) * sizeof(Node)) +
               round_up(list_entries(p) * (sizeof(bool) + sizeof(Member) + sizeof(std::uint32_t))) + 2 * kAlign;
    }

    void init(char *memory, std::uint32_t capacity, const Params &p)
    {
        auto at = reinterpret_cast<std::uintptr_t>(memory);
        at = (at + kAlign - 1) & ~std::uintptr_t(kAlign - 1);
        char *m = reinterpret_cast<char *>(at);
        visited.init(m, capacity);
        m += round_up(EpochVisitedSet::bytes(capacity));
        search.init(m, p.ef_construction, 2 * p.M);
        m += round_up(SearchScratch<std::uint32_t>::bytes(p.ef_construction, 2 * p.M));
        entries = reinterpret_cast<Node *>(m);
        m += round_up(p.ef_construction * sizeof(Node));
        selected = reinterpret_cast<Node *>(m);
        m += round_up(selected_entries(p) * sizeof(Node));
        shrink = reinterpret_cast<Node *>(m);
        m += round_up(list_entries(p) * sizeof(Node));
        shrink_out = reinterpret_cast<Node *>(m);
        m += round_up(list_entries(p) * sizeof(Node));
        pruned = reinterpret_cast<Node *>(m);
        m += round_up(pruned_entries(p) * sizeof(Node));
        members = reinterpret_cast<Member *>(m);
        m += round_up(list_entries(p) * sizeof(Member));
        picked = reinterpret_cast<std::uint32_t *>(m);
        m += round_up(list_entries(p) * sizeof(std::uint32_t));
        kept = reinterpret_cast<bool *>(m);
        stats = SearchStats{};
        build_stats = BuildStats{};
    }
};

}  // namespace

/// What the build knows about each layer-0 list between its updates, so that
/// adding q to a full list costs ~2M distances from q, not a selection over
/// the list (up to 2M^2 / 2 pair distances: 80% of a sparse build once
/// new nodes took 2M neighbours).  For every member, in list order: its
/// distance to the list's node and whether Algorithm 4 kept it or it was
/// refilled (keepPrunedConnections).  A node's record is valid from the first
/// selection over its full list until an append, and is read and written
/// under the node's lock.  Per node also its distance to itself, which the
/// copy test needs.  The build allocates it only with keepPrunedConnections
/// and the heuristic, and only where BuildOptions::list_cache allows.
class ListCache {
public:
    static std::size_t bytes(std::uint32_t capacity, const Params &p)
    {
        return std::size_t(capacity) * (sizeof(float) * (1 + 2 * std::size_t(p.M)) + 1 + 2 * std::size_t(p.M));
    }

    /// Every record invalid; self distances of nodes 0 .. size()-1.
    void init(char *memory, const MemoryGraph &g)
    {
        width_ = 2 * g.params().M;
        const std::uint32_t n = g.capacity();
        self_ = reinterpret_cast<float *>(memory);
        distances_ = self_ + n;
        valid_ = reinterpret_cast<bool *>(distances_ + std::size_t(n) * width_);
        kept_ = valid_ + n;
        std::fill(valid_, valid_ + n, false);
        for (std::uint32_t i = 0; i < g.size(); i++)
            self_[i] = g.distance(i, i);
    }

    bool valid(std::uint32_t id) const { return valid_[id]; }
    void set_valid(std::uint32_t id, bool valid) { valid_[id] = valid; }
    float self(std::uint32_t id) const { return self_[id]; }
    float *distances(std::uint32_t id) { return distances_ + std::size_t(id) * width_; }
    bool *kept(std::uint32_t id) { return kept_ + std::size_t(id) * width_; }

private:
    float *self_ = nullptr;
    float *distances_ = nullptr;
    bool *valid_ = nullptr;
    bool *kept_ = nullptr;
    std::size_t width_ = 0;
};

namespace {

/// Adds q to e's full layer-0 list by the selection link_back() would run
/// over the list plus q, computed from e's ListCache record: Algorithm 4's
/// verdict on a member depends only on the kept members nearer than it, so
/// members nearer than q keep theirs, q is tested against the kept ones
/// before it, and a member past q is tested again only against what became
/// kept (q, or a refilled member whose rejecter was dropped) -- in full only
/// when some member before it lost its place.  The values are bitwise the
/// full selection's: the same distances (q's through its scatter, which
/// gives the merge's bits), the same order.  Returns false, having changed
/// nothing, where a refilled member may turn into a copy of q (its first
/// rejecter would decide); the caller then selects over the whole list.
bool add_to_cached_list(MemoryGraph &g, const Node &e, std::uint32_t q, ListCache &cache, InsertScratch &t)
{
    std::uint32_t *le = g.links(e.id, 0);
    const std::uint32_t n = le[0];
    const std::uint32_t Mmax = g.max_links(0);
    float *dist = cache.distances(e.id);
    bool *kept = cache.kept(e.id);
    Member *S = t.members;
    for (std::uint32_t j = 0; j < n; j++)
        S[j] = Member{Node{dist[j], le[1 + j]}, kept[j] ? kKept : kRefilled};
    S[n] = Member{Node{e.distance, q}, kKept};
    std::sort(S, S + n + 1, [](const Member &a, const Member &b) { return closer(a.node, b.node); });

    const float *vq = g.vector(q);
    auto distance = [&](std::uint32_t a, std::uint32_t b) {
        if (a == q)
            std::swap(a, b);
        if (b != q)
            return g.distance(a, b);
        return t.scatter != nullptr ? t.score(g.vector(a)) : g.distance(vq, g.vector(a));
    };
    // Algorithm 4's copy test: x rejected by r at distance d is a copy of r.
    auto copy = [&](std::uint32_t x, std::uint32_t r, float d) {
        return !(d > cache.self(r)) && !(d > cache.self(x));
    };
    // Algorithm 4's test of S[i] against the kept members before it.
    auto test = [&](std::size_t i) -> std::uint8_t {
        for (std::size_t j = 0; j < i; j++) {
            if (S[j].verdict != kKept)
                continue;
            const float d = distance(S[i].node.id, S[j].node.id);
            if (!(S[i].node.distance < d))
                return copy(S[i].node.id, S[j].node.id, d) ? kCopy : kRefilled;
        }
        return kKept;
    };

    std::size_t added = 0;  // members newly kept: t.picked[0 .. added)
    bool lost = false;      // a kept member before this one is kept no more
    for (std::size_t i = 0; i <= n; i++) {
        Member &x = S[i];
        if (x.node.id == q) {
            x.verdict = test(i);
            if (x.verdict != kKept)
                break;  // nothing past q changes
            t.picked[added++] = std::uint32_t(i);
        } else if (added == 0) {
            continue;  // before q
        } else if (x.verdict == kKept) {
            for (std::size_t k = 0; k < added; k++) {
                const std::uint32_t a = S[t.picked[k]].node.id;
                const float d = distance(x.node.id, a);
                if (!(x.node.distance < d)) {
                    x.verdict = copy(x.node.id, a, d) ? kCopy : kRefilled;
                    lost = true;
                    break;
                }
            }
        } else if (lost) {
            x.verdict = test(i);
            if (x.verdict == kKept)
                t.picked[added++] = std::uint32_t(i);
        } else {
            for (std::size_t k = 0; k < added; k++) {
                const std::uint32_t a = S[t.picked[k]].node.id;
                const float d = distance(x.node.id, a);
                if (!(x.node.distance < d) && copy(x.node.id, a, d))
                    return false;
            }
        }
    }

    // Algorithm 4's output from the verdicts: the kept (up to Mmax), then
    // the refilled; a break at Mmax kept members leaves none to refill.
    std::size_t r = 0, refilled = 0;
    std::uint32_t *R = t.picked;
    for (std::size_t i = 0; i <= n && r < Mmax; i++)
        if (S[i].verdict == kKept)
            R[r++] = std::uint32_t(i);
    for (std::size_t i = 0; i <= n && r < Mmax; i++)
        if (S[i].verdict == kRefilled) {
            R[r++] = std::uint32_t(i);
            refilled++;
        }
    le[0] = std::uint32_t(r);
    for (std::size_t j = 0; j < r; j++) {
        le[1 + j] = S[R[j]].node.id;
        dist[j] = S[R[j]].node.distance;
        kept[j] = j + refilled < r;
    }
    return true;
}

/// Adds q to e's full list on layer lc by Algorithm 4 over the list plus q
/// (Algorithm 1, lines 13-15), filling e's ListCache record when cache is
/// not null.
void reselect_list(MemoryGraph &g, const Node &e, std::uint32_t q, int lc, InsertScratch &t, ListCache *cache)
{
    // eConn ← neighbourhood(e) ∪ q; eNewConn ← SELECT-NEIGHBORS(e, eConn, Mmax, lc)
    std::uint32_t *le = g.links(e.id, lc);
    const std::uint32_t n = le[0];
    t.shrink[0] = Node{e.distance, q};  // every metric here is symmetric
    for (std::uint32_t j = 0; j < n; j++)
        t.shrink[1 + j] = Node{g.distance(e.id, le[1 + j]), le[1 + j]};
    std::sort(t.shrink, t.shrink + n + 1, [](const Node &a, const Node &b) { return closer(a, b); });
    const std::size_t kept = select_neighbors(g, t.shrink, n + 1, g.max_links(lc), t.shrink_out, t.pruned, t.scatter,
                                              t.kept);
    le[0] = static_cast<std::uint32_t>(kept);
    for (std::size_t j = 0; j < kept; j++)
        le[1 + j] = t.shrink_out[j].id;
    if (cache != nullptr) {
        for (std::size_t j = 0; j < kept; j++) {
            cache->distances(e.id)[j] = t.shrink_out[j].distance;
            cache->kept(e.id)[j] = t.kept[j];
        }
        cache->set_valid(e.id, true);
    }
    if (t.scatter != nullptr)
        t.scatter->load(t.score.query);  // the selection spread the members over it
}

/// Adds q to the lists of selected[0 .. m) on layer lc, shrinking any that
/// overflows Mmax (Algorithm 1, lines 11-16).  cache: layer 0's, or null.
void link_back(MemoryGraph &g, std::uint32_t q, int lc, const Node *selected, std::size_t m, InsertScratch &t,
               ListCache *cache)
{
    const std::uint32_t Mmax = g.max_links(lc);
    if (lc != 0)
        cache = nullptr;
    for (std::size_t i = 0; i < m; i++) {
        const Node e = selected[i];
        std::uint32_t *le = g.links(e.id, lc);
        g.lock(e.id);
        const std::uint32_t n = le[0];
        if (n < Mmax) {
            le[1 + n] = q;
            le[0] = n + 1;
            if (cache != nullptr)
                cache->set_valid(e.id, false);
        } else {
            t.build_stats.full_list_updates++;
            bool done = false;
            if (cache != nullptr && cache->valid(e.id)) {
                done = add_to_cached_list(g, e, q, *cache, t);
                (done ? t.build_stats.from_cache : t.build_stats.cache_fallbacks)++;
            }
            if (!done)
                reselect_list(g, e, q, lc, t, cache);
        }
        g.unlock(e.id);
    }
}

/// insert_node() -- Algorithm 1, INSERT(hnsw, q, M, Mmax, efConstruction, mL)
/// for node q, already added (its vector and level are set).
void insert_node(MemoryGraph &g, std::uint32_t q, InsertScratch &t, ListCache *cache)
{
    const Params &p = g.params();
    const int l = g.level(q);

    g.lock_entry();
    const std::uint32_t ep = g.entry_point();
    const int L = g.max_level();
    if (ep == MemoryGraph::kNone) {  // the first node: nothing to link to
        g.set_entry_point(q, l);
        g.unlock_entry();
        return;
    }
    const bool new_top = l > L;
    if (!new_top)
        g.unlock_entry();

    BuildReader reader(g, g.vector(q));
    if (t.scatter != nullptr) {
        const SparseView vq = sparse_view(g.vector(q));
        t.scatter->load(vq);
        t.score = SparseQueryScore{t.scatter, vq, g.metric() == Metric::Cosine ? sparse_squares_float(vq) : 0.0f,
                                   g.metric()};
        reader.use_scatter(&t.score);
    }
    Node cur{reader.distance(ep), ep};
    t.stats.distance_computations++;
    for (int lc = L; lc > l; lc--)
        cur = search_layer_greedy(reader, t.search, cur, lc, t.stats);

    t.entries[0] = cur;
    std::size_t n_ep = 1;
    const int top = std::min(L, l);
    std::size_t m[kMaxLevel + 1];
    for (int lc = top; lc >= 0; lc--) {
        // W ← SEARCH-LAYER(q, ep, efConstruction, lc)
        const std::uint32_t n = search_layer(reader, t.visited, t.search, t.entries, n_ep, p.ef_construction, lc, t.stats);
        const Node *W = t.search.results;
        // neighbors ← SELECT-NEIGHBORS(q, W, M, lc), or Mmax (select_max_links)
        m[lc] = select_neighbors(g, W, n, p.select_max_links ? g.max_links(lc) : p.M, t.selected + std::size_t(lc) * 2 * p.M, t.pruned,
                                 t.scatter);
        if (t.scatter != nullptr)
            t.scatter->load(t.score.query);  // the selection spread candidates over it
        // ep ← W (kept as it was when W is empty: every node found was deleted)
        if (n > 0) {
            std::copy(W, W + n, t.entries);
            n_ep = n;
        }
    }

    // Set neighbourhood(q) on every layer while no node links to q yet.
    g.lock(q);
    for (int lc = top; lc >= 0; lc--) {
        std::uint32_t *lq = g.links(q, lc);
        lq[0] = static_cast<std::uint32_t>(m[lc]);
        for (std::size_t i = 0; i < m[lc]; i++)
            lq[1 + i] = t.selected[std::size_t(lc) * 2 * p.M + i].id;
    }
    g.unlock(q);

    // Then the back-links, which make q reachable.
    for (int lc = top; lc >= 0; lc--)
        link_back(g, q, lc, t.selected + std::size_t(lc) * 2 * p.M, m[lc], t, cache);

    if (new_top) {  // set enter point for hnsw to q
        g.set_entry_point(q, l);
        g.unlock_entry();
    }
}

}  // namespace

std::size_t build_scratch_bytes(std::uint32_t capacity, const Params &params)
{
    validate(params);
    return InsertScratch::bytes(capacity, params);
}

std::size_t list_cache_bytes(std::uint32_t capacity, const Params &params)
{
    return params.keep_pruned && params.heuristic ? ListCache::bytes(capacity, params) : 0;
}

std::size_t build_memory_estimate(std::uint32_t n, std::uint32_t dims, const Params &params, unsigned threads)
{
    return MemoryGraph::bytes_needed(n, dims, params) +
           std::max(std::max(1u, threads) * build_scratch_bytes(n, params), connect_scratch_bytes(n, params));
}

namespace {

// Make layer 0 strongly connected: in-links for the nodes Algorithm 4
// pruned from every list, out-links for closed groups (hnsw_connect.cpp).
BuildStatus connect_after_inserts(MemoryGraph &graph, const BuildOptions &options)
{
    if (options.connect && connect_unreachable(graph, options.cancel, options.context).cancelled)
        return BuildStatus::Cancelled;
    return BuildStatus::Done;
}

}  // namespace

BuildStatus build(MemoryGraph &graph, const BuildOptions &options)
{
    const std::uint32_t begin = graph.inserted();
    const std::uint32_t end = graph.size();
    if (begin >= end)
        return connect_after_inserts(graph, options);  // a build cancelled in the pass goes on there
    const unsigned threads = std::max(1u, std::min<unsigned>(options.threads, end - begin));

    // All memory first, on the calling thread (may throw std::bad_alloc).
    const std::size_t per_thread = InsertScratch::bytes(graph.capacity(), graph.params());
    std::unique_ptr<char[]> memory(new char[per_thread * threads]);
    std::vector<InsertScratch> scratch(threads);
    for (unsigned i = 0; i < threads; i++)
        scratch[i].init(memory.get() + i * per_thread, graph.capacity(), graph.params());
    // Sparse forms: each thread's searches score by gathers from the
    // inserted node spread over a dense array (SparseQueryScore).
    const std::size_t width = scatter_width(graph, kMaxScatterWidth);
    std::vector<std::vector<float>> dense(width > 0 ? threads : 0, std::vector<float>(width, 0.0f));
    std::vector<SparseScatter> scatters;
    scatters.reserve(dense.size());
    for (unsigned i = 0; i < dense.size(); i++) {
        scatters.emplace_back(dense[i].data(), width);
        scratch[i].scatter = &scatters[i];
    }

    // Full layer-0 lists updated from what the last update found.
    std::unique_ptr<char[]> cache_memory;
    ListCache list_cache;
    ListCache *cache = nullptr;
    if (options.list_cache && list_cache_bytes(graph.capacity(), graph.params()) > 0) {
        cache_memory.reset(new char[ListCache::bytes(graph.capacity(), graph.params())]);
        list_cache.init(cache_memory.get(), graph);
        cache = &list_cache;
    }

    std::atomic<std::uint32_t> next{begin};
    std::atomic<bool> stop{false};
    auto work = [&graph, &next, &stop, end, cache](InsertScratch *t) {
        // Signals go to the calling thread only: a host's handlers
        // (PostgreSQL's) expect to interrupt the thread they belong to.
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        while (!stop.load(std::memory_order_relaxed)) {
            const std::uint32_t id = next.fetch_add(1, std::memory_order_relaxed);
            if (id >= end)
                break;
            insert_node(graph, id, *t, cache);
        }
    };

    std::vector<std::thread> workers;
    workers.reserve(threads - 1);
    for (unsigned i = 1; i < threads; i++) {
        try {
            workers.emplace_back(work, &scratch[i]);
        } catch (const std::system_error &) {
            break;  // fewer threads than asked for; the counter shares the work
        }
    }

    // The calling thread inserts too, and alone talks to the caller.
    bool cancelled = false;
    std::uint32_t reported = begin;
    try {
        for (;;) {
            if (options.cancel != nullptr && options.cancel(options.context)) {
                cancelled = true;
                stop.store(true, std::memory_order_relaxed);
                break;
            }
            const std::uint32_t id = next.fetch_add(1, std::memory_order_relaxed);
            if (id >= end)
                break;
            insert_node(graph, id, scratch[0], cache);
            if (options.progress != nullptr) {
                const std::uint32_t now = std::min(next.load(std::memory_order_relaxed), end);
                if (now - reported >= options.progress_every) {
                    options.progress(options.context, now, end);
                    reported = now;
                }
            }
        }
    } catch (...) {
        // A callback broke its contract by throwing: joinable std::threads
        // must not be destroyed, so stop and join them before passing it on.
        stop.store(true, std::memory_order_relaxed);
        for (std::thread &w : workers)
            w.join();
        graph.set_inserted(std::min(next.load(), end));
        throw;
    }
    for (std::thread &w : workers)
        w.join();

    if (options.stats != nullptr)
        for (const InsertScratch &t : scratch) {
            options.stats->full_list_updates += t.build_stats.full_list_updates;
            options.stats->from_cache += t.build_stats.from_cache;
            options.stats->cache_fallbacks += t.build_stats.cache_fallbacks;
        }

    // Every id taken from the counter below end was inserted completely.
    graph.set_inserted(std::min(next.load(), end));
    if (cancelled)
        return BuildStatus::Cancelled;
    // Not after a cancel: the caller is leaving, and a continued build runs
    // the pass at its end.  The per-thread scratch goes first (memory
    // estimate).
    scratch.clear();
    memory.reset();
    cache_memory.reset();
    return connect_after_inserts(graph, options);
}

}  // namespace vecdb::hnsw
