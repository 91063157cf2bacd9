/*
 * e8.h -- the E8 lattice quantizer: randomized Hadamard rotation, then one
 * E8P codeword (e8p_codebook.h) per 8 rotated coordinates.
 *
 *   Mode::E8P        2 bits/dim: z = u * 1.03 / sigma (sigma = |u| / sqrt D,
 *                    QuIP#'s opt_scale), c = E8P(z) per block, then the
 *                    least-squares gain alpha = <u, c> / |c|^2.  Relative
 *                    MSE r^2 / |x|^2 on N(0, 1) data: 0.089 measured
 *                    (lattice.md section 3a: 0.091).
 *   Mode::Residual4  4 bits/dim: c1 = E8P(0.90 u / sigma), rho = that - c1,
 *                    c2 = E8P(3.9 rho), c = c1 + c2 / 3.9, then one LS gain
 *                    for c: 0.0080 measured (lattice.md section 4: 0.0083,
 *                    0.0082 with both gains fitted).
 * The constants are part of the stored format: changing one needs a new
 * format version.
 *
 * Code layout (see rotated_code.h for the header):
 *   [0, 12)   gain, r, |x| (float32 each)
 *   then per 8-dim block b = 0 .. D/8 - 1, little endian:
 *     E8P:       uint16 code(b)                          (2 bytes)
 *     Residual4: uint16 stage-1 code(b), uint16 stage-2  (4 bytes)
 * 128 dims: 12 + 32 bytes (E8P), 12 + 64 bytes (Residual4).
 *
 * Scan: per block the query's 8 coordinates get the code's signs (XOR), one
 * 8-wide dot with the abs row, plus t * (sum of the 8 query coordinates,
 * precomputed per query): <q_b, s.a + t 1> = <s.q_b, a> + t S_b.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "quantizer.h"
#include "rotated_code.h"
#include "rotation.h"

namespace vecdb {

class E8Quantizer final : public RotatedQuantizer {
public:
    enum class Mode : std::uint8_t {
        E8P = 0,        ///< 16 bits per 8 dims
        Residual4 = 1,  ///< 32 bits per 8 dims
    };

    /// E8P: z = u * kScale / sigma.
    static constexpr float kScale = 1.03f;
    /// Residual4: stage 1 and stage 2 scales.
    static constexpr float kStage1Scale = 0.90f;
    static constexpr float kStage2Scale = 3.9f;
    /// 1 / kStage2Scale as the float every reconstruction uses.
    static constexpr float kStage2Inverse = static_cast<float>(1.0 / 3.9);

    E8Quantizer(std::size_t dim, Metric metric, std::uint64_t seed, Mode mode);

    Mode mode() const { return mode_; }
    std::size_t blocks() const { return rotation_.padded_dim() / 8; }
    /// Bytes of payload per 8-dim block.
    std::size_t block_bytes() const { return mode_ == Mode::E8P ? 2 : 4; }

    std::size_t code_size() const override;
    std::size_t work_floats() const override;
    void encode(const float *x, std::uint8_t *code, float *work) const override;
    std::size_t distance_computer_bytes() const override;
    DistanceComputer *distance_computer(void *memory) const override;

    /// The stage codewords of `code`: first[0, D) the E8P points, and for
    /// Residual4 second[0, D) the stage-2 points (the codeword before the
    /// gain is first + kStage2Inverse * second).
    void stage_codewords(const std::uint8_t *code, float *first, float *second) const;

    /// Bound on |c_i| (for the scan's rounding bound).
    double codeword_max() const;

private:
    void reconstruct_rotated(const std::uint8_t *code, float *u, float *work) const override;
    Mode mode_;
};

class E8DistanceComputer final : public RotatedDistanceComputer<E8DistanceComputer> {
public:
    /// state: E8DistanceComputer::state_floats(quantizer) floats.
    E8DistanceComputer(const E8Quantizer *quantizer, float *state);

    static std::size_t state_floats(const E8Quantizer &quantizer);

    void set_query(const float *q) override;
    float symmetric(const std::uint8_t *a, const std::uint8_t *b) const override;

    /// <q~, c>: the scan's dot of the rotated query with the codeword.
    float codeword_dot(const std::uint8_t *code) const;

private:
    const E8Quantizer *quantizer_;
    float *query_;       ///< q~ = R q, D floats
    float *block_sums_;  ///< S_b = sum of q~ over block b, D / 8 floats
};

static_assert(std::is_trivially_destructible_v<E8Quantizer>, "lives in PostgreSQL memory");
static_assert(std::is_trivially_destructible_v<E8DistanceComputer>, "lives in PostgreSQL memory");

}  // namespace vecdb
