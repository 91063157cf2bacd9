/*
 * bounds.h -- guaranteed lower bounds of the exact distance from a query to
 * an encoded vector, safe against float rounding (lattice.md section 7).
 *
 * In exact arithmetic, with R orthogonal, u^ the reconstruction in the
 * rotated space and r = |R x - u^|:
 *   | |q - x| - |R q - u^| | <= r            (triangle inequality)
 *   | <q, x> - <R q, u^> |   <= |q| r        (Cauchy-Schwarz)
 * The computed quantities differ from those by rounding, and the SQL
 * operator's own fp32 result differs from the exact distance, so each bound
 * also subtracts:
 *   - the rotation's rounding, |fl(R v) - R v| <= eps_R |v| (rotation.h),
 *     for both the query and the stored vector;
 *   - the code scan's rounding, |ip - <q~, u^>| <= gain * ip_err_unit +
 *     2^-24 |ip|, where ip_err_unit = 2 (D + 16) 2^-24 c_max |q~|_1 covers any
 *     summation order of D products with |c_i| <= c_max (Higham, Accuracy and
 *     Stability of Numerical Algorithms, 2002, section 3.1), doubled;
 *   - the stored scalars' rounding (r rounded up, |x| to nearest);
 *   - the operator's rounding over d coordinates: 2 (d + 4) 2^-24 relative
 *     for L2^2 and for inner products (times |q||x|), 2 (2 d + 8) 2^-24
 *     for cosine (dot and both norms).
 * These margins are 1e-5 to 1e-4 of |q||x|, far below the width r |q| of
 * the bound itself (r ~ 0.3 |x| for E8P, 0.09 |x| for the 4-bit codes).
 * Final values are computed in double and rounded toward -infinity to float.
 */
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "quantizer.h"

