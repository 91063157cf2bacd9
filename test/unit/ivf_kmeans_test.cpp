/*
 * ivf_kmeans_test.cpp -- the IVF coarse quantizer (src/core/ivf/kmeans.h):
 * cluster recovery, determinism across seeds and thread counts, degenerate
 * samples (k > n, one row, identical rows, zero rows), cancellation and
 * progress, unit centroids under cosine, nearest_centroid and the ranking of
 * score_centroids against brute force for every metric, assign_rows against
 * nearest_centroid, list balance on uniform data, and rows near FLT_MAX.
 *
 * Data is generated from splitmix64 so every run sees the same rows; sizes
 * are kept to a few thousand rows so the whole file runs in well under a
 * second.
 */
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/error.h"
#include "../../src/core/ivf/kmeans.h"
#include "../../src/core/simd/distance.h"
#include "../../src/core/splitmix64.h"

namespace vecdb::ivf {
namespace {

class IvfKMeansTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { init_distance_kernels(); }
};

/// Standard normal draws (Box-Muller) from a seeded stream.
struct Normal {
    SplitMix64 rng;
    explicit Normal(std::uint64_t seed) : rng(seed) {}
    double operator()()
    {
        const double u = rng.uniform(), v = rng.uniform();
        return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
    }
};

std::vector<float> uniform_rows(std::size_t n, std::uint32_t dims, std::uint64_t seed)
{
    SplitMix64 rng(seed);
    std::vector<float> x(n * dims);
    for (float &v : x)
        v = static_cast<float>(rng.next_double());
    return x;
}

/// `clusters` Gaussian blobs of `per_cluster` rows each, centres uniform in
/// [-10, 10]^dims, spread sigma per coordinate; row i belongs to blob
/// i / per_cluster.
std::vector<float> gaussian_blobs(std::uint32_t clusters, std::size_t per_cluster, std::uint32_t dims, double sigma,
                                  std::uint64_t seed)
{
    SplitMix64 rng(seed);
    Normal normal(seed + 1);
    std::vector<double> centres(std::size_t(clusters) * dims);
    for (double &c : centres)
        c = rng.next_double() * 20.0 - 10.0;
    std::vector<float> x(clusters * per_cluster * dims);
    for (std::size_t i = 0; i < clusters * per_cluster; i++)
        for (std::uint32_t d = 0; d < dims; d++)
            x[i * dims + d] = static_cast<float>(centres[(i / per_cluster) * dims + d] + sigma * normal());
    return x;
}

double sum_squared_distances(const float *x, std::size_t n, std::uint32_t dims, const float *centroids,
                             std::uint32_t k)
{
    double inertia = 0.0;
    for (std::size_t i = 0; i < n; i++) {
        const std::uint32_t c = nearest_centroid(centroids, k, dims, Metric::L2, x + i * dims);
        inertia += l2_squared_double(x + i * dims, centroids + std::size_t(c) * dims, dims);
    }
    return inertia;
}

double norm(const float *v, std::uint32_t dims) { return std::sqrt(dot_double(v, v, dims)); }

bool all_finite(const std::vector<float> &v)
{
    return std::all_of(v.begin(), v.end(), [](float f) { return std::isfinite(f); });
}

KMeansOptions options_for(Metric metric, std::uint64_t seed = 1, unsigned threads = 1)
{
    KMeansOptions o;
    o.metric = metric;
    o.seed = seed;
    o.threads = threads;
    return o;
}

// Each true blob must land in one centroid's list, a different one per blob,
// and the inertia must equal that of the blobs' own means (the optimum once
// the partition is right).  Several seeds: k-means++ must find every blob
// from each; uniform seeding would miss one most of the time (10!/10^10).
TEST_F(IvfKMeansTest, RecoversSeparatedGaussianBlobs)
{
    const std::uint32_t blobs = 10, dims = 16;
    const std::size_t per_blob = 200, n = blobs * per_blob;
    const std::vector<float> x = gaussian_blobs(blobs, per_blob, dims, 0.1, 42);

    // The optimum: every row to its own blob's mean.
    std::vector<float> means(std::size_t(blobs) * dims);
    double optimum = 0.0;
    for (std::uint32_t b = 0; b < blobs; b++) {
        for (std::uint32_t d = 0; d < dims; d++) {
            double s = 0.0;
            for (std::size_t i = b * per_blob; i < (b + 1) * per_blob; i++)
                s += x[i * dims + d];
            means[b * dims + d] = static_cast<float>(s / per_blob);
        }
        for (std::size_t i = b * per_blob; i < (b + 1) * per_blob; i++)
            optimum += l2_squared_double(&x[i * dims], &means[b * dims], dims);
    }

    for (std::uint64_t seed : {1, 2, 3}) {
        std::vector<float> centroids(std::size_t(blobs) * dims);
        const KMeansResult r = train_centroids(x.data(), n, dims, blobs, options_for(Metric::L2, seed), centroids.data());
        ASSERT_EQ(r.status, KMeansStatus::Done);
        ASSERT_EQ(r.clusters, blobs);
        std::set<std::uint32_t> used;
        for (std::uint32_t b = 0; b < blobs; b++) {
            const std::uint32_t c = nearest_centroid(centroids.data(), blobs, dims, Metric::L2, &x[b * per_blob * dims]);
            for (std::size_t i = b * per_blob; i < (b + 1) * per_blob; i++)
                ASSERT_EQ(nearest_centroid(centroids.data(), blobs, dims, Metric::L2, &x[i * dims]), c)
                    << "seed " << seed << " blob " << b << " row " << i;
            used.insert(c);
        }
        EXPECT_EQ(used.size(), blobs) << "seed " << seed << ": two blobs share a centroid";
        const double inertia = sum_squared_distances(x.data(), n, dims, centroids.data(), blobs);
        std::printf("    seed %llu: inertia %.6g, optimum %.6g, %u iterations\n", (unsigned long long)seed, inertia,
                    optimum, r.iterations);
        EXPECT_LE(inertia, optimum * 1.0001) << "seed " << seed;
    }
}

// Same seed: bitwise the same centroids, whatever the thread count; another
// seed: different centroids (uniform data has many local optima, so the
// seed must matter).
TEST_F(IvfKMeansTest, DeterministicForSeedAndThreadCount)
{
    const std::uint32_t dims = 24, k = 20;
    const std::size_t n = 4000;
    const std::vector<float> x = uniform_rows(n, dims, 7);
    for (Metric metric : {Metric::L2, Metric::Cosine, Metric::InnerProduct}) {
        auto train = [&](std::uint64_t seed, unsigned threads) {
            std::vector<float> c(std::size_t(k) * dims);
            EXPECT_EQ(train_centroids(x.data(), n, dims, k, options_for(metric, seed, threads), c.data()).status,
                      KMeansStatus::Done);
            return c;
        };
        const std::vector<float> a = train(5, 1);
        const std::size_t bytes = a.size() * sizeof(float);
        EXPECT_EQ(std::memcmp(a.data(), train(5, 1).data(), bytes), 0) << "rerun, metric " << int(metric);
        EXPECT_EQ(std::memcmp(a.data(), train(5, 2).data(), bytes), 0) << "2 threads, metric " << int(metric);
        EXPECT_EQ(std::memcmp(a.data(), train(5, 3).data(), bytes), 0) << "3 threads, metric " << int(metric);
        EXPECT_NE(std::memcmp(a.data(), train(6, 1).data(), bytes), 0) << "other seed, metric " << int(metric);
    }
}

// k > n: one centroid per row, each exactly its row.
TEST_F(IvfKMeansTest, MoreClustersThanRowsClampsToRows)
{
    const std::uint32_t dims = 5;
    const std::size_t n = 6;
    const std::vector<float> x = uniform_rows(n, dims, 3);
    std::vector<float> centroids(10 * dims, -1.0f);
    const KMeansResult r = train_centroids(x.data(), n, dims, 10, options_for(Metric::L2), centroids.data());
    ASSERT_EQ(r.status, KMeansStatus::Done);
    ASSERT_EQ(r.clusters, n);
    std::set<std::size_t> matched;
    for (std::uint32_t c = 0; c < n; c++)
        for (std::size_t i = 0; i < n; i++)
            if (std::memcmp(&centroids[c * dims], &x[i * dims], dims * sizeof(float)) == 0)
                matched.insert(i);
    EXPECT_EQ(matched.size(), n) << "every row must be a centroid";
    for (std::size_t j = n * dims; j < centroids.size(); j++)
        ASSERT_EQ(centroids[j], -1.0f) << "wrote past clusters x dims";
}

TEST_F(IvfKMeansTest, ZeroClustersMeansOne)
{
    const std::vector<float> x = uniform_rows(50, 4, 3);
    std::vector<float> centroid(4);
    EXPECT_EQ(train_centroids(x.data(), 50, 4, 0, options_for(Metric::L2), centroid.data()).clusters, 1u);
    // One cluster: the mean of all rows.
    for (std::uint32_t d = 0; d < 4; d++) {
        double s = 0.0;
        for (std::size_t i = 0; i < 50; i++)
            s += x[i * 4 + d];
        EXPECT_NEAR(centroid[d], s / 50, 1e-6);
    }
}

TEST_F(IvfKMeansTest, OneRow)
{
    const float row[3] = {3.0f, -4.0f, 0.0f};
    float centroid[3];
    KMeansResult r = train_centroids(row, 1, 3, 8, options_for(Metric::L2), centroid);
    EXPECT_EQ(r.clusters, 1u);
    EXPECT_EQ(std::memcmp(row, centroid, sizeof row), 0);
    r = train_centroids(row, 1, 3, 8, options_for(Metric::Cosine), centroid);
    EXPECT_EQ(r.clusters, 1u);
    EXPECT_NEAR(centroid[0], 0.6f, 1e-7);
    EXPECT_NEAR(centroid[1], -0.8f, 1e-7);
    EXPECT_EQ(centroid[2], 0.0f);
}

// No distinct rows to seed from: every centroid is the row, the training
// ends (empty clusters are re-seeded each iteration, ties send the rows back
// to the first), and nothing is NaN.
TEST_F(IvfKMeansTest, IdenticalRowsGiveThatRow)
{
    const std::uint32_t dims = 7, k = 8;
    const std::size_t n = 300;
    std::vector<float> x(n * dims);
    for (std::size_t i = 0; i < x.size(); i++)
        x[i] = 0.25f * float(i % dims) - 0.5f;
    for (Metric metric : {Metric::L2, Metric::Cosine, Metric::InnerProduct}) {
        std::vector<float> centroids(std::size_t(k) * dims);
        KMeansOptions o = options_for(metric, 9, 2);
        o.iterations = 25;
        const KMeansResult r = train_centroids(x.data(), n, dims, k, o, centroids.data());
        EXPECT_EQ(r.status, KMeansStatus::Done);
        EXPECT_GT(r.reseeded, 0u) << "identical rows leave clusters empty";
        ASSERT_TRUE(all_finite(centroids)) << "metric " << int(metric);
        const double scale = metric == Metric::L2 ? 1.0 : 1.0 / norm(x.data(), dims);
        for (std::uint32_t c = 0; c < k; c++)
            for (std::uint32_t d = 0; d < dims; d++)
                EXPECT_NEAR(centroids[c * dims + d], x[d] * scale, 1e-6) << "metric " << int(metric) << " c " << c;
    }
}

// Three distinct rows, 20 copies each, five clusters: two seeds repeat a row
// and their clusters are re-seeded every iteration by splitting a largest
// one.  The sums the split moves must stay exact: every centroid ends equal
// to one of the rows, and each row has one.
TEST_F(IvfKMeansTest, ReseedingKeepsCentroidsOnTheRows)
{
    const std::uint32_t dims = 4;
    const float distinct[3][4] = {{1, 0, 0, 0}, {0, 5, 0, 0}, {0, 0, -3, 2}};
    std::vector<float> x;
    for (int copy = 0; copy < 20; copy++)
        for (const auto &r : distinct)
            x.insert(x.end(), r, r + dims);
    std::vector<float> centroids(5 * dims);
    const KMeansResult r = train_centroids(x.data(), 60, dims, 5, options_for(Metric::L2, 4, 2), centroids.data());
    EXPECT_EQ(r.clusters, 5u);
    EXPECT_GT(r.reseeded, 0u);
    std::set<int> seen;
    for (std::uint32_t c = 0; c < 5; c++) {
        int match = -1;
        for (int j = 0; j < 3; j++)
            if (std::memcmp(&centroids[c * dims], distinct[j], sizeof distinct[j]) == 0)
                match = j;
        EXPECT_GE(match, 0) << "centroid " << c << " is not one of the rows";
        seen.insert(match);
    }
    EXPECT_EQ(seen.size(), 3u);
}

// Cosine / inner product: zero rows have no direction; with only zero rows
// the centroids are zero, never NaN.
TEST_F(IvfKMeansTest, ZeroRowsUnderCosine)
{
    const std::uint32_t dims = 6;
    std::vector<float> zeros(40 * dims, 0.0f);
    std::vector<float> centroids(4 * dims, 1.0f);
    const KMeansResult r = train_centroids(zeros.data(), 40, dims, 4, options_for(Metric::Cosine), centroids.data());
    EXPECT_EQ(r.status, KMeansStatus::Done);
    for (float v : centroids)
        EXPECT_EQ(v, 0.0f);
}

// Unit centroids under cosine and inner product, with rows of varied norm
// and some zero rows mixed in; blobs of directions are still recovered.
TEST_F(IvfKMeansTest, SphericalCentroidsAreUnitAndFindDirections)
{
    const std::uint32_t blobs = 6, dims = 12;
    const std::size_t per_blob = 150, n = blobs * per_blob;
    std::vector<float> x = gaussian_blobs(blobs, per_blob, dims, 0.05, 11);
    SplitMix64 rng(12);
    for (std::size_t i = 0; i < n; i++) {
        const float scale = (i % 37 == 0) ? 0.0f : static_cast<float>(0.1 + 20.0 * rng.next_double());
        for (std::uint32_t d = 0; d < dims; d++)
            x[i * dims + d] *= scale;
    }
    for (Metric metric : {Metric::Cosine, Metric::InnerProduct}) {
        std::vector<float> centroids(std::size_t(blobs) * dims);
        const KMeansResult r = train_centroids(x.data(), n, dims, blobs, options_for(metric, 3, 2), centroids.data());
        ASSERT_EQ(r.status, KMeansStatus::Done);
        ASSERT_TRUE(all_finite(centroids));
        for (std::uint32_t c = 0; c < blobs; c++)
            EXPECT_NEAR(norm(&centroids[c * dims], dims), 1.0, 1e-6) << "metric " << int(metric) << " c " << c;
        std::set<std::uint32_t> used;
        for (std::uint32_t b = 0; b < blobs; b++) {
            const std::size_t first = b * per_blob + 1;  // row b * per_blob may be a zero row
            const std::uint32_t c = nearest_centroid(centroids.data(), blobs, dims, metric, &x[first * dims]);
            for (std::size_t i = first; i < (b + 1) * per_blob; i++) {
                if (i % 37 != 0) {
                    ASSERT_EQ(nearest_centroid(centroids.data(), blobs, dims, metric, &x[i * dims]), c)
                        << "metric " << int(metric) << " blob " << b;
                }
            }
            used.insert(c);
        }
        EXPECT_EQ(used.size(), blobs) << "metric " << int(metric);
    }
}

struct CallLog {
    std::uint32_t cancel_calls = 0;
    std::uint32_t cancel_at = 0;  ///< the call that returns true (1-based); 0: never
    std::vector<std::uint32_t> done;
    std::uint32_t total = 0;
};

bool cancel_at_call(void *context)
{
    auto *log = static_cast<CallLog *>(context);
    return ++log->cancel_calls == log->cancel_at;
}

void record_progress(void *context, std::uint32_t done, std::uint32_t total)
{
    auto *log = static_cast<CallLog *>(context);
    log->done.push_back(done);
    log->total = total;
}

TEST_F(IvfKMeansTest, CancelStopsEarly)
{
    const std::uint32_t dims = 8, k = 16;
    const std::size_t n = 3000;
    const std::vector<float> x = uniform_rows(n, dims, 21);
    std::vector<float> centroids(std::size_t(k) * dims);

    // Count the polls of a full run, then cancel at the first, in the
    // middle and at the last.
    CallLog full;
    KMeansOptions o = options_for(Metric::L2, 1, 2);
    o.iterations = 8;
    o.cancel = cancel_at_call;
    o.progress = record_progress;
    o.context = &full;
    KMeansResult r = train_centroids(x.data(), n, dims, k, o, centroids.data());
    ASSERT_EQ(r.status, KMeansStatus::Done);
    ASSERT_GE(full.cancel_calls, k - 1 + r.iterations) << "a poll per seed and per iteration at least";

    for (std::uint32_t at : {1u, full.cancel_calls / 2, full.cancel_calls}) {
        CallLog log;
        log.cancel_at = at;
        o.context = &log;
        r = train_centroids(x.data(), n, dims, k, o, centroids.data());
        EXPECT_EQ(r.status, KMeansStatus::Cancelled) << "cancel at poll " << at;
        EXPECT_EQ(log.cancel_calls, at) << "no poll after the one that said stop";
        EXPECT_LT(log.done.size(), full.done.size()) << "cancel at poll " << at;
    }
}

TEST_F(IvfKMeansTest, ProgressCountsIterations)
{
    const std::uint32_t dims = 8, k = 16;
    const std::size_t n = 3000;
    const std::vector<float> x = uniform_rows(n, dims, 22);
    std::vector<float> centroids(std::size_t(k) * dims);
    CallLog log;
    KMeansOptions o = options_for(Metric::L2);
    o.iterations = 6;
    o.progress = record_progress;
    o.context = &log;
    const KMeansResult r = train_centroids(x.data(), n, dims, k, o, centroids.data());
    ASSERT_EQ(r.status, KMeansStatus::Done);
    EXPECT_EQ(log.total, 6u);
    ASSERT_FALSE(log.done.empty());
    EXPECT_EQ(log.done.back(), 6u);
    for (std::size_t j = 1; j < log.done.size(); j++)
        EXPECT_GT(log.done[j], log.done[j - 1]);

    // Well-separated blobs converge before the limit, and say so.
    const std::vector<float> blobs = gaussian_blobs(4, 100, dims, 0.01, 5);
    CallLog converged;
    o.iterations = 50;
    o.context = &converged;
    const KMeansResult c = train_centroids(blobs.data(), 400, dims, 4, o, centroids.data());
    EXPECT_LT(c.iterations, 50u);
    EXPECT_EQ(converged.done.back(), 50u);
}

/// Reference distances in double, "smaller is nearer".
double reference_distance(Metric metric, const float *c, const float *x, std::uint32_t dims)
{
    switch (metric) {
    case Metric::L2:
        return l2_squared_double(c, x, dims);
    case Metric::InnerProduct:
        return -dot_double(c, x, dims);
    case Metric::Cosine:
        return 1.0 - dot_double(c, x, dims) / (norm(c, dims) * norm(x, dims));
    case Metric::L1:
        return l1_double(c, x, dims);
    case Metric::Jaccard:  // k-means rejects it
        break;
    }
    return 0.0;
}

// The chosen centroid(s) must be as near as brute force's, up to float
// rounding of the kernels (a near tie may pick the other one).
TEST_F(IvfKMeansTest, NearestCentroidsMatchBruteForce)
{
    const std::uint32_t k = 37, dims = 19, queries = 200;
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1}) {
        Normal normal(int(metric) + 100);
        std::vector<float> centroids(std::size_t(k) * dims), q(dims);
        for (float &v : centroids)
            v = static_cast<float>(normal());
        if (metric == Metric::Cosine)
            for (std::uint32_t c = 0; c < k; c++) {
                const double s = 1.0 / norm(&centroids[c * dims], dims);
                for (std::uint32_t d = 0; d < dims; d++)
                    centroids[c * dims + d] = static_cast<float>(centroids[c * dims + d] * s);
            }
        std::uint32_t exact = 0;
        for (std::uint32_t t = 0; t < queries; t++) {
            for (float &v : q)
                v = static_cast<float>(normal());
            std::vector<double> ref(k);
            for (std::uint32_t c = 0; c < k; c++)
                ref[c] = reference_distance(metric, &centroids[c * dims], q.data(), dims);
            std::vector<double> sorted = ref;
            std::sort(sorted.begin(), sorted.end());
            const double tolerance = 1e-5 * (1.0 + std::fabs(sorted[0]));

            const std::uint32_t nearest = nearest_centroid(centroids.data(), k, dims, metric, q.data());
            ASSERT_LT(nearest, k);
            EXPECT_LE(ref[nearest], sorted[0] + tolerance) << "metric " << int(metric) << " query " << t;
            exact += ref[nearest] == sorted[0];

            // The lists a scan reads: centroids ranked by score_centroids, ties by index.
            std::vector<double> scores(k);
            score_centroids(centroids.data(), k, dims, metric, q.data(), scores.data());
            std::vector<std::uint32_t> ranked(k);
            for (std::uint32_t c = 0; c < k; c++)
                ranked[c] = c;
            std::sort(ranked.begin(), ranked.end(), [&](std::uint32_t a, std::uint32_t b) {
                return scores[a] < scores[b] || (scores[a] == scores[b] && a < b);
            });
            for (std::uint32_t probes : {1u, 5u, 50u}) {
                const std::uint32_t count = std::min(probes, k);
                const std::vector<std::uint32_t> out(ranked.begin(), ranked.begin() + count);
                EXPECT_EQ(out[0], nearest);
                std::set<std::uint32_t> distinct(out.begin(), out.begin() + count);
                EXPECT_EQ(distinct.size(), count);
                for (std::uint32_t j = 0; j < count; j++) {
                    ASSERT_LT(out[j], k);
                    EXPECT_NEAR(ref[out[j]], sorted[j], 1e-5 * (1.0 + std::fabs(sorted[j])))
                        << "metric " << int(metric) << " query " << t << " rank " << j;
                }
            }
        }
        EXPECT_GE(exact, queries - 2) << "metric " << int(metric) << ": near ties should be rare";
    }
}

