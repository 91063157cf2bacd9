/*
 * h4.cpp -- H4 quantizer: encode (rotate, nearest 600-cell vertex and gain
 * bit per 4-block, LS gain), decode, and the scan (see h4.h).
 */
#include "h4.h"

#include <cmath>
#include <new>

#include "cell600.h"
#include "rotated_code.h"
#include "simd_vec.h"

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

namespace {

/// Every block byte's point: kLevels[bit 7] times vertex (bits 0..6), zero
/// for the unused vertex numbers 120..127.  4 KB, built at compile time, so
/// the scan does one table load per block.
struct BlockPoints {
    float p[256][4];
};

constexpr BlockPoints build_block_points()
{
    BlockPoints t{};
    for (int b = 0; b < 256; b++) {
        int vertex = b & 127;
        if (vertex >= kCell600Vertices)
            continue;
        for (int i = 0; i < 4; i++)
            t.p[b][i] = H4Quantizer::kLevels[b >> 7] * kCell600.v[vertex][i];
    }
    return t;
}

constexpr BlockPoints kBlockPoints = build_block_points();

/// Decision threshold between the two levels, in units of sigma.
constexpr float kThreshold = 0.5f * (H4Quantizer::kLevels[0] + H4Quantizer::kLevels[1]);

}  // namespace

H4Quantizer::H4Quantizer(std::size_t dim, Metric metric, std::uint64_t seed)
    : RotatedQuantizer(dim, metric, seed)
{
}

const float *H4Quantizer::block_point(std::uint8_t b) { return kBlockPoints.p[b]; }

std::size_t H4Quantizer::code_size() const { return kRotatedHeaderBytes + blocks(); }

// u, then the codeword (D floats each).
std::size_t H4Quantizer::work_floats() const { return 2 * rotation_.padded_dim(); }

void H4Quantizer::encode(const float *x, std::uint8_t *code, float *work) const
{
    const std::size_t padded = rotation_.padded_dim();
    float *u = work, *c = work + padded;
    const RotatedInput input = rotate_input(rotation_, metric_, x, u);

    double uu = 0.0;
    for (std::size_t i = 0; i < padded; i++)
        uu += static_cast<double>(u[i]) * u[i];
    const float threshold = static_cast<float>(kThreshold * std::sqrt(uu / static_cast<double>(padded)));

    std::uint8_t *payload = code + kRotatedHeaderBytes;
    for (std::size_t b = 0; b < blocks(); b++) {
        const float *w = u + 4 * b;
        int vertex = cell600_nearest(w);
        const float *v = kCell600.v[vertex];
        float g = w[0] * v[0] + w[1] * v[1] + w[2] * v[2] + w[3] * v[3];
        payload[b] = static_cast<std::uint8_t>(vertex | (g >= threshold ? 0x80 : 0));
    }
    codeword(code, c);
    store_rotated_header(code, fit_gain(u, c, nullptr, 0.0f, padded, input));
}

void H4Quantizer::codeword(const std::uint8_t *code, float *c) const
{
    const std::uint8_t *payload = code + kRotatedHeaderBytes;
    for (std::size_t b = 0; b < blocks(); b++)
        for (int i = 0; i < 4; i++)
            c[4 * b + i] = kBlockPoints.p[payload[b]][i];
}

void H4Quantizer::reconstruct_rotated(const std::uint8_t *code, float *u, float *) const
{
    const std::uint8_t *payload = code + kRotatedHeaderBytes;
    RotatedCodeHeader h = load_rotated_header(code);
    for (std::size_t b = 0; b < blocks(); b++)
        for (int i = 0; i < 4; i++)
            u[4 * b + i] = h.gain * kBlockPoints.p[payload[b]][i];
}

std::size_t H4Quantizer::distance_computer_bytes() const
{
    return align8(sizeof(H4DistanceComputer)) + H4DistanceComputer::state_floats(*this) * sizeof(float);
}

DistanceComputer *H4Quantizer::distance_computer(void *memory) const
{
    float *state = reinterpret_cast<float *>(static_cast<unsigned char *>(memory) + align8(sizeof(H4DistanceComputer)));
    return new (memory) H4DistanceComputer(this, state);
}

// --- distance computer -------------------------------------------------------

H4DistanceComputer::H4DistanceComputer(const H4Quantizer *quantizer, float *state)
    : quantizer_(quantizer), query_(state)
{
}

std::size_t H4DistanceComputer::state_floats(const H4Quantizer &quantizer) { return quantizer.rotation().padded_dim(); }

void H4DistanceComputer::set_query(const float *q)
{
    // |c_i| <= the larger level (vertex coordinates are at most 1).
    rotate_query(quantizer_->rotation(), quantizer_->metric(), q, H4Quantizer::kLevels[1], query_, &bounds_);
}

float H4DistanceComputer::codeword_dot(const std::uint8_t *code) const
{
    const std::uint8_t *payload = code + kRotatedHeaderBytes;
    const std::size_t blocks = quantizer_->blocks();
    V4f acc0 = {0, 0, 0, 0}, acc1 = {0, 0, 0, 0};
    std::size_t b = 0;
    for (; b + 1 < blocks; b += 2) {
        acc0 += load4(query_ + 4 * b) * load4(kBlockPoints.p[payload[b]]);
        acc1 += load4(query_ + 4 * b + 4) * load4(kBlockPoints.p[payload[b + 1]]);
    }
    for (; b < blocks; b++)
        acc0 += load4(query_ + 4 * b) * load4(kBlockPoints.p[payload[b]]);
    return hsum4(acc0 + acc1);
}

float H4DistanceComputer::symmetric(const std::uint8_t *a, const std::uint8_t *b) const
{
    const std::uint8_t *pa = a + kRotatedHeaderBytes, *pb = b + kRotatedHeaderBytes;
    V4f acc = {0, 0, 0, 0};
    for (std::size_t k = 0; k < quantizer_->blocks(); k++)
        acc += load4(kBlockPoints.p[pa[k]]) * load4(kBlockPoints.p[pb[k]]);
    RotatedCodeHeader ha = load_rotated_header(a), hb = load_rotated_header(b);
    return symmetric_distance(quantizer_->metric(), static_cast<double>(hsum4(acc)) * ha.gain * hb.gain, ha, hb);
}

}  // namespace vecdb
