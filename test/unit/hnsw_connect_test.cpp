/*
 * hnsw_connect_test.cpp -- connect_unreachable() and link_layer0().  After a
 * build and after repair_deleted(), layer 0 is strongly connected: every
 * live node is reachable from the entry point, and every node reaches the
 * entry point.  So an exhaustive Scan returns every live node wherever its
 * descent lands.  Degree bounds hold and recall does not drop.
 *
 * The data are cases where Algorithm 4 leaves many nodes without an in-link
 * (the default M = 16 build leaves 10 of the 10,000 test points): small M
 * on clustered data, and exact duplicates.  A duplicate is never "nearer to
 * q than to its twin", so the heuristic prunes it from lists, and a group of
 * copies can end up linking only to itself (stranded: no way back to the
 * entry point).  Measured when written:
 *
 *   case                                   unreachable -> in-links   stranded -> out-links
 *   M = 4, 3000 x 8 clustered (seed 2)          16 -> 15                  0
 *   M = 3, 2000 x 16 clustered                 105 -> 100                 0
 *   M = 8, 300 points x 5 copies in 8 dims      71 -> 65                228 -> 33
 *
 * The in-links are fewer than the unreachable nodes because a node behind a
 * linked one needs no link of its own.  recall@10 at ef 40 stays the same
 * or improves: 0.676 -> 0.785 at M = 3, 0.852 -> 0.952 with duplicates.
 * After deleting 30% and repairing, the repair's pass added 8, 39 and 46
 * in-links (and 65 out-links for the duplicates).
 */
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hnsw_test_util.h"

