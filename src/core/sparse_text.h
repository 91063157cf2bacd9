/*
 * sparse_text.h -- the text form of a sparse vector, "{1:1.5,3:-2}/5":
 * 1-based index:value pairs in any order, then the dimension count.
 *
 * The grammar and its corner cases are pgvector's sparsevec_in: whitespace
 * around every token, zero values dropped (so a zero may sit at any index,
 * even a repeated or out-of-range one), indices sorted afterwards and then
 * refused when duplicated or outside 1 .. dims.  Like vector_text.h, nothing
 * here allocates or throws; the glue turns each status into pgvector's
 * message and SQLSTATE.
 */
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecdb {

/// One stored element: a 0-based index and a non-zero value.
struct SparseElement {
    std::int32_t index;
    float value;
};

enum class SparseParseStatus {
    Ok,
    MissingOpenBrace,  ///< the text does not start with "{"
    Malformed,         ///< any other syntax error inside or after the braces
    MissingSlash,      ///< no "/dims" after the closing brace
    JunkAfterDims,     ///< something other than whitespace after the dimension count
    OutOfRange,        ///< a value overflows float or underflows to zero
    NaNValue,          ///< a value spelled NaN
    InfiniteValue,     ///< a value spelled Infinity
};

struct SparseParseResult {
    SparseParseStatus status;
    std::size_t nnz;    ///< non-zero elements stored in out (status Ok)
    std::int32_t dims;  ///< the count after "/", clamped to int32 (status Ok)
    const char *token;  ///< the offending number (OutOfRange)
    std::size_t token_length;
};

/// An upper bound on the elements of `text` (commas + 1).  pgvector compares
/// this bound, zeros included, with its 16,000-element limit before parsing.
std::size_t sparse_text_elements_bound(const char *text);

/// Parses `text` into out[0 .. capacity), indices made 0-based, in the order
/// written and with zeros left out.  Indices and dims are not range-checked
/// here (the caller checks dims first, then sorts and checks the indices);
/// numbers beyond int32 are clamped so the later checks still fail.
SparseParseResult parse_sparse_text(const char *text, SparseElement *out, std::size_t capacity);

/// Sorts elements by index (duplicates stay adjacent for check_sparse_index).
void sort_sparse_elements(SparseElement *elements, std::size_t count);

enum class SparseIndexStatus {
    Ok,
    OutOfBounds,   ///< index < 0 or >= dims
    NotAscending,  ///< smaller than the one before
    Duplicate,     ///< equal to the one before
};

/// Checks indices[i] against dims and indices[i - 1], as pgvector does for
/// each element in turn (bounds first).
SparseIndexStatus check_sparse_index(const std::int32_t *indices, std::size_t i, std::int32_t dims);

/// Writes one float's shortest text at `out`, returns its length (no
/// terminator); PostgreSQL's float_to_shortest_decimal_bufn has this shape.
using FloatFormatter = int (*)(float value, char *out);

/// Room format_sparse_text needs for nnz elements whose floats take at most
/// `float_chars` characters each, terminator included.
std::size_t sparse_text_max_length(std::size_t nnz, std::size_t float_chars);

/// Writes "{i:v,...}/dims" (1-based indices) and a terminator at `out`;
/// returns the length without the terminator.
std::size_t format_sparse_text(const std::int32_t *indices, const float *values, std::size_t nnz,
                               std::int32_t dims, FloatFormatter format_float, char *out);

}  // namespace vecdb
