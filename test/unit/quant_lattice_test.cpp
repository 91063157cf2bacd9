/*
 * quant_lattice_test.cpp -- Conway & Sloane's nearest-point routines for D4,
 * D8 and E8 against brute force over every lattice point that can be nearest
 * (lattice.md section 2), including exact ties and large |x|, and the
 * normalized second moments of D4 and E8.
 */
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/quant/lattice.h"
#include "quant_test_util.h"

namespace vecdb {
namespace {

double dist2(const double *a, const double *b, std::size_t n)
{
    double s = 0.0;
    for (std::size_t i = 0; i < n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

/// Smallest |x - v|^2 over v in offset + Z^n with even sum(v - offset) and
/// every |x_i - v_i| <= window: for D_n (window 1.5, offset 0) and each coset
/// of E8 (window 1, offset 0 or 1/2) the nearest point is among these.
double brute_force(const double *x, std::size_t n, double window, double offset)
{
    std::vector<double> lo(n);
    std::vector<int> count(n), digit(n, 0);
    for (std::size_t i = 0; i < n; i++) {
        lo[i] = std::ceil(x[i] - window - offset) + offset;
        count[i] = static_cast<int>(std::floor(x[i] + window - offset) + offset - lo[i]) + 1;
    }
    double best = INFINITY;
    for (;;) {
        double sum = 0.0, d = 0.0;
        for (std::size_t i = 0; i < n; i++) {
            double v = lo[i] + digit[i];
            sum += v - offset;
            d += (x[i] - v) * (x[i] - v);
        }
        if (std::fmod(sum, 2.0) == 0.0 && d < best)
            best = d;
        std::size_t i = 0;
        while (i < n && ++digit[i] == count[i])
            digit[i++] = 0;
        if (i == n)
            break;
    }
    return best;
}

::testing::AssertionResult in_dn(const double *v, std::size_t n)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i++) {
        if (v[i] != std::floor(v[i]))
            return ::testing::AssertionFailure() << "coordinate " << i << " = " << v[i] << " is not an integer";
        sum += v[i];
    }
    if (std::fmod(sum, 2.0) != 0.0)
        return ::testing::AssertionFailure() << "odd sum " << sum;
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult in_e8(const double *v)
{
    double shifted[8];
    bool half = v[0] != std::floor(v[0]);
    for (int i = 0; i < 8; i++)
        shifted[i] = half ? v[i] - 0.5 : v[i];
    return in_dn(shifted, 8);
}

/// Inputs: Gaussian, values on the quarter grid (many exact ties), and the
/// same far from the origin.
std::vector<double> test_inputs(std::size_t count, std::size_t n, std::uint64_t seed)
{
    SplitMix64 rng(seed);
    std::vector<double> x(count * n);
    for (std::size_t k = 0; k < count; k++) {
        int kind = static_cast<int>(k % 4);
        double shift = kind == 3 ? 2.0e6 * ((rng.next() & 1) ? 1 : -1) : 0.0;
        for (std::size_t i = 0; i < n; i++) {
            double v = kind == 0 ? 2.0 * quant_test::gaussian(rng)
                                 : static_cast<double>(static_cast<int>(rng.next() >> 60) - 8) / 4.0;
            x[k * n + i] = v + shift;
        }
    }
    return x;
}

TEST(QuantLatticeTest, D4MatchesBruteForce)
{
    std::vector<double> x = test_inputs(4000, 4, 1);
    for (std::size_t k = 0; k < 4000; k++) {
        double out[4];
        nearest_dn(&x[4 * k], 4, out);
        ASSERT_TRUE(in_dn(out, 4)) << "input " << k;
        ASSERT_DOUBLE_EQ(dist2(&x[4 * k], out, 4), brute_force(&x[4 * k], 4, 1.5, 0.0)) << "input " << k;
    }
}

TEST(QuantLatticeTest, D8MatchesBruteForce)
{
    std::vector<double> x = test_inputs(1000, 8, 2);
    for (std::size_t k = 0; k < 1000; k++) {
        double out[8];
        nearest_dn(&x[8 * k], 8, out);
        ASSERT_TRUE(in_dn(out, 8)) << "input " << k;
        ASSERT_DOUBLE_EQ(dist2(&x[8 * k], out, 8), brute_force(&x[8 * k], 8, 1.5, 0.0)) << "input " << k;
    }
}

TEST(QuantLatticeTest, E8MatchesBruteForce)
{
    std::vector<double> x = test_inputs(10000, 8, 3);
    for (std::size_t k = 0; k < 10000; k++) {
        double out[8];
        nearest_e8(&x[8 * k], out);
        ASSERT_TRUE(in_e8(out)) << "input " << k;
        double best = std::fmin(brute_force(&x[8 * k], 8, 1.0, 0.0), brute_force(&x[8 * k], 8, 1.0, 0.5));
        ASSERT_DOUBLE_EQ(dist2(&x[8 * k], out, 8), best) << "input " << k;
    }
}

TEST(QuantLatticeTest, FixedTieRules)
{
    // floor(x + 1/2): halves round up; D8 parity fix moves the first worst
    // coordinate; E8 keeps the D8 point on a tie between cosets.
    double x[8] = {0.5, 0, 0, 0, 0, 0, 0, 0}, out[8];
    nearest_dn(x, 8, out);  // rounds to (1, 0, ...): odd, fixed back to 0
    for (int i = 0; i < 8; i++)
        EXPECT_EQ(out[i], 0.0) << i;
    double y[8] = {0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25};  // 0 and 1/2 1: equally near
    nearest_e8(y, out);
    for (int i = 0; i < 8; i++)
        EXPECT_EQ(out[i], 0.0) << i;
}

TEST(QuantLatticeTest, NormalizedSecondMoments)
{
    // x uniform in [0, 2)^n covers whole Voronoi cells (2Z^n is a sublattice):
    // G(E8) = E|e|^2 / 8 (volume 1), G(D4) = E|e|^2 / (4 sqrt 2) (volume 2).
    SplitMix64 rng(4);
    const int samples = 100000;
    double e8 = 0.0, d4 = 0.0;
    for (int s = 0; s < samples; s++) {
        double x[8], out[8];
        for (double &v : x)
            v = 2.0 * rng.next_double();
        nearest_e8(x, out);
        e8 += dist2(x, out, 8);
        nearest_dn(x, 4, out);
        d4 += dist2(x, out, 4);
    }
    double g_e8 = e8 / samples / 8.0, g_d4 = d4 / samples / (4.0 * std::sqrt(2.0));
    std::printf("[ lattice ] G(E8) = %.5f (0.07168), G(D4) = %.5f (0.07660)\n", g_e8, g_d4);
    EXPECT_NEAR(g_e8, 0.07168, 0.0015);
    EXPECT_NEAR(g_d4, 0.07660, 0.0015);
}

}  // namespace
}  // namespace vecdb
