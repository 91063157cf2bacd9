/*
 * cell600.h -- the 600-cell: 120 unit vectors in R^4 (the binary icosahedral
 * group as unit quaternions), and its exact nearest-vertex search
 * (lattice.md section 5).
 *
 * Vertex order (the index is stored in H4 codes, so it is frozen):
 *   0..7     +-e_i: index 2 i for +e_i, 2 i + 1 for -e_i;
 *   8..23    (+-1/2, +-1/2, +-1/2, +-1/2): index 8 + mask, bit i = negative i;
 *   24..119  the 12 even permutations of (phi, 1, 1/phi, 0) / 2 (in the
 *            order of kEvenPermutations), each with the 8 signs of its
 *            nonzero entries: index 24 + 8 p + signs, bit j of signs
 *            negating pattern entry j (j < 3).
 * Read as quaternions (x0 + x1 i + x2 j + x3 k) the set is closed under the
 * quaternion product (tested).
 *
 * Nearest vertex of a direction w: argmax <w, v>.  The vertex set is
 * invariant under every sign change and every even permutation, so the
 * maximum over all 120 equals the maximum of <|w|, p> over the 17 absolute
 * patterns p (4 of (1,0,0,0), (1/2,1/2,1/2,1/2), 12 of (phi,1,1/phi,0)/2),
 * reached by giving p the signs of w.  Exact ties go to the first pattern.
 */
#pragma once

#include <cstdint>

namespace vecdb {

constexpr int kCell600Vertices = 120;

/// The even permutations of 4 positions: entry j of a base pattern goes to
/// coordinate kEvenPermutations[p][j].
inline constexpr int kEvenPermutations[12][4] = {
    {0, 1, 2, 3}, {0, 2, 3, 1}, {0, 3, 1, 2}, {1, 0, 3, 2}, {1, 2, 0, 3}, {1, 3, 2, 0},
    {2, 0, 1, 3}, {2, 1, 3, 0}, {2, 3, 0, 1}, {3, 0, 2, 1}, {3, 1, 0, 2}, {3, 2, 1, 0},
};

/// (phi, 1, 1/phi, 0) / 2 in float.
inline constexpr float kGoldenPattern[4] = {0.80901699437494742410f, 0.5f, 0.30901699437494742410f, 0.0f};

struct Cell600Vertices {
    float v[kCell600Vertices][4];
};

constexpr Cell600Vertices build_cell600_vertices()
{
    Cell600Vertices t{};
    int n = 0;
    for (int axis = 0; axis < 4; axis++)
        for (int sign = 0; sign < 2; sign++, n++)
            t.v[n][axis] = sign ? -1.0f : 1.0f;
    for (int mask = 0; mask < 16; mask++, n++)
        for (int i = 0; i < 4; i++)
            t.v[n][i] = (mask >> i) & 1 ? -0.5f : 0.5f;
    for (int p = 0; p < 12; p++)
        for (int signs = 0; signs < 8; signs++, n++)
            for (int j = 0; j < 3; j++)  // entry 3 of the pattern is the zero
                t.v[n][kEvenPermutations[p][j]] = (signs >> j) & 1 ? -kGoldenPattern[j] : kGoldenPattern[j];
    return t;
}

/// Vertex coordinates in float (what codes decode to), built at compile time.
inline constexpr Cell600Vertices kCell600 = build_cell600_vertices();

/// Index of the vertex v maximizing <w, v> (17 patterns, not 120 dots).
int cell600_nearest(const float *w);

}  // namespace vecdb
