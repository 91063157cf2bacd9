/*
 * sparse_slots.cpp -- packing sparse vectors into slots, and checking them.
 */
#include "sparse_slots.h"

#include <algorithm>
#include <cmath>

#include "core_only.h"

namespace vecdb {

bool pack_sparse(SparseView v, std::uint32_t slots, float *out, std::uint32_t *order)
{
    const std::uint32_t capacity = sparse_capacity(slots);
    std::memset(out, 0, sizeof(float) * slots);
    std::uint32_t header;
    std::uint32_t n;
    if (v.nnz <= capacity) {
        n = std::uint32_t(v.nnz);
        header = n;
        std::memcpy(out + 1, v.indices, sizeof(std::int32_t) * n);
        std::memcpy(out + 1 + n, v.values, sizeof(float) * n);
    } else {
        /* The elements of largest magnitude carry most of any distance;
         * the ones kept stay in index order. */
        n = capacity;
        header = n | kSparseTruncated;
        for (std::uint32_t i = 0; i < v.nnz; i++)
            order[i] = i;
        auto larger = [&](std::uint32_t a, std::uint32_t b) {
            const float ma = std::fabs(v.values[a]), mb = std::fabs(v.values[b]);
            return ma > mb || (ma == mb && a < b);
        };
        std::nth_element(order, order + n, order + v.nnz, larger);
        std::sort(order, order + n);
        for (std::uint32_t k = 0; k < n; k++) {
            std::memcpy(out + 1 + k, &v.indices[order[k]], sizeof(std::int32_t));
            out[1 + n + k] = v.values[order[k]];
        }
    }
    std::memcpy(out, &header, sizeof(header));
    return (header & kSparseTruncated) == 0;
}

const char *sparse_form_fault(const float *form, std::uint32_t slots)
{
    if (slots == 0)
        return "has no slots";
    const std::uint32_t n = sparse_count(form);
    if (n > sparse_capacity(slots))
        return "holds more elements than its slots";
    const SparseView v = sparse_view(form);
    for (std::uint32_t i = 0; i < n; i++) {
        if (v.indices[i] < 0 || (i > 0 && v.indices[i] <= v.indices[i - 1]))
            return "has indices out of order";
        if (!std::isfinite(v.values[i]) || v.values[i] == 0.0f)
            return "has a zero or non-finite value";
    }
    std::uint32_t word;
    for (std::uint32_t s = 1 + 2 * n; s < slots; s++) {
        std::memcpy(&word, form + s, sizeof(word));
        if (word != 0)
            return "has non-zero padding";
    }
    return nullptr;
}

double sparse_operator_value(Metric metric, SparseView a, SparseView b)
{
    switch (metric) {
    case Metric::L2:
        return sparse_l2_squared(a, b);
    case Metric::InnerProduct:
        return -sparse_dot(a, b);
    case Metric::Cosine:
        return sparse_cosine_distance(a, b);
    case Metric::L1:
        return sparse_l1(a, b);
    case Metric::Jaccard:
        break;
    }
    return NAN;
}

}  // namespace vecdb
