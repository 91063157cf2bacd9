/*
 * splitmix64.h -- the one pseudo-random source of src/core: rotation signs and
 * other stored randomness of the quantizers, HNSW node levels, id hashing.
 *
 * Rotation signs (and any other stored randomness) must be identical on every
 * platform and compiler for as long as an index built with them exists, so
 * they come from this fixed integer recipe (Steele, Lea & Flood, "Fast
 * splittable pseudorandom number generators", 2014; the constants of
 * java.util.SplittableRandom), never from std::*_distribution or libm.
 *
 * The generator is counter-based: output n of the stream seeded with s is
 * mix(s + (n + 1) * golden_gamma), so any output can be read without state.
 * Seed 0 gives e220a8397b1dcdaf, 6e789e6aa1b965f4, 06c45d188009454f, ...
 */
#pragma once

#include <cstdint>

namespace vecdb {

/// Weyl-sequence increment: 2^64 / golden ratio, odd.
constexpr std::uint64_t kSplitMix64Gamma = 0x9E3779B97F4A7C15ull;

/// The output function: a bijective 64-bit finalizer.
constexpr std::uint64_t splitmix64_mix(std::uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// Output number n (0-based) of the stream seeded with `seed`.
constexpr std::uint64_t splitmix64_at(std::uint64_t seed, std::uint64_t n)
{
    return splitmix64_mix(seed + (n + 1) * kSplitMix64Gamma);
}

/// The top 53 bits of a word as a double in (0, 1): shifted by half a step,
/// so never 0 or 1.
constexpr double splitmix64_open_unit(std::uint64_t word) { return ((word >> 11) + 0.5) * 0x1.0p-53; }

/// Sequential form, for callers that walk the stream in order.  Trivially
/// destructible and 8 bytes, so it can live in any caller memory.
struct SplitMix64 {
    std::uint64_t state;  ///< the seed, advanced by kSplitMix64Gamma per output

    constexpr explicit SplitMix64(std::uint64_t seed) : state(seed) {}

    constexpr std::uint64_t next()
    {
        state += kSplitMix64Gamma;
        return splitmix64_mix(state);
    }

    /// Uniform in [0, 1) with 53 random bits: exact, no libm.
    constexpr double next_double() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Uniform in (0, 1), never 0 or 1, so -log(u) is finite.
    constexpr double uniform() { return splitmix64_open_unit(next()); }
};

}  // namespace vecdb
