/*
 * hnsw.h -- the in-memory HNSW graph: parameters, the node store the build
 * writes, its reader, and the build / delete / repair entry points.
 *
 * HNSW is Malkov & Yashunin 2018 ("Efficient and robust approximate nearest
 * neighbor search using Hierarchical Navigable Small World graphs"); the
 * algorithm numbers cited in src/core/graph are theirs.  README.md in this
 * folder is the design document (reader contract, memory rules, scan
 * semantics, locking, deletion, measured figures).  Files:
 *   hnsw.h               this: Params, Metric, MemoryGraph, MemoryReader, API
 *   hnsw_search.h        Algorithms 2 and 5, the one search loop, the resumable Scan
 *   hnsw_reference.h     reference_search_layer() and brute_force_knn(), for tests
 *   neighbor_select.h    Algorithms 3 and 4 (templates)
 *   scored_heap.h        (distance, id) heaps over caller memory
 *   visited.h            EpochVisitedSet (dense ids), HashVisitedSet (sparse ids)
 *   ../splitmix64.h      the pseudo-random source (levels, hashing)
 *   hnsw_graph.cpp       MemoryGraph layout, levels, metric distances
 *   hnsw_build.cpp       Algorithm 1 (INSERT) and the multi-threaded build
 *   hnsw_delete.cpp      deletion marks and the repair that removes nodes
 *   hnsw_connect.cpp     making layer 0 strongly connected after a build or repair
 *   hnsw_search.cpp      the search entry points over a MemoryGraph
 *   neighbor_select.cpp  neighbour selection over a MemoryGraph's vectors
 *
 * Memory.  A MemoryGraph is a trivially destructible view over one block of
 * caller memory (palloc'd in the glue; bytes_needed() says how much, so the
 * glue can compare with maintenance_work_mem first).  Inside the block:
 *   vectors   capacity x dims fp32, contiguous, in id order (cosine:
 *             normalized when added)
 *   layer 0   capacity records of [count, 2M ids] (uint32)
 *   layers 1+ a pool of [count, M ids] records, level records per node,
 *             handed out when the node is added (its level is known then)
 *   level, flags (deleted / removed), a spinlock byte per node, and the
 *   entry point's spinlock
 * Node ids are dense uint32 in the order vectors were added.
 *
 * Concurrency.  add() is single-threaded.  build() runs worker threads that
 * execute only this pure-core code; a node's neighbour lists are read and
 * written under its spinlock, the entry point and top level under the entry
 * lock (see hnsw_build.cpp).  Searches after the build take no lock.
 */
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../metric.h"
#include "../sparse_distance.h"
#include "hnsw_search.h"

