/*
 * bounds.cpp -- the guaranteed lower bounds of bounds.h, one chain of
 * inequalities per metric.  Notation: q, x the vectors as encoded (unit
 * vectors under cosine), q~ = fl(R q), u^ = gain * c the reconstruction,
 * ip the scan's value of <q~, u^>, r the stored residual norm.
 */
#include "bounds.h"

#include <cmath>

#include "../core_only.h"

namespace vecdb {

using detail::kUnit;

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

}  // namespace vecdb
