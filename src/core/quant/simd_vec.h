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