namespace vecdb::hnsw {

/// The graph orders by vecdb::Metric (../metric.h); cosine graphs store the
/// vectors normalized and score 1 - dot.
using vecdb::Metric;

/// Build parameters, with pgvector's defaults.
struct Params {
    std::uint32_t M = 16;                ///< neighbours per node on layers >= 1 (Mmax); layer 0 keeps 2M (Mmax0)
    std::uint32_t ef_construction = 64;  ///< candidate list size while inserting (efConstruction)
    double ml = 0.0;                     ///< level multiplier mL; 0 means 1 / ln(M)
    std::uint64_t seed = 0x7665636462ull;  ///< levels are a function of (seed, node id)
    bool heuristic = true;               ///< select neighbours with Algorithm 4 (else Algorithm 3)
    bool keep_pruned = false;            ///< Algorithm 4's keepPrunedConnections
    /// A new node selects up to Mmax neighbours (2M on layer 0, as pgvector
    /// does) instead of M (the paper, hnswlib); see hnsw_build.cpp.
    bool select_max_links = false;
    int max_level = 31;                  ///< levels above are capped (index tuples must fit a page)
};

inline constexpr int kMaxLevel = 31;        ///< levels are capped here (reached with probability M^-31)
inline constexpr std::uint32_t kMaxM = 128;  ///< largest M accepted

/// Throws Error(InvalidParameter) unless 2 <= M <= kMaxM, ef_construction
/// >= 1, ml >= 0 and finite.
void validate(const Params &params);

/// mL: params.ml, or 1 / ln(M) when that is 0.
double level_multiplier(const Params &params);

/// The level of node `id`: floor(-ln(unif(0..1)) * mL) (Algorithm 1, line 4)
/// with unif from splitmix64_at(seed, id), capped at kMaxLevel.
int random_level(std::uint64_t seed, std::uint64_t id, double ml);

/// Puts a vector into the form a graph of `metric` stores and scores it in:
/// normalized under cosine (a zero vector stays zero), copied otherwise.
/// The in-memory build and inserts through index pages use this one
/// function, so a vector is stored the same way by both.
void prepare_vector(Metric metric, const float *in, float *out, std::size_t dims);

/// What a graph's `dims` float slots hold per node: fp32 coordinates, a bit
/// string 32 bits a slot (packed_bit_distance()), or a sparse vector's form
/// (../sparse_slots.h, packed_sparse_distance()).  Cosine graphs normalize
/// only Floats.
enum class VectorForm : std::uint8_t { Floats, PackedBits, PackedSparse };

/// A metric's distance between two fp32 vectors, through the process-wide
/// SIMD kernel table (read when the struct is made: call
/// init_distance_kernels() first).
struct MetricDistance {
    float (*kernel)(const float *a, const float *b, std::size_t n);
    float sign;    ///< -1 for the dot-product metrics
    float offset;  ///< 1 for cosine
    std::size_t dims;
    Metric metric;
    VectorForm form = VectorForm::Floats;

    float operator()(const float *a, const float *b) const
    {
        float d = offset + sign * kernel(a, b, dims);
        return rank_linear(d) || form != VectorForm::Floats ? d : out_of_range(a, b);
    }

    /// A float sum too large or too small to rank by (vectors of huge or
    /// tiny elements, or duplicates), redone in double and ranked
    /// (rank_float(), metric.h).  Packed forms' kernels return final
    /// values.
    float out_of_range(const float *a, const float *b) const;
};
MetricDistance metric_distance(Metric metric, std::uint32_t dims);
/// The distance between bit strings packed into `words` float slots of 32
/// bits each (their bytes in any fixed order, zero past the last bit):
/// Hamming for L2 (the squared L2 distance of 0/1 vectors), or Jaccard.
/// A bit(1024) column's graph holds 128 bytes a node this way, not 4 KB of
/// 0/1 floats, and scores a pair with 16 popcounts.  Exact integers (and
/// Jaccard from them) at every size, so never out of range.
MetricDistance packed_bit_distance(Metric metric, std::uint32_t words);
/// The distance between two sparse forms of `slots` slots
/// (../sparse_slots.h): the SQL operator's value, through the sparsevec
/// operators' own functions (squared for L2), so exact for untruncated
/// forms.  Any metric but Jaccard.  A form whose count exceeds what `slots`
/// hold scores as the empty vector (sparse_view_within()): a query with
/// more elements is scored by sparse_operator_value() directly.
MetricDistance packed_sparse_distance(Metric metric, std::uint32_t slots);

/// The in-memory graph the build writes and the glue then copies to pages.
class MemoryGraph {
public:
    static constexpr std::uint32_t kNone = 0xFFFFFFFFu;  ///< "no node"

    /// Bytes init() needs for up to `capacity` nodes (any alignment).
    static std::size_t bytes_needed(std::uint32_t capacity, std::uint32_t dims, const Params &params);

    /// Lays an empty graph out in memory[0 .. bytes).  Throws
    /// Error(InvalidParameter) for bad parameters, a zero dimension or a
    /// block smaller than bytes_needed().
    /// `form` says what the `dims` float slots of a vector hold (VectorForm):
    /// bit strings take metric L2 (Hamming) or Jaccard, sparse forms any
    /// metric but Jaccard.
    void init(void *memory, std::size_t bytes, std::uint32_t capacity, std::uint32_t dims, Metric metric,
              const Params &params, VectorForm form = VectorForm::Floats);

