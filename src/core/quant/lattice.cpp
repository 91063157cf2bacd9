/*
 * lattice.cpp -- Conway & Sloane's nearest-point algorithms for D_n and E8
 * (see lattice.h for the tie rules).
 */
#include "lattice.h"

#include <cmath>

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

void nearest_dn(const double *x, std::size_t n, double *out)
{
    double sum = 0.0;
    std::size_t worst = 0;
    double worst_error = -1.0;
    for (std::size_t i = 0; i < n; i++) {
        out[i] = std::floor(x[i] + 0.5);
        sum += out[i];
        double error = std::fabs(x[i] - out[i]);
        if (error > worst_error) {
            worst_error = error;
            worst = i;
        }
    }
    // Odd sum: the cheapest fix is re-rounding the worst-rounded coordinate
    // the other way (Conway & Sloane's g(x)).
    if (std::fmod(sum, 2.0) != 0.0)
        out[worst] += x[worst] >= out[worst] ? 1.0 : -1.0;
}

void nearest_e8(const double *x, double *out)
{
    double y0[8], y1[8], shifted[8];
    nearest_dn(x, 8, y0);
    for (int i = 0; i < 8; i++)
        shifted[i] = x[i] - 0.5;
    nearest_dn(shifted, 8, y1);
    double d0 = 0.0, d1 = 0.0;
    for (int i = 0; i < 8; i++) {
        y1[i] += 0.5;
        d0 += (x[i] - y0[i]) * (x[i] - y0[i]);
        d1 += (x[i] - y1[i]) * (x[i] - y1[i]);
    }
    const double *best = d1 < d0 ? y1 : y0;
    for (int i = 0; i < 8; i++)
        out[i] = best[i];
}

}  // namespace vecdb
