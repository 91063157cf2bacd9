/*
 * index_util.cpp -- helpers both index access methods use (index_util.h).
 */
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <thread>

#include <sys/mman.h>

#include "index_util.h"

extern "C" {
#include "access/genam.h"
#include "access/tableam.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "utils/syscache.h"
}

namespace vecdb::pg {

void ReportCorruption(Relation index, BlockNumber block, const char *detail, ...)
{
    char text[256];
    va_list args;
    va_start(args, detail);
    vsnprintf(text, sizeof(text), detail, args);
    va_end(args);
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" is corrupted in block %u", RelationGetRelationName(index), block),
                    errdetail_internal("%s", text), errhint("REINDEX the index.")));
    pg_unreachable();
}

const char *CheckPhaseName(int64 phase)
{
    switch (phase) {
    case kCheckPhaseElements:
        return "vecdb_index_check: reading elements";
    case kCheckPhaseLinks:
        return "vecdb_index_check: checking links";
    case kCheckPhaseWalk:
        return "vecdb_index_check: walking layer 0";
    case kCheckPhaseLists:
        return "vecdb_index_check: walking lists";
    }
    return nullptr;
}

void ReportCheckPhase(CheckPhase phase, int64 blocks_total, int64 tuples_total)
{
    const int params[] = {PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_SCAN_BLOCKS_TOTAL, PROGRESS_SCAN_BLOCKS_DONE,
                          PROGRESS_CREATEIDX_TUPLES_TOTAL, PROGRESS_CREATEIDX_TUPLES_DONE};
    const int64 values[] = {phase, blocks_total, 0, tuples_total, 0};
    pgstat_progress_update_multi_param(lengthof(params), params, values);
}

vecdb::Metric MetricOfDistanceFunction(Oid proc, const char *am)
{
    const char *name = OidIsValid(proc) ? get_func_name(proc) : nullptr;
    if (name == nullptr)
        elog(ERROR, "%s: opclass has no distance function", am);
    if (strcmp(name, "vector_l2_squared_distance") == 0 || strcmp(name, "l2_distance") == 0)
        return vecdb::Metric::L2;
    if (strcmp(name, "halfvec_l2_squared_distance") == 0 || strcmp(name, "sparsevec_l2_squared_distance") == 0)
        return vecdb::Metric::L2;
    if (strcmp(name, "hamming_distance") == 0) /* squared L2 of 0/1 vectors (OperatorIsSquaredL2) */
        return vecdb::Metric::L2;
    if (strcmp(name, "vector_negative_inner_product") == 0 || strcmp(name, "halfvec_negative_inner_product") == 0 ||
        strcmp(name, "sparsevec_negative_inner_product") == 0)
        return vecdb::Metric::InnerProduct;
    if (strcmp(name, "cosine_distance") == 0)
        return vecdb::Metric::Cosine;
    if (strcmp(name, "l1_distance") == 0)
        return vecdb::Metric::L1;
    if (strcmp(name, "jaccard_distance") == 0) /* of 0/1 vectors (bit_to_vector) */
        return vecdb::Metric::Jaccard;
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s does not support distance function \"%s\"", am, name)));
    pg_unreachable();
}

double ExpectedRows(Relation heap)
{
    if (heap->rd_rel->reltuples >= 0)
        return heap->rd_rel->reltuples;
    BlockNumber pages;
    double tuples, all_visible;
    table_relation_estimate_size(heap, nullptr, &pages, &tuples, &all_visible);
    return tuples;
}

const Vector *IndexedVector(Relation index, Datum value)
{
    if (!OidIsValid(index_getprocid(index, 1, 2)))
        return DatumGetVector(value);
    FmgrInfo *convert = index_getprocinfo(index, 1, 2);
    return DatumGetVector(FunctionCall3Coll(convert, InvalidOid, value, Int32GetDatum(-1), BoolGetDatum(false)));
}

bool OperatorSumsInOwnOrder(Relation index) { return IndexesSparseColumn(index); }

