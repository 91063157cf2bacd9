/*
 * metric.h -- the distances vecdb's operator classes order by, shared by the
 * graph, the quantizers and the glue.
 *
 * Always in "smaller is nearer" form, as the index orders them:
 *   L2            |q - x|^2      (operator <-> is its square root)
 *   InnerProduct  -<q, x>        (operator <#>)
 *   Cosine        1 - cos(q, x)  (operator <=>)
 *   L1            sum |q_i - x_i| (operator <+>; no quantizer supports it:
 *                 L1 is not invariant under rotation, so codes give no bound)
 *   Jaccard       1 - |a and b| / |a or b| of bit strings held as 0/1 vectors:
 *                 1 - <q, x> / (|q|^2 + |x|^2 - <q, x>), and 1 when <q, x> = 0
 *                 (operator <%> on bit; like L1, fp32 vectors only)
 */
#pragma once

#include <cmath>
#include <cstdint>

namespace vecdb {

enum class Metric : std::uint8_t {
    L2 = 0,
    InnerProduct = 1,
    Cosine = 2,
    L1 = 3,
    Jaccard = 4,
};

/// Jaccard distance from a 0/1 pair's inner product and squared norms (the
/// bit counts), as jaccard_distance(bit, bit): 1 when nothing is shared.
inline double jaccard_from_sums(double dot, double norm2_a, double norm2_b)
{
    return dot > 0.0 ? 1.0 - dot / (norm2_a + norm2_b - dot) : 1.0;
}

/// The metrics no quantized code bounds: indexes store their vectors whole.
inline bool metric_needs_exact_vectors(Metric metric) { return metric == Metric::L1 || metric == Metric::Jaccard; }

/// Search distances are floats, but what they stand for can leave float's
/// range: |q - x|^2 passes FLT_MAX once |q - x| > 1.8e19 and falls below
/// the normal floats once |q - x| < 1e-19, and vectors hold any value from
/// subnormal to 3.4e38.  rank_float() maps a distance computed in double to
/// a float in the same order: itself for magnitudes in [2^-100, 2^120],
/// logarithmic outside (2^120 (1 + log2(|d| / 2^120) / 32) above, below
/// 2^123 for any double; 2^-100 / (1 + log2(2^-100 / |d|) / 32) under, above
/// 2^-106 for any double but 0), so neither huge nor tiny distances tie at
/// infinity or 0; they still rank to about 1 part in 10^5.  rank_double()
/// undoes it.  NaN ranks as +inf.
constexpr double kRankLinearMin = 0x1p-100;
constexpr double kRankLinearMax = 0x1p120;

/// Whether a float distance is one rank_float() leaves as it is.
inline bool rank_linear(float d)
{
    const float a = std::fabs(d);
    return a >= static_cast<float>(kRankLinearMin) && a <= static_cast<float>(kRankLinearMax);
}

inline float rank_float(double d)
{
    const double a = std::fabs(d);
    float f;
    if (a >= kRankLinearMin && a <= kRankLinearMax)
        return static_cast<float>(d);
    if (std::isnan(d))
        return INFINITY;
    if (a == 0.0)
        return 0.0f;
    if (a > kRankLinearMax)
        f = static_cast<float>(kRankLinearMax * (1.0 + std::log2(a / kRankLinearMax) / 32.0));
    else
        f = static_cast<float>(kRankLinearMin / (1.0 + std::log2(kRankLinearMin / a) / 32.0));
    return d < 0 ? -f : f;
}

inline double rank_double(float f)
{
    const double a = std::fabs(static_cast<double>(f));
    double d;
    if ((a >= kRankLinearMin && a <= kRankLinearMax) || a == 0.0 || std::isinf(a) || std::isnan(a))
        return f;
    if (a > kRankLinearMax)
        d = kRankLinearMax * std::exp2((a / kRankLinearMax - 1.0) * 32.0);
    else
        d = kRankLinearMin * std::exp2(-(kRankLinearMin / a - 1.0) * 32.0);
    return f < 0 ? -d : d;
}

}  // namespace vecdb
