/*
 * hnsw_search_test.cpp -- the pieces of the graph search (heaps, visited
 * sets, neighbour selection) and the search loop against its reference:
 * search_layer() must return the same ids as reference_search_layer() and
 * expand and score the same number of nodes, on every layer, from one or
 * several entry points, with deleted nodes, with exact distance ties, and
 * through a reader with sparse 6-byte ids and a hashed visited set.
 */
#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/graph/neighbor_select.h"
#include "hnsw_test_util.h"

namespace vecdb::hnsw {
namespace {

using testing::Dataset;
using testing::OwnedGraph;
using testing::Searcher;
using testing::Tid;
using testing::TidReader;
using Node = ScoredId<std::uint32_t>;

// --- working state is trivially destructible (cpp-postgres.md rule 3) ------------------

static_assert(std::is_trivially_destructible<SearchScratch<std::uint32_t>>::value, "");
static_assert(std::is_trivially_destructible<CandidateHeap<Tid>>::value, "");
static_assert(std::is_trivially_destructible<ResultHeap<Tid>>::value, "");
static_assert(std::is_trivially_destructible<PendingHeap<Tid>>::value, "");
static_assert(std::is_trivially_destructible<EpochVisitedSet>::value, "");
static_assert(std::is_trivially_destructible<HashVisitedSet<Tid>>::value, "");
static_assert(std::is_trivially_destructible<Scan<MemoryReader<false>, EpochVisitedSet>>::value, "");
static_assert(std::is_trivially_destructible<Scan<TidReader, HashVisitedSet<Tid>>>::value, "");
static_assert(std::is_trivially_destructible<MemoryGraph>::value, "");
static_assert(std::is_trivially_destructible<MemoryReader<true>>::value, "");

// --- heaps ----------------------------------------------------------------------------

std::vector<Node> random_nodes(std::size_t n, std::uint64_t seed, std::uint32_t distinct_distances)
{
    SplitMix64 rng{seed};
    std::vector<Node> v(n);
    for (std::size_t i = 0; i < n; i++)  // few distinct distances: many ties, broken by id
        v[i] = Node{float(rng.next() % distinct_distances), std::uint32_t(rng.next() % 100000)};
    return v;
}

bool node_less(const Node &a, const Node &b) { return closer(a, b); }

TEST(ScoredHeapTest, MinAndMaxHeapsPopInTotalOrder)
{
    for (std::uint32_t distinct : {3u, 1000u}) {
        std::vector<Node> v = random_nodes(500, distinct, distinct);
        std::vector<Node> storage(v.size());
        CandidateHeap<std::uint32_t> C;
        ResultHeap<std::uint32_t> W;
        C.init(storage.data(), std::uint32_t(v.size()));
        std::vector<Node> storage2(v.size());
        W.init(storage2.data(), std::uint32_t(v.size()));
        for (const Node &x : v) {
            C.push(x);
            W.push(x);
        }
        EXPECT_TRUE(C.full());
        std::vector<Node> sorted = v;
        std::sort(sorted.begin(), sorted.end(), node_less);
        for (std::size_t i = 0; i < sorted.size(); i++) {
            Node a = C.pop(), b = W.pop();
            EXPECT_EQ(a.id, sorted[i].id);
            EXPECT_EQ(b.id, sorted[sorted.size() - 1 - i].id);
        }
        EXPECT_TRUE(C.empty());
        EXPECT_TRUE(W.empty());
    }
}

TEST(ScoredHeapTest, ReplaceTopKeepsTheNearestK)
{
    std::vector<Node> v = random_nodes(1000, 7, 50);
    std::vector<Node> storage(10);
    ResultHeap<std::uint32_t> W;
    W.init(storage.data(), 10);
    for (const Node &x : v) {
        if (!W.full())
            W.push(x);
        else if (closer(x, W.top()))
            W.replace_top(x);
    }
    std::uint32_t n = W.sort_in_place();
    ASSERT_EQ(n, 10u);
    std::sort(v.begin(), v.end(), node_less);
    for (std::uint32_t i = 0; i < n; i++)
        EXPECT_EQ(storage[i].id, v[i].id) << i;
}

TEST(ScoredHeapTest, RemoveLastAndRemoveIf)
{
    std::vector<Node> v = random_nodes(300, 9, 40);
    std::vector<Node> storage(v.size());
    CandidateHeap<std::uint32_t> C;
    C.init(storage.data(), std::uint32_t(v.size()));
    for (const Node &x : v)
        C.push(x);
    std::vector<Node> sorted = v;
    std::sort(sorted.begin(), sorted.end(), node_less);
    // the farthest, three times
    for (int i = 0; i < 3; i++) {
        Node last = C.remove_last();
        EXPECT_EQ(last.id, sorted.back().id);
        EXPECT_EQ(last.distance, sorted.back().distance);
        sorted.pop_back();
    }
    // drop everything farther than the 100th
    const Node cut = sorted[99];
    std::size_t sunk = 0;
    C.remove_if([&](const Node &x) { return closer(cut, x); }, [&](const Node &) { sunk++; });
    EXPECT_EQ(sunk, sorted.size() - 100);
    ASSERT_EQ(C.size(), 100u);
    for (std::size_t i = 0; i < 100; i++)
        EXPECT_EQ(C.pop().id, sorted[i].id);
}

TEST(ScoredHeapTest, GrowableHeapGrowsThroughItsAllocator)
{
    struct Counting {
        int live = 0, calls = 0;
    } counts;
    ScratchAllocator alloc{&counts,
                           [](void *c, std::size_t bytes) {
                               static_cast<Counting *>(c)->live++;
                               static_cast<Counting *>(c)->calls++;
                               return std::malloc(bytes);
                           },
                           [](void *c, void *p) {
                               static_cast<Counting *>(c)->live--;
                               std::free(p);
                           }};
    PendingHeap<std::uint32_t> P;
    P.init(alloc);
    std::vector<Node> v = random_nodes(5000, 11, 100000);
    for (const Node &x : v)
        P.push(PendingId<std::uint32_t>{x.distance, x.id, kPendingReturn});
    EXPECT_GE(counts.calls, 5);  // 256, 512, ... 8192
    EXPECT_EQ(counts.live, 1);
    std::sort(v.begin(), v.end(), node_less);
    for (const Node &x : v)
        EXPECT_EQ(P.pop().id, x.id);
    P.release();
    EXPECT_EQ(counts.live, 0);
}

TEST(ScoredHeapTest, GrowableHeapSettlesAppendedEntries)
{
    // Many appended at once (rebuilt), then a few after pops (sifted up):
    // either way pops come out in closer() order.
    PendingHeap<std::uint32_t> P;
    P.init(malloc_allocator());
    std::vector<Node> v = random_nodes(3000, 5, 400);
    for (std::size_t i = 0; i < 2000; i++)
        P.append(PendingId<std::uint32_t>{v[i].distance, v[i].id, kPendingExpand});
    P.settle();
    std::vector<Node> expected(v.begin(), v.begin() + 2000);
    std::sort(expected.begin(), expected.end(), node_less);
    for (std::size_t i = 0; i < 1000; i++)
        ASSERT_EQ(P.pop().id, expected[i].id) << "pop " << i;
    std::vector<Node> rest(expected.begin() + 1000, expected.end());
    for (std::size_t i = 2000; i < 2050; i++) {  // 50 appended onto 1000: the sift-up path
        P.append(PendingId<std::uint32_t>{v[i].distance, v[i].id, kPendingExpand});
        rest.push_back(v[i]);
    }
    P.settle();
    std::sort(rest.begin(), rest.end(), node_less);
    for (std::size_t i = 0; i < rest.size(); i++)
        ASSERT_EQ(P.pop().id, rest[i].id) << "pop " << i << " after the second append";
    EXPECT_TRUE(P.empty());
    P.release();
}

// --- visited sets -------------------------------------------------------------------------

TEST(VisitedSetTest, EpochSetClearsInConstantTimeAndSurvivesWrapAround)
{
    std::vector<std::uint16_t> tags(100);
    EpochVisitedSet v;
    v.init(tags.data(), 100);
    EXPECT_TRUE(v.insert(5));
    EXPECT_FALSE(v.insert(5));
    EXPECT_TRUE(v.contains(5));
    EXPECT_FALSE(v.contains(6));
    for (int round = 0; round < 70000; round++) {  // the 16-bit epoch wraps once
        v.clear();
        ASSERT_FALSE(v.contains(5)) << round;
        ASSERT_TRUE(v.insert(std::uint32_t(round % 100))) << round;
        ASSERT_TRUE(v.contains(std::uint32_t(round % 100)));
    }
}

TEST(VisitedSetTest, HashSetMatchesStdSetAcrossGrowthAndClears)
{
    HashVisitedSet<std::uint64_t> v;
    v.init(malloc_allocator(), 16);
    SplitMix64 rng{3};
    for (int round = 0; round < 5; round++) {
        std::set<std::uint64_t> truth;
        for (int i = 0; i < 20000; i++) {
            std::uint64_t x = rng.next() % 30000;  // repeats
            ASSERT_EQ(v.insert(x), truth.insert(x).second);
        }
        EXPECT_EQ(v.size(), truth.size());
        for (std::uint64_t x = 0; x < 30000; x++)
            ASSERT_EQ(v.contains(x), truth.count(x) == 1);
        v.clear();
        EXPECT_FALSE(v.contains(*truth.begin()));
    }
    v.release();
}

TEST(VisitedSetTest, HashSetTakesSixByteIds)
{
    HashVisitedSet<Tid> v;
    v.init(malloc_allocator());
    for (std::uint32_t u = 0; u < 5000; u++)
        ASSERT_TRUE(v.insert(TidReader::to_tid(u)));
    for (std::uint32_t u = 0; u < 5000; u++)
        ASSERT_FALSE(v.insert(TidReader::to_tid(u)));
    EXPECT_FALSE(v.contains(TidReader::to_tid(5000)));
    v.release();
}

// --- neighbour selection --------------------------------------------------------------------

// Points on a line, q at 0: distances are |a - b|.
struct Line {
    std::vector<float> x;
    float operator()(std::uint32_t a, std::uint32_t b) const { return std::abs(x[a] - x[b]); }
};

TEST(NeighborSelectTest, SimpleTakesTheMNearest)
{
    std::vector<Node> C{{1, 4}, {2, 7}, {3, 1}};
    std::vector<Node> R(3);
    EXPECT_EQ(select_neighbors_simple(C.data(), 3, 2, R.data()), 2u);
    EXPECT_EQ(R[0].id, 4u);
    EXPECT_EQ(R[1].id, 7u);
    EXPECT_EQ(select_neighbors_simple(C.data(), 3, 5, R.data()), 3u);
}

TEST(NeighborSelectTest, HeuristicKeepsDiverseDirections)
{
    // ids 0..3 at 1, 2, -1.5, 3 (q at 0): 2 and 3 lie behind 1, -1.5 does not.
    Line line{{1.0f, 2.0f, -1.5f, 3.0f}};
    std::vector<Node> C{{1.0f, 0}, {1.5f, 2}, {2.0f, 1}, {3.0f, 3}};
    std::vector<Node> R(4), Wd(4);
    std::size_t n = select_neighbors_heuristic(C.data(), C.size(), 4, line, false, R.data(), Wd.data());
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(R[0].id, 0u);
    EXPECT_EQ(R[1].id, 2u);
    // keepPrunedConnections refills with the pruned, nearest first
    n = select_neighbors_heuristic(C.data(), C.size(), 3, line, true, R.data(), Wd.data());
    ASSERT_EQ(n, 3u);
    EXPECT_EQ(R[2].id, 1u);
    // M bounds the kept ones
    n = select_neighbors_heuristic(C.data(), C.size(), 1, line, true, R.data(), Wd.data());
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(R[0].id, 0u);
}

TEST(NeighborSelectTest, HeuristicDropsDuplicatesOfAKeptNeighbour)
{
    Line line{{1.0f, 1.0f, 1.0f, -1.0f}};
    std::vector<Node> C{{1.0f, 0}, {1.0f, 1}, {1.0f, 2}, {1.0f, 3}};
    std::vector<Node> R(4);
    std::size_t n = select_neighbors_heuristic(C.data(), C.size(), 4, line, false, R.data(), static_cast<Node *>(nullptr));
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(R[0].id, 0u);
    EXPECT_EQ(R[1].id, 3u);
}

TEST(NeighborSelectTest, KeepPrunedDoesNotRefillWithCopies)
{
    // ids 0 and 1 are the same point, 2 lies behind 0: the refill takes 2,
    // never the copy 1 (which would make a list of one place, twice).
    Line line{{1.0f, 1.0f, 2.0f}};
    std::vector<Node> C{{1.0f, 0}, {1.0f, 1}, {2.0f, 2}};
    std::vector<Node> R(3), Wd(3);
    std::size_t n = select_neighbors_heuristic(C.data(), C.size(), 3, line, true, R.data(), Wd.data());
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(R[0].id, 0u);
    EXPECT_EQ(R[1].id, 2u);
}

TEST(NeighborSelectTest, KeepPrunedTellsCopiesFromLongerVectorsUnderInnerProduct)
{
    // Negative inner product in the plane, q = (1, 0): distance(x, x) =
    // -|x|^2 is no minimum.  Kept: r = (1, 0.5) (id 0).  Pruned by r: its
    // copy (id 1) and e = (0.9, 1.2) (id 2), longer and along r (distance(e,
    // r) = -1.5 <= distance(r, r) = -1.25), which the refill must take.
    struct NegativeDot {
        std::vector<std::array<float, 2>> x;
        float operator()(std::uint32_t a, std::uint32_t b) const
        {
            return -(x[a][0] * x[b][0] + x[a][1] * x[b][1]);
        }
    } dot{{{1.0f, 0.5f}, {1.0f, 0.5f}, {0.9f, 1.2f}}};
    std::vector<Node> C{{-1.0f, 0}, {-1.0f, 1}, {-0.9f, 2}};
    std::vector<Node> R(3), Wd(3);
    std::size_t n = select_neighbors_heuristic(C.data(), C.size(), 3, dot, true, R.data(), Wd.data());
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(R[0].id, 0u);
    EXPECT_EQ(R[1].id, 2u);
}

// --- search_layer() against reference_search_layer() -------------------------------------------

/// Compares the fast and the reference SEARCH-LAYER on layer lc of g from
/// the given entry points, for every ef; returns the number of comparisons.
template <class Reader, class Visited>
void expect_same_search(Reader &reader, Visited &visited, SearchScratch<typename Reader::Id> &s,
                        const std::vector<ScoredId<typename Reader::Id>> &ep, int lc, std::size_t ef,
                        const char *what)
{
    SearchStats fast, ref;
    const std::uint32_t n = search_layer(reader, visited, s, ep.data(), ep.size(), ef, lc, fast);
    const auto expected = reference_search_layer(reader, ep, ef, lc, ref);
    ASSERT_EQ(fast.candidates_dropped, 0u) << what;
    ASSERT_EQ(n, expected.size()) << what << " ef " << ef << " layer " << lc;
    for (std::uint32_t i = 0; i < n; i++) {
        ASSERT_TRUE(s.results[i].id == expected[i].id) << what << " ef " << ef << " layer " << lc << " rank " << i;
        ASSERT_EQ(s.results[i].distance, expected[i].distance);
    }
    EXPECT_EQ(fast.hops, ref.hops) << what << " ef " << ef << " layer " << lc;
    EXPECT_EQ(fast.distance_computations, ref.distance_computations) << what << " ef " << ef << " layer " << lc;
}

/// For nq queries: every layer from the entry point, and layer 0 from 5
/// entry points at once, at ef 1, 5, 10, 40 and 100.
void compare_with_reference(const MemoryGraph &g, const Dataset &queries, std::uint32_t nq, const char *what)
{
    Searcher searcher(g, 128);
    SplitMix64 rng{17};
    for (std::uint32_t qi = 0; qi < nq; qi++) {
        MemoryReader<false> reader(g, searcher.prepare(queries.row(qi)));
        for (std::size_t ef : {1, 5, 10, 40, 100}) {
            const std::uint32_t ep = g.entry_point();
            for (int lc = g.max_level(); lc >= 0; lc--)
                expect_same_search(reader, searcher.visited, searcher.scratch, {{reader.distance(ep), ep}}, lc, ef, what);
            std::vector<Node> eps;
            for (int i = 0; i < 5; i++) {
                std::uint32_t u = std::uint32_t(rng.next() % g.inserted());
                eps.push_back({reader.distance(u), u});
            }
            eps.push_back(eps[0]);  // a repeated entry point is visited once
            expect_same_search(reader, searcher.visited, searcher.scratch, eps, 0, ef, what);
        }
    }
}

/// A reader over a random directed graph with made-up distances: few
/// distinct values (ties everywhere, so C overflows and ties decide), some
/// nodes that are not results, uneven degrees; no build involved.
struct RandomGraphReader {
    using Id = std::uint32_t;
    std::vector<std::vector<std::uint32_t>> adj;
    std::vector<float> dist;
    std::vector<bool> result;

