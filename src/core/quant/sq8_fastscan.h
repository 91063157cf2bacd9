/*
 * sq8_fastscan.h -- a 4-bit pre-filter for SQ8 codes: guaranteed lower
 * bounds from the high nibbles of the levels, scored 32 codes at a time
 * with in-register lookup tables (the FAISS "fast scan" idea, on SQ8's own
 * levels instead of a product quantizer's).
 *
 * An SQ8 level c_i in [0, 255] has high nibble n_i = c_i >> 4, so the
 * reconstruction x^_i = vmin_i + step_i c_i lies in
 *   I_i(n) = [vmin_i + 16 n step_i, vmin_i + (16 n + 15) step_i].
 * Per dimension and nibble value the query's table holds the least the
 * metric's term can be over I_i(n):
 *   L2                   dist(q_i, I_i(n))^2      summed: <= |q - x^|^2
 *   inner product/cosine max of q_i t over I_i(n) summed: >= <q, x^>
 * quantized to bytes (rounded the safe way: down for L2, up for the dot)
 * over a common scale, so a code's byte sum s gives a bound on |q - x^|
 * or <q, x^>; r = |x - x^| (every SQ8 code stores it) takes it to x.  A
 * list page keeps the largest r and |x| of its codes, so the bound needs
 * nothing but the nibbles: codes whose nibble bound already exceeds what a
 * scan keeps are never scored in full.  The bound is a few times looser
 * than SQ8's own (the nibbles lose 4 bits) and is used only to skip codes.
 *
 * Layout: codes in blocks of kFastScanBlock = 32.  A block holds, for each
 * dimension i in turn, 16 bytes: byte j has code j's nibble in its low half
 * and code j + 16's in its high half (16 dim bytes a block).
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "bounds.h"
#include "sq8.h"

namespace vecdb {

constexpr std::size_t kFastScanBlock = 32;

/// Bytes of one block of 32 codes' nibbles.
constexpr std::size_t fastscan_block_bytes(std::size_t dim) { return 16 * dim; }

/// Writes the nibbles of `levels` (an SQ8 code's d levels) as code `slot`
/// (0 .. 31) of `block`.
void fastscan_store(std::uint8_t *block, std::size_t dim, unsigned slot, const std::uint8_t *levels);

/// What a page knows of all its codes: the largest stored r and |x|.
struct FastScanPageMax {
    float r;
    float norm;
};

/// Folds code `code`'s stored r and |x| into `page`.
void fastscan_note_code(FastScanPageMax *page, const std::uint8_t *code);

class SQ8FastScan {
public:
    /// Bytes of the query's tables (16 per dimension).
    static std::size_t table_bytes(std::size_t dim) { return 16 * dim; }

    /// Tables for the query `computer` was last set to, into `tables`
    /// (table_bytes()).  False when no bound can be had from them (the query
    /// was rescaled for extreme magnitudes, or is zero under cosine): then
    /// every code is to be scored in full.
    bool set_query(const SQ8Quantizer &quantizer, const SQ8DistanceComputer &computer, std::uint8_t *tables);

    /// A lower bound, in SQ8DistanceComputer::lower_bound's units, of the
    /// distance to any code on `page` whose table sum is s; monotone in s:
    /// non-decreasing under L2, non-increasing otherwise (increasing()).
    float lower_bound(std::uint32_t s, FastScanPageMax page) const;
    bool increasing() const { return metric_ == Metric::L2; }
    /// About the sum at which lower_bound() is `bound` (not exact: where a
    /// search for the sums a bound excludes starts).
    double sum_near(double bound, FastScanPageMax page) const;
    /// The largest table sum a code can have.
    std::uint32_t max_sum() const { return max_sum_; }

private:
    Metric metric_ = Metric::L2;
    double base_ = 0.0;   ///< sum of the per-dimension minima
    double scale_ = 1.0;  ///< one table unit
    double slack_ = 0.0;  ///< the double arithmetic of the tables, absolute
    double qnorm_ = 0.0;  ///< |q| as encoded
    double dims_ = 0.0;
    std::uint32_t max_sum_ = 0;
};

}  // namespace vecdb
