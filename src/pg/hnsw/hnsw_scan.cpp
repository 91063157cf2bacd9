/*
 * hnsw_scan.cpp -- amgettuple: rows in distance order, found on codes,
 * made exact by the executor.
 *
 * A scan runs the core's resumable Scan (hnsw_search.h) over PageReader.
 * Its first batch is the ef_search nearest elements, exactly a K-NN-SEARCH;
 * while the executor keeps asking (a WHERE clause rejected rows), later
 * batches continue the same walk (iterative scan), up to
 * hnsw.max_scan_tuples elements scored.
 *
 * Rows are returned in the order of their elements' lower bounds (a heap
 * across batches; see NextBatch), with the bound as the ORDER BY value and
 * xs_recheckorderby set: the executor
 * fetches each heap row, computes the exact distance and holds rows back in
 * its reorder queue until no later index row can be nearer.  So the heap is
 * the re-rank store, rows come out exactly ordered, and the index holds only
 * codes.  A later batch can find an element whose bound is below one
 * already returned.  relaxed_order returns it at once (a row may come
 * after a farther one).  strict_order holds it back and returns the held
 * rows only when the walk ends (exhausted, or hnsw.max_scan_tuples): rows
 * stay in exact order as long as the walk lasts, and a LIMIT still gets
 * its rows whenever enough match.  (pgvector's strict_order drops them.)
 */
#include <algorithm>
#include <cmath>
#include <cstring>

#include "hnsw_reader.h"

extern "C" {
#include "access/relscan.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
}

#include "../types/vector.h"

namespace vecdb::pg::hnsw {

namespace {

using Visited = NodeVisitedSet;
using GraphScan = vecdb::hnsw::Scan<PageReader, Visited>;

struct ReturnItem {
    double bound;
    ItemPointerData heap_tid;
};

struct ScanState {
    MemoryContext context; /* everything below; reset by rescan */
    const IndexInfoCache *info;
    Codec *codec;
    PageReader reader;
    vecdb::hnsw::SearchScratch<NodeId> scratch;
    Visited visited;
    GraphScan graph_scan;
    float *query;
    bool query_null;  /* ORDER BY v <-> NULL: rows in any order, value NULL */
    bool orderable;   /* false: cosine to a zero vector, every value NaN */
    bool started;
    bool exhausted;
    uint32 batches;
    uint64 returned; /* rows handed to the executor (each costs a heap fetch) */
    ReturnItem *ready; /* min-heap by bound: found, not yet returned */
    uint32 ready_count;
    uint32 ready_capacity;
    double release_limit; /* rows up to this bound may be returned now */
    ReturnItem *late;     /* strict_order: rows found after a farther one was returned */
    uint32 late_count;
    uint32 late_capacity;
    bool walk_over; /* no further batch: return everything held */
    double last_bound;
};

void Append(ReturnItem **array, uint32 *count, uint32 *capacity, const ReturnItem &item)
{
    if (*count == *capacity) {
        *capacity = std::max(64u, *capacity * 2);
        *array = static_cast<ReturnItem *>(*array == nullptr ? palloc(sizeof(ReturnItem) * *capacity)
                                                             : repalloc(*array, sizeof(ReturnItem) * *capacity));
    }
    (*array)[(*count)++] = item;
}

/* Heap order: the smallest bound on top. */
bool FartherBound(const ReturnItem &a, const ReturnItem &b) { return a.bound > b.bound; }

void PushReady(ScanState *st, const ReturnItem &item)
{
    Append(&st->ready, &st->ready_count, &st->ready_capacity, item);
    std::push_heap(st->ready, st->ready + st->ready_count, FartherBound);
}

ReturnItem PopReady(ScanState *st)
{
    std::pop_heap(st->ready, st->ready + st->ready_count, FartherBound);
    return st->ready[--st->ready_count];
}

/*
 * Runs the walk's next batch into the ready heap; false once the walk is
 * over (then every held row may go: late rows last).  After the first
 * batch, only the nearer three quarters of a batch are released at once:
 * the rest waits for the next batch, which often finds rows nearer than a
 * batch's far end, so fewer rows arrive after a farther one was returned.
 */
bool NextBatch(IndexScanDesc scan, ScanState *st)
{
    bool more = true;
    if (st->batches > 0 && (iterative_scan == kScanOff ||
                            st->graph_scan.stats().distance_computations >= uint64(max_scan_tuples)))
        more = false;
    const uint32 n = more ? st->graph_scan.next_batch(st->reader) : 0;
    if (n == 0) {
        st->walk_over = true;
        st->release_limit = get_float8_infinity();
        for (uint32 i = 0; i < st->late_count; i++)
            PushReady(st, st->late[i]);
        st->late_count = 0;
        return st->ready_count > 0;
    }
    st->batches++;
    const auto *batch = st->graph_scan.batch();
    uint32 added = 0;
    for (uint32 i = 0; i < n; i++) {
        const NodeInfo *node = st->reader.info(batch[i].id);
        if (node == nullptr || !node->result)
            continue;
        const ReturnItem item{node->bound, node->heap_tid};
        if (iterative_scan == kScanStrict && item.bound < st->last_bound) {
            Append(&st->late, &st->late_count, &st->late_capacity, item);
        } else {
            PushReady(st, item);
            added++;
        }
    }
    /* The batch is nearest first by estimate.  The first batch goes out
     * whole (an unfiltered LIMIT usually needs nothing more, and holding
     * part of it back would cost a second batch when ef_search is near the
     * LIMIT); later ones up to their third quarter. */
    st->release_limit = iterative_scan == kScanOff || st->batches == 1
                            ? get_float8_infinity()
                            : st->reader.info(batch[n * 3 / 4].id)->bound;
    pgstat_count_index_tuples(scan->indexRelation, added);
    return true;
}

void Start(IndexScanDesc scan, ScanState *st)
{
    st->started = true;
    pgstat_count_index_scan(scan->indexRelation);
    NodeId entry;
    int entry_level;
    ReadEntryPoint(scan->indexRelation, &entry, &entry_level, nullptr);
    if (entry == kNoNode) {
        st->exhausted = true;
        return;
    }
    if (st->query_null || !(st->orderable = Orderable(Metric(st->info->meta.metric), st->query, st->info->meta.dims))) {
        /* Any order will do: walk from a fixed direction. */
        memset(st->query, 0, sizeof(float) * st->info->meta.dims);
        st->query[0] = 1.0f;
    }
    SetQuery(st->codec, st->query);
    st->graph_scan.start(entry, entry_level);
}

}  // namespace

IndexScanDesc BeginScan(Relation index, int nkeys, int norderbys)
{
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    auto *st = static_cast<ScanState *>(palloc0(sizeof(ScanState)));
    st->context = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan", ALLOCSET_DEFAULT_SIZES);
    scan->opaque = st;
    /* The access method provides the ORDER BY value arrays (as GiST does). */
    scan->xs_orderbyvals = static_cast<Datum *>(palloc0(sizeof(Datum) * Max(norderbys, 1)));
    scan->xs_orderbynulls = static_cast<bool *>(palloc(sizeof(bool) * Max(norderbys, 1)));
    return scan;
}

void Rescan(IndexScanDesc scan, ScanKey, int, ScanKey orderbys, int norderbys)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    st->reader.release();
    MemoryContextReset(st->context);
    MemoryContext old = MemoryContextSwitchTo(st->context);

