/*
 * distance_dispatch.cpp -- chooses the kernel set once per process.
 *
 * This file is compiled without ISA flags: it must run on every CPU, and it
 * only reads the CPU's feature bits to decide which table to use.
 */
#include "distance.h"

#include "../core_only.h"

namespace vecdb {

namespace {
// A pointer constant-initialized to a constant table: no constructor runs at
// load, so it is safe in a dlopen'ed module.
const DistanceKernels *active_kernels = &kScalarKernels;
}  // namespace

const DistanceKernels *best_distance_kernels()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // Both vector sets are also built with -mpopcnt for the bit kernels and
    // -mf16c for halfvec's conversion.
    if (!__builtin_cpu_supports("popcnt") || !__builtin_cpu_supports("f16c"))
        return &kScalarKernels;
    if (__builtin_cpu_supports("avx512f"))
        return &kAvx512Kernels;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &kAvx2Kernels;
#elif defined(__aarch64__)
    return &kNeonKernels;
#endif
    return &kScalarKernels;
}

void set_distance_kernels(const DistanceKernels *kernels) { active_kernels = kernels; }

void init_distance_kernels() { set_distance_kernels(best_distance_kernels()); }

const DistanceKernels &distance_kernels() { return *active_kernels; }

}  // namespace vecdb
