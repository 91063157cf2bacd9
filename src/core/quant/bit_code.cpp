/*
 * bit_code.cpp -- the 'bit' code (bit_code.h).
 */
#include "bit_code.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <new>

#include "../simd/distance.h"

#include "../core_only.h"

namespace vecdb {

namespace {

/// The largest float not above v.
float round_down(double v)
{
    float f = static_cast<float>(v);
    if (static_cast<double>(f) > v)
        f = std::nextafter(f, -std::numeric_limits<float>::infinity());
    return f;
}

const std::uint8_t *bits_of(const std::uint8_t *code) { return code + BitQuantizer::kHeaderBytes; }

float residual_of(const std::uint8_t *code)
{
    float r;
    std::memcpy(&r, code, sizeof(r));
    return r;
}

}  // namespace

BitQuantizer::BitQuantizer(std::size_t dim, Metric metric) : Quantizer(dim, metric, ExactCode{})
{
    if (metric != Metric::L2 && metric != Metric::Jaccard)
        throw Error(ErrorKind::InvalidParameter, "the bit code supports only Hamming (L2) and Jaccard distance");
}

void BitQuantizer::encode(const float *x, std::uint8_t *code, float *) const
{
    // A byte at a time in a register, and no early exit from the 0/1 test:
    // the loop vectorizes (a bit index build spent a fifth of its time here
    // setting one bit at a time in memory).
    std::uint8_t *bits = code + kHeaderBytes;
    std::memset(bits, 0, bit_bytes());
    unsigned other = 0;  // any value other than 0 or 1
    for (std::size_t base = 0; base < dim_; base += 8) {
        const std::size_t n = dim_ - base < 8 ? dim_ - base : 8;
        unsigned byte = 0;
        for (std::size_t k = 0; k < n; k++) {
            const float v = x[base + k];
            byte |= unsigned(v > 0.5f) << k;
            other |= unsigned(v != 0.0f) & unsigned(v != 1.0f);
        }
        bits[base / 8] = std::uint8_t(byte);
    }
    const float r = other == 0 ? 0.0f : std::numeric_limits<float>::infinity();
    std::memcpy(code, &r, sizeof(r));
}

void BitQuantizer::decode(const std::uint8_t *code, float *x, float *) const
{
    const std::uint8_t *bits = bits_of(code);
    for (std::size_t i = 0; i < dim_; i++)
        x[i] = float((bits[i / 8] >> (i % 8)) & 1u);
}

std::size_t BitQuantizer::distance_computer_bytes() const
{
    return align8(sizeof(BitDistanceComputer)) + align8(dim_ * sizeof(float)) + bit_bytes();
}

DistanceComputer *BitQuantizer::distance_computer(void *memory) const
{
    auto *base = static_cast<unsigned char *>(memory);
    auto *query = reinterpret_cast<float *>(base + align8(sizeof(BitDistanceComputer)));
    auto *query_bits = base + align8(sizeof(BitDistanceComputer)) + align8(dim_ * sizeof(float));
    return new (memory) BitDistanceComputer(this, query, query_bits);
}

// --- distance computer -------------------------------------------------------

BitDistanceComputer::BitDistanceComputer(const BitQuantizer *quantizer, float *query, std::uint8_t *query_bits)
    : quantizer_(quantizer), query_(query), query_bits_(query_bits), query_norm2_(0.0), query_abs_(0.0),
      binary_query_(false)
{
}

void BitDistanceComputer::set_query(const float *q)
{
    const std::size_t dim = quantizer_->dim();
    std::memcpy(query_, q, dim * sizeof(float));
    std::memset(query_bits_, 0, quantizer_->bit_bytes());
    binary_query_ = true;
    query_norm2_ = query_abs_ = 0.0;
    for (std::size_t i = 0; i < dim; i++) {
        if (q[i] > 0.5f)
            query_bits_[i / 8] |= std::uint8_t(1u << (i % 8));
        binary_query_ = binary_query_ && (q[i] == 0.0f || q[i] == 1.0f);
        query_norm2_ += double(q[i]) * q[i];
        query_abs_ += std::fabs(double(q[i]));
    }
}

double BitDistanceComputer::from_sums(double dot, double query_norm2, double code_count) const
{
    if (quantizer_->metric() == Metric::Jaccard)
        return jaccard_from_sums(dot, query_norm2, code_count);
    return query_norm2 - 2.0 * dot + code_count;  // |q - b|^2, b_i^2 = b_i
}

double BitDistanceComputer::exact(const std::uint8_t *code) const
{
    const std::uint8_t *bits = bits_of(code);
    const std::size_t bytes = quantizer_->bit_bytes();
    const DistanceKernels &kernels = distance_kernels();
    if (binary_query_) {
        if (quantizer_->metric() == Metric::L2)
            return double(kernels.hamming(query_bits_, bits, bytes));
        const BitCounts counts = kernels.bit_counts(query_bits_, bits, bytes);
        return jaccard_from_sums(double(counts.both), double(counts.a), double(counts.b));
    }
    double dot = 0.0, count = 0.0;
    for (std::size_t i = 0; i < quantizer_->dim(); i++)
        if ((bits[i / 8] >> (i % 8)) & 1u) {
            dot += query_[i];
            count += 1.0;
        }
    return from_sums(dot, query_norm2_, count);
}

float BitDistanceComputer::distance(const std::uint8_t *code) const { return rank_float(exact(code)); }

float BitDistanceComputer::lower_bound(const std::uint8_t *code) const
{
    float bound;
    distance_and_bound(code, &bound);
    return bound;
}

float BitDistanceComputer::distance_and_bound(const std::uint8_t *code, float *lower_bound) const
{
    const double value = exact(code);
    if (residual_of(code) != 0.0f)
        *lower_bound = -std::numeric_limits<float>::infinity();  // not a 0/1 vector: bounds nothing
    else if (binary_query_)
        *lower_bound = round_down(value);  // integer counts: exact
    else if (quantizer_->metric() == Metric::L2)
        // The operator's float sum of non-negative terms is within
        // 2 (d + 4) 2^-24 of their sum (codec.cpp); ours, in double, of
        // |q|^2 + 2 sum |q_i| + |b| (at most d) by far less.
        *lower_bound = round_down(value - 2.0 * double(quantizer_->dim() + 4) * 0x1p-24 *
                                              (value + query_norm2_ + 2.0 * query_abs_ + double(quantizer_->dim())));
    else
        *lower_bound = -std::numeric_limits<float>::infinity();  // Jaccard of a non-0/1 query: no SQL makes one
    return rank_float(value);
}

float BitDistanceComputer::symmetric(const std::uint8_t *a, const std::uint8_t *b) const
{
    const DistanceKernels &kernels = distance_kernels();
    const std::size_t bytes = quantizer_->bit_bytes();
    if (quantizer_->metric() == Metric::L2)
        return float(kernels.hamming(bits_of(a), bits_of(b), bytes));
    const BitCounts counts = kernels.bit_counts(bits_of(a), bits_of(b), bytes);
    return float(jaccard_from_sums(double(counts.both), double(counts.a), double(counts.b)));
}

}  // namespace vecdb
