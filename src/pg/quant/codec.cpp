/*
 * codec.cpp -- what an index stores of each vector, and the distances scans
 * and the executor's recheck get from it.
 *
 *   'none'  the fp32 vector as the graph holds it (prepare_vector():
 *           normalized under cosine).
 *   'sq8'   src/core/quant/sq8.h: 8 bits a dimension plus a 12-byte header,
 *           with ranges learned at build and kept in the aux pages.
 *   'e8', 'e8_4bit', 'h4', 'binary'  the rotated codes of src/core/quant
 *           (src/core/quant/quantization.h), rotated with the metapage's seed.
 *   'sparse'  a sparsevec's own elements in `dims` slots (sparse_slots.h),
 *           scored by the sparsevec operators' functions: bounds are the
 *           operator's value (less kBoundSlack), except for a row with more
 *           elements than the slots hold (truncated), which bounds nothing
 *           (CodeUnbounded): the executor computes it from the row.  The
 *           query keeps all its elements (SetQueryForm).
 *
 * Two values per code.  The distance (CodeDistance) ranks candidates in
 * the graph search (squared for L2: monotone in the operator's value, and
 * cheaper).  The bound (CodeBound), computed only for the rows a scan
 * returns (a bound costs about two distances), is what amgettuple reports
 * with xs_recheckorderby: a value in the operator's units never above what the
 * operator computes from the heap row, so the executor's re-sort is exact.
 * The quantizer's bound accounts for float rounding (bounds.h).  Under
 * 'none', L2 and inner product repeat the operator's own computation on the
 * same floats; cosine compares normalized copies, whose float sums can
 * differ from the operator's by (d + 2) units of rounding each way, so
 * `rounding` covers 4 (d + 2) of them.  kBoundSlack covers the rest (a
 * square root in double).  An operator that sums in its own order
 * (sparsevec's merge over sorted indices: SetOperatorSumsInOwnOrder) can
 * differ from the dense kernels by 2 (d + 4) units of rounding relative to
 * the sum of the terms' magnitudes (Higham 2002, section 3.1, for both
 * sums), so a 'none' bound gives up that much: of the value itself for L2
 * and L1 (every term is non-negative), of |q| |x| for inner product.
 */
#include <cfloat>
#include <cmath>
#include <cstring>
#include <new>

#include "../../core/graph/hnsw.h"
#include "../../core/parallel.h"
#include "../../core/quant/sq8.h"
#include "../../core/simd/distance.h"
#include "../../core/sparse_slots.h"
#include "codec.h"

extern "C" {
#include "utils/memutils.h"
}

