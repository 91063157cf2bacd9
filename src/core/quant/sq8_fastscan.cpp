/*
 * sq8_fastscan.cpp -- tables and bounds of the 4-bit SQ8 pre-filter (see
 * sq8_fastscan.h; the kernel is simd/scan_u4.inc).
 *
 * Rounding: table entries are computed in double from float ranges and
 * query (relative error ~1e-16 per operation), then quantized the safe way
 * with a 1e-12 relative margin, and the bound gives up an absolute 1e-12 of
 * the largest sum the terms can reach; the steps from |q - x^| or <q, x^>
 * to the operator's fp32 value are bounds.h's.
 */
#include "sq8_fastscan.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../core_only.h"

namespace vecdb {

void fastscan_store(std::uint8_t *block, std::size_t dim, unsigned slot, const std::uint8_t *levels)
{
    const unsigned byte = slot & 15;
    const bool high = slot >= 16;
    for (std::size_t i = 0; i < dim; i++) {
        std::uint8_t &b = block[16 * i + byte];
        const std::uint8_t nibble = levels[i] >> 4;
        b = high ? std::uint8_t((b & 0x0F) | (nibble << 4)) : std::uint8_t((b & 0xF0) | nibble);
    }
}

void fastscan_note_code(FastScanPageMax *page, const std::uint8_t *code)
{
    const Sq8Header h = load_sq8_header(code);
    // NaN compares false: written as "not <=" so that it spreads.
    if (!(h.r <= page->r))
        page->r = h.r;
    if (!(h.norm <= page->norm))
        page->norm = h.norm;
}

bool SQ8FastScan::set_query(const SQ8Quantizer &quantizer, const SQ8DistanceComputer &computer,
                            std::uint8_t *tables)
{
    const QueryBounds &qb = computer.query_bounds();
    const std::size_t d = quantizer.dim();
    const float *q = computer.query();
    const float *lo = quantizer.vmin(), *st = quantizer.step();
    metric_ = qb.metric;
    dims_ = static_cast<double>(d);
    qnorm_ = qb.qnorm;
    if (qb.ip_scale != 1.0 || qb.zero_query || !std::isfinite(qb.qnorm) || metric_needs_exact_vectors(metric_))
        return false;
    const bool l2 = metric_ == Metric::L2;
    // The least term of dimension i over nibble n's interval of x^_i.
    auto term = [&](std::size_t i, unsigned n) {
        double a = static_cast<double>(lo[i]) + 16.0 * n * st[i];
        double b = static_cast<double>(lo[i]) + (16.0 * n + 15.0) * st[i];
        if (a > b)
            std::swap(a, b);
        const double qi = q[i];
        if (l2)
            return qi < a ? (a - qi) * (a - qi) : qi > b ? (qi - b) * (qi - b) : 0.0;
        return std::max(qi * a, qi * b);
    };
    // Per dimension: the least of its 16 terms (summed into base) and the
    // widest spread over all dimensions (the table unit).
    double span = 0.0, base = 0.0, magnitude = 0.0;
    for (std::size_t i = 0; i < d; i++) {
        double least = HUGE_VAL, most = -HUGE_VAL;
        for (unsigned n = 0; n < 16; n++) {
            const double t = term(i, n);
            least = std::min(least, t);
            most = std::max(most, t);
        }
        if (!std::isfinite(least) || !std::isfinite(most))
            return false;
        span = std::max(span, most - least);
        base += least;
        const double reach = std::fabs(static_cast<double>(lo[i])) + 255.0 * std::fabs(static_cast<double>(st[i]));
        magnitude += l2 ? (std::fabs(q[i]) + reach) * (std::fabs(q[i]) + reach) : std::fabs(q[i]) * reach;
    }
    // 255 / (1 + 1e-9) units at most: the dot's rounding up stays <= 255.
    scale_ = span > 0.0 ? span / 255.0 * (1.0 + 1e-9) : 1.0;
    base_ = base;
    slack_ = 1e-12 * magnitude + 1e-300;
    std::uint32_t max_sum = 0;
    for (std::size_t i = 0; i < d; i++) {
        double t[16], least = HUGE_VAL;
        for (unsigned n = 0; n < 16; n++) {
            t[n] = term(i, n);
            least = std::min(least, t[n]);
        }
        std::uint8_t *table = tables + 16 * i;
        std::uint8_t most = 0;
        for (unsigned n = 0; n < 16; n++) {
            const double units = (t[n] - least) / scale_;
            // L2 sums a lower bound: round down; the dot an upper bound: up.
            const double rounded = l2 ? std::floor(units * (1.0 - 1e-12)) : std::ceil(units * (1.0 + 1e-12));
            table[n] = static_cast<std::uint8_t>(std::clamp(rounded, 0.0, 255.0));
            most = std::max(most, table[n]);
        }
        max_sum += most;
    }
    max_sum_ = max_sum;
    return true;
}

float SQ8FastScan::lower_bound(std::uint32_t s, FastScanPageMax page) const
{
    constexpr double kUnit = 0x1.0p-24;
    const double operator_rel = 2.0 * (dims_ + 4.0) * kUnit;
    const double r = page.r, norm = page.norm;
    const double sum = base_ + scale_ * s;
    switch (metric_) {
    case Metric::L2: {
        if (!std::isfinite(r))
            return 0.0f;
        // |q - x^|^2 >= sum - slack; |q - x| >= |q - x^| - r.
        const double d2 = sum - slack_;
        if (d2 <= 0.0)
            return 0.0f;
        const double dist = std::sqrt(d2) * (1.0 - 1e-12) - r;
        if (dist <= 0.0)
            return 0.0f;
        return round_down(dist * dist * (1.0 - operator_rel) * (1.0 - 1e-12));
    }
    case Metric::InnerProduct: {
        if (!std::isfinite(r) || !std::isfinite(norm))
            return -INFINITY;
        // <q, x^> <= sum + slack; <q, x> <= <q, x^> + |q| r.
        const double upper = (sum + slack_ + qnorm_ * r) + 1e-12 * (std::fabs(sum) + qnorm_ * r) + 1e-300;
        const double operator_error = operator_rel * (1.0 + kUnit) * qnorm_ * norm;
        return round_down(-upper - operator_error);
    }
    case Metric::Cosine: {
        if (!std::isfinite(r))
            return 0.0f;
        // As bounds.h: q and x were rounded to float after normalization.
        const double cos_upper = (sum + slack_ + qnorm_ * r) + 1e-12 * (std::fabs(sum) + qnorm_ * r) + 3.0 * kUnit;
        const double bound = 1.0 - cos_upper - 2.0 * (2.0 * dims_ + 8.0) * kUnit;
        return bound > 0.0 ? round_down(bound) : 0.0f;
    }
    case Metric::L1:
    case Metric::Jaccard:
        break;
    }
    return 0.0f;
}

double SQ8FastScan::sum_near(double bound, FastScanPageMax page) const
{
    const double r = std::isfinite(page.r) ? page.r : 0.0;
    double sum;
    switch (metric_) {
    case Metric::L2: {
        const double root = std::sqrt(std::fmax(bound, 0.0)) + r;
        sum = root * root;
        break;
    }
    case Metric::InnerProduct:
        sum = -bound - qnorm_ * r;
        break;
    default:
        sum = 1.0 - bound - qnorm_ * r;
        break;
    }
    const double s = (sum - base_) / scale_;
    return std::isnan(s) ? 0.0 : s;
}

}  // namespace vecdb
