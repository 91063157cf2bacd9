/*
 * guard.cpp -- turning C++ exceptions into PostgreSQL errors (see guard.h).
 */
#include <cstddef>
#include <initializer_list>
#include <new>
#include <stdexcept>

#include "../core/error.h"
#include "guard.h"

namespace vecdb::pg {

namespace {

void set(CaughtException *out, int sqlstate, const char *prefix, const char *what) noexcept
{
    // A plain bounded copy: even PostgreSQL's snprintf is not called here.
    std::size_t length = 0;
    for (const char *part : {prefix, what})
        for (; *part != '\0' && length + 1 < sizeof(out->message); part++)
            out->message[length++] = *part;
    out->message[length] = '\0';
    out->sqlstate = sqlstate;
}

int sqlstate_of(ErrorKind kind) noexcept
{
    switch (kind) {
    case ErrorKind::InvalidParameter:
        return ERRCODE_INVALID_PARAMETER_VALUE;
    case ErrorKind::DataCorrupted:
        return ERRCODE_DATA_CORRUPTED;
    case ErrorKind::Internal:
        break;
    }
    return ERRCODE_INTERNAL_ERROR;
}

}  // namespace

void capture_exception(CaughtException *out) noexcept
{
    // Rethrow the exception being handled to learn its type; nothing here
    // calls PostgreSQL.
    try {
        throw;
    } catch (const Error &e) {
        set(out, sqlstate_of(e.kind()), "", e.what());
    } catch (const std::bad_alloc &) {
        set(out, ERRCODE_OUT_OF_MEMORY, "out of memory", "");
    } catch (const std::exception &e) {
        set(out, ERRCODE_INTERNAL_ERROR, "vecdb internal error: ", e.what());
    } catch (...) {
        set(out, ERRCODE_INTERNAL_ERROR, "vecdb internal error: ", "unknown C++ exception");
    }
}

void raise_exception(const CaughtException *caught)
{
    ereport(ERROR, (errcode(caught->sqlstate), errmsg("%s", caught->message)));
    pg_unreachable();
}

}  // namespace vecdb::pg
