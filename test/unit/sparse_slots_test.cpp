/*
 * sparse_slots_test.cpp -- sparse vectors in fixed slots (sparse_slots.h):
 * packing and truncation, the checker, distances equal to the sparsevec
 * operators' functions, and an HNSW graph over the forms against brute
 * force on the full vectors.
 */
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/error.h"
#include "../../src/core/sparse_slots.h"
#include "hnsw_test_util.h"

namespace vecdb {
namespace {

/// Sparse rows shaped like a learned sparse model's (SPLADE): indices
/// drawn from a Zipf-like vocabulary of `dims`, positive weights, counts
/// spread from `min_nnz` to 4x that.
struct SparseRows {
    std::vector<std::vector<std::int32_t>> indices;
    std::vector<std::vector<float>> values;
    SparseView view(std::size_t i) const { return {indices[i].data(), values[i].data(), indices[i].size()}; }
};

SparseRows make_rows(std::uint32_t n, std::int32_t dims, std::uint32_t min_nnz, unsigned seed)
{
    std::mt19937 rng(seed);
    SparseRows r;
    std::uniform_real_distribution<double> unif(0.0, 1.0);
    for (std::uint32_t i = 0; i < n; i++) {
        const std::uint32_t nnz = min_nnz + std::uint32_t(rng() % (3 * min_nnz + 1));
        std::vector<std::int32_t> idx;
        while (idx.size() < nnz) {
            /* rank ~ dims^u: a few indices are common, most rare */
            const auto k = std::int32_t(std::pow(double(dims), unif(rng))) - 1;
            if (std::find(idx.begin(), idx.end(), k) == idx.end())
                idx.push_back(k);
        }
        std::sort(idx.begin(), idx.end());
        std::vector<float> val(nnz);
        for (float &v : val)
            v = float(0.05 + 2.5 * unif(rng) * unif(rng));
        r.indices.push_back(idx);
        r.values.push_back(val);
    }
    return r;
}

/// The rows' forms in `slots` slots each, back to back; *truncated (if not
/// null) counts the rows that did not fit.
std::vector<float> pack_rows(const SparseRows &rows, std::uint32_t slots, std::uint32_t *truncated = nullptr)
{
    std::vector<float> forms(rows.indices.size() * slots);
    std::vector<std::uint32_t> order(4 * slots);
    for (std::size_t i = 0; i < rows.indices.size(); i++) {
        order.resize(std::max(order.size(), rows.indices[i].size()));
        const bool whole = pack_sparse(rows.view(i), slots, forms.data() + i * slots, order.data());
        if (truncated != nullptr)
            *truncated += !whole;
    }
    return forms;
}

TEST(SparseSlotsTest, PacksWholeVectorsAndViewsThemBack)
{
    const std::int32_t idx[] = {3, 17, 40000};
    const float val[] = {1.5f, -2.0f, 0.25f};
    std::vector<float> form(sparse_slots(5), 7.0f);
    std::uint32_t order[3];
    EXPECT_TRUE(pack_sparse({idx, val, 3}, sparse_slots(5), form.data(), order));
    EXPECT_EQ(sparse_count(form.data()), 3u);
    EXPECT_FALSE(sparse_truncated(form.data()));
    const SparseView v = sparse_view(form.data());
    ASSERT_EQ(v.nnz, 3u);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(v.indices[i], idx[i]);
        EXPECT_EQ(v.values[i], val[i]);
    }
    EXPECT_EQ(sparse_form_fault(form.data(), sparse_slots(5)), nullptr);
    for (std::size_t s = 7; s < form.size(); s++)
        EXPECT_EQ(form[s], 0.0f);
    EXPECT_EQ(sparse_capacity(sparse_slots(5)), 5u);

