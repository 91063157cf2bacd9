/*
 * binary.cpp -- sign-bit quantizer: encode (rotate, keep signs, LS gain),
 * decode, and the scan, which XORs each nibble of signs into 4 query lanes
 * (see binary.h).
 */
#include "binary.h"

#include <new>

#include "rotated_code.h"
#include "simd_vec.h"

#include "deterministic_fp.h"
#include "../core_only.h"

namespace vecdb {

namespace {

/// Set bits of a byte (no popcount instruction in the x86-64 baseline).
struct ByteBitCounts {
    std::uint8_t n[256];
};

constexpr ByteBitCounts build_byte_bit_counts()
{
    ByteBitCounts t{};
    for (int b = 0; b < 256; b++)
        for (int i = 0; i < 8; i++)
            t.n[b] = static_cast<std::uint8_t>(t.n[b] + ((b >> i) & 1));
    return t;
}

constexpr ByteBitCounts kByteBitCounts = build_byte_bit_counts();

}  // namespace

BinaryQuantizer::BinaryQuantizer(std::size_t dim, Metric metric, std::uint64_t seed)
    : RotatedQuantizer(dim, metric, seed)
{
}

std::size_t BinaryQuantizer::code_size() const { return kRotatedHeaderBytes + sign_bytes(); }

// u, then the codeword (D floats each).
std::size_t BinaryQuantizer::work_floats() const { return 2 * rotation_.padded_dim(); }

void BinaryQuantizer::encode(const float *x, std::uint8_t *code, float *work) const
{
    const std::size_t padded = rotation_.padded_dim();
    float *u = work, *c = work + padded;
    const RotatedInput input = rotate_input(rotation_, metric_, x, u);
    std::uint8_t *signs = code + kRotatedHeaderBytes;
    for (std::size_t j = 0; j < sign_bytes(); j++) {
        unsigned byte = 0;
        for (int i = 0; i < 8; i++) {
            bool negative = u[8 * j + i] < 0.0f;
            byte |= static_cast<unsigned>(negative) << i;
            c[8 * j + i] = negative ? -1.0f : 1.0f;
        }
        signs[j] = static_cast<std::uint8_t>(byte);
    }
    store_rotated_header(code, fit_gain(u, c, nullptr, 0.0f, padded, input));
}

void BinaryQuantizer::reconstruct_rotated(const std::uint8_t *code, float *u, float *) const
{
    const std::uint8_t *signs = code + kRotatedHeaderBytes;
    const float gain = load_rotated_header(code).gain;
    for (std::size_t i = 0; i < rotation_.padded_dim(); i++)
        u[i] = (signs[i / 8] >> (i % 8)) & 1 ? -gain : gain;
}

std::size_t BinaryQuantizer::distance_computer_bytes() const
{
    return align8(sizeof(BinaryDistanceComputer)) + BinaryDistanceComputer::state_floats(*this) * sizeof(float);
}

DistanceComputer *BinaryQuantizer::distance_computer(void *memory) const
{
    float *state =
        reinterpret_cast<float *>(static_cast<unsigned char *>(memory) + align8(sizeof(BinaryDistanceComputer)));
    return new (memory) BinaryDistanceComputer(this, state);
}

// --- distance computer -------------------------------------------------------

BinaryDistanceComputer::BinaryDistanceComputer(const BinaryQuantizer *quantizer, float *state)
    : quantizer_(quantizer), query_(state)
{
}

void BinaryDistanceComputer::set_query(const float *q)
{
    rotate_query(quantizer_->rotation(), quantizer_->metric(), q, 1.0, query_, &bounds_);
}

float BinaryDistanceComputer::codeword_dot(const std::uint8_t *code) const
{
    const std::uint8_t *signs = code + kRotatedHeaderBytes;
    V4f acc0 = {0, 0, 0, 0}, acc1 = {0, 0, 0, 0};
    for (std::size_t j = 0; j < quantizer_->sign_bytes(); j++) {
        acc0 += negate_lanes(load4(query_ + 8 * j), signs[j]);
        acc1 += negate_lanes(load4(query_ + 8 * j + 4), signs[j] >> 4);
    }
    return hsum4(acc0 + acc1);
}

float BinaryDistanceComputer::symmetric(const std::uint8_t *a, const std::uint8_t *b) const
{
    // <c_a, c_b> = D - 2 (number of differing signs), exactly.
    const std::uint8_t *sa = a + kRotatedHeaderBytes, *sb = b + kRotatedHeaderBytes;
    long differ = 0;
    for (std::size_t j = 0; j < quantizer_->sign_bytes(); j++)
        differ += kByteBitCounts.n[sa[j] ^ sb[j]];
    double dot = static_cast<double>(static_cast<long>(quantizer_->rotation().padded_dim()) - 2 * differ);
    RotatedCodeHeader ha = load_rotated_header(a), hb = load_rotated_header(b);
    return symmetric_distance(quantizer_->metric(), dot * ha.gain * hb.gain, ha, hb);
}

}  // namespace vecdb
