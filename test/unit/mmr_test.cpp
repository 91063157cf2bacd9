/*
 * mmr_test.cpp -- maximal marginal relevance (src/core/rerank/mmr.h)
 * against a straightforward reference that recomputes every score from the
 * definition at every step, in double, from plain loops: on random and
 * clustered candidates, every metric, several lambdas; and the edges (k
 * past n, no candidates, lambda 1 and 0, NaN distances, bad parameters).
 */
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/error.h"
#include "../../src/core/rerank/mmr.h"
#include "../../src/core/simd/distance.h"

namespace vecdb {
namespace {

double plain_distance(Metric metric, const float *a, const float *b, std::size_t d)
{
    double dot = 0, na = 0, nb = 0, l2 = 0, l1 = 0;
    for (std::size_t i = 0; i < d; i++) {
        dot += double(a[i]) * b[i];
        na += double(a[i]) * a[i];
        nb += double(b[i]) * b[i];
        l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        l1 += std::fabs(double(a[i]) - b[i]);
    }
    switch (metric) {
    case Metric::L2:
        return std::sqrt(l2);
    case Metric::InnerProduct:
        return -dot;
    case Metric::Cosine:
        return na == 0 || nb == 0 ? std::nan("") : 1.0 - dot / std::sqrt(na * nb);
    default:
        return l1;
    }
}

// The definition, step by step: argmax of lambda sim(q, c) - (1 - lambda)
// max_s sim(c, s), sim = -distance; the first pick by relevance alone.
std::vector<std::uint32_t> reference_mmr(const std::vector<float> &q, const std::vector<std::vector<float>> &c,
                                         Metric metric, double lambda, std::size_t k)
{
    const std::size_t d = q.size();
    std::vector<std::uint32_t> picked;
    std::vector<bool> used(c.size(), false);
    while (picked.size() < std::min(k, c.size())) {
        int best = -1;
        double best_score = 0;
        for (std::size_t i = 0; i < c.size(); i++) {
            const double rel = plain_distance(metric, q.data(), c[i].data(), d);
            if (used[i] || std::isnan(rel))
                continue;
            double score = -lambda * rel;
            if (!picked.empty()) {
                double most_similar = -std::numeric_limits<double>::infinity();
                for (std::uint32_t s : picked)
                    most_similar = std::max(most_similar, -plain_distance(metric, c[i].data(), c[s].data(), d));
                score -= (1 - lambda) * most_similar;
            }
            if (best < 0 || score > best_score + 1e-9 * (1 + std::fabs(best_score))) {
                best = int(i);
                best_score = score;
            }
        }
        if (best < 0)
            break;
        used[best] = true;
        picked.push_back(std::uint32_t(best));
    }
    for (std::size_t i = 0; i < c.size() && picked.size() < std::min(k, c.size()); i++)
        if (!used[i])
            picked.push_back(std::uint32_t(i));
    return picked;
}

std::vector<std::uint32_t> run_mmr(const std::vector<float> &q, const std::vector<std::vector<float>> &c,
                                   Metric metric, double lambda, std::size_t k)
{
    std::vector<const float *> rows;
    for (const auto &v : c)
        rows.push_back(v.data());
    std::vector<std::uint32_t> order(c.size() + 1, 0xFFFFFFFFu);
    std::vector<double> scratch(2 * c.size() + 1);
    const std::size_t got =
        mmr_select(q.data(), rows.data(), c.size(), q.size(), metric, lambda, k, order.data(), scratch.data());
    order.resize(got);
    return order;
}

// Candidates in a few tight clusters around the query's neighbourhood: MMR's
// use case (near-copies to spread over), unlike uniform noise.
std::vector<std::vector<float>> clustered(std::size_t n, std::size_t d, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<std::vector<float>> centres(5, std::vector<float>(d));
    for (auto &c : centres)
        for (auto &x : c)
            x = normal(rng);
    std::vector<std::vector<float>> out(n, std::vector<float>(d));
    for (std::size_t i = 0; i < n; i++)
        for (std::size_t j = 0; j < d; j++)
            out[i][j] = centres[i % 5][j] + 0.05f * normal(rng);
    return out;
}

TEST(MmrTest, MatchesTheDefinition)
{
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1})
        for (std::uint32_t seed = 1; seed <= 6; seed++)
            for (double lambda : {0.0, 0.3, 0.5, 0.7, 1.0}) {
                const std::size_t d = seed % 2 ? 16 : 37;
                auto c = clustered(60, d, seed);
                std::vector<float> q = clustered(1, d, seed + 100)[0];
                EXPECT_EQ(run_mmr(q, c, metric, lambda, 10), reference_mmr(q, c, metric, lambda, 10))
                    << "metric " << int(metric) << " seed " << seed << " lambda " << lambda;
            }
}

