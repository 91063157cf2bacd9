/*
 * sparse_distance.h -- distances between sparse vectors, merged over their
 * sorted indices.
 *
 * The float sums add their terms in ascending index order, which is the
 * order pgvector's loops add them in, so ordinary results are identical to
 * pgvector's.  As for dense vectors (simd/distance.h, "checked distances"), a
 * float sum that overflowed or that underflow may have emptied is redone in
 * double, so every distance between valid sparse vectors is finite.
 */
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecdb {

/// A sparse vector's stored elements: ascending 0-based indices, non-zero values.
struct SparseView {
    const std::int32_t *indices;
    const float *values;
    std::size_t nnz;
};

/// sum over all indices of (a[i] - b[i])^2.
double sparse_l2_squared(SparseView a, SparseView b);
/// sum over shared indices of a[i] * b[i].
double sparse_dot(SparseView a, SparseView b);
/// 1 - cos(a, b) clamped to [0, 2]; NaN when either vector is zero (as pgvector).
double sparse_cosine_distance(SparseView a, SparseView b);
/// sum over all indices of |a[i] - b[i]|.
double sparse_l1(SparseView a, SparseView b);
/// Euclidean norm, summed in double.
double sparse_norm(SparseView a);

/// The checked results from float sums computed elsewhere in the merges'
/// order (SparseScatter): the sum itself when float could hold it, else
/// the merge redone in double, as sparse_dot() and sparse_cosine_distance()
/// decide.  dot: the shared indices' products; norm_a, norm_b: each
/// vector's squares in index order.
double sparse_dot_from_sum(float dot, SparseView a, SparseView b);
double sparse_cosine_from_sums(float dot, float norm_a, float norm_b, SparseView a, SparseView b);
/// Sum of squares in index order, in float (what sparse_cosine_distance()
/// sums).
float sparse_squares_float(SparseView a);

/// One sparse vector spread over a dense array of `width` floats, so that
/// its dot product with many others costs a gather each instead of a merge
/// (a merge's steps wait on each other's comparisons; gathers do not).  The
/// sum adds the products at the other vector's indices in ascending order,
/// zero where this one has none: bitwise the merge's float sum.
class SparseScatter {
public:
    /// dense: `width` zeros, the caller's; every index loaded or scored
    /// must be below width.
    SparseScatter(float *dense, std::size_t width) : dense_(dense), width_(width) {}
    std::size_t width() const { return width_; }
    /// Spreads v (clearing the one before).
    void load(SparseView v);
    float dot(SparseView b) const;
    /// dot() of a vector read from untrusted memory: an index at or past
    /// width (or negative) reads 0, never outside the array.  The same
    /// value as dot() otherwise.
    float dot_within(SparseView b) const;

private:
    float *dense_;
    std::size_t width_;
    SparseView loaded_{nullptr, nullptr, 0};
};

/// The width a SparseScatter needs to load v: its largest index + 1 (indices
/// taken as unsigned, in any order: a negative one asks for ~4 G).
std::size_t sparse_scatter_width(SparseView v);

/// The float sums alone, as pgvector computes them (tests compare the
/// checked results with these on ordinary data).
float sparse_l2_squared_float(SparseView a, SparseView b);
float sparse_dot_float(SparseView a, SparseView b);
float sparse_l1_float(SparseView a, SparseView b);

/// -1, 0 or 1: the dense forms compared element by element over the
/// dimensions both have, then the one with fewer dimensions first (the order
/// pgvector's sparsevec_cmp gives, and vector's).
int sparse_compare(SparseView a, std::int32_t dims_a, SparseView b, std::int32_t dims_b);

}  // namespace vecdb
