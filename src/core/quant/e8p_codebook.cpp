/*
 * e8p_codebook.cpp -- the E8P tables (built at compile time), block decode
 * and the exact block encoder (see e8p_codebook.h for the format and why the
 * shape shortcut is exact).
 */
#include "e8p_codebook.h"

#include <cmath>

#include "simd_vec.h"

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

namespace {

/// QuIP#'s 29 norm-12 abs rows (get_norm12() at quip-sharp 1d8f873), in
/// units of 1/2.  Older snapshots of that file list {1,3,3,3,1,1,3,3} twice
/// (rows 21 and 27), which would leave 256 duplicate codewords; 1d8f873 has
/// {1,1,3,3,1,3,3,3} as row 27, and the tests check all 65,536 are distinct.
constexpr std::uint8_t kNorm12Rows[29][8] = {
    {3, 1, 1, 1, 3, 3, 3, 3}, {1, 3, 1, 1, 3, 3, 3, 3}, {1, 1, 3, 1, 3, 3, 3, 3}, {1, 1, 1, 3, 3, 3, 3, 3},
    {3, 3, 3, 1, 3, 3, 1, 1}, {3, 3, 3, 1, 3, 1, 3, 1}, {3, 3, 3, 1, 1, 3, 3, 1}, {3, 3, 3, 1, 3, 1, 1, 3},
    {3, 3, 3, 1, 1, 3, 1, 3}, {3, 3, 3, 1, 1, 1, 3, 3}, {3, 3, 1, 3, 3, 3, 1, 1}, {3, 3, 1, 3, 3, 1, 3, 1},
    {3, 3, 1, 3, 1, 3, 3, 1}, {3, 3, 1, 3, 3, 1, 1, 3}, {3, 3, 1, 3, 1, 3, 1, 3}, {3, 3, 1, 3, 1, 1, 3, 3},
    {3, 1, 3, 3, 3, 3, 1, 1}, {3, 1, 3, 3, 3, 1, 3, 1}, {3, 1, 3, 3, 1, 3, 3, 1}, {3, 1, 3, 3, 3, 1, 1, 3},
    {3, 1, 3, 3, 1, 3, 1, 3}, {1, 3, 3, 3, 1, 1, 3, 3}, {1, 3, 3, 3, 3, 3, 1, 1}, {1, 3, 3, 3, 3, 1, 3, 1},
    {1, 3, 3, 3, 1, 3, 3, 1}, {1, 3, 3, 3, 3, 1, 1, 3}, {1, 3, 3, 3, 1, 3, 1, 3}, {1, 1, 3, 3, 1, 3, 3, 3},
    {3, 3, 1, 1, 3, 3, 3, 1},
};
constexpr int kNorm12Count = 29;

/// A ball row as 8 base-3 digits (0, 1, 2 for 1/2, 3/2, 5/2), digit 0 most
/// significant: lexicographic order of the rows is numeric order.
constexpr int kPatterns = 6561;  // 3^8

constexpr bool in_ball(int pattern)
{
    int n3 = 0, n5 = 0;
    for (int i = 0; i < 8; i++, pattern /= 3) {
        n3 += pattern % 3 == 1;
        n5 += pattern % 3 == 2;
    }
    // |a|^2 = 8/4 + 2 n3 + 6 n5 <= 10
    return n3 + 3 * n5 <= 4;
}

constexpr E8PCodebook build_codebook()
{
    E8PCodebook book{};
    int row = 0;
    for (int pattern = 0; pattern < kPatterns; pattern++) {
        if (!in_ball(pattern))
            continue;
        int rest = pattern, sum_digits = 0;
        float norm2 = 0.0f;
        for (int i = 7; i >= 0; i--, rest /= 3) {
            float a = 0.5f + static_cast<float>(rest % 3);
            book.rows[row][i] = a;
            norm2 += a * a;
            sum_digits += rest % 3;
        }
        book.row_norm2[row] = norm2;
        // sum(a) = 4 + sum of digits
        book.row_parity[row] = static_cast<std::uint8_t>(sum_digits & 1);
        row++;
    }
    for (int r = 0; r < kNorm12Count; r++, row++) {
        int sum_halves = 0;
        for (int i = 0; i < 8; i++) {
            book.rows[row][i] = 0.5f * kNorm12Rows[r][i];
            sum_halves += kNorm12Rows[r][i];
        }
        book.row_norm2[row] = 12.0f;
        book.row_parity[row] = static_cast<std::uint8_t>((sum_halves / 2) & 1);
    }
    return book;
}

constexpr int count_ball_rows()
{
    int n = 0;
    for (int pattern = 0; pattern < kPatterns; pattern++)
        n += in_ball(pattern);
    return n;
}
static_assert(count_ball_rows() == kE8PBallRows, "227 abs rows in the ball |v|^2 <= 10");
static_assert(kE8PBallRows + kNorm12Count == 256, "256 abs rows");

/// Ball pattern -> row index (255 for patterns outside the ball; never read).
struct PatternRows {
    std::uint8_t row[kPatterns];
};

constexpr PatternRows build_pattern_rows()
{
    PatternRows table{};
    int row = 0;
    for (int pattern = 0; pattern < kPatterns; pattern++)
        table.row[pattern] = in_ball(pattern) ? static_cast<std::uint8_t>(row++) : 255;
    return table;
}

constexpr PatternRows kPatternRows = build_pattern_rows();

/// The 29 norm-12 rows transposed (coordinate-major, padded to 32) so the
/// encoder's row loop vectorizes.
struct Norm12Transposed {
    float a[8][32];
};

constexpr Norm12Transposed build_norm12_transposed()
{
    Norm12Transposed t{};
    for (int r = 0; r < kNorm12Count; r++)
        for (int i = 0; i < 8; i++)
            t.a[i][r] = 0.5f * kNorm12Rows[r][i];
    return t;
}

constexpr Norm12Transposed kNorm12T = build_norm12_transposed();

/// Parity of sum(a) for every norm-12 row: five 3/2 and three 1/2 sum to 9.
constexpr unsigned kNorm12Parity = 1;

constexpr V4i kLaneIndexLo = {0, 1, 2, 3};
constexpr V4i kLaneIndexHi = {4, 5, 6, 7};

/// The 7 shapes (n5 entries 5/2, n3 entries 3/2) of the ball rows.
struct Shape {
    int n5, n3;
};
constexpr Shape kShapes[7] = {{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {1, 0}, {1, 1}};

}  // namespace

constexpr E8PCodebook kE8PCodebook = build_codebook();

void e8p_decode_block(std::uint16_t code, float *out)
{
    const float *a = kE8PCodebook.rows[e8p_row(code)];
    const unsigned neg = e8p_negations(code);
    const float t = e8p_shift(code);
    for (int i = 0; i < 8; i++)
        out[i] = ((neg >> i) & 1 ? -a[i] : a[i]) + t;
}

std::uint16_t e8p_encode_block(const float *input)
{
    // NaN would break the ranking below (equal ranks leave holes in order),
    // so non-finite coordinates count as 0; huge finite ones can still make
    // scores infinite or NaN, which the bounded minimum scan tolerates.
    float z[8];
    for (int i = 0; i < 8; i++)
        z[i] = std::fabs(input[i]) <= 3.4028234663852886e38f ? input[i] : 0.0f;

    // |z - c|^2 = |z|^2 - 2 t sum(z) + 8 t^2 - 2 m + |a|^2 for c = s.a + t1:
    // the first and third terms are the same for every candidate, so compare
    // score = -2 t sum(z) + |a|^2 - 2 m (small numbers, little cancellation).
    float sum_z = 0.0f;
    for (int i = 0; i < 8; i++)
        sum_z += z[i];

    // Candidates in tie-break order: per shift, 7 shapes then 29 rows.
    constexpr int kPerShift = 7 + kNorm12Count;
    static_assert(2 * kPerShift % 4 == 0, "scores are scanned 4 at a time");
    float scores[2 * kPerShift];
    unsigned neg_of[2];
    unsigned parity_of[2];
    int order_of[2][8];
    float w_of[2][8];

    for (int shift = 0; shift < 2; shift++) {
        const float t = shift ? -0.25f : 0.25f;
        float *w = w_of[shift];
        float w_sum = 0.0f;
        unsigned neg = 0;
        for (int i = 0; i < 8; i++) {
            float y = z[i] - t;
            w[i] = std::fabs(y);
            w_sum += w[i];
            neg |= static_cast<unsigned>(y < 0.0f) << i;
        }
        const unsigned neg_parity = parity8(neg);
        neg_of[shift] = neg;
        parity_of[shift] = neg_parity;
        const float base = (shift ? 0.5f : -0.5f) * sum_z;  // -2 t sum(z)

        // Indices by w descending, ties by index ascending: rank by counting
        // (branch-free; random data defeats an insertion sort's branches).
        int *order = order_of[shift];
        const V4f w_lo = load4(w), w_hi = load4(w + 4);
        for (int i = 0; i < 8; i++) {
            const V4f wi = {w[i], w[i], w[i], w[i]};
            const V4i before = {i, i, i, i};
            // Lanes are -1 where w_j comes first: larger, or equal and j < i.
            V4i first = ((w_lo > wi) | ((w_lo == wi) & (kLaneIndexLo < before))) +
                        ((w_hi > wi) | ((w_hi == wi) & (kLaneIndexHi < before)));
            order[-(first[0] + first[1] + first[2] + first[3])] = i;
        }
        float ws[8];
        for (int i = 0; i < 8; i++)
            ws[i] = w[order[i]];

        float *score = scores + shift * kPerShift;
        for (int s = 0; s < 7; s++) {
            const Shape shape = kShapes[s];
            // m = sum w_i a_i = sum w / 2 + 2 w_max (5/2) + the next n3 w (3/2)
            float extra = shape.n5 ? 2.0f * ws[0] : 0.0f;
            for (int j = shape.n5; j < shape.n5 + shape.n3; j++)
                extra += ws[j];
            float m = 0.5f * w_sum + extra;
            if (neg_parity != static_cast<unsigned>(shape.n3 & 1))
                m -= ws[7];  // 2 * (1/2) * w_min
            float norm2 = static_cast<float>(2 + 2 * shape.n3 + 6 * shape.n5);
            score[s] = base + norm2 - 2.0f * m;
        }

        float m[32], smallest[32];
        for (int r = 0; r < 32; r++) {
            m[r] = w[0] * kNorm12T.a[0][r];
            smallest[r] = m[r];
        }
        for (int i = 1; i < 8; i++)
            for (int r = 0; r < 32; r++) {
                float p = w[i] * kNorm12T.a[i][r];
                m[r] += p;
                smallest[r] = p < smallest[r] ? p : smallest[r];
            }
        const float flip = neg_parity != kNorm12Parity ? 2.0f : 0.0f;
        for (int r = 0; r < kNorm12Count; r++)
            score[7 + r] = base + 12.0f - 2.0f * (m[r] - flip * smallest[r]);
    }

    // The first minimum: the smallest value over 4 independent lanes, then
    // the first index holding it.
    V4f low = load4(scores);
    for (int k = 4; k < 2 * kPerShift; k += 4) {
        V4f s = load4(scores + k);
        low = s < low ? s : low;
    }
    float best_score = low[0] < low[1] ? low[0] : low[1];
    best_score = low[2] < best_score ? low[2] : best_score;
    best_score = low[3] < best_score ? low[3] : best_score;
    int best = 0;
    while (best < 2 * kPerShift - 1 && scores[best] != best_score)  // NaN: stop at the end
        best++;
    const int shift = best / kPerShift, candidate = best % kPerShift;
    const int *order = order_of[shift];
    const float *w = w_of[shift];
    unsigned neg = neg_of[shift];
    unsigned row;
    if (candidate < 7) {
        const Shape shape = kShapes[candidate];
        int digits[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        if (shape.n5)
            digits[order[0]] = 2;
        for (int j = shape.n5; j < shape.n5 + shape.n3; j++)
            digits[order[j]] = 1;
        int pattern = 0;
        for (int i = 0; i < 8; i++)
            pattern = pattern * 3 + digits[i];
        row = kPatternRows.row[pattern];
        if (parity_of[shift] != static_cast<unsigned>(shape.n3 & 1))
            neg ^= 1u << order[7];
    } else {
        const int r = candidate - 7;
        row = static_cast<unsigned>(kE8PBallRows + r);
        if (parity_of[shift] != kNorm12Parity) {
            // First coordinate with the smallest w_i a_i.
            int k = 0;
            for (int i = 1; i < 8; i++)
                if (w[i] * kNorm12T.a[i][r] < w[k] * kNorm12T.a[k][r])
                    k = i;
            neg ^= 1u << k;
        }
    }
    return static_cast<std::uint16_t>((row << 8) | (static_cast<unsigned>(shift) << 7) | (neg & 0x7F));
}

}  // namespace vecdb
