/*
 * quantizer.h -- the interface every vecdb quantizer implements, shaped like
 * FAISS's Quantizer + DistanceComputer (impl/Quantizer.h,
 * impl/DistanceComputer.h): train / encode / decode, and a distance computer
 * with set_query, distance(code), lower_bound(code) and symmetric(a, b).
 *
 * Implementations: E8Quantizer (e8.h: E8P 2 bits/dim and its 4-bit residual
 * mode), H4Quantizer (h4.h: 600-cell, 2 bits/dim), SQ8Quantizer (sq8.h:
 * 8 bits/dim), BinaryQuantizer (binary.h: 1 bit/dim), BitQuantizer (bit_code.h:
 * a 0/1 vector's bits, exact).
 *
 * Distances are in the units of the SQL operators over the fp32 vectors:
 *   Metric::L2            |q - x|^2      (the operator <-> is its sqrt)
 *   Metric::InnerProduct  -<q, x>        (operator <#>)
 *   Metric::Cosine        1 - cos(q, x)  (operator <=>; vectors are
 *                                         normalized before encoding)
 * distance() is an estimate, for ranking; lower_bound() is guaranteed: it
 * never exceeds the value the operator computes from the fp32 vectors (sums
 * in float in any order, as every kernel of simd/distance.h does), so a scan
 * can stop re-ranking once the next lower bound passes the k-th exact
 * distance, and PostgreSQL's ORDER BY recheck never sees a bound above the
 * exact value.  See bounds.h for how rounding is accounted for.
 *
 * Memory: everything here is trivially destructible and holds no owning
 * pointer.  Variable-sized state (the rotated query, lookup tables, SQ8's
 * ranges, scratch space) lives in memory the caller provides and sizes with
 * work_floats() / distance_computer_bytes(), e.g. palloc'd in the scan's
 * memory context, so a PostgreSQL ERROR (longjmp) can unwind through any of
 * it.  Objects are never deleted through a base pointer (the destructors are
 * protected and trivial).  Quantizers are immutable after train(), so one
 * can serve many threads; each thread needs its own work memory and its own
 * distance computer.
 *
 * Code bytes: each quantizer documents its layout in its header.  Floats in
 * codes are IEEE-754 binary32 in host order (little endian on every target
 * vecdb builds for) at unaligned offsets: read them with memcpy.
 */
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../error.h"
#include "../metric.h"

namespace vecdb {


/// Per-query scorer over codes of one quantizer.  Made by
/// Quantizer::distance_computer() in caller memory; reusable across queries.
class DistanceComputer {
public:
    /// Builds the per-query state (rotated query, tables).  q has dim()
    /// floats; under Metric::Cosine it is normalized first.
    virtual void set_query(const float *q) = 0;

    /// Estimated distance from the query to the vector behind `code`.
    virtual float distance(const std::uint8_t *code) const = 0;

    /// A value guaranteed <= the exact fp32 distance (see the file comment).
    virtual float lower_bound(const std::uint8_t *code) const = 0;

    /// distance() and lower_bound() from one pass over the code.
    virtual float distance_and_bound(const std::uint8_t *code, float *lower_bound) const = 0;

    /// distance() of four codes (the batch a graph search scores at once).
    virtual void distance_batch4(const std::uint8_t *const *codes, float *out) const;

    /// lower_bound() of n codes `stride` bytes apart into out[0, n) (the
    /// codes of one ivf list page, scored in one call), bitwise the same.
    virtual void lower_bounds(const std::uint8_t *codes, std::size_t stride, std::size_t n, float *out) const;

    /// Estimated distance between two encoded vectors, for index build; needs
    /// no query.
    virtual float symmetric(const std::uint8_t *a, const std::uint8_t *b) const = 0;

protected:
    DistanceComputer() = default;
    DistanceComputer(const DistanceComputer &) = default;
    DistanceComputer &operator=(const DistanceComputer &) = default;
    ~DistanceComputer() = default;
};

class Quantizer {
public:
    /// d: the caller's vector dimension.
    std::size_t dim() const { return dim_; }
    Metric metric() const { return metric_; }

    /// Bytes per encoded vector, header included.
    virtual std::size_t code_size() const = 0;

    /// Whether train() must run before encode() (only SQ8 learns anything).
    virtual bool needs_training() const { return false; }

    /// Learns parameters from n vectors x[n * dim()] (no-op unless
    /// needs_training()); work has work_floats() floats.
    virtual void train(std::size_t n, const float *x, float *work);

    /// Floats of scratch memory encode(), decode() and train() need.
    virtual std::size_t work_floats() const = 0;

    /// code[0, code_size()) := the code of x[0, dim()).
    virtual void encode(const float *x, std::uint8_t *code, float *work) const = 0;

    /// x[0, dim()) := the reconstruction (of x / |x| under cosine).
    virtual void decode(const std::uint8_t *code, float *x, float *work) const = 0;

