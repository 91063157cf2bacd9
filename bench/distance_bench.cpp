/*
 * distance_bench.cpp -- ns per call of the distance kernels: pgvector-style
 * plain loops (plain_loops.cpp) against vecdb's AVX2 set and the set
 * init_distance_kernels() picks, at 128, 768 and 1536 dimensions; and the
 * SQ8 scan's dot_u8 (floats times bytes) of the scalar, AVX2 and active sets
 * at 100, 128 and 768 dimensions.  The checked distances (the SQL operators':
 * the active set plus the overflow/underflow test, see distance.h) are timed
 * beside the active set on the same ordinary vectors, where they never fall
 * back to double, to show what the test costs; the double sums (the fallback)
 * beside them.
 *
 * One pair of vectors per dimension, 64-byte aligned and small enough to stay
 * in L1, so this times the arithmetic, not memory.  Every kernel is called
 * through a function pointer, as the SQL functions call them.  After the
 * Google Benchmark output, a summary table gives the fastest of three
 * repetitions and the speedup over the plain loop.
 */
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "../src/core/simd/distance.h"
#include "plain_loops.h"

namespace {

constexpr std::size_t kDims[] = {128, 768, 1536};
constexpr std::size_t kMaxDim = 1536;
constexpr const char *kKernels[] = {"l2", "dot", "cosine", "l1"};
constexpr double kMinTime = 0.1;  // seconds per repetition
constexpr int kRepetitions = 3;

// One (a, b) pair per dimension: 2 x 6 KB at 1536 dims, well inside L1.
alignas(64) float vectors[std::size(kDims)][2][kMaxDim];

// dot_u8 at SQ8's typical sizes (SIFT 128, 768-dim embeddings; 100 has a tail).
constexpr std::size_t kU8Dims[] = {100, 128, 768};
constexpr std::size_t kMaxU8Dim = 768;
alignas(64) float u8_queries[std::size(kU8Dims)][kMaxU8Dim];
alignas(64) std::uint8_t u8_codes[std::size(kU8Dims)][kMaxU8Dim];

void fill_vectors()
{
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    for (auto &pair : vectors)
        for (auto &v : pair)
            for (float &x : v)
                x = value(rng);
    std::uniform_int_distribution<int> byte(0, 255);
    for (std::size_t d = 0; d < std::size(kU8Dims); d++) {
        for (std::size_t i = 0; i < kMaxU8Dim; i++) {
            u8_queries[d][i] = value(rng);
            u8_codes[d][i] = static_cast<std::uint8_t>(byte(rng));
        }
    }
}

std::string benchmark_name(const char *kernel, std::size_t dim, const std::string &set)
{
    return std::string(kernel) + "/" + std::to_string(dim) + "/" + set;
}

// The least noisy summary on a shared VM: interference only adds time.
double min_of(const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); }

template <class Fn, class B>
void add_benchmark(const std::string &name, Fn fn, const float *a, const B *b, std::size_t n)
{
    benchmark::RegisterBenchmark(name.c_str(),
                                 [fn, a, b, n](benchmark::State &state) {
                                     for (auto _ : state) {
                                         auto result = fn(a, b, n);
                                         benchmark::DoNotOptimize(result);
                                     }
                                 })
        ->Unit(benchmark::kNanosecond)
        ->MinTime(kMinTime)
        ->Repetitions(kRepetitions)
        ->ComputeStatistics("min", min_of)
        ->DisplayAggregatesOnly(true);
}

/// Registers one kernel of one set at one dimension.
template <class L2, class Dot, class Cosine, class L1>
void add_kernel(const std::string &set, L2 l2, Dot dot, Cosine cosine, L1 l1, const char *kernel, std::size_t d)
{
    const float *a = vectors[d][0], *b = vectors[d][1];
    std::string name = benchmark_name(kernel, kDims[d], set);
    std::string k = kernel;
    if (k == "l2")
        add_benchmark(name, l2, a, b, kDims[d]);
    else if (k == "dot")
        add_benchmark(name, dot, a, b, kDims[d]);
    else if (k == "cosine")
        add_benchmark(name, cosine, a, b, kDims[d]);
    else
        add_benchmark(name, l1, a, b, kDims[d]);
}

void add_kernel(const vecdb::DistanceKernels &k, const char *kernel, std::size_t d)
{
    add_kernel(k.name, k.l2_squared, k.dot, k.cosine_sums, k.l1, kernel, d);
}

void add_dot_u8(const vecdb::DistanceKernels &k, std::size_t d)
{
    add_benchmark(benchmark_name("dot_u8", kU8Dims[d], k.name), k.dot_u8, u8_queries[d], u8_codes[d], kU8Dims[d]);
}

/// Prints one console line per benchmark, its "min" aggregate (and any
/// error), and keeps that time by name for the summary table.
class RecordingReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run> &runs) override
    {
        std::vector<Run> shown;
        for (const Run &run : runs) {
            if (run.error_occurred) {
                shown.push_back(run);
            } else if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "min") {
                ns_per_call_[run.run_name.function_name] = run.GetAdjustedRealTime();
                shown.push_back(run);
            }
        }
        ConsoleReporter::ReportRuns(shown);
    }

    /// ns per call, or a negative number if the benchmark did not run.
    double ns_per_call(const std::string &name) const
    {
        auto it = ns_per_call_.find(name);
        return it == ns_per_call_.end() ? -1.0 : it->second;
    }

