/*
 * rotated_code.cpp -- input rotation, least-squares gain fit and query
 * preparation shared by the rotated quantizers (see rotated_code.h).
 *
 * Gains and residuals are computed in double from the float rotated vector,
 * then rounded (gain to nearest, r up) so the stored r is never below the
 * residual of the reconstruction the scan actually uses.
 */
#include "rotated_code.h"

#include <cmath>

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

namespace {

double norm_of(const float *x, std::size_t n)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i++)
        sum += static_cast<double>(x[i]) * x[i];
    return std::sqrt(sum);
}

/// v[0, D) := x zero-padded, divided by |x| under cosine, else times the
/// power of two *scale that brings its norm into kCodeNormMin ..
/// kCodeNormMax (exact but for coordinates that become subnormal); returns
/// the norm of what was written.
double pad_input(const Rotation &rotation, Metric metric, const float *x, float *v, double *scale)
{
    const std::size_t d = rotation.dim(), padded = rotation.padded_dim();
    double norm = norm_of(x, d);
    *scale = 1.0;
    if (metric == Metric::Cosine && norm > 0.0) {
        for (std::size_t i = 0; i < d; i++)
            v[i] = static_cast<float>(x[i] / norm);
        norm = norm_of(v, d);
    } else if ((*scale = code_range_scale(norm)) != 1.0) {
        for (std::size_t i = 0; i < d; i++)
            v[i] = static_cast<float>(x[i] * *scale);
        norm = norm_of(v, d);
    } else {
        std::memcpy(v, x, d * sizeof(float));
    }
    for (std::size_t i = d; i < padded; i++)
        v[i] = 0.0f;
    return norm;
}

}  // namespace

RotatedInput rotate_input(const Rotation &rotation, Metric metric, const float *x, float *u)
{
    double scale;
    RotatedInput input;
    input.norm = pad_input(rotation, metric, x, u, &scale);
    input.rescaled = scale != 1.0;
    rotation.forward(u);
    return input;
}

void RotatedQuantizer::decode(const std::uint8_t *code, float *x, float *work) const
{
    reconstruct_rotated(code, work, work + rotation_.padded_dim());
    rotation_.inverse(work);
    std::memcpy(x, work, sizeof(float) * dim_);
}

RotatedCodeHeader fit_gain(const float *u, const float *first, const float *second, float weight, std::size_t padded,
                           const RotatedInput &input)
{
    auto c = [&](std::size_t i) {
        return second ? first[i] + static_cast<double>(weight) * second[i] : static_cast<double>(first[i]);
    };
    double uc = 0.0, cc = 0.0;
    for (std::size_t i = 0; i < padded; i++) {
        uc += u[i] * c(i);
        cc += c(i) * c(i);
    }
    RotatedCodeHeader h;
    h.gain = cc > 0.0 ? static_cast<float>(uc / cc) : 0.0f;
    double r2 = 0.0;
    for (std::size_t i = 0; i < padded; i++) {
        double e = u[i] - static_cast<double>(h.gain) * c(i);
        r2 += e * e;
    }
    // 1e-12: the double sums above.
    h.r = input.rescaled ? INFINITY : round_up(std::sqrt(r2) * (1.0 + 1e-12));
    h.norm = static_cast<float>(input.norm);
    return h;
}

void rotate_query(const Rotation &rotation, Metric metric, const float *q, double c_max, float *q_rot,
                  QueryBounds *bounds)
{
    const std::size_t padded = rotation.padded_dim();
    double scale;
    double norm = pad_input(rotation, metric, q, q_rot, &scale);
    rotation.forward(q_rot);
    double q2 = 0.0, l1 = 0.0;
    for (std::size_t i = 0; i < padded; i++) {
        q2 += static_cast<double>(q_rot[i]) * q_rot[i];
        l1 += std::fabs(static_cast<double>(q_rot[i]));
    }
    // Back to the query as given (1 / scale is a power of two: exact).
    const double unscale = 1.0 / scale;
    bounds->metric = metric;
    bounds->dims = static_cast<double>(rotation.dim());
    bounds->rot_eps = rotation.error_bound();
    bounds->qnorm = norm * unscale;
    bounds->q2 = q2 * unscale * unscale;
    bounds->ip_err_unit = ip_error_unit(c_max, l1, padded) * unscale;
    bounds->ip_scale = unscale;
    bounds->zero_query = norm == 0.0;
}

}  // namespace vecdb
