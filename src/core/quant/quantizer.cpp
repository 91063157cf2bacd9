/*
 * quantizer.cpp -- the default implementations of the quantizer interface
 * (quantizer.h) that most quantizers keep.
 */
#include "quantizer.h"

#include <cstring>

#include "../core_only.h"

namespace vecdb {

void Quantizer::train(std::size_t, const float *, float *) {}

void Quantizer::to_native(const float *x, float *u) const { std::memcpy(u, x, sizeof(float) * dim_); }

void DistanceComputer::distance_batch4(const std::uint8_t *const *codes, float *out) const
{
    for (int i = 0; i < 4; i++)
        out[i] = distance(codes[i]);
}

void DistanceComputer::lower_bounds(const std::uint8_t *codes, std::size_t stride, std::size_t n, float *out) const
{
    for (std::size_t i = 0; i < n; i++)
        out[i] = lower_bound(codes + i * stride);
}

}  // namespace vecdb
