/*
 * distance_double.cpp -- the distance sums in double (see distance.h): the
 * fallback for inputs whose float sums overflow or underflow.
 *
 * Compiled without ISA flags and without -ffast-math, so every CPU runs them.
 * Each float converts to double exactly; the only error is double rounding of
 * the differences, products and sums.  Independent accumulators (four lanes,
 * i mod 4, added pairwise at the end; two for the three cosine sums) break the
 * chain of dependent additions: l2, dot and l1 run about 3x faster than with
 * one accumulator (bench-kernels), with the same error bound.
 */
#include <cmath>

#include "distance.h"

#include "../core_only.h"

namespace vecdb {

namespace {

constexpr std::size_t kLanes = 4;

/// sum over i of term(i), in four lanes.
template <class Term>
double sum4(std::size_t n, Term term)
{
    double lane[kLanes] = {0.0, 0.0, 0.0, 0.0};
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (std::size_t j = 0; j < kLanes; j++)
            lane[j] += term(i + j);
    for (; i < n; i++)
        lane[i % kLanes] += term(i);
    return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

}  // namespace

double l2_squared_double(const float *a, const float *b, std::size_t n)
{
    return sum4(n, [a, b](std::size_t i) {
        const double diff = double(a[i]) - double(b[i]);
        return diff * diff;
    });
}

double dot_double(const float *a, const float *b, std::size_t n)
{
    return sum4(n, [a, b](std::size_t i) { return double(a[i]) * double(b[i]); });
}

double l1_double(const float *a, const float *b, std::size_t n)
{
    return sum4(n, [a, b](std::size_t i) { return std::fabs(double(a[i]) - double(b[i])); });
}

CosineSumsDouble cosine_sums_double(const float *a, const float *b, std::size_t n)
{
    // Two lanes of three sums: six accumulators stay in registers.
    double dot0 = 0.0, dot1 = 0.0, norm_a0 = 0.0, norm_a1 = 0.0, norm_b0 = 0.0, norm_b1 = 0.0;
    std::size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        const double x0 = a[i], y0 = b[i], x1 = a[i + 1], y1 = b[i + 1];
        dot0 += x0 * y0;
        dot1 += x1 * y1;
        norm_a0 += x0 * x0;
        norm_a1 += x1 * x1;
        norm_b0 += y0 * y0;
        norm_b1 += y1 * y1;
    }
    if (i < n) {
        const double x = a[i], y = b[i];
        dot0 += x * y;
        norm_a0 += x * x;
        norm_b0 += y * y;
    }
    return {dot0 + dot1, norm_a0 + norm_a1, norm_b0 + norm_b1};
}

double cosine_distance_double(const float *a, const float *b, std::size_t n)
{
    const CosineSumsDouble sums = cosine_sums_double(a, b, n);
    if (sums.norm_a == 0.0 || sums.norm_b == 0.0)
        return NAN;  // a zero vector has no direction (pgvector returns NaN too)
    // 4e-180 <= norm_a * norm_b <= (1.9e81)^2 = 3.5e162: finite and non-zero.
    const double similarity = sums.dot / std::sqrt(sums.norm_a * sums.norm_b);
    // Rounding can leave |similarity| slightly above 1.
    return 1.0 - std::fmax(-1.0, std::fmin(1.0, similarity));
}

}  // namespace vecdb
