/*
 * ivf_scale_eval.cpp -- `make bench-ivf-scale`: the centroid search of an ivf
 * scan at 10^3 .. 10^6 lists, simulated outside PostgreSQL (the scale plan
 * in src/pg/ivf/README.md).
 *
 * A scan ranks every centroid for each query (score_centroids, then a
 * partial sort of the `probes` nearest).  At sqrt(rows) lists that is 10^4
 * centroids for 10^8 rows; this measures what ranking costs there, and what
 * a second level would save: sqrt(lists) top centroids (k-means of the
 * centroids, two threads), each centroid filed under its nearest top centroid
 * (assign_rows) and stored with its siblings; a query ranks the top level,
 * then only the groups of its `top` nearest top centroids.  "list recall" is the share of the
 * flat search's `probes` nearest lists the two-level search also finds (the
 * rows of a list it misses are not found); the last column, the share of the
 * nearest tenth of them, where most of a query's neighbours are.
 *
 * Centroids are a Gaussian mixture (1,000 components, unit spread around
 * centres uniform in [-4, 4]^dims), as k-means centroids of clustered data
 * are; queries are drawn from the same mixture.  Fixed seeds: every run
 * measures the same points.  One thread per query, as a backend has.
 *
 * Usage: ivf_scale_eval [--dims D] [--queries Q] [--max-lists N]
 */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <vector>

#include "../src/core/ivf/kmeans.h"
#include "../src/core/simd/distance.h"
#include "../src/core/splitmix64.h"

using vecdb::Metric;
using vecdb::SplitMix64;

namespace {

double now_ms()
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double normal(SplitMix64 &rng)
{
    const double u = 1.0 - rng.next_double(), v = rng.next_double();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}

/// n points of a 1,000-component mixture (components fixed by the seed 7).
std::vector<float> mixture(std::size_t n, std::uint32_t dims, std::uint64_t seed)
{
    constexpr std::uint32_t kComponents = 1000;
    SplitMix64 centres_rng(7);
    std::vector<float> centres(std::size_t(kComponents) * dims);
    for (float &c : centres)
        c = static_cast<float>(centres_rng.next_double() * 8.0 - 4.0);
    SplitMix64 rng(seed);
    std::vector<float> x(n * dims);
    for (std::size_t i = 0; i < n; i++) {
        const float *c = &centres[(rng.next() % kComponents) * dims];
        for (std::uint32_t d = 0; d < dims; d++)
            x[i * dims + d] = c[d] + static_cast<float>(normal(rng));
    }
    return x;
}

/// The `probes` nearest of the k scores, nearest first.
std::vector<std::uint32_t> nearest_of(const std::vector<double> &scores, std::uint32_t probes)
{
    std::vector<std::uint32_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0u);
    probes = std::min<std::uint32_t>(probes, std::uint32_t(order.size()));
    std::partial_sort(order.begin(), order.begin() + probes, order.end(),
                      [&](std::uint32_t a, std::uint32_t b) { return scores[a] < scores[b]; });
    order.resize(probes);
    return order;
}

}  // namespace