    RandomGraphReader(std::uint32_t n, std::uint32_t max_degree, std::uint32_t distinct, std::uint64_t seed)
        : adj(n), dist(n), result(n)
    {
        SplitMix64 rng{seed};
        for (std::uint32_t u = 0; u < n; u++) {
            dist[u] = float(rng.next() % distinct);
            result[u] = rng.next() % 5 != 0;
            const std::uint32_t degree = std::uint32_t(rng.next() % (max_degree + 1));
            for (std::uint32_t i = 0; i < degree; i++)
                adj[u].push_back(std::uint32_t(rng.next() % n));
        }
    }
    std::size_t max_degree() const
    {
        std::size_t m = 0;
        for (const auto &a : adj)
            m = std::max(m, a.size());
        return m;
    }
    std::size_t neighbors(Id id, int, Id *out) const
    {
        std::copy(adj[id].begin(), adj[id].end(), out);
        return adj[id].size();
    }
    float distance(Id id) const { return dist[id]; }
    void distances(const Id *ids, std::size_t n, float *out) const
    {
        for (std::size_t i = 0; i < n; i++)
            out[i] = dist[ids[i]];
    }
    bool is_result(Id id) const { return result[id]; }
};

TEST(SearchLayerLoopTest, MatchesReferenceOnRandomGraphsWithTies)
{
    for (std::uint64_t seed = 1; seed <= 60; seed++) {
        RandomGraphReader reader(300, 24, seed % 3 == 0 ? 2 : 6, seed);
        std::vector<char> memory(SearchScratch<std::uint32_t>::bytes(20, reader.max_degree()));
        SearchScratch<std::uint32_t> s;
        s.init(memory.data(), 20, reader.max_degree());
        std::vector<std::uint16_t> tags(300);
        EpochVisitedSet visited;
        visited.init(tags.data(), 300);
        for (std::size_t ef : {1, 2, 3, 5, 10, 20}) {
            std::vector<Node> ep{{reader.dist[seed % 300], std::uint32_t(seed % 300)}};
            SearchStats fast, ref;
            const std::uint32_t n = search_layer(reader, visited, s, ep.data(), 1, ef, 0, fast);
            const auto expected = reference_search_layer(reader, ep, ef, 0, ref);
            ASSERT_EQ(n, expected.size()) << "seed " << seed << " ef " << ef;
            for (std::uint32_t i = 0; i < n; i++)
                ASSERT_EQ(s.results[i].id, expected[i].id) << "seed " << seed << " ef " << ef << " rank " << i;
            if (fast.candidates_dropped == 0) {
                EXPECT_EQ(fast.hops, ref.hops) << "seed " << seed << " ef " << ef;
                EXPECT_EQ(fast.distance_computations, ref.distance_computations) << "seed " << seed << " ef " << ef;
            }
        }
    }
}

class SearchLayerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { init_distance_kernels(); }
};

TEST_F(SearchLayerTest, MatchesReferenceOnTheSharedGraph)
{
    compare_with_reference(testing::shared_graph(Metric::L2), testing::clustered_queries(), 30, "L2 graph");
    compare_with_reference(testing::shared_graph(Metric::InnerProduct), testing::normalized_queries(), 10, "IP graph");
}

TEST_F(SearchLayerTest, MatchesReferenceWithSmallMAndDuplicateVectors)
{
    // Every vector four times over: exact distance ties everywhere.
    Dataset base = testing::clustered(500, 8, 5, 3, 4);
    Dataset d;
    d.n = 2000;
    d.dims = 8;
    for (std::uint32_t i = 0; i < d.n; i++)
        d.data.insert(d.data.end(), base.row(i / 4), base.row(i / 4) + 8);
    Params p;
    p.M = 4;
    p.ef_construction = 20;
    auto g = testing::make_graph(d, Metric::L2, p);
    EXPECT_EQ(testing::check_structure(g->graph), "");
    compare_with_reference(g->graph, testing::clustered(50, 8, 5, 3, 5), 50, "duplicates");
}

TEST_F(SearchLayerTest, MatchesReferenceWithDeletedNodes)
{
    Dataset d = testing::clustered(3000, 16, 10, 5, 6);
    auto g = testing::make_graph(d, Metric::L2, Params{});
    for (std::uint32_t u = 0; u < d.n; u++)
        if (splitmix64_mix(u) % 10 < 3)
            g->graph.mark_deleted(u);
    g->graph.mark_deleted(g->graph.entry_point());
    compare_with_reference(g->graph, testing::clustered(30, 16, 10, 5, 7), 30, "30% deleted");
}

TEST_F(SearchLayerTest, GreedyDescentMatchesReferenceWithEfOne)
{
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher searcher(g);
    for (std::uint32_t qi = 0; qi < 50; qi++) {
        MemoryReader<false> reader(g, searcher.prepare(testing::clustered_queries().row(qi)));
        Node cur{reader.distance(g.entry_point()), g.entry_point()};
        for (int lc = g.max_level(); lc >= 0; lc--) {
            SearchStats fast, ref;
            const Node next = search_layer_greedy(reader, searcher.scratch, cur, lc, fast);
            const auto expected = reference_search_layer(reader, {cur}, 1, lc, ref);
            ASSERT_EQ(expected.size(), 1u);
            ASSERT_EQ(next.id, expected[0].id) << "query " << qi << " layer " << lc;
            EXPECT_EQ(fast.hops, ref.hops);
            EXPECT_GE(fast.distance_computations, ref.distance_computations);  // no visited set
            cur = next;
        }
    }
}

TEST_F(SearchLayerTest, SparseIdsAndHashedVisitedSetSearchTheSame)
{
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher dense(g, 100);
    std::vector<char> memory(SearchScratch<Tid>::bytes(100, g.max_links(0)));
    SearchScratch<Tid> s;
    s.init(memory.data(), 100, g.max_links(0));
    HashVisitedSet<Tid> visited;
    visited.init(malloc_allocator(), 64);  // grows during the first search
    for (std::uint32_t qi = 0; qi < 30; qi++) {
        const float *q = dense.prepare(testing::clustered_queries().row(qi));
        TidReader reader(g, q);
        SearchStats a, b;
        const std::uint32_t n = knn_search(reader, visited, s, TidReader::to_tid(g.entry_point()), g.max_level(), 40, a);
        const auto expected = dense.knn(testing::clustered_queries().row(qi), 40, 40, &b);
        ASSERT_EQ(n, expected.size());
        for (std::uint32_t i = 0; i < n; i++)
            ASSERT_EQ(TidReader::to_node(s.results[i].id), expected[i].id) << "query " << qi << " rank " << i;
        EXPECT_EQ(a.hops, b.hops);
        EXPECT_EQ(a.distance_computations, b.distance_computations);
    }
    visited.release();
}

TEST_F(SearchLayerTest, KnnSearchEdgeCases)
{
    Dataset d = testing::clustered(3, 4, 1, 1, 2);
    testing::OwnedGraph empty(10, 4, Metric::L2, Params{});
    Searcher se(empty.graph);
    EXPECT_TRUE(se.knn(d.row(0), 10, 40).empty());

    auto one = testing::make_graph(Dataset{1, 4, {d.data.begin(), d.data.begin() + 4}}, Metric::L2, Params{});
    Searcher s1(one->graph);
    auto r = s1.knn(d.row(1), 10, 40);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].id, 0u);

    // ef < k searches with k; ef above the scratch's capacity is clamped
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher s(g, 64);
    auto a = s.knn(testing::clustered_queries().row(0), 50, 5);
    EXPECT_EQ(a.size(), 50u);
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end(), node_less));
    SearchStats stats;
    std::uint32_t n = search(g, s.prepare(testing::clustered_queries().row(0)), 1000, s.visited, s.scratch, stats);
    EXPECT_EQ(n, 64u);
}

}  // namespace
}  // namespace vecdb::hnsw