// Lloyd on uniform data should give lists of similar size: report the
// largest list over the mean and bound it loosely; no list may be empty.
TEST_F(IvfKMeansTest, ListsAreBalancedOnUniformData)
{
    const std::uint32_t dims = 8, k = 64;
    const std::size_t n = 16000;
    const std::vector<float> x = uniform_rows(n, dims, 31);
    for (Metric metric : {Metric::L2, Metric::Cosine}) {
        std::vector<float> centroids(std::size_t(k) * dims);
        ASSERT_EQ(train_centroids(x.data(), n, dims, k, options_for(metric, 2, 2), centroids.data()).status,
                  KMeansStatus::Done);
        std::vector<std::size_t> sizes(k, 0);
        for (std::size_t i = 0; i < n; i++)
            sizes[nearest_centroid(centroids.data(), k, dims, metric, &x[i * dims])]++;
        const double mean = double(n) / k;
        const std::size_t largest = *std::max_element(sizes.begin(), sizes.end());
        const std::size_t smallest = *std::min_element(sizes.begin(), sizes.end());
        std::printf("    %s: list sizes min %zu, max %zu, mean %.0f, max/mean %.3f\n",
                    metric == Metric::L2 ? "L2" : "cosine", smallest, largest, mean, largest / mean);
        EXPECT_GT(smallest, 0u);
        EXPECT_LT(largest / mean, 2.5);
    }
}

