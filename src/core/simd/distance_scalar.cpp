/*
 * distance_scalar.cpp -- the reference kernels: one accumulator, in order.
 *
 * Compiled without -ffast-math, so the compiler keeps the summation order and
 * these are what the SIMD kernels are tested against.  They are also the
 * fallback on CPUs without AVX2.
 */
#include <cmath>
#include <cstring>

#include "../half.h"
#include "distance.h"

#include "../core_only.h"

namespace vecdb {

namespace {

float l2_squared_scalar(const float *a, const float *b, std::size_t n)
{
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; i++) {
        float diff = a[i] - b[i];
        sum += diff * diff;
    }
    return sum;
}

float dot_scalar(const float *a, const float *b, std::size_t n)
{
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

CosineSums cosine_sums_scalar(const float *a, const float *b, std::size_t n)
{
    CosineSums sums = {0.0f, 0.0f, 0.0f};
    for (std::size_t i = 0; i < n; i++) {
        sums.dot += a[i] * b[i];
        sums.norm_a += a[i] * a[i];
        sums.norm_b += b[i] * b[i];
    }
    return sums;
}

float l1_scalar(const float *a, const float *b, std::size_t n)
{
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; i++)
        sum += std::fabs(a[i] - b[i]);
    return sum;
}

void l2_squared_x4_scalar(const float *a, const float *const *b, std::size_t n, float *out)
{
    for (int k = 0; k < 4; k++)
        out[k] = l2_squared_scalar(a, b[k], n);
}

void dot_x4_scalar(const float *a, const float *const *b, std::size_t n, float *out)
{
    for (int k = 0; k < 4; k++)
        out[k] = dot_scalar(a, b[k], n);
}

void dot_panel_scalar(const float *const *rows, const float *panel, std::size_t n, float *out)
{
    for (std::size_t r = 0; r < kPanelRows; r++)
        for (std::size_t j = 0; j < kPanelWidth; j++) {
            float sum = 0.0f;
            for (std::size_t t = 0; t < n; t++)
                sum += rows[r][t] * panel[kPanelWidth * t + j];
            out[kPanelWidth * r + j] = sum;
        }
}

float dot_u8_scalar(const float *a, const std::uint8_t *b, std::size_t n)
{
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; i++)
        sum += a[i] * static_cast<float>(b[i]);
    return sum;
}

#include "bit_counts.inc"
#include "half_convert.inc"

}  // namespace

const DistanceKernels kScalarKernels = {
    "scalar",      l2_squared_scalar, dot_scalar,         cosine_sums_scalar, l1_scalar,    hamming_words,
    bit_counts_words, l2_squared_x4_scalar, dot_x4_scalar, dot_panel_scalar, dot_u8_scalar, half_to_float_loop,
};

}  // namespace vecdb
