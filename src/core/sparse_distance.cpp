/*
 * sparse_distance.cpp -- merges over two sorted index lists.
 */
#include "sparse_distance.h"

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <cmath>

#include "simd/distance.h"

#include "core_only.h"

namespace vecdb {

namespace {

/// Sums term(x, y) over the union of a's and b's indices in ascending
/// order, with 0 standing for a missing element.  Acc is float (pgvector's
/// sums) or double (the fallback); terms are computed in Acc.  The steps
/// select instead of branching (whether an index is in both lists is a coin
/// toss to the branch predictor: the branching merge ran 3x slower on
/// 120-element vectors); the terms and their order are the branching
/// merge's.
template <class Acc, class Term>
Acc merge_sum(SparseView a, SparseView b, Term term)
{
    Acc sum = 0;
    std::size_t i = 0, j = 0;
    while (i < a.nnz && j < b.nnz) {
        const std::int32_t ia = a.indices[i], ib = b.indices[j];
        const Acc x = ia <= ib ? Acc(a.values[i]) : Acc(0);
        const Acc y = ib <= ia ? Acc(b.values[j]) : Acc(0);
        sum += term(x, y);
        i += ia <= ib;
        j += ib <= ia;
    }
    for (; i < a.nnz; i++)
        sum += term(Acc(a.values[i]), Acc(0));
    for (; j < b.nnz; j++)
        sum += term(Acc(0), Acc(b.values[j]));
    return sum;
}

/// Sums a[k] * b[k] over the shared indices only, in ascending order
/// (branch-free as merge_sum; adding 0 for an index in one list leaves a
/// sum that never is -0 bitwise as it was).
template <class Acc>
Acc merge_dot(SparseView a, SparseView b)
{
    Acc sum = 0;
    std::size_t i = 0, j = 0;
    while (i < a.nnz && j < b.nnz) {
        const std::int32_t ia = a.indices[i], ib = b.indices[j];
        const Acc product = Acc(a.values[i]) * Acc(b.values[j]);
        sum += ia == ib ? product : Acc(0);
        i += ia <= ib;
        j += ib <= ia;
    }
    return sum;
}

template <class Acc>
Acc squares(SparseView a)
{
    Acc sum = 0;
    for (std::size_t i = 0; i < a.nnz; i++)
        sum += Acc(a.values[i]) * Acc(a.values[i]);
    return sum;
}

template <class Acc>
Acc l2_squared_sum(SparseView a, SparseView b)
{
    return merge_sum<Acc>(a, b, [](Acc x, Acc y) {
        Acc diff = x - y;
        return diff * diff;
    });
}

template <class Acc>
Acc l1_sum(SparseView a, SparseView b)
{
    return merge_sum<Acc>(a, b, [](Acc x, Acc y) { return std::fabs(x - y); });
}

/// Same rule as the dense checked distances: neither overflowed nor small
/// enough that underflowed terms may dominate.  False for NaN.
bool trusted(float sum)
{
    const float magnitude = std::fabs(sum);
    return magnitude >= kMinTrustedFloatSum && magnitude <= FLT_MAX;
}

}  // namespace

float sparse_l2_squared_float(SparseView a, SparseView b) { return l2_squared_sum<float>(a, b); }
float sparse_dot_float(SparseView a, SparseView b) { return merge_dot<float>(a, b); }
float sparse_l1_float(SparseView a, SparseView b) { return l1_sum<float>(a, b); }

double sparse_l2_squared(SparseView a, SparseView b)
{
    const float sum = l2_squared_sum<float>(a, b);
    return trusted(sum) ? sum : l2_squared_sum<double>(a, b);
}

double sparse_dot(SparseView a, SparseView b) { return sparse_dot_from_sum(merge_dot<float>(a, b), a, b); }

double sparse_l1(SparseView a, SparseView b)
{
    // A sum of absolute differences loses nothing to gradual underflow.
    const float sum = l1_sum<float>(a, b);
    return sum <= FLT_MAX ? sum : l1_sum<double>(a, b);
}

double sparse_cosine_distance(SparseView a, SparseView b)
{
    return sparse_cosine_from_sums(merge_dot<float>(a, b), squares<float>(a), squares<float>(b), a, b);
}

double sparse_cosine_from_sums(float dot_f, float norm_a_f, float norm_b_f, SparseView a, SparseView b)
{
    double dot, norm_a, norm_b;
    if (trusted(norm_a_f) && trusted(norm_b_f) && std::fabs(dot_f) <= FLT_MAX) {
        dot = dot_f;
        norm_a = norm_a_f;
        norm_b = norm_b_f;
    } else {
        dot = merge_dot<double>(a, b);
        norm_a = squares<double>(a);
        norm_b = squares<double>(b);
    }
    // sqrt of the product, as pgvector; 0 / 0 for a zero vector is NaN.
    const double similarity = dot / std::sqrt(norm_a * norm_b);
    if (std::isnan(similarity))
        return similarity;
    // Rounding can leave |similarity| slightly above 1.
    return 1.0 - std::fmax(-1.0, std::fmin(1.0, similarity));
}

double sparse_norm(SparseView a) { return std::sqrt(squares<double>(a)); }

float sparse_squares_float(SparseView a) { return squares<float>(a); }

double sparse_dot_from_sum(float dot, SparseView a, SparseView b)
{
    return trusted(dot) ? dot : merge_dot<double>(a, b);
}

void SparseScatter::load(SparseView v)
{
    for (std::size_t i = 0; i < loaded_.nnz; i++)
        dense_[loaded_.indices[i]] = 0.0f;
    for (std::size_t i = 0; i < v.nnz; i++)
        dense_[v.indices[i]] = v.values[i];
    loaded_ = v;
}

float SparseScatter::dot(SparseView b) const
{
    float sum = 0.0f;
    for (std::size_t j = 0; j < b.nnz; j++)
        sum += dense_[b.indices[j]] * b.values[j];
    return sum;
}

float SparseScatter::dot_within(SparseView b) const
{
    float sum = 0.0f;
    for (std::size_t j = 0; j < b.nnz; j++) {
        const std::uint32_t i = static_cast<std::uint32_t>(b.indices[j]);
        sum += (i < width_ ? dense_[i] : 0.0f) * b.values[j];
    }
    return sum;
}

std::size_t sparse_scatter_width(SparseView v)
{
    std::size_t width = 0;
    for (std::size_t i = 0; i < v.nnz; i++)
        width = std::max<std::size_t>(width, std::size_t(static_cast<std::uint32_t>(v.indices[i])) + 1);
    return width;
}

int sparse_compare(SparseView a, std::int32_t dims_a, SparseView b, std::int32_t dims_b)
{
    const std::int32_t common = dims_a < dims_b ? dims_a : dims_b;
    std::size_t i = 0, j = 0;
    // The first index below `common` where the dense forms differ decides;
    // an index only one side stores differs there (its value is not 0).
    for (;;) {
        const std::int32_t ia = i < a.nnz ? a.indices[i] : common;
        const std::int32_t ib = j < b.nnz ? b.indices[j] : common;
        const std::int32_t index = ia < ib ? ia : ib;
        if (index >= common)
            break;
        const float va = ia == index ? a.values[i++] : 0.0f;
        const float vb = ib == index ? b.values[j++] : 0.0f;
        if (va < vb)
            return -1;
        if (va > vb)
            return 1;
    }
    return (dims_a > dims_b) - (dims_a < dims_b);
}

}  // namespace vecdb
