/*
 * kernel_test_util.h -- what the distance kernel tests share.
 */
#pragma once

#include "../../src/core/simd/distance.h"

namespace vecdb::kernel_test {

/// Whether this CPU can execute the kernel set (SIMDe emulates the others).
inline bool cpu_can_run(const DistanceKernels *k)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (k == &kAvx512Kernels)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("f16c");
    if (k == &kAvx2Kernels)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt") &&
               __builtin_cpu_supports("f16c");
#else
    (void)k;
#endif
    return true;
}

}  // namespace vecdb::kernel_test
