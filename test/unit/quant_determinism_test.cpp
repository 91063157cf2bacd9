/*
 * quant_determinism_test.cpp -- golden code bytes: codes stored on disk must
 * not change with the compiler, the platform or a refactoring (lattice.md
 * section 9).  Inputs are dyadic (exact on every platform); a change to any
 * stored constant, tie rule or operation order shows up here.
 */
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "quant_test_util.h"

namespace vecdb {
namespace {

using namespace quant_test;

std::uint64_t fnv1a(const std::vector<std::uint8_t> &bytes)
{
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (std::uint8_t b : bytes) {
        hash ^= b;
        hash *= 0x100000001b3ull;
    }
    return hash;
}

struct Golden {
    Kind kind;
    Metric metric;
    std::uint64_t hash;  ///< FNV-1a of the codes of 6 dyadic vectors, d = 100
};

TEST(QuantDeterminismTest, GoldenCodes)
{
    const Golden golden[] = {
        // L2 and inner product encode alike; cosine normalizes first.
        {Kind::E8P, Metric::L2, 0x5f5198b199dcd1e5ull},
        {Kind::E8P, Metric::Cosine, 0x1d7606ac4434f7adull},
        {Kind::Residual4, Metric::L2, 0x978df1540af85c00ull},
        {Kind::H4, Metric::L2, 0x11d25d07d4de079aull},
        {Kind::H4, Metric::Cosine, 0x8734927557c19c98ull},
        {Kind::SQ8, Metric::L2, 0xcc93df342fbca1c4ull},
        {Kind::Binary, Metric::L2, 0x7bcdeb8ccf116ae4ull},
    };
    const std::size_t d = 100;
    std::vector<float> x, train;
    for (std::uint64_t k = 0; k < 6; k++) {
        std::vector<float> v = dyadic_vector(d, 500 + k);
        x.insert(x.end(), v.begin(), v.end());
    }
    for (std::uint64_t k = 0; k < 50; k++) {
        std::vector<float> v = dyadic_vector(d, 900 + k);
        train.insert(train.end(), v.begin(), v.end());
    }
    for (const Golden &g : golden) {
        auto box = make_quantizer(g.kind, d, g.metric, 0x5eed, train);
        std::vector<std::uint8_t> codes = box->encode_all(x);
        std::vector<std::uint8_t> again = box->encode_all(x);
        EXPECT_EQ(codes, again) << kind_name(g.kind) << ": encoding twice";
        std::uint64_t hash = fnv1a(codes);
        EXPECT_EQ(hash, g.hash) << kind_name(g.kind) << " " << metric_name(g.metric) << ": got 0x" << std::hex << hash
                                << ", first payload bytes " << static_cast<int>(codes[12]) << " "
                                << static_cast<int>(codes[13]);
    }
}

TEST(QuantDeterminismTest, GoldenE8PCodeOfOneVector)
{
    // One vector's codes spelled out, so a failure shows where it moved.
    std::vector<float> x = dyadic_vector(16, 1);
    auto box = make_quantizer(Kind::E8P, 16, Metric::L2, 7);
    std::vector<std::uint8_t> code = box->encode_all(x);
    ASSERT_EQ(code.size(), 12u + 4u);
    // header: gain, r, |x| (float32); payload: two little-endian uint16
    const std::vector<std::uint8_t> expected = {0x00, 0x30, 0x79, 0x3f, 0x0e, 0xb9, 0x81, 0x3f,
                                                0xde, 0x56, 0x61, 0x40, 0xd2, 0x94, 0xa2, 0x37};
    EXPECT_EQ(code, expected);
}

}  // namespace
}  // namespace vecdb
