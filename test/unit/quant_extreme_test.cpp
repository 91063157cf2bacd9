/*
 * quant_extreme_test.cpp -- codes and queries at any float magnitude, from
 * subnormal to FLT_MAX: estimates are never NaN, bounds never exceed the
 * exact distance (computed in long double), and vectors inside
 * kCodeNormMin .. kCodeNormMax keep bounds that say something.
 */
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "quant_test_util.h"

namespace vecdb {
namespace {

using namespace quant_test;

constexpr std::size_t kDim = 24;

/// Vectors of one shape at one magnitude: gaussian times scale, with every
/// third vector's signs alternating in size (huge next to tiny entries).
std::vector<float> scaled_vectors(std::size_t n, double scale, std::uint64_t seed)
{
    SplitMix64 rng(seed);
    std::vector<float> x(n * kDim);
    for (std::size_t k = 0; k < n; k++)
        for (std::size_t i = 0; i < kDim; i++) {
            double g = gaussian(rng);
            double s = (k % 3 == 2 && i % 2) ? scale * 1e-30 : scale;
            double v = std::fmax(-FLT_MAX, std::fmin(FLT_MAX, g * s));
            x[k * kDim + i] = static_cast<float>(v);
        }
    return x;
}

/// The operator's value over the reals (long double sums of float inputs).
long double true_distance(Metric metric, const float *q, const float *x)
{
    long double dot = 0, qq = 0, xx = 0, l2 = 0;
    for (std::size_t i = 0; i < kDim; i++) {
        long double a = q[i], b = x[i];
        dot += a * b;
        qq += a * a;
        xx += b * b;
        l2 += (a - b) * (a - b);
    }
    switch (metric) {
    case Metric::L2:
        return l2;
    case Metric::InnerProduct:
        return -dot;
    case Metric::Cosine: {
        long double c = dot / std::sqrt(qq * xx);
        return 1 - std::fmax(-1.0L, std::fmin(1.0L, c));
    }
    case Metric::L1:
    case Metric::Jaccard:
        break;
    }
    return 0;
}

const double kScales[] = {1e-44, 1e-38, 1e-30, 1e-20, 1.0, 1e20, 1e30, 1e36, 3e38};

TEST(QuantExtremeTest, BoundsHoldAndEstimatesAreNumbersAtEveryMagnitude)
{
    for (Kind kind : kAllKinds)
        for (Metric metric : kAllMetrics) {
            std::vector<float> stored;
            for (std::size_t s = 0; s < std::size(kScales); s++) {
                std::vector<float> part = scaled_vectors(6, kScales[s], 10 + s);
                stored.insert(stored.end(), part.begin(), part.end());
            }
            // SQ8 learns its ranges from the same rows, as an index build does.
            auto box = make_quantizer(kind, kDim, metric, 5, stored);
            std::vector<std::uint8_t> codes = box->encode_all(stored);
            const std::size_t n = stored.size() / kDim, size = box->q().code_size();
            DistanceComputer *dc = box->computer();
            std::size_t violations = 0, nans = 0, informative = 0, in_range = 0;
            for (std::size_t s = 0; s < std::size(kScales); s++) {
                std::vector<float> queries = scaled_vectors(3, kScales[s], 100 + s);
                for (std::size_t j = 0; j < 3; j++) {
                    const float *q = &queries[j * kDim];
                    dc->set_query(q);
                    for (std::size_t k = 0; k < n; k++) {
                        const float *x = &stored[k * kDim];
                        long double exact = true_distance(metric, q, x);
                        float estimate = dc->distance(&codes[k * size]);
                        float bound = dc->lower_bound(&codes[k * size]);
                        nans += std::isnan(estimate) || std::isnan(bound);
                        if (std::isnan(exact))
                            continue;
                        if (!(bound <= exact)) {
                            violations++;
                            if (violations <= 3)
                                ADD_FAILURE() << kind_name(kind) << " " << metric_name(metric) << ": query scale "
                                              << kScales[s] << ", vector " << k << ": bound " << bound << " > exact "
                                              << static_cast<double>(exact);
                        }
                        // Both at unit scale: rotated codes still bound
                        // something (SQ8's ranges here span 1e36: its unit
                        // rows share one level, and their bounds are 0).
                        if (kScales[s] == 1.0 && k / 6 == 4 && k % 3 != 2 && kind != Kind::SQ8) {
                            in_range++;
                            informative += bound > (metric == Metric::InnerProduct ? -INFINITY : 0.0f);
                        }
                    }
                }
            }
            EXPECT_EQ(violations, 0u) << kind_name(kind) << " " << metric_name(metric);
            EXPECT_EQ(nans, 0u) << kind_name(kind) << " " << metric_name(metric);
            if (in_range > 0) {
                EXPECT_GT(informative, 0u) << kind_name(kind) << " " << metric_name(metric);
            }
        }
}

TEST(QuantExtremeTest, VectorsOutsideTheRangeGetCodesThatBoundNothing)
{
    for (Kind kind : {Kind::E8P, Kind::Residual4, Kind::H4, Kind::Binary})
        for (Metric metric : {Metric::L2, Metric::InnerProduct}) {
            auto box = make_quantizer(kind, kDim, metric, 7);
            for (double scale : {1e-40, 3e38}) {
                std::vector<float> x = scaled_vectors(1, scale, 3);
                std::vector<std::uint8_t> code(box->q().code_size());
                box->q().encode(x.data(), code.data(), box->work.data());
                float header[3];
                std::memcpy(header, code.data(), sizeof header);
                EXPECT_TRUE(std::isfinite(header[0]) && std::isfinite(header[2])) << kind_name(kind);
                EXPECT_EQ(header[1], INFINITY) << kind_name(kind) << ", scale " << scale;
                // Its decoded vector points the same way (it ranks by direction).
                std::vector<float> decoded(kDim);
                box->q().decode(code.data(), decoded.data(), box->work.data());
                double dot = 0;
                for (std::size_t i = 0; i < kDim; i++)
                    dot += static_cast<double>(decoded[i]) * x[i];
                EXPECT_GT(dot, 0.0) << kind_name(kind) << ", scale " << scale;
            }
        }
}

TEST(QuantExtremeTest, OneHugeRowLeavesSq8RangesToTheOthers)
{
    std::vector<float> train = gaussian_vectors(200, kDim, 21);
    std::vector<float> huge = scaled_vectors(1, 3e38, 22);
    train.insert(train.end(), huge.begin(), huge.end());
    auto box = make_quantizer(Kind::SQ8, kDim, Metric::L2, 1, train);
    for (std::size_t i = 0; i < kDim; i++) {
        EXPECT_LT(std::fabs(box->sq8->vmin()[i]), 10.0f);
        EXPECT_LT(box->sq8->step()[i], 0.1f);
    }
}

}  // namespace
}  // namespace vecdb
