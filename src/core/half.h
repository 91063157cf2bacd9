/*
 * half.h -- IEEE 754 binary16 ("half") values as halfvec stores them.
 *
 * The compiler's _Float16 converts (round to nearest even, subnormals kept;
 * F16C instructions where the target has them), so nothing here re-derives
 * the format.  Values are kept as raw bits: the SQL layer moves them in
 * and out of pages and messages.
 */
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace vecdb {

using Half = std::uint16_t;

/// The largest finite half.
constexpr float kHalfMax = 65504.0f;

inline float half_to_float(Half h)
{
    _Float16 f;
    std::memcpy(&f, &h, sizeof(f));
    return static_cast<float>(f);
}

/// x rounded to the nearest half; false (and *h infinite) when x is finite
/// but beyond the half range (|x| >= 65520 rounds to infinity).
inline bool float_to_half(float x, Half *h)
{
    const _Float16 f = static_cast<_Float16>(x);
    std::memcpy(h, &f, sizeof(f));
    return !std::isinf(static_cast<float>(f)) || std::isinf(x);
}

}  // namespace vecdb
