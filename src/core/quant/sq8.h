/*
 * sq8.h -- per-dimension 8-bit scalar quantizer with learned ranges (the
 * FAISS SQ8 / pgvector-halfvec-style baseline the lattice codes are measured
 * against).
 *
 * No rotation: each coordinate keeps its own range, which fits data whose
 * coordinates have very different spreads (SIFT), and the query needs no
 * transform.  train() sets, per dimension, vmin = the sample minimum and
 * step = (max - min) / 255; x^_i = vmin_i + step_i c_i with
 * c_i = round((x_i - vmin_i) / step_i) clamped to [0, 255].  Values outside
 * the trained range are clamped; r records the damage, so bounds stay valid.
 * Under cosine, vectors are normalized before training and encoding.
 *
 * The ranges live in caller memory (2 d floats: vmin[0, d), step[d, 2d)),
 * e.g. a metapage or palloc'd copy, so the quantizer stays trivially
 * destructible; a quantizer over stored ranges needs no train().
 *
 * Code layout:
 *   [0, 4)    float r           |x - x^|, rounded up
 *   [4, 8)    float norm        |x| (1 under cosine), to nearest
 *   [8, 12)   float recon_norm  |x^|, rounded down
 *   [12, 12 + d)  uint8 c_i
 * Estimates: <q, x> ~ <q, x^> (the rounding error is not correlated with q);
 * |q - x|^2 ~ |q|^2 + |x^|^2 + r^2 - 2 <q, x^>.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "bounds.h"
#include "quantizer.h"

namespace vecdb {

/// An SQ8 code's header (layout above) and where its levels start.
struct Sq8Header {
    float r;
    float norm;
    float recon_norm;
};
constexpr std::size_t kSq8HeaderBytes = 12;
/// Inline: a scan reads one per code it bounds.
inline Sq8Header load_sq8_header(const std::uint8_t *code)
{
    Sq8Header h;
    std::memcpy(&h.r, code, 4);
    std::memcpy(&h.norm, code + 4, 4);
    std::memcpy(&h.recon_norm, code + 8, 4);
    return h;
}

class SQ8Quantizer final : public Quantizer {
public:
    /// ranges: 2 * dim floats the quantizer reads (and train() writes).
    SQ8Quantizer(std::size_t dim, Metric metric, float *ranges);

    const float *vmin() const { return ranges_; }
    const float *step() const { return ranges_ + dim_; }

    bool needs_training() const override { return true; }
    /// Min / max per dimension over the n sample vectors.
    void train(std::size_t n, const float *x, float *work) override;

    std::size_t code_size() const override { return 12 + dim_; }
    std::size_t work_floats() const override { return dim_; }
    std::size_t residual_offset() const override { return 0; }
    void encode(const float *x, std::uint8_t *code, float *work) const override;
    void decode(const std::uint8_t *code, float *x, float *work) const override;
    std::size_t distance_computer_bytes() const override;
    DistanceComputer *distance_computer(void *memory) const override;

private:
    float *ranges_;
};

/// train()'s ranges over vectors given one at a time, for a build that does
/// not hold them all (train() itself uses it).  Vectors outside
/// kCodeNormMin .. kCodeNormMax count only if no vector is inside.
class Sq8RangeTrainer {
public:
    /// Floats of memory a trainer over dim dimensions uses.
    static std::size_t floats_needed(std::size_t dim) { return 5 * dim; }
    Sq8RangeTrainer(std::size_t dim, Metric metric, float *memory);

    void add(const float *x);
    std::size_t count() const { return count_; }
    /// vmin and step (2 * dim floats) from the vectors added; at least one.
    void finish(float *ranges) const;

private:
    std::size_t dim_;
    Metric metric_;
    float *inside_lo_, *inside_hi_; /* over the vectors inside the code range */
    float *all_lo_, *all_hi_;       /* over every vector */
    float *work_;                   /* a normalized copy under cosine */
    std::size_t count_ = 0;
    bool any_inside_ = false;
};

class SQ8DistanceComputer final : public DistanceComputer {
public:
    SQ8DistanceComputer(const SQ8Quantizer *quantizer, float *state);

    static std::size_t state_floats(const SQ8Quantizer &quantizer) { return 2 * quantizer.dim(); }

    void set_query(const float *q) override;
    float distance(const std::uint8_t *code) const override;
    float lower_bound(const std::uint8_t *code) const override;
    float distance_and_bound(const std::uint8_t *code, float *lower_bound) const override;
    void lower_bounds(const std::uint8_t *codes, std::size_t stride, std::size_t n, float *out) const override;
    float symmetric(const std::uint8_t *a, const std::uint8_t *b) const override;

    /// <q, x^> as the scan computes it (in float, then in q's own units).
    double reconstruction_dot(const std::uint8_t *code) const;

private:
    const SQ8Quantizer *quantizer_;
    float *query_;         ///< q (normalized under cosine), d floats
    float *scaled_query_;  ///< q_i * step_i, d floats
    float offset_;         ///< sum q_i vmin_i
    QueryBounds bounds_;
};

static_assert(std::is_trivially_destructible_v<SQ8Quantizer>, "lives in PostgreSQL memory");
static_assert(std::is_trivially_destructible_v<SQ8DistanceComputer>, "lives in PostgreSQL memory");

}  // namespace vecdb
