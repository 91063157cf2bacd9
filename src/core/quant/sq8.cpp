/*
 * sq8.cpp -- 8-bit scalar quantizer: range training, encode, decode and the
 * scan (see sq8.h).  The scan folds the ranges into the query once:
 * <q, x^> = sum q_i vmin_i + sum (q_i step_i) c_i.
 */
#include "sq8.h"

#include <algorithm>

#include <cmath>
#include <cstring>
#include <new>
#include <vector>

#include "../error.h"
#include "../simd/distance.h"

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

namespace {

void store_header(std::uint8_t *code, const Sq8Header &h)
{
    std::memcpy(code, &h.r, 4);
    std::memcpy(code + 4, &h.norm, 4);
    std::memcpy(code + 8, &h.recon_norm, 4);
}

double norm_of(const float *x, std::size_t n)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i++)
        sum += static_cast<double>(x[i]) * x[i];
    return std::sqrt(sum);
}

/* x, or x / |x| under cosine (into work); *norm: the result's norm. */
const float *prepare_sq8(const float *x, std::size_t dim, Metric metric, float *work, double *norm)
{
    *norm = norm_of(x, dim);
    if (metric != Metric::Cosine || *norm == 0.0)
        return x;
    for (std::size_t i = 0; i < dim; i++)
        work[i] = static_cast<float>(x[i] / *norm);
    *norm = norm_of(work, dim);
    return work;
}

}  // namespace

SQ8Quantizer::SQ8Quantizer(std::size_t dim, Metric metric, float *ranges) : Quantizer(dim, metric), ranges_(ranges)
{
    if (dim == 0)
        throw Error(ErrorKind::InvalidParameter, "SQ8 dimension must be at least 1");
}

void SQ8Quantizer::train(std::size_t n, const float *x, float *)
{
    if (n == 0)
        throw Error(ErrorKind::InvalidParameter, "SQ8 training needs at least one vector");
    // The trainer's own memory, not `work`: work_floats() sizes every
    // encode's and scan's scratch, and training is rare (the index builds
    // train through codec.cpp's CodecTrainer).
    std::vector<float> memory(Sq8RangeTrainer::floats_needed(dim_));
    Sq8RangeTrainer trainer(dim_, metric_, memory.data());
    for (std::size_t v = 0; v < n; v++)
        trainer.add(x + v * dim_);
    trainer.finish(ranges_);
}

Sq8RangeTrainer::Sq8RangeTrainer(std::size_t dim, Metric metric, float *memory)
    : dim_(dim), metric_(metric), inside_lo_(memory), inside_hi_(memory + dim), all_lo_(memory + 2 * dim),
      all_hi_(memory + 3 * dim), work_(memory + 4 * dim)
{
}

void Sq8RangeTrainer::add(const float *x)
{
    // Vectors outside kCodeNormMin .. kCodeNormMax would stretch (or, all
    // tiny, shrink) every range they touch: one row of 3e38s would leave the
    // others a single level.  Ranges follow the vectors inside it; the rest
    // are clamped like any value out of range (their r records it).  If no
    // vector is inside, every vector counts.
    double norm;
    const float *p = prepare_sq8(x, dim_, metric_, work_, &norm);
    const bool inside = norm == 0.0 || code_range_scale(norm) == 1.0;
    for (std::size_t i = 0; i < dim_; i++) {
        if (count_ == 0 || p[i] < all_lo_[i])
            all_lo_[i] = p[i];
        if (count_ == 0 || p[i] > all_hi_[i])
            all_hi_[i] = p[i];
        if (inside && (!any_inside_ || p[i] < inside_lo_[i]))
            inside_lo_[i] = p[i];
        if (inside && (!any_inside_ || p[i] > inside_hi_[i]))
            inside_hi_[i] = p[i];
    }
    any_inside_ = any_inside_ || inside;
    count_++;
}

void Sq8RangeTrainer::finish(float *ranges) const
{
    if (count_ == 0)
        throw Error(ErrorKind::InvalidParameter, "SQ8 training needs at least one vector");
    const float *lo = any_inside_ ? inside_lo_ : all_lo_, *hi = any_inside_ ? inside_hi_ : all_hi_;
    // In double: max - min can exceed float's range.
    for (std::size_t i = 0; i < dim_; i++) {
        ranges[i] = lo[i];
        ranges[dim_ + i] = static_cast<float>((static_cast<double>(hi[i]) - lo[i]) / 255.0);
    }
}