int main(int argc, char **argv)
{
    std::uint32_t dims = 128, queries = 50;
    std::size_t max_lists = 1000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--dims"))
            dims = std::uint32_t(std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--queries"))
            queries = std::uint32_t(std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--max-lists"))
            max_lists = std::size_t(std::atoll(argv[i + 1]));
    }
    vecdb::init_distance_kernels();
    std::printf("Centroid search of an ivf scan, %u dimensions, L2, %u queries, one thread (kernels: %s)\n\n", dims,
                queries, vecdb::distance_kernels().name);
    std::printf("| lists | probes (1%%) | flat: ms a query | top level | top probed | two-level: ms a query | "
                "centroids scored | list recall | recall of the nearest tenth |\n"
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    const std::vector<float> qs = mixture(queries, dims, 99);
    for (std::size_t lists = 1000; lists <= max_lists; lists *= 10) {
        const std::vector<float> centroids = mixture(lists, dims, lists);
        const auto k = std::uint32_t(lists);
        const std::uint32_t probes = std::max(1u, k / 100);
        // Flat: every centroid ranked.
        std::vector<double> scores(lists);
        std::vector<std::vector<std::uint32_t>> flat(queries);
        double start = now_ms();
        for (std::uint32_t q = 0; q < queries; q++) {
            vecdb::ivf::score_centroids(centroids.data(), k, dims, Metric::L2, &qs[std::size_t(q) * dims],
                                        scores.data());
            flat[q] = nearest_of(scores, probes);
        }
        const double flat_ms = (now_ms() - start) / queries;
        // Two levels: sqrt(lists) top centroids, k-means of the centroids
        // (on at most 256 per top centroid, as the build samples rows).
        const auto top = std::uint32_t(std::lround(std::sqrt(double(lists))));
        std::vector<float> top_centroids(std::size_t(top) * dims);
        vecdb::ivf::KMeansOptions options;
        options.threads = 2;
        const std::size_t train = std::min<std::size_t>(lists, std::size_t(256) * top);
        const double trained = now_ms();
        const vecdb::ivf::KMeansResult result =
            vecdb::ivf::train_centroids(centroids.data(), train, dims, top, options, top_centroids.data());
        const double train_s = (now_ms() - trained) / 1000.0;
        if (result.clusters != top)
            return 1;
        std::vector<std::uint32_t> parent(lists);
        vecdb::ivf::assign_rows(top_centroids.data(), top, dims, Metric::L2, centroids.data(), lists, 2, parent.data(),
                                nullptr, nullptr);
        // Each top centroid's children stored together, as pages of a second
        // level would hold them: a group is scored as one contiguous block.
        std::vector<std::size_t> group_start(std::size_t(top) + 1, 0);
        for (std::uint32_t c = 0; c < k; c++)
            group_start[parent[c] + 1]++;
        for (std::uint32_t t = 0; t < top; t++)
            group_start[t + 1] += group_start[t];
        std::vector<std::uint32_t> grouped_id(lists);
        std::vector<float> grouped(lists * dims);
        {
            std::vector<std::size_t> at(group_start.begin(), group_start.end() - 1);
            for (std::uint32_t c = 0; c < k; c++) {
                const std::size_t slot = at[parent[c]]++;
                grouped_id[slot] = c;
                std::copy_n(&centroids[std::size_t(c) * dims], dims, &grouped[slot * dims]);
            }
        }
        std::vector<double> top_scores(top), child_scores(lists);
        for (std::uint32_t share : {20u, 10u, 5u}) {
            const std::uint32_t top_probes = std::max(1u, top * share / 100);
            std::size_t scored = 0, found = 0, found_nearest = 0;
            const std::uint32_t nearest = std::max(1u, probes / 10);
            start = now_ms();
            for (std::uint32_t q = 0; q < queries; q++) {
                const float *query = &qs[std::size_t(q) * dims];
                vecdb::ivf::score_centroids(top_centroids.data(), top, dims, Metric::L2, query, top_scores.data());
                std::vector<std::uint32_t> ids;
                std::size_t n = 0;
                for (std::uint32_t t : nearest_of(top_scores, top_probes)) {
                    const std::size_t size = group_start[t + 1] - group_start[t];
                    vecdb::ivf::score_centroids(&grouped[group_start[t] * dims], std::uint32_t(size), dims, Metric::L2,
                                                query, &child_scores[n]);
                    ids.insert(ids.end(), &grouped_id[group_start[t]], &grouped_id[group_start[t]] + size);
                    n += size;
                }
                scored += top + n;
                std::vector<std::uint32_t> best =
                    nearest_of(std::vector<double>(child_scores.begin(), child_scores.begin() + n), probes);
                for (std::uint32_t &b : best)
                    b = ids[b];
                std::sort(best.begin(), best.end());
                for (std::uint32_t j = 0; j < flat[q].size(); j++) {
                    const bool hit = std::binary_search(best.begin(), best.end(), flat[q][j]);
                    found += hit;
                    found_nearest += hit && j < nearest;
                }
            }
            const double two_ms = (now_ms() - start) / queries;
            std::printf("| %zu | %u | %.3f | %u (k-means %.1f s) | %u (%u%%) | %.3f | %.0f | %.3f | %.3f |\n", lists,
                        probes, flat_ms, top, train_s, top_probes, share, two_ms, double(scored) / queries,
                        double(found) / (double(queries) * probes),
                        double(found_nearest) / (double(queries) * nearest));
        }
        std::fflush(stdout);
    }
    return 0;
}
