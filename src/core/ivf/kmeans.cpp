/*
 * kmeans.cpp -- k-means training (k-means++ seeds, Lloyd iterations, empty
 * clusters re-seeded) and the nearest-centroid searches.  See kmeans.h for
 * the contract and README.md for the choices.
 *
 * One iteration:
 *   assign   parallel over rows, in blocks so cancel is polled between them;
 *            each row's nearest centroid and its distance to it
 *   sum      parallel over blocks of dimensions: each thread adds every
 *            row's slice of its dimensions to its cluster's sums in row
 *            order, so the sums do not depend on the thread count
 *   re-seed  sequential: each empty cluster takes the row farthest from the
 *            centre of the largest cluster
 *   divide   parallel over clusters: mean (L2) or normalized sum (spherical)
 */
#include "kmeans.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "../error.h"
#include "../parallel.h"
#include "../simd/distance.h"
#include "../splitmix64.h"

#include "../core_only.h"

namespace vecdb::ivf {

namespace {

constexpr std::uint32_t kNoCluster = UINT32_MAX;

/// Rows per assignment block: about 2^26 multiply-adds, tens of
/// milliseconds, so a cancel is seen quickly while thread start-up (tens of
/// microseconds per block) stays negligible.
constexpr std::size_t kAssignWorkPerBlock = std::size_t(1) << 26;
constexpr std::size_t kMinRowsPerBlock = 64;
/// Dimensions per summing task: one cache line of a row.
constexpr std::uint32_t kDimsPerSumTask = 16;

bool is_spherical(Metric metric) { return metric == Metric::Cosine || metric == Metric::InnerProduct; }

/// "Smaller is nearer" score of centroid c for x: the checked kernels give
/// float speed and redo the sum in double when float overflowed or
/// underflowed, so rows near FLT_MAX still rank correctly.
double score(Metric metric, const float *c, const float *x, std::uint32_t dims)
{
    switch (metric) {
    case Metric::L2:
        return l2_squared_checked(c, x, dims);
    case Metric::L1:
        return l1_checked(c, x, dims);
    case Metric::Jaccard:  // rejected by train_centroids
        break;
    case Metric::InnerProduct:
    case Metric::Cosine:
        return -dot_checked(c, x, dims);
    }
    return 0.0;
}

struct Nearest {
    std::uint32_t id;
    double score;
};

Nearest find_nearest(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric, const float *x)
{
    Nearest best{0, score(metric, centroids, x, dims)};
    for (std::uint32_t c = 1; c < k; c++) {
        const double s = score(metric, centroids + std::size_t(c) * dims, x, dims);
        if (s < best.score)
            best = {c, s};
    }
    return best;
}

/// Uniform in [0, range), range >= 1 (multiply-shift: no modulo bias worth
/// the name at these ranges).
std::uint64_t uniform_below(SplitMix64 &rng, std::uint64_t range)
{
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(rng.next()) * range) >> 64);
}

class Trainer {
public:
    Trainer(const float *sample, std::size_t n, std::uint32_t dims, std::uint32_t k, const KMeansOptions &options,
            float *centroids)
        : x_(sample), n_(n), dims_(dims), k_(k), opt_(options), threads_(std::max(1u, options.threads)),
          spherical_(is_spherical(options.metric)), centroids_(centroids), cluster_(n, kNoCluster), distance_(n, 0.0),
          counts_(k, 0), sums_(std::size_t(k) * dims, 0.0), changed_(threads_, 0)
    {
        if (spherical_)
            inverse_norm_.assign(n, 0.0);
    }

    KMeansResult run();

private:
    const float *row(std::size_t i) const { return x_ + i * dims_; }
    float *centroid(std::uint32_t c) { return centroids_ + std::size_t(c) * dims_; }
    bool active(std::size_t i) const { return !spherical_ || inverse_norm_[i] > 0.0; }
    double row_weight(std::size_t i) const { return spherical_ ? inverse_norm_[i] : 1.0; }
    bool cancelled() const { return opt_.cancel != nullptr && opt_.cancel(opt_.context); }