    /// Stores a vector (dims floats) as the next node, not yet linked (build()
    /// links it).  Returns its id, or kNone when the graph is full.  Cosine
    /// vectors are stored normalized; a zero vector stays zero (distance 1 to
    /// everything; the glue skips such rows, as pgvector does).
    std::uint32_t add(const float *vector);

    // --- shape ----------------------------------------------------------------
    std::uint32_t capacity() const { return capacity_; }
    std::uint32_t size() const { return size_; }          ///< nodes added
    std::uint32_t inserted() const { return inserted_; }  ///< nodes 0 .. inserted()-1 are linked
    std::uint32_t dims() const { return dims_; }
    Metric metric() const { return metric_; }
    const Params &params() const { return params_; }
    /// Mmax: neighbours a node keeps on layer lc (2M on layer 0).
    std::uint32_t max_links(int lc) const { return lc == 0 ? 2 * params_.M : params_.M; }
    std::uint32_t entry_point() const { return entry_point_; }  ///< kNone while empty
    int max_level() const { return max_level_; }                ///< -1 while empty
    int level(std::uint32_t id) const { return levels_[id]; }

    /// Node id's record on layer lc <= level(id): [count, ids...].
    const std::uint32_t *links(std::uint32_t id, int lc) const
    {
        return lc == 0 ? links0_ + std::size_t(id) * (2 * params_.M + 1)
                       : pool_ + upper_offset_[id] + std::size_t(lc - 1) * (params_.M + 1);
    }
    std::uint32_t *links(std::uint32_t id, int lc)
    {
        return const_cast<std::uint32_t *>(static_cast<const MemoryGraph *>(this)->links(id, lc));
    }

    const float *vector(std::uint32_t id) const { return vectors_ + std::size_t(id) * dims_; }
    float distance(const float *a, const float *b) const { return distance_(a, b); }
    float distance(std::uint32_t a, std::uint32_t b) const { return distance_(vector(a), vector(b)); }
    const MetricDistance &metric_distance() const { return distance_; }

    /// Puts a query into the form distances expect (normalized for cosine).
    void prepare_query(const float *query, float *out) const;

    // --- deletion (hnsw_delete.cpp) ---------------------------------------------
    /// Marks node id deleted: searches still walk through it but never
    /// return it, and new inserts do not link to it.  repair_deleted() later
    /// unlinks it for good.  Not concurrent with build() or searches.
    void mark_deleted(std::uint32_t id);
    bool is_deleted(std::uint32_t id) const { return (flags_[id] & kDeleted) != 0; }
    bool has_deleted() const { return deleted_ != 0; }  ///< any node ever marked
    bool is_removed(std::uint32_t id) const { return (flags_[id] & kRemoved) != 0; }

    // --- locks (build) -----------------------------------------------------------
    void lock(std::uint32_t id) const { spin_lock(locks_[id]); }
    void unlock(std::uint32_t id) const { locks_[id].store(0, std::memory_order_release); }
    void lock_entry() const { spin_lock(*entry_lock_); }
    void unlock_entry() const { entry_lock_->store(0, std::memory_order_release); }

    // --- for hnsw_build.cpp and hnsw_delete.cpp -------------------------------------
    void set_entry_point(std::uint32_t id, int level)
    {
        entry_point_ = id;
        max_level_ = level;
    }
    void set_inserted(std::uint32_t n) { inserted_ = n; }
    void set_removed(std::uint32_t id) { flags_[id] |= kRemoved; }

private:
    static constexpr std::uint8_t kDeleted = 1;  ///< marked deleted (maybe also removed)
    static constexpr std::uint8_t kRemoved = 2;  ///< unlinked by repair_deleted()

    static void spin_lock(std::atomic<std::uint8_t> &l);

