/*
 * rotation.cpp -- randomized Hadamard rotation: sign flips from splitmix64,
 * in-place fast Walsh-Hadamard transforms and pi/4 Givens steps (see
 * rotation.h for the shape and lattice.md section 1 for why).
 *
 * The float path fixes its constants (1/sqrt(K), 1/sqrt(2)) as floats and
 * its operation order, so the rotated values -- and therefore the codes --
 * are the same on every platform (deterministic_fp.h: no FMA contraction).
 */
#include "rotation.h"

#include <cmath>
#include <cstring>

#include "../error.h"
#include "simd_vec.h"
#include "../splitmix64.h"

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

std::size_t padded_dims(std::size_t d)
{
    std::size_t padded = (d + 7) / 8 * 8;
    return padded < 8 ? 8 : padded;
}

Rotation::Rotation(std::size_t dim, std::uint64_t seed) : dim_(dim), padded_(0), hadamard_(1), log2_hadamard_(0), seed_(seed)
{
    if (dim == 0)
        throw Error(ErrorKind::InvalidParameter, "rotation dimension must be at least 1");
    padded_ = padded_dims(dim);
    while (hadamard_ * 2 <= padded_) {
        hadamard_ *= 2;
        log2_hadamard_++;
    }
}

std::uint64_t Rotation::sign_word(int round, std::size_t w) const
{
    std::size_t words_per_round = (padded_ + 63) / 64;
    return splitmix64_at(seed_, static_cast<std::uint64_t>(round) * words_per_round + w);
}

double Rotation::error_bound() const
{
    // Per round: log2 K butterfly levels, the 1/sqrt(K) scale (constant and
    // product), and the Givens step (difference, constant and product).
    const double u = 0x1.0p-24;
    return 2.0 * kRounds * (log2_hadamard_ + 2 + 3) * u;
}

namespace {

template <typename T>
constexpr T inv_sqrt2();
template <>
constexpr float inv_sqrt2<float>() { return 0.70710678118654752440f; }
template <>
constexpr double inv_sqrt2<double>() { return 0.70710678118654752440; }

/// x with its sign bit flipped when `flip` is 1: the random signs would
/// make a branch mispredict half the time.
inline float flip_sign(float x, std::uint64_t flip)
{
    std::uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    bits ^= static_cast<std::uint32_t>(flip) << 31;
    std::memcpy(&x, &bits, sizeof bits);
    return x;
}

inline double flip_sign(double x, std::uint64_t flip)
{
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    bits ^= flip << 63;
    std::memcpy(&x, &bits, sizeof bits);
    return x;
}

}  // namespace

template <typename T>
void Rotation::flip_signs(T *v, int round) const
{
    for (std::size_t w = 0; w * 64 < padded_; w++) {
        std::uint64_t bits = sign_word(round, w);
        std::size_t end = padded_ - w * 64 < 64 ? padded_ - w * 64 : 64;
        T *block = v + w * 64;
        for (std::size_t j = 0; j < end; j++)
            block[j] = flip_sign(block[j], (bits >> j) & 1);
    }
}

// Unnormalized butterflies, then one scale by 1/sqrt(K): K log2 K adds.
template <typename T>
void Rotation::hadamard(T *v) const
{
    const std::size_t n = hadamard_;
    for (std::size_t h = 1; h < n; h *= 2)
        for (std::size_t i = 0; i < n; i += 2 * h)
            for (std::size_t j = i; j < i + h; j++) {
                T a = v[j], b = v[j + h];
                v[j] = a + b;
                v[j + h] = a - b;
            }
    const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(n)));
    for (std::size_t j = 0; j < n; j++)
        v[j] *= scale;
}

// The float transform the codes depend on: the same additions in the same
// order as the generic loop above (so the same bits), with the levels h = 1
// and 2 fused per group of 4 and the rest 4 lanes wide (K >= 8).
template <>
void Rotation::hadamard(float *v) const
{
    const std::size_t n = hadamard_;
    for (std::size_t i = 0; i < n; i += 4) {
        float s0 = v[i] + v[i + 1], d0 = v[i] - v[i + 1];
        float s1 = v[i + 2] + v[i + 3], d1 = v[i + 2] - v[i + 3];
        v[i] = s0 + s1;
        v[i + 1] = d0 + d1;
        v[i + 2] = s0 - s1;
        v[i + 3] = d0 - d1;
    }
    for (std::size_t h = 4; h < n; h *= 2)
        for (std::size_t i = 0; i < n; i += 2 * h)
            for (std::size_t j = i; j < i + h; j += 4) {
                V4f a = load4(v + j), b = load4(v + j + h);
                store4(v + j, a + b);
                store4(v + j + h, a - b);
            }
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
    const V4f scale4 = {scale, scale, scale, scale};
    for (std::size_t j = 0; j < n; j += 4)
        store4(v + j, load4(v + j) * scale4);
}

// (a, b) -> ((a + b) / sqrt 2, (b - a) / sqrt 2): a rotation by -pi/4.
template <typename T>
void Rotation::givens(T *v) const
{
    const std::size_t half = padded_ / 2;
    const T s = inv_sqrt2<T>();
    for (std::size_t i = 0; i < half; i++) {
        T a = v[i], b = v[i + half];
        v[i] = (a + b) * s;
        v[i + half] = (b - a) * s;
    }
}

template <typename T>
void Rotation::givens_inverse(T *v) const
{
    const std::size_t half = padded_ / 2;
    const T s = inv_sqrt2<T>();
    for (std::size_t i = 0; i < half; i++) {
        T a = v[i], b = v[i + half];
        v[i] = (a - b) * s;
        v[i + half] = (a + b) * s;
    }
}

template <typename T>
void Rotation::forward_impl(T *v) const
{
    const bool mix = padded_ != hadamard_;
    for (int round = 0; round < kRounds; round++) {
        flip_signs(v, round);
        // Rounds 1 and 3 (round = 0, 2) transform the head, 2 and 4 the tail.
        hadamard(round % 2 == 0 ? v : v + (padded_ - hadamard_));
        if (mix)
            givens(v);
    }
}

template <typename T>
void Rotation::inverse_impl(T *v) const
{
    const bool mix = padded_ != hadamard_;
    for (int round = kRounds - 1; round >= 0; round--) {
        if (mix)
            givens_inverse(v);
        // The normalized Hadamard matrix is symmetric and its own inverse.
        hadamard(round % 2 == 0 ? v : v + (padded_ - hadamard_));
        flip_signs(v, round);
    }
}

void Rotation::forward(float *v) const { forward_impl(v); }
void Rotation::inverse(float *v) const { inverse_impl(v); }
void Rotation::forward(double *v) const { forward_impl(v); }
void Rotation::inverse(double *v) const { inverse_impl(v); }

void Rotation::forward_padded(const float *x, float *out) const
{
    std::memcpy(out, x, dim_ * sizeof(float));
    for (std::size_t i = dim_; i < padded_; i++)
        out[i] = 0.0f;
    forward_impl(out);
}

}  // namespace vecdb
