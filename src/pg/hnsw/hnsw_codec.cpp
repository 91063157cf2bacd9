/*
 * hnsw_codec.cpp -- what an element stores of its vector, and the distances
 * the search and the executor's recheck get from it.
 *
 *   'none'  the fp32 vector as given (cosine: normalized at build, as the
 *           graph holds it); distances are the SQL operators' own.
 *   'sq8'   src/core/quant/sq8.h: 8 bits a dimension plus a 12-byte header,
 *           with ranges learned at build and kept in the aux pages.
 *
 * Two values per code.  CodeDistance() ranks candidates in the graph search
 * (squared for L2: monotone in the operator's value, and cheaper).
 * CodeLowerBound() is what amgettuple reports with xs_recheckorderby: a
 * value in the operator's units never above what the operator computes from
 * the heap row, so the executor's re-sort is exact.  The quantizer's bound
 * already accounts for float rounding (bounds.h); kBoundSlack covers the
 * remaining difference of evaluation order between this file and the
 * operator (a cosine of a normalized copy, a square root in double).
 */
#include <cmath>
#include <cstring>
#include <new>

#include "../../core/quant/sq8.h"
#include "../../core/simd/distance.h"
#include "hnsw.h"

namespace vecdb::pg::hnsw {

namespace {

constexpr double kBoundSlack = 1e-6;

vecdb::Metric CoreMetric(IndexMetric metric)
{
    switch (metric) {
    case IndexMetric::L2:
        return vecdb::Metric::L2;
    case IndexMetric::InnerProduct:
        return vecdb::Metric::InnerProduct;
    case IndexMetric::Cosine:
        return vecdb::Metric::Cosine;
    case IndexMetric::L1:
        break;
    }
    return vecdb::Metric::L1;
}

double Slack(double value) { return value - kBoundSlack * (1.0 + std::fabs(value)); }

}  // namespace

struct Codec {
    Quantization quantization;
    IndexMetric metric;
    uint32 dims;
    const vecdb::DistanceKernels *kernels;
    float *query; /* 'none': the query as given */
    float *work;
    vecdb::SQ8Quantizer *sq8;
    vecdb::DistanceComputer *computer;
};

Size CodeSize(Quantization q, IndexMetric, uint32 dims)
{
    return q == Quantization::SQ8 ? 12 + dims : Size(dims) * sizeof(float);
}

Size AuxBytes(Quantization q, uint32 dims) { return q == Quantization::SQ8 ? 2 * Size(dims) * sizeof(float) : 0; }

void TrainCodec(Quantization q, IndexMetric metric, uint32 dims, const float *vectors, Size n, float *aux)
{
    if (q != Quantization::SQ8)
        return;
    if (n == 0) {
        /* Nothing to learn from (an sq8 index too wide for fp32 codes, built
         * empty): ranges a unit vector fits; other values are clamped and
         * their error norms grow, so bounds stay valid. */
        for (uint32 i = 0; i < dims; i++) {
            aux[i] = -1.0f;
            aux[dims + i] = 2.0f / 255.0f;
        }
        return;
    }
    vecdb::SQ8Quantizer quantizer(dims, CoreMetric(metric), aux);
    float *work = static_cast<float *>(palloc(sizeof(float) * quantizer.work_floats()));
    quantizer.train(n, vectors, work);
    pfree(work);
}

Codec *MakeCodec(const IndexInfoCache *info)
{
    auto *codec = static_cast<Codec *>(palloc0(sizeof(Codec)));
    codec->quantization = Quantization(info->meta.quantization);
    codec->metric = IndexMetric(info->meta.metric);
    codec->dims = info->meta.dims;
    codec->kernels = &vecdb::distance_kernels();
    codec->query = static_cast<float *>(palloc(sizeof(float) * codec->dims));
    if (codec->quantization == Quantization::SQ8) {
        void *memory = palloc(sizeof(vecdb::SQ8Quantizer));
        codec->sq8 = new (memory) vecdb::SQ8Quantizer(codec->dims, CoreMetric(codec->metric), info->aux);
        codec->work = static_cast<float *>(palloc(sizeof(float) * Max(codec->sq8->work_floats(), Size(1))));
        codec->computer = codec->sq8->distance_computer(palloc(codec->sq8->distance_computer_bytes()));
    }
    return codec;
}

void Encode(Codec *codec, const float *vector, uint8 *code)
{
    if (codec->quantization == Quantization::SQ8)
        codec->sq8->encode(vector, code, codec->work);
    else
        memcpy(code, vector, sizeof(float) * codec->dims);
}

void Decode(const Codec *codec, const uint8 *code, float *out)
{
    if (codec->quantization == Quantization::SQ8)
        codec->sq8->decode(code, out, codec->work);
    else
        memcpy(out, code, sizeof(float) * codec->dims);
}

bool QueryIsOrderable(const Codec *codec, const float *query)
{
    if (codec->metric != IndexMetric::Cosine)
        return true;
    return codec->kernels->dot(query, query, codec->dims) > 0.0f;
}

void SetQuery(Codec *codec, const float *query)
{
    memcpy(codec->query, query, sizeof(float) * codec->dims);
    if (codec->computer != nullptr)
        codec->computer->set_query(query);
}

float VectorDistance(const Codec *codec, const float *a, const float *b)
{
    const vecdb::DistanceKernels &k = *codec->kernels;
    switch (codec->metric) {
    case IndexMetric::L2:
        return k.l2_squared(a, b, codec->dims);
    case IndexMetric::InnerProduct:
        return -k.dot(a, b, codec->dims);
    case IndexMetric::Cosine: {
        vecdb::CosineSums s = k.cosine_sums(a, b, codec->dims);
        double similarity = double(s.dot) / std::sqrt(double(s.norm_a) * double(s.norm_b));
        if (std::isnan(similarity))
            return 2.0f; /* a zero vector: as far as an opposite one */
        return float(1.0 - std::fmax(-1.0, std::fmin(1.0, similarity)));
    }
    case IndexMetric::L1:
        return k.l1(a, b, codec->dims);
    }
    return 0.0f;
}

float SelectionDistance(const Codec *codec, const float *a, const float *b)
{
    switch (codec->metric) {
    case IndexMetric::InnerProduct:
        return codec->kernels->l2_squared(a, b, codec->dims);
    case IndexMetric::Cosine:
        /* Stored vectors are normalized (decoded ones nearly): 1 - dot ranks
         * them as the cosine does, at half the cost. */
        return 1.0f - codec->kernels->dot(a, b, codec->dims);
    default:
        return VectorDistance(codec, a, b);
    }
}

float CodeDistance(const Codec *codec, const uint8 *code)
{
    if (codec->computer != nullptr)
        return codec->computer->distance(code);
    /* fp32 codes: unaligned on the page at worst by 2 bytes; the kernels
     * use unaligned loads. */
    return VectorDistance(codec, codec->query, reinterpret_cast<const float *>(code));
}

float CodeDistanceAndBound(const Codec *codec, const uint8 *code, double *lower_bound)
{
    float distance, bound;
    if (codec->computer != nullptr) {
        distance = codec->computer->distance_and_bound(code, &bound);
    } else {
        distance = VectorDistance(codec, codec->query, reinterpret_cast<const float *>(code));
        bound = distance;
    }
    *lower_bound = OperatorBound(codec, bound);
    return distance;
}

double OperatorBound(const Codec *codec, double bound)
{
    if (codec->metric == IndexMetric::L2)
        bound = std::sqrt(std::fmax(0.0, bound));
    return Slack(bound);
}

}  // namespace vecdb::pg::hnsw
