/*
 * guard.h -- every SQL-callable function of vecdb is defined through
 * VECDB_FUNCTION, which runs its body behind a C++ exception guard.
 *
 * A C++ exception that escaped into PostgreSQL would call std::terminate and
 * take the whole server down; a PostgreSQL ERROR (a longjmp) that crossed a
 * live C++ object would skip its destructor.  So:
 *   - the body runs inside try/catch; the handler only copies the exception's
 *     kind and message into a plain struct (no PostgreSQL call in a handler);
 *   - after the handler has ended, the struct is raised as an ERROR with a
 *     SQLSTATE chosen from the exception's type;
 *   - bodies keep no object with a non-trivial destructor alive across a call
 *     that can ereport (palloc, detoasting, fmgr calls).
 *
 * Usage, in place of PG_FUNCTION_INFO_V1 + the function header:
 *     VECDB_FUNCTION(vector_dims)
 *     {
 *         ...
 *     }
 */
#pragma once

#include "pg.h"

namespace vecdb::pg {

/// What a caught C++ exception said, held in trivially destructible storage.
struct CaughtException {
    int sqlstate;
    char message[512];
};

/// Classifies the exception being handled.  Call only inside catch (...).
void capture_exception(CaughtException *out) noexcept;

/// Raises `caught` as a PostgreSQL ERROR.
[[noreturn]] void raise_exception(const CaughtException *caught);

}  // namespace vecdb::pg

#define VECDB_FUNCTION(name)                                  \
    static Datum name##_guarded(FunctionCallInfo fcinfo);     \
    extern "C" {                                              \
    PG_FUNCTION_INFO_V1(name);                                \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS)                  \
    {                                                         \
        vecdb::pg::CaughtException caught;                    \
        try {                                                 \
            return name##_guarded(fcinfo);                    \
        } catch (...) {                                       \
            vecdb::pg::capture_exception(&caught);            \
        }                                                     \
        vecdb::pg::raise_exception(&caught);                  \
    }                                                         \
    }                                                         \
    static Datum name##_guarded(FunctionCallInfo fcinfo)

namespace vecdb::pg {

/// Runs body() behind the same guard as VECDB_FUNCTION, for callbacks that
/// are not fmgr functions (index access method entry points).  The body
/// must keep no object with a non-trivial destructor alive across a call
/// that can ereport.
template <class F>
auto Guarded(F &&body) -> decltype(body())
{
    CaughtException caught;
    try {
        return body();
    } catch (...) {
        capture_exception(&caught);
    }
    raise_exception(&caught);
}

}  // namespace vecdb::pg
