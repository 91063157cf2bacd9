/*
 * quant_splitmix_test.cpp -- splitmix64, the generator behind every stored
 * random bit: golden outputs (lattice.md section 9) and the counter form.
 */
#include <cstdint>

#include <gtest/gtest.h>

#include "../../src/core/splitmix64.h"

namespace vecdb {
namespace {

TEST(QuantSplitMix64Test, GoldenOutputsForSeedZero)
{
    SplitMix64 rng(0);
    EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafull);
    EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ull);
    EXPECT_EQ(rng.next(), 0x06c45d188009454full);
}

TEST(QuantSplitMix64Test, CounterFormMatchesSequentialForm)
{
    for (std::uint64_t seed : {0ull, 1ull, 42ull, 0xFFFFFFFFFFFFFFFFull}) {
        SplitMix64 rng(seed);
        for (std::uint64_t n = 0; n < 1000; n++)
            ASSERT_EQ(rng.next(), splitmix64_at(seed, n)) << "seed " << seed << ", output " << n;
    }
}

TEST(QuantSplitMix64Test, IsConstexpr)
{
    static_assert(splitmix64_at(0, 0) == 0xe220a8397b1dcdafull, "usable in constant expressions");
    SUCCEED();
}

TEST(QuantSplitMix64Test, DoublesInUnitInterval)
{
    SplitMix64 rng(7);
    double sum = 0.0;
    for (int i = 0; i < 100000; i++) {
        double v = rng.next_double();
        ASSERT_GE(v, 0.0);
        ASSERT_LT(v, 1.0);
        sum += v;
    }
    EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

}  // namespace
}  // namespace vecdb
