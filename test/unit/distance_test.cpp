/*
 * distance_test.cpp -- every kernel set of simd/distance.h against the scalar
 * reference, and the dispatcher's choice.
 *
 * SIMD kernels sum in a different order than the scalar loop, so float results
 * are compared with a tolerance relative to the sum of the absolute terms
 * (computed in double).  The tolerance is tight enough that dropping or
 * double-counting one element fails: DistanceToleranceTest checks that on the
 * same data.  Integer-valued inputs, whose sums are exact in any order, are
 * compared exactly.  dot_u8 (floats times bytes) gets the same checks on its
 * own data.
 */
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/core/simd/distance.h"
#include "kernel_test_util.h"

namespace vecdb {

// Test names and failure messages show the kernel set's name, not an address
// (found by argument-dependent lookup, so it is outside the anonymous namespace).
void PrintTo(const DistanceKernels *kernels, std::ostream *os) { *os << kernels->name; }

namespace {

constexpr std::size_t kMaxSweepDim = 2048;
constexpr std::size_t kLargeDim = 16000;

// |simd - scalar| <= kRelTol * sum|terms| + kAbsTol.  The largest error seen
// on this data, up to 16000 dimensions, is 3.5e-6 of sum|terms| (mostly the
// scalar loop's own); one element of bounded_pair data is at least 1/(4n) of
// sum|terms| (1.6e-5 at n = 16000), so a lost or extra element still fails.
constexpr double kRelTol = 1e-5;
constexpr double kAbsTol = 1e-30;

struct Pair {
    std::vector<float> a, b;
};

/// Random signs, |a[i]|, |b[i]| in [1, 2], and b[i] of the opposite sign to
/// a[i]: every term of every sum (|a-b|, (a-b)^2, a*b, a^2, b^2) lies within
/// a factor 4 of every other and none cancel, so one missing or extra element
/// moves each sum by at least sum|terms| / (4n).
Pair bounded_pair(std::size_t n, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> magnitude(1.0f, 2.0f);
    std::bernoulli_distribution negative(0.5);
    Pair p{std::vector<float>(n), std::vector<float>(n)};
    for (std::size_t i = 0; i < n; i++) {
        float sign = negative(rng) ? -1.0f : 1.0f;
        p.a[i] = sign * magnitude(rng);
        p.b[i] = -sign * magnitude(rng);
    }
    return p;
}

/// Independent uniform values in [-scale, scale]: sums that cancel.
Pair uniform_pair(std::size_t n, std::uint32_t seed, float scale = 1.0f)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> value(-scale, scale);
    Pair p{std::vector<float>(n), std::vector<float>(n)};
    for (std::size_t i = 0; i < n; i++) {
        p.a[i] = value(rng);
        p.b[i] = value(rng);
    }
    return p;
}

/// dot_u8's operands: floats and bytes.
struct BytePair {
    std::vector<float> a;
    std::vector<std::uint8_t> b;
};

/// Random signs, |a[i]| in [1, 2], b[i] in [128, 255]: as bounded_pair, every
/// term a[i] * b[i] lies within a factor 4 of every other.
BytePair bounded_byte_pair(std::size_t n, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> magnitude(1.0f, 2.0f);
    std::bernoulli_distribution negative(0.5);
    std::uniform_int_distribution<int> byte(128, 255);
    BytePair p{std::vector<float>(n), std::vector<std::uint8_t>(n)};
    for (std::size_t i = 0; i < n; i++) {
        p.a[i] = (negative(rng) ? -1.0f : 1.0f) * magnitude(rng);
        p.b[i] = static_cast<std::uint8_t>(byte(rng));
    }
    return p;
}

/// a[i] uniform in [-scale, scale], b[i] any byte, 0 and 255 included.
BytePair uniform_byte_pair(std::size_t n, std::uint32_t seed, float scale = 1.0f)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> value(-scale, scale);
    std::uniform_int_distribution<int> byte(0, 255);
    BytePair p{std::vector<float>(n), std::vector<std::uint8_t>(n)};
    for (std::size_t i = 0; i < n; i++) {
        p.a[i] = value(rng);
        p.b[i] = static_cast<std::uint8_t>(byte(rng));
    }
    return p;
}

