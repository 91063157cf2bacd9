/*
 * hnsw_graph.cpp -- the MemoryGraph block: its layout, adding vectors, node
 * levels, metric distances and the per-node spinlocks.
 *
 * Layout of the caller's block (each region 64-byte aligned):
 *   vectors        capacity * dims floats
 *   links0         capacity * (2M + 1) uint32     [count, 2M ids] per node
 *   upper_offset   capacity uint32                pool word of the node's layer-1 record
 *   pool           pool_words uint32              [count, M ids] per node and layer >= 1
 *   levels, flags  capacity bytes each
 *   locks          capacity + 1 atomic bytes      one per node, then the entry lock
 *
 * The pool is sized for twice the expected number of upper-layer records
 * (capacity / (e^(1/mL) - 1), i.e. capacity / (M - 1) at the default mL)
 * plus kMaxLevel * 2 records; levels are drawn when a node is added, so add()
 * reports "full" rather than overflow in the (Chernoff-bound negligible)
 * case that the pool runs out first.
 */
#include "hnsw.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "../error.h"
#include "../simd/distance.h"
#include "../sparse_slots.h"
#include "../core_only.h"

namespace vecdb::hnsw {

namespace {

constexpr std::size_t kAlign = 64;

std::size_t round_up(std::size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

struct Layout {
    std::size_t vectors, links0, upper_offset, pool, levels, flags, locks, total;
    std::size_t pool_words;
};

std::size_t expected_upper_records(std::uint32_t capacity, double ml)
{
    // E[level] = sum over l >= 1 of P(level >= l) = sum exp(-l / mL)
    double per_node = 0.0;
    if (ml > 0.0)
        for (int l = 1; l <= kMaxLevel; l++)
            per_node += std::exp(-l / ml);
    return static_cast<std::size_t>(std::ceil(per_node * capacity));
}

Layout layout(std::uint32_t capacity, std::uint32_t dims, const Params &params)
{
    Layout l{};
    std::size_t at = 0;
    l.vectors = at;
    at += round_up(std::size_t(capacity) * dims * sizeof(float));
    l.links0 = at;
    at += round_up(std::size_t(capacity) * (2 * params.M + 1) * sizeof(std::uint32_t));
    l.upper_offset = at;
    at += round_up(std::size_t(capacity) * sizeof(std::uint32_t));
    l.pool_words = (2 * expected_upper_records(capacity, level_multiplier(params)) + 2 * kMaxLevel) * (params.M + 1);
    l.pool = at;
    at += round_up(l.pool_words * sizeof(std::uint32_t));
    l.levels = at;
    at += round_up(capacity);
    l.flags = at;
    at += round_up(capacity);
    l.locks = at;
    at += round_up((std::size_t(capacity) + 1) * sizeof(std::atomic<std::uint8_t>));
    l.total = at + kAlign;  // slack to align the block's start
    return l;
}

}  // namespace

void validate(const Params &params)
{
    if (params.M < 2 || params.M > kMaxM)
        throw Error(ErrorKind::InvalidParameter, "HNSW M must be between 2 and 128");
    if (params.ef_construction < 1)
        throw Error(ErrorKind::InvalidParameter, "HNSW ef_construction must be at least 1");
    if (!(params.ml >= 0.0) || !std::isfinite(params.ml))
        throw Error(ErrorKind::InvalidParameter, "HNSW level multiplier must be finite and >= 0");
    if (params.max_level < 0 || params.max_level > kMaxLevel)
        throw Error(ErrorKind::InvalidParameter, "HNSW max_level must be between 0 and 31");
}

double level_multiplier(const Params &params) { return params.ml > 0.0 ? params.ml : 1.0 / std::log(double(params.M)); }

int random_level(std::uint64_t seed, std::uint64_t id, double ml)
{
    // unif(0..1) from the top 53 bits, shifted by half a step: never 0 or 1.
    double u = splitmix64_open_unit(splitmix64_at(seed, id));
    double level = std::floor(-std::log(u) * ml);
    return level >= kMaxLevel ? kMaxLevel : static_cast<int>(level);
}

namespace {

/* Jaccard distance of 0/1 vectors, as jaccard_distance(bit, bit) computes it
 * on the bits: float sums of 0s and 1s are exact integers below 2^24. */
float jaccard_01(const float *a, const float *b, std::size_t n)
{
    const CosineSums s = distance_kernels().cosine_sums(a, b, n);
    return static_cast<float>(jaccard_from_sums(s.dot, s.norm_a, s.norm_b));
}

}  // namespace

MetricDistance metric_distance(Metric metric, std::uint32_t dims)
{
    const DistanceKernels &k = distance_kernels();
    switch (metric) {
    case Metric::L2:
        return MetricDistance{k.l2_squared, 1.0f, 0.0f, dims, metric};
    case Metric::InnerProduct:
        return MetricDistance{k.dot, -1.0f, 0.0f, dims, metric};
    case Metric::Cosine:
        return MetricDistance{k.dot, -1.0f, 1.0f, dims, metric};
    case Metric::L1:
        return MetricDistance{k.l1, 1.0f, 0.0f, dims, metric};
    case Metric::Jaccard:
        return MetricDistance{jaccard_01, 1.0f, 0.0f, dims, metric};
    }
    throw Error(ErrorKind::InvalidParameter, "unknown HNSW metric");
}

namespace {

float hamming_words(const float *a, const float *b, std::size_t words)
{
    return static_cast<float>(distance_kernels().hamming(reinterpret_cast<const std::uint8_t *>(a),
                                                         reinterpret_cast<const std::uint8_t *>(b), words * 4));
}

float jaccard_words(const float *a, const float *b, std::size_t words)
{
    const BitCounts c = distance_kernels().bit_counts(reinterpret_cast<const std::uint8_t *>(a),
                                                      reinterpret_cast<const std::uint8_t *>(b), words * 4);
    return static_cast<float>(jaccard_from_sums(double(c.both), double(c.a), double(c.b)));
}

}  // namespace

MetricDistance packed_bit_distance(Metric metric, std::uint32_t words)
{
    if (metric != Metric::L2 && metric != Metric::Jaccard)
        throw Error(ErrorKind::InvalidParameter, "packed bit strings take the L2 (Hamming) or Jaccard metric");
    MetricDistance d{metric == Metric::L2 ? hamming_words : jaccard_words, 1.0f, 0.0f, words, metric};
    d.form = VectorForm::PackedBits;
    return d;
}

namespace {

template <Metric kMetric>
float sparse_form_distance(const float *a, const float *b, std::size_t slots)
{
    const auto n = static_cast<std::uint32_t>(slots);
    return rank_float(sparse_operator_value(kMetric, sparse_view_within(a, n), sparse_view_within(b, n)));
}

}  // namespace

MetricDistance packed_sparse_distance(Metric metric, std::uint32_t slots)
{
    float (*kernel)(const float *, const float *, std::size_t) = nullptr;
    switch (metric) {
    case Metric::L2:
        kernel = sparse_form_distance<Metric::L2>;
        break;
    case Metric::InnerProduct:
        kernel = sparse_form_distance<Metric::InnerProduct>;
        break;
    case Metric::Cosine:
        kernel = sparse_form_distance<Metric::Cosine>;
        break;
    case Metric::L1:
        kernel = sparse_form_distance<Metric::L1>;
        break;
    case Metric::Jaccard:
        throw Error(ErrorKind::InvalidParameter, "sparse vectors have no Jaccard distance");
    }
    MetricDistance d{kernel, 1.0f, 0.0f, slots, metric};
    d.form = VectorForm::PackedSparse;
    return d;
}

float SparseQueryScore::operator()(const float *form) const
{
    const SparseView x = sparse_view(form);
    const float dot = scatter->dot(x);
    if (metric == Metric::InnerProduct)
        return rank_float(-sparse_dot_from_sum(dot, query, x));
    return rank_float(sparse_cosine_from_sums(dot, query_squares, sparse_squares_float(x), query, x));
}

bool scatters(Metric metric, const MetricDistance &distance)
{
    return distance.form == VectorForm::PackedSparse && (metric == Metric::InnerProduct || metric == Metric::Cosine);
}

std::size_t scatter_width(const MemoryGraph &graph, std::size_t max_width)
{
    if (!scatters(graph.metric(), graph.metric_distance()))
        return 0;
    std::size_t width = 0;
    for (std::uint32_t id = 0; id < graph.size(); id++) {
        const SparseView v = sparse_view(graph.vector(id));
        if (v.nnz > 0)
            width = std::max(width, std::size_t(v.indices[v.nnz - 1]) + 1);
    }
    return width <= max_width ? width : 0;
}

float MetricDistance::out_of_range(const float *a, const float *b) const
{
    if (form != VectorForm::Floats) /* exact values, ranked by the kernel */
        return kernel(a, b, dims);
    double d = 0.0;
    switch (metric) {
    case Metric::L2:
        d = l2_squared_double(a, b, dims);
        break;
    case Metric::InnerProduct:
        d = -dot_double(a, b, dims);
        break;
    case Metric::Cosine:
        d = 1.0 - dot_double(a, b, dims);
        break;
    case Metric::L1:
        d = l1_double(a, b, dims);
        break;
    case Metric::Jaccard: {
        const CosineSumsDouble s = cosine_sums_double(a, b, dims);
        d = jaccard_from_sums(s.dot, s.norm_a, s.norm_b);
        break;
    }
    }
    return rank_float(d);
}

std::size_t MemoryGraph::bytes_needed(std::uint32_t capacity, std::uint32_t dims, const Params &params)
{
    validate(params);
    return layout(capacity, dims, params).total;
}

void MemoryGraph::init(void *memory, std::size_t bytes, std::uint32_t capacity, std::uint32_t dims, Metric metric,
                       const Params &params, VectorForm form)
{
    validate(params);
    if (dims == 0)
        throw Error(ErrorKind::InvalidParameter, "HNSW vectors need at least one dimension");
    if (capacity == kNone)
        throw Error(ErrorKind::InvalidParameter, "HNSW graph capacity too large");
    const Layout l = layout(capacity, dims, params);
    if (l.pool_words > 0xFFFFFFFFu)
        throw Error(ErrorKind::InvalidParameter, "HNSW graph capacity too large");
    if (memory == nullptr || bytes < l.total)
        throw Error(ErrorKind::InvalidParameter, "HNSW graph memory block too small");

    auto base = reinterpret_cast<std::uintptr_t>(memory);
    base = (base + kAlign - 1) & ~std::uintptr_t(kAlign - 1);
    char *b = reinterpret_cast<char *>(base);
    vectors_ = reinterpret_cast<float *>(b + l.vectors);
    links0_ = reinterpret_cast<std::uint32_t *>(b + l.links0);
    upper_offset_ = reinterpret_cast<std::uint32_t *>(b + l.upper_offset);
    pool_ = reinterpret_cast<std::uint32_t *>(b + l.pool);
    levels_ = reinterpret_cast<std::uint8_t *>(b + l.levels);
    flags_ = reinterpret_cast<std::uint8_t *>(b + l.flags);
    locks_ = reinterpret_cast<std::atomic<std::uint8_t> *>(b + l.locks);
    for (std::size_t i = 0; i <= capacity; i++)
        new (&locks_[i]) std::atomic<std::uint8_t>(0);
    entry_lock_ = &locks_[capacity];
    pool_words_ = l.pool_words;
    pool_used_ = 0;
    distance_ = form == VectorForm::PackedBits     ? packed_bit_distance(metric, dims)
                : form == VectorForm::PackedSparse ? packed_sparse_distance(metric, dims)
                                                   : hnsw::metric_distance(metric, dims);
    params_ = params;
    capacity_ = capacity;
    size_ = 0;
    inserted_ = 0;
    dims_ = dims;
    entry_point_ = kNone;
    deleted_ = 0;
    max_level_ = -1;
    metric_ = metric;
}

std::uint32_t MemoryGraph::add(const float *vector)
{
    if (size_ >= capacity_)
        return kNone;
    const std::uint32_t id = size_;
    const int level = std::min(random_level(params_.seed, id, level_multiplier(params_)), params_.max_level);
    const std::size_t upper_words = std::size_t(level) * (params_.M + 1);
    if (pool_used_ + upper_words > pool_words_)
        return kNone;

    float *v = vectors_ + std::size_t(id) * dims_;
    if (metric_ == Metric::Cosine && distance_.form == VectorForm::Floats)
        prepare_query(vector, v);
    else
        std::memcpy(v, vector, std::size_t(dims_) * sizeof(float));

    levels_[id] = static_cast<std::uint8_t>(level);
    flags_[id] = 0;
    links0_[std::size_t(id) * (2 * params_.M + 1)] = 0;
    upper_offset_[id] = static_cast<std::uint32_t>(pool_used_);
    for (int lc = 1; lc <= level; lc++)
        pool_[pool_used_ + std::size_t(lc - 1) * (params_.M + 1)] = 0;
    pool_used_ += upper_words;
    size_ = id + 1;
    return id;
}

void prepare_vector(Metric metric, const float *in, float *out, std::size_t dims)
{
    if (metric != Metric::Cosine) {
        if (out != in)
            std::memmove(out, in, dims * sizeof(float));
        return;
    }
    double norm2 = 0.0;
    for (std::size_t i = 0; i < dims; i++)
        norm2 += double(in[i]) * in[i];
    const double scale = norm2 > 0.0 ? 1.0 / std::sqrt(norm2) : 0.0;
    for (std::size_t i = 0; i < dims; i++)
        out[i] = static_cast<float>(in[i] * scale);
}

void MemoryGraph::prepare_query(const float *query, float *out) const
{
    prepare_vector(distance_.form == VectorForm::Floats ? metric_ : Metric::L2, query, out, dims_);
}

void MemoryGraph::spin_lock(std::atomic<std::uint8_t> &l)
{
    for (unsigned spins = 0; l.exchange(1, std::memory_order_acquire) != 0;) {
        while (l.load(std::memory_order_relaxed) != 0) {
            // Node locks are held for one list update; the entry lock for a
            // whole insert, rarely: yield once spinning has not paid off.
            if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                std::this_thread::yield();
            }
        }
    }
}

}  // namespace vecdb::hnsw
