/*
 * hnsw_search.h -- the HNSW search loop (Malkov & Yashunin 2018,
 * "Efficient and robust approximate nearest neighbor search using
 * Hierarchical Navigable Small World graphs"), written once for every graph:
 * the in-memory build graph, and later index pages read through PostgreSQL
 * buffers.
 *
 * What is here:
 *   search_layer()         Algorithm 2, SEARCH-LAYER
 *   search_layer_greedy()  Algorithm 2 with ef = 1, for the upper layers
 *   knn_search()           Algorithm 5, K-NN-SEARCH (returns the best ef)
 *   Scan                   Algorithm 5 made resumable: batches of results,
 *                          for iterative index scans with filters
 *
 * The graph reader.  Every function here is a template over a reader R that
 * owns the storage (fp32 vectors in memory, quantized codes, buffer pages)
 * and the current query:
 *     using Id = ...;   node id: trivially copyable, with == and <
 *                       (uint32 in memory; a 64-bit packing of a heap item
 *                       pointer, or the 6-byte struct itself, on pages)
 *     std::size_t max_degree();
 *                       the most ids neighbors() ever writes (2M)
 *     std::size_t neighbors(Id id, int lc, Id *out);
 *                       copies node id's neighbour ids on layer lc to out,
 *                       returns how many; a copy, so a page reader can
 *                       release its buffer lock before the loop scores them
 *     float distance(Id id);
 *                       from the query to node id
 *     void distances(const Id *ids, std::size_t n, float *out);
 *                       the same for n ids at once: where a reader prefetches
 *                       or scores codes in batches
 *     bool is_result(Id id);
 *                       false for a node the search may walk through but must
 *                       not return (deleted, awaiting VACUUM's repair)
 * Distances are "smaller is nearer" values of any monotone form (squared L2,
 * negative inner product, ...); the search never turns them into metric ones.
 *
 * Working state (C, W, the neighbour buffers, the visited set) lives in
 * caller memory (SearchScratch, the visited set), and everything is
 * trivially destructible, so a reader may call functions that raise a
 * PostgreSQL ERROR (ReadBuffer) from inside the loop: the longjmp skips no
 * destructor.  The resumable Scan also grows a heap through a
 * ScratchAllocator (palloc in the scan's memory context).
 *
 * Where this departs from the paper:
 *   - Candidates are ordered by (distance, id), a total order, so ties
 *     between equally distant nodes are broken the same way everywhere.
 *   - is_result() == false nodes enter C but not W, as in hnswlib, and the
 *     loop stops on "c farther than f" only once W holds ef results (with
 *     no such nodes, W is full whenever c can be farther than f, so this is
 *     the paper's condition).
 *   - C lives in a fixed array of 2 ef entries.  When it fills, entries
 *     farther than W's farthest are dropped first: the paper's loop would
 *     stop before reaching them, so results and visit counts are unchanged.
 *     Only if C is still full (ef-way ties, or many non-result nodes) is its
 *     farthest entry dropped, counted in SearchStats::candidates_dropped (a
 *     resumable Scan keeps it instead).
 *
 * The slow, obviously correct version of the same loop, which tests compare
 * this one with (same ids, same hop and distance counts), is
 * reference_search_layer() in hnsw_reference.h.
 */
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "scored_heap.h"
#include "visited.h"

namespace vecdb::hnsw {

/// What a search did; tests compare these between the fast and the
/// reference loops, benchmarks report them.
struct SearchStats {
    std::uint64_t distance_computations = 0;  ///< calls-worth of distance()
    std::uint64_t hops = 0;                   ///< nodes expanded (neighbour lists read)
    std::uint64_t candidates_dropped = 0;     ///< C overflows that lost a candidate
};

/// The fixed-size arrays of one search, carved out of caller memory.
template <class Id>
struct SearchScratch {
    ScoredId<Id> *candidates;          ///< C: candidate_capacity entries
    ScoredId<Id> *results;             ///< W: ef_capacity entries; sorted results after a search
    Id *neighbor_ids;                  ///< max_degree ids: one neighbour list
    Id *unvisited;                     ///< max_degree ids: its unvisited members
    float *distances;                  ///< max_degree distances of those
    std::uint32_t ef_capacity;         ///< largest ef a search may use
    std::uint32_t candidate_capacity;  ///< 2 ef_capacity
    std::uint32_t max_degree;

