/*
 * hnsw_scan_test.cpp -- the resumable search (Scan in hnsw_search.h), as an
 * iterative index scan with a WHERE clause will use it: ask for a batch,
 * filter it, ask for the next, until enough rows passed the filter.
 *
 * Checked: the first batch is knn_search()'s result; batches are sorted and
 * never repeat a node; together they return every node reachable on layer 0
 * and nothing else; the first results of the concatenation are a good
 * approximation of the true nearest (prefix recall); a 1% filter still finds
 * the true 10 nearest passing nodes; deleted nodes never come out; sparse
 * 6-byte ids through a hashed visited set give the same batches; the first
 * batch says whether it was a complete K-NN-SEARCH.
 */
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "hnsw_test_util.h"

namespace vecdb::hnsw {
namespace {

using testing::Searcher;
using testing::Tid;
using testing::TidReader;
using Node = ScoredId<std::uint32_t>;
using DenseScan = Scan<MemoryReader<false>, EpochVisitedSet>;

class HnswScanTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { init_distance_kernels(); }
};

/// Runs a scan to exhaustion (or until `limit` results) and returns the
/// batches.
std::vector<std::vector<Node>> scan_batches(const MemoryGraph &g, Searcher &searcher, const float *query,
                                            std::size_t ef, std::size_t limit = SIZE_MAX)
{
    MemoryReader<false> reader(g, searcher.prepare(query));
    DenseScan scan;
    scan.init(searcher.scratch, &searcher.visited, malloc_allocator(), ef);
    scan.start(g.entry_point(), g.max_level());
    std::vector<std::vector<Node>> batches;
    std::size_t total = 0;
    while (total < limit) {
        const std::uint32_t n = scan.next_batch(reader);
        if (n == 0) {
            EXPECT_TRUE(scan.exhausted());
            EXPECT_EQ(scan.next_batch(reader), 0u);  // stays exhausted
            break;
        }
        batches.emplace_back(scan.batch(), scan.batch() + n);
        total += n;
    }
    scan.release();
    return batches;
}

std::vector<Node> concat(const std::vector<std::vector<Node>> &batches)
{
    std::vector<Node> all;
    for (const auto &b : batches)
        all.insert(all.end(), b.begin(), b.end());
    return all;
}

TEST_F(HnswScanTest, FirstBatchIsTheKnnSearch)
{
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher searcher(g, 100);
    for (std::size_t ef : {10, 40, 100}) {
        for (std::uint32_t qi = 0; qi < 20; qi++) {
            const float *q = testing::clustered_queries().row(qi);
            auto batches = scan_batches(g, searcher, q, ef, 1);
            auto expected = searcher.knn(q, ef, ef);
            ASSERT_EQ(batches.size(), 1u);
            ASSERT_EQ(batches[0].size(), expected.size());
            for (std::size_t i = 0; i < expected.size(); i++)
                ASSERT_EQ(batches[0][i].id, expected[i].id) << "ef " << ef << " query " << qi << " rank " << i;
        }
    }
}

TEST_F(HnswScanTest, BatchesCoverTheReachableGraphOnceInOrderWithinEachBatch)
{
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher searcher(g, 40);
    for (std::uint32_t qi = 0; qi < 3; qi++) {
        const float *q = testing::clustered_queries().row(qi);
        auto batches = scan_batches(g, searcher, q, 40);
        std::set<std::uint32_t> returned;
        for (const auto &b : batches) {
            ASSERT_LE(b.size(), 40u);
            ASSERT_FALSE(b.empty());
            for (std::size_t i = 0; i < b.size(); i++) {
                ASSERT_TRUE(returned.insert(b[i].id).second) << "node " << b[i].id << " returned twice";
                if (i > 0) {
                    ASSERT_LE(b[i - 1].distance, b[i].distance);
                }
                ASSERT_EQ(b[i].distance, g.distance(searcher.query.data(), g.vector(b[i].id)));
            }
        }
        // Exactly the nodes reachable on layer 0 from where the descent lands.
        MemoryReader<false> reader(g, searcher.query.data());
        SearchStats stats;
        Node cur{reader.distance(g.entry_point()), g.entry_point()};
        for (int lc = g.max_level(); lc >= 1; lc--)
            cur = search_layer_greedy(reader, searcher.scratch, cur, lc, stats);
        EXPECT_EQ(returned, testing::layer0_reachable(g, cur.id));
        EXPECT_GE(returned.size(), g.inserted() * 995 / 1000);
    }
}

TEST_F(HnswScanTest, ConcatenatedBatchesAreNearlyInOrder)
{
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher searcher(g, 40);
    double prefix200 = 0, prefix1000 = 0, out_of_order = 0;
    const std::uint32_t nq = 30;
    for (std::uint32_t qi = 0; qi < nq; qi++) {
        const float *q = testing::clustered_queries().row(qi);
        auto all = concat(scan_batches(g, searcher, q, 40, 1000));
        ASSERT_GE(all.size(), 1000u);
        const auto t200 = brute_force_knn(g, searcher.query.data(), 200);
        const auto t1000 = brute_force_knn(g, searcher.query.data(), 1000);
        prefix200 += testing::overlap({all.begin(), all.begin() + 200}, t200);
        prefix1000 += testing::overlap({all.begin(), all.begin() + 1000}, t1000);
        float farthest = 0;
        std::size_t inversions = 0;
        for (std::size_t i = 0; i < 1000; i++) {
            inversions += all[i].distance < farthest;
            farthest = std::max(farthest, all[i].distance);
        }
        out_of_order += double(inversions) / 1000;
    }
    std::printf("    ef 40: the first 200 results hold %.4f of the true 200 nearest, the first 1000 %.4f; "
                "%.2f%% come after a farther one\n",
                prefix200 / nq, prefix1000 / nq, 100 * out_of_order / nq);
    EXPECT_GE(prefix200 / nq, 0.98);
    EXPECT_GE(prefix1000 / nq, 0.95);
    EXPECT_LE(out_of_order / nq, 0.10);
}

TEST_F(HnswScanTest, SelectiveFilterFindsTheTrueNearestPassingNodes)
{
    // Accepts about 1% of the nodes, uncorrelated with position.
    auto accept = [](std::uint32_t id) { return splitmix64_mix(id ^ 0xF117E5ull) % 100 == 0; };
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher searcher(g, 40);
    const std::size_t k = 10;
    double recall = 0, batches_used = 0;
    const std::uint32_t nq = 50;
    for (std::uint32_t qi = 0; qi < nq; qi++) {
        MemoryReader<false> reader(g, searcher.prepare(testing::clustered_queries().row(qi)));
        DenseScan scan;
        scan.init(searcher.scratch, &searcher.visited, malloc_allocator(), 40);
        scan.start(g.entry_point(), g.max_level());
        std::vector<Node> found;
        while (found.size() < k) {
            const std::uint32_t n = scan.next_batch(reader);
            ASSERT_GT(n, 0u) << "scan ran out";
            batches_used++;
            for (std::uint32_t i = 0; i < n && found.size() < k; i++)
                if (accept(scan.batch()[i].id))
                    found.push_back(scan.batch()[i]);
        }
        scan.release();
        ASSERT_EQ(found.size(), k);
        recall += testing::overlap(found, brute_force_knn(g, searcher.query.data(), k, accept));
    }
    std::printf("    1%% filter: recall@10 %.4f, %.1f batches of 40 per query\n", recall / nq, batches_used / nq);
    EXPECT_GE(recall / nq, 0.95);
}

TEST_F(HnswScanTest, DeletedNodesAreNeverReturned)
{
    testing::Dataset d = testing::clustered(3000, 16, 10, 5, 6);
    auto g = testing::make_graph(d, Metric::L2, Params{});
    std::set<std::uint32_t> deleted;
    for (std::uint32_t u = 0; u < d.n; u++)
        if (splitmix64_mix(u ^ 77) % 4 == 0) {
            g->graph.mark_deleted(u);
            deleted.insert(u);
        }
    g->graph.mark_deleted(g->graph.entry_point());
    deleted.insert(g->graph.entry_point());
    Searcher searcher(g->graph, 20);
    auto all = concat(scan_batches(g->graph, searcher, testing::clustered(1, 16, 10, 5, 7).row(0), 20));
    std::set<std::uint32_t> returned;
    for (const Node &x : all) {
        EXPECT_EQ(deleted.count(x.id), 0u);
        returned.insert(x.id);
    }
    EXPECT_EQ(returned.size(), all.size());
    EXPECT_GE(returned.size(), (d.n - deleted.size()) * 99 / 100);
}

TEST_F(HnswScanTest, SparseIdsGiveTheSameBatches)
{
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher searcher(g, 40);
    const float *q = testing::clustered_queries().row(5);
    auto dense = scan_batches(g, searcher, q, 40, 2000);

    std::vector<char> memory(SearchScratch<Tid>::bytes(40, g.max_links(0)));
    SearchScratch<Tid> s;
    s.init(memory.data(), 40, g.max_links(0));
    HashVisitedSet<Tid> visited;
    visited.init(malloc_allocator());
    TidReader reader(g, searcher.query.data());
    Scan<TidReader, HashVisitedSet<Tid>> scan;
    scan.init(s, &visited, malloc_allocator(), 40);
    scan.start(TidReader::to_tid(g.entry_point()), g.max_level());
    for (const auto &b : dense) {
        ASSERT_EQ(scan.next_batch(reader), b.size());
        for (std::size_t i = 0; i < b.size(); i++)
            ASSERT_EQ(TidReader::to_node(scan.batch()[i].id), b[i].id);
    }
    scan.release();
    visited.release();
}

TEST_F(HnswScanTest, StartForgetsThePreviousQuery)
{
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher searcher(g, 40);
    std::vector<float> q(g.dims());
    MemoryReader<false> reader(g, q.data());
    DenseScan scan;
    scan.init(searcher.scratch, &searcher.visited, malloc_allocator(), 40);
    for (std::uint32_t qi = 0; qi < 3; qi++) {
        g.prepare_query(testing::clustered_queries().row(qi), q.data());
        scan.start(g.entry_point(), g.max_level());
        for (int b = 0; b < 3; b++)
            ASSERT_GT(scan.next_batch(reader), 0u);
        EXPECT_GT(scan.pending(), 0u);
        // a fresh start with the same query gives knn_search()'s result
        scan.start(g.entry_point(), g.max_level());
        const std::uint32_t n = scan.next_batch(reader);
        std::vector<Node> first(scan.batch(), scan.batch() + n);
        auto expected = searcher.knn(testing::clustered_queries().row(qi), 40, 40);
        ASSERT_EQ(first.size(), expected.size());
        for (std::size_t i = 0; i < n; i++)
            EXPECT_EQ(first[i].id, expected[i].id);
    }
    scan.release();
}

}  // namespace
}  // namespace vecdb::hnsw

