/*
 * distance_avx512.cpp -- kernels for AVX-512F (compiled with -mavx512f -mfma).
 *
 * SIMDe 0.7.4 (Debian bookworm) lacks _mm512_reduce_add_ps, so the horizontal
 * sum folds the register in halves by hand.  Nothing here may have external linkage
 * except the table: see distance_simd.inc.
 */
#include <cstddef>
#include <cstdint>
#include <cstring>

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which it then
// reports as "used uninitialized" (or "may be used", depending on where they
// inline) (GCC bug 105593, fixed in GCC 13).  The warning is false; silence
// it for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <simde/x86/f16c.h>
#include <simde/x86/avx512.h>

#include "../half.h"
#include "distance.h"

#include "../core_only.h"

namespace vecdb {

namespace {

#define VECDB_HALF_F16C
#include "half_convert.inc"

struct Avx512 {
    static constexpr auto half_to_float = half_to_float_f16c;
    using V = simde__m512;
    static constexpr std::size_t kWidth = 16;
    static V zero() { return simde_mm512_setzero_ps(); }
    static V load(const float *p) { return simde_mm512_loadu_ps(p); }
    static V set1(float x) { return simde_mm512_set1_ps(x); }
    static void store(float *p, V v) { simde_mm512_storeu_ps(p, v); }
    static V load_u8(const std::uint8_t *p)
    {
        simde__m128i bytes = simde_mm_loadu_si128(p);
#if defined(SIMDE_X86_AVX512F_NATIVE)
        // SIMDe 0.7.4 lacks _mm512_cvtepu8_epi32, so call it directly: one
        // VPMOVZXBD, 1.5x faster at 768 dims than widening halves as below.
        simde__m512i lanes = _mm512_cvtepu8_epi32(bytes);
#else
        simde__m512i lanes = simde_mm512_inserti64x4(simde_mm512_castsi256_si512(simde_mm256_cvtepu8_epi32(bytes)),
                                                     simde_mm256_cvtepu8_epi32(simde_mm_srli_si128(bytes, 8)), 1);
#endif
        // SIMDe 0.7.4 lacks the signed conversion too; 0..255 convert alike.
        return simde_mm512_cvtepu32_ps(lanes);
    }
    static V add(V a, V b) { return simde_mm512_add_ps(a, b); }
    static V sub(V a, V b) { return simde_mm512_sub_ps(a, b); }
    static V mul_add(V a, V b, V acc) { return simde_mm512_fmadd_ps(a, b, acc); }
    static V abs(V a) { return simde_mm512_abs_ps(a); }
    static float sum(V v)
    {
        // Fold in registers: swap the 256-bit halves, then the 128-bit pairs,
        // then finish on the low 128 bits.
        v = simde_mm512_add_ps(v, simde_mm512_shuffle_f32x4(v, v, 0x4E));
        v = simde_mm512_add_ps(v, simde_mm512_shuffle_f32x4(v, v, 0xB1));
        simde__m128 s = simde_mm512_castps512_ps128(v);
        s = simde_mm_add_ps(s, simde_mm_movehl_ps(s, s));
        s = simde_mm_add_ss(s, simde_mm_shuffle_ps(s, s, 1));
        return simde_mm_cvtss_f32(s);
    }
};

#include "distance_simd.inc"

}  // namespace

const DistanceKernels kAvx512Kernels = make_kernels<Avx512>("avx512f");

}  // namespace vecdb
