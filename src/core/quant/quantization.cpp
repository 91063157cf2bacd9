/*
 * quantization.cpp -- names and construction of the codes an index stores
 * (quantization.h).
 */
#include "quantization.h"

#include <cstring>
#include <new>

#include "binary.h"
#include "bit_code.h"
#include "e8.h"
#include "h4.h"
#include "sq8.h"

#include "../core_only.h"

namespace vecdb {

namespace {

struct NamedQuantization {
    const char *name;
    Quantization q;
};

constexpr NamedQuantization kNames[] = {
    {"none", Quantization::None}, {"sq8", Quantization::SQ8}, {"e8", Quantization::E8},
    {"e8_4bit", Quantization::E8x4}, {"h4", Quantization::H4}, {"binary", Quantization::Binary},
    {"bit", Quantization::Bit}, {"sparse", Quantization::Sparse},
};

static_assert(sizeof(SQ8Quantizer) <= kQuantizerBytes && sizeof(E8Quantizer) <= kQuantizerBytes &&
                  sizeof(H4Quantizer) <= kQuantizerBytes && sizeof(BinaryQuantizer) <= kQuantizerBytes &&
                  sizeof(BitQuantizer) <= kQuantizerBytes,
              "kQuantizerBytes holds every quantizer");

}  // namespace

const char *quantization_name(Quantization q)
{
    for (const NamedQuantization &n : kNames)
        if (n.q == q)
            return n.name;
    return "unknown";
}

bool known_quantization(std::uint8_t value)
{
    for (const NamedQuantization &n : kNames)
        if (std::uint8_t(n.q) == value)
            return true;
    return false;
}

bool parse_quantization(const char *name, Quantization *q)
{
    for (const NamedQuantization &n : kNames)
        if (std::strcmp(n.name, name) == 0) {
            *q = n.q;
            return true;
        }
    return false;
}

const char *quantization_names() { return "\"none\", \"sq8\", \"e8\", \"e8_4bit\", \"h4\", \"binary\", \"bit\" and \"sparse\""; }

vecdb::Quantizer *make_quantizer(Quantization q, Metric metric, std::size_t dims, std::uint64_t seed, float *ranges,
                                void *memory)
{
    switch (q) {
    case Quantization::None:
    case Quantization::Sparse:
        return nullptr;
    case Quantization::SQ8:
        return new (memory) SQ8Quantizer(dims, metric, ranges);
    case Quantization::E8:
        return new (memory) E8Quantizer(dims, metric, seed, E8Quantizer::Mode::E8P);
    case Quantization::E8x4:
        return new (memory) E8Quantizer(dims, metric, seed, E8Quantizer::Mode::Residual4);
    case Quantization::H4:
        return new (memory) H4Quantizer(dims, metric, seed);
    case Quantization::Binary:
        return new (memory) BinaryQuantizer(dims, metric, seed);
    case Quantization::Bit:
        return new (memory) BitQuantizer(dims, metric);
    }
    return nullptr;
}

bool quantization_supports(Quantization q, Metric metric)
{
    if (q == Quantization::None)
        return true;
    if (q == Quantization::Sparse)
        return metric != Metric::Jaccard;
    if (q == Quantization::Bit)
        return metric == Metric::L2 || metric == Metric::Jaccard;
    return !metric_needs_exact_vectors(metric);
}

std::size_t quantized_code_size(Quantization q, std::size_t dims)
{
    if (q == Quantization::None || q == Quantization::Sparse)
        return dims * sizeof(float);
    alignas(8) unsigned char memory[kQuantizerBytes];
    return make_quantizer(q, Metric::L2, dims, kDefaultRotationSeed, nullptr, memory)->code_size();
}

}  // namespace vecdb