private:
    std::map<std::string, double> ns_per_call_;
};

bool cpu_has_avx2()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

void print_cell(double ns)
{
    if (ns < 0)
        std::printf(" %10s", "-");
    else
        std::printf(" %10.1f", ns);
}

void print_ratio(double num, double den)
{
    if (num < 0 || den < 0)
        std::printf(" %13s", "-");
    else
        std::printf(" %12.2fx", num / den);
}

void print_summary(const RecordingReporter &results, bool have_avx2, const char *active)
{
    std::string active_col = std::string("active:") + active;
    std::printf("\nns per call (min of %d repetitions), vectors in L1\n", kRepetitions);
    std::printf("%-7s %5s %10s %10s %10s %13s %13s\n", "kernel", "dim", "plain", "avx2", active_col.c_str(),
                "plain/avx2", "plain/active");
    for (const char *kernel : kKernels) {
        for (std::size_t dim : kDims) {
            double plain = results.ns_per_call(benchmark_name(kernel, dim, "plain"));
            double avx2 = have_avx2 ? results.ns_per_call(benchmark_name(kernel, dim, "avx2")) : -1.0;
            double best = results.ns_per_call(benchmark_name(kernel, dim, active));
            std::printf("%-7s %5zu", kernel, dim);
            print_cell(plain);
            print_cell(avx2);
            print_cell(best);
            print_ratio(plain, avx2);
            print_ratio(plain, best);
            std::printf("\n");
        }
    }
}

void print_checked_summary(const RecordingReporter &results, const char *active)
{
    std::printf("\nchecked distances (SQL operators) on ordinary vectors and the double fallback, ns per call (min of "
                "%d repetitions)\n",
                kRepetitions);
    std::printf("%-7s %5s %10s %10s %13s %10s\n", "kernel", "dim", active, "checked", "checked/raw", "double");
    for (const char *kernel : kKernels) {
        for (std::size_t dim : kDims) {
            double raw = results.ns_per_call(benchmark_name(kernel, dim, active));
            double checked = results.ns_per_call(benchmark_name(kernel, dim, "checked"));
            std::printf("%-7s %5zu", kernel, dim);
            print_cell(raw);
            print_cell(checked);
            print_ratio(checked, raw);
            print_cell(results.ns_per_call(benchmark_name(kernel, dim, "double")));
            std::printf("\n");
        }
    }
}

void print_dot_u8_summary(const RecordingReporter &results, bool have_avx2, const char *active)
{
    std::string active_col = std::string("active:") + active;
    std::printf("\ndot_u8 (SQ8 scan), ns per call (min of %d repetitions)\n", kRepetitions);
    std::printf("%5s %10s %10s %10s %13s\n", "dim", "scalar", "avx2", active_col.c_str(), "scalar/active");
    for (std::size_t dim : kU8Dims) {
        double scalar = results.ns_per_call(benchmark_name("dot_u8", dim, "scalar"));
        double avx2 = have_avx2 ? results.ns_per_call(benchmark_name("dot_u8", dim, "avx2")) : -1.0;
        double best = results.ns_per_call(benchmark_name("dot_u8", dim, active));
        std::printf("%5zu", dim);
        print_cell(scalar);
        print_cell(avx2);
        print_cell(best);
        print_ratio(scalar, best);
        std::printf("\n");
    }
}

}  // namespace

int main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;

    fill_vectors();
    vecdb::init_distance_kernels();
    const vecdb::DistanceKernels &active = vecdb::distance_kernels();
    bool have_avx2 = cpu_has_avx2();

    // The sets side by side for each (dimension, kernel), so any drift in
    // clock speed during the run hits them alike.
    for (std::size_t d = 0; d < std::size(kDims); d++) {
        for (const char *kernel : kKernels) {
            add_kernel("plain", plain::l2_squared, plain::dot, plain::cosine_sums, plain::l1, kernel, d);
            if (have_avx2)
                add_kernel(vecdb::kAvx2Kernels, kernel, d);
            if (!have_avx2 || &active != &vecdb::kAvx2Kernels)
                add_kernel(active, kernel, d);
            add_kernel("checked", vecdb::l2_squared_checked, vecdb::dot_checked, vecdb::cosine_distance_checked,
                       vecdb::l1_checked, kernel, d);
            add_kernel("double", vecdb::l2_squared_double, vecdb::dot_double, vecdb::cosine_sums_double,
                       vecdb::l1_double, kernel, d);
        }
    }
    for (std::size_t d = 0; d < std::size(kU8Dims); d++) {
        add_dot_u8(vecdb::kScalarKernels, d);
        if (have_avx2)
            add_dot_u8(vecdb::kAvx2Kernels, d);
        if (&active != &vecdb::kScalarKernels && (!have_avx2 || &active != &vecdb::kAvx2Kernels))
            add_dot_u8(active, d);
    }

    RecordingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    print_summary(reporter, have_avx2, active.name);
    print_checked_summary(reporter, active.name);
    print_dot_u8_summary(reporter, have_avx2, active.name);
    return 0;
}
