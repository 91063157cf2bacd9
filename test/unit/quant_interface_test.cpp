/*
 * quant_interface_test.cpp -- the quantizer interface (quantizer.h) as a
 * caller sees it: sizes, memory rules, the equivalence of the distance
 * computer's entry points, estimate quality against exact distances, the
 * symmetric distance, and SQ8's training.
 */
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/error.h"
#include "../../src/core/quant/e8p_codebook.h"
#include "quant_test_util.h"

namespace vecdb {
namespace {

using namespace quant_test;

static_assert(std::is_trivially_destructible_v<E8Quantizer> && std::is_trivially_destructible_v<H4Quantizer> &&
                  std::is_trivially_destructible_v<SQ8Quantizer> && std::is_trivially_destructible_v<BinaryQuantizer>,
              "quantizers live in PostgreSQL memory");
static_assert(!std::is_destructible_v<Quantizer> && !std::is_destructible_v<DistanceComputer>,
              "never destroyed through the interface");

TEST(QuantInterfaceTest, CodeSizes)
{
    // 12-byte header, then the payload.
    EXPECT_EQ(make_quantizer(Kind::E8P, 128, Metric::L2, 1)->q().code_size(), 12u + 32u);
    EXPECT_EQ(make_quantizer(Kind::Residual4, 128, Metric::L2, 1)->q().code_size(), 12u + 64u);
    EXPECT_EQ(make_quantizer(Kind::H4, 128, Metric::L2, 1)->q().code_size(), 12u + 32u);
    EXPECT_EQ(make_quantizer(Kind::SQ8, 128, Metric::L2, 1)->q().code_size(), 12u + 128u);
    EXPECT_EQ(make_quantizer(Kind::Binary, 128, Metric::L2, 1)->q().code_size(), 12u + 16u);
    // Padding: d = 100 is coded as D = 104 rotated coordinates.
    EXPECT_EQ(make_quantizer(Kind::E8P, 100, Metric::L2, 1)->q().code_size(), 12u + 26u);
    EXPECT_EQ(make_quantizer(Kind::H4, 100, Metric::L2, 1)->q().code_size(), 12u + 26u);
    EXPECT_EQ(make_quantizer(Kind::Binary, 100, Metric::L2, 1)->q().code_size(), 12u + 13u);
}

TEST(QuantInterfaceTest, EntryPointsAgree)
{
    const std::size_t d = 72;
    std::vector<float> x = gaussian_vectors(40, d, 1), q = gaussian_vectors(5, d, 2);
    for (Kind kind : kAllKinds)
        for (Metric metric : kAllMetrics) {
            auto box = make_quantizer(kind, d, metric, 3);
            std::vector<std::uint8_t> codes = box->encode_all(x);
            const std::size_t size = box->q().code_size();
            // Computer memory only 8-byte aligned, as palloc gives.
            std::vector<unsigned char> memory(box->q().distance_computer_bytes() + 8);
            DistanceComputer *dc = box->q().distance_computer(memory.data() + 8);
            for (std::size_t j = 0; j < 5; j++) {
                dc->set_query(&q[j * d]);
                for (std::size_t k = 0; k + 4 <= 40; k += 4) {
                    const std::uint8_t *four[4] = {&codes[k * size], &codes[(k + 1) * size], &codes[(k + 2) * size],
                                                   &codes[(k + 3) * size]};
                    float batch[4];
                    dc->distance_batch4(four, batch);
                    for (int i = 0; i < 4; i++) {
                        float bound;
                        float both = dc->distance_and_bound(four[i], &bound);
                        ASSERT_EQ(both, dc->distance(four[i])) << kind_name(kind);
                        ASSERT_EQ(bound, dc->lower_bound(four[i])) << kind_name(kind);
                        ASSERT_EQ(batch[i], both) << kind_name(kind);
                    }
                }
                // A page of codes at once: each bound as lower_bound() gives it.
                std::vector<float> page(40);
                dc->lower_bounds(codes.data(), size, 40, page.data());
                for (std::size_t k = 0; k < 40; k++)
                    ASSERT_EQ(page[k], dc->lower_bound(&codes[k * size])) << kind_name(kind);
            }
        }
}

TEST(QuantInterfaceTest, PageBoundsOfUntrustedHeaders)
{
    // SQ8's page bounds (the ivf scan's call) have their own loop: on
    // headers a corrupt page could hold (infinities, NaN, zero and negative
    // norms, float's extremes) each bound must still be lower_bound()'s,
    // for every metric and a zero query.
    const std::size_t d = 40, n = 41;
    std::vector<float> x = gaussian_vectors(n, d, 7), q = gaussian_vectors(3, d, 8);
    const float odd[] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, -1.0f, 3.4e38f, 1e-40f, -3.4e38f};
    for (Metric metric : kAllMetrics) {
        auto box = make_quantizer(Kind::SQ8, d, metric, 9);
        std::vector<std::uint8_t> codes = box->encode_all(x);
        const std::size_t size = box->q().code_size();
        for (std::size_t k = 0; k < n; k++)  // header fields r, |x|, |u^| at 0, 4, 8
            std::memcpy(&codes[k * size + 4 * ((k / 9) % 3)], &odd[k % 9], 4);
        DistanceComputer *dc = box->computer();
        for (std::size_t j = 0; j < 3; j++) {
            std::vector<float> query(q.begin() + j * d, q.begin() + (j + 1) * d);
            if (j == 2)
                std::fill(query.begin(), query.end(), 0.0f);  // a zero query: cosine's NaN case
            dc->set_query(query.data());
            std::vector<float> page(n);
            dc->lower_bounds(codes.data(), size, n, page.data());
            for (std::size_t k = 0; k < n; k++) {
                float one = dc->lower_bound(&codes[k * size]);
                ASSERT_EQ(std::memcmp(&page[k], &one, 4), 0) << metric_name(metric) << " code " << k << ": " << page[k]
                                                             << " vs " << one;
            }
        }
    }
}

TEST(QuantInterfaceTest, ComputersAreIndependent)
{
    const std::size_t d = 64;
    std::vector<float> x = gaussian_vectors(10, d, 4), q = gaussian_vectors(2, d, 5);
    for (Kind kind : kAllKinds) {
        auto box = make_quantizer(kind, d, Metric::L2, 6);
        std::vector<std::uint8_t> codes = box->encode_all(x);
        std::vector<unsigned char> m1(box->q().distance_computer_bytes()), m2(box->q().distance_computer_bytes());
        DistanceComputer *a = box->q().distance_computer(m1.data());
        DistanceComputer *b = box->q().distance_computer(m2.data());
        a->set_query(&q[0]);
        float before = a->distance(codes.data());
        b->set_query(&q[d]);
        EXPECT_EQ(a->distance(codes.data()), before) << kind_name(kind);
        a->set_query(&q[d]);
        EXPECT_EQ(a->distance(codes.data()), b->distance(codes.data())) << kind_name(kind);
    }
}

/// sqrt(mean (estimate - exact)^2) / mean |exact| over random pairs.
double estimate_error(QuantizerBox &box, Metric metric, const std::vector<float> &x, const std::vector<float> &q,
                      std::size_t d, bool symmetric)
{
    std::vector<std::uint8_t> codes = box.encode_all(x), qcodes = box.encode_all(q);
    const std::size_t size = box.q().code_size(), nx = x.size() / d, nq = q.size() / d;
    DistanceComputer *dc = box.computer();
    double err2 = 0.0, scale = 0.0;
    for (std::size_t j = 0; j < nq; j++) {
        dc->set_query(&q[j * d]);
        for (std::size_t k = 0; k < nx; k++) {
            double exact = exact_distance(kScalarKernels, metric, &q[j * d], &x[k * d], d);
            double est = symmetric ? dc->symmetric(&qcodes[j * size], &codes[k * size]) : dc->distance(&codes[k * size]);
            err2 += (est - exact) * (est - exact);
            scale += std::fabs(exact);
        }
    }
    double n = static_cast<double>(nx * nq);
    return std::sqrt(err2 / n) / (scale / n);
}

TEST(QuantInterfaceTest, EstimatesTrackExactDistances)
{
    // Limits are about twice the measured errors (Gaussian data, d = 128).
    struct Limit {
        Kind kind;
        double asymmetric, symmetric;
    };
    const Limit limits[] = {
        {Kind::E8P, 0.06, 0.08}, {Kind::Residual4, 0.016, 0.023}, {Kind::H4, 0.06, 0.09},
        {Kind::SQ8, 0.01, 0.015}, {Kind::Binary, 0.13, 0.2},
    };
    const std::size_t d = 128;
    std::vector<float> x = gaussian_vectors(200, d, 7), q = gaussian_vectors(20, d, 8);
    for (const Limit &limit : limits)
        for (Metric metric : {Metric::L2, Metric::Cosine}) {
            auto box = make_quantizer(limit.kind, d, metric, 9);
            double asym = estimate_error(*box, metric, x, q, d, false);
            double sym = estimate_error(*box, metric, x, q, d, true);
            std::printf("[ estimate ] %-11s %-6s relative RMS error: asymmetric %.4f, symmetric %.4f\n",
                        kind_name(limit.kind), metric_name(metric), asym, sym);
            EXPECT_LT(asym, limit.asymmetric) << kind_name(limit.kind) << " " << metric_name(metric);
            EXPECT_LT(sym, limit.symmetric) << kind_name(limit.kind) << " " << metric_name(metric);
        }
}

TEST(QuantInterfaceTest, Sq8TrainsRangesInCallerMemory)
{
    const std::size_t d = 3;
    std::vector<float> ranges(2 * d, -1.0f);
    SQ8Quantizer quant(d, Metric::L2, ranges.data());
    std::vector<float> work(quant.work_floats());
    EXPECT_TRUE(quant.needs_training());
    const std::vector<float> sample = {0, 10, -5, 255, 10, 5, 51, 10, 0};
    quant.train(3, sample.data(), work.data());
    EXPECT_EQ(ranges[0], 0.0f);    // vmin
    EXPECT_EQ(ranges[1], 10.0f);
    EXPECT_EQ(ranges[2], -5.0f);
    EXPECT_EQ(ranges[3], 1.0f);    // step = (255 - 0) / 255
    EXPECT_EQ(ranges[4], 0.0f);    // constant dimension
    EXPECT_EQ(ranges[5], 10.0f / 255.0f);
    // In range: exact levels; out of range: clamped, and r says by how much.
    std::vector<std::uint8_t> code(quant.code_size());
    const float in_range[3] = {17, 10, 0}, outside[3] = {300, 12, -5};
    quant.encode(in_range, code.data(), work.data());
    EXPECT_EQ(code[12], 17);
    float r;
    std::memcpy(&r, code.data(), 4);
    EXPECT_LT(r, 0.03f);
    quant.encode(outside, code.data(), work.data());
    EXPECT_EQ(code[12], 255);
    std::memcpy(&r, code.data(), 4);
    EXPECT_NEAR(r, std::sqrt(45.0f * 45.0f + 2.0f * 2.0f), 1e-3);
    EXPECT_THROW(quant.train(0, sample.data(), work.data()), Error);
}

TEST(QuantInterfaceTest, Sq8TrainerOneRowAtATimeMatchesTrain)
{
    // An hnsw build past maintenance_work_mem feeds rows one at a time: the
    // ranges must be train()'s over the same rows, under both rules (rows
    // outside the code range skipped while some row is inside; all rows
    // when none is), and cosine's normalization.
    const std::size_t d = 24, n = 400;
    std::vector<float> rows = gaussian_vectors(n, d, 31, 2.0);
    for (std::size_t i = 0; i < d; i++) {
        rows[7 * d + i] = 3e38f;      // outside the code range: ignored
        rows[8 * d + i] = -1e-30f;    // tiny: ignored as well
        rows[9 * d + i] = 0.0f;       // zero: counts
    }
    std::vector<float> huge(3 * d);
    for (std::size_t i = 0; i < huge.size(); i++)
        huge[i] = (i % 2 ? 1e37f : -2e37f) * float(1 + i % 5);
    for (Metric metric : {Metric::L2, Metric::Cosine, Metric::InnerProduct})
        for (const std::vector<float> *sample : {&rows, &huge}) {
            const std::size_t count = sample->size() / d;
            std::vector<float> trained(2 * d), streamed(2 * d);
            SQ8Quantizer quant(d, metric, trained.data());
            std::vector<float> work(quant.work_floats()), memory(Sq8RangeTrainer::floats_needed(d));
            quant.train(count, sample->data(), work.data());
            Sq8RangeTrainer trainer(d, metric, memory.data());
            for (std::size_t v = 0; v < count; v++)
                trainer.add(sample->data() + v * d);
            EXPECT_EQ(trainer.count(), count);
            trainer.finish(streamed.data());
            for (std::size_t i = 0; i < 2 * d; i++) {
                ASSERT_TRUE(std::isfinite(streamed[i])) << metric_name(metric) << " " << i;
                EXPECT_EQ(streamed[i], trained[i]) << metric_name(metric) << " " << i;
            }
        }
    // The first rows alone give narrower ranges than all of them when the
    // data drifts with the row order (the bug the trainer fixed).
    std::vector<float> drift(n * d);
    for (std::size_t v = 0; v < n; v++)
        for (std::size_t i = 0; i < d; i++)
            drift[v * d + i] = rows[v * d + i] * 1e-3f + float(v) * 0.01f;
    std::vector<float> prefix(2 * d), all(2 * d), memory(Sq8RangeTrainer::floats_needed(d));
    Sq8RangeTrainer first(d, Metric::L2, memory.data());
    for (std::size_t v = 0; v < n / 4; v++)
        first.add(drift.data() + v * d);
    first.finish(prefix.data());
    Sq8RangeTrainer every(d, Metric::L2, memory.data());
    for (std::size_t v = 0; v < n; v++)
        every.add(drift.data() + v * d);
    every.finish(all.data());
    for (std::size_t i = 0; i < d; i++) {
        EXPECT_LT(prefix[i] + 255.0f * prefix[d + i], 1.1f);
        EXPECT_GT(all[i] + 255.0f * all[d + i], 3.9f) << "the last row's coordinate is in range";
    }
    Sq8RangeTrainer none(d, Metric::L2, memory.data());
    EXPECT_THROW(none.finish(all.data()), Error);
}

TEST(QuantInterfaceTest, H4WritesOnlyRealVertices)
{
    // Vertex numbers 120..127 fit in 7 bits but are never written.
    std::vector<float> x = gaussian_vectors(300, 64, 11, 5.0);
    auto box = make_quantizer(Kind::H4, 64, Metric::L2, 12);
    std::vector<std::uint8_t> codes = box->encode_all(x);
    const std::size_t size = box->q().code_size();
    for (std::size_t k = 0; k < 300; k++)
        for (std::size_t b = 12; b < size; b++)
            ASSERT_LT(codes[k * size + b] & 127, 120) << "vector " << k << ", byte " << b;
}

TEST(QuantInterfaceTest, ExtremeScales)
{
    // Vectors far from unit scale keep their relative distortion: the
    // per-vector scale is computed in double (1 / sigma would overflow float
    // for tiny vectors).
    std::vector<float> base = gaussian_vectors(20, 64, 13);
    for (double scale : {1e-30, 1e30}) {
        std::vector<float> x(base.size());
        for (std::size_t i = 0; i < x.size(); i++)
            x[i] = static_cast<float>(base[i] * scale);
        for (Kind kind : {Kind::E8P, Kind::Residual4, Kind::H4, Kind::Binary}) {
            auto box = make_quantizer(kind, 64, Metric::L2, 14);
            std::vector<std::uint8_t> codes = box->encode_all(x);
            for (std::size_t k = 0; k < 20; k++) {
                float header[3];
                std::memcpy(header, &codes[k * box->q().code_size()], sizeof header);
                ASSERT_TRUE(std::isfinite(header[0]) && std::isfinite(header[1])) << kind_name(kind);
                ASSERT_LT(header[1], 0.7f * header[2]) << kind_name(kind) << ", scale " << scale;
            }
        }
    }
}

TEST(QuantInterfaceTest, NonFiniteBlocksStillGetACode)
{
    // SQL vectors cannot hold NaN or infinity, but the encoders must not
    // read out of bounds if one slips through.
    const float nan = NAN, inf = INFINITY;
    const float blocks[][8] = {{nan, 0, 0, 0, 0, 0, 0, 0}, {inf, -inf, 1, 2, 3, 4, 5, 6}, {3e38f, 3e38f, -3e38f, 0, 0, 0, 0, 0}};
    for (const auto &z : blocks) {
        float out[8];
        e8p_decode_block(e8p_encode_block(z), out);  // any valid code
        for (float f : out)
            ASSERT_TRUE(std::isfinite(f));
    }
    std::vector<float> x(16, nan), ranges(32, 0.0f), work(16);
    SQ8Quantizer sq8(16, Metric::L2, ranges.data());
    std::vector<std::uint8_t> code(sq8.code_size());
    sq8.encode(x.data(), code.data(), work.data());
    for (std::size_t i = 12; i < code.size(); i++)
        ASSERT_EQ(code[i], 0);
}

TEST(QuantInterfaceTest, InvalidParameters)
{
    EXPECT_THROW(E8Quantizer(0, Metric::L2, 1, E8Quantizer::Mode::E8P), Error);
    EXPECT_THROW(E8Quantizer(8, Metric::L2, 1, static_cast<E8Quantizer::Mode>(7)), Error);
    EXPECT_THROW(H4Quantizer(0, Metric::L2, 1), Error);
    std::vector<float> ranges(2);
    EXPECT_THROW(SQ8Quantizer(0, Metric::L2, ranges.data()), Error);
}

}  // namespace
}  // namespace vecdb

// L1 is not rotation invariant, so no code can bound it: every quantizer
// refuses it when made, with the error the glue reports as 22023.
TEST(QuantInterfaceTest, L1IsRejected)
{
    float ranges[2 * 16];
    auto expect_rejected = [](auto make) {
        try {
            make();
            ADD_FAILURE() << "an L1 quantizer was made";
        } catch (const vecdb::Error &e) {
            EXPECT_EQ(e.kind(), vecdb::ErrorKind::InvalidParameter);
        }
    };
    expect_rejected([] { vecdb::E8Quantizer q(16, vecdb::Metric::L1, 1, vecdb::E8Quantizer::Mode::E8P); });
    expect_rejected([] { vecdb::H4Quantizer q(16, vecdb::Metric::L1, 1); });
    expect_rejected([] { vecdb::BinaryQuantizer q(16, vecdb::Metric::L1, 1); });
    expect_rejected([&] { vecdb::SQ8Quantizer q(16, vecdb::Metric::L1, ranges); });
}
