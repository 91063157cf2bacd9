/*
 * bit_code.h -- the 'bit' code: a bit column's bits as they are, one bit a
 * dimension, for the indexes of bit_hamming_ops and bit_jaccard_ops.
 *
 * Those opclasses index a bit(n) value as its 0/1 vector (bit_to_vector), on
 * which Hamming distance is the squared L2 distance (Metric::L2) and Jaccard
 * distance is Metric::Jaccard.  Bit i of the code is 1 where x_i > 0.5, so a
 * 0/1 vector is stored exactly in 1/32 of its fp32 size, and both distances
 * come from population counts of the two bit strings: exact integers (and
 * Jaccard's quotient of them), so lower_bound() == distance() == the SQL
 * operator's value.  Other inputs are still encoded, but such a code bounds
 * nothing: its r is +inf (quantizer.h), and its lower bound -inf.
 *
 * A query that is not a 0/1 vector (no SQL path makes one) is scored exactly
 * from its floats: |q - b|^2 = |q|^2 - 2 sum_{b_i = 1} q_i + |b|, and for
 * Jaccard dot = sum_{b_i = 1} q_i; its bounds give up 2 (d + 4) 2^-24 of the
 * terms' magnitudes for the operator's float sums (codec.cpp).
 *
 * Code layout:
 *   [0, 4)            r: 0 for a 0/1 vector, +inf otherwise (float32)
 *   [4, 4 + ceil(d/8)) bit 8 j + i of the vector is bit i of byte j; the
 *                     padding bits of the last byte are 0
 * Metrics: L2 (Hamming) and Jaccard only; others throw InvalidParameter.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "quantizer.h"

namespace vecdb {

class BitQuantizer final : public Quantizer {
public:
    BitQuantizer(std::size_t dim, Metric metric);

    static constexpr std::size_t kHeaderBytes = 4;
    std::size_t bit_bytes() const { return (dim_ + 7) / 8; }

    std::size_t code_size() const override { return kHeaderBytes + bit_bytes(); }
    std::size_t work_floats() const override { return 0; }
    std::size_t residual_offset() const override { return 0; }
    void encode(const float *x, std::uint8_t *code, float *work) const override;
    void decode(const std::uint8_t *code, float *x, float *work) const override;
    std::size_t distance_computer_bytes() const override;
    DistanceComputer *distance_computer(void *memory) const override;
};

class BitDistanceComputer final : public DistanceComputer {
public:
    BitDistanceComputer(const BitQuantizer *quantizer, float *query, std::uint8_t *query_bits);

    void set_query(const float *q) override;
    float distance(const std::uint8_t *code) const override;
    float lower_bound(const std::uint8_t *code) const override;
    float distance_and_bound(const std::uint8_t *code, float *lower_bound) const override;
    float symmetric(const std::uint8_t *a, const std::uint8_t *b) const override;

    /// The exact distance as a double (what lower_bound() rounds down).
    double exact(const std::uint8_t *code) const;

private:
    /// The metric's value from the dot, the query's |q|^2 and the code's |b|.
    double from_sums(double dot, double query_norm2, double code_count) const;

    const BitQuantizer *quantizer_;
    float *query_;              ///< the query's floats (a query that is not 0/1)
    std::uint8_t *query_bits_;  ///< the query's bits (a 0/1 query)
    double query_norm2_;        ///< |q|^2
    double query_abs_;          ///< sum |q_i|: the scale of a non-0/1 query's rounding
    bool binary_query_;         ///< q is a 0/1 vector: counts are exact
};

static_assert(std::is_trivially_destructible_v<BitQuantizer>, "lives in PostgreSQL memory");
static_assert(std::is_trivially_destructible_v<BitDistanceComputer>, "lives in PostgreSQL memory");

}  // namespace vecdb