/// Sums of the absolute terms of each kernel, in double: the scale of the
/// rounding error either summation order can make.
struct AbsSums {
    double l2, dot, norm_a, norm_b, l1;
};

AbsSums abs_sums(const float *a, const float *b, std::size_t n)
{
    AbsSums s = {0, 0, 0, 0, 0};
    for (std::size_t i = 0; i < n; i++) {
        double x = a[i], y = b[i];
        s.l2 += (x - y) * (x - y);
        s.dot += std::fabs(x * y);
        s.norm_a += x * x;
        s.norm_b += y * y;
        s.l1 += std::fabs(x - y);
    }
    return s;
}

::testing::AssertionResult close(const char *what, float got, float ref, double abs_terms)
{
    if (!std::isfinite(ref)) {
        // Overflow: both must give the same infinity.
        if (got == ref)
            return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << what << ": got " << got << ", scalar " << ref;
    }
    double tolerance = kRelTol * abs_terms + kAbsTol;
    double error = std::fabs(static_cast<double>(got) - static_cast<double>(ref));
    if (error <= tolerance)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << got << ", scalar " << ref << ", |diff| " << error
                                         << " > tolerance " << tolerance;
}

double abs_dot_u8(const float *a, const std::uint8_t *b, std::size_t n)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i++)
        sum += std::fabs(static_cast<double>(a[i])) * b[i];
    return sum;
}

/// All four kernels (all three cosine sums) of `k` against kScalarKernels.
::testing::AssertionResult matches_scalar(const DistanceKernels &k, const float *a, const float *b, std::size_t n)
{
    const DistanceKernels &ref = kScalarKernels;
    AbsSums s = abs_sums(a, b, n);
    CosineSums got_cos = k.cosine_sums(a, b, n), ref_cos = ref.cosine_sums(a, b, n);
    const ::testing::AssertionResult checks[] = {
        close("l2_squared", k.l2_squared(a, b, n), ref.l2_squared(a, b, n), s.l2),
        close("dot", k.dot(a, b, n), ref.dot(a, b, n), s.dot),
        close("cosine_sums.dot", got_cos.dot, ref_cos.dot, s.dot),
        close("cosine_sums.norm_a", got_cos.norm_a, ref_cos.norm_a, s.norm_a),
        close("cosine_sums.norm_b", got_cos.norm_b, ref_cos.norm_b, s.norm_b),
        close("l1", k.l1(a, b, n), ref.l1(a, b, n), s.l1),
    };
    for (const auto &check : checks)
        if (!check)
            return ::testing::AssertionFailure() << k.name << ", n = " << n << ": " << check.message();
    // The four-way kernels, each lane against the one-pair reference.
    const float *four[4] = {b, a, b, a};
    float l2_four[4], dot_four[4];
    k.l2_squared_x4(a, four, n, l2_four);
    k.dot_x4(a, four, n, dot_four);
    for (int j = 0; j < 4; j++) {
        AbsSums sj = abs_sums(a, four[j], n);
        const ::testing::AssertionResult lane[] = {
            close("l2_squared_x4", l2_four[j], ref.l2_squared(a, four[j], n), sj.l2),
            close("dot_x4", dot_four[j], ref.dot(a, four[j], n), sj.dot),
        };
        for (const auto &check : lane)
            if (!check)
                return ::testing::AssertionFailure() << k.name << ", n = " << n << ", lane " << j << ": "
                                                     << check.message();
    }
    return ::testing::AssertionSuccess();
}

/// dot_u8 of `k` against kScalarKernels.
::testing::AssertionResult dot_u8_matches_scalar(const DistanceKernels &k, const float *a, const std::uint8_t *b,
                                                 std::size_t n)
{
    ::testing::AssertionResult check =
        close("dot_u8", k.dot_u8(a, b, n), kScalarKernels.dot_u8(a, b, n), abs_dot_u8(a, b, n));
    if (!check)
        return ::testing::AssertionFailure() << k.name << ", n = " << n << ": " << check.message();
    return check;
}

using kernel_test::cpu_can_run;

std::string kernel_set_name(const ::testing::TestParamInfo<const DistanceKernels *> &info)
{
    return info.param->name;
}

