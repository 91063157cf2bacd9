/*
 * plain_loops.cpp -- C-style loops with a single float accumulator.
 *
 * The Makefile compiles this file alone with -O2 -ftree-vectorize
 * -fassociative-math -fno-signed-zeros -fno-trapping-math and no -march, as
 * pgvector is built: -fassociative-math is what lets gcc split the one
 * accumulator into SSE lanes.  Keep the loops naive; they are the yardstick.
 */
#include "plain_loops.h"

#include <cmath>

// Each loop gets its own 64-byte line.  Left at gcc's 16-byte alignment, a
// loop that happens to straddle a line runs ~2x slower at 128 dims on this
// CPU, and where it lands shifts whenever distance_bench.cpp changes size.
// Code is otherwise identical (same instructions as without the pragma).
#pragma GCC optimize("align-loops=64")

namespace plain {

float l2_squared(const float *a, const float *b, std::size_t n)
{
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; i++) {
        float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

float dot(const float *a, const float *b, std::size_t n)
{
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

CosineSums cosine_sums(const float *a, const float *b, std::size_t n)
{
    float dot = 0.0f, norm_a = 0.0f, norm_b = 0.0f;
    for (std::size_t i = 0; i < n; i++) {
        dot += a[i] * b[i];
        norm_a += a[i] * a[i];
        norm_b += b[i] * b[i];
    }
    return CosineSums{dot, norm_a, norm_b};
}

float l1(const float *a, const float *b, std::size_t n)
{
    float sum = 0.0f;
    for (std::size_t i = 0; i < n; i++)
        sum += fabsf(a[i] - b[i]);
    return sum;
}

}  // namespace plain
