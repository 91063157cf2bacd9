/*
 * release_rule_test.cpp -- ReleaseRule (release_rule.h): where an iterative
 * scan may return rows up to, given how far behind the frontier its batches
 * have been finding rows.
 *
 * Checked: nothing is released before a batch; the first batch teaches
 * nothing; with rows found only beyond the frontier the floor (kMinMargin
 * of the radius) holds; the margin covers all but about kLateFraction of
 * the observed undershoots, erring upward by at most a quarter octave; the
 * rule is scale-free and works on negative keys (inner products).
 */
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/graph/release_rule.h"

namespace vecdb::hnsw {
namespace {

TEST(ReleaseRule, NothingBeforeTheFirstBatch)
{
    ReleaseRule rule;
    EXPECT_EQ(rule.limit(), -HUGE_VAL);
    EXPECT_EQ(rule.margin(), 0.0);
}

TEST(ReleaseRule, FirstBatchSetsFrontierAndFloor)
{
    ReleaseRule rule;
    for (double key : {1.0, 1.5, 2.0})
        rule.observe(key, true);
    rule.end_batch();
    EXPECT_EQ(rule.frontier(), 2.0);
    EXPECT_EQ(rule.margin(), 0.0);  // the first batch is no observation
    EXPECT_DOUBLE_EQ(rule.limit(), 2.0 - ReleaseRule::kMinMargin * 1.0);
}

TEST(ReleaseRule, RowsBeyondTheFrontierKeepTheFloor)
{
    ReleaseRule rule;
    rule.observe(0.0, true);
    rule.observe(10.0, true);
    rule.end_batch();
    for (int b = 0; b < 5; b++) {
        for (int i = 1; i <= 40; i++)
            rule.observe(rule.frontier() + i * 0.01, false);
        rule.end_batch();
    }
    EXPECT_EQ(rule.margin(), 0.0);
    EXPECT_DOUBLE_EQ(rule.limit(), rule.frontier() * (1 - ReleaseRule::kMinMargin));
}

/// Observations at known relative undershoots: the margin is the smallest
/// bucket edge that at most kLateFraction of them exceed.
TEST(ReleaseRule, MarginIsAnUpperQuantile)
{
    ReleaseRule rule;
    rule.observe(0.0, true);
    rule.observe(100.0, true);
    rule.end_batch();  // frontier 100, radius 100
    // 2,000 rows: 1,980 at undershoot 0.01, 20 (1%) at 0.4.
    for (int i = 0; i < 1980; i++)
        rule.observe(100.0 - 1.0, false);
    for (int i = 0; i < 20; i++)
        rule.observe(100.0 - 40.0, false);
    // 1% exceed 0.01, more than kLateFraction: the margin covers 0.4.
    EXPECT_GE(rule.margin(), 0.4);
    EXPECT_LE(rule.margin(), 0.4 * std::pow(2.0, 0.25) + 1e-12);
    // Ten times as many rows at 0.01: now 0.1% exceed it, within kLateFraction.
    for (int i = 0; i < 18000; i++)
        rule.observe(100.0 - 1.0, false);
    EXPECT_GE(rule.margin(), 0.01);
    EXPECT_LE(rule.margin(), 0.01 * std::pow(2.0, 0.25) + 1e-12);
    EXPECT_DOUBLE_EQ(rule.limit(), 100.0 - ReleaseRule::kMinMargin * 100.0);
}

/// The same walk in other units gives the same limit in those units, and
/// keys may be negative (negative inner products).
TEST(ReleaseRule, ScaleFreeAndSignFree)
{
    const std::vector<double> first = {0.2, 0.3, 0.5};
    const std::vector<double> later = {0.45, 0.1, 0.49, 0.55, 0.6, 0.2, 0.58};
    for (double scale : {1e-6, 1.0, 1e6}) {
        for (double shift : {0.0, -1e3}) {
            ReleaseRule rule;
            for (double k : first)
                rule.observe(k * scale + shift, true);
            rule.end_batch();
            for (double k : later)
                rule.observe(k * scale + shift, false);
            rule.end_batch();
            ReleaseRule unit;
            for (double k : first)
                unit.observe(k, true);
            unit.end_batch();
            for (double k : later)
                unit.observe(k, false);
            unit.end_batch();
            EXPECT_NEAR((rule.limit() - shift) / scale, unit.limit(), 1e-9 * (1 + std::fabs(shift) / scale))
                << "scale " << scale << " shift " << shift;
        }
    }
}

}  // namespace
}  // namespace vecdb::hnsw