class KernelSetTest : public ::testing::TestWithParam<const DistanceKernels *> {
protected:
    void SetUp() override
    {
        if (!cpu_can_run(GetParam()))
            GTEST_SKIP() << "this CPU cannot run the " << GetParam()->name << " kernels";
    }
    const DistanceKernels &kernels() const { return *GetParam(); }
};

// --- Every vector kernel set against the scalar reference -------------------

class SimdVsScalarTest : public KernelSetTest {};

TEST_P(SimdVsScalarTest, BoundedTermsEveryDimension)
{
    Pair p = bounded_pair(kMaxSweepDim, 1);
    for (std::size_t n = 1; n <= kMaxSweepDim; n++)
        ASSERT_TRUE(matches_scalar(kernels(), p.a.data(), p.b.data(), n));
}

TEST_P(SimdVsScalarTest, UniformEveryDimension)
{
    Pair p = uniform_pair(kMaxSweepDim, 2);
    for (std::size_t n = 1; n <= kMaxSweepDim; n++)
        ASSERT_TRUE(matches_scalar(kernels(), p.a.data(), p.b.data(), n));
}

TEST_P(SimdVsScalarTest, ZeroLength)
{
    float x = 1.0f;
    ASSERT_TRUE(matches_scalar(kernels(), &x, &x, 0));
}

TEST_P(SimdVsScalarTest, AllZeros)
{
    std::vector<float> zeros(kMaxSweepDim, 0.0f);
    for (std::size_t n = 1; n <= kMaxSweepDim; n++) {
        ASSERT_TRUE(matches_scalar(kernels(), zeros.data(), zeros.data(), n));
        CosineSums c = kernels().cosine_sums(zeros.data(), zeros.data(), n);
        ASSERT_EQ(kernels().l2_squared(zeros.data(), zeros.data(), n), 0.0f) << "n = " << n;
        ASSERT_EQ(kernels().dot(zeros.data(), zeros.data(), n), 0.0f) << "n = " << n;
        ASSERT_EQ(c.dot + c.norm_a + c.norm_b, 0.0f) << "n = " << n;
        ASSERT_EQ(kernels().l1(zeros.data(), zeros.data(), n), 0.0f) << "n = " << n;
    }
}

TEST_P(SimdVsScalarTest, LargeMagnitudesStayFinite)
{
    // Elements up to 1e18: a term up to (2e18)^2 = 4e36, so 64 of them stay
    // below FLT_MAX; longer vectors use 1e17.
    struct Case {
        std::size_t max_n;
        float scale;
    };
    for (Case c : {Case{64, 1e18f}, Case{kMaxSweepDim, 1e17f}}) {
        Pair p = uniform_pair(c.max_n, 3, c.scale);
        for (std::size_t n = 1; n <= c.max_n; n++) {
            const float *a = p.a.data(), *b = p.b.data();
            CosineSums ref = kScalarKernels.cosine_sums(a, b, n);
            ASSERT_TRUE(std::isfinite(kScalarKernels.l2_squared(a, b, n)) && std::isfinite(ref.norm_a) &&
                        std::isfinite(ref.norm_b))
                << "test data overflows at n = " << n;
            ASSERT_TRUE(matches_scalar(kernels(), a, b, n));
        }
    }
}

TEST_P(SimdVsScalarTest, OverflowGivesInfinity)
{
    for (std::size_t n : {1, 3, 4, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000}) {
        for (std::size_t pos : {std::size_t{0}, n / 2, n - 1}) {
            Pair p = uniform_pair(n, 4);
            const float *a = p.a.data(), *b = p.b.data();

            // Squares overflow, the difference does not: l2, dot and the
            // norms are infinite (dot negative), l1 stays finite.
            p.a[pos] = 1e20f;
            p.b[pos] = -1e20f;
            CosineSums ref = kScalarKernels.cosine_sums(a, b, n);
            ASSERT_TRUE(std::isinf(kScalarKernels.l2_squared(a, b, n)) && std::isinf(kScalarKernels.dot(a, b, n)) &&
                        std::isinf(ref.dot) && std::isinf(ref.norm_a) && std::isinf(ref.norm_b) &&
                        std::isfinite(kScalarKernels.l1(a, b, n)));
            ASSERT_TRUE(matches_scalar(kernels(), a, b, n)) << "element " << pos << " = +-1e20";

            // The difference overflows too: l1 is infinite as well.
            p.a[pos] = 3e38f;
            p.b[pos] = -3e38f;
            ASSERT_TRUE(std::isinf(kScalarKernels.l1(a, b, n)));
            ASSERT_TRUE(matches_scalar(kernels(), a, b, n)) << "element " << pos << " = +-3e38";
        }
    }
}