    EXPECT_TRUE(pack_sparse({idx, val, 0}, sparse_slots(5), form.data(), order));
    EXPECT_EQ(sparse_count(form.data()), 0u);
    for (float f : form)
        EXPECT_EQ(f, 0.0f);
}

TEST(SparseSlotsTest, TruncationKeepsTheLargestMagnitudesInIndexOrder)
{
    const std::int32_t idx[] = {1, 2, 5, 9, 11, 12};
    const float val[] = {0.5f, -4.0f, 1.0f, 3.0f, -1.0f, 0.1f};
    std::vector<float> form(sparse_slots(3));
    std::uint32_t order[6];
    EXPECT_FALSE(pack_sparse({idx, val, 6}, sparse_slots(3), form.data(), order));
    EXPECT_TRUE(sparse_truncated(form.data()));
    const SparseView v = sparse_view(form.data());
    ASSERT_EQ(v.nnz, 3u);
    /* -4 and 3, then the tie at 1.0 goes to the lower index (5) */
    EXPECT_EQ(v.indices[0], 2);
    EXPECT_EQ(v.indices[1], 5);
    EXPECT_EQ(v.indices[2], 9);
    EXPECT_EQ(v.values[0], -4.0f);
    EXPECT_EQ(v.values[1], 1.0f);
    EXPECT_EQ(v.values[2], 3.0f);
    EXPECT_EQ(sparse_form_fault(form.data(), sparse_slots(3)), nullptr);
}

TEST(SparseSlotsTest, FaultsNameWhatIsWrong)
{
    const std::int32_t idx[] = {4, 8};
    const float val[] = {1.0f, 2.0f};
    const std::uint32_t slots = sparse_slots(3);
    std::vector<float> form(slots);
    std::uint32_t order[2];
    pack_sparse({idx, val, 2}, slots, form.data(), order);
    auto broken = [&](auto change) {
        std::vector<float> f = form;
        change(f.data());
        return sparse_form_fault(f.data(), slots) != nullptr;
    };
    EXPECT_TRUE(broken([](float *f) { const std::uint32_t h = 4; std::memcpy(f, &h, 4); }));
    EXPECT_TRUE(broken([](float *f) { const std::int32_t i = 9; std::memcpy(f + 1, &i, 4); }));
    EXPECT_TRUE(broken([](float *f) { const std::int32_t i = -1; std::memcpy(f + 1, &i, 4); }));
    EXPECT_TRUE(broken([](float *f) { f[3] = 0.0f; }));
    EXPECT_TRUE(broken([](float *f) { f[4] = NAN; }));
    EXPECT_TRUE(broken([](float *f) { f[6] = 1.0f; }));
    EXPECT_FALSE(broken([](float *) {}));
}

TEST(SparseSlotsTest, DistancesAreTheOperatorsValues)
{
    const SparseRows rows = make_rows(60, 30522, 8, 3);
    const std::uint32_t slots = sparse_slots(40);
    std::vector<float> forms(60 * slots);
    std::vector<std::uint32_t> order(40);
    for (std::size_t i = 0; i < 60; i++)
        ASSERT_TRUE(pack_sparse(rows.view(i), slots, forms.data() + i * slots, order.data()));
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1}) {
        const hnsw::MetricDistance d = hnsw::packed_sparse_distance(metric, slots);
        for (std::size_t a = 0; a < 60; a++)
            for (std::size_t b = 0; b < 60; b++) {
                const double expected = sparse_operator_value(metric, rows.view(a), rows.view(b));
                ASSERT_EQ(d(forms.data() + a * slots, forms.data() + b * slots), float(expected))
                    << int(metric) << " " << a << " " << b;
            }
    }
    /* a scatter's gathers give the merges' values bitwise */
    std::vector<float> dense(30522, 0.0f);
    SparseScatter scatter(dense.data(), dense.size());
    for (std::size_t a = 0; a < 60; a++) {
        scatter.load(rows.view(a));
        for (std::size_t b = 0; b < 60; b++) {
            const float dot = scatter.dot(rows.view(b));
            ASSERT_EQ(sparse_dot_from_sum(dot, rows.view(a), rows.view(b)), sparse_dot(rows.view(a), rows.view(b)));
            ASSERT_EQ(sparse_cosine_from_sums(dot, sparse_squares_float(rows.view(a)), sparse_squares_float(rows.view(b)),
                                              rows.view(a), rows.view(b)),
                      sparse_cosine_distance(rows.view(a), rows.view(b)));
        }
    }
    /* a scan's scatter is only as wide as its query (sparse_scatter_width())
     * and reads codes from pages: dot_within() is dot() inside the width,
     * and indices past it (or negative: a corrupt page) read 0 */
    {
        const SparseView q = rows.view(7);
        const std::size_t width = sparse_scatter_width(q);
        ASSERT_EQ(width, std::size_t(q.indices[q.nnz - 1]) + 1);
        std::vector<float> narrow(width, 0.0f);
        SparseScatter s(narrow.data(), width);
        s.load(q);
        scatter.load(q);
        for (std::size_t b = 0; b < 60; b++)
            ASSERT_EQ(s.dot_within(rows.view(b)), scatter.dot(rows.view(b))) << b;
        const std::int32_t wild[] = {-1, std::int32_t(width), 0x7fffffff, q.indices[0]};
        const float ones[] = {1.0f, 1.0f, 1.0f, 1.0f};
        EXPECT_EQ(s.dot_within(SparseView{wild, ones, 4}), q.values[0]);
        const std::int32_t negative[] = {5, -3};
        EXPECT_EQ(sparse_scatter_width(SparseView{negative, ones, 2}), std::size_t(0xFFFFFFFDu) + 1);
        EXPECT_EQ(sparse_scatter_width(SparseView{nullptr, nullptr, 0}), 0u);
    }
    scatter.load(SparseView{nullptr, nullptr, 0});
    for (float f : dense)
        ASSERT_EQ(f, 0.0f);
    /* beyond float's range, ranked as rank_float() ranks it, not infinite */
    const std::int32_t idx[] = {0};
    const float huge[] = {3e38f}, tiny[] = {-3e38f};
    std::vector<float> a(slots), b(slots);
    pack_sparse({idx, huge, 1}, slots, a.data(), order.data());
    pack_sparse({idx, tiny, 1}, slots, b.data(), order.data());
    const hnsw::MetricDistance l2 = hnsw::packed_sparse_distance(Metric::L2, slots);
    EXPECT_TRUE(std::isfinite(l2(a.data(), b.data())));
    EXPECT_GT(l2(a.data(), b.data()), l2(a.data(), a.data()));
    EXPECT_THROW(hnsw::packed_sparse_distance(Metric::Jaccard, slots), vecdb::Error);
    /* a count beyond the slots (a corrupt page) scores as the empty vector */
    const std::uint32_t corrupt = 0x7fffffffu;
    std::memcpy(b.data(), &corrupt, 4);
    EXPECT_EQ(l2(a.data(), b.data()), rank_float(sparse_l2_squared(sparse_view(a.data()), SparseView{nullptr, nullptr, 0})));
}

