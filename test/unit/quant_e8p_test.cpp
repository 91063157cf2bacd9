/*
 * quant_e8p_test.cpp -- the E8P codebook and its encoder (lattice.md section
 * 3a): 65,536 distinct points of E8 + 1/4, the row tables, decode/encode
 * round trips for every code, and the shape-shortcut encoder against brute
 * force over all 65,536 points.
 */
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/quant/e8p_codebook.h"
#include "../../src/core/quant/lattice.h"
#include "quant_test_util.h"

namespace vecdb {
namespace {

std::vector<std::array<float, 8>> all_points()
{
    std::vector<std::array<float, 8>> points(65536);
    for (unsigned c = 0; c < 65536; c++)
        e8p_decode_block(static_cast<std::uint16_t>(c), points[c].data());
    return points;
}

double dist2(const float *z, const float *c)
{
    double s = 0.0;
    for (int i = 0; i < 8; i++)
        s += (static_cast<double>(z[i]) - c[i]) * (static_cast<double>(z[i]) - c[i]);
    return s;
}

TEST(QuantE8PTest, AbsRows)
{
    std::vector<std::array<float, 8>> rows(256);
    for (int r = 0; r < 256; r++) {
        float norm2 = 0.0f, sum = 0.0f;
        for (int i = 0; i < 8; i++) {
            float a = kE8PCodebook.rows[r][i];
            ASSERT_TRUE(a == 0.5f || a == 1.5f || a == 2.5f) << "row " << r;
            norm2 += a * a;
            sum += a;
            rows[r][i] = a;
        }
        ASSERT_EQ(norm2, kE8PCodebook.row_norm2[r]) << "row " << r;
        ASSERT_EQ(static_cast<int>(sum) % 2, kE8PCodebook.row_parity[r]) << "row " << r;
        if (r < kE8PBallRows) {
            ASSERT_LE(norm2, 10.0f) << "row " << r;
        } else {
            ASSERT_EQ(norm2, 12.0f) << "row " << r;
            ASSERT_EQ(std::count(rows[r].begin(), rows[r].end(), 1.5f), 5) << "row " << r;
        }
        if (r > 0 && r < kE8PBallRows) {
            ASSERT_LT(rows[r - 1], rows[r]) << "ball rows are in lexicographic order";
        }
    }
    std::sort(rows.begin(), rows.end());
    EXPECT_EQ(std::unique(rows.begin(), rows.end()), rows.end()) << "abs rows are distinct";
}

TEST(QuantE8PTest, SixtyFiveThousandDistinctPointsInE8PlusQuarter)
{
    std::vector<std::array<float, 8>> points = all_points();
    double sum2 = 0.0;
    for (unsigned c = 0; c < 65536; c++) {
        double shifted[8], nearest[8];
        for (int i = 0; i < 8; i++) {
            shifted[i] = points[c][i] - 0.25;
            sum2 += static_cast<double>(points[c][i]) * points[c][i];
        }
        nearest_e8(shifted, nearest);
        for (int i = 0; i < 8; i++)
            ASSERT_EQ(shifted[i], nearest[i]) << "code " << c << " minus 1/4 is not in E8";
    }
    std::sort(points.begin(), points.end());
    EXPECT_EQ(std::unique(points.begin(), points.end()), points.end()) << "codewords are distinct";
    // lattice.md: codebook RMS 1.094 per coordinate.
    EXPECT_NEAR(std::sqrt(sum2 / (65536.0 * 8)), 1.094, 0.001);
}

TEST(QuantE8PTest, EncodeOfDecodeIsIdentity)
{
    for (unsigned c = 0; c < 65536; c++) {
        float point[8];
        e8p_decode_block(static_cast<std::uint16_t>(c), point);
        ASSERT_EQ(e8p_encode_block(point), c);
    }
}

TEST(QuantE8PTest, EncoderMatchesBruteForce)
{
    // Gaussian blocks at the quantizer's scale, far outside the codebook,
    // and on the quarter grid (exact ties: only the distance must match).
    std::vector<std::array<float, 8>> points = all_points();
    SplitMix64 rng(8);
    int code_mismatches = 0;
    const int inputs = 400;
    for (int k = 0; k < inputs; k++) {
        float z[8];
        int kind = k % 4;
        for (float &v : z) {
            if (kind == 3)
                v = static_cast<float>(static_cast<int>(rng.next() >> 59) - 16) / 4.0f;
            else
                v = static_cast<float>((kind == 2 ? 3.0 : 1.03) * quant_test::gaussian(rng));
        }
        std::uint16_t best = 0;
        double best_d = INFINITY;
        for (unsigned c = 0; c < 65536; c++) {
            double d = dist2(z, points[c].data());
            if (d < best_d) {
                best_d = d;
                best = static_cast<std::uint16_t>(c);
            }
        }
        std::uint16_t got = e8p_encode_block(z);
        ASSERT_NEAR(dist2(z, points[got].data()), best_d, 1e-5 * (1.0 + best_d)) << "input " << k;
        if (kind != 3 && got != best)
            code_mismatches++;
    }
    EXPECT_EQ(code_mismatches, 0);
}

TEST(QuantE8PTest, GaussianDistortion)
{
    // lattice.md: MSE per coordinate 0.0912 at scale 1.03 (relative to the
    // scaled input, before any gain refit).
    SplitMix64 rng(9);
    double mse = 0.0;
    const int blocks = 20000;
    for (int k = 0; k < blocks; k++) {
        float z[8], c[8];
        for (float &v : z)
            v = static_cast<float>(1.03 * quant_test::gaussian(rng));
        e8p_decode_block(e8p_encode_block(z), c);
        mse += dist2(z, c) / (8.0 * 1.03 * 1.03);
    }
    mse /= blocks;
    std::printf("[ e8p ] MSE per coordinate of N(0,1) at scale 1.03: %.4f\n", mse);
    EXPECT_NEAR(mse, 0.0912, 0.003);
}

}  // namespace
}  // namespace vecdb
