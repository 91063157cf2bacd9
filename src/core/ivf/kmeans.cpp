/*
 * kmeans.cpp -- k-means training (k-means++ seeds, Lloyd iterations, empty
 * clusters re-seeded) and the nearest-centroid searches.  See kmeans.h for
 * the contract and README.md for the choices.
 *
 * One iteration:
 *   assign   assign_rows (the blocked search, cancel polled between blocks
 *            of rows)
 *   sum      rows grouped by cluster; parallel over clusters, each adding
 *            its rows in row order, so the sums do not depend on the
 *            thread count
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

/// score() of x against every centroid, into out[0, k): four centroids at a
/// time where the metric has a four-way kernel (x's loads shared).
void score_all(Metric metric, const float *centroids, std::uint32_t k, std::uint32_t dims, const float *x,
               double *out)
{
    std::uint32_t c = 0;
    if (metric == Metric::L2 || is_spherical(metric)) {
        for (; c + 4 <= k; c += 4) {
            const float *four[4];
            for (int j = 0; j < 4; j++)
                four[j] = centroids + std::size_t(c + j) * dims;
            if (metric == Metric::L2) {
                l2_squared_checked_x4(x, four, dims, out + c);
            } else {
                dot_checked_x4(x, four, dims, out + c);
                for (int j = 0; j < 4; j++)
                    out[c + j] = -out[c + j];
            }
        }
    }
    for (; c < k; c++)
        out[c] = score(metric, centroids + std::size_t(c) * dims, x, dims);
}

struct Nearest {
    std::uint32_t id;
    double score;
};

/// The nearest centroid (the lowest number among ties).
Nearest find_nearest(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric, const float *x)
{
    constexpr std::uint32_t kChunk = 256;
    double scores[kChunk];
    Nearest best{0, HUGE_VAL};
    for (std::uint32_t first = 0; first < k; first += kChunk) {
        const std::uint32_t m = std::min(kChunk, k - first);
        score_all(metric, centroids + std::size_t(first) * dims, m, dims, x, scores);
        for (std::uint32_t j = 0; j < m; j++)
            if (scores[j] < best.score)
                best = {first + j, scores[j]};
    }
    return best;
}

/*
 * The blocked search (k-means assignment, the build's): centroids in panels
 * of kPanelWidth, transposed, so that dot_panel (simd/distance.h) scores
 * kPanelRows rows against a panel as a small matrix product, with no
 * horizontal sum per pair.  L2 ranks by |c'|^2 - 2 <x', c'>, which is
 * |x - c|^2 less |x'|^2, with x' = x - mu, c' = c - mu and mu the centroids'
 * mean: the dots then see the rows' spread, not their common offset from the
 * origin, which float rounding would otherwise swamp (rows of 1e4 + U(0, 1)
 * picked centroids 1e-3 farther, relatively, from the shifted-centroid form
 * alone).  Cosine and inner product rank by -<x, c>.  A row with a dot float
 * cannot be trusted with (overflow, or below kMinTrustedFloatSum) is ranked
 * again by find_nearest.
 */
class CentroidPanels {
public:
    /// Scratch for `threads` callers of nearest() at once.
    CentroidPanels(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric, unsigned threads)
        : centroids_(centroids), k_(k), dims_(dims), metric_(metric),
          panels_((k + kPanelWidth - 1) / kPanelWidth)
    {
        usable_ = metric == Metric::L2 || is_spherical(metric);
        if (!usable_)
            return;
        if (metric == Metric::L2) {
            std::vector<double> sum(dims, 0.0);
            for (std::uint32_t c = 0; c < k; c++)
                for (std::uint32_t d = 0; d < dims; d++)
                    sum[d] += centroids[std::size_t(c) * dims + d];
            mu_.resize(dims);
            for (std::uint32_t d = 0; d < dims; d++)
                mu_[d] = static_cast<float>(sum[d] / k);  // a mean of finite floats: finite
            shifted_rows_.assign(std::size_t(std::max(1u, threads)) * kPanelRows * dims, 0.0f);
        }
        panel_.assign(panels_ * kPanelWidth * std::size_t(dims), 0.0f);
        bias_.assign(panels_ * kPanelWidth, HUGE_VAL);
        for (std::uint32_t c = 0; c < k; c++) {
            float *column = &panel_[(c / kPanelWidth) * kPanelWidth * std::size_t(dims) + c % kPanelWidth];
            double square = 0.0;
            for (std::uint32_t d = 0; d < dims; d++) {
                const float value = centroids[std::size_t(c) * dims + d];
                const float shifted = metric == Metric::L2 ? value - mu_[d] : value;
                column[kPanelWidth * d] = shifted;
                square += double(shifted) * shifted;
            }
            bias_[c] = metric == Metric::L2 ? square : 0.0;
            usable_ = usable_ && std::isfinite(square);
        }
    }

