/*
 * quant_bench.cpp -- Google Benchmark of every index code's hot calls, at
 * 128 and 768 dimensions: encode (ns per vector), distance (the estimate a
 * graph search ranks by) and distance_and_bound (estimate plus guaranteed
 * bound), the last two in ns per code over 4,096 codes, so the codes stream
 * from memory as in a scan; and lower_bounds (the batch call an ivf list
 * scan makes per page), under L2 and cosine.  Random Gaussian vectors (the rotation makes
 * every input look like one).  `make bench-quant-kernels`.
 */
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "../src/core/quant/quantization.h"
#include "../src/core/simd/distance.h"

namespace {

using namespace vecdb;

constexpr std::size_t kCodes = 4096;

/// One quantizer with its data: n encoded vectors and a query.
struct Fixture {
    std::size_t dim;
    std::vector<float> ranges;  // SQ8 only
    alignas(8) unsigned char quantizer_memory[kQuantizerBytes];
    Quantizer *quantizer = nullptr;
    std::vector<float> vectors, query, work;
    std::vector<std::uint8_t> codes;
    std::vector<std::uint64_t> computer_memory;
    DistanceComputer *computer = nullptr;

    Fixture(const char *name, std::size_t d, Metric metric = Metric::L2) : dim(d), ranges(2 * d)
    {
        Quantization q = Quantization::SQ8;
        parse_quantization(name, &q);
        quantizer = make_quantizer(q, metric, d, kDefaultRotationSeed, ranges.data(), quantizer_memory);
        std::mt19937 rng(42);
        std::normal_distribution<float> normal;
        vectors.resize(kCodes * d);
        for (float &x : vectors)
            x = normal(rng);
        query.resize(d);
        for (float &x : query)
            x = normal(rng);
        work.resize(quantizer->work_floats() + 1);
        if (quantizer->needs_training())
            quantizer->train(kCodes, vectors.data(), work.data());
        codes.resize(kCodes * quantizer->code_size());
        for (std::size_t i = 0; i < kCodes; i++)
            quantizer->encode(&vectors[i * d], &codes[i * quantizer->code_size()], work.data());
        computer_memory.resize(quantizer->distance_computer_bytes() / 8 + 1);
        computer = quantizer->distance_computer(computer_memory.data());
        computer->set_query(query.data());
    }
};

void register_all()
{
    for (const char *name : {"sq8", "e8", "e8_4bit", "h4", "binary"}) {
        for (std::size_t d : {128, 768}) {
            auto f = std::make_shared<Fixture>(name, d);
            const std::string suffix = std::string(name) + "/" + std::to_string(d);
            benchmark::RegisterBenchmark(("encode/" + suffix).c_str(), [f](benchmark::State &state) {
                std::vector<std::uint8_t> code(f->quantizer->code_size());
                std::size_t i = 0;
                for (auto _ : state) {
                    f->quantizer->encode(&f->vectors[(i++ % kCodes) * f->dim], code.data(), f->work.data());
                    benchmark::DoNotOptimize(code.data());
                }
            });
            benchmark::RegisterBenchmark(("distance/" + suffix).c_str(), [f](benchmark::State &state) {
                const std::size_t size = f->quantizer->code_size();
                for (auto _ : state)
                    for (std::size_t i = 0; i < kCodes; i++)
                        benchmark::DoNotOptimize(f->computer->distance(&f->codes[i * size]));
                state.SetItemsProcessed(state.iterations() * kCodes);
            });
            benchmark::RegisterBenchmark(("distance_and_bound/" + suffix).c_str(), [f](benchmark::State &state) {
                const std::size_t size = f->quantizer->code_size();
                float bound;
                for (auto _ : state)
                    for (std::size_t i = 0; i < kCodes; i++) {
                        benchmark::DoNotOptimize(f->computer->distance_and_bound(&f->codes[i * size], &bound));
                        benchmark::DoNotOptimize(bound);
                    }
                state.SetItemsProcessed(state.iterations() * kCodes);
            });
            for (Metric metric : {Metric::L2, Metric::Cosine}) {
                auto g = metric == Metric::L2 ? f : std::make_shared<Fixture>(name, d, metric);
                const char *metric_name = metric == Metric::L2 ? "l2" : "cosine";
                benchmark::RegisterBenchmark(("lower_bounds/" + std::string(metric_name) + "/" + suffix).c_str(),
                                             [g](benchmark::State &state) {
                                                 std::vector<float> out(kCodes);
                                                 for (auto _ : state) {
                                                     g->computer->lower_bounds(g->codes.data(), g->quantizer->code_size(),
                                                                               kCodes, out.data());
                                                     benchmark::DoNotOptimize(out.data());
                                                 }
                                                 state.SetItemsProcessed(state.iterations() * kCodes);
                                             });
            }
        }
    }
}

}  // namespace

int main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    init_distance_kernels();
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
