/*
 * hnsw_handler.cpp -- the hnsw access method's handler, reloptions, GUCs
 * and planner cost estimate.
 */
#include <algorithm>
#include <cmath>
#include <cstring>

#include "hnsw.h"

extern "C" {
#include "access/htup_details.h"
#include "access/relscan.h"
#include "catalog/pg_opfamily.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
}

namespace vecdb::pg::hnsw {

int ef_search = HNSW_DEFAULT_EF_SEARCH;
int iterative_scan = kScanStrict;
int max_scan_tuples = 50000;
int rerank_window = 40;

namespace {

relopt_kind hnsw_relopt_kind;

const struct config_enum_entry kIterativeScanOptions[] = {
    {"off", kScanOff, false},
    {"relaxed_order", kScanRelaxed, false},
    {"strict_order", kScanStrict, false},
    {nullptr, 0, false},
};

void ValidateQuantization(const char *value)
{
    Quantization q;
    if (value == nullptr || strcmp(value, "") == 0 || parse_quantization(value, &q))
        return;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid value for hnsw option \"quantization\": \"%s\"", value),
                    errdetail("Valid values are %s.", quantization_names())));
}

/* Names for pg_stat_progress_create_index.phase (build subphases). */
char *BuildPhaseName(int64 phase)
{
    switch (phase) {
    case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
        return const_cast<char *>("initializing");
    case 2:
        return const_cast<char *>("loading tuples");
    case 3:
        return const_cast<char *>("building graph");
    case 4:
        return const_cast<char *>("writing pages");
    case 5:
        return const_cast<char *>("inserting rows beyond maintenance_work_mem");
    }
    return const_cast<char *>(CheckPhaseName(phase));
}

/* What PostgreSQL calls (its address also tells our indexes apart). */
char *GuardedBuildPhaseName(int64 phase)
{
    return vecdb::pg::Guarded([&] { return BuildPhaseName(phase); });
}

bytea *ParseOptions(Datum reloptions, bool validate)
{
    static const relopt_parse_elt table[] = {
        {"m", RELOPT_TYPE_INT, offsetof(Options, m)},
        {"ef_construction", RELOPT_TYPE_INT, offsetof(Options, ef_construction)},
        {"quantization", RELOPT_TYPE_STRING, offsetof(Options, quantization_offset)},
    };
    return static_cast<bytea *>(build_reloptions(reloptions, validate, hnsw_relopt_kind, sizeof(Options), table,
                                                 lengthof(table)));
}

/*
 * The planner's cost, in units of seq_page_cost.  A code scored (a buffer
 * pin and lock, a few cache misses, the distance) took 0.85-1 us on
 * GloVe-100 (741 codes in 0.63 ms unfiltered, 12,500 in 15 ms at 1%), where
 * a sequential scan + sort ran at 3.8 us per unit of its cost: kCodeCost.
 *
 * The first batch scores about ef_search * M codes; each later row the
 * walk finds about 0.75 M more (7 to 11 at M = 16), and a heap fetch if it
 * passes the keys on the filter column (every row, without keys: the
 * WHERE clause is tested on the heap).  The total is for every row of the
 * table; a LIMIT pays the fraction its rows need of those the path
 * returns, so a filter keeping a fraction s of the rows makes LIMIT k walk
 * about k / s rows, as the scan does.
 *
 * Checked on GloVe-100 (100,000 rows, cached, LIMIT 10, ef_search 40 and
 * 200) against the plans a filter offers instead, each timed: with a btree
 * on the filter column the planner takes the hnsw scan at 50% and 10% and
 * the bitmap scan + sort at 1% (0.7 ms against 15-20 ms through the graph)
 * and below; on 10,000 rows (SIFT) the hnsw scan over a sequential scan.
 * With no ORDER BY the index is useless: never chosen.
 */
constexpr double kCodeCost = 0.25;

void CostEstimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
                  Selectivity *selectivity, double *correlation, double *pages)
{
    (void) loop_count;
    *selectivity = 1.0;
    *correlation = 0.0;
    if (path->indexorderbys == NIL) {
        *startup = *total = get_float8_infinity();
        *pages = 0;
        return;
    }
    if (path->indexclauses != NIL)
        *selectivity = clauselist_selectivity(root, get_quals_from_indexclauses(path->indexclauses),
                                              path->indexinfo->rel->relid, JOIN_INNER, nullptr);
    IndexOptInfo *index = path->indexinfo;
    const double tuples = Max(index->tuples, 1.0);
    Relation rel = index_open(index->indexoid, NoLock);
    const double m = OptionM(rel);
    index_close(rel, NoLock);

    const double code = kCodeCost * seq_page_cost;
    const double fetch = random_page_cost / 4 + cpu_tuple_cost;
    const double first = Min(tuples, double(ef_search) * m);
    *startup = first * code;
    *total = *startup + tuples * (0.75 * m * code + *selectivity * fetch);
    *pages = Min(double(index->pages), first);
}

}  // namespace

Metric MetricOf(Relation index)
{
    Oid proc = index_getprocid(index, 1, HNSW_DISTANCE_PROC);
    if (!OidIsValid(proc))
        GetFilterColumn(index); /* raises: the first column is not a vector */
    return MetricOfDistanceFunction(proc, "hnsw");
}

int OptionM(Relation index)
{
    auto *options = reinterpret_cast<Options *>(index->rd_options);
    return options != nullptr ? options->m : HNSW_DEFAULT_M;
}

int OptionEfConstruction(Relation index)
{
    auto *options = reinterpret_cast<Options *>(index->rd_options);
    return options != nullptr ? options->ef_construction : HNSW_DEFAULT_EF_CONSTRUCTION;
}

/* The `quantization` reloption, or the column's default (index_util.h). */
Quantization QuantizationOf(Relation index)
{
    auto *options = reinterpret_cast<Options *>(index->rd_options);
    const char *value = "";
    if (options != nullptr && options->quantization_offset != 0)
        value = reinterpret_cast<const char *>(options) + options->quantization_offset;
    return ResolveQuantization(index, MetricOf(index), value, "hnsw");
}

bool IsHnswIndex(Relation index)
{
    return index->rd_indam != nullptr && index->rd_indam->ambuildphasename == GuardedBuildPhaseName;
}