    float *vectors_;
    std::uint32_t *links0_;
    std::uint32_t *upper_offset_;  ///< per node: first pool word of its layer-1 record
    std::uint32_t *pool_;
    std::uint8_t *levels_;
    std::uint8_t *flags_;
    std::atomic<std::uint8_t> *locks_;
    std::atomic<std::uint8_t> *entry_lock_;
    std::size_t pool_words_;
    std::size_t pool_used_;
    MetricDistance distance_;
    Params params_;
    std::uint32_t capacity_;
    std::uint32_t size_;
    std::uint32_t inserted_;
    std::uint32_t dims_;
    std::uint32_t entry_point_;
    std::uint32_t deleted_;  ///< nodes marked deleted, removed or not
    int max_level_;
    Metric metric_;
};

/// Distances from one sparse form under inner product or cosine, spread
/// over a dense array (SparseScatter: a gather per node instead of a merge,
/// bitwise the same values as packed_sparse_distance()).
struct SparseQueryScore {
    const SparseScatter *scatter;  ///< holds `query`
    SparseView query;
    float query_squares;           ///< sparse_squares_float(query), for cosine
    Metric metric;                 ///< InnerProduct or Cosine

    float operator()(const float *form) const;
};
/// Widest dense array a scatter uses (16 MB); wider indices merge.
inline constexpr std::size_t kMaxScatterWidth = std::size_t(1) << 22;
/// True for a graph whose distances SparseQueryScore can compute.
bool scatters(Metric metric, const MetricDistance &distance);
/// The dense width a scatter of the graph's nodes 0 .. size()-1 needs (their
/// largest index + 1), or 0 when it does not apply or exceeds max_width.
std::size_t scatter_width(const MemoryGraph &graph, std::size_t max_width);

/// The graph reader (see hnsw_search.h) over a MemoryGraph and a prepared
/// query.  kLocked copies neighbour lists under the node's spinlock: the
/// build's reader, while other threads write lists.  kCheckDeleted = false
/// treats every node as a result, for graphs with no deletion marks
/// (MemoryGraph::has_deleted()), so the plain path reads no flags.
template <bool kLocked, bool kCheckDeleted = true>
class MemoryReader {
public:
    using Id = std::uint32_t;

    MemoryReader(const MemoryGraph &graph, const float *prepared_query) : g_(&graph), q_(prepared_query) {}

    /// Scores by gathers (the query must be what `score` holds).
    void use_scatter(const SparseQueryScore *score) { scatter_ = score; }

    std::size_t max_degree() const { return g_->max_links(0); }

    std::size_t neighbors(Id id, int lc, Id *out) const
    {
        const std::uint32_t *l = g_->links(id, lc);
        if (kLocked)
            g_->lock(id);
        std::uint32_t n = l[0];
        std::memcpy(out, l + 1, n * sizeof(Id));
        if (kLocked)
            g_->unlock(id);
        return n;
    }

    float distance(Id id) const
    {
        return scatter_ != nullptr ? (*scatter_)(g_->vector(id)) : g_->distance(q_, g_->vector(id));
    }

    /// Prefetches every vector first (up to 4 KiB of each), then scores:
    /// the misses overlap.  Measured against prefetching one vector ahead,
    /// 15% faster at 128 dimensions, 25% at 768 (100k and 30k vectors).
    void distances(const Id *ids, std::size_t n, float *out) const
    {
        const std::size_t bytes = std::min<std::size_t>(std::size_t(g_->dims()) * sizeof(float), 4096);
        for (std::size_t j = 0; j < n; j++) {
            const char *v = reinterpret_cast<const char *>(g_->vector(ids[j]));
            for (std::size_t off = 0; off < bytes; off += 64)
                __builtin_prefetch(v + off);
        }
        for (std::size_t j = 0; j < n; j++)
            out[j] = distance(ids[j]);
    }

