/*
 * ivf_handler.cpp -- the ivf access method's handlers (ivf, and ivfflat:
 * pgvector's name, with pgvector's GUC names and defaults), reloptions,
 * GUCs and planner cost estimate.
 */
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ivf.h"

extern "C" {
#include "access/relscan.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "commands/defrem.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/memutils.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
}

namespace vecdb::pg::ivf {

ScanSettings ivf_settings = {IVF_DEFAULT_PROBES, kScanRelaxed, IVF_MAX_LISTS};
ScanSettings ivfflat_settings = {IVFFLAT_DEFAULT_PROBES, kScanOff, IVF_MAX_LISTS};

namespace {

relopt_kind ivf_relopt_kind;

const struct config_enum_entry kIterativeScanOptions[] = {
    {"off", kScanOff, false},
    {"relaxed_order", kScanRelaxed, false},
    {nullptr, 0, false},
};

void ValidateQuantization(const char *value)
{
    Quantization q;
    if (value == nullptr || strcmp(value, "") == 0 || parse_quantization(value, &q))
        return;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid value for ivf option \"quantization\": \"%s\"", value),
                    errdetail("Valid values are %s.", quantization_names())));
}

char *BuildPhaseName(int64 phase)
{
    switch (phase) {
    case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
        return const_cast<char *>("initializing");
    case 2:
        return const_cast<char *>("sampling rows");
    case 3:
        return const_cast<char *>("training centroids");
    case 4:
        return const_cast<char *>("assigning rows to lists");
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
        {"lists", RELOPT_TYPE_INT, offsetof(Options, lists)},
        {"quantization", RELOPT_TYPE_STRING, offsetof(Options, quantization_offset)},
    };
    return static_cast<bytea *>(
        build_reloptions(reloptions, validate, ivf_relopt_kind, sizeof(Options), table, lengthof(table)));
}

/* The settings of the name the index was created with. */
const ScanSettings *SettingsOf(Relation index)
{
    const char *am = get_am_name(index->rd_rel->relam);
    return am != nullptr && strcmp(am, "ivfflat") == 0 ? &ivfflat_settings : &ivf_settings;
}

/*
 * The planner's cost.  Before its first row a scan reads probes / lists of
 * the list pages (sequentially, mostly cached) and computes one bound per
 * code in them; each row it returns costs a heap fetch, as an index scan's
 * row does.
 */
void CostEstimate(PlannerInfo *, IndexPath *path, double, Cost *startup, Cost *total, Selectivity *selectivity,
                  double *correlation, double *pages)
{
    *selectivity = 1.0;
    *correlation = 0.0;
    if (path->indexorderbys == NIL) {
        *startup = *total = get_float8_infinity();
        *pages = 0;
        return;
    }
    IndexOptInfo *index = path->indexinfo;
    Relation rel = index_open(index->indexoid, NoLock);
    const double lists = std::max<double>(GetIndexInfo(rel)->meta.lists, 1.0);
    const ScanSettings *settings = SettingsOf(rel);
    index_close(rel, NoLock);
    const double fraction = std::min(1.0, std::max(settings->probes, 1) / lists);
    const double codes = std::max(index->tuples, 1.0) * fraction;
    const double list_pages = std::max(double(index->pages), 1.0) * fraction;
    *startup = list_pages * seq_page_cost + codes * 2 * cpu_operator_cost;
    *total = *startup + codes * (random_page_cost / 4 + cpu_tuple_cost);
    *pages = list_pages;
}