// Rows near FLT_MAX: float sums overflow, double ones do not.  Two blobs at
// +-2e38 per coordinate (plus exact +-FLT_MAX rows) and one near zero must
// give three finite centroids, one per blob.
TEST_F(IvfKMeansTest, ExtremeMagnitudesStayFinite)
{
    const std::uint32_t dims = 8;
    const std::size_t per_blob = 100;
    Normal normal(77);
    std::vector<float> x;
    const double centres[3] = {2e38, -2e38, 0.0};
    for (double centre : centres)
        for (std::size_t i = 0; i < per_blob; i++)
            for (std::uint32_t d = 0; d < dims; d++) {
                const double spread = centre == 0.0 ? 1e-38 : 1e37;
                x.push_back(static_cast<float>(centre + spread * normal()));
            }
    for (float sign : {1.0f, -1.0f})
        for (std::uint32_t d = 0; d < dims; d++)
            x.push_back(sign * FLT_MAX);
    const std::size_t n = x.size() / dims;

    for (Metric metric : {Metric::L2, Metric::Cosine, Metric::InnerProduct}) {
        const std::uint32_t k = metric == Metric::L2 ? 3 : 2;  // directions: only two blobs (plus tiny ones)
        std::vector<float> centroids(std::size_t(k) * dims);
        const KMeansResult r = train_centroids(x.data(), n, dims, k, options_for(metric, 8, 2), centroids.data());
        ASSERT_EQ(r.status, KMeansStatus::Done);
        ASSERT_TRUE(all_finite(centroids)) << "metric " << int(metric);
        const std::uint32_t plus = nearest_centroid(centroids.data(), k, dims, metric, &x[(n - 2) * dims]);
        const std::uint32_t minus = nearest_centroid(centroids.data(), k, dims, metric, &x[(n - 1) * dims]);
        EXPECT_NE(plus, minus) << "metric " << int(metric);
        for (std::size_t i = 0; i < 2 * per_blob; i++)
            EXPECT_EQ(nearest_centroid(centroids.data(), k, dims, metric, &x[i * dims]), i < per_blob ? plus : minus)
                << "metric " << int(metric) << " row " << i;
        if (metric == Metric::L2) {
            for (std::uint32_t d = 0; d < dims; d++) {
                EXPECT_NEAR(centroids[plus * dims + d], 2e38, 2e37);
                EXPECT_NEAR(centroids[minus * dims + d], -2e38, 2e37);
            }
            const std::uint32_t tiny = nearest_centroid(centroids.data(), k, dims, metric, &x[2 * per_blob * dims]);
            EXPECT_NE(tiny, plus);
            EXPECT_NE(tiny, minus);
        }
    }
}

