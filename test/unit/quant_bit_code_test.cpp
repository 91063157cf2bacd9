/*
 * quant_bit_code_test.cpp -- the 'bit' code (quant/bit_code.h): 0/1 vectors
 * round-trip exactly; distance(), lower_bound() and symmetric() equal the
 * Hamming and Jaccard formulas counted bit by bit, on every kernel set this
 * CPU runs, at widths that are and are not multiples of 8 or 64; a code of
 * a vector that is not 0/1 bounds nothing; a query that is not 0/1 gets a
 * bound below the exact squared distance; other metrics are refused.
 */
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "../../src/core/error.h"
#include "../../src/core/quant/bit_code.h"
#include "../../src/core/quant/quantization.h"
#include "../../src/core/splitmix64.h"
#include "kernel_test_util.h"

namespace vecdb {
namespace {

struct Counts {
    double both = 0, a = 0, b = 0, differ = 0;
};

Counts count(const std::vector<float> &a, const std::vector<float> &b)
{
    Counts c;
    for (std::size_t i = 0; i < a.size(); i++) {
        c.both += a[i] == 1.0f && b[i] == 1.0f;
        c.a += a[i] == 1.0f;
        c.b += b[i] == 1.0f;
        c.differ += a[i] != b[i];
    }
    return c;
}

std::vector<float> random_bits(SplitMix64 &rng, std::size_t d, std::uint64_t density)
{
    std::vector<float> v(d);
    for (auto &x : v)
        x = float(rng.next() % 8 < density);
    return v;
}

struct Coder {
    alignas(8) unsigned char memory[kQuantizerBytes];
    std::vector<std::uint64_t> computer_memory;
    Quantizer *quantizer;
    DistanceComputer *computer;
    Coder(std::size_t d, Metric metric)
    {
        quantizer = make_quantizer(Quantization::Bit, metric, d, 0, nullptr, memory);
        computer_memory.resize(quantizer->distance_computer_bytes() / 8 + 1);
        computer = quantizer->distance_computer(computer_memory.data());
    }
    std::vector<std::uint8_t> encode(const std::vector<float> &x) const
    {
        std::vector<std::uint8_t> code(quantizer->code_size());
        quantizer->encode(x.data(), code.data(), nullptr);
        return code;
    }
};

TEST(BitCode, RoundTripsAndSizes)
{
    SplitMix64 rng(11);
    for (std::size_t d : {1u, 7u, 8u, 9u, 63u, 64u, 65u, 1000u, 16000u}) {
        const Coder coder(d, Metric::L2);
        EXPECT_EQ(coder.quantizer->code_size(), 4 + (d + 7) / 8);
        EXPECT_EQ(quantized_code_size(Quantization::Bit, d), 4 + (d + 7) / 8);
        const std::vector<float> x = random_bits(rng, d, 3);
        const std::vector<std::uint8_t> code = coder.encode(x);
        std::vector<float> back(d);
        coder.quantizer->decode(code.data(), back.data(), nullptr);
        EXPECT_EQ(back, x) << d;
        float r;
        std::memcpy(&r, code.data() + coder.quantizer->residual_offset(), sizeof(r));
        EXPECT_EQ(r, 0.0f);
        if (d % 8 != 0) {  // padding bits stay 0
            EXPECT_EQ(code.back() >> (d % 8), 0) << d;
        }
    }
}

TEST(BitCode, DistancesAreTheCountsOnEveryKernelSet)
{
    for (const DistanceKernels *kernels : {&kScalarKernels, &kAvx2Kernels, &kAvx512Kernels, &kNeonKernels}) {
        if (!kernel_test::cpu_can_run(kernels))
            continue;
        set_distance_kernels(kernels);
        SplitMix64 rng(29);
        for (std::size_t d : {1u, 5u, 64u, 100u, 777u, 3072u}) {
            const Coder hamming(d, Metric::L2), jaccard(d, Metric::Jaccard);
            for (int trial = 0; trial < 40; trial++) {
                const std::uint64_t density = rng.next() % 9;  // 0: all zero, 8: all one
                const std::vector<float> q = random_bits(rng, d, density);
                const std::vector<float> x = trial % 9 == 0 ? q : random_bits(rng, d, rng.next() % 9);
                const std::vector<float> y = random_bits(rng, d, 4);
                const Counts c = count(q, x);
                const double expected_jaccard = c.both == 0 ? 1.0 : 1.0 - c.both / (c.a + c.b - c.both);

                const auto cx = hamming.encode(x), cy = hamming.encode(y), cq = hamming.encode(q);
                hamming.computer->set_query(q.data());
                EXPECT_EQ(hamming.computer->distance(cx.data()), float(c.differ)) << kernels->name << " " << d;
                EXPECT_EQ(hamming.computer->lower_bound(cx.data()), float(c.differ));
                EXPECT_EQ(hamming.computer->symmetric(cq.data(), cx.data()), float(c.differ));
                float bound;
                EXPECT_EQ(hamming.computer->distance_and_bound(cy.data(), &bound), float(count(q, y).differ));
                EXPECT_EQ(bound, float(count(q, y).differ));

                jaccard.computer->set_query(q.data());
                const float jd = jaccard.computer->distance(cx.data());
                EXPECT_FLOAT_EQ(jd, float(expected_jaccard)) << kernels->name << " " << d;
                const float jb = jaccard.computer->lower_bound(cx.data());
                EXPECT_LE(double(jb), expected_jaccard);
                EXPECT_GE(double(jb), expected_jaccard - 1e-6);
                EXPECT_FLOAT_EQ(jaccard.computer->symmetric(cq.data(), cx.data()), float(expected_jaccard));
            }
        }
    }
    set_distance_kernels(best_distance_kernels());
}

TEST(BitCode, VectorsThatAreNotBitsBoundNothing)
{
    const Coder coder(20, Metric::L2);
    std::vector<float> x(20, 1.0f);
    x[3] = 0.7f;  // stored as a 1, but the code is not x
    const auto code = coder.encode(x);
    float r;
    std::memcpy(&r, code.data(), sizeof(r));
    EXPECT_TRUE(std::isinf(r));
    std::vector<float> q(20, 0.0f);
    coder.computer->set_query(q.data());
    EXPECT_EQ(coder.computer->lower_bound(code.data()), -std::numeric_limits<float>::infinity());
    EXPECT_EQ(coder.computer->distance(code.data()), 20.0f);  // the estimate: all 20 bits set
    // Wherever the stray value sits (a full byte or the last, partial one),
    // and NaN too, the code bounds nothing.
    for (std::size_t at : {0u, 7u, 8u, 16u, 19u})
        for (float stray : {0.3f, -1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()}) {
            std::vector<float> y(20, 0.0f);
            y[at] = stray;
            const auto c = coder.encode(y);
            std::memcpy(&r, c.data(), sizeof(r));
            EXPECT_TRUE(std::isinf(r)) << at << " " << stray;
        }
}

TEST(BitCode, QueriesThatAreNotBitsGetBoundsBelowTheDistance)
{
    SplitMix64 rng(3);
    for (std::size_t d : {3u, 64u, 500u}) {
        const Coder coder(d, Metric::L2);
        for (int trial = 0; trial < 30; trial++) {
            std::vector<float> q(d);
            for (auto &v : q)
                v = float(double(rng.next() % 2001) / 1000.0 - 1.0) * (trial % 3 == 0 ? 1e6f : 1.0f);
            const std::vector<float> x = random_bits(rng, d, 4);
            const auto code = coder.encode(x);
            double exact = 0.0;
            for (std::size_t i = 0; i < d; i++)
                exact += (double(q[i]) - x[i]) * (double(q[i]) - x[i]);
            coder.computer->set_query(q.data());
            EXPECT_LE(double(coder.computer->lower_bound(code.data())), exact) << d << " " << trial;
            EXPECT_NEAR(coder.computer->distance(code.data()), exact, 1e-5 * exact + 1e-3);
        }
    }
}

TEST(BitCode, MetricsAndNames)
{
    alignas(8) unsigned char memory[kQuantizerBytes];
    EXPECT_THROW(make_quantizer(Quantization::Bit, Metric::InnerProduct, 8, 0, nullptr, memory), Error);
    EXPECT_THROW(make_quantizer(Quantization::Bit, Metric::Cosine, 8, 0, nullptr, memory), Error);
    EXPECT_THROW(make_quantizer(Quantization::Bit, Metric::L1, 8, 0, nullptr, memory), Error);
    EXPECT_TRUE(quantization_supports(Quantization::Bit, Metric::L2));
    EXPECT_TRUE(quantization_supports(Quantization::Bit, Metric::Jaccard));
    EXPECT_FALSE(quantization_supports(Quantization::Bit, Metric::Cosine));
    EXPECT_FALSE(quantization_supports(Quantization::SQ8, Metric::Jaccard));
    EXPECT_TRUE(quantization_supports(Quantization::None, Metric::L1));
    Quantization q;
    ASSERT_TRUE(parse_quantization("bit", &q));
    EXPECT_EQ(q, Quantization::Bit);
    EXPECT_STREQ(quantization_name(Quantization::Bit), "bit");
    EXPECT_TRUE(known_quantization(6));
    EXPECT_FALSE(is_coarse(Quantization::Bit));
    /* 'sparse' (sparsevec elements): every metric but Jaccard, no quantizer */
    ASSERT_TRUE(parse_quantization("sparse", &q));
    EXPECT_EQ(q, Quantization::Sparse);
    EXPECT_TRUE(known_quantization(7));
    EXPECT_FALSE(known_quantization(8));
    EXPECT_TRUE(quantization_supports(Quantization::Sparse, Metric::L1));
    EXPECT_FALSE(quantization_supports(Quantization::Sparse, Metric::Jaccard));
    EXPECT_FALSE(is_coarse(Quantization::Sparse));
    EXPECT_EQ(make_quantizer(Quantization::Sparse, Metric::L2, 9, 0, nullptr, memory), nullptr);
    EXPECT_EQ(quantized_code_size(Quantization::Sparse, 9), 36u);
}

}  // namespace
}  // namespace vecdb