bool IndexesSparseColumn(Relation index)
{
    const Oid convert = index_getprocid(index, 1, 2);
    if (!OidIsValid(convert))
        return false;
    const char *name = get_func_name(convert);
    return name != nullptr && strcmp(name, "sparsevec_to_vector") == 0;
}

bool OperatorIsSquaredL2(Relation index)
{
    const char *name = get_func_name(index_getprocid(index, 1, 1));
    return name != nullptr && strcmp(name, "hamming_distance") == 0;
}

unsigned BuildThreads()
{
    unsigned threads = unsigned(std::max(0, max_parallel_maintenance_workers)) + 1;
    return std::max(1u, std::min(threads, std::max(1u, std::thread::hardware_concurrency())));
}

void *AllocBuildArray(Size bytes)
{
    void *memory = MemoryContextAllocHuge(CurrentMemoryContext, Max(bytes, Size(1)));
#ifdef MADV_HUGEPAGE
    /* Only whole huge pages inside the allocation: the advice covers what
     * malloc handed out and nothing around it. */
    constexpr uintptr_t kHugePage = uintptr_t(2) << 20;
    const uintptr_t begin = (uintptr_t(memory) + kHugePage - 1) & ~(kHugePage - 1);
    const uintptr_t end = (uintptr_t(memory) + bytes) & ~(kHugePage - 1);
    if (end > begin)
        (void) madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE);
#endif
    return memory;
}

const char *OpclassName(Relation index)
{
    HeapTuple tuple = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(index->rd_opfamily[0]));
    if (!HeapTupleIsValid(tuple))
        return "this operator class";
    const char *name = pstrdup(NameStr(reinterpret_cast<Form_pg_opfamily>(GETSTRUCT(tuple))->opfname));
    ReleaseSysCache(tuple);
    return name;
}

bool IndexesBitColumn(Relation index) { return TupleDescAttr(RelationGetDescr(index), 0)->atttypid == BITOID; }

/* sparsevec columns of more dimensions store their elements by default. */
constexpr int32 kSparseDenseMaxDims = 2000;

vecdb::Quantization ResolveQuantization(Relation index, vecdb::Metric metric, const char *value, const char *am)
{
    const bool bit_column = IndexesBitColumn(index);
    const bool sparse_column = IndexesSparseColumn(index);
    vecdb::Quantization q;
    if (!vecdb::parse_quantization(value, &q)) {
        if (bit_column)
            return vecdb::Quantization::Bit;
        /* SPLADE-like rows (110 elements on average), 20,000 of them, inner
         * product: at 1,500 dimensions sq8 gave recall 0.56 at 379 ms per
         * 200 queries against 0.49 at 329 ms for 'sparse'; at 4,000, 0.47
         * at 401 ms against 0.49 at 339 ms, in half the size.  (src/pg/hnsw
         * README.) */
        const int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
        if (sparse_column && (typmod < 1 || typmod > kSparseDenseMaxDims))
            return vecdb::Quantization::Sparse;
        return vecdb::metric_needs_exact_vectors(metric) ? vecdb::Quantization::None : vecdb::Quantization::SQ8;
    }
    if (q == vecdb::Quantization::Bit && !bit_column)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s quantization \"bit\" is only for bit columns", am),
                        errhint("Use \"binary\" for 1-bit codes of vectors.")));
    if (q == vecdb::Quantization::Sparse && (!sparse_column || strcmp(am, "hnsw") != 0))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s quantization \"sparse\" is only for sparsevec columns in hnsw indexes", am)));
    if (!vecdb::quantization_supports(q, metric))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s quantization \"%s\" does not support %s", am, value, OpclassName(index)),
                        bit_column ? errhint("Use quantization = 'bit' or 'none' for %s distance.",
                                             metric == vecdb::Metric::L1 ? "L1" : "Jaccard")
                                   : errhint("Use quantization = 'none' for %s distance.",
                                             metric == vecdb::Metric::L1 ? "L1" : "Jaccard")));
    return q;
}

}  // namespace vecdb::pg
