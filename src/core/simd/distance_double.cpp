/*
 * distance_double.cpp -- the distance sums in double (see distance.h): the
 * fallback for inputs whose float sums overflow or underflow.
 *
 * Compiled without ISA flags and without -ffast-math: plain in-order loops
 * that every CPU runs.  Each float converts to double exactly, so the only
 * error is double rounding of the differences, products and sums.
 */
#include <cmath>

#include "distance.h"

#include "../core_only.h"

namespace vecdb {

double l2_squared_double(const float *a, const float *b, std::size_t n)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i++) {
        const double diff = double(a[i]) - double(b[i]);
        sum += diff * diff;
    }
    return sum;
}

double dot_double(const float *a, const float *b, std::size_t n)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i++)
        sum += double(a[i]) * double(b[i]);
    return sum;
}

double l1_double(const float *a, const float *b, std::size_t n)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i++)
        sum += std::fabs(double(a[i]) - double(b[i]));
    return sum;
}

CosineSumsDouble cosine_sums_double(const float *a, const float *b, std::size_t n)
{
    CosineSumsDouble sums = {0.0, 0.0, 0.0};
    for (std::size_t i = 0; i < n; i++) {
        const double x = a[i], y = b[i];
        sums.dot += x * y;
        sums.norm_a += x * x;
        sums.norm_b += y * y;
    }
    return sums;
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
