/*
 * quant_functions.cpp -- SQL functions that show what a code keeps of a
 * vector: vecdb_quantize (encode, then decode), vecdb_quantization_error
 * and vecdb_quantization_bits.  They use the quantizers an index uses, with
 * the rotation seed an index records, under L2 (no normalization): the
 * reconstruction is of the vector as given.
 *
 * 'sq8' learns per-dimension ranges from an index's rows; a single vector
 * has none to learn, so here sq8 uses one range for every dimension, the
 * vector's own [min, max].
 */
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "../types/vector.h"
#include "../../core/quant/quantization.h"

extern "C" {
#include "utils/builtins.h"
}

namespace {

using vecdb::Quantization;

Quantization QuantizationArg(FunctionCallInfo fcinfo)
{
    const char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    Quantization q;
    if (!vecdb::parse_quantization(name, &q))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown quantization \"%s\"", name),
                        errdetail("Valid values are %s.", vecdb::quantization_names())));
    if (q == Quantization::Sparse)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("quantization \"sparse\" is not a code of vectors"),
                        errdetail("It is the code of sparsevec columns: their own elements, exactly.")));
    return q;
}

/* out := decode(encode(v)) under q (out may not alias v). */
void RoundTrip(Quantization q, const Vector *v, float *out)
{
    const std::size_t dims = std::size_t(v->dim);
    if (q == Quantization::None) {
        std::memcpy(out, v->x, sizeof(float) * dims);
        return;
    }
    float *ranges = nullptr;
    if (q == Quantization::SQ8) {
        const auto [lo, hi] = std::minmax_element(v->x, v->x + dims);
        ranges = static_cast<float *>(palloc(2 * sizeof(float) * dims));
        for (std::size_t i = 0; i < dims; i++) {
            ranges[i] = *lo;
            ranges[dims + i] = std::max((*hi - *lo) / 255.0f, FLT_MIN);
        }
    }
    alignas(8) char memory[vecdb::kQuantizerBytes];
    vecdb::Quantizer *quantizer =
        vecdb::make_quantizer(q, vecdb::Metric::L2, dims, vecdb::kDefaultRotationSeed, ranges, memory);
    auto *code = static_cast<uint8 *>(palloc(quantizer->code_size()));
    auto *work = static_cast<float *>(palloc(sizeof(float) * std::max<std::size_t>(quantizer->work_floats(), 1)));
    quantizer->encode(v->x, code, work);
    quantizer->decode(code, out, work);

    /* A vector outside the magnitudes codes describe gets a code of a
     * rescaled copy that bounds nothing (r = +inf, quantizer.h): an index
     * re-ranks such a row exactly, but its decoded vector is not v's. */
    float r;
    std::memcpy(&r, code + quantizer->residual_offset(), sizeof(r));
    if (q == Quantization::Bit && r != 0.0f)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("quantization \"bit\" stores only vectors of 0s and 1s"),
                        errdetail("It is the code of bit columns (bit_hamming_ops, bit_jaccard_ops).")));
    if (!(r <= FLT_MAX))
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("value out of range for quantization \"%s\"", vecdb::quantization_name(q)),
                        errdetail("Codes describe vectors with norms from %g to %g.",
                                  vecdb::kCodeNormMin, vecdb::kCodeNormMax)));

    /* The quantizers scale and rotate in float: elements near float's limits
     * (3e38) can come back Infinity or NaN.  Such a result is an error, never
     * a returned vector or error ratio. */
    for (std::size_t i = 0; i < dims; i++)
        if (!std::isfinite(out[i]))
            ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                            errmsg("value out of range for quantization \"%s\"", vecdb::quantization_name(q)),
                            errdetail("Decoding the code of this vector gives a non-finite element; its elements are "
                                      "too large for this quantization.")));
}

}  // namespace

/* vecdb_quantize(method text, v vector) RETURNS vector: the vector a code of
 * v decodes to. */
VECDB_FUNCTION(vecdb_quantize)
{
    const Quantization q = QuantizationArg(fcinfo);
    const Vector *v = PG_GETARG_VECTOR_P(1);
    Vector *result = InitVector(v->dim);
    RoundTrip(q, v, result->x);
    for (int i = 0; i < result->dim; i++)
        result->x[i] += 0.0f; /* -0 (from the rotation) prints as 0 */
    PG_RETURN_POINTER(result);
}

/* vecdb_quantization_error(method text, v vector) RETURNS float8:
 * |v - decode(encode(v))|^2 / |v|^2 (0 for the zero vector). */
VECDB_FUNCTION(vecdb_quantization_error)
{
    const Quantization q = QuantizationArg(fcinfo);
    const Vector *v = PG_GETARG_VECTOR_P(1);
    auto *decoded = static_cast<float *>(palloc(sizeof(float) * v->dim));
    RoundTrip(q, v, decoded);
    double error = 0, norm = 0;
    for (int i = 0; i < v->dim; i++) {
        const double diff = double(v->x[i]) - decoded[i];
        error += diff * diff;
        norm += double(v->x[i]) * v->x[i];
    }
    PG_RETURN_FLOAT8(norm > 0 ? error / norm : 0.0);
}

/* vecdb_quantization_bits(method text, dims int) RETURNS float8: the code's
 * size, header included, in bits per dimension. */
VECDB_FUNCTION(vecdb_quantization_bits)
{
    const Quantization q = QuantizationArg(fcinfo);
    const int32 dims = PG_GETARG_INT32(1);
    if (dims < 1 || dims > VECTOR_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions must be between 1 and %d", VECTOR_MAX_DIM)));
    PG_RETURN_FLOAT8(8.0 * double(vecdb::quantized_code_size(q, std::size_t(dims))) / dims);
}
