/*
 * vecdb.cpp -- the module: load-time setup and module-wide SQL functions.
 */
#include <cstring>
#include <new>
#include <stdexcept>

#include "../core/error.h"
#include "../core/simd/distance.h"
#include "hnsw/hnsw.h"
#include "ivf/ivf.h"

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

/* Chooses the SIMD kernel set for this process, once, before any query. */
void _PG_init(void)
{
    vecdb::init_distance_kernels();
    vecdb::pg::hnsw::DefineGucs();
    vecdb::pg::ivf::DefineGucs();
}
}

/*
 * vecdb_simd_kernels() -- the kernel set distances run on in this backend:
 * 'avx512f', 'avx2', 'neon' or 'scalar'.
 */
VECDB_FUNCTION(vecdb_simd_kernels)
{
    PG_RETURN_TEXT_P(cstring_to_text(vecdb::distance_kernels().name));
}

/*
 * vecdb_raise_cpp_exception(kind) -- throws a C++ exception of the named kind
 * inside vecdb, so tests can show the guard turns each into an ERROR with its
 * SQLSTATE and the session goes on.  A diagnostics function, not for
 * applications.
 */
VECDB_FUNCTION(vecdb_raise_cpp_exception)
{
    const char *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));

    if (strcmp(kind, "bad_alloc") == 0)
        throw std::bad_alloc();
    if (strcmp(kind, "invalid_parameter") == 0)
        throw vecdb::Error(vecdb::ErrorKind::InvalidParameter, "parameter out of range (raised on purpose)");
    if (strcmp(kind, "runtime_error") == 0)
        throw std::runtime_error("raised on purpose");
    if (strcmp(kind, "unknown") == 0)
        throw 42;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown exception kind \"%s\"", kind),
                    errhint("Use bad_alloc, invalid_parameter, runtime_error or unknown.")));
    PG_RETURN_VOID();
}
