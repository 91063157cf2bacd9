/*
 * cell600.cpp -- the 600-cell's 17-pattern nearest-vertex shortcut and its
 * (pattern, signs) -> vertex table, both built at compile time (see
 * cell600.h; the vertex table itself is built in the header).
 */
#include "cell600.h"

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

namespace {

constexpr int kPatternCount = 17;

/// The absolute patterns, in tie-break order: axes, halves, golden ones.
struct Patterns {
    float p[kPatternCount][4];
    /// Vertex index of pattern k with sign mask s (bit i: coordinate i < 0).
    std::uint8_t vertex[kPatternCount][16];
};

constexpr bool same_vertex(const float *a, const float *b)
{
    for (int i = 0; i < 4; i++)
        if (a[i] != b[i])  // -0.0f == 0.0f: signs of zeros do not matter
            return false;
    return true;
}

constexpr Patterns build_patterns()
{
    Patterns t{};
    for (int axis = 0; axis < 4; axis++)
        t.p[axis][axis] = 1.0f;
    for (int i = 0; i < 4; i++)
        t.p[4][i] = 0.5f;
    for (int p = 0; p < 12; p++)
        for (int j = 0; j < 4; j++)
            t.p[5 + p][kEvenPermutations[p][j]] = kGoldenPattern[j];
    for (int k = 0; k < kPatternCount; k++)
        for (int mask = 0; mask < 16; mask++) {
            float v[4] = {0, 0, 0, 0};
            for (int i = 0; i < 4; i++)
                v[i] = (mask >> i) & 1 ? -t.p[k][i] : t.p[k][i];
            int found = -1;
            for (int n = 0; n < kCell600Vertices && found < 0; n++)
                if (same_vertex(v, kCell600.v[n]))
                    found = n;
            t.vertex[k][mask] = static_cast<std::uint8_t>(found);  // found >= 0: checked below
        }
    return t;
}

constexpr Patterns kPatterns = build_patterns();

constexpr bool every_signed_pattern_is_a_vertex()
{
    for (int k = 0; k < kPatternCount; k++)
        for (int mask = 0; mask < 16; mask++)
            if (kPatterns.vertex[k][mask] >= kCell600Vertices)
                return false;
    return true;
}
static_assert(every_signed_pattern_is_a_vertex(), "the 600-cell is closed under sign changes");

}  // namespace

int cell600_nearest(const float *w)
{
    float a[4];
    unsigned mask = 0;
    for (int i = 0; i < 4; i++) {
        a[i] = w[i] < 0.0f ? -w[i] : w[i];
        mask |= static_cast<unsigned>(w[i] < 0.0f) << i;
    }
    int best = 0;
    float best_score = a[0] * kPatterns.p[0][0] + a[1] * kPatterns.p[0][1] + a[2] * kPatterns.p[0][2] +
                       a[3] * kPatterns.p[0][3];
    for (int k = 1; k < kPatternCount; k++) {
        const float *p = kPatterns.p[k];
        float score = a[0] * p[0] + a[1] * p[1] + a[2] * p[2] + a[3] * p[3];
        if (score > best_score) {
            best_score = score;
            best = k;
        }
    }
    return kPatterns.vertex[best][mask];
}

}  // namespace vecdb