namespace vecdb::hnsw {
namespace {

/// first_batch_complete(): an unfiltered first batch is a complete
/// K-NN-SEARCH (W fills before C can overflow); one with fewer than ef
/// results is not; nor is one that walked through many non-result nodes
/// for some query (C overflowed into P before W filled).
TEST_F(HnswScanTest, FirstBatchCompleteness)
{
    const MemoryGraph &g = testing::shared_graph(Metric::L2);
    Searcher searcher(g, 40);
    for (std::uint32_t qi = 0; qi < 20; qi++) {
        MemoryReader<false> reader(g, searcher.prepare(testing::clustered_queries().row(qi)));
        DenseScan scan;
        scan.init(searcher.scratch, &searcher.visited, malloc_allocator(), 40);
        scan.start(g.entry_point(), g.max_level());
        EXPECT_FALSE(scan.first_batch_complete());
        ASSERT_EQ(scan.next_batch(reader), 40u);
        EXPECT_TRUE(scan.first_batch_complete()) << "query " << qi;
        scan.release();
    }

    testing::Dataset d = testing::clustered(3000, 16, 10, 5, 6);
    auto sparse = testing::make_graph(d, Metric::L2, Params{});
    for (std::uint32_t u = 0; u < d.n; u++)
        if (splitmix64_mix(u ^ 91) % 50 != 0)
            sparse->graph.mark_deleted(u);
    Searcher s2(sparse->graph, 40);
    int incomplete = 0;
    for (std::uint32_t qi = 0; qi < 20; qi++) {
        MemoryReader<false> reader(sparse->graph, s2.prepare(testing::clustered(20, 16, 10, 5, 7).row(qi)));
        DenseScan scan;
        scan.init(s2.scratch, &s2.visited, malloc_allocator(), 40);
        scan.start(sparse->graph.entry_point(), sparse->graph.max_level());
        const std::uint32_t n = scan.next_batch(reader);
        if (n < 40) {
            EXPECT_FALSE(scan.first_batch_complete()) << "query " << qi << ": " << n << " results";
        }
        incomplete += !scan.first_batch_complete();
        scan.release();
    }
    EXPECT_GT(incomplete, 0);
}

}  // namespace
}  // namespace vecdb::hnsw