void SQ8Quantizer::encode(const float *x, std::uint8_t *code, float *work) const
{
    double norm;
    const float *p = prepare_sq8(x, dim_, metric_, work, &norm);
    const float *lo = vmin(), *st = step();
    std::uint8_t *levels = code + kSq8HeaderBytes;
    double r2 = 0.0, recon2 = 0.0;
    for (std::size_t i = 0; i < dim_; i++) {
        float level = st[i] > 0.0f ? std::floor((p[i] - lo[i]) / st[i] + 0.5f) : 0.0f;
        // Clamp so that NaN lands on 0 too (the cast below needs 0..255).
        level = level >= 0.0f ? level : 0.0f;
        level = level <= 255.0f ? level : 255.0f;
        levels[i] = static_cast<std::uint8_t>(level);
        // x^_i exactly as a real number: the scan's reconstruction.
        double recon = static_cast<double>(lo[i]) + static_cast<double>(st[i]) * level;
        double e = p[i] - recon;
        r2 += e * e;
        recon2 += recon * recon;
    }
    Sq8Header h;
    h.r = round_up(std::sqrt(r2) * (1.0 + 1e-12));
    h.norm = static_cast<float>(norm);
    h.recon_norm = round_down(std::sqrt(recon2) * (1.0 - 1e-12));
    store_header(code, h);
}

void SQ8Quantizer::decode(const std::uint8_t *code, float *x, float *) const
{
    // The count in a local and __restrict: x never overlaps the ranges, the
    // code or dim_, and without both the loop stays scalar (an insert decodes
    // ~1,000 codes).
    const float *__restrict lo = vmin(), *__restrict st = step();
    const std::uint8_t *__restrict levels = code + kSq8HeaderBytes;
    float *__restrict out = x;
    const std::size_t n = dim_;
    for (std::size_t i = 0; i < n; i++)
        out[i] = lo[i] + st[i] * static_cast<float>(levels[i]);
}

std::size_t SQ8Quantizer::distance_computer_bytes() const
{
    return align8(sizeof(SQ8DistanceComputer)) + SQ8DistanceComputer::state_floats(*this) * sizeof(float);
}

DistanceComputer *SQ8Quantizer::distance_computer(void *memory) const
{
    float *state = reinterpret_cast<float *>(static_cast<unsigned char *>(memory) + align8(sizeof(SQ8DistanceComputer)));
    return new (memory) SQ8DistanceComputer(this, state);
}

// --- distance computer -------------------------------------------------------

SQ8DistanceComputer::SQ8DistanceComputer(const SQ8Quantizer *quantizer, float *state)
    : quantizer_(quantizer), query_(state), scaled_query_(state + quantizer->dim()), offset_(0.0f), bounds_()
{
}

void SQ8DistanceComputer::set_query(const float *q)
{
    const SQ8Quantizer &quant = *quantizer_;
    const std::size_t d = quant.dim();
    const float *lo = quant.vmin(), *st = quant.step();
    double norm = norm_of(q, d);
    const bool normalize = quant.metric() == Metric::Cosine && norm > 0.0;
    // The scan's terms are bounded by |q_i| (|vmin_i| + 255 step_i).  A
    // query whose terms add up to more (or less) than float sums can carry
    // exactly (kCodeNormMin .. kCodeNormMax) is scanned rescaled by a power
    // of two, and ip_scale takes every inner product back to its units.
    auto terms_of = [&](const float *v, double scale) {
        double terms = 0.0;
        for (std::size_t i = 0; i < d; i++)
            terms += std::fabs(v[i] * scale) * (std::fabs(static_cast<double>(lo[i])) + 255.0 * st[i]);
        return terms;
    };
    const double scale = normalize ? 1.0 / norm : code_range_scale(terms_of(q, 1.0));
    for (std::size_t i = 0; i < d; i++)
        query_[i] = scale != 1.0 ? static_cast<float>(q[i] * scale) : q[i];
    const double unscale = normalize ? 1.0 : 1.0 / scale;
    norm = norm_of(query_, d) * unscale;
    double offset = 0.0;
    for (std::size_t i = 0; i < d; i++) {
        scaled_query_[i] = query_[i] * st[i];
        offset += static_cast<double>(query_[i]) * lo[i];
    }
    const double terms = terms_of(query_, 1.0);
    offset_ = static_cast<float>(offset);
    bounds_.metric = quant.metric();
    bounds_.dims = static_cast<double>(d);
    bounds_.rot_eps = 0.0;
    bounds_.qnorm = norm;
    bounds_.q2 = norm * norm;
    // offset_ is rounded once more: d + 1 terms in all.
    bounds_.ip_err_unit = ip_error_unit(1.0, terms, d + 1) * unscale;
    bounds_.ip_scale = unscale;
    bounds_.zero_query = norm == 0.0;
}

double SQ8DistanceComputer::reconstruction_dot(const std::uint8_t *code) const
{
    // ip_err_unit (set_query) covers any summation order, so the bound holds
    // whichever kernel set is active.
    float dot = offset_ + distance_kernels().dot_u8(scaled_query_, code + kSq8HeaderBytes, quantizer_->dim());
    return bounds_.ip_scale * dot;
}