TEST_P(SimdVsScalarTest, MixedSigns)
{
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> magnitude(0.5f, 100.0f);
    std::vector<float> alternating(kMaxSweepDim), positive(kMaxSweepDim), negated(kMaxSweepDim);
    for (std::size_t i = 0; i < kMaxSweepDim; i++) {
        positive[i] = magnitude(rng);
        alternating[i] = (i % 2 ? -1.0f : 1.0f) * positive[i];
        negated[i] = -alternating[i];
    }
    for (std::size_t n = 1; n <= kMaxSweepDim; n++) {
        // dot cancels pairwise toward zero while sum|terms| stays large.
        ASSERT_TRUE(matches_scalar(kernels(), alternating.data(), positive.data(), n));
        // b = -a: l2 = 4 * |a|^2, dot = -|a|^2.
        ASSERT_TRUE(matches_scalar(kernels(), alternating.data(), negated.data(), n));
    }
}

TEST_P(SimdVsScalarTest, Dimension16000)
{
    Pair bounded = bounded_pair(kLargeDim, 6);
    EXPECT_TRUE(matches_scalar(kernels(), bounded.a.data(), bounded.b.data(), kLargeDim));
    Pair uniform = uniform_pair(kLargeDim, 7);
    EXPECT_TRUE(matches_scalar(kernels(), uniform.a.data(), uniform.b.data(), kLargeDim));
}

TEST_P(SimdVsScalarTest, MisalignedPointers)
{
    // Vector data starts 4 and 12 bytes past a malloc'ed (16-byte) boundary,
    // so no load is aligned to the register width.
    Pair p = bounded_pair(kLargeDim + 3, 8);
    for (std::size_t n = 1; n <= kMaxSweepDim; n++)
        ASSERT_TRUE(matches_scalar(kernels(), p.a.data() + 1, p.b.data() + 3, n));
    EXPECT_TRUE(matches_scalar(kernels(), p.a.data() + 1, p.b.data() + 3, kLargeDim));
}

// dot_panel: 8 rows by 16 transposed columns, every output against the
// scalar dot of that row and column, at every length up to 300 (the panel
// is n x 16 floats) and 2048; each row and column is distinct, so a lane,
// row or column mixed up fails.
TEST_P(SimdVsScalarTest, DotPanelEveryDimension)
{
    for (std::size_t n : {std::size_t(1), std::size_t(2), std::size_t(7), std::size_t(16), std::size_t(33),
                          std::size_t(100), std::size_t(300), kMaxSweepDim}) {
        std::vector<Pair> rows_data;
        const float *rows[kPanelRows];
        for (std::size_t r = 0; r < kPanelRows; r++)
            rows_data.push_back(bounded_pair(n, 40 + std::uint32_t(r)));
        for (std::size_t r = 0; r < kPanelRows; r++)
            rows[r] = rows_data[r].a.data();
        std::vector<float> panel(n * kPanelWidth), column(n);
        std::vector<std::vector<float>> columns;
        for (std::size_t j = 0; j < kPanelWidth; j++) {
            columns.push_back(uniform_pair(n, 60 + std::uint32_t(j), 2.0f).a);
            for (std::size_t t = 0; t < n; t++)
                panel[kPanelWidth * t + j] = columns[j][t];
        }
        std::vector<float> out(kPanelRows * kPanelWidth);
        kernels().dot_panel(rows, panel.data(), n, out.data());
        for (std::size_t r = 0; r < kPanelRows; r++)
            for (std::size_t j = 0; j < kPanelWidth; j++) {
                const AbsSums s = abs_sums(rows[r], columns[j].data(), n);
                ASSERT_TRUE(close("dot_panel", out[kPanelWidth * r + j], kScalarKernels.dot(rows[r], columns[j].data(), n),
                                  s.dot))
                    << kernels().name << ", n = " << n << ", row " << r << ", column " << j;
            }
    }
}

