/*
 * quant_test_util.h -- data generators, exact reference distances and a
 * uniform way to build every quantizer, shared by the quant_*_test.cpp files.
 *
 * Test data is seeded splitmix64 output.  Gaussian data goes through libm
 * (Box-Muller), which is fine for statistics; golden-value tests use
 * dyadic_vector() instead, whose values are exact on every platform.
 */
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "../../src/core/quant/binary.h"
#include "../../src/core/quant/e8.h"
#include "../../src/core/quant/h4.h"
#include "../../src/core/quant/quantizer.h"
#include "../../src/core/splitmix64.h"
#include "../../src/core/quant/sq8.h"
#include "../../src/core/simd/distance.h"

namespace vecdb {
namespace quant_test {

inline double gaussian(SplitMix64 &rng)
{
    double u1 = (static_cast<double>(rng.next() >> 11) + 0.5) * 0x1.0p-53;
    double u2 = rng.next_double();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

inline std::vector<float> gaussian_vectors(std::size_t n, std::size_t d, std::uint64_t seed, double scale = 1.0)
{
    SplitMix64 rng(seed);
    std::vector<float> x(n * d);
    for (float &v : x)
        v = static_cast<float>(scale * gaussian(rng));
    return x;
}

/// Values k / 256, k in [-512, 512): exact in float, no libm.
inline std::vector<float> dyadic_vector(std::size_t d, std::uint64_t seed)
{
    SplitMix64 rng(seed);
    std::vector<float> x(d);
    for (float &v : x)
        v = static_cast<float>(static_cast<int>(rng.next() >> 54) - 512) / 256.0f;
    return x;
}

/// The value the SQL operator computes from fp32 vectors (simd/distance.h).
inline double exact_distance(const DistanceKernels &k, Metric metric, const float *q, const float *x, std::size_t d)
{
    switch (metric) {
    case Metric::L2:
        return k.l2_squared(q, x, d);
    case Metric::InnerProduct:
        return -static_cast<double>(k.dot(q, x, d));
    case Metric::Cosine: {
        CosineSums s = k.cosine_sums(q, x, d);
        double similarity = static_cast<double>(s.dot) / std::sqrt(static_cast<double>(s.norm_a) * s.norm_b);
        similarity = std::fmax(-1.0, std::fmin(1.0, similarity));
        return 1.0 - similarity;
    }
    case Metric::L1:
        return k.l1(q, x, d);
    case Metric::Jaccard:  // no quantizer supports it
        break;
    }
    return 0.0;
}

inline const char *metric_name(Metric m)
{
    switch (m) {
    case Metric::L2:
        return "L2";
    case Metric::InnerProduct:
        return "IP";
    case Metric::Cosine:
        return "cosine";
    case Metric::L1:
        return "L1";
    case Metric::Jaccard:
        return "Jaccard";
    }
    return "?";
}

enum class Kind { E8P, Residual4, H4, SQ8, Binary };

inline const char *kind_name(Kind k)
{
    switch (k) {
    case Kind::E8P:
        return "E8P";
    case Kind::Residual4:
        return "E8Residual4";
    case Kind::H4:
        return "H4";
    case Kind::SQ8:
        return "SQ8";
    case Kind::Binary:
        return "Binary";
    }
    return "?";
}

/// Test names and failure messages show the quantizer's name.
inline void PrintTo(Kind k, std::ostream *os) { *os << kind_name(k); }

constexpr Kind kAllKinds[] = {Kind::E8P, Kind::Residual4, Kind::H4, Kind::SQ8, Kind::Binary};
constexpr Metric kAllMetrics[] = {Metric::L2, Metric::InnerProduct, Metric::Cosine};

/// A quantizer with the memory it needs, as a test (not a backend) owns it.
struct QuantizerBox {
    std::vector<float> ranges;  ///< SQ8's caller memory
    std::unique_ptr<E8Quantizer> e8;
    std::unique_ptr<H4Quantizer> h4;
    std::unique_ptr<SQ8Quantizer> sq8;
    std::unique_ptr<BinaryQuantizer> binary;
    Quantizer *quantizer = nullptr;
    std::vector<float> work;
    std::vector<unsigned char> computer_memory;

    Quantizer &q() { return *quantizer; }

    std::vector<std::uint8_t> encode_all(const std::vector<float> &x)
    {
        std::size_t d = quantizer->dim(), n = x.size() / d, size = quantizer->code_size();
        std::vector<std::uint8_t> codes(n * size);
        for (std::size_t i = 0; i < n; i++)
            quantizer->encode(&x[i * d], &codes[i * size], work.data());
        return codes;
    }

    DistanceComputer *computer()
    {
        computer_memory.assign(quantizer->distance_computer_bytes(), 0);
        return quantizer->distance_computer(computer_memory.data());
    }
};

/// kind over dim, trained (SQ8) on `train` (n x dim floats) when given.
inline std::unique_ptr<QuantizerBox> make_quantizer(Kind kind, std::size_t dim, Metric metric, std::uint64_t seed,
                                                    const std::vector<float> &train = {})
{
    auto box = std::make_unique<QuantizerBox>();
    switch (kind) {
    case Kind::E8P:
        box->e8 = std::make_unique<E8Quantizer>(dim, metric, seed, E8Quantizer::Mode::E8P);
        box->quantizer = box->e8.get();
        break;
    case Kind::Residual4:
        box->e8 = std::make_unique<E8Quantizer>(dim, metric, seed, E8Quantizer::Mode::Residual4);
        box->quantizer = box->e8.get();
        break;
    case Kind::H4:
        box->h4 = std::make_unique<H4Quantizer>(dim, metric, seed);
        box->quantizer = box->h4.get();
        break;
    case Kind::SQ8:
        box->ranges.assign(2 * dim, 0.0f);
        box->sq8 = std::make_unique<SQ8Quantizer>(dim, metric, box->ranges.data());
        box->quantizer = box->sq8.get();
        break;
    case Kind::Binary:
        box->binary = std::make_unique<BinaryQuantizer>(dim, metric, seed);
        box->quantizer = box->binary.get();
        break;
    }
    box->work.assign(box->quantizer->work_floats(), 0.0f);
    if (box->quantizer->needs_training()) {
        std::vector<float> sample = train.empty() ? gaussian_vectors(1000, dim, seed ^ 0x7A11) : train;
        box->quantizer->train(sample.size() / dim, sample.data(), box->work.data());
    }
    return box;
}

}  // namespace quant_test
}  // namespace vecdb
