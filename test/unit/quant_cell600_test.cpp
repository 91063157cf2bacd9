/*
 * quant_cell600_test.cpp -- the 600-cell (lattice.md section 5): 120 distinct
 * unit vertices, closure under the quaternion product, the inner-product
 * spectrum, and the 17-pattern shortcut against brute force over all 120.
 */
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/quant/cell600.h"
#include "quant_test_util.h"

namespace vecdb {
namespace {

const double kPhi = (1.0 + std::sqrt(5.0)) / 2.0;

int find_vertex(const double *v)
{
    for (int n = 0; n < kCell600Vertices; n++) {
        double d = 0.0;
        for (int i = 0; i < 4; i++)
            d += std::fabs(v[i] - kCell600.v[n][i]);
        if (d < 1e-5)
            return n;
    }
    return -1;
}

double dot(int a, int b)
{
    double s = 0.0;
    for (int i = 0; i < 4; i++)
        s += static_cast<double>(kCell600.v[a][i]) * kCell600.v[b][i];
    return s;
}

/// First vertex of largest <w, v>, summed in the shortcut's order.
int brute_force(const float *w)
{
    int best = 0;
    float best_score = -INFINITY;
    for (int n = 0; n < kCell600Vertices; n++) {
        const float *v = kCell600.v[n];
        float score = w[0] * v[0] + w[1] * v[1] + w[2] * v[2] + w[3] * v[3];
        if (score > best_score) {
            best_score = score;
            best = n;
        }
    }
    return best;
}

float score(const float *w, int n)
{
    const float *v = kCell600.v[n];
    return w[0] * v[0] + w[1] * v[1] + w[2] * v[2] + w[3] * v[3];
}

TEST(QuantCell600Test, UnitAndDistinct)
{
    for (int a = 0; a < kCell600Vertices; a++) {
        ASSERT_NEAR(dot(a, a), 1.0, 1e-6) << "vertex " << a;
        for (int b = 0; b < a; b++)
            ASSERT_LT(dot(a, b), 0.9) << "vertices " << a << " and " << b;
    }
}

TEST(QuantCell600Test, InnerProductsAndNeighbours)
{
    const double allowed[] = {1, kPhi / 2, 0.5, 1 / (2 * kPhi), 0, -1 / (2 * kPhi), -0.5, -kPhi / 2, -1};
    for (int a = 0; a < kCell600Vertices; a++) {
        int neighbours = 0;
        for (int b = 0; b < kCell600Vertices; b++) {
            double p = dot(a, b);
            bool ok = false;
            for (double v : allowed)
                ok |= std::fabs(p - v) < 1e-6;
            ASSERT_TRUE(ok) << "<v" << a << ", v" << b << "> = " << p;
            neighbours += std::fabs(p - kPhi / 2) < 1e-6;  // 36 degrees
        }
        ASSERT_EQ(neighbours, 12) << "vertex " << a;
    }
}

TEST(QuantCell600Test, ClosedUnderQuaternionProduct)
{
    // (a0 + a1 i + a2 j + a3 k)(b0 + b1 i + b2 j + b3 k)
    for (int a = 0; a < kCell600Vertices; a++)
        for (int b = 0; b < kCell600Vertices; b++) {
            const float *p = kCell600.v[a], *q = kCell600.v[b];
            double r[4] = {
                static_cast<double>(p[0]) * q[0] - static_cast<double>(p[1]) * q[1] -
                    static_cast<double>(p[2]) * q[2] - static_cast<double>(p[3]) * q[3],
                static_cast<double>(p[0]) * q[1] + static_cast<double>(p[1]) * q[0] +
                    static_cast<double>(p[2]) * q[3] - static_cast<double>(p[3]) * q[2],
                static_cast<double>(p[0]) * q[2] - static_cast<double>(p[1]) * q[3] +
                    static_cast<double>(p[2]) * q[0] + static_cast<double>(p[3]) * q[1],
                static_cast<double>(p[0]) * q[3] + static_cast<double>(p[1]) * q[2] -
                    static_cast<double>(p[2]) * q[1] + static_cast<double>(p[3]) * q[0],
            };
            ASSERT_GE(find_vertex(r), 0) << "v" << a << " * v" << b;
        }
}

TEST(QuantCell600Test, ShortcutMatchesBruteForce)
{
    SplitMix64 rng(10);
    for (int k = 0; k < 200000; k++) {
        float w[4];
        for (float &v : w)
            v = static_cast<float>(quant_test::gaussian(rng));
        int got = cell600_nearest(w);
        ASSERT_GE(got, 0);
        ASSERT_LT(got, kCell600Vertices);
        ASSERT_EQ(got, brute_force(w)) << "input " << k;
    }
}

TEST(QuantCell600Test, TiesAndSpecialInputs)
{
    // Vertices, midpoints of neighbouring vertices (two-way ties), zero and
    // huge inputs: the chosen vertex must score as high as the best.
    std::vector<std::vector<float>> inputs = {{0, 0, 0, 0}, {1e30f, -1e30f, 0, 0}, {1e-30f, 0, 0, 0}};
    for (int a = 0; a < kCell600Vertices; a++) {
        const float *v = kCell600.v[a];
        inputs.push_back({v[0], v[1], v[2], v[3]});
        for (int b = 0; b < kCell600Vertices; b++)
            if (std::fabs(dot(a, b) - kPhi / 2) < 1e-6) {
                const float *u = kCell600.v[b];
                inputs.push_back({v[0] + u[0], v[1] + u[1], v[2] + u[2], v[3] + u[3]});
            }
    }
    for (const auto &w : inputs) {
        int got = cell600_nearest(w.data());
        ASSERT_GE(got, 0);
        ASSERT_LT(got, kCell600Vertices);
        ASSERT_EQ(score(w.data(), got), score(w.data(), brute_force(w.data())));
    }
    for (int a = 0; a < kCell600Vertices; a++)
        ASSERT_EQ(cell600_nearest(kCell600.v[a]), a);
}

}  // namespace
}  // namespace vecdb