namespace vecdb::hnsw {
namespace {

using testing::Dataset;
using testing::OwnedGraph;
using Node = ScoredId<std::uint32_t>;

class HnswConnectTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { init_distance_kernels(); }
};

std::unique_ptr<OwnedGraph> build_graph(const Dataset &d, const Params &p, bool connect)
{
    auto g = testing::make_graph(d, Metric::L2, p, 1, false);
    BuildOptions options;
    options.connect = connect;
    EXPECT_EQ(build(g->graph, options), BuildStatus::Done);
    return g;
}

/// Live (not deleted) nodes the entry point does not reach on layer 0.
std::uint32_t unreachable_live(const MemoryGraph &g)
{
    if (g.entry_point() == MemoryGraph::kNone)
        return 0;
    const std::set<std::uint32_t> reached = testing::layer0_reachable(g, g.entry_point());
    std::uint32_t n = 0;
    for (std::uint32_t u = 0; u < g.inserted(); u++)
        n += !g.is_deleted(u) && reached.count(u) == 0;
    return n;
}

/// Nodes (removed ones aside) from which the entry point is not reachable
/// on layer 0: a scan whose descent lands on one misses nodes.
std::uint32_t stranded(const MemoryGraph &g)
{
    const std::uint32_t n = g.inserted();
    std::vector<std::vector<std::uint32_t>> into(n);
    for (std::uint32_t u = 0; u < n; u++) {
        const std::uint32_t *l = g.links(u, 0);
        for (std::uint32_t i = 0; i < l[0]; i++)
            into[l[1 + i]].push_back(u);
    }
    std::vector<char> reaches(n, 0);
    std::vector<std::uint32_t> stack{g.entry_point()};
    reaches[g.entry_point()] = 1;
    while (!stack.empty()) {
        const std::uint32_t v = stack.back();
        stack.pop_back();
        for (std::uint32_t u : into[v])
            if (!reaches[u]) {
                reaches[u] = 1;
                stack.push_back(u);
            }
    }
    std::uint32_t count = 0;
    for (std::uint32_t u = 0; u < n; u++)
        count += !g.is_removed(u) && !reaches[u];
    return count;
}

/// Every node an exhaustive Scan for `query` returns (each once).
std::set<std::uint32_t> scan_all(const MemoryGraph &g, const float *query)
{
    testing::Searcher searcher(g, 32);
    MemoryReader<false> reader(g, searcher.prepare(query));
    Scan<MemoryReader<false>, EpochVisitedSet> scan;
    scan.init(searcher.scratch, &searcher.visited, malloc_allocator(), 32);
    scan.start(g.entry_point(), g.max_level());
    std::set<std::uint32_t> out;
    for (std::uint32_t n; (n = scan.next_batch(reader)) != 0;)
        for (std::uint32_t i = 0; i < n; i++)
            EXPECT_TRUE(out.insert(scan.batch()[i].id).second);
    scan.release();
    return out;
}

struct Case {
    const char *name;
    Dataset points;
    Dataset queries;
    Params params;
    double recall_floor;
};

std::vector<Case> cases()
{
    std::vector<Case> out;
    Params m4;
    m4.M = 4;
    m4.ef_construction = 16;
    m4.seed = 2;
    out.push_back({"M=4 clustered", testing::clustered(3000, 8, 6, 31, 32), testing::clustered(100, 8, 6, 31, 33), m4, 0.9});
    Params m3;
    m3.M = 3;
    m3.ef_construction = 10;
    out.push_back({"M=3 clustered", testing::clustered(2000, 16, 10, 21, 22), testing::clustered(100, 16, 10, 21, 23), m3, 0.6});
    // 300 distinct points, each added 5 times.
    const Dataset base = testing::clustered(300, 8, 4, 1, 2);
    Dataset dup;
    dup.n = 5 * base.n;
    dup.dims = base.dims;
    for (int copy = 0; copy < 5; copy++)
        dup.data.insert(dup.data.end(), base.data.begin(), base.data.end());
    Params m8;
    m8.M = 8;
    m8.ef_construction = 32;
    // Recall with 5-way ties counts only the ids brute force picks.
    out.push_back({"M=8 duplicates", dup, testing::clustered(100, 8, 4, 1, 3), m8, 0.8});
    return out;
}

TEST_F(HnswConnectTest, EveryNodeIsReachableAfterTheBuild)
{
    for (const Case &c : cases()) {
        SCOPED_TRACE(c.name);
        auto g = build_graph(c.points, c.params, false);
        const std::uint32_t before = unreachable_live(g->graph);
        ASSERT_GT(before, 0u) << "the case must have unreachable nodes to test the pass";
        const double recall_before = testing::recall(g->graph, c.queries, 10, 40);
        const std::set<std::uint32_t> scanned_before = scan_all(g->graph, c.queries.row(0));
        EXPECT_LT(scanned_before.size(), c.points.n);

        const std::uint32_t stranded_before = stranded(g->graph);
        const ConnectStats st = connect_unreachable(g->graph);
        EXPECT_EQ(st.unreachable, before);
        EXPECT_GT(st.linked_in, 0u);
        EXPECT_LE(st.linked_in, before);  // nodes behind a linked one need no link of their own
        EXPECT_EQ(st.stranded, stranded_before);
        EXPECT_EQ(st.linked_out > 0, stranded_before > 0);
        EXPECT_EQ(st.failed, 0u);
        EXPECT_EQ(unreachable_live(g->graph), 0u);
        EXPECT_EQ(stranded(g->graph), 0u);
        EXPECT_EQ(testing::check_structure(g->graph), "");  // <= 2M links, no self or duplicate links
        const double recall_after = testing::recall(g->graph, c.queries, 10, 40);
        EXPECT_GE(recall_after, recall_before - 0.002);
        EXPECT_GE(recall_after, c.recall_floor);
        for (std::uint32_t qi = 0; qi < 3; qi++)
            EXPECT_EQ(scan_all(g->graph, c.queries.row(qi)).size(), c.points.n) << "query " << qi;
        const ConnectStats again = connect_unreachable(g->graph);  // nothing left to do
        EXPECT_EQ(again.unreachable + again.stranded, 0u);
        std::printf("    %-15s unreachable %3u -> in-links %3u; stranded %3u -> out-links %2u; recall@10 ef 40 "
                    "%.4f -> %.4f\n",
                    c.name, before, st.linked_in, stranded_before, st.linked_out, recall_before, recall_after);

        // build() runs the same pass: the same graph.
        auto h = build_graph(c.points, c.params, true);
        for (std::uint32_t u = 0; u < c.points.n; u++) {
            const std::uint32_t *x = g->graph.links(u, 0), *y = h->graph.links(u, 0);
            ASSERT_EQ(std::vector<std::uint32_t>(x, x + 1 + x[0]), std::vector<std::uint32_t>(y, y + 1 + y[0]))
                << "node " << u;
        }
    }
}

TEST_F(HnswConnectTest, TwoThreadBuildsAreFullyReachable)
{
    const Case c = cases()[0];
    for (int round = 0; round < 3; round++) {
        Params p = c.params;
        p.seed = round;
        auto g = testing::make_graph(c.points, Metric::L2, p, 2);
        EXPECT_EQ(unreachable_live(g->graph), 0u) << "round " << round;
        EXPECT_EQ(stranded(g->graph), 0u) << "round " << round;
        EXPECT_EQ(testing::check_structure(g->graph), "") << "round " << round;
    }
}

TEST_F(HnswConnectTest, EveryLiveNodeIsReachableAfterARepair)
{
    for (const Case &c : cases()) {
        SCOPED_TRACE(c.name);
        auto g = build_graph(c.points, c.params, true);
        ASSERT_EQ(unreachable_live(g->graph), 0u);
        std::set<std::uint32_t> deleted;
        for (std::uint32_t u = 0; u < c.points.n; u++)
            if (splitmix64_mix(u ^ 9) % 100 < 30) {
                g->graph.mark_deleted(u);
                deleted.insert(u);
            }
        g->graph.mark_deleted(g->graph.entry_point());
        deleted.insert(g->graph.entry_point());
        const RepairStats st = repair_deleted(g->graph);
        EXPECT_EQ(st.removed, deleted.size());
        EXPECT_EQ(st.connect.failed, 0u);
        EXPECT_EQ(unreachable_live(g->graph), 0u);
        EXPECT_EQ(stranded(g->graph), 0u);
        EXPECT_EQ(testing::check_structure(g->graph), "");
        const std::size_t live = c.points.n - deleted.size();
        for (std::uint32_t qi = 0; qi < 3; qi++) {
            const std::set<std::uint32_t> scanned = scan_all(g->graph, c.queries.row(qi));
            EXPECT_EQ(scanned.size(), live) << "query " << qi;
            for (std::uint32_t u : scanned)
                EXPECT_EQ(deleted.count(u), 0u);
        }
        std::printf("    %-15s 30%% deleted, %zu live: the repair's pass added %u in-links, %u out-links\n", c.name,
                    live, st.connect.linked_in, st.connect.linked_out);
        // Every case loses in-links in the repair (measured: 8, 39, 48).
        EXPECT_GT(st.connect.linked_in, 0u);
    }
}

/// A hand-made layer 0 (every level 0): points on a line, x = id.
struct LineGraph {
    OwnedGraph owned;