IndexAmRoutine *MakeRoutine()
{
    IndexAmRoutine *am = makeNode(IndexAmRoutine);
    am->amstrategies = 0;
    am->amsupport = 2;
    am->amoptsprocnum = 0;
    am->amcanorder = false;
    am->amcanorderbyop = true;
    am->amcanbackward = false;
    am->amcanunique = false;
    am->amcanmulticol = false;
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
        return vecdb::pg::Guarded([&] { return Build(heap, index, info); });
    };
    am->ambuildempty = [](Relation index) { vecdb::pg::Guarded([&] { BuildEmpty(index); }); };
    am->aminsert = [](Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap,
                      IndexUniqueCheck check, bool unchanged, IndexInfo *info) {
        return vecdb::pg::Guarded([&] { return Insert(index, values, isnull, tid, heap, check, unchanged, info); });
    };
    am->ambulkdelete = [](IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
                          void *state) {
        return vecdb::pg::Guarded([&] { return BulkDelete(info, stats, callback, state); });
    };
    am->amvacuumcleanup = [](IndexVacuumInfo *info, IndexBulkDeleteResult *stats) {
        return vecdb::pg::Guarded([&] { return VacuumCleanup(info, stats); });
    };
    am->amcanreturn = nullptr;
    am->amcostestimate = [](PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
                            Selectivity *selectivity, double *correlation, double *pages) {
        vecdb::pg::Guarded(
            [&] { CostEstimate(root, path, loop_count, startup, total, selectivity, correlation, pages); });
    };
    am->amoptions = [](Datum reloptions, bool validate) {
        return vecdb::pg::Guarded([&] { return ParseOptions(reloptions, validate); });
    };
    am->amproperty = nullptr;
    am->ambuildphasename = GuardedBuildPhaseName;
    am->amvalidate = [](Oid) { return vecdb::pg::Guarded([] { return true; }); };
    am->amadjustmembers = nullptr;
    am->ambeginscan = [](Relation index, int nkeys, int norderbys) {
        return vecdb::pg::Guarded([&] { return BeginScan(index, nkeys, norderbys, SettingsOf(index)); });
    };
    am->amrescan = [](IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys) {
        vecdb::pg::Guarded([&] { Rescan(scan, keys, nkeys, orderbys, norderbys); });
    };
    am->amgettuple = [](IndexScanDesc scan, ScanDirection dir) {
        return vecdb::pg::Guarded([&] { return GetTuple(scan, dir); });
    };
    am->amgetbitmap = nullptr;
    am->amendscan = [](IndexScanDesc scan) { vecdb::pg::Guarded([&] { EndScan(scan); }); };
    am->ammarkpos = nullptr;
    am->amrestrpos = nullptr;
    am->amestimateparallelscan = nullptr;
    am->aminitparallelscan = nullptr;
    am->amparallelrescan = nullptr;
    return am;
}

void DefineScanGucs(const char *prefix, ScanSettings *settings)
{
    char name[64];
    snprintf(name, sizeof(name), "%s.probes", prefix);
    DefineCustomIntVariable(MemoryContextStrdup(TopMemoryContext, name),
                            "Lists an ivf scan reads first (the nearest centroids').",
                            "Larger finds more of the true nearest neighbours, more slowly.", &settings->probes,
                            settings->probes, 1, IVF_MAX_LISTS, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    snprintf(name, sizeof(name), "%s.iterative_scan", prefix);
    DefineCustomEnumVariable(MemoryContextStrdup(TopMemoryContext, name),
                             "Whether an ivf scan reads further lists when rows are still wanted.",
                             "relaxed_order reads the next probes lists while the query wants rows (a WHERE "
                             "clause rejected some), up to max_probes lists; a later list's row may come after "
                             "a farther one.  off stops after probes lists.",
                             &settings->iterative_scan, settings->iterative_scan, kIterativeScanOptions,
                             PGC_USERSET, 0, nullptr, nullptr, nullptr);
    snprintf(name, sizeof(name), "%s.max_probes", prefix);
    DefineCustomIntVariable(MemoryContextStrdup(TopMemoryContext, name),
                            "Lists an iterative ivf scan reads at most.", nullptr, &settings->max_probes,
                            settings->max_probes, 1, IVF_MAX_LISTS, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved(prefix);
}

}  // namespace

Metric MetricOf(Relation index) { return MetricOfDistanceFunction(index_getprocid(index, 1, IVF_DISTANCE_PROC), "ivf"); }

int OptionLists(Relation index)
{
    auto *options = reinterpret_cast<Options *>(index->rd_options);
    return options != nullptr ? options->lists : 0;
}

Quantization QuantizationOf(Relation index)
{
    auto *options = reinterpret_cast<Options *>(index->rd_options);
    const char *value = "";
    if (options != nullptr && options->quantization_offset != 0)
        value = reinterpret_cast<const char *>(options) + options->quantization_offset;
    return ResolveQuantization(index, MetricOf(index), value, "ivf");
}

bool IsIvfIndex(Relation index)
{
    return index->rd_indam != nullptr && index->rd_indam->ambuildphasename == GuardedBuildPhaseName;
}

void DefineGucs()
{
    ivf_relopt_kind = add_reloption_kind();
    add_int_reloption(ivf_relopt_kind, "lists", "Number of inverted lists (0: from the row count at build)", 0, 0,
                      IVF_MAX_LISTS, AccessExclusiveLock);
    add_string_reloption(ivf_relopt_kind, "quantization",
                         "Code stored per row: none, sq8, e8, e8_4bit, h4, binary or bit", "", ValidateQuantization,
                         AccessExclusiveLock);
    DefineScanGucs("ivf", &ivf_settings);
    DefineScanGucs("ivfflat", &ivfflat_settings);
}

}  // namespace vecdb::pg::ivf

/* The ivf access method (also registered as ivfflat): scans ordered by a
 * distance operator. */
VECDB_FUNCTION(ivf_handler)
{
    (void) fcinfo;
    PG_RETURN_POINTER(vecdb::pg::ivf::MakeRoutine());
}
