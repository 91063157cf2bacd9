/*
 * binary.h -- 1 bit per rotated dimension: the sign of each coordinate of
 * u = R x (RaBitQ's code; Gao & Long, SIGMOD 2024), with a least-squares
 * gain.
 *
 * c = sign(u) in {-1, +1}^D, alpha = <u, c> / D = |u|_1 / D, u^ = alpha c.
 * The distance estimate rescales <q~, u^> by |x|^2 / |u^|^2, which is
 * RaBitQ's unbiased estimator <q~, c> |u|^2 / |u|_1 (lattice.md section 6);
 * the guaranteed bound is the same as for every rotated code (bounds.h),
 * wide because r^2 / |x|^2 is about 1 - 2/pi = 0.36 for Gaussian data.
 *
 * Code layout (see rotated_code.h for the header):
 *   [0, 12)         gain, r, |x| (float32 each)
 *   [12, 12 + D/8)  bit 8 j + i of the sign string is bit i of byte j; a set
 *                   bit means the coordinate is negative.
 * 128 dims: 12 + 16 bytes.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "quantizer.h"
#include "rotated_code.h"
#include "rotation.h"

namespace vecdb {

class BinaryQuantizer final : public RotatedQuantizer {
public:
    BinaryQuantizer(std::size_t dim, Metric metric, std::uint64_t seed);

    std::size_t sign_bytes() const { return rotation_.padded_dim() / 8; }

    std::size_t code_size() const override;
    std::size_t work_floats() const override;
    void encode(const float *x, std::uint8_t *code, float *work) const override;
    std::size_t distance_computer_bytes() const override;
    DistanceComputer *distance_computer(void *memory) const override;

private:
    void reconstruct_rotated(const std::uint8_t *code, float *u, float *work) const override;
};

class BinaryDistanceComputer final : public RotatedDistanceComputer<BinaryDistanceComputer> {
public:
    BinaryDistanceComputer(const BinaryQuantizer *quantizer, float *state);

    static std::size_t state_floats(const BinaryQuantizer &quantizer) { return quantizer.rotation().padded_dim(); }

    void set_query(const float *q) override;
    float symmetric(const std::uint8_t *a, const std::uint8_t *b) const override;

    /// <q~, c> = sum of q~_i with the code's signs.
    float codeword_dot(const std::uint8_t *code) const;

private:
    const BinaryQuantizer *quantizer_;
    float *query_;  ///< q~ = R q, D floats
};

static_assert(std::is_trivially_destructible_v<BinaryQuantizer>, "lives in PostgreSQL memory");
static_assert(std::is_trivially_destructible_v<BinaryDistanceComputer>, "lives in PostgreSQL memory");

}  // namespace vecdb