TEST(MmrTest, LambdaOneIsNearestFirstAndZeroSpreads)
{
    auto c = clustered(50, 8, 7);
    std::vector<float> q = c[3];
    // lambda = 1: the candidates sorted by distance (ties: input order).
    std::vector<std::uint32_t> by_distance(c.size());
    for (std::uint32_t i = 0; i < c.size(); i++)
        by_distance[i] = i;
    std::stable_sort(by_distance.begin(), by_distance.end(), [&](std::uint32_t a, std::uint32_t b) {
        return operator_distance(Metric::L2, q.data(), c[a].data(), 8) <
               operator_distance(Metric::L2, q.data(), c[b].data(), 8);
    });
    by_distance.resize(12);
    EXPECT_EQ(run_mmr(q, c, Metric::L2, 1.0, 12), by_distance);
    // lambda = 0.3 over five tight clusters: the first five picks are one
    // per cluster (i % 5), the nearest first; at lambda = 1 they are all
    // from the query's own cluster.
    std::vector<std::uint32_t> diverse = run_mmr(q, c, Metric::L2, 0.3, 5);
    ASSERT_EQ(diverse.size(), 5u);
    EXPECT_EQ(diverse[0], 3u);
    std::vector<bool> cluster_seen(5, false);
    for (std::uint32_t i : diverse)
        cluster_seen[i % 5] = true;
    EXPECT_EQ(std::count(cluster_seen.begin(), cluster_seen.end(), true), 5);
    for (std::uint32_t i : run_mmr(q, c, Metric::L2, 1.0, 5))
        EXPECT_EQ(i % 5, 3u);
}

TEST(MmrTest, Edges)
{
    auto c = clustered(7, 4, 9);
    std::vector<float> q(4, 0.5f);
    EXPECT_EQ(run_mmr(q, c, Metric::Cosine, 0.5, 100).size(), 7u);  // k past n: every candidate once
    EXPECT_TRUE(run_mmr(q, c, Metric::Cosine, 0.5, 0).empty());
    EXPECT_TRUE(run_mmr(q, {}, Metric::Cosine, 0.5, 10).empty());
    std::vector<std::uint32_t> all = run_mmr(q, c, Metric::L1, 0.2, 7);
    std::sort(all.begin(), all.end());
    for (std::uint32_t i = 0; i < 7; i++)
        EXPECT_EQ(all[i], i);
    // Zero vectors under cosine (NaN distance): last, in input order.
    c[1].assign(4, 0.0f);
    c[4].assign(4, 0.0f);
    std::vector<std::uint32_t> order = run_mmr(q, c, Metric::Cosine, 0.5, 7);
    ASSERT_EQ(order.size(), 7u);
    EXPECT_EQ(order[5], 1u);
    EXPECT_EQ(order[6], 4u);
    EXPECT_EQ(run_mmr(std::vector<float>(4, 0.0f), c, Metric::Cosine, 0.5, 3),
              (std::vector<std::uint32_t>{0, 1, 2}));  // a zero query: every distance NaN
    // Extreme but valid values: finite distances, the definition's picks.
    auto big = clustered(20, 6, 11);
    for (auto &v : big)
        for (auto &x : v)
            x *= 3e37f;
    std::vector<float> qb = big[0];
    EXPECT_EQ(run_mmr(qb, big, Metric::L2, 0.5, 6), reference_mmr(qb, big, Metric::L2, 0.5, 6));
    // Bad parameters.
    std::vector<const float *> rows = {c[0].data()};
    std::uint32_t out[1];
    double scratch[2];
    for (double lambda : {-0.1, 1.5, std::nan("")})
        EXPECT_THROW(mmr_select(q.data(), rows.data(), 1, 4, Metric::L2, lambda, 1, out, scratch), Error);
    EXPECT_THROW(mmr_select(q.data(), rows.data(), 1, 4, Metric::Jaccard, 0.5, 1, out, scratch), Error);
}

}  // namespace
}  // namespace vecdb