    explicit LineGraph(std::uint32_t n) : owned(n, 2, Metric::L2, params())
    {
        for (std::uint32_t i = 0; i < n; i++) {
            const float v[2] = {float(i), 0.0f};
            owned.graph.add(v);
        }
        owned.graph.set_inserted(n);
        owned.graph.set_entry_point(0, 0);
    }
    static Params params()
    {
        Params p;
        p.M = 2;      // Mmax0 = 4
        p.ml = 1e-9;  // every node on level 0 only
        return p;
    }
    void set(std::uint32_t u, std::vector<std::uint32_t> ids)
    {
        std::uint32_t *l = owned.graph.links(u, 0);
        l[0] = static_cast<std::uint32_t>(ids.size());
        for (std::size_t i = 0; i < ids.size(); i++)
            l[1 + i] = ids[i];
    }
    std::vector<std::uint32_t> get(std::uint32_t u) const
    {
        const std::uint32_t *l = owned.graph.links(u, 0);
        return std::vector<std::uint32_t>(l + 1, l + 1 + l[0]);
    }
    std::set<std::uint32_t> reached() const { return testing::layer0_reachable(owned.graph, 0); }
};

bool includes(const std::set<std::uint32_t> &big, const std::set<std::uint32_t> &small)
{
    for (std::uint32_t x : small)
        if (big.count(x) == 0)
            return false;
    return true;
}

TEST_F(HnswConnectTest, LinkLayer0SplicesWithoutLosingAPath)
{
    LineGraph g(10);
    for (std::uint32_t u = 0; u < 5; u++) {  // 0 .. 4: each links to the other four (full)
        std::vector<std::uint32_t> others;
        for (std::uint32_t v = 0; v < 5; v++)
            if (v != u)
                others.push_back(v);
        g.set(u, others);
    }
    g.set(6, {0, 1, 2, 3});  // full; nothing links to 5 .. 9
    g.set(7, {5});
    g.set(8, {5, 6, 7, 9});  // full, shares nothing with 0 .. 4
    g.set(5, {9});
    MemoryGraph &m = g.owned.graph;
    ASSERT_EQ(g.reached(), (std::set<std::uint32_t>{0, 1, 2, 3, 4}));

    // v = 4 full, u = 6 already links to all of v's neighbours: the farthest
    // from 4 (node 0) is replaced, u's list stays as it is.
    std::set<std::uint32_t> before = g.reached();
    ASSERT_TRUE(link_layer0(m, 4, 6));
    EXPECT_EQ(g.get(4), (std::vector<std::uint32_t>{6, 1, 2, 3}));
    EXPECT_EQ(g.get(6), (std::vector<std::uint32_t>{0, 1, 2, 3}));
    EXPECT_TRUE(includes(g.reached(), before));
    EXPECT_EQ(g.reached().count(6), 1u);

    // v = 3 full, u = 7 shares nothing but has room: 3's farthest link
    // (node 0, at 3) moves to 7.
    before = g.reached();
    ASSERT_TRUE(link_layer0(m, 3, 7));
    EXPECT_EQ(g.get(3), (std::vector<std::uint32_t>{7, 1, 2, 4}));
    EXPECT_EQ(g.get(7), (std::vector<std::uint32_t>{5, 0}));
    EXPECT_TRUE(includes(g.reached(), before));
    EXPECT_EQ(g.reached(), (std::set<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 9}));

