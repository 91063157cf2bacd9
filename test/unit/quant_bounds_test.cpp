/*
 * quant_bounds_test.cpp -- the guaranteed lower bounds of every quantizer and
 * metric never exceed the exact fp32 distance (lattice.md sections 7 and 9).
 *
 * Per quantizer and metric: 400 stored vectors x 260 queries = 104,000 pairs,
 * random and adversarial: q = x, q = x + tiny noise, q = -x, x a decoded
 * point (r ~ 0, so only the rounding margins keep the bound below the
 * exact value), huge and tiny scales, one-hot, constant and sparse vectors,
 * zero vectors (not under cosine, where the operator gives NaN).  The exact
 * value is what the SQL operator computes, with the scalar reference kernels
 * and with the kernels this CPU would use.  The probabilistic RaBitQ band
 * (not a guarantee) is measured and printed.
 */
#include <cfloat>
#include <cmath>
#include <random>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/quant/bounds.h"
#include "../../src/core/quant/rotation.h"
#include "quant_test_util.h"

namespace vecdb {
namespace {

using namespace quant_test;

constexpr std::size_t kStored = 400;
constexpr std::size_t kQueries = 260;

std::vector<float> stored_vectors(QuantizerBox &box, std::size_t d, Metric metric, std::uint64_t seed)
{
    SplitMix64 rng(seed);
    std::vector<float> x(kStored * d, 0.0f);
    std::vector<float> decoded(d);
    for (std::size_t k = 0; k < kStored; k++) {
        float *v = &x[k * d];
        if (k < 200) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = static_cast<float>(gaussian(rng));
        } else if (k < 250) {
            // A decoded point: its own code reconstructs it almost exactly.
            std::vector<float> g(d);
            for (float &f : g)
                f = static_cast<float>(gaussian(rng));
            std::vector<std::uint8_t> code(box.q().code_size());
            box.q().encode(g.data(), code.data(), box.work.data());
            box.q().decode(code.data(), v, box.work.data());
        } else if (k < 280) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = static_cast<float>(1000.0 * gaussian(rng));
        } else if (k < 310) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = static_cast<float>(1e-3 * gaussian(rng));
        } else if (k < 330) {
            v[rng.next() % d] = (k % 2 ? -3.0f : 3.0f);
        } else if (k < 350) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = k % 2 ? 1.0f : (i % 2 ? -1.0f : 1.0f);
        } else if (k < 380) {
            for (int j = 0; j < 3; j++)
                v[rng.next() % d] = static_cast<float>(gaussian(rng));
        } else if (k < kStored - 1 || metric == Metric::Cosine) {
            // Near-duplicates of the first vectors.
            const float *base = &x[(k - 380) * d];
            for (std::size_t i = 0; i < d; i++)
                v[i] = base[i] + static_cast<float>(1e-4 * gaussian(rng));
        }
        // The last vector stays zero unless the metric is cosine.
    }
    return x;
}

std::vector<float> queries(const std::vector<float> &x, std::size_t d, Metric metric, std::uint64_t seed)
{
    SplitMix64 rng(seed);
    std::vector<float> q(kQueries * d, 0.0f);
    for (std::size_t k = 0; k < kQueries; k++) {
        float *v = &q[k * d];
        // Stored vectors used as queries: every kind, decoded points included.
        const float *target = &x[((k * 37) % kStored) * d];
        if (k < 100 || (k == kQueries - 1 && metric == Metric::Cosine)) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = static_cast<float>(gaussian(rng));
        } else if (k < 140) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = target[i];
        } else if (k < 180) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = target[i] * (1.0f + static_cast<float>(1e-6 * gaussian(rng))) +
                       static_cast<float>(1e-7 * gaussian(rng));
        } else if (k < 200) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = -target[i];
        } else if (k < 230) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = 2.0f * target[i];
        } else if (k < 250) {
            for (std::size_t i = 0; i < d; i++)
                v[i] = static_cast<float>(1000.0 * gaussian(rng));
        } else if (k < kQueries - 1) {
            v[rng.next() % d] = 1.0f;
        }
        // The last query stays zero unless the metric is cosine.
    }
    if (metric == Metric::Cosine) {
        // A zero target would make the exact cosine NaN.
        for (std::size_t k = 0; k < kQueries; k++) {
            double n = 0.0;
            for (std::size_t i = 0; i < d; i++)
                n += std::fabs(q[k * d + i]);
            if (n == 0.0)
                q[k * d] = 1.0f;
        }
    }
    return q;
}

