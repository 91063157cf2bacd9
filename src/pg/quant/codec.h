/*
 * codec.h -- what an index stores of each vector (the fp32 vector or one of
 * src/core/quant's codes, by the `quantization` reloption), and the
 * distances and bounds scans compute from it.  Shared by the hnsw and ivf
 * access methods; codec.cpp says how bounds stay below the SQL operators'
 * values.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/metric.h"
#include "../../core/quant/quantization.h"
#include "../pg.h"

namespace vecdb::pg {

using vecdb::Metric;
using vecdb::Quantization;

/* The parameters an index fixes at build time. */
struct CodecParams {
    Quantization quantization;
    Metric metric;
    uint32 dims;
    uint64 rotation_seed; /* e8, e8_4bit, h4, binary: their rotation */
    float *aux;           /* AuxBytes() of parameters (SQ8's ranges), or null */
};

struct Codec; /* opaque: scoring state for one query or one build */
Size AuxBytes(Quantization q, uint32 dims);
/* Learns aux (e.g. SQ8 ranges) from n vectors (cosine: raw, normalized inside). */
void TrainCodec(Quantization q, Metric metric, uint32 dims, const float *vectors, Size n, float *aux);
/* TrainCodec() over rows given one at a time, for a build that does not hold
 * every row (an hnsw build past maintenance_work_mem): start (null when q
 * learns nothing), add each row, finish into aux. */
struct CodecTrainer;
CodecTrainer *StartCodecTraining(Quantization q, Metric metric, uint32 dims);
void AddTrainingRow(CodecTrainer *trainer, const float *vector);
void FinishCodecTraining(CodecTrainer *trainer, Quantization q, uint32 dims, float *aux);
/* A codec in the current memory context. */
Codec *MakeCodec(const CodecParams &params);
/* Bytes of each code. */
Size CodeSize(const Codec *codec);
void Encode(Codec *codec, const float *vector, uint8 *code);
/* Encode() of vectors[0 .. n) into codes (CodeSize() bytes each) on up to
 * `threads` threads, the caller's included (index builds). */
void EncodeParallel(Codec *codec, const float *const *vectors, uint32 n, uint8 *codes, unsigned threads);
/* The SQL operator sums in its own order, not the dense kernels' (sparsevec):
 * 'none' bounds allow for the difference (quantized bounds always do). */
void SetOperatorSumsInOwnOrder(Codec *codec);
/* Under L2, the SQL operator's value is the squared distance (Hamming on 0/1
 * vectors): bounds are reported squared. */
void SetOperatorSquaredL2(Codec *codec);
/* Makes `query` (as given) the one codes are scored against. */
void SetQuery(Codec *codec, const float *query);
/* 'sparse': makes the sparse form `form` of `slots` slots (any count of
 * elements, not only what codes hold) the query; SetQuery() takes a code's
 * form of dims slots. */
void SetQueryForm(Codec *codec, const float *form, uint32 slots);
/* The search distance from the query to a code ("smaller is nearer"). */
float CodeDistance(const Codec *codec, const uint8 *code);
/* A value <= the SQL operator's exact result for the code's vector (what
 * the executor's recheck compares). */
double CodeBound(const Codec *codec, const uint8 *code);
/* CodeBound() of `n` codes `stride` bytes apart into bounds (a list page's
 * codes, scored in one pass). */
void CodeBounds(Codec *codec, const uint8 *codes, Size stride, uint32 n, double *bounds);
/* True for a code whose bound says nothing (a vector outside the range codes
 * describe, quantizer.h): its estimate is not to be trusted either. */
bool CodeUnbounded(const Codec *codec, const uint8 *code);
/* True for a code whose vector lay well outside what the code describes:
 * under sq8, outside the box the ranges were trained on (a row inserted
 * after the build, unlike the rows before it), clamped by more than
 * rounding; under any code, CodeUnbounded (a truncated sparse row).  Its
 * estimate can be off by the whole excess; its bound stays valid. */
bool CodeClamped(const Codec *codec, const uint8 *code);
/* What a checker finds wrong with a code read from a page (a bounded
 * code that decodes to a non-finite value, or whose bound against the query
 * last set is NaN), or null.  A code that bounds nothing (CodeUnbounded) is
 * not checked: it holds a rescaled copy.  scratch has dims floats. */
const char *CodeFault(const Codec *codec, const uint8 *code, float *scratch);
/* The code's lower bound in search units (CodeDistance()'s, rank_float
 * mapped): what a scan ranks a clamped code by. */
float CodeSearchBound(const Codec *codec, const uint8 *code);
/* A code's vector as the graph holds it (normalized under cosine). */
void Decode(const Codec *codec, const uint8 *code, float *out);
/* Inserts and VACUUM choose neighbours among many decoded codes, so they
 * compare them in the code's own coordinates (SelectionDims() floats: the
 * rotated space of e8, h4 and binary, where decoding skips the inverse
 * rotation; R is orthogonal, so distances are those of decoded vectors but
 * for the little error that falls in padding coordinates): DecodeForSelection()
 * of a code, ToSelectionSpace() of a vector as the graph holds it. */
uint32 SelectionDims(const Codec *codec);
void DecodeForSelection(const Codec *codec, const uint8 *code, float *out);
void ToSelectionSpace(const Codec *codec, const float *vector, float *out);
/* The distance Algorithm 4 prunes by when lists are chosen through pages:
 * the metric's, but L2 for inner product (whose "closer to a neighbour than
 * to the node" test prunes small-norm vectors from every list and strands
 * them: nothing links to them), and 1 - dot for cosine (the vectors are
 * normalized). */
float SelectionDistance(const Codec *codec, const float *a, const float *b);
/* False for a vector with no place in a metric's order: a zero vector under
 * cosine (its distance to anything is NaN).  Such rows are not indexed (as in
 * pgvector) and such a query returns rows in no particular order. */
bool Orderable(Metric metric, const float *x, uint32 dims);

}  // namespace vecdb::pg