    // v = 1 full, u = 8 full, nothing shared: refused, nothing changes.
    const std::vector<std::uint32_t> l1 = g.get(1), l8 = g.get(8);
    EXPECT_FALSE(link_layer0(m, 1, 8));
    EXPECT_EQ(g.get(1), l1);
    EXPECT_EQ(g.get(8), l8);
    EXPECT_FALSE(link_layer0(m, 8, 8));  // never a self-link

    // Unless 8 is not reached yet (connect_unreachable()'s in-links): then
    // 8's farthest link (5) makes room for 1's farthest neighbour (4), and
    // 1 -> 4 becomes 1 -> 8 -> 4.
    before = g.reached();
    ASSERT_EQ(before.count(8), 0u);
    ASSERT_TRUE(link_layer0(m, 1, 8, true));
    EXPECT_EQ(g.get(1), (std::vector<std::uint32_t>{0, 2, 3, 8}));
    EXPECT_EQ(g.get(8), (std::vector<std::uint32_t>{4, 6, 7, 9}));
    EXPECT_TRUE(includes(g.reached(), before));
    EXPECT_EQ(g.reached().count(8), 1u);

    // A list with room just gets the link; an existing link is kept as is.
    ASSERT_TRUE(link_layer0(m, 5, 8));
    EXPECT_EQ(g.get(5), (std::vector<std::uint32_t>{9, 8}));
    ASSERT_TRUE(link_layer0(m, 5, 8));
    EXPECT_EQ(g.get(5), (std::vector<std::uint32_t>{9, 8}));
    EXPECT_EQ(g.reached().size(), 10u);
    EXPECT_EQ(testing::check_structure(m), "");
}

TEST_F(HnswConnectTest, ConnectsThroughFullListsAndSkipsDeletedNodes)
{
    // 0 .. 4 fully connected with full lists; 5 .. 7 unreachable.  Node 6 is
    // deleted (walked through, never connected for its own sake).
    LineGraph g(8);
    for (std::uint32_t u = 0; u < 5; u++) {
        std::vector<std::uint32_t> others;
        for (std::uint32_t v = 0; v < 5; v++)
            if (v != u)
                others.push_back(v);
        g.set(u, others);
    }
    g.set(5, {4});
    g.set(6, {5});
    g.set(7, {6});
    MemoryGraph &m = g.owned.graph;
    m.mark_deleted(6);
    ASSERT_EQ(unreachable_live(m), 2u);  // 5 and 7
    // 5: its nearest reachable node, 4, is full and shares no neighbour
    // with 5, so 4 -> 0 becomes 4 -> 5 -> 0.  7: its nearest reachable node
    // is now 5, which has room.  6 is reached behind 7.
    const ConnectStats st = connect_unreachable(m);
    EXPECT_EQ(st.unreachable, 2u);
    EXPECT_EQ(st.linked_in, 2u);
    EXPECT_EQ(st.stranded, 0u);
    EXPECT_EQ(g.get(4), (std::vector<std::uint32_t>{5, 1, 2, 3}));
    EXPECT_EQ(g.get(5), (std::vector<std::uint32_t>{4, 0, 7}));
    EXPECT_EQ(unreachable_live(m), 0u);
    EXPECT_EQ(g.reached().size(), 8u);  // 6 too, behind 7
    EXPECT_EQ(testing::check_structure(m), "");
}