TEST_P(SimdVsScalarTest, DotU8EveryDimension)
{
    BytePair bounded = bounded_byte_pair(kMaxSweepDim, 12), uniform = uniform_byte_pair(kMaxSweepDim, 13);
    for (std::size_t n = 0; n <= kMaxSweepDim; n++) {
        ASSERT_TRUE(dot_u8_matches_scalar(kernels(), bounded.a.data(), bounded.b.data(), n));
        ASSERT_TRUE(dot_u8_matches_scalar(kernels(), uniform.a.data(), uniform.b.data(), n));
    }
}

TEST_P(SimdVsScalarTest, DotU8ExtremeBytes)
{
    Pair floats = uniform_pair(kMaxSweepDim, 14);
    std::vector<std::uint8_t> zeros(kMaxSweepDim, 0), full(kMaxSweepDim, 255);
    for (std::size_t n = 0; n <= kMaxSweepDim; n++) {
        ASSERT_EQ(kernels().dot_u8(floats.a.data(), zeros.data(), n), 0.0f) << "n = " << n;
        ASSERT_TRUE(dot_u8_matches_scalar(kernels(), floats.a.data(), full.data(), n));
    }
}

TEST_P(SimdVsScalarTest, DotU8Dimension16000)
{
    BytePair bounded = bounded_byte_pair(kLargeDim, 15);
    EXPECT_TRUE(dot_u8_matches_scalar(kernels(), bounded.a.data(), bounded.b.data(), kLargeDim));
    BytePair uniform = uniform_byte_pair(kLargeDim, 16);
    EXPECT_TRUE(dot_u8_matches_scalar(kernels(), uniform.a.data(), uniform.b.data(), kLargeDim));
}

TEST_P(SimdVsScalarTest, DotU8MisalignedPointers)
{
    // Floats 4 bytes and bytes 3 bytes past a malloc'ed boundary.
    BytePair p = bounded_byte_pair(kLargeDim + 3, 17);
    for (std::size_t n = 0; n <= kMaxSweepDim; n++)
        ASSERT_TRUE(dot_u8_matches_scalar(kernels(), p.a.data() + 1, p.b.data() + 3, n));
    EXPECT_TRUE(dot_u8_matches_scalar(kernels(), p.a.data() + 1, p.b.data() + 3, kLargeDim));
}

INSTANTIATE_TEST_SUITE_P(KernelSets, SimdVsScalarTest, ::testing::Values(&kAvx2Kernels, &kAvx512Kernels, &kNeonKernels),
                         kernel_set_name);

// --- Exact results on integer-valued inputs, every set including scalar -------

class ExactTest : public KernelSetTest {};

TEST_P(ExactTest, HandComputedSmallVectors)
{
    const float a[] = {1, 2, 3};
    const float b[] = {3, 1, 2};
    // a - b = [-2, 1, 1]
    EXPECT_EQ(kernels().l2_squared(a, b, 3), 6.0f);  // 4 + 1 + 1
    EXPECT_EQ(kernels().dot(a, b, 3), 11.0f);        // 3 + 2 + 6
    CosineSums c = kernels().cosine_sums(a, b, 3);
    EXPECT_EQ(c.dot, 11.0f);
    EXPECT_EQ(c.norm_a, 14.0f);  // 1 + 4 + 9
    EXPECT_EQ(c.norm_b, 14.0f);  // 9 + 1 + 4
    EXPECT_EQ(kernels().l1(a, b, 3), 4.0f);  // 2 + 1 + 1
    const std::uint8_t bytes[] = {255, 0, 7};
    EXPECT_EQ(kernels().dot_u8(a, bytes, 3), 276.0f);  // 255 + 0 + 21
}