    static constexpr std::size_t kAlign = 64;

    /// Bytes init() needs for searches with ef up to `ef` over a reader whose
    /// max_degree() is at most `max_degree`; any alignment of the memory.
    static std::size_t bytes(std::size_t ef, std::size_t max_degree)
    {
        return kAlign + round_up(2 * ef * sizeof(ScoredId<Id>)) + round_up(ef * sizeof(ScoredId<Id>)) +
               2 * round_up(max_degree * sizeof(Id)) + round_up(max_degree * sizeof(float));
    }

    void init(void *memory, std::size_t ef, std::size_t degree)
    {
        auto p = reinterpret_cast<std::uintptr_t>(memory);
        p = (p + kAlign - 1) & ~std::uintptr_t(kAlign - 1);
        candidates = reinterpret_cast<ScoredId<Id> *>(p);
        p += round_up(2 * ef * sizeof(ScoredId<Id>));
        results = reinterpret_cast<ScoredId<Id> *>(p);
        p += round_up(ef * sizeof(ScoredId<Id>));
        neighbor_ids = reinterpret_cast<Id *>(p);
        p += round_up(degree * sizeof(Id));
        unvisited = reinterpret_cast<Id *>(p);
        p += round_up(degree * sizeof(Id));
        distances = reinterpret_cast<float *>(p);
        ef_capacity = static_cast<std::uint32_t>(ef);
        candidate_capacity = static_cast<std::uint32_t>(2 * ef);
        max_degree = static_cast<std::uint32_t>(degree);
    }

private:
    static std::size_t round_up(std::size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }
};

/// An entry of a resumable scan's pending heap: a node scored but not yet
/// returned and/or not yet expanded.
template <class Id>
struct PendingId {
    float distance;
    Id id;
    std::uint8_t flags;  ///< kPendingReturn | kPendingExpand
};
enum : std::uint8_t {
    kPendingReturn = 1,  ///< still to be returned to the caller
    kPendingExpand = 2,  ///< its neighbour list is still to be read
};
template <class Id>
using PendingHeap = GrowableHeap<PendingId<Id>, NearestFirst>;

namespace detail {

template <class Id>
inline void push_pending(PendingHeap<Id> *P, const ScoredId<Id> &e, std::uint8_t flags)
{
    P->append(PendingId<Id>{e.distance, e.id, flags});
}

/// C is full: make room for one more entry (the cold path of C ← C ∪ e).
template <bool kResumable, class Id>
void make_room(CandidateHeap<Id> &C, const ResultHeap<Id> &W, std::uint32_t ef, PendingHeap<Id> *P,
               SearchStats &stats)
{
    if (W.size() >= ef) {
        // Entries farther than f can never be expanded: the loop stops first.
        const ScoredId<Id> f = W.top();
        C.remove_if([&](const ScoredId<Id> &x) { return closer(f, x); },
                    [&](const ScoredId<Id> &x) {
                        if (kResumable)
                            push_pending(P, x, kPendingExpand);
                    });
    }
    if (C.full()) {
        ScoredId<Id> x = C.remove_last();
        if (kResumable)
            push_pending(P, x, kPendingExpand);
        else
            stats.candidates_dropped++;
    }
}

/// The body of Algorithm 2 (SEARCH-LAYER), after C and W have been seeded.
/// With kResumable, every node the loop scores but does not return in W,
/// and every node it leaves unexpanded, goes to P, so a later batch can
/// continue from them; without it P is unused and the loop is the paper's.
template <bool kResumable, class Reader, class Visited, class Id>
void search_layer_loop(Reader &reader, Visited &v, SearchScratch<Id> &s, CandidateHeap<Id> &C, ResultHeap<Id> &W,
                       std::uint32_t ef, int lc, PendingHeap<Id> *P, SearchStats &stats)
{
    while (!C.empty()) {
        // c ← nearest element from C to q; f ← furthest element from W to q
        const ScoredId<Id> c = C.top();
        if (W.size() >= ef && closer(W.top(), c))
            break;  // all elements in W are evaluated
        C.pop();
        stats.hops++;

        // for each e ∈ neighbourhood(c) at layer lc: first gather the
        // unvisited ones (v ← v ∪ e), then score them in one call
        std::size_t n = reader.neighbors(c.id, lc, s.neighbor_ids);
        std::size_t m = 0;
        for (std::size_t i = 0; i < n; i++)
            if (v.insert(s.neighbor_ids[i]))
                s.unvisited[m++] = s.neighbor_ids[i];
        if (m == 0)
            continue;
        reader.distances(s.unvisited, m, s.distances);
        stats.distance_computations += m;

        for (std::size_t j = 0; j < m; j++) {
            const ScoredId<Id> e{s.distances[j], s.unvisited[j]};
            // if distance(e, q) < distance(f, q) or |W| < ef
            if (W.size() < ef || closer(e, W.top())) {
                // W ← W ∪ e; if |W| > ef: remove furthest element from W
                if (reader.is_result(e.id)) {
                    if (W.size() < ef) {
                        W.push(e);
                    } else {
                        ScoredId<Id> f = W.replace_top(e);
                        if (kResumable)
                            push_pending(P, f, kPendingReturn);
                    }
                }
                // C ← C ∪ e
                if (C.full())
                    make_room<kResumable>(C, W, ef, P, stats);
                C.push(e);
            } else if (kResumable) {
                push_pending(P, e, std::uint8_t(reader.is_result(e.id) ? kPendingReturn | kPendingExpand : kPendingExpand));
            }
        }
    }
    if (kResumable)
        while (!C.empty())
            push_pending(P, C.pop(), kPendingExpand);
}

}  // namespace detail

/// search_layer() -- Algorithm 2, SEARCH-LAYER(q, ep, ef, lc).
///
/// Starts from the entry points ep[0 .. n_ep) (distances already computed;
/// they must not point into s), clears `visited` first (v ← ep), and leaves
/// the (at most) ef nearest results found, nearest first, in s.results.
/// ef is clamped to [1, s.ef_capacity].  Returns the number of results.
template <class Reader, class Visited, class Id = typename Reader::Id>
std::uint32_t search_layer(Reader &reader, Visited &visited, SearchScratch<Id> &s, const ScoredId<Id> *ep,
                           std::size_t n_ep, std::size_t ef, int lc, SearchStats &stats)
{
    const auto ef32 = static_cast<std::uint32_t>(std::min<std::size_t>(std::max<std::size_t>(ef, 1), s.ef_capacity));
    CandidateHeap<Id> C;
    ResultHeap<Id> W;
    C.init(s.candidates, s.candidate_capacity);
    W.init(s.results, ef32);
    visited.clear();
    for (std::size_t i = 0; i < n_ep; i++) {
        const ScoredId<Id> e = ep[i];
        if (!visited.insert(e.id))
            continue;
        if (reader.is_result(e.id)) {
            if (W.size() < ef32)
                W.push(e);
            else if (closer(e, W.top()))
                W.replace_top(e);
        }
        if (C.full())
            detail::make_room<false>(C, W, ef32, static_cast<PendingHeap<Id> *>(nullptr), stats);
        C.push(e);
    }
    detail::search_layer_loop<false>(reader, visited, s, C, W, ef32, lc, static_cast<PendingHeap<Id> *>(nullptr),
                                     stats);
    return W.sort_in_place();
}

/// search_layer_greedy() -- SEARCH-LAYER with ef = 1, the descent through
/// the upper layers of Algorithms 1 and 5: moves to the nearest neighbour
/// while that is nearer, and returns the local minimum.  It keeps no visited
/// set: a node scored before cannot be nearer than the current best, so
/// re-scoring it changes nothing but the distance count (hnswlib does the
/// same).  Visits the same nodes as search_layer(ef = 1) on a graph where
/// every node is a result.  Needs s.neighbor_ids and s.distances only.
template <class Reader, class Id = typename Reader::Id>
ScoredId<Id> search_layer_greedy(Reader &reader, SearchScratch<Id> &s, ScoredId<Id> ep, int lc, SearchStats &stats)
{
    ScoredId<Id> best = ep;
    for (bool changed = true; changed;) {
        changed = false;
        stats.hops++;
        std::size_t n = reader.neighbors(best.id, lc, s.neighbor_ids);
        reader.distances(s.neighbor_ids, n, s.distances);
        stats.distance_computations += n;
        for (std::size_t j = 0; j < n; j++) {
            const ScoredId<Id> e{s.distances[j], s.neighbor_ids[j]};
            if (closer(e, best)) {
                best = e;
                changed = true;
            }
        }
    }
    return best;
}

/// knn_search() -- Algorithm 5, K-NN-SEARCH(q, K, ef): greedy descent from
/// the entry point ep (on layer L, the graph's top) to layer 1, then
/// SEARCH-LAYER with ef on layer 0.  The (at most) ef nearest results,
/// nearest first, are left in s.results; the caller takes the first K (and
/// passes ef >= K).  Returns the number of results.
template <class Reader, class Visited, class Id = typename Reader::Id>
std::uint32_t knn_search(Reader &reader, Visited &visited, SearchScratch<Id> &s, Id ep, int L, std::size_t ef,
                         SearchStats &stats)
{
    ScoredId<Id> cur{reader.distance(ep), ep};
    stats.distance_computations++;
    for (int lc = L; lc >= 1; lc--)
        cur = search_layer_greedy(reader, s, cur, lc, stats);
    return search_layer(reader, visited, s, &cur, 1, ef, 0, stats);
}

/// Scan -- a resumable K-NN-SEARCH, for an index scan that does not know
/// how many results it needs (ORDER BY ... LIMIT k with a WHERE clause the
/// index cannot check, pgvector's "iterative scan").
///
/// Semantics:
///   - The first next_batch() is exactly knn_search(ef): the same up to ef
///     results, nearest first.
///   - Each later next_batch() returns up to ef further results, nearest
///     first within the batch.  No node is returned twice, and nodes that
///     are not results (is_result() false) are never returned.
///   - Across batches the order is approximate, as in pgvector's relaxed
///     order: a later batch may hold a node nearer than the farthest of an
///     earlier one (the graph was walked further and found it); a caller
///     that needs a strict order across batches must buffer and sort.
///   - next_batch() returns 0 once every result node reachable from the
///     entry point on layer 0 has been returned.  Nothing is left out: every
///     node the search scores is eventually returned and expanded.
///
/// How: every node that the layer-0 loop scores but does not keep in W
/// (rejected, or evicted from W by a nearer one), and every node it leaves
/// unexpanded in C, is kept in a pending min-heap P with two flags, "still
/// to return" and "still to expand".  A later batch starts Algorithm 2 again
/// with C and W empty, seeds them from the nearest pending entries -- W
/// with the ef nearest still to return, C with those still to expand met on
/// the way (up to its capacity) -- and runs the same loop with the same
/// visited set, which is never cleared between batches.  A batch is thus
/// the ef nearest of (pending results, and nodes found nearer than them by
/// expanding the nearest pending candidates).
///
/// State: a copy of the caller's SearchScratch (a view), a pointer to the
/// caller's visited set (which the scan clears when it starts and then
/// fills; the caller must not use it for anything else meanwhile), P over
/// the ScratchAllocator, and a few scalars: trivially destructible.
/// release() gives P's memory back when the allocator frees; the visited set
/// stays the caller's to release.
template <class Reader, class Visited>
class Scan {
public:
    using Id = typename Reader::Id;

