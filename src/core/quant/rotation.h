/*
 * rotation.h -- the seeded randomized Hadamard rotation applied to every
 * vector before it is quantized (lattice.md section 1, option (c)).
 *
 * Rotating spreads each vector's energy evenly over the coordinates, so a
 * fixed codebook per 8- or 4-dim block and a single per-vector scale fit
 * every block (no outlier coordinates), and rotation keeps L2 distances and
 * inner products: quantizers work entirely in the rotated space.
 *
 * Shape: the input (dim d) is zero-padded to D = padded_dims(d), a multiple
 * of 8.  With K = 2^floor(log2 D), four rounds of
 *   1. multiply by random signs (splitmix64, see sign_word);
 *   2. normalized Walsh-Hadamard transform on coords [0, K) in rounds 1 and
 *      3, on [D - K, D) in rounds 2 and 4;
 *   3. unless D == K, a pi/4 Givens rotation of each pair (i, i + D/2),
 *      i < D/2 (the "Kac's walk" step that mixes what the Hadamard missed),
 * as in VectorChord crates/rabitq/src/rotate.rs and RaBitQ-Library's FHT +
 * Kac's walk rotator.  Every step is orthogonal, so R^-1 = R^T.
 *
 * Spreading: for D a power of two every coordinate of R e_j is a random-
 * signed sum, sub-Gaussian with variance 1/D.  Otherwise four rounds leave
 * some one-hot inputs partly concentrated (largest coordinate of the worst
 * e_j: 0.49 at d = 100, 0.32 at d = 768; quant_rotation_test), which costs
 * little on average: E8P relative MSE of one-hot inputs 0.090 (d = 100) and
 * 0.103 (d = 768) against 0.088 (d = 128).
 *
 * State is four integers and the seed: the signs are recomputed from
 * splitmix64 on the fly, so a Rotation is trivially destructible and can
 * live in palloc'd memory or on the stack of a PostgreSQL backend.
 *
 * Rounding: in float, |fl(Rv) - Rv| <= error_bound() * |v| (each butterfly
 * level, scale and Givens step adds at most one rounding of the norm); the
 * quantizers' guaranteed distance bounds use that figure.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace vecdb {

/// The padded dimension D: d rounded up to a multiple of 8 (at least 8).
std::size_t padded_dims(std::size_t d);

class Rotation {
public:
    /// Rounds of {sign flip, Hadamard, Givens}; part of the stored format.
    static constexpr int kRounds = 4;

    /// dim >= 1: the caller's dimension d; seed: kept in the index metapage.
    Rotation(std::size_t dim, std::uint64_t seed);

    std::size_t dim() const { return dim_; }
    std::size_t padded_dim() const { return padded_; }
    /// K = 2^floor(log2 D): the length of each Hadamard transform.
    std::size_t hadamard_dim() const { return hadamard_; }
    std::uint64_t seed() const { return seed_; }

    /// v[0, D) := R v, in place.
    void forward(float *v) const;
    /// v[0, D) := R^-1 v, in place.
    void inverse(float *v) const;
    /// The same rotation in double precision (reference for tests and for
    /// measuring the float rounding).
    void forward(double *v) const;
    void inverse(double *v) const;

    /// out[0, D) := R (x[0, d) zero-padded to D).  x and out must not overlap.
    void forward_padded(const float *x, float *out) const;

    /// epsilon_R: |fl(R v) - R v| <= epsilon_R * |v| for the float forward().
    /// Four rounds of (log2 K levels + scale + Givens) roundings, doubled.
    double error_bound() const;

    /// 64 signs of round `round` (0..3) for coords [64 w, 64 w + 64): bit j
    /// set means coordinate 64 w + j is negated.  Output round * W + w of the
    /// splitmix64 stream, W = ceil(D / 64) (lattice.md section 9).
    std::uint64_t sign_word(int round, std::size_t w) const;

private:
    template <typename T>
    void forward_impl(T *v) const;
    template <typename T>
    void inverse_impl(T *v) const;
    template <typename T>
    void flip_signs(T *v, int round) const;
    template <typename T>
    void hadamard(T *v) const;
    template <typename T>
    void givens(T *v) const;
    template <typename T>
    void givens_inverse(T *v) const;

    std::size_t dim_;
    std::size_t padded_;
    std::size_t hadamard_;
    int log2_hadamard_;
    std::uint64_t seed_;
};

static_assert(std::is_trivially_destructible_v<Rotation>, "Rotation lives in PostgreSQL memory");

}  // namespace vecdb