    st->info = GetIndexInfo(scan->indexRelation);
    const uint32 dims = st->info->meta.dims;
    st->codec = MakeCodec(st->info);
    st->reader.init(scan->indexRelation, st->info, st->codec);
    const std::size_t ef = std::max(ef_search, 1);
    st->scratch.init(palloc(vecdb::hnsw::SearchScratch<NodeId>::bytes(ef, st->reader.max_degree())), ef,
                     st->reader.max_degree());
    st->visited.init(&st->reader);
    st->graph_scan.init(st->scratch, &st->visited, PallocAllocator(), ef);
    st->ready = st->late = nullptr;
    st->ready_count = st->ready_capacity = 0;
    st->late_count = st->late_capacity = 0;
    st->release_limit = -get_float8_infinity();
    st->walk_over = false;
    st->batches = 0;
    st->returned = 0;
    st->started = st->exhausted = false;
    st->last_bound = -get_float8_infinity();
    st->query = static_cast<float *>(palloc0(sizeof(float) * dims));
    st->query_null = true;
    st->orderable = true;
    if (norderbys > 0 && !(orderbys[0].sk_flags & SK_ISNULL)) {
        const Vector *q = DatumGetVector(orderbys[0].sk_argument);
        if (uint32(q->dim) != dims)
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("different vector dimensions %u and %d", dims, q->dim)));
        memcpy(st->query, q->x, sizeof(float) * dims);
        st->query_null = false;
    }
    MemoryContextSwitchTo(old);
}

bool GetTuple(IndexScanDesc scan, ScanDirection)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    MemoryContext old = MemoryContextSwitchTo(st->context);
    if (!st->started)
        Start(scan, st);
    bool found = false;
    while (!st->exhausted) {
        if (st->ready_count > 0 && (st->walk_over || st->ready[0].bound <= st->release_limit)) {
            const ReturnItem item = PopReady(st);
            scan->xs_heaptid = item.heap_tid;
            scan->xs_recheck = false;
            scan->xs_recheckorderby = true;
            if (st->query_null) {
                scan->xs_orderbyvals[0] = (Datum) 0;
                scan->xs_orderbynulls[0] = true;
            } else {
                scan->xs_orderbyvals[0] = Float8GetDatum(st->orderable ? item.bound : get_float8_nan());
                scan->xs_orderbynulls[0] = false;
            }
            st->last_bound = std::max(st->last_bound, item.bound);
            st->returned++;
            found = true;
            break;
        }
        if (st->walk_over || !NextBatch(scan, st))
            st->exhausted = st->walk_over && st->ready_count == 0;
    }
    MemoryContextSwitchTo(old);
    return found;
}

void EndScan(IndexScanDesc scan)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    if (st->started && st->info != nullptr)
        elog(DEBUG1, "hnsw scan: %u batches, %lu codes scored, %lu lists read, %lu page reads, %lu rows returned",
             st->batches, (unsigned long) st->graph_scan.stats().distance_computations,
             (unsigned long) st->graph_scan.stats().hops, (unsigned long) st->reader.buffer_accesses(),
             (unsigned long) st->returned);
    st->reader.release();
    MemoryContextDelete(st->context);
    pfree(st);
    scan->opaque = nullptr;
}

}  // namespace vecdb::pg::hnsw
