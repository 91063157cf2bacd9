/*
 * distance_double_test.cpp -- the double-precision sums of simd/distance.h
 * against long double references, at float magnitudes from subnormal (1e-40)
 * to FLT_MAX, with mixed signs, at 1, 3, 17, 18 and 16000 dimensions (every
 * tail of the four-lane loops).
 *
 * A double sum of n terms is off by at most about n * DBL_EPSILON / 2 of the
 * sum of |terms| (plus one rounding per difference or product), so results
 * must be within (n + 2) * DBL_EPSILON * sum|terms| of the reference: far
 * tighter than one term of the test data, so a lost, extra or flushed term
 * fails.  Cosine distance lies in [0, 2] and gets the corresponding absolute
 * bound.
 *
 * The checked distances (the SQL operators') are tested on the same data with
 * every kernel set this CPU runs: always float-accurate, finite, and equal to
 * the float kernel's result when that is trusted, to the double function's
 * otherwise.
 */
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/simd/distance.h"
#include "kernel_test_util.h"

namespace vecdb {

namespace {

constexpr std::size_t kDims[] = {1, 3, 17, 18, 16000};
// Subnormal, tiny, ordinary, huge and the largest float.
constexpr float kScales[] = {1e-40f, 1e-30f, 1.0f, 1e30f, FLT_MAX};

struct Pair {
    std::vector<float> a, b;
};

/// Random signs, magnitudes in [scale / 2, scale]; scale < 0 picks a scale
/// per element from kScales (magnitudes differing by up to 1e78).
Pair random_pair(std::size_t n, std::uint32_t seed, float scale)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> magnitude(0.5, 1.0);
    std::uniform_int_distribution<std::size_t> pick(0, std::size(kScales) - 1);
    std::bernoulli_distribution negative(0.5);
    auto value = [&] {
        const double s = scale < 0 ? kScales[pick(rng)] : scale;
        const float x = static_cast<float>(s * magnitude(rng));
        return negative(rng) ? -x : x;
    };
    Pair p{std::vector<float>(n), std::vector<float>(n)};
    for (std::size_t i = 0; i < n; i++) {
        p.a[i] = value();
        p.b[i] = value();
    }
    return p;
}

/// The exact sums, and the sums of their terms' absolute values, in long
/// double (64-bit mantissa, exponent range to 1e4932).
struct Reference {
    long double l2, dot, l1, norm_a, norm_b;
    long double abs_l2, abs_dot, abs_l1;
};

Reference reference(const std::vector<float> &a, const std::vector<float> &b)
{
    Reference r = {};
    for (std::size_t i = 0; i < a.size(); i++) {
        const long double x = a[i], y = b[i];
        r.l2 += (x - y) * (x - y);
        r.dot += x * y;
        r.abs_dot += std::fabs(x * y);
        r.l1 += std::fabs(x - y);
        r.norm_a += x * x;
        r.norm_b += y * y;
    }
    r.abs_l2 = r.l2;
    r.abs_l1 = r.l1;
    return r;
}

::testing::AssertionResult close(const char *what, double got, long double ref, long double abs_terms, std::size_t n)
{
    const long double tolerance = (n + 2) * (long double)DBL_EPSILON * abs_terms;
    if (std::isfinite(got) && std::fabs(got - ref) <= tolerance)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ", n = " << n << ": got " << got << ", reference "
                                         << static_cast<double>(ref) << ", tolerance "
                                         << static_cast<double>(tolerance);
}

/// 1 - cos from the long double sums, clamped as cosine_distance_double is.
long double reference_cosine(const Reference &r)
{
    const long double similarity = r.dot / std::sqrt(r.norm_a * r.norm_b);
    return 1.0L - std::fmax(-1.0L, std::fmin(1.0L, similarity));
}

::testing::AssertionResult matches_reference(const Pair &p)
{
    const std::size_t n = p.a.size();
    const float *a = p.a.data(), *b = p.b.data();
    const Reference r = reference(p.a, p.b);
    const CosineSumsDouble sums = cosine_sums_double(a, b, n);
    // similarity = dot / sqrt(na nb) with |dot| <= sqrt(na nb): each sum's
    // relative error (n + 2) eps moves it by at most that much, three sums
    // and a few final roundings.
    const long double cosine_tolerance = 3 * (n + 4) * (long double)DBL_EPSILON;
    const double cosine = cosine_distance_double(a, b, n);
    const long double cosine_ref = reference_cosine(r);
    const ::testing::AssertionResult checks[] = {
        close("l2_squared_double", l2_squared_double(a, b, n), r.l2, r.abs_l2, n),
        close("dot_double", dot_double(a, b, n), r.dot, r.abs_dot, n),
        close("l1_double", l1_double(a, b, n), r.l1, r.abs_l1, n),
        close("cosine_sums_double.dot", sums.dot, r.dot, r.abs_dot, n),
        close("cosine_sums_double.norm_a", sums.norm_a, r.norm_a, r.norm_a, n),
        close("cosine_sums_double.norm_b", sums.norm_b, r.norm_b, r.norm_b, n),
        std::isfinite(cosine) && std::fabs(cosine - cosine_ref) <= cosine_tolerance
            ? ::testing::AssertionSuccess()
            : ::testing::AssertionFailure() << "cosine_distance_double, n = " << n << ": got " << cosine
                                            << ", reference " << static_cast<double>(cosine_ref),
    };
    for (const auto &check : checks)
        if (!check)
            return check;
    return ::testing::AssertionSuccess();
}

TEST(DistanceDoubleTest, EveryScaleAndDimension)
{
    std::uint32_t seed = 1;
    for (float scale : kScales)
        for (std::size_t n : kDims)
            EXPECT_TRUE(matches_reference(random_pair(n, seed++, scale))) << "scale " << scale;
}

TEST(DistanceDoubleTest, MixedScales)
{
    std::uint32_t seed = 100;
    for (std::size_t n : kDims)
        for (int repeat = 0; repeat < 5; repeat++)
            EXPECT_TRUE(matches_reference(random_pair(n, seed++, -1.0f)));
}

TEST(DistanceDoubleTest, OppositeExtremes)
{
    // a = FLT_MAX, b = -FLT_MAX: every difference is 2 * FLT_MAX, beyond float.
    for (std::size_t n : kDims) {
        Pair p{std::vector<float>(n, FLT_MAX), std::vector<float>(n, -FLT_MAX)};
        EXPECT_TRUE(matches_reference(p));
        EXPECT_EQ(cosine_distance_double(p.a.data(), p.b.data(), n), 2.0);
        EXPECT_EQ(cosine_distance_double(p.a.data(), p.a.data(), n), 0.0);
    }
}

TEST(DistanceDoubleTest, SubnormalDirections)
{
    // Squares of subnormal floats are 0 in float; in double the direction
    // survives: a parallel pair is at cosine distance 0, an opposite one at 2,
    // an orthogonal one at 1.
    const float tiny = 1e-40f;
    const float a[] = {tiny, 0.0f}, b[] = {0.0f, tiny}, c[] = {-tiny, 0.0f};
    EXPECT_EQ(cosine_distance_double(a, a, 2), 0.0);
    EXPECT_EQ(cosine_distance_double(a, c, 2), 2.0);
    EXPECT_EQ(cosine_distance_double(a, b, 2), 1.0);
    EXPECT_GT(l2_squared_double(a, b, 2), 0.0);
    EXPECT_GT(dot_double(a, a, 2), 0.0);
}

TEST(DistanceDoubleTest, ZeroVectorCosineIsNaN)
{
    for (std::size_t n : kDims) {
        Pair p = random_pair(n, 200, 1.0f);
        std::vector<float> zeros(n, 0.0f);
        EXPECT_TRUE(std::isnan(cosine_distance_double(p.a.data(), zeros.data(), n)));
        EXPECT_TRUE(std::isnan(cosine_distance_double(zeros.data(), p.b.data(), n)));
        EXPECT_TRUE(std::isnan(cosine_distance_double(zeros.data(), zeros.data(), n)));
        EXPECT_EQ(l2_squared_double(zeros.data(), zeros.data(), n), 0.0);
        EXPECT_EQ(l1_double(zeros.data(), zeros.data(), n), 0.0);
    }
}

TEST(DistanceDoubleTest, FloatKernelsFailOnTheSameData)
{
    // What the double sums are for: the float reference kernels overflow and
    // underflow on these inputs.
    const std::size_t n = 17;
    Pair huge{std::vector<float>(n, FLT_MAX), std::vector<float>(n, -FLT_MAX)};
    EXPECT_TRUE(std::isinf(kScalarKernels.l2_squared(huge.a.data(), huge.b.data(), n)));
    EXPECT_TRUE(std::isinf(kScalarKernels.l1(huge.a.data(), huge.b.data(), n)));
    EXPECT_TRUE(std::isinf(kScalarKernels.cosine_sums(huge.a.data(), huge.b.data(), n).norm_a));
    Pair tiny = random_pair(n, 300, 1e-40f);
    EXPECT_EQ(kScalarKernels.cosine_sums(tiny.a.data(), tiny.b.data(), n).norm_a, 0.0f);
    EXPECT_TRUE(matches_reference(huge));
    EXPECT_TRUE(matches_reference(tiny));
}

// --- Checked distances ---------------------------------------------------

using kernel_test::cpu_can_run;

/// The policy of distance.h, restated: a float sum is kept when finite and
/// (except l1) at least kMinTrustedFloatSum in magnitude.
bool kept(float sum, bool check_small = true)
{
    return std::isfinite(sum) && (!check_small || std::fabs(sum) >= kMinTrustedFloatSum);
}

/// got is float-accurate: within (n + 2) float epsilons of sum|terms|.
::testing::AssertionResult float_close(const char *what, double got, long double ref, long double abs_terms,
                                       std::size_t n)
{
    const long double tolerance = (n + 2) * (long double)FLT_EPSILON * abs_terms;
    if (std::isfinite(got) && std::fabs(got - ref) <= tolerance)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ", n = " << n << ": got " << got << ", reference "
                                         << static_cast<double>(ref) << ", tolerance "
                                         << static_cast<double>(tolerance);
}

::testing::AssertionResult checked_matches(const DistanceKernels &k, const Pair &p)
{
    const std::size_t n = p.a.size();
    const float *a = p.a.data(), *b = p.b.data();
    const Reference r = reference(p.a, p.b);
    const double l2 = l2_squared_checked(a, b, n), dot = dot_checked(a, b, n), l1 = l1_checked(a, b, n);
    const double cosine = cosine_distance_checked(a, b, n);

    const float l2_f = k.l2_squared(a, b, n), dot_f = k.dot(a, b, n), l1_f = k.l1(a, b, n);
    const CosineSums c = k.cosine_sums(a, b, n);
    const bool cosine_kept = kept(c.norm_a) && kept(c.norm_b) && kept(c.dot, false);
    const double cosine_f = 1.0 - std::fmax(-1.0, std::fmin(1.0, double(c.dot) / std::sqrt(double(c.norm_a) *
                                                                                             double(c.norm_b))));
    const long double cosine_ref = reference_cosine(r);
    const long double cosine_tolerance = 3 * (n + 4) * (long double)FLT_EPSILON;

    const ::testing::AssertionResult checks[] = {
        float_close("l2_squared_checked", l2, r.l2, r.abs_l2, n),
        float_close("dot_checked", dot, r.dot, r.abs_dot, n),
        float_close("l1_checked", l1, r.l1, r.abs_l1, n),
        std::isfinite(cosine) && std::fabs(cosine - cosine_ref) <= cosine_tolerance
            ? ::testing::AssertionSuccess()
            : ::testing::AssertionFailure() << "cosine_distance_checked: got " << cosine << ", reference "
                                            << static_cast<double>(cosine_ref),
        l2 == (kept(l2_f) ? double(l2_f) : l2_squared_double(a, b, n))
            ? ::testing::AssertionSuccess()
            : ::testing::AssertionFailure() << "l2_squared_checked took the wrong path: float " << l2_f,
        dot == (kept(dot_f) ? double(dot_f) : dot_double(a, b, n))
            ? ::testing::AssertionSuccess()
            : ::testing::AssertionFailure() << "dot_checked took the wrong path: float " << dot_f,
        l1 == (kept(l1_f, false) ? double(l1_f) : l1_double(a, b, n))
            ? ::testing::AssertionSuccess()
            : ::testing::AssertionFailure() << "l1_checked took the wrong path: float " << l1_f,
        cosine == (cosine_kept ? cosine_f : cosine_distance_double(a, b, n))
            ? ::testing::AssertionSuccess()
            : ::testing::AssertionFailure() << "cosine_distance_checked took the wrong path",
    };
    for (const auto &check : checks)
        if (!check)
            return ::testing::AssertionFailure() << k.name << ", n = " << n << ": " << check.message();
    return ::testing::AssertionSuccess();
}

/// Runs body() with each kernel set this CPU runs made the active one.
template <class F>
void for_each_kernel_set(F body)
{
    const DistanceKernels *saved = &distance_kernels();
    for (const DistanceKernels *k : {&kScalarKernels, &kAvx2Kernels, &kAvx512Kernels, &kNeonKernels}) {
        if (!cpu_can_run(k))
            continue;
        set_distance_kernels(k);
        body(*k);
    }
    set_distance_kernels(saved);
}

TEST(CheckedDistanceTest, EveryScaleAndDimension)
{
    // kScales plus the edges of kMinTrustedFloatSum: squares of 1e-19 are
    // subnormal and 16000 of them sum below the bound; squares of 1e-17 are
    // normal floats and sum above it.
    const float scales[] = {1e-40f, 1e-30f, 1e-19f, 1e-17f, 1.0f, 1e18f, 1e30f, FLT_MAX, -1.0f};
    for_each_kernel_set([&](const DistanceKernels &k) {
        std::uint32_t seed = 400;
        for (float scale : scales)
            for (std::size_t n : kDims)
                EXPECT_TRUE(checked_matches(k, random_pair(n, seed++, scale))) << "scale " << scale;
    });
}

TEST(CheckedDistanceTest, OrdinaryVectorsKeepTheFloatResult)
{
    for_each_kernel_set([](const DistanceKernels &k) {
        for (std::size_t n : kDims) {
            Pair p = random_pair(n, 500, 1.0f);
            const float *a = p.a.data(), *b = p.b.data();
            EXPECT_EQ(l2_squared_checked(a, b, n), double(k.l2_squared(a, b, n))) << k.name;
            EXPECT_EQ(dot_checked(a, b, n), double(k.dot(a, b, n))) << k.name;
            EXPECT_EQ(l1_checked(a, b, n), double(k.l1(a, b, n))) << k.name;
        }
    });
}

TEST(CheckedDistanceTest, ExtremesAreExactToDouble)
{
    for_each_kernel_set([](const DistanceKernels &k) {
        for (std::size_t n : kDims) {
            // Overflow in float (a - b = 2 * FLT_MAX) and underflow (squares of
            // 1e-40 are 0): the checked results are the double ones.
            Pair huge{std::vector<float>(n, FLT_MAX), std::vector<float>(n, -FLT_MAX)};
            Pair tiny = random_pair(n, 600, 1e-40f);
            for (const Pair *p : {&huge, &tiny}) {
                const float *a = p->a.data(), *b = p->b.data();
                EXPECT_TRUE(matches_reference(*p)) << k.name;
                EXPECT_EQ(l2_squared_checked(a, b, n), l2_squared_double(a, b, n)) << k.name;
                EXPECT_EQ(dot_checked(a, b, n), dot_double(a, b, n)) << k.name;
                EXPECT_EQ(cosine_distance_checked(a, b, n), cosine_distance_double(a, b, n)) << k.name;
            }
            EXPECT_EQ(l1_checked(huge.a.data(), huge.b.data(), n), l1_double(huge.a.data(), huge.b.data(), n));
            EXPECT_EQ(cosine_distance_checked(huge.a.data(), huge.b.data(), n), 2.0) << k.name;
        }
    });
}

TEST(CheckedDistanceTest, ZeroVectorCosineIsNaN)
{
    for_each_kernel_set([](const DistanceKernels &k) {
        for (std::size_t n : kDims) {
            Pair p = random_pair(n, 700, 1.0f);
            std::vector<float> zeros(n, 0.0f);
            EXPECT_TRUE(std::isnan(cosine_distance_checked(p.a.data(), zeros.data(), n))) << k.name;
            EXPECT_TRUE(std::isnan(cosine_distance_checked(zeros.data(), zeros.data(), n))) << k.name;
            EXPECT_EQ(l2_squared_checked(zeros.data(), zeros.data(), n), 0.0) << k.name;
            EXPECT_EQ(dot_checked(p.a.data(), zeros.data(), n), 0.0) << k.name;
        }
    });
}

}  // namespace

}  // namespace vecdb
