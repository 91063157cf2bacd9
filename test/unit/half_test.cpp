// half.h: the binary16 conversions halfvec stores through, against a
// reference built from the format's definition (frexp / ldexp), not from
// the compiler's _Float16.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#include <random>

#include <gtest/gtest.h>

#include "../../src/core/half.h"
#include "../../src/core/simd/distance.h"
#include "kernel_test_util.h"

namespace {

using vecdb::Half;

// The value of bit pattern h, from sign, exponent and fraction.
double ReferenceValue(Half h)
{
    const int sign = (h >> 15) ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    if (exponent == 0x1f)
        return fraction ? NAN : sign * INFINITY;
    if (exponent == 0)
        return sign * std::ldexp(fraction, -24);
    return sign * std::ldexp(1024 + fraction, exponent - 25);
}

// x rounded to the nearest binary16, ties to even, by search over the
// 63,488 finite patterns of x's sign.
double ReferenceRound(float x)
{
    double best = INFINITY, best_error = INFINITY;
    Half best_bits = 0;
    const Half sign = std::signbit(x) ? 0x8000 : 0;
    for (Half magnitude = 0; magnitude < 0x7c00; magnitude++) {
        const double v = ReferenceValue(Half(sign | magnitude));
        const double error = std::fabs(v - double(x));
        if (error < best_error || (error == best_error && (magnitude & 1) == 0 && (best_bits & 1) == 1)) {
            best = v, best_error = error, best_bits = magnitude;
        }
    }
    // Beyond the largest finite value by half an ulp (2^4 at 65504) or more: infinity.
    if (std::fabs(double(x)) >= 65520.0)
        return std::copysign(INFINITY, x);
    return best;
}

TEST(Half, EveryPatternConvertsExactlyAndBack)
{
    for (std::uint32_t bits = 0; bits <= 0xffff; bits++) {
        const Half h = Half(bits);
        const double expected = ReferenceValue(h);
        const float f = vecdb::half_to_float(h);
        if (std::isnan(expected)) {
            EXPECT_TRUE(std::isnan(f)) << bits;
            continue;
        }
        ASSERT_EQ(double(f), expected) << bits;
        Half back;
        vecdb::float_to_half(f, &back);
        ASSERT_EQ(back, h) << bits;  // -0 included
    }
}

TEST(Half, RoundingMatchesTheReference)
{
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> mantissa(0.5f, 1.0f);
    std::uniform_int_distribution<int> exponent(-28, 17);
    for (int i = 0; i < 800; i++) {
        float x = std::ldexp(mantissa(rng), exponent(rng)) * (i % 2 ? -1.0f : 1.0f);
        Half h;
        const bool fits = vecdb::float_to_half(x, &h);
        const double expected = ReferenceRound(x);
        EXPECT_EQ(fits, std::isfinite(expected)) << x;
        if (fits) {
            ASSERT_EQ(double(vecdb::half_to_float(h)), expected) << x;
        }
    }
}

TEST(Half, Boundaries)
{
    Half h;
    EXPECT_TRUE(vecdb::float_to_half(65504.0f, &h));
    EXPECT_EQ(vecdb::half_to_float(h), vecdb::kHalfMax);
    EXPECT_TRUE(vecdb::float_to_half(65519.0f, &h));  // rounds down to 65504
    EXPECT_EQ(vecdb::half_to_float(h), 65504.0f);
    EXPECT_FALSE(vecdb::float_to_half(65520.0f, &h));  // ties to even: infinity
    EXPECT_FALSE(vecdb::float_to_half(-1e6f, &h));
    EXPECT_TRUE(vecdb::float_to_half(INFINITY, &h));    // infinity is not an overflow; callers reject it
    EXPECT_TRUE(vecdb::float_to_half(std::ldexp(1.0f, -24), &h));  // smallest subnormal
    EXPECT_EQ(h, 0x0001);
    EXPECT_TRUE(vecdb::float_to_half(std::ldexp(1.0f, -26), &h));  // below half of it: zero
    EXPECT_EQ(h, 0x0000);
    EXPECT_TRUE(vecdb::float_to_half(std::ldexp(1.5f, -25), &h));  // above half of it: rounds up
    EXPECT_EQ(h, 0x0001);
}

}  // namespace

namespace vecdb {
namespace {

// Every kernel set converts every one of the 65,536 bit patterns as the
// compiler's _Float16 does (NaNs as NaNs), at every alignment of a tail.
TEST(HalfKernels, EveryPatternConvertsAsFloat16Does)
{
    std::vector<std::uint16_t> all(65536 + 7);
    for (std::size_t i = 0; i < all.size(); i++)
        all[i] = std::uint16_t(i * 40503u);  // odd multiplier: a permutation of the patterns, then 7 more
    std::vector<float> expected(all.size());
    for (std::size_t i = 0; i < all.size(); i++)
        expected[i] = half_to_float(all[i]);
    for (const DistanceKernels *k : {&kScalarKernels, &kAvx2Kernels, &kAvx512Kernels, &kNeonKernels}) {
        if (!kernel_test::cpu_can_run(k))
            continue;
        for (std::size_t offset : {0u, 1u, 3u}) {
            std::vector<float> out(all.size() - offset, -1.0f);
            k->half_to_float(all.data() + offset, out.data(), out.size());
            for (std::size_t i = 0; i < out.size(); i++) {
                const float e = expected[i + offset];
                if (std::isnan(e))
                    ASSERT_TRUE(std::isnan(out[i])) << k->name << " pattern " << all[i + offset];
                else
                    ASSERT_EQ(std::memcmp(&out[i], &e, sizeof(float)), 0) << k->name << " pattern " << all[i + offset];
            }
        }
    }
}

}  // namespace
}  // namespace vecdb