struct BoundStats {
    std::size_t pairs = 0, violations = 0, positive = 0;
    double worst_excess = -INFINITY;  ///< max (bound - exact) / scale
    double band_misses = 0, band_pairs = 0;
    double random_ratio = 0, random_pairs = 0;  ///< mean bound / exact, random pairs
};

BoundStats check_bounds(Kind kind, Metric metric, std::size_t d, std::uint64_t seed)
{
    auto box = make_quantizer(kind, d, metric, seed);
    std::vector<float> x = stored_vectors(*box, d, metric, seed + 1);
    std::vector<float> q = queries(x, d, metric, seed + 2);
    std::vector<std::uint8_t> codes = box->encode_all(x);
    const std::size_t size = box->q().code_size();
    DistanceComputer *dc = box->computer();
    const DistanceKernels &best = *best_distance_kernels();
    const std::size_t padded = padded_dims(d);

    BoundStats s;
    for (std::size_t j = 0; j < kQueries; j++) {
        const float *qv = &q[j * d];
        dc->set_query(qv);
        for (std::size_t k = 0; k < kStored; k++) {
            const float *xv = &x[k * d];
            float bound = dc->lower_bound(&codes[k * size]);
            double exact = std::fmin(exact_distance(kScalarKernels, metric, qv, xv, d),
                                     exact_distance(best, metric, qv, xv, d));
            s.pairs++;
            if (!(bound <= exact)) {
                s.violations++;
                if (s.violations <= 5)
                    ADD_FAILURE() << kind_name(kind) << " " << metric_name(metric) << ": query " << j << ", vector "
                                  << k << ": bound " << bound << " > exact " << exact;
            }
            s.positive += bound > 0.0f;
            if (j < 100 && k < 200 && metric != Metric::InnerProduct) {
                s.random_ratio += bound / exact;
                s.random_pairs++;
            }
            double scale = std::fmax(std::fabs(exact), 1e-30);
            s.worst_excess = std::fmax(s.worst_excess, (bound - exact) / scale);

            // RaBitQ's probabilistic band on the inner product, random pairs.
            if (metric == Metric::InnerProduct && j < 100 && k < 200 && kind != Kind::SQ8) {
                float header[3];
                std::memcpy(header, &codes[k * size], sizeof header);
                double norm = header[2], r = header[1];
                double recon = std::sqrt(std::fmax(norm * norm - r * r, 1e-30));
                double qn = std::sqrt(static_cast<double>(kScalarKernels.dot(qv, qv, d)));
                double est = -dc->distance(&codes[k * size]);
                double band = 1.9 * qn * norm * (r / recon) / std::sqrt(static_cast<double>(padded) - 1.0);
                s.band_pairs++;
                s.band_misses += std::fabs(-exact - est) > band;
            }
        }
    }
    return s;
}

class QuantBoundsTest : public ::testing::TestWithParam<Kind> {};

TEST_P(QuantBoundsTest, NeverAboveExactDistance)
{
    for (Metric metric : kAllMetrics) {
        // d = 100 pads to 104 (Hadamard 64 + Givens); d = 128 is a power of two.
        for (std::size_t d : {100, 128}) {
            BoundStats s = check_bounds(GetParam(), metric, d, 1000 + d);
            EXPECT_EQ(s.violations, 0u) << kind_name(GetParam()) << " " << metric_name(metric) << ", d = " << d;
            EXPECT_GE(s.pairs, 100000u);
            std::printf("[ bounds ] %-11s %-6s d=%zu: %zu pairs, %zu violations, %.1f %% positive", kind_name(GetParam()),
                        metric_name(metric), d, s.pairs, s.violations, 100.0 * s.positive / s.pairs);
            if (s.random_pairs > 0)
                std::printf(", random pairs: mean bound / exact %.3f", s.random_ratio / s.random_pairs);
            if (s.band_pairs > 0)
                std::printf(", RaBitQ band (eps0 1.9) misses %.1f %%", 100.0 * s.band_misses / s.band_pairs);
            std::printf("\n");
        }
    }
}

