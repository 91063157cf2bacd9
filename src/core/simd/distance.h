/*
 * distance.h -- SIMD distance kernels over float arrays, and the table that
 * picks one instruction set for the whole process.
 *
 * Each instruction set has its own translation unit compiled with its own -m
 * flags (distance_scalar.cpp, distance_avx2.cpp, distance_avx512.cpp,
 * distance_neon.cpp); SIMDe only reaches native speed that way.  The table is
 * chosen once at load (init_distance_kernels) with __builtin_cpu_supports.
 *
 * All kernels accumulate in float, as pgvector does, and return the raw sum;
 * callers turn sums into distances (sqrt, 1 - cosine) in double.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "../metric.h"

namespace vecdb {

/// The three sums cosine distance needs, computed in one pass over a and b.
struct CosineSums {
    float dot;     ///< sum a[i] * b[i]
    float norm_a;  ///< sum a[i]^2
    float norm_b;  ///< sum b[i]^2
};

/// The population counts Jaccard distance needs, over two bit strings.
struct BitCounts {
    std::uint64_t both;  ///< bits set in a and b
    std::uint64_t a;     ///< bits set in a
    std::uint64_t b;     ///< bits set in b
};

/// dot_panel's shape: kPanelRows rows by kPanelWidth columns.
constexpr std::size_t kPanelRows = 8;
constexpr std::size_t kPanelWidth = 16;

/// One instruction set's kernels.  n (floats) and bytes may be any value >= 0.
struct DistanceKernels {
    const char *name;  ///< reported by SQL vecdb_simd_kernels()
    float (*l2_squared)(const float *a, const float *b, std::size_t n);
    float (*dot)(const float *a, const float *b, std::size_t n);
    CosineSums (*cosine_sums)(const float *a, const float *b, std::size_t n);
    float (*l1)(const float *a, const float *b, std::size_t n);
    /// bits that differ between a and b
    std::uint64_t (*hamming)(const std::uint8_t *a, const std::uint8_t *b, std::size_t bytes);
    BitCounts (*bit_counts)(const std::uint8_t *a, const std::uint8_t *b, std::size_t bytes);
    /// l2_squared / dot of a against each of b[0..3] into out[0..3], a's loads
    /// shared (k-means and the ivf scan rank a vector against many centroids)
    void (*l2_squared_x4)(const float *a, const float *const *b, std::size_t n, float *out);
    void (*dot_x4)(const float *a, const float *const *b, std::size_t n, float *out);
    /// the dots of kPanelRows rows (n floats each) with kPanelWidth columns
    /// stored transposed, panel[kPanelWidth t + j] = column j's element t:
    /// out[kPanelWidth r + j] = sum_t rows[r][t] panel[kPanelWidth t + j].
    /// No horizontal sums: a block of k-means assignment as a small GEMM.
    void (*dot_panel)(const float *const *rows, const float *panel, std::size_t n, float *out);
    /// sum a[i] * b[i] over n bytes b[i] as 0..255: the SQ8 scan's dot
    float (*dot_u8)(const float *a, const std::uint8_t *b, std::size_t n);
    /// n binary16 values (halfvec) as floats, exactly
    void (*half_to_float)(const std::uint16_t *in, float *out, std::size_t n);
};

/// Plain loops: the reference every other kernel set is tested against.
extern const DistanceKernels kScalarKernels;
/// AVX2 + FMA, 8 lanes x 4 accumulators.
extern const DistanceKernels kAvx2Kernels;
/// AVX-512F, 16 lanes x 4 accumulators.
extern const DistanceKernels kAvx512Kernels;
/// NEON, 4 lanes x 4 accumulators (SIMDe-emulated when not built on arm64).
extern const DistanceKernels kNeonKernels;

/// The best kernel set this CPU can run.
const DistanceKernels *best_distance_kernels();

/// Make `kernels` the process-wide choice; init_distance_kernels() picks the best.
void set_distance_kernels(const DistanceKernels *kernels);
void init_distance_kernels();

/// The process-wide choice (scalar until init_distance_kernels() runs).
const DistanceKernels &distance_kernels();

// --- Sums in double, exact at any float magnitude -------------------------
//
// For finite float inputs every difference, product and sum below is finite,
// and no difference or product of non-zero values is 0: |a[i]| <= FLT_MAX =
// 3.4e38, so a square is at most (6.8e38)^2 = 4.6e77 and 16000 of them 7.4e81,
// far below DBL_MAX = 1.8e308; the smallest subnormal float squared, 2e-90, is
// far above DBL_MIN = 2.2e-308.  They are the fallback when a float kernel's
// result cannot be trusted (overflow to infinity, underflow to 0); the results
// carry only double rounding.  Scalar loops with independent accumulators in
// distance_double.cpp (no ISA flags: every CPU runs them).

/// cosine_sums in double.
struct CosineSumsDouble {
    double dot;     ///< sum a[i] * b[i]
    double norm_a;  ///< sum a[i]^2
    double norm_b;  ///< sum b[i]^2
};

/// sum (a[i] - b[i])^2, each difference and square in double.
double l2_squared_double(const float *a, const float *b, std::size_t n);
/// sum a[i] * b[i] in double.
double dot_double(const float *a, const float *b, std::size_t n);
/// sum |a[i] - b[i]| in double.
double l1_double(const float *a, const float *b, std::size_t n);
CosineSumsDouble cosine_sums_double(const float *a, const float *b, std::size_t n);
/// 1 - cos(a, b) clamped to [0, 2] from double sums; NaN when a or b is zero (as pgvector).
double cosine_distance_double(const float *a, const float *b, std::size_t n);

// --- Checked distances: float speed, double when float fails ---------------
//
// The SQL operators' sums.  Each runs the process-wide float kernel and
// returns its result unless that cannot be trusted, then redoes the sum in
// double (above).  Untrusted means:
//   - not finite: a difference, product or sum overflowed float;
//   - (l2, dot; each cosine norm) below kMinTrustedFloatSum in magnitude: terms
//     below FLT_MIN are rounded to multiples of 2^-149 (or to 0), an error of
//     at most 2^-150 = 7e-46 each, 1.1e-41 over 16000 terms.  Above 1e-30 that
//     is under 1.1e-11 of the result, far below float's own rounding (6e-8);
//     below it the float sum may be mostly lost terms (squares of 1e-23 are 0).
//     With both norms above the bound, the cosine's dot needs no bound of its
//     own: its underflow error is at most 1.1e-11 of sqrt(norm_a * norm_b).
// l1 only checks finiteness: a difference or sum of floats that lands in the
// subnormal range is exact (gradual underflow), so l1 loses nothing there.
// Ordinary vectors pay one or two comparisons.
constexpr float kMinTrustedFloatSum = 1e-30f;

double l2_squared_checked(const float *a, const float *b, std::size_t n);
double dot_checked(const float *a, const float *b, std::size_t n);
/// l2_squared_checked / dot_checked of a against each of b[0..3]
void l2_squared_checked_x4(const float *a, const float *const *b, std::size_t n, double *out);
void dot_checked_x4(const float *a, const float *const *b, std::size_t n, double *out);
double l1_checked(const float *a, const float *b, std::size_t n);
/// 1 - cos(a, b) clamped to [0, 2]; NaN when a or b is zero (as pgvector).
double cosine_distance_checked(const float *a, const float *b, std::size_t n);
/// The angle between two unit vectors divided by pi, in [0, 1].
double spherical_distance_checked(const float *a, const float *b, std::size_t n);
/// The SQL operator's value for metric, from the checked sums: <-> the L2
/// distance (not its square), <#> the negative inner product, <=> cosine,
/// <+> L1.  Throws Error(InvalidParameter) for Jaccard (bit strings only).
double operator_distance(Metric metric, const float *a, const float *b, std::size_t n);

}  // namespace vecdb
