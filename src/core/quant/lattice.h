/*
 * lattice.h -- nearest point of the lattices D_n (D4, D8) and E8
 * (Conway & Sloane, "Fast quantizing and decoding algorithms for lattice
 * quantizers and codes", IEEE Trans. IT 28(2), 1982; lattice.md section 2).
 *
 * D_n = {v in Z^n : sum v even}; E8 = D8 u (D8 + 1/2).  Each routine is O(n)
 * with fixed tie rules, so results are reproducible:
 *   - rounding is floor(x + 1/2) (halves round up);
 *   - the D_n parity fix moves the first coordinate of largest rounding
 *     error one step toward x (+1 when x_k >= f_k);
 *   - E8 returns the D8 point when both cosets are equally near.
 * Arithmetic is in double so that x + 1/2 is exact for every float input
 * and half-integer outputs stay representable for |x| up to 2^51.
 */
#pragma once

#include <cstddef>

namespace vecdb {

/// out := the point of D_n nearest to x (n >= 1; n = 4 gives D4).
void nearest_dn(const double *x, std::size_t n, double *out);

/// out := the point of E8 nearest to x (8 coordinates).
void nearest_e8(const double *x, double *out);

}  // namespace vecdb