void DefineGucs()
{
    hnsw_relopt_kind = add_reloption_kind();
    add_int_reloption(hnsw_relopt_kind, "m", "Max number of connections per node", HNSW_DEFAULT_M, HNSW_MIN_M,
                      HNSW_MAX_M, AccessExclusiveLock);
    add_int_reloption(hnsw_relopt_kind, "ef_construction", "Size of the candidate list while building",
                      HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION, HNSW_MAX_EF_CONSTRUCTION,
                      AccessExclusiveLock);
    add_string_reloption(hnsw_relopt_kind, "quantization",
                         "Code stored per element: none, sq8, e8, e8_4bit, h4, binary or bit", "", ValidateQuantization,
                         AccessExclusiveLock);

    DefineCustomIntVariable("hnsw.ef_search", "Size of the candidate list of an hnsw scan (its first batch).",
                            "Larger finds more of the true nearest neighbours, more slowly.", &ef_search,
                            HNSW_DEFAULT_EF_SEARCH, 1, HNSW_MAX_EF_SEARCH, PGC_USERSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomEnumVariable("hnsw.iterative_scan",
                             "Whether an hnsw scan goes on past its first batch when rows are still wanted.",
                             "strict_order returns rows in exact distance order; relaxed_order may return a "
                             "nearer row after a farther one; off stops after ef_search candidates.",
                             &iterative_scan, kScanStrict, kIterativeScanOptions, PGC_USERSET, 0, nullptr, nullptr,
                             nullptr);
    DefineCustomIntVariable("hnsw.max_scan_tuples", "Rows an iterative hnsw scan finds at most.",
                            "The walk stops there even if the query wants more rows (a NOTICE says so).",
                            &max_scan_tuples, 50000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("hnsw.rerank_window",
                            "Fewest candidates of an e8, e8_4bit, h4 or binary index a scan re-ranks on their "
                            "table rows before returning rows.",
                            "Each batch of the scan is re-ranked whole by exact distance; its batches are the "
                            "larger of hnsw.ef_search and this. Larger finds more of the true nearest neighbours "
                            "and reads more table rows.",
                            &rerank_window, 40, 1, HNSW_MAX_EF_SEARCH, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("hnsw");
}

}  // namespace vecdb::pg::hnsw

namespace h = vecdb::pg::hnsw;

/* The hnsw access method: scans ordered by a distance operator, with
 * optional keys on a filter column. */
VECDB_FUNCTION(hnsw_handler)
{
    (void) fcinfo;
    IndexAmRoutine *am = makeNode(IndexAmRoutine);

    am->amstrategies = 0;
    am->amsupport = 2;
    am->amoptsprocnum = 0;
    am->amcanorder = false;
    am->amcanorderbyop = true;
    am->amcanbackward = false;
    am->amcanunique = false;
    am->amcanmulticol = true; /* a vector, then a filter column (hnsw_filter.cpp) */
    am->amoptionalkey = true;
    am->amsearcharray = false;
    am->amsearchnulls = false;
    am->amstorage = false;
    am->amclusterable = false;
    am->ampredlocks = false;
    am->amcanparallel = false;
    am->amcaninclude = false;
    am->amusemaintenanceworkmem = false;
    am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
    am->amkeytype = InvalidOid;

    am->ambuild = [](Relation heap, Relation index, IndexInfo *info) {
        return vecdb::pg::Guarded([&] { return h::Build(heap, index, info); });
    };
    am->ambuildempty = [](Relation index) { vecdb::pg::Guarded([&] { h::BuildEmpty(index); }); };
    am->aminsert = [](Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap,
                      IndexUniqueCheck check, bool unchanged, IndexInfo *info) {
        return vecdb::pg::Guarded([&] { return h::Insert(index, values, isnull, tid, heap, check, unchanged, info); });
    };
    am->ambulkdelete = [](IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
                          void *state) {
        return vecdb::pg::Guarded([&] { return h::BulkDelete(info, stats, callback, state); });
    };
    am->amvacuumcleanup = [](IndexVacuumInfo *info, IndexBulkDeleteResult *stats) {
        return vecdb::pg::Guarded([&] { return h::VacuumCleanup(info, stats); });
    };
    am->amcanreturn = nullptr;
    am->amcostestimate = [](PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
                            Selectivity *selectivity, double *correlation, double *pages) {
        vecdb::pg::Guarded(
            [&] { h::CostEstimate(root, path, loop_count, startup, total, selectivity, correlation, pages); });
    };
    am->amoptions = [](Datum reloptions, bool validate) {
        return vecdb::pg::Guarded([&] { return h::ParseOptions(reloptions, validate); });
    };
    am->amproperty = nullptr;
    am->ambuildphasename = h::GuardedBuildPhaseName;
    am->amvalidate = [](Oid) { return vecdb::pg::Guarded([] { return true; }); };
    am->amadjustmembers = nullptr;
    am->ambeginscan = [](Relation index, int nkeys, int norderbys) {
        return vecdb::pg::Guarded([&] { return h::BeginScan(index, nkeys, norderbys); });
    };
    am->amrescan = [](IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys) {
        vecdb::pg::Guarded([&] { h::Rescan(scan, keys, nkeys, orderbys, norderbys); });
    };
    am->amgettuple = [](IndexScanDesc scan, ScanDirection dir) {
        return vecdb::pg::Guarded([&] { return h::GetTuple(scan, dir); });
    };
    am->amgetbitmap = nullptr;
    am->amendscan = [](IndexScanDesc scan) { vecdb::pg::Guarded([&] { h::EndScan(scan); }); };
    am->ammarkpos = nullptr;
    am->amrestrpos = nullptr;
    am->amestimateparallelscan = nullptr;
    am->aminitparallelscan = nullptr;
    am->amparallelrescan = nullptr;

    PG_RETURN_POINTER(am);
}