TEST_P(ExactTest, IntegerValuedEveryDimension)
{
    // Elements in [-8, 8]: every partial sum, in any order, is an integer
    // below 2048 * 256 < 2^24, so float sums are exact and must equal the
    // integer sums whatever the kernel's order.
    std::mt19937 rng(9);
    std::uniform_int_distribution<int> value(-8, 8);
    std::vector<int> ai(kMaxSweepDim), bi(kMaxSweepDim);
    std::vector<float> a(kMaxSweepDim), b(kMaxSweepDim);
    for (std::size_t i = 0; i < kMaxSweepDim; i++) {
        ai[i] = value(rng);
        bi[i] = value(rng);
        a[i] = static_cast<float>(ai[i]);
        b[i] = static_cast<float>(bi[i]);
    }
    std::int64_t l2 = 0, dot = 0, norm_a = 0, norm_b = 0, l1 = 0;
    for (std::size_t n = 1; n <= kMaxSweepDim; n++) {
        std::int64_t x = ai[n - 1], y = bi[n - 1];
        l2 += (x - y) * (x - y);
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
        l1 += std::llabs(x - y);

        CosineSums c = kernels().cosine_sums(a.data(), b.data(), n);
        ASSERT_EQ(kernels().l2_squared(a.data(), b.data(), n), static_cast<float>(l2)) << "n = " << n;
        ASSERT_EQ(kernels().dot(a.data(), b.data(), n), static_cast<float>(dot)) << "n = " << n;
        ASSERT_EQ(c.dot, static_cast<float>(dot)) << "n = " << n;
        ASSERT_EQ(c.norm_a, static_cast<float>(norm_a)) << "n = " << n;
        ASSERT_EQ(c.norm_b, static_cast<float>(norm_b)) << "n = " << n;
        ASSERT_EQ(kernels().l1(a.data(), b.data(), n), static_cast<float>(l1)) << "n = " << n;
        const float *four[4] = {b.data(), a.data(), a.data(), b.data()};
        float l2_four[4], dot_four[4];
        kernels().l2_squared_x4(a.data(), four, n, l2_four);
        kernels().dot_x4(a.data(), four, n, dot_four);
        for (int j : {0, 3}) {
            ASSERT_EQ(l2_four[j], static_cast<float>(l2)) << "n = " << n << ", lane " << j;
            ASSERT_EQ(dot_four[j], static_cast<float>(dot)) << "n = " << n << ", lane " << j;
        }
        for (int j : {1, 2}) {
            ASSERT_EQ(l2_four[j], 0.0f) << "n = " << n << ", lane " << j;
            ASSERT_EQ(dot_four[j], static_cast<float>(norm_a)) << "n = " << n << ", lane " << j;
        }
    }
}

TEST_P(ExactTest, DotU8IntegerValuedEveryDimension)
{
    // a[i] in [-4, 4], b[i] any byte: every partial sum, in any order, is an
    // integer of at most 16000 * 4 * 255 < 2^24, so float sums are exact.
    std::mt19937 rng(10);
    std::uniform_int_distribution<int> value(-4, 4), byte(0, 255);
    // One spare element in front, for the misaligned run.
    std::vector<int> ai(kLargeDim + 1), bi(kLargeDim + 1);
    std::vector<float> a(kLargeDim + 1);
    std::vector<std::uint8_t> b(kLargeDim + 1);
    for (std::size_t i = 0; i < kLargeDim + 1; i++) {
        ai[i] = value(rng);
        // Every tenth byte an extreme, so both show up at every tail length.
        bi[i] = i % 10 == 3 ? 255 : i % 10 == 7 ? 0 : byte(rng);
        a[i] = static_cast<float>(ai[i]);
        b[i] = static_cast<std::uint8_t>(bi[i]);
    }
    auto expect_exact = [&](std::size_t first, std::size_t max_n) {
        std::int64_t dot = 0;
        for (std::size_t n = 0; n <= max_n; n++) {
            if (n > 0)
                dot += static_cast<std::int64_t>(ai[first + n - 1]) * bi[first + n - 1];
            if (n <= kMaxSweepDim || n == max_n) {
                ASSERT_EQ(kernels().dot_u8(a.data() + first, b.data() + first, n), static_cast<float>(dot))
                    << "first = " << first << ", n = " << n;
            }
        }
    };
    expect_exact(0, kLargeDim);
    expect_exact(1, kLargeDim);  // neither pointer aligned to anything wider than its element
}

