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

#include <cstddef>

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
float guaranteed_lower_bound(const QueryBounds &query, const CodeBoundInputs &code);

/// bound on |c_i| over a codeword -> QueryBounds::ip_err_unit for a query
/// whose rotated form has 1-norm q_l1 over `dims_rotated` coordinates
/// (products that fall below float's normal range are covered too).
double ip_error_unit(double c_max, double q_l1, std::size_t dims_rotated);

/// The largest float <= v.
float round_down(double v);
/// The smallest float >= v.
float round_up(double v);

}  // namespace vecdb
