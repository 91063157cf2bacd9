/*
 * e8.cpp -- E8 quantizer: encode (rotate, scale, E8P per block, LS gain),
 * decode, and the distance computer's scan (see e8.h for the format).
 */
#include "e8.h"

#include <cmath>
#include <new>

#include "../error.h"
#include "e8p_codebook.h"
#include "rotated_code.h"
#include "simd_vec.h"

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

namespace {

inline std::uint16_t load_u16(const std::uint8_t *p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

inline void store_u16(std::uint8_t *p, std::uint16_t v)
{
    p[0] = static_cast<std::uint8_t>(v & 0xFF);
    p[1] = static_cast<std::uint8_t>(v >> 8);
}

/// Largest |c_i| of an E8P point: 5/2 + 1/4.
constexpr double kE8PMax = 2.75;

/// acc += <q_b with the code's signs, abs row>; returns t (the shift).
inline float accumulate_block(const float *q_block, std::uint16_t code, V4f &acc)
{
    const float *row = kE8PCodebook.rows[e8p_row(code)];
    unsigned neg = e8p_negations(code);
    acc += negate_lanes(load4(q_block), neg) * load4(row) + negate_lanes(load4(q_block + 4), neg >> 4) * load4(row + 4);
    return e8p_shift(code);
}

/// <a, b> of two decoded E8P blocks.
inline float block_pair_dot(std::uint16_t a, std::uint16_t b)
{
    float pa[8], pb[8];
    e8p_decode_block(a, pa);
    e8p_decode_block(b, pb);
    V4f s = load4(pa) * load4(pb) + load4(pa + 4) * load4(pb + 4);
    return hsum4(s);
}

}  // namespace

E8Quantizer::E8Quantizer(std::size_t dim, Metric metric, std::uint64_t seed, Mode mode)
    : RotatedQuantizer(dim, metric, seed), mode_(mode)
{
    if (mode != Mode::E8P && mode != Mode::Residual4)
        throw Error(ErrorKind::InvalidParameter, "unknown E8 quantizer mode");
}

std::size_t E8Quantizer::code_size() const { return kRotatedHeaderBytes + blocks() * block_bytes(); }

// u, then the two stages' codewords (D floats each).
std::size_t E8Quantizer::work_floats() const { return 3 * rotation_.padded_dim(); }

double E8Quantizer::codeword_max() const
{
    return mode_ == Mode::E8P ? kE8PMax : kE8PMax * (1.0 + static_cast<double>(kStage2Inverse));
}

void E8Quantizer::encode(const float *x, std::uint8_t *code, float *work) const
{
    const std::size_t padded = rotation_.padded_dim();
    float *u = work, *first = work + padded, *second = work + 2 * padded;
    const RotatedInput input = rotate_input(rotation_, metric_, x, u);

    double uu = 0.0;
    for (std::size_t i = 0; i < padded; i++)
        uu += static_cast<double>(u[i]) * u[i];
    double sigma = std::sqrt(uu / static_cast<double>(padded));
    // In double: 1 / sigma overflows float for vectors of denormal scale,
    // while |u_i| * scale <= kScale sqrt(D) always fits.
    const double base = mode_ == Mode::E8P ? kScale : kStage1Scale;
    const double scale = sigma > 0.0 ? base / sigma : 0.0;

    std::uint8_t *payload = code + kRotatedHeaderBytes;
    for (std::size_t b = 0; b < blocks(); b++) {
        float z[8];
        for (int i = 0; i < 8; i++)
            z[i] = static_cast<float>(u[8 * b + i] * scale);
        std::uint16_t stage1 = e8p_encode_block(z);
        if (mode_ == Mode::E8P) {
            store_u16(payload + 2 * b, stage1);
            continue;
        }
        float point[8], residual[8];
        e8p_decode_block(stage1, point);
        for (int i = 0; i < 8; i++)
            residual[i] = (z[i] - point[i]) * kStage2Scale;
        store_u16(payload + 4 * b, stage1);
        store_u16(payload + 4 * b + 2, e8p_encode_block(residual));
    }
    stage_codewords(code, first, second);
    store_rotated_header(code, fit_gain(u, first, mode_ == Mode::E8P ? nullptr : second, kStage2Inverse, padded, input));
}

void E8Quantizer::stage_codewords(const std::uint8_t *code, float *first, float *second) const
{
    const std::uint8_t *payload = code + kRotatedHeaderBytes;
    for (std::size_t b = 0; b < blocks(); b++) {
        if (mode_ == Mode::E8P) {
            e8p_decode_block(load_u16(payload + 2 * b), first + 8 * b);
        } else {
            e8p_decode_block(load_u16(payload + 4 * b), first + 8 * b);
            e8p_decode_block(load_u16(payload + 4 * b + 2), second + 8 * b);
        }
    }
}

// work: 2 D floats.
void E8Quantizer::reconstruct_rotated(const std::uint8_t *code, float *u, float *work) const
{
    const std::size_t padded = rotation_.padded_dim();
    float *first = work, *second = work + padded;
    stage_codewords(code, first, second);
    const float gain = load_rotated_header(code).gain;
    for (std::size_t i = 0; i < padded; i++)
        u[i] = gain * (mode_ == Mode::E8P ? first[i] : first[i] + kStage2Inverse * second[i]);
}

std::size_t E8Quantizer::distance_computer_bytes() const
{
    return align8(sizeof(E8DistanceComputer)) + E8DistanceComputer::state_floats(*this) * sizeof(float);
}

DistanceComputer *E8Quantizer::distance_computer(void *memory) const
{
    float *state = reinterpret_cast<float *>(static_cast<unsigned char *>(memory) + align8(sizeof(E8DistanceComputer)));
    return new (memory) E8DistanceComputer(this, state);
}

// --- distance computer -------------------------------------------------------

E8DistanceComputer::E8DistanceComputer(const E8Quantizer *quantizer, float *state)
    : quantizer_(quantizer), query_(state), block_sums_(state + quantizer->rotation().padded_dim())
{
}

std::size_t E8DistanceComputer::state_floats(const E8Quantizer &quantizer)
{
    return quantizer.rotation().padded_dim() + quantizer.blocks();
}

void E8DistanceComputer::set_query(const float *q)
{
    const E8Quantizer &quant = *quantizer_;
    rotate_query(quant.rotation(), quant.metric(), q, quant.codeword_max(), query_, &bounds_);
    for (std::size_t b = 0; b < quant.blocks(); b++) {
        float sum = 0.0f;
        for (int i = 0; i < 8; i++)
            sum += query_[8 * b + i];
        block_sums_[b] = sum;
    }
}

float E8DistanceComputer::codeword_dot(const std::uint8_t *code) const
{
    const std::uint8_t *payload = code + kRotatedHeaderBytes;
    const std::size_t blocks = quantizer_->blocks();
    const float *q = query_;
    if (quantizer_->mode() == E8Quantizer::Mode::E8P) {
        V4f acc = {0, 0, 0, 0};
        float shifts = 0.0f;
        for (std::size_t b = 0; b < blocks; b++)
            shifts += accumulate_block(q + 8 * b, load_u16(payload + 2 * b), acc) * block_sums_[b];
        return hsum4(acc) + shifts;
    }
    V4f acc1 = {0, 0, 0, 0}, acc2 = {0, 0, 0, 0};
    float shifts1 = 0.0f, shifts2 = 0.0f;
    for (std::size_t b = 0; b < blocks; b++) {
        shifts1 += accumulate_block(q + 8 * b, load_u16(payload + 4 * b), acc1) * block_sums_[b];
        shifts2 += accumulate_block(q + 8 * b, load_u16(payload + 4 * b + 2), acc2) * block_sums_[b];
    }
    return (hsum4(acc1) + shifts1) + E8Quantizer::kStage2Inverse * (hsum4(acc2) + shifts2);
}

float E8DistanceComputer::symmetric(const std::uint8_t *a, const std::uint8_t *b) const
{
    const std::uint8_t *pa = a + kRotatedHeaderBytes, *pb = b + kRotatedHeaderBytes;
    const std::size_t blocks = quantizer_->blocks();
    double dot = 0.0;
    if (quantizer_->mode() == E8Quantizer::Mode::E8P) {
        for (std::size_t k = 0; k < blocks; k++)
            dot += block_pair_dot(load_u16(pa + 2 * k), load_u16(pb + 2 * k));
    } else {
        const float w = E8Quantizer::kStage2Inverse;
        for (std::size_t k = 0; k < blocks; k++) {
            float ca[8], cb[8], first[8], second[8];
            e8p_decode_block(load_u16(pa + 4 * k), first);
            e8p_decode_block(load_u16(pa + 4 * k + 2), second);
            for (int i = 0; i < 8; i++)
                ca[i] = first[i] + w * second[i];
            e8p_decode_block(load_u16(pb + 4 * k), first);
            e8p_decode_block(load_u16(pb + 4 * k + 2), second);
            for (int i = 0; i < 8; i++)
                cb[i] = first[i] + w * second[i];
            dot += hsum4(load4(ca) * load4(cb) + load4(ca + 4) * load4(cb + 4));
        }
    }
    RotatedCodeHeader ha = load_rotated_header(a), hb = load_rotated_header(b);
    return symmetric_distance(quantizer_->metric(), dot * ha.gain * hb.gain, ha, hb);
}

}  // namespace vecdb
