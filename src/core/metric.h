/*
 * metric.h -- the distances vecdb's operator classes order by, shared by the
 * graph, the quantizers and the glue.
 *
 * Always in "smaller is nearer" form, as the index orders them:
 *   L2            |q - x|^2      (operator <-> is its square root)
 *   InnerProduct  -<q, x>        (operator <#>)
 *   Cosine        1 - cos(q, x)  (operator <=>)
 *   L1            sum |q_i - x_i| (operator <+>; no quantizer supports it:
 *                 L1 is not invariant under rotation, so codes give no bound)
 */
#pragma once

#include <cstdint>

namespace vecdb {

enum class Metric : std::uint8_t {
    L2 = 0,
    InnerProduct = 1,
    Cosine = 2,
    L1 = 3,
};

}  // namespace vecdb
