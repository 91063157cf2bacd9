/*
 * vector_text.h -- parsing the text form of a vector, "[1, 2.5, -3e-2]".
 *
 * The parser allocates nothing and throws nothing: it fills a caller's buffer
 * and reports what went wrong and where, so the glue can raise the matching
 * SQLSTATE with the offending text.
 */
#pragma once

#include <cstddef>

namespace vecdb {

enum class ParseStatus {
    Ok,
    Malformed,          ///< not of the form [number, ...]
    Empty,              ///< "[]"
    TooManyDimensions,  ///< more numbers than the caller's capacity
    OutOfRange,         ///< a number overflows float
    NotFinite,          ///< NaN or infinity written out
};

struct ParseResult {
    ParseStatus status;
    std::size_t dims;   ///< numbers stored in out (valid when status is Ok)
    const char *token;  ///< start of the offending number (OutOfRange, NotFinite)
    std::size_t token_length;
};

/// An upper bound on the numbers in `text`, for sizing the output buffer.
std::size_t vector_text_dims_bound(const char *text);

/// Parses `text` into out[0 .. capacity).  Whitespace may surround every
/// token; numbers are anything strtof accepts (exponents included).
ParseResult parse_vector_text(const char *text, float *out, std::size_t capacity);

}  // namespace vecdb
