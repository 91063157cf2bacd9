/*
 * eval_util.h -- what the evaluation programs (quant_eval, hnsw_eval) share:
 * reading TEXMEX .fvecs files and the exact distance the SQL operators
 * compute (fp32 sums on the process's kernels, finished in double).
 */
#pragma once

#include <atomic>
#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
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
    case Metric::L1:
        return k.l1(q, x, d);
    }
    return 0.0;
}

/// The command line every evaluation program takes:
///   [--metric l2|ip|cosine] [--base N] [--queries N] [--threads T] [--seed S] [switches] base.fvecs query.fvecs
struct Options {
    Metric metric = Metric::L2;
    std::size_t max_queries = 100;
    std::size_t max_base = static_cast<std::size_t>(-1);
    unsigned threads = 2;
    std::uint64_t seed = 0x5eed;     ///< quantizer rotations
    std::vector<std::string> given;  ///< the program's own switches that were given
    const char *base_path = nullptr, *query_path = nullptr;

    bool has(const char *name) const { return std::find(given.begin(), given.end(), name) != given.end(); }
};

/// Parses argv into `o` (whose fields hold the program's defaults); prints the
/// usage and returns false on anything it does not know.
inline bool parse_options(int argc, char **argv, Options &o, std::initializer_list<const char *> switches = {})
{
    std::vector<const char *> files;
    bool ok = true;
    for (int i = 1; i < argc && ok; i++) {
        std::string a = argv[i];
        bool has_value = i + 1 < argc;
        if (a == "--metric" && has_value) {
            std::string m = argv[++i];
            ok = m == "l2" || m == "ip" || m == "cosine";
            o.metric = m == "ip" ? Metric::InnerProduct : m == "cosine" ? Metric::Cosine : Metric::L2;
        } else if (a == "--queries" && has_value) {
            o.max_queries = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--base" && has_value) {
            o.max_base = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--threads" && has_value) {
            o.threads = std::max(1u, unsigned(std::strtoul(argv[++i], nullptr, 10)));
        } else if (a == "--seed" && has_value) {
            o.seed = std::strtoull(argv[++i], nullptr, 10);
        } else if (a.rfind("--", 0) == 0) {
            ok = std::find_if(switches.begin(), switches.end(), [&](const char *s) { return a == s; }) != switches.end();
            o.given.push_back(a);
        } else {
            files.push_back(argv[i]);
        }
    }
    if (!ok || files.size() != 2) {
        std::fprintf(stderr, "usage: %s [--metric l2|ip|cosine] [--base N] [--queries N] [--threads T] [--seed S]", argv[0]);
        for (const char *s : switches)
            std::fprintf(stderr, " [%s]", s);
        std::fprintf(stderr, " base.fvecs query.fvecs\n");
        return false;
    }
    o.base_path = files[0];
    o.query_path = files[1];
    return true;
}

/// Reads both files (exiting on a bad file or a dimension mismatch), selects
/// the distance kernels and prints the run's header line.
inline void load_inputs(const Options &o, Dataset &base, Dataset &queries)
{
    init_distance_kernels();
    base = read_fvecs(o.base_path, o.max_base);
    queries = read_fvecs(o.query_path, o.max_queries);
    if (base.d != queries.d) {
        std::fprintf(stderr, "base has %zu dimensions, queries %zu\n", base.d, queries.d);
        std::exit(1);
    }
    std::printf("base %s: %zu x %zu, queries %zu, metric %s, kernels %s, threads %u\n", o.base_path, base.n, base.d,
                queries.n, o.metric == Metric::L2 ? "L2" : o.metric == Metric::InnerProduct ? "IP" : "cosine",
                distance_kernels().name, o.threads);
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
