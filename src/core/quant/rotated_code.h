/*
 * rotated_code.h -- the steps E8, H4 and binary codes share: rotate the input
 * (normalized first under cosine), fit a least-squares gain to the chosen
 * codeword, store the per-vector scalars, rotate the query.
 *
 * Byte layout of a rotated code (12-byte header, then the quantizer's
 * payload of codewords for the D = padded_dims(d) rotated coordinates):
 *   [0, 4)   float gain    alpha = <u, c> / |c|^2, so u^ = alpha c
 *   [4, 8)   float r       |u - u^|, rounded up (u = R x as computed)
 *   [8, 12)  float norm    |x| (of x / |x| under cosine), to nearest
 * With the least-squares gain the residual is orthogonal to u^, so
 * |x|^2 = |u^|^2 + r^2: distances need no |u^| of their own, and the
 * unbiased inner-product estimate is <q~, u^> |x|^2 / |u^|^2 (lattice.md
 * section 6; RaBitQ's rescaling).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "bounds.h"
#include "quantizer.h"
#include "rotation.h"

namespace vecdb {

struct RotatedCodeHeader {
    float gain;  ///< alpha
    float r;     ///< residual norm, rounded up
    float norm;  ///< |x| as encoded
};

constexpr std::size_t kRotatedHeaderBytes = 12;

inline RotatedCodeHeader load_rotated_header(const std::uint8_t *code)
{
    RotatedCodeHeader h;
    std::memcpy(&h.gain, code, 4);
    std::memcpy(&h.r, code + 4, 4);
    std::memcpy(&h.norm, code + 8, 4);
    return h;
}

inline void store_rotated_header(std::uint8_t *code, const RotatedCodeHeader &h)
{
    std::memcpy(code, &h.gain, 4);
    std::memcpy(code + 4, &h.r, 4);
    std::memcpy(code + 8, &h.norm, 4);
}

/// The quantizer side E8, H4 and binary share: the rotation, and decode(),
/// decode_native() and to_native() in terms of each one's reconstruction
/// in rotated coordinates.
class RotatedQuantizer : public Quantizer {
public:
    const Rotation &rotation() const { return rotation_; }

    /// Reconstructs, rotates back and drops the padding: work has D floats
    /// plus what reconstruct_rotated() needs after them.
    void decode(const std::uint8_t *code, float *x, float *work) const override;
    std::size_t native_dim() const override { return rotation_.padded_dim(); }
    void decode_native(const std::uint8_t *code, float *u, float *work) const override
    {
        reconstruct_rotated(code, u, work);
    }
    void to_native(const float *x, float *u) const override { rotation_.forward_padded(x, u); }
    std::size_t residual_offset() const override { return 4; }

protected:
    RotatedQuantizer(std::size_t dim, Metric metric, std::uint64_t seed)
        : Quantizer(dim, metric), rotation_(dim, seed)
    {
    }
    RotatedQuantizer(const RotatedQuantizer &) = default;
    RotatedQuantizer &operator=(const RotatedQuantizer &) = default;
    ~RotatedQuantizer() = default;

    /// u[0, D) := u^ = gain * codeword, the reconstruction in rotated
    /// coordinates; work: scratch (E8: 2 D floats).
    virtual void reconstruct_rotated(const std::uint8_t *code, float *u, float *work) const = 0;

    Rotation rotation_;
};

/// What rotate_input() rotated.
struct RotatedInput {
    double norm;    ///< its norm, computed in double
    bool rescaled;  ///< x's norm was outside kCodeNormMin .. kCodeNormMax (quantizer.h):
                    ///< x was rescaled into that range, and its code bounds nothing
};

/// u[0, D) := R x (x / |x| under cosine, zero vector stays zero; rescaled
/// when its norm is outside the range codes describe).
RotatedInput rotate_input(const Rotation &rotation, Metric metric, const float *x, float *u);

/// The header for the codeword c = first + weight * second (second may be
/// null; the sum is taken in double, as the real number the scan's two dots
/// add up to) chosen for u[0, D): alpha = <u, c> / |c|^2 rounded to float,
/// r = |u - alpha c| rounded up (+inf for a rescaled input).
RotatedCodeHeader fit_gain(const float *u, const float *first, const float *second, float weight, std::size_t padded,
                           const RotatedInput &input);

/// q_rot[0, D) := R q (q / |q| under cosine; rescaled by a power of two
/// when its norm is outside kCodeNormMin .. kCodeNormMax, which
/// bounds->ip_scale undoes); fills the bounds' per-query constants, in q's
/// own units, for codewords whose coordinates satisfy |c_i| <= c_max.
void rotate_query(const Rotation &rotation, Metric metric, const float *q, double c_max, float *q_rot,
                  QueryBounds *bounds);

/// <q~, u^> |x|^2 / |u^|^2: the estimate of <q, x> (lattice.md section 6).
inline double rescaled_ip(double ip, const RotatedCodeHeader &h)
{
    double norm2 = static_cast<double>(h.norm) * h.norm;
    double recon2 = norm2 - static_cast<double>(h.r) * h.r;
    return recon2 > 1e-6 * norm2 ? ip * (norm2 / recon2) : ip;
}

/// The distance estimate from <q, x>'s estimate.
inline float estimate_distance(const QueryBounds &query, double ip_estimate, double norm)
{
    return distance_from_ip(query.metric, query.qnorm * query.qnorm, norm * norm, ip_estimate);
}

/// The guaranteed bound for a code with header h and computed ip = <q~, u^>.
inline float rotated_lower_bound(const QueryBounds &query, const RotatedCodeHeader &h, double ip)
{
    CodeBoundInputs in;
    in.ip = ip;
    in.gain = h.gain < 0 ? -static_cast<double>(h.gain) : h.gain;
    in.r = h.r;
    in.norm = h.norm;
    in.recon_norm2_low = ls_recon_norm2_low(h.norm, h.r, query.rot_eps);
    return guaranteed_lower_bound(query, in);
}

/// The entry points every rotated code's distance computer shares, in terms
/// of Derived::codeword_dot(code) = <q~, c> (the codeword before the gain).
/// set_query() fills bounds_.
template <typename Derived>
class RotatedDistanceComputer : public DistanceComputer {
public:
    float distance(const std::uint8_t *code) const override
    {
        RotatedCodeHeader h = load_rotated_header(code);
        return estimate_distance(bounds_, rescaled_ip(ip(code, h), h), h.norm);
    }

    float lower_bound(const std::uint8_t *code) const override
    {
        RotatedCodeHeader h = load_rotated_header(code);
        return rotated_lower_bound(bounds_, h, ip(code, h));
    }

    float distance_and_bound(const std::uint8_t *code, float *lower_bound) const override
    {
        RotatedCodeHeader h = load_rotated_header(code);
        double value = ip(code, h);
        *lower_bound = rotated_lower_bound(bounds_, h, value);
        return estimate_distance(bounds_, rescaled_ip(value, h), h.norm);
    }

protected:
    RotatedDistanceComputer() = default;
    ~RotatedDistanceComputer() = default;

    /// <q~, u^> = gain * <q~, c>, exact in double (in the query's units).
    double ip(const std::uint8_t *code, const RotatedCodeHeader &h) const
    {
        return static_cast<double>(h.gain) * bounds_.ip_scale * static_cast<const Derived *>(this)->codeword_dot(code);
    }

    QueryBounds bounds_{};
};

/// Symmetric estimate from <u^_a, u^_b>: both sides rescaled (each LS
/// reconstruction shrinks inner products by |u^|^2 / |x|^2).
inline float symmetric_distance(Metric metric, double recon_ip, const RotatedCodeHeader &a,
                                const RotatedCodeHeader &b)
{
    double ip = rescaled_ip(rescaled_ip(recon_ip, a), b);
    return distance_from_ip(metric, static_cast<double>(a.norm) * a.norm, static_cast<double>(b.norm) * b.norm, ip);
}

}  // namespace vecdb