namespace vecdb {

/// Per-query constants of the bounds, filled by set_query().
struct QueryBounds {
    Metric metric;
    double dims;         ///< d: the length of the operator's fp32 sums
    double rot_eps;      ///< eps_R of the rotation (0 when there is none)
    double qnorm;        ///< |q| of the query as encoded (normalized under cosine)
    double q2;           ///< |q~|^2: the squared norm of the rotated float query
    double ip_err_unit;  ///< bound on the scan's rounding of <q~, c> per unit gain
    double ip_scale;     ///< the scan's float inner products times this are in the operator's units
                         ///< (1 unless the query was rescaled: kCodeNormMin, quantizer.h)
    bool zero_query;     ///< q = 0 under cosine: the operator returns NaN
};

/// What one code contributes to its bound.
struct CodeBoundInputs {
    double ip;               ///< the computed <q~, u^> (gain applied)
    double gain;             ///< |gain| the scan multiplied the codeword dot by
    double r;                ///< residual norm as stored (rounded up)
    double norm;             ///< |x| as stored (normalized under cosine)
    double recon_norm2_low;  ///< a lower bound of |u^|^2
};

/// |u^|^2 >= |x|^2 (1 - 2 eps_R - 6 2^-24) - r^2 for a least-squares gain
/// (u^ orthogonal to u - u^, up to the rounding of the stored gain).
double ls_recon_norm2_low(double norm, double r, double rot_eps);

/// The guaranteed lower bound for the metric of `query`.  A code that bounds
/// nothing (r = +inf: outside kCodeNormMin .. kCodeNormMax) gets the least
/// value the operator can take: 0, or -inf for inner product.
inline float guaranteed_lower_bound(const QueryBounds &query, const CodeBoundInputs &code);
/// The same for a metric known at compile time (query.metric must be M).
template <Metric M>
inline float guaranteed_lower_bound(const QueryBounds &query, const CodeBoundInputs &code);

/// bound on |c_i| over a codeword -> QueryBounds::ip_err_unit for a query
/// whose rotated form has 1-norm q_l1 over `dims_rotated` coordinates
/// (products that fall below float's normal range are covered too).
double ip_error_unit(double c_max, double q_l1, std::size_t dims_rotated);

/// The largest float <= v.
inline float round_down(double v);
/// The smallest float >= v.
inline float round_up(double v);

// --- Definitions (inline: a scan computes a bound per code it scores) ---

namespace detail {

constexpr double kUnit = 0x1.0p-24;  // float unit roundoff

/// E with |<q, x> - ip| <= E:
///   <q, x> = <q~, u^> + <R q - q~, u^> + <R q, R x - u^>
/// |<q~, u^> - ip|      <= gain * ip_err_unit + u |ip|
/// |<R q - q~, u^>|     <= eps_R |q| |u^|,  |u^| <= (1 + 3u) |x|
/// |<R q, R x - u^>|    <= |q| (r + eps_R |x|)
inline double ip_error(const QueryBounds &query, const CodeBoundInputs &code)
{
    double scan = code.gain * query.ip_err_unit + kUnit * std::fabs(code.ip);
    double rotation = 2.0 * query.rot_eps * (1.0 + 4.0 * kUnit) * query.qnorm * code.norm;
    double residual = query.qnorm * code.r;
    // 1e-12: the double arithmetic of these few lines.
    return (scan + rotation + residual) * (1.0 + 1e-12) + 1e-300;
}

}  // namespace detail

inline float round_down(double v)
{
    // Without a branch on which way the conversion rounded (about half the
    // time each: mispredicted, it was a fifth of an ivf scan's time).  The
    // float below f: bits - 1 above zero, bits + 1 below, -denorm_min at
    // either zero; a NaN f is kept (double(NaN) > v is false).
    const float f = static_cast<float>(v);
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    const std::uint32_t below = f > 0.0f ? bits - 1 : (f < 0.0f ? bits + 1 : 0x80000001u);
    const std::uint32_t above = 0u - std::uint32_t(static_cast<double>(f) > v);  // all ones or zero: no branch
    const std::uint32_t chosen = bits ^ ((bits ^ below) & above);
    float out;
    std::memcpy(&out, &chosen, sizeof(out));
    return out;
}

inline float round_up(double v) { return -round_down(-v); }

namespace detail {

/* One function per metric, so that a batch of codes (sq8.cpp) pays for
 * the metric's choice once rather than per code. */
template <Metric M>
inline float finite_lower_bound(const QueryBounds &query, const CodeBoundInputs &code);

template <>
inline float finite_lower_bound<Metric::L2>(const QueryBounds &query, const CodeBoundInputs &code)
{
    const double operator_rel = 2.0 * (query.dims + 4.0) * kUnit;
    // |q - x| >= |q~ - u^| - |R q - q~| - |R x - u^|
    //          >= |q~ - u^| - eps_R |q| - (r + eps_R |x|)
    // |q~ - u^|^2 = |q~|^2 + |u^|^2 - 2 <q~, u^>, each term bounded below.
    double scan = code.gain * query.ip_err_unit + kUnit * std::fabs(code.ip);
    double d2 = query.q2 + code.recon_norm2_low - 2.0 * (code.ip + scan);
    d2 -= 1e-12 * (query.q2 + code.norm * code.norm);
    if (d2 <= 0.0)
        return 0.0f;
    double d = std::sqrt(d2) - code.r - query.rot_eps * (1.0 + 4.0 * kUnit) * (query.qnorm + code.norm);
    if (d <= 0.0)
        return 0.0f;
    // The operator's fp32 sum of d squares is >= (1 - (d + 2) u) |q - x|^2.
    return round_down(d * d * (1.0 - operator_rel) * (1.0 - 1e-12));
}

template <>
inline float finite_lower_bound<Metric::InnerProduct>(const QueryBounds &query, const CodeBoundInputs &code)
{
    const double operator_rel = 2.0 * (query.dims + 4.0) * kUnit;
    double upper = code.ip + ip_error(query, code);
    double operator_error = operator_rel * (1.0 + kUnit) * query.qnorm * code.norm;
    return round_down(-upper - operator_error);
}

template <>
inline float finite_lower_bound<Metric::Cosine>(const QueryBounds &query, const CodeBoundInputs &code)
{
    if (query.zero_query || code.norm == 0.0)
        return 0.0f;  // the operator gives NaN, or 1: 0 is below both
    // q and x were rounded to float after normalization: 3u more.
    double cos_upper = code.ip + ip_error(query, code) + 3.0 * kUnit;
    double operator_error = 2.0 * (2.0 * query.dims + 8.0) * kUnit;
    double bound = 1.0 - cos_upper - operator_error;
    // The operator clamps the similarity to [-1, 1].
    return bound > 0.0 ? round_down(bound) : 0.0f;
}

}  // namespace detail

template <Metric M>
inline float guaranteed_lower_bound(const QueryBounds &query, const CodeBoundInputs &code)
{
    if (std::isfinite(code.r) && std::isfinite(code.norm) && std::isfinite(code.ip)) {
        float bound = detail::finite_lower_bound<M>(query, code);
        if (!std::isnan(bound))
            return bound;
    }
    return M == Metric::InnerProduct ? -INFINITY : 0.0f;
}

inline float guaranteed_lower_bound(const QueryBounds &query, const CodeBoundInputs &code)
{
    switch (query.metric) {
    case Metric::L2:
        return guaranteed_lower_bound<Metric::L2>(query, code);
    case Metric::InnerProduct:
        return guaranteed_lower_bound<Metric::InnerProduct>(query, code);
    case Metric::Cosine:
        return guaranteed_lower_bound<Metric::Cosine>(query, code);
    case Metric::L1:  // rejected when the quantizer is made
    case Metric::Jaccard:
        break;
    }
    return 0.0f;
}

}  // namespace vecdb