    /// The nearest centroid of rows[0, kPanelRows) into ids; `thread` (below
    /// the constructor's threads) picks the scratch.
    void nearest(const float *const *given, std::uint32_t *ids, unsigned thread)
    {
        if (!usable_) {
            for (std::size_t r = 0; r < kPanelRows; r++)
                ids[r] = find_nearest(centroids_, k_, dims_, metric_, given[r]).id;
            return;
        }
        const float *const *rows = given;
        const float *shifted[kPanelRows];
        if (metric_ == Metric::L2) {
            // x - mu: an overflow here gives an infinite dot, so the row is ranked exactly.
            float *scratch = &shifted_rows_[std::size_t(thread) * kPanelRows * dims_];
            const float *mu = mu_.data();
            const std::uint32_t dims = dims_;
            for (std::size_t r = 0; r < kPanelRows; r++) {
                // Locals, so that the loop vectorizes: through the members
                // it reloaded mu_ and dims_ at every element (the shift took
                // as long as the panel products at 784 dimensions).
                const float *src = given[r];
                float *dst = scratch + r * dims;
                for (std::uint32_t d = 0; d < dims; d++)
                    dst[d] = src[d] - mu[d];
                shifted[r] = dst;
            }
            rows = shifted;
        }
        const auto dot_panel = distance_kernels().dot_panel;
        float dots[kPanelRows * kPanelWidth];
        double best[kPanelRows];
        bool trusted[kPanelRows];
        for (std::size_t r = 0; r < kPanelRows; r++) {
            best[r] = HUGE_VAL;
            ids[r] = 0;
            trusted[r] = true;
        }
        const double scale = metric_ == Metric::L2 ? -2.0 : -1.0;
        for (std::size_t p = 0; p < panels_; p++) {
            dot_panel(rows, &panel_[p * kPanelWidth * dims_], dims_, dots);
            const std::size_t columns = std::min<std::size_t>(kPanelWidth, k_ - p * kPanelWidth);
            for (std::size_t r = 0; r < kPanelRows; r++)
                for (std::size_t j = 0; j < columns; j++) {
                    const float dot = dots[kPanelWidth * r + j];
                    const float magnitude = std::fabs(dot);
                    trusted[r] = trusted[r] && magnitude >= kMinTrustedFloatSum && magnitude <= FLT_MAX;
                    const double s = bias_[p * kPanelWidth + j] + scale * dot;
                    if (s < best[r]) {
                        best[r] = s;
                        ids[r] = std::uint32_t(p * kPanelWidth + j);
                    }
                }
        }
        for (std::size_t r = 0; r < kPanelRows; r++)
            if (!trusted[r])
                ids[r] = find_nearest(centroids_, k_, dims_, metric_, given[r]).id;
    }

private:
    const float *centroids_;
    std::uint32_t k_, dims_;
    Metric metric_;
    std::size_t panels_;
    bool usable_ = false;              ///< false: L1, or a centroid too large for the shifted form
    std::vector<float> mu_;            ///< L2: the centroids' mean
    std::vector<float> panel_;         ///< panels_ x dims x kPanelWidth, zero past k
    std::vector<double> bias_;         ///< per centroid: |c'|^2 (L2), 0 (spherical); +inf past k
    std::vector<float> shifted_rows_;  ///< L2: per thread, kPanelRows rows less mu
};

/// CentroidPanels::nearest over rows [begin, end), end - begin <= kPanelRows
/// (the last row repeated to fill the panel).
void nearest_of_group(CentroidPanels &panels, const float *rows, std::uint32_t dims, std::size_t begin,
                      std::size_t end, std::uint32_t *ids, unsigned thread)
{
    const float *group[kPanelRows];
    for (std::size_t r = 0; r < kPanelRows; r++)
        group[r] = rows + std::min(begin + r, end - 1) * dims;
    std::uint32_t found[kPanelRows];
    panels.nearest(group, found, thread);
    std::copy(found, found + (end - begin), ids);
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
          spherical_(is_spherical(options.metric)), centroids_(centroids), cluster_(n, kNoCluster),
          assigned_(n), counts_(k, 0), sums_(std::size_t(k) * dims, 0.0), first_member_(std::size_t(k) + 1, 0),
          next_member_(k, 0), members_(n), changed_(threads_, 0)
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

    /// train_distance() of rows i[0, 4) from c, c's loads shared.
    void train_distances4(const float *c, const std::uint32_t *i, double *out) const
    {
        const float *four[4] = {row(i[0]), row(i[1]), row(i[2]), row(i[3])};
        if (!spherical_) {
            l2_squared_checked_x4(c, four, dims_, out);
            return;
        }
        dot_checked_x4(c, four, dims_, out);
        for (int j = 0; j < 4; j++)
            out[j] = std::max(0.0, 1.0 - out[j] * inverse_norm_[i[j]]);
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
    std::vector<std::uint32_t> assigned_;  ///< per row: assign_rows()'s answer in the current pass
    std::vector<std::size_t> counts_;     ///< per cluster: rows assigned
    std::vector<double> sums_;            ///< per cluster: dims sums of its (weighted) rows
    std::vector<std::size_t> first_member_;  ///< per cluster and one past: where its rows start in members_
    std::vector<std::size_t> next_member_;   ///< per cluster: where its next row goes while grouping
    std::vector<std::uint32_t> members_;     ///< row numbers grouped by cluster, in row order within each
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

    std::vector<double> nearest2(m, HUGE_VAL);  // D(x)^2: distance to the nearest seed so far
    // Each seed's distances four candidates at a time (the last four repeated).
    auto update = [&](const float *seeded) {
        parallel_for((m + 3) / 4, threads_, [&](std::size_t g, unsigned) {
            std::uint32_t four[4];
            for (std::size_t j = 0; j < 4; j++)
                four[j] = candidates[std::min(4 * g + j, m - 1)];
            double d[4];
            train_distances4(seeded, four, d);
            for (std::size_t j = 0; j < 4 && 4 * g + j < m; j++)
                nearest2[4 * g + j] = std::min(nearest2[4 * g + j], d[j]);
        }, 16);
    };
    copy_row_to_centroid(candidates[uniform_below(rng, m)], 0);
    update(centroid(0));
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
        update(centroid(c));
    }
    return true;
}