/// `count` elements of T that end where an inaccessible page begins, so a
/// kernel that reads one element too many crashes the test.
template <class T>
class GuardedArray {
public:
    explicit GuardedArray(std::size_t count)
    {
        const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        data_pages_ = (count * sizeof(T) + page - 1) / page;
        length_ = (data_pages_ + 1) * page;
        void *map = mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED)
            std::abort();
        base_ = static_cast<unsigned char *>(map);
        if (mprotect(base_ + data_pages_ * page, page, PROT_NONE) != 0)
            std::abort();
        end_ = reinterpret_cast<T *>(base_ + data_pages_ * page);
    }
    ~GuardedArray() { munmap(base_, length_); }
    GuardedArray(const GuardedArray &) = delete;
    GuardedArray &operator=(const GuardedArray &) = delete;

    /// The last n elements: they end at the guard page.
    T *last(std::size_t n) const { return end_ - n; }

private:
    unsigned char *base_;
    std::size_t data_pages_, length_;
    T *end_;
};

TEST_P(ExactTest, DotU8ReadsNothingPastTheEnd)
{
    GuardedArray<float> a(kMaxSweepDim);
    GuardedArray<std::uint8_t> b(kMaxSweepDim);
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> value(-8, 8), byte(0, 255);
    float *a_all = a.last(kMaxSweepDim);
    std::uint8_t *b_all = b.last(kMaxSweepDim);
    for (std::size_t i = 0; i < kMaxSweepDim; i++) {
        a_all[i] = static_cast<float>(value(rng));
        b_all[i] = static_cast<std::uint8_t>(byte(rng));
    }
    // Sums over the last n elements: the kernel's tail sits on the guard page.
    for (std::size_t n = 0; n <= kMaxSweepDim; n++)
        ASSERT_EQ(kernels().dot_u8(a.last(n), b.last(n), n), kScalarKernels.dot_u8(a.last(n), b.last(n), n))
            << "n = " << n;
}