    /// The dimension of the code's own coordinates: D for the rotated codes
    /// (E8, H4, binary), dim() otherwise.
    virtual std::size_t native_dim() const { return dim_; }

    /// u[0, native_dim()) := the reconstruction in the code's own
    /// coordinates: u^ = R x^ for rotated codes (decode() without the
    /// inverse rotation), else decode().  For comparing many codes with each
    /// other (an index insert's neighbour selection) at a fraction of
    /// decode()'s cost.  R is orthogonal, so distances and inner products
    /// among such vectors and to_native() outputs are those of decode()d
    /// vectors, except that with padding (D > d) u^ keeps the part of its
    /// error that falls in the padding coordinates (decode() drops it):
    /// |to_native(x) - u^|^2 exceeds |x - decode(c)|^2 by at most r^2.
    virtual void decode_native(const std::uint8_t *code, float *u, float *work) const { decode(code, u, work); }

    /// u[0, native_dim()) := x[0, dim()) in the code's own coordinates, as
    /// given (no normalization under cosine).
    virtual void to_native(const float *x, float *u) const;

    /// The byte offset of the float r = |x - x^| (rounded up) in every code:
    /// +inf where the code bounds nothing (a vector outside kCodeNormMin ..
    /// kCodeNormMax), so a scan re-ranks it before trusting its estimate.
    virtual std::size_t residual_offset() const = 0;

    /// Bytes of memory distance_computer() needs (object and query state).
    virtual std::size_t distance_computer_bytes() const = 0;

    /// Builds a distance computer in `memory` (distance_computer_bytes()
    /// bytes, 8-byte aligned, e.g. from palloc).  It refers to this quantizer,
    /// which must outlive it; it needs no destruction.
    virtual DistanceComputer *distance_computer(void *memory) const = 0;

protected:
    Quantizer(std::size_t dim, Metric metric) : dim_(dim), metric_(metric)
    {
        if (metric_needs_exact_vectors(metric))
            throw Error(ErrorKind::InvalidParameter, "quantized codes do not support L1 or Jaccard distance");
    }
    /// For a code that computes every metric it accepts exactly (bit_code.h):
    /// no refusal here.
    struct ExactCode {};
    Quantizer(std::size_t dim, Metric metric, ExactCode) : dim_(dim), metric_(metric) {}
    Quantizer(const Quantizer &) = default;
    Quantizer &operator=(const Quantizer &) = default;
    ~Quantizer() = default;

    std::size_t dim_;
    Metric metric_;
};

/// The distance, in the metric's "smaller is nearer" form, of two vectors
/// known by their squared norms and inner product (every estimate on codes
/// ends here).  L1 has no such form; quantizers reject it when made.
inline float distance_from_ip(Metric metric, double norm2_a, double norm2_b, double ip)
{
    switch (metric) {
    case Metric::L2:
        return rank_float(norm2_a + norm2_b - 2.0 * ip);
    case Metric::InnerProduct:
        return rank_float(-ip);
    case Metric::Cosine:
        return rank_float(1.0 - ip);
    case Metric::L1:
    case Metric::Jaccard:
        break;
    }
    return 0.0f;
}

/// The magnitudes codes describe faithfully.  A rotated code's float sums
/// (the rotation of x, a query's dot with a codeword) reach at most 2^9
/// times the vector's norm (16,384 rotated dimensions, codeword entries up
/// to 4), and its stored gain and norm stay normal floats, for norms in
/// [2^-110, 2^110]; SQ8 keeps the sum of its query's terms there.  A stored
/// vector whose norm is outside (L2 and inner product; cosine normalizes
/// first) is encoded as its rescaling by a power of two into the range,
/// with r = +inf: its estimate ranks it as that vector, its bound says
/// nothing, and re-ranking or the executor's recheck computes its exact
/// distance.  A query outside is rescaled the same way, and the scale is
/// folded back into every inner product in double, so its estimates and
/// bounds stay in the operator's units.
constexpr double kCodeNormMin = 0x1p-110;
constexpr double kCodeNormMax = 0x1p110;

/// The power of two s that brings `norm` into [kCodeNormMin, kCodeNormMax],
/// at the end it is nearest (norm * s within a factor 2 of it, so a vector
/// rescaled for its code still ranks as a huge or tiny one); 1 when it is
/// inside already, or is 0.
inline double code_range_scale(double norm)
{
    if (!(norm > 0.0) || (norm >= kCodeNormMin && norm <= kCodeNormMax))
        return 1.0;
    const int target = norm > kCodeNormMax ? std::ilogb(kCodeNormMax) - 1 : std::ilogb(kCodeNormMin);
    return std::ldexp(1.0, target - std::ilogb(norm));
}

/// Rounds n up to a multiple of 8 (offsets inside distance-computer memory).
constexpr std::size_t align8(std::size_t n) { return (n + 7) / 8 * 8; }

}  // namespace vecdb