    /// The training distance of row i from centroid c: |c - x|^2 (L2), or
    /// the cosine distance 1 - <c, x> / |x| (spherical, c a unit vector).
    double train_distance(const float *c, std::size_t i) const
    {
        if (!spherical_)
            return l2_squared_checked(c, row(i), dims_);
        return std::max(0.0, 1.0 - dot_checked(c, row(i), dims_) * inverse_norm_[i]);
    }

    void compute_inverse_norms();
    void copy_row_to_centroid(std::size_t i, std::uint32_t c);
    bool seed();
    bool assign(std::size_t &changed);
    void sum_clusters();
    std::uint32_t reseed_empty_clusters();
    void divide();

    const float *x_;
    std::size_t n_;
    std::uint32_t dims_;
    std::uint32_t k_;
    const KMeansOptions &opt_;
    unsigned threads_;
    bool spherical_;
    float *centroids_;
    std::vector<double> inverse_norm_;  ///< per row, spherical only: 1 / |x|, 0 for a zero row
    std::vector<std::uint32_t> cluster_;  ///< per row: its cluster, kNoCluster before the first assignment
    std::vector<double> distance_;        ///< per row: train_distance() to its centroid at assignment
    std::vector<std::size_t> counts_;     ///< per cluster: rows assigned
    std::vector<double> sums_;            ///< per cluster: dims sums of its (weighted) rows
    std::vector<std::size_t> changed_;    ///< per thread: rows that changed cluster this pass
};

void Trainer::compute_inverse_norms()
{
    parallel_for(n_, threads_, [&](std::size_t i, unsigned) {
        const float *x = row(i);
        double norm2 = 0.0;
        for (std::uint32_t d = 0; d < dims_; d++)
            norm2 += double(x[d]) * x[d];
        // Finite floats: norm2 <= 1.2e77 dims, >= 2e-90 unless zero.
        inverse_norm_[i] = norm2 > 0.0 ? 1.0 / std::sqrt(norm2) : 0.0;
    });
}

void Trainer::copy_row_to_centroid(std::size_t i, std::uint32_t c)
{
    const float *x = row(i);
    float *out = centroid(c);
    const double w = row_weight(i);
    for (std::uint32_t d = 0; d < dims_; d++)
        out[d] = static_cast<float>(x[d] * w);
}

/// k-means++ on a random subsample of the active rows.  False if cancelled.
bool Trainer::seed()
{
    SplitMix64 rng(opt_.seed);
    std::vector<std::uint32_t> candidates;
    for (std::size_t i = 0; i < n_; i++)
        if (active(i))
            candidates.push_back(static_cast<std::uint32_t>(i));
    if (candidates.empty()) {
        // Cosine / inner product with only zero rows: no direction to learn.
        std::fill(centroids_, centroids_ + std::size_t(k_) * dims_, 0.0f);
        return true;
    }
    // Partial Fisher-Yates: the first m are a uniform subsample.
    const std::size_t m = std::min<std::size_t>(candidates.size(), std::size_t(kInitCandidatesPerCentroid) * k_);
    for (std::size_t j = 0; j < m; j++)
        std::swap(candidates[j], candidates[j + uniform_below(rng, candidates.size() - j)]);
    candidates.resize(m);
    candidates.shrink_to_fit();

    std::vector<double> nearest2(m);  // D(x)^2: distance to the nearest seed so far
    copy_row_to_centroid(candidates[uniform_below(rng, m)], 0);
    parallel_for(m, threads_, [&](std::size_t j, unsigned) { nearest2[j] = train_distance(centroid(0), candidates[j]); });
    for (std::uint32_t c = 1; c < k_; c++) {
        if (cancelled())
            return false;
        double total = 0.0;
        for (double d2 : nearest2)
            total += d2;
        std::size_t pick = c % m;  // every candidate coincides with a seed: repeat one
        if (total > 0.0 && std::isfinite(total)) {
            const double target = rng.next_double() * total;
            double running = 0.0;
            for (std::size_t j = 0; j < m; j++) {
                if (nearest2[j] <= 0.0)
                    continue;
                pick = j;  // the last positive one if rounding leaves running <= target
                running += nearest2[j];
                if (running > target)
                    break;
            }
        }
        copy_row_to_centroid(candidates[pick], c);
        const float *seeded = centroid(c);
        parallel_for(m, threads_, [&](std::size_t j, unsigned) {
            nearest2[j] = std::min(nearest2[j], train_distance(seeded, candidates[j]));
        });
    }
    return true;
}

