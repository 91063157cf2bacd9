/*
 * distance_neon.cpp -- kernels for ARMv8 NEON.
 *
 * On arm64 this compiles to native NEON.  Elsewhere SIMDe emulates the
 * intrinsics, which is slow but lets the unit tests check these loops on any
 * machine; the dispatcher only selects this table on arm64.
 */
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <simde/arm/neon.h>

#include "../half.h"
#include "distance.h"

#include "../core_only.h"

namespace vecdb {

namespace {

#include "half_convert.inc"

struct Neon {
    static constexpr auto half_to_float = half_to_float_loop;
    using V = simde_float32x4_t;
    static constexpr std::size_t kWidth = 4;
    static V zero() { return simde_vdupq_n_f32(0.0f); }
    static V load(const float *p) { return simde_vld1q_f32(p); }
    static V set1(float x) { return simde_vdupq_n_f32(x); }
    static void store(float *p, V v) { simde_vst1q_f32(p, v); }
    static V load_u8(const std::uint8_t *p)
    {
        // Through a 32-bit word: vld1_u8 would read 8 bytes, 4 past the last.
        std::uint32_t word;
        std::memcpy(&word, p, sizeof word);
        simde_uint16x8_t widened = simde_vmovl_u8(simde_vreinterpret_u8_u32(simde_vdup_n_u32(word)));
        return simde_vcvtq_f32_u32(simde_vmovl_u16(simde_vget_low_u16(widened)));
    }
    static V add(V a, V b) { return simde_vaddq_f32(a, b); }
    static V sub(V a, V b) { return simde_vsubq_f32(a, b); }
    static V mul_add(V a, V b, V acc) { return simde_vfmaq_f32(acc, a, b); }
    static V abs(V a) { return simde_vabsq_f32(a); }
    static float sum(V v) { return simde_vaddvq_f32(v); }
};

#include "distance_simd.inc"

}  // namespace

const DistanceKernels kNeonKernels = make_kernels<Neon>("neon");

}  // namespace vecdb