TEST_F(HnswConnectTest, ClosedGroupsGetAWayOut)
{
    // 0 <-> 1 <-> 2 (full lists elsewhere do not matter); 3 and 4 are
    // reached (1 -> 3, 2 -> 4) but only link to each other: a scan whose
    // descent lands on 3 would return 3 and 4 only.  5 links nowhere.
    LineGraph g(6);
    g.set(0, {1});
    g.set(1, {0, 2, 3});
    g.set(2, {1, 4, 5});
    g.set(3, {4});
    g.set(4, {3});
    MemoryGraph &m = g.owned.graph;
    ASSERT_EQ(stranded(m), 3u);
    const ConnectStats st = connect_unreachable(m);
    EXPECT_EQ(st.unreachable, 0u);
    EXPECT_EQ(st.stranded, 3u);
    EXPECT_EQ(st.linked_out, 2u);  // one link out of {3, 4}, one out of {5}
    EXPECT_EQ(st.failed, 0u);
    EXPECT_EQ(g.get(3), (std::vector<std::uint32_t>{4, 2}));  // 3's nearest node that reaches 0
    EXPECT_EQ(g.get(4), (std::vector<std::uint32_t>{3}));
    EXPECT_EQ(g.get(5), (std::vector<std::uint32_t>{2}));
    EXPECT_EQ(stranded(m), 0u);
    EXPECT_EQ(testing::check_structure(m), "");
}

}  // namespace
}  // namespace vecdb::hnsw

namespace vecdb::hnsw {
namespace {

TEST(HnswConnectCancelTest, AGraphOfCopiesStopsOnRequest)
{
    // Every vector the same: every node but one is unreachable after the
    // inserts, and each search for one walks the whole graph (a quadratic
    // pass), so a build must answer a cancel inside connect_unreachable().
    testing::Dataset copies;
    copies.n = 3000;
    copies.dims = 8;
    copies.data.assign(std::size_t(copies.n) * copies.dims, 0.5f);
    struct Polls {
        int calls = 0;
        int stop_after = 0;
    } polls;
    auto cancel = [](void *context) {
        auto *p = static_cast<Polls *>(context);
        return ++p->calls > p->stop_after;
    };

    auto g = testing::make_graph(copies, Metric::L2, Params{}, 1, false);
    BuildOptions options;
    options.connect = false;
    ASSERT_EQ(build(g->graph, options), BuildStatus::Done);
    polls.stop_after = 10;
    const ConnectStats st = connect_unreachable(g->graph, cancel, &polls);
    EXPECT_TRUE(st.cancelled);
    EXPECT_EQ(polls.calls, 11);
    EXPECT_LE(st.linked_in, 10u);
    EXPECT_EQ(testing::check_structure(g->graph), "");

    // build() reports it; called again (no cancel), it finishes the pass.
    auto h = testing::make_graph(copies, Metric::L2, Params{}, 1, false);
    polls = Polls{};
    polls.stop_after = copies.n;  // past the inserts, inside the pass
    options.connect = true;
    options.cancel = cancel;
    options.context = &polls;
    EXPECT_EQ(build(h->graph, options), BuildStatus::Cancelled);
    EXPECT_EQ(h->graph.inserted(), copies.n);
    options.cancel = nullptr;
    EXPECT_EQ(build(h->graph, options), BuildStatus::Done);
    EXPECT_EQ(unreachable_live(h->graph), 0u);
    EXPECT_EQ(testing::check_structure(h->graph), "");
}

}  // namespace
}  // namespace vecdb::hnsw
