/*
 * simd_vec.h -- 4-lane float vectors through GCC/clang vector extensions:
 * SSE2 on x86-64 and NEON on aarch64 from the same source, with no ISA flags
 * (both are baseline).  Include it only from files built without -m flags:
 * its inline functions have external linkage, and the linker may keep any
 * one translation unit's copy (cpp-postgres.md, SIMD).
 * Loads and stores go through memcpy: codes and queries may be unaligned.
 */
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace vecdb {

typedef float V4f __attribute__((vector_size(16)));
typedef std::uint32_t V4u __attribute__((vector_size(16)));
/// What comparing two V4f gives: -1 (true) or 0 per lane.
typedef std::int32_t V4i __attribute__((vector_size(16)));

/// Bytes p[0..16) as four V4f of 0..255.  The generic vector code for this
/// compiles to scalar byte extraction, so each ISA gets its widening moves
/// (both are baseline: no -m flags needed).
inline void load16_bytes_as_floats(const std::uint8_t *p, V4f *out)
{
#if defined(__SSE2__)
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p)), zero = _mm_setzero_si128();
    const __m128i lo = _mm_unpacklo_epi8(bytes, zero), hi = _mm_unpackhi_epi8(bytes, zero);
    out[0] = reinterpret_cast<V4f>(_mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, zero)));
    out[1] = reinterpret_cast<V4f>(_mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, zero)));
    out[2] = reinterpret_cast<V4f>(_mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, zero)));
    out[3] = reinterpret_cast<V4f>(_mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, zero)));
#elif defined(__ARM_NEON)
    const uint8x16_t bytes = vld1q_u8(p);
    const uint16x8_t lo = vmovl_u8(vget_low_u8(bytes)), hi = vmovl_u8(vget_high_u8(bytes));
    const float32x4_t f[4] = {vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo))), vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo))),
                              vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi))), vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi)))};
    std::memcpy(out, f, sizeof f);
#else
    for (int k = 0; k < 4; k++)
        out[k] = V4f{static_cast<float>(p[4 * k]), static_cast<float>(p[4 * k + 1]), static_cast<float>(p[4 * k + 2]),
                     static_cast<float>(p[4 * k + 3])};
#endif
}

inline V4f load4(const float *p)
{
    V4f v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store4(float *p, V4f v) { std::memcpy(p, &v, sizeof v); }

inline float hsum4(V4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }

/// Sign masks for 4 coordinates: lane i is 0x80000000 when bit i is set.
struct NibbleSignMasks {
    std::uint32_t lanes[16][4];
};

constexpr NibbleSignMasks build_nibble_sign_masks()
{
    NibbleSignMasks t{};
    for (int n = 0; n < 16; n++)
        for (int i = 0; i < 4; i++)
            t.lanes[n][i] = (n >> i) & 1 ? 0x80000000u : 0u;
    return t;
}

inline constexpr NibbleSignMasks kNibbleSignMasks = build_nibble_sign_masks();

/// v with lane i negated where bit i of nibble is set.
inline V4f negate_lanes(V4f v, unsigned nibble)
{
    V4u mask;
    std::memcpy(&mask, kNibbleSignMasks.lanes[nibble & 15], sizeof mask);
    return reinterpret_cast<V4f>(reinterpret_cast<V4u>(v) ^ mask);
}

}  // namespace vecdb