namespace vecdb::pg {

namespace {

constexpr double kBoundSlack = 1e-6;

double Slack(double value) { return value - kBoundSlack * (1.0 + std::fabs(value)); }

}  // namespace

struct Codec {
    Quantization quantization;
    Metric metric;
    uint32 dims;
    vecdb::hnsw::MetricDistance distance;  /* 'none': query to code, as the graph ranks */
    vecdb::hnsw::MetricDistance selection; /* SelectionDistance() */
    float *query; /* 'none', 'sparse': the query as given */
    uint32 query_slots; /* 'sparse': floats allocated at query */
    float *work;
    vecdb::Quantizer *quantizer; /* null for 'none' */
    vecdb::DistanceComputer *computer;
    double rounding; /* subtracted from bounds computed on fp32 copies */
    double any_order; /* 'none': 2 (d + 4) 2^-24 if the operator sums in its own order, else 0 */
    double query_norm; /* 'none', inner product: |q|, for any_order */
    bool squared_l2;   /* L2: the operator's value is the squared distance */
    int residual_offset; /* of the code's float r, or -1 ('none') */
    float clamped_r;     /* sq8: r above this means a clamped vector (CodeClamped); else +inf */
    float *raw; /* CodeBounds(): the quantizer's bounds */
    uint32 raw_capacity;
    /* 'sparse' under inner product and cosine: the query spread over a dense
     * array (LoadScatter), when its largest index allows; else null */
    vecdb::SparseScatter *scatter;
    bool scatter_loaded; /* scatter holds the query */
    float query_squares; /* cosine: the query's sum of squares, in float */
};

Size AuxBytes(Quantization q, uint32 dims) { return q == Quantization::SQ8 ? 2 * Size(dims) * sizeof(float) : 0; }

struct CodecTrainer {
    vecdb::Sq8RangeTrainer sq8;
};

CodecTrainer *StartCodecTraining(Quantization q, Metric metric, uint32 dims)
{
    if (q != Quantization::SQ8)
        return nullptr;
    float *memory = static_cast<float *>(palloc(sizeof(float) * vecdb::Sq8RangeTrainer::floats_needed(dims)));
    return new (palloc(sizeof(CodecTrainer))) CodecTrainer{vecdb::Sq8RangeTrainer(dims, metric, memory)};
}

void AddTrainingRow(CodecTrainer *trainer, const float *vector)
{
    if (trainer != nullptr)
        trainer->sq8.add(vector);
}

void FinishCodecTraining(CodecTrainer *trainer, Quantization q, uint32 dims, float *aux)
{
    if (q != Quantization::SQ8)
        return;
    if (trainer == nullptr || trainer->sq8.count() == 0) {
        /* Nothing to learn from (an sq8 index too wide for fp32 codes, built
         * empty): ranges a unit vector fits; other values are clamped and
         * their error norms grow, so bounds stay valid. */
        for (uint32 i = 0; i < dims; i++) {
            aux[i] = -1.0f;
            aux[dims + i] = 2.0f / 255.0f;
        }
        return;
    }
    trainer->sq8.finish(aux);
}

void TrainCodec(Quantization q, Metric metric, uint32 dims, const float *vectors, Size n, float *aux)
{
    CodecTrainer *trainer = StartCodecTraining(q, metric, dims);
    for (Size i = 0; trainer != nullptr && i < n; i++)
        AddTrainingRow(trainer, vectors + i * dims);
    FinishCodecTraining(trainer, q, dims, aux);
}

Codec *MakeCodec(const CodecParams &params)
{
    auto *codec = static_cast<Codec *>(palloc0(sizeof(Codec)));
    codec->quantization = params.quantization;
    codec->metric = params.metric;
    codec->dims = params.dims;
    codec->query = static_cast<float *>(palloc(sizeof(float) * codec->dims));
    codec->quantizer = make_quantizer(codec->quantization, codec->metric, codec->dims, params.rotation_seed,
                                     params.aux, palloc(kQuantizerBytes));
    codec->residual_offset = codec->quantizer != nullptr ? int(codec->quantizer->residual_offset()) : -1;
    codec->clamped_r = FLT_MAX;
    if (codec->quantization == Quantization::SQ8) {
        /* A vector inside the trained box rounds each coordinate by at most
         * half a step: r <= |step| / 2.  Twice that (|step|) can only come
         * from coordinates clamped to the box. */
        const float *step = params.aux + codec->dims;
        double step2 = 0.0;
        for (uint32 i = 0; i < codec->dims; i++)
            step2 += double(step[i]) * step[i];
        codec->clamped_r = float(std::sqrt(step2));
    }
    codec->query_slots = codec->dims;
    const Metric selection = codec->metric == Metric::InnerProduct ? Metric::L2 : codec->metric;
    if (codec->quantization == Quantization::Sparse) {
        codec->distance = vecdb::hnsw::packed_sparse_distance(codec->metric, codec->dims);
        codec->selection = vecdb::hnsw::packed_sparse_distance(selection, codec->dims);
        return codec;
    }
    codec->distance = vecdb::hnsw::metric_distance(codec->metric, codec->dims);
    codec->selection = vecdb::hnsw::metric_distance(selection, SelectionDims(codec));
    if (codec->quantizer != nullptr) {
        codec->work = static_cast<float *>(palloc(sizeof(float) * Max(codec->quantizer->work_floats(), Size(1))));
        codec->computer = codec->quantizer->distance_computer(palloc(codec->quantizer->distance_computer_bytes()));
    } else if (codec->metric == Metric::Cosine) {
        codec->rounding = 4.0 * (codec->dims + 2) * std::ldexp(1.0, -24);
    }
    return codec;
}

Size CodeSize(const Codec *codec)
{
    return codec->quantizer != nullptr ? codec->quantizer->code_size() : sizeof(float) * codec->dims;
}

void Encode(Codec *codec, const float *vector, uint8 *code)
{
    if (codec->quantizer != nullptr)
        codec->quantizer->encode(vector, code, codec->work);
    else
        memcpy(code, vector, sizeof(float) * codec->dims);
}

void EncodeParallel(Codec *codec, const float *const *vectors, uint32 n, uint8 *codes, unsigned threads)
{
    if (codec->quantizer == nullptr) {
        const Size code_size = sizeof(float) * codec->dims;
        for (uint32 i = 0; i < n; i++)
            memcpy(codes + i * code_size, vectors[i], code_size);
        return;
    }
    const Size code_size = codec->quantizer->code_size();
    const Size floats = Max(codec->quantizer->work_floats(), Size(1));
    float *work = static_cast<float *>(palloc(sizeof(float) * floats * threads));
    const vecdb::Quantizer *quantizer = codec->quantizer;
    vecdb::parallel_for(n, threads, [&](std::size_t i, unsigned t) {
        quantizer->encode(vectors[i], codes + i * code_size, work + t * floats);
    });
    pfree(work);
}

void Decode(const Codec *codec, const uint8 *code, float *out)
{
    if (codec->quantizer != nullptr)
        codec->quantizer->decode(code, out, codec->work);
    else
        memcpy(out, code, sizeof(float) * codec->dims);
}

void DecodeForSelection(const Codec *codec, const uint8 *code, float *out)
{
    if (codec->quantizer != nullptr)
        codec->quantizer->decode_native(code, out, codec->work);
    else
        memcpy(out, code, sizeof(float) * codec->dims);
}

void ToSelectionSpace(const Codec *codec, const float *vector, float *out)
{
    if (codec->quantizer != nullptr)
        codec->quantizer->to_native(vector, out);
    else
        memcpy(out, vector, sizeof(float) * codec->dims);
}

bool Orderable(Metric metric, const float *x, uint32 dims)
{
    if (metric != Metric::Cosine)
        return true;
    for (uint32 i = 0; i < dims; i++)
        if (x[i] != 0.0f)
            return true;
    return false;
}

void SetOperatorSumsInOwnOrder(Codec *codec)
{
    if (codec->quantization == Quantization::Sparse)
        return; /* scored by the operator's own functions */
    codec->any_order = 2.0 * (codec->dims + 4) * std::ldexp(1.0, -24);
}

void SetOperatorSquaredL2(Codec *codec)
{
    codec->squared_l2 = true;
}

/*
 * 'sparse' under inner product and cosine: scans score each code against one
 * query, so the query is spread over a dense array once and a code's value
 * is a gather over its own elements instead of a merge with the query's
 * (the merge was ~60% of a scan over SPLADE-like rows).  The values are
 * bitwise the merge's (SparseScatter).  Up to kMaxScanScatterWidth indices
 * (4 MB, zeroed once per scan); a query with a larger index merges.
 */
constexpr std::size_t kMaxScanScatterWidth = std::size_t(1) << 20;

static void UnloadScatter(Codec *codec)
{
    if (codec->scatter != nullptr)
        codec->scatter->load(vecdb::SparseView{nullptr, nullptr, 0});
    codec->scatter_loaded = false;
}

static void LoadScatter(Codec *codec)
{
    if (codec->metric != Metric::InnerProduct && codec->metric != Metric::Cosine)
        return;
    const vecdb::SparseView q = vecdb::sparse_view_within(codec->query, codec->query_slots);
    const std::size_t width = vecdb::sparse_scatter_width(q);
    if (width > kMaxScanScatterWidth)
        return;
    if (codec->scatter == nullptr || codec->scatter->width() < width) {
        MemoryContext context = GetMemoryChunkContext(codec);
        if (codec->scatter != nullptr)
            pfree(codec->scatter);
        /* the array right after the object, zeroed */
        void *memory = MemoryContextAllocZero(context, sizeof(vecdb::SparseScatter) + sizeof(float) * width);
        codec->scatter = new (memory) vecdb::SparseScatter(
            reinterpret_cast<float *>(static_cast<char *>(memory) + sizeof(vecdb::SparseScatter)), width);
    }
    codec->scatter->load(q);
    codec->scatter_loaded = true;
    codec->query_squares = vecdb::sparse_squares_float(q);
}

void SetQuery(Codec *codec, const float *query)
{
    if (codec->quantization == Quantization::Sparse) {
        /* a node's form: dims slots, perhaps read from a page */
        UnloadScatter(codec);
        memcpy(codec->query, query, sizeof(float) * codec->dims);
        if (vecdb::sparse_count(query) > vecdb::sparse_capacity(codec->dims))
            memset(codec->query, 0, sizeof(float) * codec->dims);
        LoadScatter(codec);
        return;
    }
    vecdb::hnsw::prepare_vector(codec->metric, query, codec->query, codec->dims);
    if (codec->any_order > 0.0 && codec->metric == Metric::InnerProduct)
        codec->query_norm = std::sqrt(vecdb::dot_checked(codec->query, codec->query, codec->dims));
    if (codec->computer != nullptr)
        codec->computer->set_query(query);
}

void SetQueryForm(Codec *codec, const float *form, uint32 slots)
{
    Assert(codec->quantization == Quantization::Sparse && vecdb::sparse_count(form) <= vecdb::sparse_capacity(slots));
    UnloadScatter(codec);
    if (slots > codec->query_slots) {
        pfree(codec->query);
        codec->query = static_cast<float *>(MemoryContextAlloc(GetMemoryChunkContext(codec), sizeof(float) * slots));
        codec->query_slots = slots;
    }
    memcpy(codec->query, form, sizeof(float) * slots);
    LoadScatter(codec);
}

/* 'sparse': the operator's value from the query to a code. */
static double SparseValue(const Codec *codec, const uint8 *code)
{
    /* Codes sit at a 4-byte boundary (ElementLayout); a corrupt count reads
     * as the empty vector, never past the code. */
    const vecdb::SparseView q = vecdb::sparse_view(codec->query);
    const vecdb::SparseView x = vecdb::sparse_view_within(reinterpret_cast<const float *>(code), codec->dims);
    if (!codec->scatter_loaded)
        return vecdb::sparse_operator_value(codec->metric, q, x);
    const float dot = codec->scatter->dot_within(x);
    if (codec->metric == Metric::InnerProduct)
        return -vecdb::sparse_dot_from_sum(dot, q, x);
    return vecdb::sparse_cosine_from_sums(dot, codec->query_squares, vecdb::sparse_squares_float(x), q, x);
}

uint32 SelectionDims(const Codec *codec)
{
    return codec->quantizer != nullptr ? uint32(codec->quantizer->native_dim()) : codec->dims;
}

float SelectionDistance(const Codec *codec, const float *a, const float *b) { return codec->selection(a, b); }

/* A lower bound in search units, in the operator's units; -inf (always a
 * lower bound) for anything that is not a number. */
static double OperatorBound(const Codec *codec, double bound)
{
    bound -= codec->rounding;
    if (codec->metric == Metric::L2)
        bound = codec->squared_l2 ? std::fmax(0.0, bound) : std::sqrt(std::fmax(0.0, bound));
    bound = Slack(bound);
    return std::isnan(bound) ? -HUGE_VAL : bound;
}

float CodeDistance(const Codec *codec, const uint8 *code)
{
    if (codec->quantization == Quantization::Sparse)
        return vecdb::rank_float(SparseValue(codec, code));
    if (codec->computer != nullptr) {
        const float d = codec->computer->distance(code);
        return d == d ? d : INFINITY;
    }
    /* fp32 codes sit at a 4-byte boundary (ElementLayout). */
    return codec->distance(codec->query, reinterpret_cast<const float *>(code));
}

double CodeBound(const Codec *codec, const uint8 *code)
{
    if (codec->computer != nullptr)
        return OperatorBound(codec, codec->computer->lower_bound(code));
    if (codec->quantization == Quantization::Sparse)
        return CodeUnbounded(codec, code) ? -HUGE_VAL : OperatorBound(codec, SparseValue(codec, code));
    /* 'none': the operator's own value, through the same checked sums (the
     * query and the vector as given; cosine compares normalized copies and
     * allows for `rounding`). */
    const float *x = reinterpret_cast<const float *>(code);
    switch (codec->metric) {
    case Metric::L2: {
        const double d2 = vecdb::l2_squared_checked(codec->query, x, codec->dims);
        return OperatorBound(codec, d2 - codec->any_order * d2);
    }
    case Metric::InnerProduct: {
        double margin = 0.0;
        if (codec->any_order > 0.0)
            margin = codec->any_order * codec->query_norm * std::sqrt(vecdb::dot_checked(x, x, codec->dims));
        return OperatorBound(codec, -vecdb::dot_checked(codec->query, x, codec->dims) - margin);
    }
    case Metric::L1: {
        const double d1 = vecdb::l1_checked(codec->query, x, codec->dims);
        return OperatorBound(codec, d1 - codec->any_order * d1);
    }
    case Metric::Jaccard: {
        /* Sums of 0s and 1s: exact, so this is the operator's own value. */
        const vecdb::CosineSumsDouble s = vecdb::cosine_sums_double(codec->query, x, codec->dims);
        return OperatorBound(codec, vecdb::jaccard_from_sums(s.dot, s.norm_a, s.norm_b));
    }
    case Metric::Cosine:
        break;
    }
    return OperatorBound(codec, 1.0 - vecdb::dot_checked(codec->query, x, codec->dims));
}

void CodeBounds(Codec *codec, const uint8 *codes, Size stride, uint32 n, double *bounds)
{
    if (codec->computer == nullptr) {
        for (uint32 i = 0; i < n; i++)
            bounds[i] = CodeBound(codec, codes + i * stride);
        return;
    }
    if (codec->raw_capacity < n) {
        if (codec->raw != nullptr)
            pfree(codec->raw);
        codec->raw = static_cast<float *>(MemoryContextAlloc(GetMemoryChunkContext(codec), sizeof(float) * n));
        codec->raw_capacity = n;
    }
    codec->computer->lower_bounds(codes, stride, n, codec->raw);
    for (uint32 i = 0; i < n; i++)
        bounds[i] = OperatorBound(codec, codec->raw[i]);
}

bool CodeClamped(const Codec *codec, const uint8 *code)
{
    if (codec->quantization == Quantization::Sparse)
        return CodeUnbounded(codec, code); /* truncated */
    if (codec->residual_offset < 0)
        return false;
    float r;
    memcpy(&r, code + codec->residual_offset, sizeof(r));
    return !(r <= codec->clamped_r);
}

float CodeSearchBound(const Codec *codec, const uint8 *code)
{
    if (codec->computer == nullptr)
        return CodeDistance(codec, code);
    const float bound = codec->computer->lower_bound(code);
    return bound == bound ? vecdb::rank_float(bound) : -INFINITY;
}

const char *CodeFault(const Codec *codec, const uint8 *code, float *scratch)
{
    if (codec->quantization == Quantization::Sparse) {
        if (const char *fault = vecdb::sparse_form_fault(reinterpret_cast<const float *>(code), codec->dims))
            return fault;
        return std::isnan(CodeBound(codec, code)) ? "bounds nothing (NaN)" : nullptr;
    }
    if (CodeUnbounded(codec, code))
        return nullptr;
    Decode(codec, code, scratch);
    for (uint32 i = 0; i < codec->dims; i++)
        if (!std::isfinite(scratch[i]))
            return "decodes to a non-finite value";
    if (std::isnan(CodeBound(codec, code)))
        return "bounds nothing (NaN)";
    return nullptr;
}

bool CodeUnbounded(const Codec *codec, const uint8 *code)
{
    if (codec->quantization == Quantization::Sparse)
        return vecdb::sparse_truncated(reinterpret_cast<const float *>(code));
    if (codec->residual_offset < 0)
        return false;
    float r;
    memcpy(&r, code + codec->residual_offset, sizeof(r));
    return !(r <= FLT_MAX);
}

}  // namespace vecdb::pg