TEST_P(QuantBoundsTest, LargeDimension)
{
    // d = 768 (Hadamard 512 + Givens): the margins grow with D.
    for (Metric metric : kAllMetrics) {
        auto box = make_quantizer(GetParam(), 768, metric, 77);
        std::vector<float> x = gaussian_vectors(60, 768, 78);
        std::vector<float> decoded(768);
        std::vector<std::uint8_t> code(box->q().code_size());
        for (std::size_t k = 30; k < 60; k++) {  // decoded points
            box->q().encode(&x[k * 768], code.data(), box->work.data());
            box->q().decode(code.data(), &x[k * 768], box->work.data());
        }
        std::vector<std::uint8_t> codes = box->encode_all(x);
        DistanceComputer *dc = box->computer();
        std::size_t violations = 0;
        for (std::size_t j = 0; j < 60; j++) {
            dc->set_query(&x[j * 768]);  // q = x for every j: exact 0 for L2
            for (std::size_t k = 0; k < 60; k++) {
                float bound = dc->lower_bound(&codes[k * box->q().code_size()]);
                double exact = exact_distance(kScalarKernels, metric, &x[j * 768], &x[k * 768], 768);
                violations += !(bound <= exact);
            }
        }
        EXPECT_EQ(violations, 0u) << metric_name(metric);
    }
}

TEST_P(QuantBoundsTest, TinyDimensions)
{
    // d = 1 .. 9: mostly padding (D = 8 or 16).
    for (std::size_t d = 1; d <= 9; d++)
        for (Metric metric : kAllMetrics) {
            auto box = make_quantizer(GetParam(), d, metric, 90 + d);
            std::vector<float> x = gaussian_vectors(50, d, 91 + d);
            std::vector<std::uint8_t> codes = box->encode_all(x);
            DistanceComputer *dc = box->computer();
            for (std::size_t j = 0; j < 50; j++) {
                dc->set_query(&x[j * d]);
                for (std::size_t k = 0; k < 50; k++) {
                    float bound = dc->lower_bound(&codes[k * box->q().code_size()]);
                    double exact = exact_distance(kScalarKernels, metric, &x[j * d], &x[k * d], d);
                    ASSERT_LE(bound, exact) << metric_name(metric) << ", d = " << d;
                }
            }
        }
}

INSTANTIATE_TEST_SUITE_P(AllQuantizers, QuantBoundsTest, ::testing::ValuesIn(kAllKinds),
                         [](const ::testing::TestParamInfo<Kind> &p) { return std::string(kind_name(p.param)); });

}  // namespace
}  // namespace vecdb

// round_down / round_up are the float nearest a double on the named side:
// std::nextafter's answer wherever the cast rounded the wrong way, across
// signs, zeros, subnormals, the overflow edge and infinities.
TEST(QuantRounding, MatchesNextafter)
{
    auto reference_down = [](double v) {
        float f = static_cast<float>(v);
        return static_cast<double>(f) > v ? std::nextafter(f, -INFINITY) : f;
    };
    auto reference_up = [](double v) {
        float f = static_cast<float>(v);
        return static_cast<double>(f) < v ? std::nextafter(f, INFINITY) : f;
    };
    std::vector<double> values = {0.0, -0.0, 1e-50, -1e-50, 1e-40, -1e-40, 1.0 / 3, -1.0 / 3,
                                  static_cast<double>(FLT_MAX) * (1 + 1e-12), -static_cast<double>(FLT_MAX) * (1 + 1e-12),
                                  1e300, -1e300, INFINITY, -INFINITY, static_cast<double>(FLT_MIN) / 3};
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
    std::uniform_int_distribution<int> exponent(-160, 140);
    for (int i = 0; i < 100000; i++)
        values.push_back(std::ldexp(mantissa(rng), exponent(rng)));
    for (double v : values) {
        const float down = vecdb::round_down(v), up = vecdb::round_up(v);
        EXPECT_EQ(down, reference_down(v)) << v;
        EXPECT_EQ(up, reference_up(v)) << v;
        EXPECT_EQ(std::signbit(down), std::signbit(reference_down(v))) << v;
        EXPECT_LE(static_cast<double>(down), v);
        EXPECT_GE(static_cast<double>(up), v);
    }
}
