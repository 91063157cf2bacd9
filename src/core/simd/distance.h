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
    /// sum a[i] * b[i] over n bytes b[i] as 0..255: the SQ8 scan's dot
    float (*dot_u8)(const float *a, const std::uint8_t *b, std::size_t n);
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

}  // namespace vecdb
