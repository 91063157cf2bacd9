/*
 * hnsw_delete_test.cpp -- deletion marks and repair_deleted(), as VACUUM
 * will use them: mark the dead, keep searching, repair, keep searching.
 * Recall is measured against brute force over the live nodes only.
 */
#include <cstdint>
#include <cstdio>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "hnsw_test_util.h"

namespace vecdb::hnsw {
namespace {

using testing::Dataset;
using testing::OwnedGraph;
using testing::Searcher;

class HnswDeleteTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { init_distance_kernels(); }
};

/// Marks about `percent`% of the nodes deleted (a fixed pseudo-random choice).
std::set<std::uint32_t> delete_some(MemoryGraph &g, std::uint32_t percent, std::uint64_t salt)
{
    std::set<std::uint32_t> deleted;
    for (std::uint32_t u = 0; u < g.inserted(); u++)
        if (splitmix64_mix(u ^ salt) % 100 < percent) {
            g.mark_deleted(u);
            deleted.insert(u);
        }
    return deleted;
}

double live_recall(const MemoryGraph &g, const Dataset &queries, std::size_t ef, const std::set<std::uint32_t> &deleted)
{
    Searcher s(g);
    double sum = 0;
    for (std::uint32_t i = 0; i < queries.n; i++) {
        auto found = s.knn(queries.row(i), 10, ef);
        for (const auto &x : found)
            EXPECT_EQ(deleted.count(x.id), 0u) << "a deleted node was returned";
        sum += testing::overlap(found, brute_force_knn(g, s.query.data(), 10));
    }
    return sum / queries.n;
}

TEST_F(HnswDeleteTest, TwentyPercentDeletedThenRepairedKeepsRecall)
{
    auto g = testing::make_graph(testing::clustered_points(), Metric::L2, Params{});
    const Dataset &queries = testing::clustered_queries();
    auto deleted = delete_some(g->graph, 20, 1);
    deleted.insert(g->graph.entry_point());
    g->graph.mark_deleted(g->graph.entry_point());

    // Marked only: still walked through, never returned.
    const double marked = live_recall(g->graph, queries, 40, deleted);
    EXPECT_GE(marked, 0.95);

    const RepairStats st = repair_deleted(g->graph);
    EXPECT_EQ(st.removed, deleted.size());
    EXPECT_TRUE(st.entry_point_moved);
    EXPECT_GT(st.lists_repaired, 0u);
    EXPECT_EQ(testing::check_structure(g->graph), "");  // no link to a removed node, entry point on top
    EXPECT_FALSE(g->graph.is_deleted(g->graph.entry_point()));
    for (std::uint32_t u : deleted)
        EXPECT_TRUE(g->graph.is_removed(u));

    const double repaired = live_recall(g->graph, queries, 40, deleted);
    EXPECT_GE(repaired, 0.95);
    const std::size_t reachable = testing::layer0_reachable(g->graph, g->graph.entry_point()).size();
    std::printf("    20%% deleted: recall@10 at ef 40 %.4f marked, %.4f repaired (%u lists, %u refilled by "
                "search); %zu of %zu live nodes reachable on layer 0\n",
                marked, repaired, st.lists_repaired, st.searches, reachable, g->graph.inserted() - deleted.size());
    EXPECT_GE(reachable, (g->graph.inserted() - deleted.size()) * 99 / 100);

    // A second repair has nothing to do.
    const RepairStats again = repair_deleted(g->graph);
    EXPECT_EQ(again.removed, 0u);
    EXPECT_EQ(again.lists_repaired, 0u);
}

TEST_F(HnswDeleteTest, InsertsAfterDeletionDoNotLinkToDeletedNodes)
{
    Dataset d = testing::clustered(4000, 16, 8, 3, 4);
    OwnedGraph g(d.n, d.dims, Metric::L2, Params{});
    for (std::uint32_t i = 0; i < 2000; i++)
        g.graph.add(d.row(i));
    build(g.graph, BuildOptions{});
    auto deleted = delete_some(g.graph, 30, 2);
    for (std::uint32_t i = 2000; i < d.n; i++)
        g.graph.add(d.row(i));
    build(g.graph, BuildOptions{});
    for (std::uint32_t u = 2000; u < d.n; u++)
        for (int lc = 0; lc <= g.graph.level(u); lc++) {
            const std::uint32_t *l = g.graph.links(u, lc);
            for (std::uint32_t i = 1; i <= l[0]; i++)
                ASSERT_EQ(deleted.count(l[i]), 0u) << "new node " << u << " linked to deleted " << l[i];
        }
    repair_deleted(g.graph);
    EXPECT_EQ(testing::check_structure(g.graph), "");
    EXPECT_GE(live_recall(g.graph, testing::clustered(100, 16, 8, 3, 5), 40, deleted), 0.95);
}

TEST_F(HnswDeleteTest, DeletingEverythingEmptiesTheGraph)
{
    Dataset d = testing::clustered(300, 8, 3, 1, 2);
    auto g = testing::make_graph(d, Metric::L2, Params{});
    for (std::uint32_t u = 0; u < d.n; u++)
        g->graph.mark_deleted(u);
    Searcher s(g->graph);
    EXPECT_TRUE(s.knn(d.row(0), 10, 40).empty());  // walks everything, returns nothing
    const RepairStats st = repair_deleted(g->graph);
    EXPECT_EQ(st.removed, d.n);
    EXPECT_EQ(g->graph.entry_point(), MemoryGraph::kNone);
    EXPECT_EQ(g->graph.max_level(), -1);
    EXPECT_TRUE(s.knn(d.row(0), 10, 40).empty());
    EXPECT_EQ(testing::check_structure(g->graph), "");
}

TEST_F(HnswDeleteTest, IsolatedNodesAreRelinkedBySearch)
{
    // Small M: deleting a node and all its neighbours leaves lists with no
    // two-hop candidate, which the repair refills by searching.
    Dataset d = testing::clustered(2000, 8, 4, 7, 8);
    Params p;
    p.M = 2;
    p.ef_construction = 16;
    auto g = testing::make_graph(d, Metric::L2, p);
    auto deleted = delete_some(g->graph, 60, 3);
    const RepairStats st = repair_deleted(g->graph);
    EXPECT_GT(st.searches, 0u);
    EXPECT_EQ(testing::check_structure(g->graph), "");
    for (std::uint32_t u = 0; u < d.n; u++) {
        if (!g->graph.is_deleted(u)) {
            EXPECT_GT(g->graph.links(u, 0)[0], 0u) << "live node " << u << " left without links";
        }
    }
}

}  // namespace
}  // namespace vecdb::hnsw
