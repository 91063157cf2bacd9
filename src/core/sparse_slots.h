/*
 * sparse_slots.h -- a sparse vector in a fixed number of 4-byte slots: the
 * form an hnsw index of a sparsevec column holds in its graph and on its
 * pages (quantization 'sparse'), so that the code paths written for fp32
 * vectors of `dims` floats carry it unchanged.
 *
 *   slot 0                 header: the stored count n (low 31 bits), and
 *                          kSparseTruncated if the row had more elements
 *                          than fit
 *   slots 1 .. n           0-based indices (int32 bits), strictly ascending
 *   slots n + 1 .. 2n      their values (float), finite and non-zero
 *   the rest               zero
 *
 * A form of s slots holds up to (s - 1) / 2 elements.  A row with more
 * keeps the ones of largest magnitude (ties: the lower index) and is marked
 * truncated: its distances are then estimates, and whoever needs the exact
 * value (a scan's bound) must go to the row itself.  Every form is
 * self-describing, so a query's form may be longer than the stored ones.
 * Index bits as floats are never NaN or infinite (indices are below 2^30),
 * so checks written for float vectors pass them through.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "metric.h"
#include "sparse_distance.h"

namespace vecdb {

inline constexpr std::uint32_t kSparseTruncated = 0x80000000u;

/// Slots holding up to `elements` elements.
inline std::uint32_t sparse_slots(std::uint32_t elements) { return 1 + 2 * elements; }
/// Elements that fit `slots` slots.
inline std::uint32_t sparse_capacity(std::uint32_t slots) { return slots == 0 ? 0 : (slots - 1) / 2; }

inline std::uint32_t sparse_header(const float *form)
{
    std::uint32_t header;
    std::memcpy(&header, form, sizeof(header));
    return header;
}
inline std::uint32_t sparse_count(const float *form) { return sparse_header(form) & ~kSparseTruncated; }
inline bool sparse_truncated(const float *form) { return (sparse_header(form) & kSparseTruncated) != 0; }

/// The stored elements as a SparseView (slots must be 4-byte aligned).
inline SparseView sparse_view(const float *form)
{
    const std::uint32_t n = sparse_count(form);
    return SparseView{reinterpret_cast<const std::int32_t *>(form + 1), form + 1 + n, n};
}

/// sparse_view() of a form read from untrusted memory of `slots` slots: a
/// count above the capacity (a corrupt header) views as the empty vector, so
/// nothing past the slots is read.
inline SparseView sparse_view_within(const float *form, std::uint32_t slots)
{
    return sparse_count(form) <= sparse_capacity(slots) ? sparse_view(form) : SparseView{nullptr, nullptr, 0};
}

/// Writes v (ascending indices, non-zero values) into out[0 .. slots): all
/// of it if it fits, else its (slots - 1) / 2 elements of largest magnitude,
/// marked truncated.  Returns false when it was truncated.  `order` is
/// scratch for v.nnz indices (unused when v fits).
bool pack_sparse(SparseView v, std::uint32_t slots, float *out, std::uint32_t *order);

/// Why form[0 .. slots) is not a valid form, or null: a count above the
/// capacity, indices not ascending or negative, a value that is zero or not
/// finite, or padding that is not zero.  For checking pages.
const char *sparse_form_fault(const float *form, std::uint32_t slots);

/// The SQL operator's value between two sparse forms (a SparseView each):
/// squared L2, -dot, 1 - cos (NaN with a zero vector) or L1.  Computed by
/// the functions the sparsevec operators call (sparse_distance.h), so it is
/// bitwise the operator's value for untruncated forms.
double sparse_operator_value(Metric metric, SparseView a, SparseView b);

}  // namespace vecdb
