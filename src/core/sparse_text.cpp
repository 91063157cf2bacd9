/*
 * sparse_text.cpp -- the text form of a sparse vector:
 *   "{" [ index ":" value ( "," index ":" value )* ] "}" "/" dims
 */
#include "sparse_text.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "core_only.h"

namespace vecdb {

namespace {

// The C locale's isspace, vertical tab included, as pgvector uses on
// PostgreSQL 15: independent of the server's locale.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

const char *skip_spaces(const char *p)
{
    while (is_space(*p))
        p++;
    return p;
}

SparseParseResult fail(SparseParseStatus status, const char *token = nullptr, std::size_t length = 0)
{
    return SparseParseResult{status, 0, 0, token, length};
}

long clamp_long(long value, long low, long high) { return std::min(std::max(value, low), high); }

std::size_t append_int(std::int64_t value, char *out)
{
    char digits[24];
    std::size_t count = 0;
    const bool negative = value < 0;
    std::uint64_t magnitude = negative ? std::uint64_t(0) - std::uint64_t(value) : std::uint64_t(value);
    do {
        digits[count++] = char('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);

    std::size_t length = 0;
    if (negative)
        out[length++] = '-';
    while (count > 0)
        out[length++] = digits[--count];
    return length;
}

}  // namespace

std::size_t sparse_text_elements_bound(const char *text)
{
    std::size_t commas = 0;
    for (const char *p = text; *p; p++)
        commas += (*p == ',');
    return commas + 1;
}

SparseParseResult parse_sparse_text(const char *text, SparseElement *out, std::size_t capacity)
{
    const char *p = skip_spaces(text);
    if (*p != '{')
        return fail(SparseParseStatus::MissingOpenBrace);
    p = skip_spaces(p + 1);

    std::size_t nnz = 0;
    if (*p == '}') {
        p++;
    } else {
        for (;;) {
            p = skip_spaces(p);
            char *end;
            // Clamped one short of INT_MIN so that index - 1 still fits int32
            // and fails the bounds check as negative.
            const long index = clamp_long(std::strtol(p, &end, 10), long(INT_MIN) + 1, INT_MAX);
            if (end == p)
                return fail(SparseParseStatus::Malformed);

            p = skip_spaces(end);
            if (*p != ':')
                return fail(SparseParseStatus::Malformed);
            p = skip_spaces(p + 1);

            // strtof, not strtod: rounding through double could round twice.
            errno = 0;
            const float value = std::strtof(p, &end);
            if (end == p)
                return fail(SparseParseStatus::Malformed);
            // Subnormal results also set ERANGE; only overflow and underflow to
            // zero are errors, as for float4.
            if (errno == ERANGE && (value == 0 || std::isinf(value)))
                return fail(SparseParseStatus::OutOfRange, p, std::size_t(end - p));
            if (std::isnan(value))
                return fail(SparseParseStatus::NaNValue);
            if (std::isinf(value))
                return fail(SparseParseStatus::InfiniteValue);

            if (value != 0) {
                if (nnz == capacity)
                    return fail(SparseParseStatus::Malformed);
                out[nnz++] = SparseElement{std::int32_t(index - 1), value};
            }

            p = skip_spaces(end);
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p != '}')
                return fail(SparseParseStatus::Malformed);
            p++;
            break;
        }
    }

    p = skip_spaces(p);
    if (*p != '/')
        return fail(SparseParseStatus::MissingSlash);
    p = skip_spaces(p + 1);

    char *end;
    const long dims = clamp_long(std::strtol(p, &end, 10), INT_MIN, INT_MAX);
    if (end == p)
        return fail(SparseParseStatus::Malformed);
    if (*skip_spaces(end) != '\0')
        return fail(SparseParseStatus::JunkAfterDims);
    return SparseParseResult{SparseParseStatus::Ok, nnz, std::int32_t(dims), nullptr, 0};
}

void sort_sparse_elements(SparseElement *elements, std::size_t count)
{
    std::sort(elements, elements + count,
              [](const SparseElement &a, const SparseElement &b) { return a.index < b.index; });
}

SparseIndexStatus check_sparse_index(const std::int32_t *indices, std::size_t i, std::int32_t dims)
{
    if (indices[i] < 0 || indices[i] >= dims)
        return SparseIndexStatus::OutOfBounds;
    if (i > 0 && indices[i] < indices[i - 1])
        return SparseIndexStatus::NotAscending;
    if (i > 0 && indices[i] == indices[i - 1])
        return SparseIndexStatus::Duplicate;
    return SparseIndexStatus::Ok;
}

std::size_t sparse_text_max_length(std::size_t nnz, std::size_t float_chars)
{
    // Per element: an index of up to 11 characters, ':', the float, ','.
    // Then "{", "}/", a dimension count of up to 11 characters, the terminator.
    return nnz * (11 + 1 + float_chars + 1) + 1 + 2 + 11 + 1;
}

std::size_t format_sparse_text(const std::int32_t *indices, const float *values, std::size_t nnz,
                               std::int32_t dims, FloatFormatter format_float, char *out)
{
    char *p = out;
    *p++ = '{';
    for (std::size_t i = 0; i < nnz; i++) {
        if (i > 0)
            *p++ = ',';
        p += append_int(std::int64_t(indices[i]) + 1, p);
        *p++ = ':';
        p += format_float(values[i], p);
    }
    *p++ = '}';
    *p++ = '/';
    p += append_int(dims, p);
    *p = '\0';
    return std::size_t(p - out);
}

}  // namespace vecdb
