/*
 * distance_avx512.cpp -- kernels for AVX-512F (compiled with -mavx512f -mfma).
 *
 * SIMDe 0.7.4 (Debian bookworm) lacks _mm512_reduce_add_ps, so the horizontal
 * sum folds the lanes in halves by hand.  Nothing here may have external linkage
 * except the table: see distance_simd.inc.
 */
#include <cstddef>

#include <simde/x86/avx512.h>

#include "distance.h"

#include "../core_only.h"

namespace vecdb {

namespace {

struct Avx512 {
    using V = simde__m512;
    static constexpr std::size_t kWidth = 16;
    static V zero() { return simde_mm512_setzero_ps(); }
    static V load(const float *p) { return simde_mm512_loadu_ps(p); }
    static V add(V a, V b) { return simde_mm512_add_ps(a, b); }
    static V sub(V a, V b) { return simde_mm512_sub_ps(a, b); }
    static V mul_add(V a, V b, V acc) { return simde_mm512_fmadd_ps(a, b, acc); }
    static V abs(V a) { return simde_mm512_abs_ps(a); }
    static float sum(V v)
    {
        // Through memory: GCC 12 warns (falsely) about the cast intrinsics
        // that fold a register in halves, and this runs once per call.
        float lanes[16];
        simde_mm512_storeu_ps(lanes, v);
        for (int width = 8; width > 0; width /= 2)
            for (int i = 0; i < width; i++)
                lanes[i] += lanes[i + width];
        return lanes[0];
    }
};

#include "distance_simd.inc"

}  // namespace

const DistanceKernels kAvx512Kernels = make_kernels<Avx512>("avx512f");

}  // namespace vecdb
