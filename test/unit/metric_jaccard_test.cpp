/*
 * metric_jaccard_test.cpp -- the Jaccard metric of bit strings held as 0/1
 * vectors (bit_jaccard_ops): the graph's distance equals the formula
 * jaccard_distance(bit, bit) computes on the bits, including strings that
 * share nothing, all-zero strings and identical ones; no quantizer or
 * k-means accepts it.
 */
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "../../src/core/error.h"
#include "../../src/core/graph/hnsw.h"
#include "../../src/core/ivf/kmeans.h"
#include "../../src/core/quant/sq8.h"
#include "../../src/core/splitmix64.h"

namespace vecdb {
namespace {

double bit_formula(const std::vector<float> &a, const std::vector<float> &b)
{
    std::uint64_t both = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); i++) {
        both += a[i] != 0.0f && b[i] != 0.0f;
        na += a[i] != 0.0f;
        nb += b[i] != 0.0f;
    }
    return both == 0 ? 1.0 : 1.0 - double(both) / double(na + nb - both);
}

TEST(JaccardMetric, EqualsTheBitFormula)
{
    SplitMix64 rng(5);
    for (std::size_t d : {1u, 7u, 64u, 1000u}) {
        const hnsw::MetricDistance distance = hnsw::metric_distance(Metric::Jaccard, std::uint32_t(d));
        for (int trial = 0; trial < 50; trial++) {
            std::vector<float> a(d), b(d);
            const std::uint64_t density = rng.next() % 5;  // 0: all zero
            for (std::size_t i = 0; i < d; i++) {
                a[i] = float(rng.next() % 4 < density);
                b[i] = trial % 7 == 0 ? a[i] : float(rng.next() % 4 < density);
            }
            EXPECT_FLOAT_EQ(distance(a.data(), b.data()), float(bit_formula(a, b))) << d << " " << trial;
        }
        std::vector<float> zero(d, 0.0f), ones(d, 1.0f);
        EXPECT_EQ(distance(zero.data(), zero.data()), 1.0f);  // nothing shared, as jaccard_distance
        EXPECT_EQ(distance(ones.data(), ones.data()), 0.0f);
        EXPECT_EQ(distance(zero.data(), ones.data()), 1.0f);
    }
}

TEST(JaccardMetric, NoCodesNoKMeans)
{
    std::vector<float> ranges(16), x(8, 1.0f), centroids(8);
    EXPECT_THROW(SQ8Quantizer(8, Metric::Jaccard, ranges.data()), Error);
    ivf::KMeansOptions options;
    options.metric = Metric::Jaccard;
    EXPECT_THROW(ivf::train_centroids(x.data(), 1, 8, 1, options, centroids.data()), Error);
    EXPECT_TRUE(metric_needs_exact_vectors(Metric::Jaccard));
    EXPECT_FALSE(metric_needs_exact_vectors(Metric::Cosine));
}

}  // namespace
}  // namespace vecdb