// assign_rows (the blocked search the build and k-means assign by) against
// nearest_centroid on shapes where float sums are hard: a large common
// offset (1e4 + unit spread), uniform rows, clustered rows, rows near
// FLT_MAX and near the smallest normal floats (ranked exactly).  Where the
// two pick different centroids the distances must tie to float rounding.
TEST_F(IvfKMeansTest, AssignRowsAgreesWithNearestCentroid)
{
    Normal normal(5);
    struct Shape {
        const char *name;
        std::uint32_t dims;
        std::vector<float> x;
    };
    std::vector<Shape> shapes;
    shapes.push_back({"uniform", 37, uniform_rows(1000, 37, 11)});
    shapes.push_back({"clustered", 100, gaussian_blobs(20, 50, 100, 0.5, 12)});
    {
        std::vector<float> x = uniform_rows(1000, 24, 13);
        for (float &v : x)
            v += 1e4f;
        shapes.push_back({"offset 1e4", 24, x});
    }
    {
        std::vector<float> x(600 * 16);
        for (std::size_t i = 0; i < x.size(); i++)
            x[i] = static_cast<float>((i / 16 % 3 == 0 ? 1e38 : i / 16 % 3 == 1 ? 1e-36 : 1.0) * normal());
        shapes.push_back({"extreme", 16, x});
    }
    for (const Shape &s : shapes)
        for (Metric metric : {Metric::L2, Metric::Cosine, Metric::InnerProduct, Metric::L1}) {
            const std::size_t n = s.x.size() / s.dims;
            for (std::uint32_t k : {1u, 7u, 16u, 50u}) {
                std::vector<float> centroids(s.x.begin(), s.x.begin() + std::size_t(k) * s.dims);
                if (metric == Metric::Cosine || metric == Metric::InnerProduct)
                    for (std::uint32_t c = 0; c < k; c++) {
                        const double length = norm(&centroids[std::size_t(c) * s.dims], s.dims);
                        for (std::uint32_t d = 0; d < s.dims; d++)
                            centroids[std::size_t(c) * s.dims + d] = static_cast<float>(
                                length > 0 ? centroids[std::size_t(c) * s.dims + d] / length : 0.0);
                    }
                std::vector<std::uint32_t> assigned(n + 1, UINT32_MAX);
                assign_rows(centroids.data(), k, s.dims, metric, s.x.data(), n, 2, assigned.data());
                ASSERT_EQ(assigned[n], UINT32_MAX) << "wrote past the rows";
                std::size_t differ = 0;
                for (std::size_t i = 0; i < n; i++) {
                    const float *x = &s.x[i * s.dims];
                    const std::uint32_t exact = nearest_centroid(centroids.data(), k, s.dims, metric, x);
                    ASSERT_LT(assigned[i], k);
                    if (assigned[i] == exact)
                        continue;
                    differ++;
                    auto distance = [&](std::uint32_t c) {
                        const float *cv = &centroids[std::size_t(c) * s.dims];
                        return metric == Metric::L2 ? l2_squared_double(x, cv, s.dims)
                               : metric == Metric::L1 ? l1_double(x, cv, s.dims)
                                                      : -dot_double(x, cv, s.dims);
                    };
                    const double a = distance(assigned[i]), b = distance(exact);
                    EXPECT_LE(std::fabs(a - b), 1e-4 * std::max(std::fabs(a), std::fabs(b)))
                        << s.name << " metric " << int(metric) << " k " << k << " row " << i;
                }
                // Offset rows all point one way: their dots tie to rounding
                // under cosine / inner product, so only L2 (ranked from the
                // centroids' mean) must agree there.
                const bool ties = std::string(s.name) == "offset 1e4" && metric != Metric::L2;
                if (!ties) {
                    EXPECT_LE(differ, n / 100) << s.name << " metric " << int(metric) << " k " << k;
                }
            }
        }
}