    bool is_result(Id id) const { return !kCheckDeleted || !g_->is_deleted(id); }

private:
    const MemoryGraph *g_;
    const float *q_;
    const SparseQueryScore *scatter_ = nullptr;
};

// --- build (hnsw_build.cpp) ------------------------------------------------------

enum class BuildStatus { Done, Cancelled };

/// What build() did to full neighbour lists (all layers).
struct BuildStats {
    std::uint64_t full_list_updates = 0;  ///< links added to a full list
    std::uint64_t from_cache = 0;         ///< of which computed from the list cache
    std::uint64_t cache_fallbacks = 0;    ///< cached, but selected in full (a possible copy)
};

struct BuildOptions {
    unsigned threads = 1;  ///< the calling thread plus threads - 1 std::threads
    void *context = nullptr;
    /// Polled by the calling thread after each node it inserts; true stops
    /// the build.  Must return normally (no longjmp, no throw) while the
    /// workers run: in the glue, test INTERRUPTS_PENDING_CONDITION() here and
    /// call CHECK_FOR_INTERRUPTS() after build() has returned.
    bool (*cancel)(void *context) = nullptr;
    /// Called by the calling thread every progress_every nodes, same rules.
    void (*progress)(void *context, std::uint32_t inserted, std::uint32_t total) = nullptr;
    std::uint32_t progress_every = 1024;
    /// After a build that was not cancelled, run connect_unreachable() (on
    /// the calling thread).  Off only to study the graph without it.
    bool connect = true;
    /// Keep, for the inserts, each full layer-0 list's distances and
    /// selection verdicts (list_cache_bytes() more memory), so that adding a
    /// link to a full list costs ~2M distances instead of a selection over
    /// it.  The same graph either way.
    bool list_cache = true;
    BuildStats *stats = nullptr;  ///< added to when not null
};

/// Links nodes inserted() .. size()-1 into the graph (Algorithm 1 each).
/// With one thread the graph is a function of the vectors and Params
/// alone.  On Done, connect_unreachable() has run (unless options.connect
/// is off).  On Cancelled (polled between inserts and between
/// connect_unreachable()'s searches), nodes 0 .. inserted()-1 are fully linked and the
/// graph is consistent; build() may be called again to continue (with no
/// node left to insert it runs only connect_unreachable()).  Throws
/// std::bad_alloc if per-thread scratch cannot be allocated (before any
/// thread starts) or, after the inserts, if connect_unreachable()'s cannot;
/// starts fewer threads if the system refuses more.
BuildStatus build(MemoryGraph &graph, const BuildOptions &options);

struct ConnectStats {
    std::uint32_t unreachable = 0;  ///< live nodes the entry point did not reach on layer 0
    std::uint32_t linked_in = 0;    ///< of those, nodes given an in-link (the others were behind one)
    std::uint32_t stranded = 0;     ///< nodes, deleted ones included, that could not reach the entry point
    std::uint32_t linked_out = 0;   ///< closed groups of them given an out-link
    std::uint32_t failed = 0;       ///< nodes no link could be found for (0 unless lists are full everywhere)
    bool cancelled = false;         ///< `cancel` said stop: the graph is consistent, perhaps not yet connected
};

/// Makes layer 0 strongly connected over the live nodes: gives every live
/// node the entry point cannot reach an in-link from a reachable node near
/// it, and every closed group of nodes that cannot reach the entry point an
/// out-link to a near node that can.  Never exceeds 2M links, never makes
/// another node unreachable (hnsw_connect.cpp explains how).  Nodes marked
/// deleted are walked through but get no in-link of their own.
/// Single-threaded, not concurrent with searches; build() and
/// repair_deleted() call it.  Throws std::bad_alloc if its scratch (about
/// connect_scratch_bytes()) cannot be allocated; the graph is consistent
/// then.  Polls `cancel` (if given) before each of its searches and returns
/// early, with cancelled set, once it says true.
ConnectStats connect_unreachable(MemoryGraph &graph, bool (*cancel)(void *context) = nullptr,
                                 void *context = nullptr);

/// The most memory connect_unreachable() allocates for a graph of
/// `capacity` nodes (about 40 bytes per node).
std::size_t connect_scratch_bytes(std::uint32_t capacity, const Params &params);

/// Makes the layer-0 link v -> u exist without exceeding Mmax0 and without
/// losing any path: appends u if v has room, else replaces one of v's links
/// v -> w by v -> u and makes sure u -> w exists.  False (nothing changed)
/// if v is u, or v is full and u is full and links to none of v's neighbours
/// -- unless u_unreached (no path from the entry point runs through u): then
/// u's farthest link makes room for w.
bool link_layer0(MemoryGraph &graph, std::uint32_t v, std::uint32_t u, bool u_unreached = false);

/// Scratch build() allocates per thread: the visited tags and the search
/// and selection buffers.
std::size_t build_scratch_bytes(std::uint32_t capacity, const Params &params);

/// The memory BuildOptions::list_cache takes for a graph of `capacity`
/// nodes; 0 when params do not use it (it needs keep_pruned and heuristic).
/// At M = 16: 165 bytes a node.
std::size_t list_cache_bytes(std::uint32_t capacity, const Params &params);

/// Everything a build of n vectors of dims dimensions needs: the graph
/// block plus per-thread scratch, or connect_unreachable()'s if larger (it
/// runs after the per-thread scratch is freed); for comparing with
/// maintenance_work_mem.  Without list_cache_bytes(): the cache is optional.
std::size_t build_memory_estimate(std::uint32_t n, std::uint32_t dims, const Params &params, unsigned threads);

// --- neighbour selection over a MemoryGraph (neighbor_select.cpp) --------------------

/// Algorithm 4 (or 3, per params.heuristic) for base node `base`: picks up to
/// `m` of candidates[0 .. n) (sorted nearest first, distances to base) into
/// out, nearest first.  pruned: n entries of scratch.  Returns the count.
/// scatter (or null): a SparseScatter as wide as scatter_width(); with
/// it, sparse forms under inner product or cosine are scored by gathers,
/// and what it held is replaced.  kept (or null; Algorithm 4 only): m
/// entries, whether each of out passed the test or was refilled
/// (select_neighbors_heuristic()).
std::size_t select_neighbors(const MemoryGraph &graph, const ScoredId<std::uint32_t> *candidates, std::size_t n,
                             std::size_t m, ScoredId<std::uint32_t> *out, ScoredId<std::uint32_t> *pruned,
                             SparseScatter *scatter = nullptr, bool *kept = nullptr);

// --- deletion (hnsw_delete.cpp) -----------------------------------------------------

struct RepairStats {
    std::uint32_t removed = 0;          ///< nodes unlinked by this repair
    std::uint32_t lists_repaired = 0;   ///< (node, layer) lists that lost a neighbour
    std::uint32_t searches = 0;         ///< lists refilled by a search: no 2-hop candidate was left
    bool entry_point_moved = false;
    ConnectStats connect;               ///< what connect_unreachable() did afterwards
};

/// Removes every node marked deleted (and not yet removed) from the graph:
/// each live node's list on each layer that names one is rebuilt, with the
/// selection heuristic and at its old length, from its live neighbours plus
/// the live neighbours of its deleted ones; the entry point moves to a live
/// node of the top level; removed nodes keep no links and are never reached
/// again.  Then connect_unreachable() fixes what the new lists left
/// unreachable.
/// Single-threaded; not concurrent with searches (the glue holds the
/// locks VACUUM holds).
RepairStats repair_deleted(MemoryGraph &graph);

// --- search over a MemoryGraph (hnsw_search.cpp) -------------------------------------

/// knn_search() on a MemoryGraph: the (at most) ef nearest live nodes to
/// prepared_query, nearest first, in s.results.  visited must cover
/// graph.capacity() ids; s must have max_degree >= 2M.  Returns the count.
std::uint32_t search(const MemoryGraph &graph, const float *prepared_query, std::size_t ef, EpochVisitedSet &visited,
                     SearchScratch<std::uint32_t> &s, SearchStats &stats);

}  // namespace vecdb::hnsw
