/*
 * quant_fastscan_test.cpp -- the 4-bit SQ8 pre-filter (quant/sq8_fastscan.h):
 * every kernel set sums what a plain loop over the stored nibbles sums, and
 * the nibble bound stays below the SQL operator's value for every code, on
 * data of several shapes (Gaussian, clustered, a skewed dimension, rows far
 * outside the trained ranges), while still excluding most far codes.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../../src/core/quant/sq8.h"
#include "../../src/core/quant/sq8_fastscan.h"
#include "../../src/core/simd/distance.h"
#include "../../src/core/splitmix64.h"
#include "kernel_test_util.h"
#include "quant_test_util.h"

namespace vecdb {
namespace {

using quant_test::exact_distance;
using quant_test::gaussian;

TEST(FastScanKernel, EveryKernelSetSumsTheStoredNibbles)
{
    SplitMix64 rng(11);
    for (std::size_t d : {1u, 2u, 3u, 16u, 100u, 257u, 600u, 1030u}) {
        const std::size_t nblocks = 3, n = nblocks * kFastScanBlock;
        std::vector<std::uint8_t> levels(n * d), blocks(nblocks * fastscan_block_bytes(d), 0xA5), tables(16 * d);
        for (auto &v : levels)
            v = std::uint8_t(rng.next());
        for (auto &v : tables)
            v = std::uint8_t(rng.next());
        // The extremes: tables of 255s over the first 512 dimensions (256
        // pairs) take the AVX2 kernel's u16 sums to 65,280 before they fold.
        std::fill(tables.begin(), tables.begin() + 16 * std::min<std::size_t>(d, 512), 255);
        for (std::size_t c = 0; c < n; c++)
            fastscan_store(blocks.data() + (c / 32) * fastscan_block_bytes(d), d, unsigned(c % 32), &levels[c * d]);
        std::vector<std::uint32_t> expected(n);
        for (std::size_t c = 0; c < n; c++)
            for (std::size_t i = 0; i < d; i++)
                expected[c] += tables[16 * i + (levels[c * d + i] >> 4)];
        for (const DistanceKernels *k : {&kScalarKernels, &kAvx2Kernels, &kAvx512Kernels, &kNeonKernels}) {
            if (!kernel_test::cpu_can_run(k))
                continue;
            std::vector<std::uint32_t> sums(n, 7);
            k->scan_u4(blocks.data(), nblocks, tables.data(), d, sums.data());
            EXPECT_EQ(sums, expected) << k->name << " d=" << d;
        }
    }
}

enum class Shape { Gaussian, Clustered, Skewed };

std::vector<float> shaped_vectors(Shape shape, std::size_t n, std::size_t d, std::uint64_t seed)
{
    SplitMix64 rng(seed);
    std::vector<float> centres(8 * d);
    for (float &v : centres)
        v = float(3.0 * gaussian(rng));
    std::vector<float> x(n * d);
    for (std::size_t v = 0; v < n; v++)
        for (std::size_t i = 0; i < d; i++) {
            double value = gaussian(rng);
            if (shape == Shape::Clustered)
                value = centres[(v % 8) * d + i] + 0.3 * value;
            if (shape == Shape::Skewed && i == 0)
                value = 1000.0 + 50.0 * value;  // one dimension far wider than the rest
            x[v * d + i] = float(value);
        }
    return x;
}

struct BoundCase {
    Metric metric;
    Shape shape;
    std::size_t dim;
};

class FastScanBound : public ::testing::TestWithParam<BoundCase> {};

TEST_P(FastScanBound, StaysBelowTheOperatorAndExcludesFarCodes)
{
    const BoundCase p = GetParam();
    const std::size_t d = p.dim, train_n = 500, n = 32 * 20;
    const DistanceKernels &k = kScalarKernels;
    std::vector<float> x = shaped_vectors(p.shape, n, d, 5 + d);
    // The last 32 rows lie far outside the ranges learned from the first
    // 500 (as rows inserted after a build): clamped codes, large r.
    for (std::size_t v = n - 32; v < n; v++)
        for (std::size_t i = 0; i < d; i++)
            x[v * d + i] = x[v * d + i] * 40.0f + (v % 2 ? 300.0f : -300.0f);
    std::vector<float> ranges(2 * d), work(d);
    SQ8Quantizer quantizer(d, p.metric, ranges.data());
    quantizer.train(train_n, x.data(), work.data());
    std::vector<std::uint8_t> codes(n * quantizer.code_size());
    std::vector<std::uint8_t> blocks(n / 32 * fastscan_block_bytes(d));
    FastScanPageMax clean{0.0f, 0.0f}, all{0.0f, 0.0f};
    for (std::size_t v = 0; v < n; v++) {
        std::uint8_t *code = &codes[v * quantizer.code_size()];
        quantizer.encode(&x[v * d], code, work.data());
        fastscan_store(&blocks[(v / 32) * fastscan_block_bytes(d)], d, unsigned(v % 32), code + kSq8HeaderBytes);
        fastscan_note_code(&all, code);
        if (v < n - 32)
            fastscan_note_code(&clean, code);
    }
    std::vector<unsigned char> memory(quantizer.distance_computer_bytes());
    DistanceComputer *computer = quantizer.distance_computer(memory.data());
    std::vector<std::uint8_t> tables(SQ8FastScan::table_bytes(d));
    std::vector<std::uint32_t> sums(n);
    std::vector<float> queries = shaped_vectors(p.shape, 20, d, 99 + d);
    std::size_t excluded = 0, far = 0;
    for (std::size_t qi = 0; qi < 20; qi++) {
        const float *q = &queries[qi * d];
        computer->set_query(q);
        SQ8FastScan scan;
        ASSERT_TRUE(scan.set_query(quantizer, *static_cast<SQ8DistanceComputer *>(computer), tables.data()));
        distance_kernels().scan_u4(blocks.data(), n / 32, tables.data(), d, sums.data());
        std::vector<double> exact(n);
        for (std::size_t v = 0; v < n; v++)
            exact[v] = exact_distance(k, p.metric, q, &x[v * d], d);
        std::vector<double> sorted(exact.begin(), exact.end() - 32);
        std::sort(sorted.begin(), sorted.end());
        const double tenth = sorted[9];
        for (std::size_t v = 0; v < n; v++) {
            // Every code against the page holding them all; the rows inside
            // the ranges also against a page of their own.
            const float bound = scan.lower_bound(sums[v], all);
            ASSERT_LE(bound, exact[v]) << "row " << v << " query " << qi;
            if (v < n - 32) {
                const float own = scan.lower_bound(sums[v], clean);
                ASSERT_LE(own, exact[v]) << "row " << v << " query " << qi;
                // Monotone in the sum, the direction increasing() says.
                const float next = scan.lower_bound(sums[v] + 1, clean);
                ASSERT_TRUE(scan.increasing() ? next >= own : next <= own);
                if (exact[v] > sorted[sorted.size() / 2]) {
                    far++;
                    excluded += own > tenth;
                }
            }
        }
    }
    // The point of the filter: codes farther than the median are excluded
    // from the 10 nearest by their nibbles alone (all but a few on
    // clustered data; on isotropic Gaussian data under cosine, where every
    // distance is near 1, about a third: the hardest case here).
    EXPECT_GT(double(excluded), 0.25 * double(far)) << excluded << " of " << far;
}

INSTANTIATE_TEST_SUITE_P(Shapes, FastScanBound,
                         ::testing::Values(BoundCase{Metric::L2, Shape::Gaussian, 64},
                                           BoundCase{Metric::L2, Shape::Clustered, 100},
                                           BoundCase{Metric::L2, Shape::Skewed, 33},
                                           BoundCase{Metric::InnerProduct, Shape::Gaussian, 64},
                                           BoundCase{Metric::InnerProduct, Shape::Clustered, 100},
                                           BoundCase{Metric::Cosine, Shape::Gaussian, 100},
                                           BoundCase{Metric::Cosine, Shape::Clustered, 128}));

TEST(FastScanBound, NoTablesForARescaledOrZeroQuery)
{
    const std::size_t d = 8;
    std::vector<float> ranges(2 * d), work(d), x = quant_test::gaussian_vectors(50, d, 3);
    SQ8Quantizer quantizer(d, Metric::Cosine, ranges.data());
    quantizer.train(50, x.data(), work.data());
    std::vector<unsigned char> memory(quantizer.distance_computer_bytes());
    auto *computer = static_cast<SQ8DistanceComputer *>(quantizer.distance_computer(memory.data()));
    std::vector<float> zero(d, 0.0f);
    computer->set_query(zero.data());
    std::vector<std::uint8_t> tables(SQ8FastScan::table_bytes(d));
    SQ8FastScan scan;
    EXPECT_FALSE(scan.set_query(quantizer, *computer, tables.data()));
    SQ8Quantizer l2(d, Metric::L2, ranges.data());
    std::vector<unsigned char> memory2(l2.distance_computer_bytes());
    auto *c2 = static_cast<SQ8DistanceComputer *>(l2.distance_computer(memory2.data()));
    std::vector<float> huge(d, 3e38f);
    c2->set_query(huge.data());
    EXPECT_FALSE(scan.set_query(l2, *c2, tables.data()));
}

}  // namespace
}  // namespace vecdb
