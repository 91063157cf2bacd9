/*
 * vector_text.cpp -- the text form of a vector: "[" number ("," number)* "]".
 */
#include "vector_text.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core_only.h"

namespace vecdb {

namespace {

// The C locale's isspace, as PostgreSQL's scanners use: independent of the
// server's locale settings.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

const char *skip_spaces(const char *p)
{
    while (is_space(*p))
        p++;
    return p;
}

ParseResult fail(ParseStatus status, const char *token = nullptr, std::size_t length = 0)
{
    return ParseResult{status, 0, token, length};
}

}  // namespace

std::size_t vector_text_dims_bound(const char *text)
{
    std::size_t commas = 0;
    for (const char *p = text; *p; p++)
        commas += (*p == ',');
    return commas + 1;
}

ParseResult parse_vector_text(const char *text, float *out, std::size_t capacity)
{
    const char *p = skip_spaces(text);
    if (*p != '[')
        return fail(ParseStatus::Malformed);
    p = skip_spaces(p + 1);
    if (*p == ']') {
        // "[]" is well-formed but has no dimension; trailing junk is still malformed.
        return *skip_spaces(p + 1) == '\0' ? fail(ParseStatus::Empty) : fail(ParseStatus::Malformed);
    }

    std::size_t dims = 0;
    for (;;) {
        p = skip_spaces(p);
        // strtof skips leading spaces too, but an empty token must not borrow
        // the next one ("[1,,2]"), so only a number may start here.
        if (*p == ',' || *p == ']' || *p == '\0')
            return fail(ParseStatus::Malformed);

        char *end;
        errno = 0;
        float value = std::strtof(p, &end);
        if (end == p)
            return fail(ParseStatus::Malformed);
        if (std::isnan(value) || (std::isinf(value) && errno != ERANGE))
            return fail(ParseStatus::NotFinite, p, static_cast<std::size_t>(end - p));
        if (errno == ERANGE && std::isinf(value))
            return fail(ParseStatus::OutOfRange, p, static_cast<std::size_t>(end - p));
        if (dims == capacity)
            return fail(ParseStatus::TooManyDimensions);
        out[dims++] = value;

        p = skip_spaces(end);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != ']')
            return fail(ParseStatus::Malformed);
        break;
    }

    if (*skip_spaces(p + 1) != '\0')
        return fail(ParseStatus::Malformed);
    return ParseResult{ParseStatus::Ok, dims, nullptr, 0};
}

}  // namespace vecdb
