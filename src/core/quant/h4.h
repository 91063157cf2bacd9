/*
 * h4.h -- the H4 (600-cell) quantizer: randomized Hadamard rotation, then per
 * 4 rotated coordinates the nearest of the 120 unit quaternions of the
 * 600-cell (cell600.h) and one bit of gain (lattice.md section 5).
 *
 * Per block u_b: v = argmax <u_b, v> (the direction), g = <u_b, v>; the gain
 * bit picks the nearer of two levels kLevels[0..1] * sigma (sigma =
 * |u| / sqrt D), the 1-bit Lloyd-Max quantizer of g / sigma for Gaussian
 * blocks (g / sigma is chi_4 times the cosine to the nearest vertex).  Then
 * one least-squares gain over the whole vector: u^ = alpha c with
 * c_b = kLevels[bit] v.
 *
 * Gain schemes measured here (relative MSE r^2 / |x|^2 of N(0, 1) vectors,
 * d = 128, with the rotation and the LS gain; lattice.md section 5 has
 * 0.174 / 0.107 / 0.081):
 *   one per-vector gain, 7 bits/block (1.75 bits/dim)   0.175
 *   7-bit vertex + 1-bit Lloyd gain (2 bits/dim)        0.105  <- this format
 *   7-bit vertex + 2-bit Lloyd gain (2.25 bits/dim)     0.080
 * At 2 bits/dim E8P distorts less (0.089); H4's appeal is its scan: one
 * 4-float table row per block, no sign or shift decoding (quant_eval).
 *
 * Code layout (see rotated_code.h for the header):
 *   [0, 12)   gain, r, |x| (float32 each)
 *   then one byte per 4-dim block: bits 0..6 vertex index (0..119; 120..127
 *   are never written and decode to 0), bit 7 the gain level.
 * 128 dims: 12 + 32 bytes.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "quantizer.h"
#include "rotated_code.h"
#include "rotation.h"

namespace vecdb {

class H4Quantizer final : public RotatedQuantizer {
public:
    /// Block gain levels in units of sigma (part of the stored format).
    static constexpr float kLevels[2] = {1.35629f, 2.42822f};

    H4Quantizer(std::size_t dim, Metric metric, std::uint64_t seed);

    std::size_t blocks() const { return rotation_.padded_dim() / 4; }

    std::size_t code_size() const override;
    std::size_t work_floats() const override;
    void encode(const float *x, std::uint8_t *code, float *work) const override;
    std::size_t distance_computer_bytes() const override;
    DistanceComputer *distance_computer(void *memory) const override;

    /// c[0, D) := the codeword of `code` before the gain.
    void codeword(const std::uint8_t *code, float *c) const;

    /// The 4 coordinates block byte `b` decodes to (level times vertex).
    static const float *block_point(std::uint8_t b);

private:
    void reconstruct_rotated(const std::uint8_t *code, float *u, float *work) const override;
};

class H4DistanceComputer final : public RotatedDistanceComputer<H4DistanceComputer> {
public:
    H4DistanceComputer(const H4Quantizer *quantizer, float *state);

    static std::size_t state_floats(const H4Quantizer &quantizer);

    void set_query(const float *q) override;
    float symmetric(const std::uint8_t *a, const std::uint8_t *b) const override;

    /// <q~, c> for the codeword of `code`.
    float codeword_dot(const std::uint8_t *code) const;

private:
    const H4Quantizer *quantizer_;
    float *query_;  ///< q~ = R q, D floats
};

static_assert(std::is_trivially_destructible_v<H4Quantizer>, "lives in PostgreSQL memory");
static_assert(std::is_trivially_destructible_v<H4DistanceComputer>, "lives in PostgreSQL memory");

}  // namespace vecdb