/// Each active row to its nearest centroid.  False if cancelled.
bool Trainer::assign(std::size_t &changed)
{
    std::fill(changed_.begin(), changed_.end(), 0);
    const std::size_t work_per_row = std::max<std::size_t>(1, std::size_t(k_) * dims_);
    const std::size_t block = std::max(kMinRowsPerBlock, kAssignWorkPerBlock / work_per_row);
    for (std::size_t begin = 0; begin < n_; begin += block) {
        if (cancelled())
            return false;
        const std::size_t rows = std::min(block, n_ - begin);
        parallel_for(
            rows, threads_,
            [&](std::size_t j, unsigned t) {
                const std::size_t i = begin + j;
                if (!active(i))
                    return;
                const Nearest nearest = find_nearest(centroids_, k_, dims_, opt_.metric, row(i));
                // Spherical: score = -<c, x>, so the cosine distance is 1 + score / |x|.
                distance_[i] = spherical_ ? std::max(0.0, 1.0 + nearest.score * inverse_norm_[i]) : nearest.score;
                changed_[t] += cluster_[i] != nearest.id;
                cluster_[i] = nearest.id;
            },
            8);
    }
    changed = 0;
    for (std::size_t c : changed_)
        changed += c;
    return true;
}

void Trainer::sum_clusters()
{
    std::fill(counts_.begin(), counts_.end(), 0);
    for (std::size_t i = 0; i < n_; i++)
        if (cluster_[i] != kNoCluster)
            counts_[cluster_[i]]++;
    std::fill(sums_.begin(), sums_.end(), 0.0);
    const std::size_t tasks = (dims_ + kDimsPerSumTask - 1) / kDimsPerSumTask;
    parallel_for(
        tasks, threads_,
        [&](std::size_t task, unsigned) {
            const std::uint32_t first = static_cast<std::uint32_t>(task * kDimsPerSumTask);
            const std::uint32_t last = std::min(dims_, first + kDimsPerSumTask);
            for (std::size_t i = 0; i < n_; i++) {
                if (cluster_[i] == kNoCluster)
                    continue;
                const float *x = row(i);
                const double w = row_weight(i);
                double *sum = &sums_[std::size_t(cluster_[i]) * dims_];
                for (std::uint32_t d = first; d < last; d++)
                    sum[d] += x[d] * w;  // in double: n rows of 3.4e38 stay finite
            }
        },
        1);
}

/// An empty cluster takes the row farthest from its centre out of the
/// largest cluster (ties: lowest index), as FAISS splits its largest
/// clusters; the row's distance is from the centroid it was assigned to.
std::uint32_t Trainer::reseed_empty_clusters()
{
    std::uint32_t reseeded = 0;
    for (std::uint32_t empty = 0; empty < k_; empty++) {
        if (counts_[empty] != 0)
            continue;
        const std::uint32_t largest =
            static_cast<std::uint32_t>(std::max_element(counts_.begin(), counts_.end()) - counts_.begin());
        if (counts_[largest] < 2)
            break;  // fewer active rows than clusters
        std::size_t far = n_;
        for (std::size_t i = 0; i < n_; i++)
            if (cluster_[i] == largest && (far == n_ || distance_[i] > distance_[far]))
                far = i;
        const float *x = row(far);
        const double w = row_weight(far);
        double *from = &sums_[std::size_t(largest) * dims_];
        double *to = &sums_[std::size_t(empty) * dims_];
        for (std::uint32_t d = 0; d < dims_; d++) {
            from[d] -= x[d] * w;
            to[d] = x[d] * w;
        }
        counts_[largest]--;
        counts_[empty] = 1;
        cluster_[far] = empty;
        distance_[far] = 0.0;
        reseeded++;
    }
    return reseeded;
}

