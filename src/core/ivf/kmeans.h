/*
 * kmeans.h -- the IVF index's coarse quantizer: k-means centroids trained on a
 * sample, and the nearest-centroid searches that builds, inserts and scans use.
 *
 * Lloyd's algorithm (Lloyd 1982) seeded with k-means++ (Arthur & Vassilvitskii
 * 2007) on a random subsample; clusters that end an iteration empty are
 * re-seeded by splitting the largest one.  Cosine and inner product train
 * spherical k-means (Dhillon & Modha 2001): rows count by direction, centroids
 * are unit vectors, and a row belongs to the centroid of largest dot product.
 * README.md in this folder gives the reasons for each choice.
 *
 * Determinism.  For a given sample, k, options (thread count excepted) and
 * SIMD kernel set, the centroids are bitwise the same: the threads only ever
 * write per-row or per-cluster results, and every sum runs in a fixed order.
 *
 * Memory.  The sample (n x dims floats) belongs to the caller and is only
 * read.  train_centroids() allocates, with std::vector, before any thread
 * starts: per row a cluster id, an assignment and its place among the rows
 * grouped by cluster (4 bytes each) and under cosine /
 * inner product an inverse norm (8); per centroid dims doubles of sums and
 * two offsets into the grouped rows; and,
 * while seeding, a row list (4 bytes per row) cut down to the k-means++
 * candidates (at most kInitCandidatesPerCentroid x k, 12 bytes each); and
 * per assignment pass, before its threads start, the centroids again in
 * panels for the blocked search (4 k dims bytes) and under L2 8 rows of
 * scratch per thread.  So about 24 n + 12 k dims bytes; no copy of the
 * sample (spherical training scales rows by their inverse norm on the fly).
 *
 * Threads.  The work runs in parallel_for (../parallel.h); cancel and progress
 * are only ever called on the calling thread, between parallel sections.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "../metric.h"

namespace vecdb::ivf {

using vecdb::Metric;

/// k-means++ draws its seeds from at most this many sample rows per centroid
/// (VectorChord samples 256 rows per list, so about 1/8 of the sample):
/// seeding costs k passes over the candidates, 32 k^2 dims, about 1/8 of
/// one Lloyd iteration over a 256 k-row sample.
constexpr std::uint32_t kInitCandidatesPerCentroid = 32;

enum class KMeansStatus { Done, Cancelled };

struct KMeansOptions {
    /// L2 trains plain Lloyd; Cosine and InnerProduct train spherical
    /// k-means.  L1 is refused (its centre is a median, not a mean).
    Metric metric = Metric::L2;
    std::uint32_t iterations = 10;  ///< Lloyd iterations at most (fewer once no row changes cluster)
    std::uint64_t seed = 0;         ///< the subsample and the k-means++ draws
    unsigned threads = 1;           ///< the calling thread plus threads - 1 std::threads
    void *context = nullptr;        ///< passed to cancel and progress
    /// Polled by the calling thread before each iteration, between blocks of
    /// rows inside one, and between k-means++ seeds; true stops the training.
    /// Must return normally (no longjmp, no throw) while workers may run: in
    /// the glue, test INTERRUPTS_PENDING_CONDITION() here and call
    /// CHECK_FOR_INTERRUPTS() after train_centroids() has returned.
    bool (*cancel)(void *context) = nullptr;
    /// Called by the calling thread after each Lloyd iteration (done of
    /// total = iterations; done = total once converged early), same rules.
    void (*progress)(void *context, std::uint32_t done, std::uint32_t total) = nullptr;
};

struct KMeansResult {
    KMeansStatus status = KMeansStatus::Done;
    std::uint32_t clusters = 0;    ///< k clamped to [1, n]: centroids holds clusters x dims floats
    std::uint32_t iterations = 0;  ///< Lloyd iterations run
    std::uint64_t reseeded = 0;    ///< empty clusters re-seeded, summed over the iterations
};

/// Trains min(max(k, 1), n) centroids from the n sample rows (n x dims
/// floats, row-major, all finite) and writes them to centroids (clusters x
/// dims floats, finite; unit vectors under cosine / inner product).  Rows
/// of any finite magnitude are fine: sums and fallbacks run in double.
/// Under cosine / inner product zero rows have no direction and are left
/// out; if every row is zero the centroids are zero.  With fewer distinct
/// rows (directions) than clusters some centroids repeat and their lists
/// stay empty.  On Cancelled the centroids are finite but not trained.
/// Throws Error(InvalidParameter) for n == 0, n > UINT32_MAX, dims == 0 or
/// metric L1, std::bad_alloc if scratch cannot be allocated.
KMeansResult train_centroids(const float *sample, std::size_t n, std::uint32_t dims, std::uint32_t k,
                             const KMeansOptions &options, float *centroids);

/// The centroid x belongs to: smallest L2 / L1 distance, largest dot product
/// under inner product and cosine (centroids are unit vectors then, so this
/// is also the smallest cosine distance).  Ties go to the lower index.  The
/// rule train_centroids() and assign_rows() assign rows by, so an inserted
/// row lands in the list its training sample would have, up to float
/// rounding (see assign_rows).  Needs k >= 1.
std::uint32_t nearest_centroid(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric,
                               const float *x);

/// nearest_centroid() of each of the n rows (n x dims floats, row-major)
/// into out[0, n), on `threads` threads: a blocked search (8 rows by 16
/// centroids a kernel call, as a matrix product) that is several times
/// faster for many rows.  It scores in float from the centroids' mean, so
/// between two centroids whose distances differ by less than float rounding
/// of the row's distance it may pick either; a row whose float sums
/// overflow or underflow is ranked exactly, as nearest_centroid() does.
/// train_centroids() assigns by the same search.  Allocates k x dims floats.
/// `cancel` (may be null) is polled as KMeansOptions::cancel is, between
/// blocks of about 2^26 multiply-adds; false if it stopped the assignment
/// (out is then partly written).
bool assign_rows(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric, const float *rows,
                 std::size_t n, unsigned threads, std::uint32_t *out, bool (*cancel)(void *context) = nullptr,
                 void *context = nullptr);

/// Every centroid's score for q into scores[0, k): smaller is nearer (the
/// L2 or L1 distance, minus the dot product under inner product and
/// cosine).  An ivf scan ranks its lists by it, ties by index, as it reads
/// them.
void score_centroids(const float *centroids, std::uint32_t k, std::uint32_t dims, Metric metric, const float *q,
                     double *scores);

}  // namespace vecdb::ivf
