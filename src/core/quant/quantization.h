/*
 * quantization.h -- the codes an index can store per vector, by the names
 * users give them (the `quantization` reloption, the vecdb_quantization_*
 * functions), and the src/core quantizer behind each name.
 *
 *   none      the fp32 vector itself (no quantizer)
 *   sq8       8 bits a dimension, per-dimension ranges learned from rows
 *   e8        E8 lattice, one 16-bit E8P codeword per 8 rotated dims (2 bits/dim)
 *   e8_4bit   two E8P stages, the second on the first's residual (4 bits/dim)
 *   h4        600-cell vertex + 1 gain bit per 4 rotated dims (2 bits/dim)
 *   binary    the sign of each rotated dimension (1 bit/dim)
 *   bit       a bit column's own bits (1 bit/dim, exact; bit_code.h)
 *   sparse    a sparsevec column's own elements in `dims` 4-byte slots
 *             (../sparse_slots.h; exact unless a row has more than fit)
 * Each rotated code and sq8 also carries a 12-byte header (scale, residual
 * norm, norm) that its guaranteed distance bound needs; bit a 4-byte one.
 *
 * The numeric values are stored in index metapages: never renumber them.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "../metric.h"
#include "quantizer.h"

namespace vecdb {

enum class Quantization : std::uint8_t { None = 0, SQ8 = 1, E8 = 2, E8x4 = 3, H4 = 4, Binary = 5, Bit = 6, Sparse = 7 };

/* The rotation seed an index records when it is built (and the one the SQL
 * inspection functions use, so they show what an index stores). */
inline constexpr std::uint64_t kDefaultRotationSeed = 0x76656364625f7238ull;

/* The user-facing name of q ("none", "sq8", "e8", ...). */
const char *quantization_name(Quantization q);
/* True when `value` is the stored number of a quantization (metapages are
 * read as untrusted input). */
bool known_quantization(std::uint8_t value);
/* Parses a name; false when it names no quantization. */
bool parse_quantization(const char *name, Quantization *q);
/* "\"none\", \"sq8\", ..." for error details. */
const char *quantization_names();

/* Whether an index of `metric` can store code q: every code but 'none',
 * 'bit' and 'sparse' estimates from inner products (no L1 or Jaccard); 'bit'
 * serves Hamming (L2 on 0/1 vectors) and Jaccard, 'sparse' all but Jaccard. */
bool quantization_supports(Quantization q, Metric metric);

/* Codes whose bounds are too loose for the executor's recheck: an index scan
 * re-ranks their candidates on the heap rows itself (hnsw_scan.cpp). */
inline bool is_coarse(Quantization q)
{
    return q != Quantization::None && q != Quantization::SQ8 && q != Quantization::Bit && q != Quantization::Sparse;
}

/* Room for any quantizer object (they are trivially destructible). */
inline constexpr std::size_t kQuantizerBytes = 96;

/* Constructs q's quantizer in `memory` (kQuantizerBytes, 8-byte aligned);
 * null for None.  SQ8 reads its ranges from `ranges` (2 dims floats; may be
 * null until used).  Throws vecdb::Error for an unsupported metric (L1). */
vecdb::Quantizer *make_quantizer(Quantization q, Metric metric, std::size_t dims, std::uint64_t seed, float *ranges,
                                void *memory);

/* Bytes of q's code for a dims-dimensional vector ('sparse': dims slots). */
std::size_t quantized_code_size(Quantization q, std::size_t dims);

}  // namespace vecdb