    /// ef: batch size, clamped to [1, scratch.ef_capacity].
    void init(const SearchScratch<Id> &scratch, Visited *visited, ScratchAllocator allocator, std::size_t ef)
    {
        s_ = scratch;
        v_ = visited;
        P_.init(allocator);
        stats_ = SearchStats{};
        ef_ = static_cast<std::uint32_t>(std::min<std::size_t>(std::max<std::size_t>(ef, 1), scratch.ef_capacity));
        state_ = kDone;
    }

    /// Starts (or restarts, with a new query in the reader) from entry
    /// point ep on layer L, the graph's top.  Forgets pending entries.
    void start(Id ep, int L)
    {
        P_.clear();
        ep_ = ep;
        L_ = L;
        state_ = kFirst;
        first_complete_ = false;
    }

    /// The next batch, nearest first, left in batch()[0 .. n); returns n,
    /// 0 when the scan is exhausted.  The batch stays valid until the next
    /// call.
    std::uint32_t next_batch(Reader &reader)
    {
        if (state_ == kDone)
            return 0;
        CandidateHeap<Id> C;
        ResultHeap<Id> W;
        C.init(s_.candidates, s_.candidate_capacity);
        W.init(s_.results, ef_);
        if (state_ == kFirst) {
            state_ = kResume;
            const ScoredId<Id> entry{reader.distance(ep_), ep_};
            stats_.distance_computations++;
            ScoredId<Id> cur = entry;
            for (int lc = L_; lc >= 1; lc--)
                cur = search_layer_greedy(reader, s_, cur, lc, stats_);
            v_->clear();
            v_->insert(cur.id);
            if (reader.is_result(cur.id))
                W.push(cur);
            C.push(cur);
            detail::search_layer_loop<true>(reader, *v_, s_, C, W, ef_, 0, &P_, stats_);
            // Later batches also walk from the entry point: on layer 0 every
            // node is reachable from it (the build and VACUUM see to that),
            // not necessarily from where the descent landed.
            if (v_->insert(entry.id))
                detail::push_pending(&P_, entry,
                                     std::uint8_t(reader.is_result(entry.id) ? kPendingReturn | kPendingExpand
                                                                             : kPendingExpand));
            // Complete if W is full and nothing nearer than its farthest
            // waits to be expanded (C overflowed into P before W filled:
            // non-result nodes, e.g. deleted ones, do that).  Entries parked
            // for return only were evicted from W, so are no nearer.
            P_.settle();
            const bool full = W.size() == ef_;
            const float far = full ? W.top().distance : 0;
            if (std::uint32_t n = W.sort_in_place()) {
                first_complete_ = full && (P_.empty() || !(P_.top().distance < far));
                return n;
            }
        }
        while (!P_.empty()) {
            P_.settle();  // the loop appends what it parks
            C.clear();
            W.clear();
            // Seed W with the ef nearest entries still to return, and C with
            // the entries still to expand met on the way (while C has room).
            while (!P_.empty() && W.size() < ef_) {
                if ((P_.top().flags & kPendingExpand) && C.full())
                    break;
                const PendingId<Id> p = P_.pop();
                const ScoredId<Id> e{p.distance, p.id};
                if (p.flags & kPendingReturn)
                    W.push(e);
                if (p.flags & kPendingExpand)
                    C.push(e);
            }
            detail::search_layer_loop<true>(reader, *v_, s_, C, W, ef_, 0, &P_, stats_);
            if (std::uint32_t n = W.sort_in_place())
                return n;
        }
        state_ = kDone;
        return 0;
    }

    const ScoredId<Id> *batch() const { return s_.results; }
    bool exhausted() const { return state_ == kDone; }
    /// The first batch was a complete K-NN-SEARCH: ef results, and no
    /// unexpanded candidate nearer than the farthest of them (false until
    /// then, and for a first batch that returned nothing).
    bool first_batch_complete() const { return first_complete_; }
    std::size_t pending() const { return P_.size(); }  ///< entries in P
    const SearchStats &stats() const { return stats_; }
    std::uint32_t ef() const { return ef_; }

    void release()
    {
        P_.release();
        state_ = kDone;
    }

private:
    enum State : std::uint8_t { kFirst, kResume, kDone };

    SearchScratch<Id> s_;
    Visited *v_;
    PendingHeap<Id> P_;
    SearchStats stats_;
    Id ep_;
    int L_;
    std::uint32_t ef_;
    State state_;
    bool first_complete_ = false;
};

}  // namespace vecdb::hnsw
