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
#include "utils/guc.h"
}

namespace {

/*
 * vecdb defines pgvector's settings (hnsw.ef_search, ivfflat.probes, ...)
 * so that applications keep their SET statements.  A session that has
 * loaded pgvector's library already has them, and PostgreSQL's own error
 * ("attempt to redefine parameter") would not say why: name the conflict.
 * A placeholder (a SET before either library loaded) is no conflict.
 */
void CheckNoPgvector()
{
    for (const char *name : {"hnsw.ef_search", "hnsw.iterative_scan", "ivfflat.probes", "ivfflat.iterative_scan"}) {
        if (GetConfigOption(name, true, false) != nullptr &&
            (GetConfigOptionFlags(name, true) & GUC_CUSTOM_PLACEHOLDER) == 0)
            ereport(ERROR,
                    (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                     errmsg("vecdb cannot be loaded in a session that has loaded pgvector"),
                     errdetail("Both define the setting \"%s\".", name),
                     errhint("Use one of the two per server: vecdb replaces pgvector, with the same types, operators "
                             "and index names (see \"make install-as-vector\" in vecdb's README).")));
    }
}

}  // namespace

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

/* Chooses the SIMD kernel set for this process, once, before any query. */
void _PG_init(void)
{
    vecdb::pg::Guarded([] {
        CheckNoPgvector();
        vecdb::init_distance_kernels();
        vecdb::pg::hnsw::DefineGucs();
        vecdb::pg::ivf::DefineGucs();
    });
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
