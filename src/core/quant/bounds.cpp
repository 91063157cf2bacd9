/*
 * bounds.cpp -- the guaranteed lower bounds of bounds.h, one chain of
 * inequalities per metric.  Notation: q, x the vectors as encoded (unit
 * vectors under cosine), q~ = fl(R q), u^ = gain * c the reconstruction,
 * ip the scan's value of <q~, u^>, r the stored residual norm.
 */
#include "bounds.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "../core_only.h"

namespace vecdb {

namespace {

constexpr double kUnit = 0x1.0p-24;  // float unit roundoff

/// E with |<q, x> - ip| <= E:
///   <q, x> = <q~, u^> + <R q - q~, u^> + <R q, R x - u^>
/// |<q~, u^> - ip|      <= gain * ip_err_unit + u |ip|
/// |<R q - q~, u^>|     <= eps_R |q| |u^|,  |u^| <= (1 + 3u) |x|
/// |<R q, R x - u^>|    <= |q| (r + eps_R |x|)
double ip_error(const QueryBounds &query, const CodeBoundInputs &code)
{
    double scan = code.gain * query.ip_err_unit + kUnit * std::fabs(code.ip);
    double rotation = 2.0 * query.rot_eps * (1.0 + 4.0 * kUnit) * query.qnorm * code.norm;
    double residual = query.qnorm * code.r;
    // 1e-12: the double arithmetic of these few lines.
    return (scan + rotation + residual) * (1.0 + 1e-12) + 1e-300;
}

}  // namespace

double ls_recon_norm2_low(double norm, double r, double rot_eps)
{
    double low = norm * norm * (1.0 - 2.0 * rot_eps - 6.0 * kUnit) - r * r;
    return low > 0.0 ? low : 0.0;
}

double ip_error_unit(double c_max, double q_l1, std::size_t dims_rotated)
{
    // Relative rounding, plus 2^-150 for each of the 2 (D + 16) operations
    // whose result may be subnormal (gradual underflow errs absolutely).
    const double operations = 2.0 * (static_cast<double>(dims_rotated) + 16.0);
    return operations * (kUnit * c_max * q_l1 + 0x1p-150);
}

namespace {

/* std::nextafter(f, -inf) / (f, +inf) for a float that is not NaN, without
 * the libm call (bounds are computed once per code a scan scores). */
float step_down(float f)
{
    if (f == 0.0f)
        return -std::numeric_limits<float>::denorm_min();
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    bits = f > 0.0f ? bits - 1 : bits + 1;
    std::memcpy(&f, &bits, sizeof(f));
    return f;
}

float step_up(float f) { return -step_down(-f); }

}  // namespace

float round_down(double v)
{
    float f = static_cast<float>(v);
    return static_cast<double>(f) > v ? step_down(f) : f;
}

float round_up(double v)
{
    float f = static_cast<float>(v);
    return static_cast<double>(f) < v ? step_up(f) : f;
}

namespace {

float finite_lower_bound(const QueryBounds &query, const CodeBoundInputs &code)
{
    const double operator_rel = 2.0 * (query.dims + 4.0) * kUnit;
    switch (query.metric) {
    case Metric::L2: {
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
    case Metric::InnerProduct: {
        double upper = code.ip + ip_error(query, code);
        double operator_error = operator_rel * (1.0 + kUnit) * query.qnorm * code.norm;
        return round_down(-upper - operator_error);
    }
    case Metric::Cosine: {
        if (query.zero_query || code.norm == 0.0)
            return 0.0f;  // the operator gives NaN, or 1: 0 is below both
        // q and x were rounded to float after normalization: 3u more.
        double cos_upper = code.ip + ip_error(query, code) + 3.0 * kUnit;
        double operator_error = 2.0 * (2.0 * query.dims + 8.0) * kUnit;
        double bound = 1.0 - cos_upper - operator_error;
        // The operator clamps the similarity to [-1, 1].
        return bound > 0.0 ? round_down(bound) : 0.0f;
    }
    case Metric::L1:  // rejected when the quantizer is made
        break;
    }
    return 0.0f;
}

}  // namespace

float guaranteed_lower_bound(const QueryBounds &query, const CodeBoundInputs &code)
{
    if (std::isfinite(code.r) && std::isfinite(code.norm) && std::isfinite(code.ip)) {
        float bound = finite_lower_bound(query, code);
        if (!std::isnan(bound))
            return bound;
    }
    return query.metric == Metric::InnerProduct ? -INFINITY : 0.0f;
}

}  // namespace vecdb
