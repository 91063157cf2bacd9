/*
 * distance_checked.cpp -- the SQL operators' distances: the active float
 * kernels, redone in double when their result cannot be trusted (see
 * distance.h for the conditions and the bound).
 */
#include <cfloat>
#include <cmath>

#include "distance.h"
#include "../error.h"

#include "../core_only.h"

namespace vecdb {

namespace {

/// A float sum neither overflowed nor lies where underflow may have eaten it.
/// False for NaN as well.
bool trusted(float sum)
{
    const float magnitude = std::fabs(sum);
    return magnitude >= kMinTrustedFloatSum && magnitude <= FLT_MAX;
}

}  // namespace

double l2_squared_checked(const float *a, const float *b, std::size_t n)
{
    const float sum = distance_kernels().l2_squared(a, b, n);
    return trusted(sum) ? sum : l2_squared_double(a, b, n);
}

double dot_checked(const float *a, const float *b, std::size_t n)
{
    const float sum = distance_kernels().dot(a, b, n);
    return trusted(sum) ? sum : dot_double(a, b, n);
}

void l2_squared_checked_x4(const float *a, const float *const *b, std::size_t n, double *out)
{
    float sums[4];
    distance_kernels().l2_squared_x4(a, b, n, sums);
    for (int k = 0; k < 4; k++)
        out[k] = trusted(sums[k]) ? sums[k] : l2_squared_double(a, b[k], n);
}

void dot_checked_x4(const float *a, const float *const *b, std::size_t n, double *out)
{
    float sums[4];
    distance_kernels().dot_x4(a, b, n, sums);
    for (int k = 0; k < 4; k++)
        out[k] = trusted(sums[k]) ? sums[k] : dot_double(a, b[k], n);
}

double l1_checked(const float *a, const float *b, std::size_t n)
{
    const float sum = distance_kernels().l1(a, b, n);
    return sum <= FLT_MAX ? sum : l1_double(a, b, n);
}

double cosine_distance_checked(const float *a, const float *b, std::size_t n)
{
    const CosineSums sums = distance_kernels().cosine_sums(a, b, n);
    if (!trusted(sums.norm_a) || !trusted(sums.norm_b) || !(std::fabs(sums.dot) <= FLT_MAX))
        return cosine_distance_double(a, b, n);
    const double similarity = double(sums.dot) / std::sqrt(double(sums.norm_a) * double(sums.norm_b));
    // Rounding can leave |similarity| slightly above 1.
    return 1.0 - std::fmax(-1.0, std::fmin(1.0, similarity));
}

double spherical_distance_checked(const float *a, const float *b, std::size_t n)
{
    return std::acos(std::fmax(-1.0, std::fmin(1.0, dot_checked(a, b, n)))) / M_PI;
}

double operator_distance(Metric metric, const float *a, const float *b, std::size_t n)
{
    switch (metric) {
    case Metric::L2:
        return std::sqrt(l2_squared_checked(a, b, n));
    case Metric::InnerProduct:
        return -dot_checked(a, b, n);
    case Metric::Cosine:
        return cosine_distance_checked(a, b, n);
    case Metric::L1:
        return l1_checked(a, b, n);
    case Metric::Jaccard:
        break;
    }
    throw Error(ErrorKind::InvalidParameter, "no vector operator computes this distance");
}

}  // namespace vecdb
