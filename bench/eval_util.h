/*
 * eval_util.h -- what the evaluation programs (quant_eval, hnsw_eval) share:
 * reading TEXMEX .fvecs files and the exact distance the SQL operators
 * compute (fp32 sums on the process's kernels, finished in double).
 */
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "../src/core/quant/quantizer.h"
#include "../src/core/simd/distance.h"

namespace vecdb::eval {

struct Dataset {
    std::size_t n = 0, d = 0;
    std::vector<float> v;
};

inline Dataset read_fvecs(const char *path, std::size_t limit)
{
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        std::fprintf(stderr, "cannot open %s\n", path);
        std::exit(1);
    }
    Dataset data;
    std::int32_t dim;
    while (data.n < limit && std::fread(&dim, 4, 1, f) == 1) {
        if (dim <= 0 || (data.d != 0 && static_cast<std::size_t>(dim) != data.d)) {
            std::fprintf(stderr, "%s: vector %zu has dimension %d\n", path, data.n, dim);
            std::exit(1);
        }
        data.d = static_cast<std::size_t>(dim);
        data.v.resize((data.n + 1) * data.d);
        if (std::fread(&data.v[data.n * data.d], 4, data.d, f) != data.d) {
            std::fprintf(stderr, "%s: truncated vector %zu\n", path, data.n);
            std::exit(1);
        }
        data.n++;
    }
    std::fclose(f);
    if (data.n == 0) {
        std::fprintf(stderr, "%s: no vectors (gzipped? zcat it first)\n", path);
        std::exit(1);
    }
    return data;
}

inline double exact_distance(Metric metric, const float *q, const float *x, std::size_t d)
{
    const DistanceKernels &k = distance_kernels();
    switch (metric) {
    case Metric::L2:
        return k.l2_squared(q, x, d);
    case Metric::InnerProduct:
        return -static_cast<double>(k.dot(q, x, d));
    case Metric::Cosine: {
        CosineSums s = k.cosine_sums(q, x, d);
        double sim = static_cast<double>(s.dot) / std::sqrt(static_cast<double>(s.norm_a) * s.norm_b);
        return 1.0 - std::fmax(-1.0, std::fmin(1.0, sim));
    }
    }
    return 0.0;
}

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Runs f(i) for i in [0, n) on `threads` threads (the caller's included).
template <class F>
inline void parallel_for(std::size_t n, unsigned threads, F f)
{
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < n;)
            f(i);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; t++)
        pool.emplace_back(work);
    work();
    for (auto &t : pool)
        t.join();
}

}  // namespace vecdb::eval