// assign_rows polls cancel between blocks of rows: a cancel stops it, and a
// cancel that never fires changes nothing.
TEST_F(IvfKMeansTest, AssignRowsCancels)
{
    const std::uint32_t dims = 64, k = 512;
    const std::size_t n = 20000;  // 20,000 x 512 x 64 = 2.6 blocks of 2^26 multiply-adds
    const std::vector<float> x = uniform_rows(n, dims, 21);
    const std::vector<float> centroids(x.begin(), x.begin() + std::size_t(k) * dims);
    struct Poll {
        int calls = 0, stop_at = -1;
    };
    auto cancel = [](void *context) {
        auto *poll = static_cast<Poll *>(context);
        return ++poll->calls == poll->stop_at;
    };
    std::vector<std::uint32_t> plain(n), polled(n);
    ASSERT_TRUE(assign_rows(centroids.data(), k, dims, Metric::L2, x.data(), n, 2, plain.data()));
    Poll never;
    ASSERT_TRUE(assign_rows(centroids.data(), k, dims, Metric::L2, x.data(), n, 2, polled.data(), cancel, &never));
    EXPECT_EQ(polled, plain);
    EXPECT_GE(never.calls, 3);
    Poll second;
    second.stop_at = 2;
    EXPECT_FALSE(assign_rows(centroids.data(), k, dims, Metric::L2, x.data(), n, 2, polled.data(), cancel, &second));
    EXPECT_EQ(second.calls, 2);
}

