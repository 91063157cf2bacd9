/*
 * e8p_codebook.h -- E8P, the 65,536-point E8 codebook of QuIP# (Tseng et
 * al., ICML 2024; quip-sharp lib/codebook/latticee8_padded12.py), with an
 * exact nearest-point encoder (lattice.md section 3a).
 *
 * Points: c = s (.) a + t 1, where
 *   a  is one of 256 "abs rows" with entries in {1/2, 3/2, 5/2}: the 227
 *      distinct |v| of v in D8 + 1/2 with |v|^2 <= 10 (all arrangements of 7
 *      shapes, in lexicographic order), then QuIP#'s 29 patterns of five 3/2
 *      and three 1/2 (|a|^2 = 12);
 *   s  is a sign pattern with #negatives = sum(a) (mod 2), so s (.) a is in
 *      D8 + 1/2 (128 patterns per row);
 *   t  = +-1/4.
 * All 65,536 points are distinct and lie in E8 + 1/4 (1/2 1 is in E8).
 *
 * Block code (16 bits; not bit-compatible with QuIP#):
 *   bits 15..8  row (0..255)
 *   bit  7      shift: 0 -> t = +1/4, 1 -> t = -1/4
 *   bits 6..0   bit i set: coordinate i is negated (i = 0..6); coordinate
 *               7's sign follows from the parity rule.
 *
 * Encoder: for each t, y = z - t, w = |y|.  Within one shape of the 227 ball
 * rows every arrangement is present, so by the rearrangement inequality the
 * best row puts 5/2 and the 3/2s on the largest w; with the wrong sign parity
 * the cheapest fix negates the smallest w (whose entry is 1/2).  That leaves
 * 7 shapes plus the 29 norm-12 rows scored as in lattice.md section 3a:
 * dist = |y|^2 - 2 m + |a|^2, m = sum w_i a_i, minus 2 min_i w_i a_i when
 * the parity is wrong.  This equals brute force over all 65,536 points
 * (tested); exact ties go to the first candidate in the order t = +1/4,
 * t = -1/4, shapes, norm-12 rows.
 */
#pragma once

#include <cstdint>

namespace vecdb {

/// The tables behind E8P, built at compile time (no load-time constructor).
struct E8PCodebook {
    float rows[256][8];          ///< abs row a (entries 1/2, 3/2, 5/2)
    float row_norm2[256];        ///< |a|^2: 2..10, or 12 for rows 227..255
    std::uint8_t row_parity[256];///< sum(a) mod 2 = required #negatives mod 2
};

extern const E8PCodebook kE8PCodebook;

/// Number of abs rows inside the ball |v|^2 <= 10; the rest have |v|^2 = 12.
constexpr int kE8PBallRows = 227;

/// Row of a block code.
inline unsigned e8p_row(std::uint16_t code) { return code >> 8; }

/// 1/4 or -1/4 (a table, not a branch: the scan sees random shifts).
inline float e8p_shift(std::uint16_t code)
{
    static constexpr float kShifts[2] = {0.25f, -0.25f};
    return kShifts[(code >> 7) & 1];
}

/// Parity of the low 8 bits (no popcount instruction in the x86-64 baseline).
constexpr unsigned parity8(unsigned bits)
{
    bits ^= bits >> 4;
    bits ^= bits >> 2;
    bits ^= bits >> 1;
    return bits & 1;
}

/// parity8 of every 7-bit value, for the scan.
struct Parity7Table {
    std::uint8_t parity[128];
};

constexpr Parity7Table build_parity7_table()
{
    Parity7Table t{};
    for (unsigned b = 0; b < 128; b++)
        t.parity[b] = static_cast<std::uint8_t>(parity8(b));
    return t;
}

inline constexpr Parity7Table kParity7 = build_parity7_table();

/// All 8 negation flags, including coordinate 7's implied one.
inline unsigned e8p_negations(std::uint16_t code)
{
    unsigned neg = code & 0x7F;
    unsigned last = kParity7.parity[neg] ^ kE8PCodebook.row_parity[code >> 8];
    return neg | (last << 7);
}

/// out[0..8) := the point with this code.
void e8p_decode_block(std::uint16_t code, float *out);

/// The code of the point nearest to z[0..8) (exact; see above).  Non-finite
/// coordinates are read as 0.
std::uint16_t e8p_encode_block(const float *z);

}  // namespace vecdb
