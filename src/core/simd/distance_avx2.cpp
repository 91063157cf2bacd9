/*
 * distance_avx2.cpp -- kernels for AVX2 + FMA (compiled with -mavx2 -mfma).
 *
 * Nothing in this file may have external linkage except the table: see
 * distance_simd.inc.
 */
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <simde/x86/f16c.h>
#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

#include "../half.h"
#include "distance.h"

#include "../core_only.h"

namespace vecdb {

namespace {

#define VECDB_HALF_F16C
#include "half_convert.inc"

struct Avx2 {
    static constexpr auto half_to_float = half_to_float_f16c;
    using V = simde__m256;
    static constexpr std::size_t kWidth = 8;
    static V zero() { return simde_mm256_setzero_ps(); }
    static V load(const float *p) { return simde_mm256_loadu_ps(p); }
    static V set1(float x) { return simde_mm256_set1_ps(x); }
    static void store(float *p, V v) { simde_mm256_storeu_ps(p, v); }
    static V load_u8(const std::uint8_t *p)
    {
        // A 64-bit load: exactly the 8 bytes widened.
        simde__m128i bytes = simde_mm_loadl_epi64(reinterpret_cast<const simde__m128i *>(p));
        return simde_mm256_cvtepi32_ps(simde_mm256_cvtepu8_epi32(bytes));
    }
    static V add(V a, V b) { return simde_mm256_add_ps(a, b); }
    static V sub(V a, V b) { return simde_mm256_sub_ps(a, b); }
    static V mul_add(V a, V b, V acc) { return simde_mm256_fmadd_ps(a, b, acc); }
    static V abs(V a) { return simde_mm256_andnot_ps(simde_mm256_set1_ps(-0.0f), a); }
    static float sum(V v)
    {
        simde__m128 s = simde_mm_add_ps(simde_mm256_castps256_ps128(v), simde_mm256_extractf128_ps(v, 1));
        s = simde_mm_add_ps(s, simde_mm_movehl_ps(s, s));
        s = simde_mm_add_ss(s, simde_mm_shuffle_ps(s, s, 1));
        return simde_mm_cvtss_f32(s);
    }
};

#include "distance_simd.inc"

}  // namespace

const DistanceKernels kAvx2Kernels = make_kernels<Avx2>("avx2");

}  // namespace vecdb