void Trainer::divide()
{
    parallel_for(
        k_, threads_,
        [&](std::size_t c, unsigned) {
            if (counts_[c] == 0)
                return;  // keeps its previous centroid
            const double *sum = &sums_[c * dims_];
            double scale;
            if (spherical_) {
                double norm2 = 0.0;
                for (std::uint32_t d = 0; d < dims_; d++)
                    norm2 += sum[d] * sum[d];
                // Rows that cancel out (opposite directions) give no direction.
                if (!(norm2 > 0.0) || !std::isfinite(norm2))
                    return;
                scale = 1.0 / std::sqrt(norm2);
            } else {
                scale = 1.0 / double(counts_[c]);
            }
            float *out = centroid(static_cast<std::uint32_t>(c));
            // A mean of finite floats lies within their range, up to rounding.
            for (std::uint32_t d = 0; d < dims_; d++)
                out[d] = static_cast<float>(std::clamp(sum[d] * scale, double(-FLT_MAX), double(FLT_MAX)));
        },
        1);
}

KMeansResult Trainer::run()
{
    KMeansResult result;
    result.clusters = k_;
    if (spherical_)
        compute_inverse_norms();
    if (!seed()) {
        result.status = KMeansStatus::Cancelled;
        return result;
    }
    for (std::uint32_t iteration = 0; iteration < opt_.iterations; iteration++) {
        std::size_t changed = 0;
        if (!assign(changed)) {
            result.status = KMeansStatus::Cancelled;
            return result;
        }
        result.iterations = iteration + 1;
        if (changed == 0) {
            // Same clusters as the last update: its centroids are their means.
            if (opt_.progress != nullptr)
                opt_.progress(opt_.context, opt_.iterations, opt_.iterations);
            break;
        }
        sum_clusters();
        result.reseeded += reseed_empty_clusters();
        divide();
        if (opt_.progress != nullptr)
            opt_.progress(opt_.context, iteration + 1, opt_.iterations);
    }
    return result;
}

}  // namespace

KMeansResult train_centroids(const float *sample, std::size_t n, std::uint32_t dims, std::uint32_t k,
                             const KMeansOptions &options, float *centroids)
{
    if (n == 0)
        throw Error(ErrorKind::InvalidParameter, "k-means needs at least one sample row");
    if (n > UINT32_MAX)
        throw Error(ErrorKind::InvalidParameter, "k-means sample has more than 2^32 - 1 rows");
    if (dims == 0)
        throw Error(ErrorKind::InvalidParameter, "k-means needs at least one dimension");
    if (metric_needs_exact_vectors(options.metric))
        throw Error(ErrorKind::InvalidParameter, "k-means supports L2, inner product and cosine only");
    const std::uint32_t clusters = static_cast<std::uint32_t>(std::clamp<std::size_t>(k, 1, n));
    Trainer trainer(sample, n, dims, clusters, options, centroids);
    return trainer.run();
}

std::uint32_t nearest_centroid(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric,
                               const float *x)
{
    return find_nearest(centroids, k, dims, metric, x).id;
}

std::uint32_t nearest_centroids(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric,
                                const float *q, std::uint32_t probes, std::uint32_t *out)
{
    const std::uint32_t count = std::min(probes, k);
    if (count == 0)
        return 0;
    std::vector<std::pair<double, std::uint32_t>> scored(k);
    for (std::uint32_t c = 0; c < k; c++)
        scored[c] = {score(metric, centroids + std::size_t(c) * dims, q, dims), c};
    std::partial_sort(scored.begin(), scored.begin() + count, scored.end());
    for (std::uint32_t j = 0; j < count; j++)
        out[j] = scored[j].second;
    return count;
}

}  // namespace vecdb::ivf