TEST(SparseSlotsTest, GraphOverFormsFindsTheNearestRows)
{
    /* 3,000 rows of 30,522 dimensions with 10 to 40 non-zeros, in slots
     * for 32 (a quarter truncated): the graph ranks by the forms, recall
     * is against the full rows' exact distances after re-ranking the 40
     * nearest forms, as a scan re-ranks truncated rows on the table. */
    const std::uint32_t n = 3000;
    const SparseRows rows = make_rows(n, 30522, 10, 11);
    const std::uint32_t slots = sparse_slots(32);
    std::uint32_t truncated = 0;
    const std::vector<float> forms = pack_rows(rows, slots, &truncated);
    EXPECT_GT(truncated, n / 10);
    std::vector<std::uint32_t> order(64);  // for the queries
    for (Metric metric : {Metric::InnerProduct, Metric::Cosine, Metric::L2}) {
        hnsw::testing::OwnedGraph g(n, slots, metric, hnsw::Params{}, hnsw::VectorForm::PackedSparse);
        for (std::uint32_t i = 0; i < n; i++)
            ASSERT_EQ(g.graph.add(forms.data() + std::size_t(i) * slots), i);
        /* stored as given: cosine forms are not normalized */
        EXPECT_EQ(std::memcmp(g.graph.vector(5), forms.data() + 5 * slots, sizeof(float) * slots), 0);
        hnsw::build(g.graph, hnsw::BuildOptions{});
        EXPECT_EQ(hnsw::testing::check_structure(g.graph), "");
        hnsw::testing::Searcher s(g.graph);
        double found = 0;
        for (std::uint32_t q = 0; q < 100; q++) {
            const SparseView query = rows.view(q * 29);
            /* the graph walks with the query in the nodes' slots (truncated
             * as a node would be); the re-rank uses the whole query */
            std::vector<float> qform(slots);
            pack_sparse(query, slots, qform.data(), order.data());
            std::vector<std::pair<double, std::uint32_t>> exact;
            for (std::uint32_t i = 0; i < n; i++)
                exact.push_back({sparse_operator_value(metric, query, rows.view(i)), i});
            std::partial_sort(exact.begin(), exact.begin() + 10, exact.end());
            std::vector<std::pair<double, std::uint32_t>> reranked;
            hnsw::SearchStats stats;
            const std::uint32_t got = hnsw::search(g.graph, qform.data(), 80, s.visited, s.scratch, stats);
            for (std::uint32_t r = 0; r < std::min<std::uint32_t>(got, 40); r++) {
                const std::uint32_t id = s.scratch.results[r].id;
                reranked.push_back({sparse_operator_value(metric, query, rows.view(id)), id});
            }
            std::sort(reranked.begin(), reranked.end());
            for (std::size_t k = 0; k < 10 && k < reranked.size(); k++)
                for (std::size_t j = 0; j < 10; j++)
                    found += reranked[k].second == exact[j].second;
        }
        EXPECT_GE(found / 1000, 0.95) << int(metric);
    }
}