namespace {

float sq8_estimate(const QueryBounds &query, double ip, const Sq8Header &h)
{
    double recon = h.recon_norm, r = h.r;
    return distance_from_ip(query.metric, query.q2, recon * recon + r * r, ip);
}

CodeBoundInputs sq8_bound_inputs(double ip, const Sq8Header &h)
{
    CodeBoundInputs in;
    in.ip = ip;
    in.gain = 1.0;
    in.r = h.r;
    in.norm = h.norm;
    in.recon_norm2_low = static_cast<double>(h.recon_norm) * h.recon_norm * (1.0 - 1e-12);
    return in;
}

float sq8_bound(const QueryBounds &query, double ip, const Sq8Header &h)
{
    return guaranteed_lower_bound(query, sq8_bound_inputs(ip, h));
}

/* lower_bounds for metric M over n codes `stride` bytes apart: the dots of
 * a block first, then its bounds in a loop of plain arithmetic with no
 * per-code dispatch, where the codes' dependency chains (square root,
 * rounding) overlap. */
template <Metric M>
void sq8_lower_bounds(const QueryBounds &query, const float *scaled_query, float offset, std::size_t dim,
                      const std::uint8_t *codes, std::size_t stride, std::size_t n, float *out)
{
    auto code = [=](std::size_t i) { return codes + i * stride; };
    const auto dot_u8 = distance_kernels().dot_u8;
    constexpr std::size_t kBlock = 64;
    double ip[kBlock];
    for (std::size_t start = 0; start < n; start += kBlock) {
        const std::size_t m = std::min(kBlock, n - start);
        // As reconstruction_dot (ip_err_unit covers any summation order).
        for (std::size_t i = 0; i < m; i++)
            ip[i] = query.ip_scale * (offset + dot_u8(scaled_query, code(start + i) + kSq8HeaderBytes, dim));
        for (std::size_t i = 0; i < m; i++)
            out[start + i] = guaranteed_lower_bound<M>(query, sq8_bound_inputs(ip[i], load_sq8_header(code(start + i))));
    }
}

}  // namespace

float SQ8DistanceComputer::distance(const std::uint8_t *code) const
{
    return sq8_estimate(bounds_, reconstruction_dot(code), load_sq8_header(code));
}

float SQ8DistanceComputer::lower_bound(const std::uint8_t *code) const
{
    return sq8_bound(bounds_, reconstruction_dot(code), load_sq8_header(code));
}

void SQ8DistanceComputer::lower_bounds(const std::uint8_t *codes, std::size_t stride, std::size_t n, float *out) const
{
    const std::size_t d = quantizer_->dim();
    switch (bounds_.metric) {
    case Metric::L2:
        return sq8_lower_bounds<Metric::L2>(bounds_, scaled_query_, offset_, d, codes, stride, n, out);
    case Metric::InnerProduct:
        return sq8_lower_bounds<Metric::InnerProduct>(bounds_, scaled_query_, offset_, d, codes, stride, n, out);
    case Metric::Cosine:
        return sq8_lower_bounds<Metric::Cosine>(bounds_, scaled_query_, offset_, d, codes, stride, n, out);
    case Metric::L1:  // rejected when the quantizer is made
    case Metric::Jaccard:
        break;
    }
    DistanceComputer::lower_bounds(codes, stride, n, out);
}

float SQ8DistanceComputer::distance_and_bound(const std::uint8_t *code, float *lower_bound) const
{
    double ip = reconstruction_dot(code);
    Sq8Header h = load_sq8_header(code);
    *lower_bound = sq8_bound(bounds_, ip, h);
    return sq8_estimate(bounds_, ip, h);
}

float SQ8DistanceComputer::symmetric(const std::uint8_t *a, const std::uint8_t *b) const
{
    const float *lo = quantizer_->vmin(), *st = quantizer_->step();
    const std::uint8_t *ca = a + kSq8HeaderBytes, *cb = b + kSq8HeaderBytes;
    double dot = 0.0;
    for (std::size_t i = 0; i < quantizer_->dim(); i++) {
        float xa = lo[i] + st[i] * static_cast<float>(ca[i]);
        float xb = lo[i] + st[i] * static_cast<float>(cb[i]);
        dot += xa * xb;
    }
    Sq8Header ha = load_sq8_header(a), hb = load_sq8_header(b);
    double na = static_cast<double>(ha.recon_norm) * ha.recon_norm + static_cast<double>(ha.r) * ha.r;
    double nb = static_cast<double>(hb.recon_norm) * hb.recon_norm + static_cast<double>(hb.r) * hb.r;
    return distance_from_ip(quantizer_->metric(), na, nb, dot);
}

}  // namespace vecdb
