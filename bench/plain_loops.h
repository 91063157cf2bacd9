/*
 * plain_loops.h -- the baseline for bench/distance_bench.cpp: distance loops
 * as pgvector writes them (one float accumulator, a simple for loop), built
 * with pgvector's flags so gcc auto-vectorizes them for plain x86-64 (SSE2).
 */
#pragma once

#include <cstddef>

namespace plain {

/// The three sums of cosine distance, from one loop.
struct CosineSums {
    float dot;
    float norm_a;
    float norm_b;
};

float l2_squared(const float *a, const float *b, std::size_t n);
float dot(const float *a, const float *b, std::size_t n);
CosineSums cosine_sums(const float *a, const float *b, std::size_t n);
float l1(const float *a, const float *b, std::size_t n);

}  // namespace plain