// Lloyd's fixed point: once an iteration changes no row, each centroid is
// the mean (spherical: the normalized sum of unit rows) of the rows nearest
// to it by brute force, not only of the rows the blocked search gave it.
// Overlapping blobs, so that many rows move late.
TEST_F(IvfKMeansTest, ConvergedCentroidsAreTheMeansOfTheirCells)
{
    const std::uint32_t dims = 12, k = 24;
    const std::vector<float> x = gaussian_blobs(16, 250, dims, 4.0, 91);
    const std::size_t n = x.size() / dims;
    for (Metric metric : {Metric::L2, Metric::Cosine}) {
        KMeansOptions options;
        options.metric = metric;
        options.iterations = 300;
        options.threads = 2;
        std::vector<float> centroids(std::size_t(k) * dims);
        const KMeansResult result = train_centroids(x.data(), n, dims, k, options, centroids.data());
        ASSERT_LT(result.iterations, options.iterations) << "did not converge; metric " << int(metric);
        std::vector<double> sums(std::size_t(k) * dims, 0.0);
        std::vector<std::size_t> counts(k, 0);
        for (std::size_t i = 0; i < n; i++) {
            const float *row = &x[i * dims];
            const std::uint32_t c = nearest_centroid(centroids.data(), k, dims, metric, row);
            const double w = metric == Metric::L2 ? 1.0 : 1.0 / norm(row, dims);
            for (std::uint32_t d = 0; d < dims; d++)
                sums[std::size_t(c) * dims + d] += row[d] * w;
            counts[c]++;
        }
        for (std::uint32_t c = 0; c < k; c++) {
            ASSERT_GT(counts[c], 0u) << "metric " << int(metric);
            double scale = 1.0 / double(counts[c]);
            if (metric != Metric::L2) {
                double norm2 = 0.0;
                for (std::uint32_t d = 0; d < dims; d++)
                    norm2 += sums[std::size_t(c) * dims + d] * sums[std::size_t(c) * dims + d];
                scale = 1.0 / std::sqrt(norm2);
            }
            for (std::uint32_t d = 0; d < dims; d++)
                ASSERT_NEAR(centroids[std::size_t(c) * dims + d], sums[std::size_t(c) * dims + d] * scale, 1e-4)
                    << "metric " << int(metric) << ", centroid " << c << ", dimension " << d;
        }
    }
}

TEST_F(IvfKMeansTest, RefusesBadArguments)
{
    const std::vector<float> x = uniform_rows(10, 4, 1);
    std::vector<float> centroids(4 * 4);
    EXPECT_THROW(train_centroids(x.data(), 10, 4, 4, options_for(Metric::L1), centroids.data()), Error);
    EXPECT_THROW(train_centroids(x.data(), 0, 4, 4, options_for(Metric::L2), centroids.data()), Error);
    EXPECT_THROW(train_centroids(x.data(), 10, 0, 4, options_for(Metric::L2), centroids.data()), Error);
}

}  // namespace
}  // namespace vecdb::ivf