TEST(SparseSlotsTest, ListCacheBuildsTheSameGraphOverForms)
{
    /* The build's list cache scores q against members through q's scatter
     * (inner product, cosine) and members against each other by merges: the
     * graph must be the one the full selection builds. */
    const std::uint32_t n = 1500;
    const SparseRows rows = make_rows(n, 30522, 10, 12);
    const std::uint32_t slots = sparse_slots(64);
    const std::vector<float> forms = pack_rows(rows, slots);
    hnsw::Params p;
    p.M = 6;
    p.keep_pruned = true;
    p.select_max_links = true; /* as index builds over sparse forms */
    for (Metric metric : {Metric::InnerProduct, Metric::Cosine, Metric::L2}) {
        hnsw::BuildStats stats[2];
        std::unique_ptr<hnsw::testing::OwnedGraph> g[2];
        for (int cache = 0; cache < 2; cache++) {
            g[cache] = std::make_unique<hnsw::testing::OwnedGraph>(n, slots, metric, p, hnsw::VectorForm::PackedSparse);
            for (std::uint32_t i = 0; i < n; i++)
                g[cache]->graph.add(forms.data() + std::size_t(i) * slots);
            hnsw::BuildOptions options;
            options.list_cache = cache == 1;
            options.stats = &stats[cache];
            hnsw::build(g[cache]->graph, options);
        }
        EXPECT_EQ(hnsw::testing::first_difference(g[0]->graph, g[1]->graph), "") << int(metric);
        EXPECT_GT(stats[1].from_cache, stats[1].full_list_updates / 2) << int(metric);
    }
}

}  // namespace
}  // namespace vecdb