/// Each active row to its nearest centroid.  False if cancelled.
bool Trainer::assign(std::size_t &changed)
{
    if (!assign_rows(centroids_, k_, dims_, opt_.metric, x_, n_, threads_, assigned_.data(), opt_.cancel,
                     opt_.context))
        return false;
    std::fill(changed_.begin(), changed_.end(), 0);
    parallel_for(n_, threads_, [&](std::size_t i, unsigned t) {
        if (!active(i))
            return;
        const std::uint32_t id = assigned_[i];
        changed_[t] += cluster_[i] != id;
        cluster_[i] = id;
    });
    changed = 0;
    for (std::size_t c : changed_)
        changed += c;
    return true;
}

void Trainer::sum_clusters()
{
    // Rows grouped by cluster, in row order within each (a stable counting
    // sort), so that a task sums whole clusters: its sums stay in cache while
    // each row is read once, whole.  Summing by slices of dimensions over
    // all rows instead missed the cache on a random cluster's sums at every
    // row (a quarter of a 784-d build's k-means).  Each cluster adds its rows
    // in row order either way: the sums do not depend on the thread count.
    std::fill(counts_.begin(), counts_.end(), 0);
    for (std::size_t i = 0; i < n_; i++)
        if (cluster_[i] != kNoCluster)
            counts_[cluster_[i]]++;
    std::size_t start = 0;
    for (std::uint32_t c = 0; c < k_; c++) {
        first_member_[c] = start;
        start += counts_[c];
    }
    first_member_[k_] = start;
    std::copy(first_member_.begin(), first_member_.end() - 1, next_member_.begin());
    for (std::size_t i = 0; i < n_; i++)
        if (cluster_[i] != kNoCluster)
            members_[next_member_[cluster_[i]]++] = static_cast<std::uint32_t>(i);
    parallel_for(
        k_, threads_,
        [&](std::size_t c, unsigned) {
            double *__restrict sum = &sums_[c * dims_];
            const std::uint32_t dims = dims_;
            std::fill(sum, sum + dims, 0.0);
            for (std::size_t m = first_member_[c]; m < first_member_[c + 1]; m++) {
                const std::size_t i = members_[m];
                const float *__restrict x = row(i);
                const double w = row_weight(i);
                for (std::uint32_t d = 0; d < dims; d++)  // restrict: vectorized
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
        // Distances from the centroids of the assignment (not yet divided):
        // computed here, for the largest cluster's rows, only when a cluster
        // is empty (rarely), not for every row at every pass.
        std::size_t far = n_;
        double far_distance = 0.0;
        for (std::size_t i = 0; i < n_; i++) {
            if (cluster_[i] != largest)
                continue;
            const double d = train_distance(centroid(largest), i);
            if (far == n_ || d > far_distance) {
                far = i;
                far_distance = d;
            }
        }
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

bool assign_rows(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric, const float *rows,
                 std::size_t n, unsigned threads, std::uint32_t *out, bool (*cancel)(void *context), void *context)
{
    CentroidPanels panels(centroids, k, dims, metric, std::max(1u, threads));
    const std::size_t work_per_row = std::max<std::size_t>(1, std::size_t(k) * dims);
    const std::size_t block =
        std::max(kMinRowsPerBlock, kAssignWorkPerBlock / work_per_row) / kPanelRows * kPanelRows;
    for (std::size_t begin = 0; begin < n; begin += block) {
        if (cancel != nullptr && cancel(context))
            return false;
        const std::size_t end = std::min(n, begin + block);
        parallel_for(
            (end - begin + kPanelRows - 1) / kPanelRows, std::max(1u, threads),
            [&](std::size_t g, unsigned t) {
                const std::size_t first = begin + g * kPanelRows;
                nearest_of_group(panels, rows, dims, first, std::min(first + kPanelRows, end), out + first, t);
            },
            1);
    }
    return true;
}

void score_centroids(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric, const float *q,
                     double *scores)
{
    score_all(metric, centroids, k, dims, q, scores);
}

}  // namespace vecdb::ivf