// Bit kernels against a bit-by-bit count, for every byte length 0..300 (whole
// words and every tail length), on random bytes and on all-ones.
TEST_P(ExactTest, BitCountsEveryLength)
{
    constexpr std::size_t kMaxBytes = 300;
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<std::uint8_t> a(kMaxBytes), b(kMaxBytes), ones(kMaxBytes, 0xFF);
    for (std::size_t i = 0; i < kMaxBytes; i++) {
        a[i] = static_cast<std::uint8_t>(byte(rng));
        b[i] = static_cast<std::uint8_t>(byte(rng));
    }
    std::uint64_t differ = 0, both = 0, in_a = 0, in_b = 0;
    for (std::size_t bytes = 0; bytes <= kMaxBytes; bytes++) {
        if (bytes > 0) {
            for (int bit = 0; bit < 8; bit++) {
                bool x = (a[bytes - 1] >> bit) & 1, y = (b[bytes - 1] >> bit) & 1;
                differ += x != y;
                both += x && y;
                in_a += x;
                in_b += y;
            }
        }
        ASSERT_EQ(kernels().hamming(a.data(), b.data(), bytes), differ) << "bytes = " << bytes;
        BitCounts counts = kernels().bit_counts(a.data(), b.data(), bytes);
        ASSERT_EQ(counts.both, both) << "bytes = " << bytes;
        ASSERT_EQ(counts.a, in_a) << "bytes = " << bytes;
        ASSERT_EQ(counts.b, in_b) << "bytes = " << bytes;
        ASSERT_EQ(kernels().hamming(ones.data(), a.data(), bytes), 8 * bytes - in_a) << "bytes = " << bytes;
        // Misaligned starts read whole words through memcpy.
        if (bytes > 1) {
            ASSERT_EQ(kernels().hamming(a.data() + 1, a.data() + 1, bytes - 1), 0u);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(KernelSets, ExactTest,
                         ::testing::Values(&kScalarKernels, &kAvx2Kernels, &kAvx512Kernels, &kNeonKernels),
                         kernel_set_name);

// --- The tolerance itself ------------------------------------------------------

// A kernel that drops or double-counts its last element must fail `close` on
// the data the sweeps use; otherwise the sweeps would prove nothing about tails.
TEST(DistanceToleranceTest, CatchesOffByOneTail)
{
    Pair p = bounded_pair(kLargeDim, 1);
    const DistanceKernels &ref = kScalarKernels;
    auto check = [&](std::size_t n) {
        const float *a = p.a.data(), *b = p.b.data();
        float x = a[n - 1], y = b[n - 1];
        AbsSums s = abs_sums(a, b, n);
        CosineSums full = ref.cosine_sums(a, b, n), dropped = ref.cosine_sums(a, b, n - 1);
        float l2 = ref.l2_squared(a, b, n), dot = ref.dot(a, b, n), l1 = ref.l1(a, b, n);

        EXPECT_FALSE(close("l2", ref.l2_squared(a, b, n - 1), l2, s.l2)) << "n = " << n;
        EXPECT_FALSE(close("l2", l2 + (x - y) * (x - y), l2, s.l2)) << "n = " << n;
        EXPECT_FALSE(close("dot", ref.dot(a, b, n - 1), dot, s.dot)) << "n = " << n;
        EXPECT_FALSE(close("dot", dot + x * y, dot, s.dot)) << "n = " << n;
        EXPECT_FALSE(close("norm_a", dropped.norm_a, full.norm_a, s.norm_a)) << "n = " << n;
        EXPECT_FALSE(close("norm_a", full.norm_a + x * x, full.norm_a, s.norm_a)) << "n = " << n;
        EXPECT_FALSE(close("norm_b", dropped.norm_b, full.norm_b, s.norm_b)) << "n = " << n;
        EXPECT_FALSE(close("norm_b", full.norm_b + y * y, full.norm_b, s.norm_b)) << "n = " << n;
        EXPECT_FALSE(close("l1", ref.l1(a, b, n - 1), l1, s.l1)) << "n = " << n;
        EXPECT_FALSE(close("l1", l1 + std::fabs(x - y), l1, s.l1)) << "n = " << n;
    };
    for (std::size_t n = 1; n <= kMaxSweepDim; n++)
        check(n);
    check(kLargeDim);
}

TEST(DistanceToleranceTest, CatchesOffByOneTailDotU8)
{
    BytePair p = bounded_byte_pair(kLargeDim, 12);
    auto check = [&](std::size_t n) {
        const float *a = p.a.data();
        const std::uint8_t *b = p.b.data();
        float dot = kScalarKernels.dot_u8(a, b, n), last = a[n - 1] * static_cast<float>(b[n - 1]);
        double s = abs_dot_u8(a, b, n);
        EXPECT_FALSE(close("dot_u8", kScalarKernels.dot_u8(a, b, n - 1), dot, s)) << "n = " << n;
        EXPECT_FALSE(close("dot_u8", dot + last, dot, s)) << "n = " << n;
    };
    for (std::size_t n = 1; n <= kMaxSweepDim; n++)
        check(n);
    check(kLargeDim);
}

// --- Dispatch --------------------------------------------------------------------

#if defined(__x86_64__) || defined(__i386__)

TEST(DistanceDispatchTest, PicksAvx512fOnAvx512fCpu)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f"))
        GTEST_SKIP() << "this CPU has no AVX-512F";
    EXPECT_EQ(best_distance_kernels(), &kAvx512Kernels);

    const DistanceKernels *before = &distance_kernels();
    init_distance_kernels();
    EXPECT_EQ(&distance_kernels(), &kAvx512Kernels);
    EXPECT_STREQ(distance_kernels().name, "avx512f");
    set_distance_kernels(before);
}

TEST(DistanceDispatchTest, BestMatchesCpuFeatures)
{
    __builtin_cpu_init();
    const DistanceKernels *expected = &kScalarKernels;
    if (!__builtin_cpu_supports("popcnt"))
        expected = &kScalarKernels;
    else if (__builtin_cpu_supports("avx512f"))
        expected = &kAvx512Kernels;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        expected = &kAvx2Kernels;
    EXPECT_STREQ(best_distance_kernels()->name, expected->name);
}

#endif

TEST(DistanceDispatchTest, SetDistanceKernelsSwitchesTable)
{
    const DistanceKernels *before = &distance_kernels();
    set_distance_kernels(&kNeonKernels);
    EXPECT_EQ(&distance_kernels(), &kNeonKernels);
    set_distance_kernels(&kScalarKernels);
    EXPECT_EQ(&distance_kernels(), &kScalarKernels);
    set_distance_kernels(before);
}

}  // namespace
}  // namespace vecdb
