/*
 * hnsw_scan.cpp -- amgettuple: rows in distance order, found on codes,
 * made exact by the executor.
 *
 * A scan runs the core's resumable Scan (hnsw_search.h) over PageReader.
 * Its first batch is the ef_search nearest elements, exactly a K-NN-SEARCH;
 * while the executor keeps asking (a WHERE clause rejected rows), later
 * batches continue the same walk (iterative scan), until it has found
 * hnsw.max_scan_tuples rows; a LIMIT left unfilled there gets a NOTICE
 * saying so, never a silent short result.
 *
 * Rows are returned in the order of their elements' lower bounds (a heap
 * across batches; see NextBatch), with the bound as the ORDER BY value and
 * xs_recheckorderby set: the executor fetches each heap row, computes the
 * exact distance and holds rows back in its reorder queue until no later
 * index row can be nearer.  So the heap is the re-rank store, rows come out
 * exactly ordered, and the index holds only codes.  The walk itself gives
 * no order: a later batch can find an element below one already returned.
 * The first batch goes out whole; of later ones, rows go only up to the
 * release rule's limit (release_rule.h), which measures how far below the
 * walk's frontier rows still turn up and holds that margin back, so such
 * late rows stay rare.  relaxed_order returns a late row at once (after a
 * farther one).  strict_order holds it back and returns the held rows when
 * the walk ends (exhausted, or hnsw.max_scan_tuples): a LIMIT still gets
 * its rows whenever enough match.  (pgvector's strict_order drops them.)
 * Once the walk has found a quarter of the table, it holds every row until
 * it ends: a filter that rare is answered best by walking on to the end
 * and returning what it found in order.
 *
 * Keys on the filter column (hnsw_filter.cpp) do not change the walk: each
 * row it finds is tested on the key stored in its element, and one that
 * fails is observed by the release rule and dropped, never returned, so it
 * costs no heap fetch and no executor recheck.  (Walking only towards
 * passing rows -- a batch of ef_search passing rows -- was measured and
 * rejected: on GloVe-100 it walked 2 to 8 times as far for the same
 * recall at 10% and 1% selectivity.)
 *
 * Coarse codes (e8, e8_4bit, h4, binary: quantization.h) bound distances
 * too loosely for that: the executor would fetch nearly every candidate
 * before the first row could go.  Their scans re-rank in the index instead:
 * each batch (at least hnsw.rerank_window candidates) is re-ranked whole --
 * the scan fetches each candidate's table row (the scan's snapshot; an
 * invisible row is skipped) and computes the ORDER BY operator on it --
 * and rows go nearest first, with the exact value and no recheck, up to the
 * release rule's limit on the estimates less their largest error seen
 * (RerankBatch).  The index still holds only codes: the table is the
 * re-rank store.
 */
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "hnsw_reader.h"
#include "../../core/graph/release_rule.h"

extern "C" {
#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
}

#include "../types/vector.h"

namespace vecdb::pg::hnsw {

namespace {

using Visited = NodeVisitedSet;
using GraphScan = vecdb::hnsw::Scan<PageReader, Visited>;

/* A row on its way out: key is its lower bound, its estimated distance
 * (coarse codes, before re-rank) or its exact distance (after). */
struct ReturnItem {
    double key;
    ItemPointerData heap_tid;
};

/* What re-ranking on table rows needs (coarse codes). */
struct Reranker {
    IndexFetchTableData *fetch;
    TupleTableSlot *slot;
    IndexInfo *index_info;
    EState *estate;        /* expression indexes only */
    MemoryContext context; /* reset per row */
    FmgrInfo distance;     /* the ORDER BY operator's function */
    Oid collation;
    Datum query;
    ReturnItem *ranked; /* min-heap by exact distance */
    uint32 ranked_count;
    uint32 ranked_capacity;
    double exact_limit;    /* rows up to this exact distance may be returned now */
    double next_limit;     /* the estimate (operator units) that limit follows once the batch is re-ranked */
    double overshoot;      /* the most an estimate exceeded its row's exact distance */
    uint64 fetches;
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
    uint32 query_slots; /* floats of query: meta.dims, or more for a long sparse query */
    bool query_null;  /* ORDER BY v <-> NULL: rows in any order, value NULL */
    bool orderable;   /* false: cosine to a zero vector, every value NaN */
    bool squared_l2;  /* the operator's value is the squared L2 distance (OperatorIsSquaredL2) */
    bool started;
    bool exhausted;
    uint32 batches;
    uint64 returned; /* rows handed to the executor (each costs a heap fetch) */
    uint64 walked;   /* rows the walk has found */
    uint64 found;    /* of those, rows passing the keys on the filter column (all, without keys):
                      * returned, waiting or late; hnsw.max_scan_tuples counts these */
    bool capped;     /* the walk stopped at hnsw.max_scan_tuples, not at its end */
    double deep;     /* rows walked past which the walk holds every row until it ends */
    ReturnItem *ready; /* min-heap by key: found, not yet returned */
    uint32 ready_count;
    uint32 ready_capacity;
    double release_limit; /* rows up to this key may be returned now */
    ReturnItem *late;     /* strict_order: rows found after a farther one was returned */
    uint32 late_count;
    uint32 late_capacity;
    bool walk_over; /* no further batch: return everything held */
    double last_key; /* the largest value returned */
    vecdb::hnsw::ReleaseRule rule; /* how far behind the walk rows may go (release_rule.h) */
    Reranker *rerank; /* coarse codes; else null (the executor rechecks) */
    ItemPointerData tids[1 + kMaxMoreTids]; /* one element's rows (PageReader::rows()) */
    ScanFilter *filter; /* keys on the filter column (hnsw_filter.cpp), or null */
    bool filter_empty;  /* no row can pass them */
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

/* Heap order: the smallest key on top. */
bool FartherKey(const ReturnItem &a, const ReturnItem &b) { return a.key > b.key; }

void Push(ReturnItem **heap, uint32 *count, uint32 *capacity, const ReturnItem &item)
{
    Append(heap, count, capacity, item);
    std::push_heap(*heap, *heap + *count, FartherKey);
}

ReturnItem Pop(ReturnItem *heap, uint32 *count)
{
    std::pop_heap(heap, heap + *count, FartherKey);
    return heap[--*count];
}

void PushReady(ScanState *st, const ReturnItem &item) { Push(&st->ready, &st->ready_count, &st->ready_capacity, item); }

void PushRanked(Reranker *r, const ReturnItem &item) { Push(&r->ranked, &r->ranked_count, &r->ranked_capacity, item); }

/* Sets up re-ranking for the ORDER BY key `orderby` (in the scan's context). */
Reranker *MakeReranker(IndexScanDesc scan, const ScanKeyData &orderby)
{
    auto *r = static_cast<Reranker *>(palloc0(sizeof(Reranker)));
    r->fetch = table_index_fetch_begin(scan->heapRelation);
    r->slot = table_slot_create(scan->heapRelation, nullptr);
    r->index_info = BuildIndexInfo(scan->indexRelation);
    if (r->index_info->ii_Expressions != NIL)
        r->estate = CreateExecutorState();
    r->context = AllocSetContextCreate(CurrentMemoryContext, "hnsw rerank", ALLOCSET_SMALL_SIZES);
    fmgr_info_copy(&r->distance, const_cast<FmgrInfo *>(&orderby.sk_func), CurrentMemoryContext);
    r->collation = orderby.sk_collation;
    r->query = orderby.sk_argument;
    r->exact_limit = get_float8_infinity();
    return r;
}

void FreeReranker(Reranker *r)
{
    if (r == nullptr)
        return;
    ExecDropSingleTupleTableSlot(r->slot);
    table_index_fetch_end(r->fetch);
    if (r->estate != nullptr)
        FreeExecutorState(r->estate);
}

/* The ORDER BY value of the row at tid as the executor would compute it;
 * false when the scan's snapshot does not see the row. */
bool ExactDistance(IndexScanDesc scan, Reranker *r, ItemPointerData tid, double *distance)
{
    bool call_again = false, all_dead = false;
    r->fetches++;
    if (!table_index_fetch_tuple(r->fetch, &tid, scan->xs_snapshot, r->slot, &call_again, &all_dead))
        return false;
    MemoryContextReset(r->context);
    MemoryContext old = MemoryContextSwitchTo(r->context);
    Datum value;
    bool isnull;
    if (r->estate == nullptr) {
        value = slot_getattr(r->slot, r->index_info->ii_IndexAttrNumbers[0], &isnull);
    } else {
        ExprContext *econtext = GetPerTupleExprContext(r->estate);
        ResetExprContext(econtext);
        econtext->ecxt_scantuple = r->slot;
        FormIndexDatum(r->index_info, r->slot, r->estate, &value, &isnull);
    }
    if (!isnull) {
        /* NaN (cosine of a zero vector) sorts last, as float8 sorts it. */
        *distance = DatumGetFloat8(FunctionCall2Coll(&r->distance, r->collation, value, r->query));
        if (std::isnan(*distance))
            *distance = get_float8_infinity();
    }
    MemoryContextSwitchTo(old);
    ExecClearTuple(r->slot);
    return !isnull;
}

/* A search distance (an estimate) in the ORDER BY operator's units. */
double OperatorUnits(const ScanState *st, double estimate)
{
    estimate = vecdb::rank_double(float(estimate)); /* huge distances are compressed (metric.h) */
    if (Metric(st->info->meta.metric) != Metric::L2)
        return estimate;
    return st->squared_l2 ? std::max(estimate, 0.0) : std::sqrt(std::max(estimate, 0.0));
}

/* The first batch goes out whole when it is a complete K-NN-SEARCH: an
 * unfiltered LIMIT usually needs nothing more. */
bool WholeFirstBatch(const ScanState *st)
{
    return iterative_scan == kScanOff || (st->batches == 1 && st->graph_scan.first_batch_complete());
}

/* Ends a batch for the release rule and returns the key rows may go up to
 * now: once the walk has gone through a quarter of the table, every row
 * waits for its end (hnsw.max_scan_tuples rows found, at most).  Not with
 * keys on the filter column: rejected rows do not count towards the cap,
 * so the end may be the whole graph; the rule, calibrated by then on
 * thousands of rows, goes on releasing instead. */
double EndBatch(ScanState *st, bool first)
{
    st->rule.end_batch();
    if (st->filter == nullptr && st->walked >= st->deep)
        return -get_float8_infinity();
    return first ? get_float8_infinity() : st->rule.limit();
}

/* False for a row of the walk that fails the keys on the filter column:
 * the rule has observed it, but it is never returned (no heap fetch). */
bool Passes(const ScanState *st, const NodeInfo *node)
{
    return st->filter == nullptr || node->passes;
}

/*
 * Coarse codes' batches.  A batch is re-ranked whole before any of its rows
 * goes: estimates are too coarse to say which waiting candidate might be
 * nearer (those with the largest estimates are re-ranked last and are the
 * likeliest to have been overestimated), and returning a row before a
 * nearer one is re-ranked loses the nearer one to a strict order.  Rows
 * then go up to the release rule's limit on the estimates
 * (release_rule.h), less the most any estimate so far has exceeded its
 * row's exact distance (the overshoot): a row not found yet whose exact
 * distance is below that limit would have an estimate below the rule's.
 */
void RerankBatch(IndexScanDesc scan, ScanState *st, uint32 n)
{
    Reranker *r = st->rerank;
    const bool first = WholeFirstBatch(st);
    const auto *batch = st->graph_scan.batch();
    uint32 added = 0;
    for (uint32 i = 0; i < n; i++) {
        const NodeInfo *node = st->reader.info(batch[i].id);
        if (node == nullptr || !node->result)
            continue;
        /* A code that bounds nothing has no trustworthy estimate either: its
         * row is re-ranked first (only rows outside the range codes
         * describe, quantizer.h). */
        ItemPointerData *tids = st->tids;
        uint32 rows = 1;
        tids[0] = node->heap_tid;
        if (node->more_tids > 0 && (rows = st->reader.rows(batch[i].id, *node, tids, nullptr)) == 0)
            continue; /* changed by VACUUM since it was scored */
        st->walked += rows;
        if (!node->unbounded)
            st->rule.observe(OperatorUnits(st, batch[i].distance), first);
        if (!Passes(st, node))
            continue;
        for (uint32 t = 0; t < rows; t++)
            PushReady(st, ReturnItem{node->unbounded ? -get_float8_infinity() : batch[i].distance, tids[t]});
        added += rows;
    }
    st->found += added;
    st->release_limit = get_float8_infinity();
    r->next_limit = std::min(EndBatch(st, first), st->rule.limit());
    pgstat_count_index_tuples(scan->indexRelation, added);
}

/* Re-ranks the nearest waiting candidate by estimate (when its row is
 * visible); after a batch's last, moves the exact limit. */
void RerankOne(IndexScanDesc scan, ScanState *st)
{
    Reranker *r = st->rerank;
    ReturnItem item = Pop(st->ready, &st->ready_count);
    const double estimate = OperatorUnits(st, item.key);
    if (ExactDistance(scan, r, item.heap_tid, &item.key)) {
        PushRanked(r, item);
        r->overshoot = std::max(r->overshoot, estimate - item.key); /* -inf for an unbounded code */
    }
    if (st->ready_count == 0)
        r->exact_limit = r->next_limit - r->overshoot;
}

/*
 * Runs the walk's next batch into the ready heap; false once the walk is
 * over (then every held row may go: late rows last).  Rows of later batches
 * are released as far as the release rule allows (release_rule.h): later
 * batches often find rows nearer than an earlier batch's far end, and
 * holding rows back keeps them from arriving after a farther one.
 */
bool NextBatch(IndexScanDesc scan, ScanState *st)
{
    bool more = true;
    if (st->batches > 0 && (iterative_scan == kScanOff || st->found >= uint64(max_scan_tuples))) {
        more = false;
        st->capped = iterative_scan != kScanOff && !st->graph_scan.exhausted();
    }
    const uint32 n = more ? st->graph_scan.next_batch(st->reader) : 0;
    if (n == 0) {
        st->walk_over = true;
        st->release_limit = get_float8_infinity();
        if (st->rerank != nullptr)
            st->rerank->exact_limit = get_float8_infinity();
        for (uint32 i = 0; i < st->late_count; i++) {
            if (st->rerank != nullptr)
                PushRanked(st->rerank, st->late[i]); /* late rows hold exact values */
            else
                PushReady(st, st->late[i]);
        }
        st->late_count = 0;
        return st->ready_count > 0 || (st->rerank != nullptr && st->rerank->ranked_count > 0);
    }
    st->batches++;
    if (st->rerank != nullptr) {
        RerankBatch(scan, st, n);
        return true;
    }
    const bool first = WholeFirstBatch(st);
    const auto *batch = st->graph_scan.batch();
    uint32 added = 0;
    for (uint32 i = 0; i < n; i++) {
        const NodeInfo *node = st->reader.info(batch[i].id);
        if (node == nullptr || !node->result)
            continue;
        double key;
        const uint32 rows = st->reader.rows(batch[i].id, *node, st->tids, &key);
        if (rows == 0)
            continue; /* changed by VACUUM since it was scored */
        /* A code that bounds nothing (-inf) says nothing of where rows turn
         * up: the rule would hold every later row back. */
        if (!node->unbounded)
            st->rule.observe(key, first);
        st->walked += rows;
        if (!Passes(st, node))
            continue;
        st->found += rows;
        for (uint32 t = 0; t < rows; t++) {
            const ReturnItem item{key, st->tids[t]};
            if (iterative_scan == kScanStrict && item.key < st->last_key) {
                Append(&st->late, &st->late_count, &st->late_capacity, item);
            } else {
                PushReady(st, item);
                added++;
            }
        }
    }
    st->release_limit = EndBatch(st, first);
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
    if (entry == kNoNode || st->filter_empty) {
        st->exhausted = true;
        return;
    }
    if (st->query_null || !(st->orderable = Orderable(Metric(st->info->meta.metric), st->query, st->info->meta.dims))) {
        /* Any order will do: walk from a fixed direction. */
        FixedQuery(st->info->meta, st->query);
    }
    if (Quantization(st->info->meta.quantization) == Quantization::Sparse)
        SetQueryForm(st->codec, st->query, st->query_slots);
    else
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

void Rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    st->reader.release();
    FreeReranker(st->rerank);
    st->rerank = nullptr;
    MemoryContextReset(st->context);
    MemoryContext old = MemoryContextSwitchTo(st->context);

    st->info = GetIndexInfo(scan->indexRelation);
    const uint32 dims = st->info->meta.dims;
    st->codec = MakeCodec(st->info);
    if (OperatorSumsInOwnOrder(scan->indexRelation))
        SetOperatorSumsInOwnOrder(st->codec);
    st->squared_l2 = OperatorIsSquaredL2(scan->indexRelation);
    if (st->squared_l2)
        SetOperatorSquaredL2(st->codec);
    st->reader.init(scan->indexRelation, st->info, st->codec);
    st->reader.set_rank_clamped_by_bound(true);
    st->filter = MakeScanFilter(scan->indexRelation, keys, nkeys, &st->filter_empty);
    st->reader.set_filter(st->filter);
    /* Coarse codes re-rank each batch whole: their first batch is at least
     * hnsw.rerank_window candidates. */
    std::size_t ef = std::max(ef_search, 1);
    if (is_coarse(Quantization(st->info->meta.quantization)))
        ef = std::max<std::size_t>(ef, std::max(rerank_window, 1));
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
    st->returned = st->walked = st->found = 0;
    st->capped = false;
    st->deep = scan->indexRelation->rd_rel->reltuples > 0 ? scan->indexRelation->rd_rel->reltuples / 4
                                                         : get_float8_infinity();
    st->started = st->exhausted = false;
    st->last_key = -get_float8_infinity();
    new (&st->rule) vecdb::hnsw::ReleaseRule();
    st->query = static_cast<float *>(palloc0(sizeof(float) * dims));
    st->query_slots = dims;
    st->query_null = true;
    st->orderable = true;
    if (norderbys > 0 && !(orderbys[0].sk_flags & SK_ISNULL)) {
        st->query_null = false;
        if (Quantization(st->info->meta.quantization) == Quantization::Sparse) {
            /* the whole query, however many elements (SetQueryForm) */
            st->query = SparseQuery(scan->indexRelation, st->info->meta, orderbys[0].sk_argument, &st->query_slots);
        } else {
            const Vector *q = IndexedVector(scan->indexRelation, orderbys[0].sk_argument);
            if (uint32(q->dim) != dims)
                ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                                errmsg("different vector dimensions %u and %d", dims, q->dim)));
            memcpy(st->query, q->x, sizeof(float) * dims);
            for (uint32 i = 0; i < dims; i++)
                if (!std::isfinite(st->query[i]))
                    ereport(ERROR,
                            (errcode(ERRCODE_DATA_EXCEPTION), errmsg("query vector has a NaN or infinite element")));
            if (is_coarse(Quantization(st->info->meta.quantization)) && scan->heapRelation != nullptr &&
                Orderable(Metric(st->info->meta.metric), st->query, dims))
                st->rerank = MakeReranker(scan, orderbys[0]);
        }
    }
    MemoryContextSwitchTo(old);
}

/* Hands one row to the executor: its ORDER BY value is exact or a bound. */
void ReturnRow(IndexScanDesc scan, ScanState *st, const ReturnItem &item, bool exact)
{
    scan->xs_heaptid = item.heap_tid;
    scan->xs_recheck = st->filter != nullptr; /* filter keys may be lossy (hnsw_filter.cpp) */
    scan->xs_recheckorderby = !exact;
    if (st->query_null) {
        scan->xs_orderbyvals[0] = (Datum) 0;
        scan->xs_orderbynulls[0] = true;
    } else {
        scan->xs_orderbyvals[0] = Float8GetDatum(st->orderable ? item.key : get_float8_nan());
        scan->xs_orderbynulls[0] = false;
    }
    st->last_key = std::max(st->last_key, item.key);
    st->returned++;
}

/*
 * Coarse codes: re-ranks the batch's waiting candidates, then returns the
 * nearest re-ranked row within the exact limit (RerankBatch); false when a
 * new batch is needed.
 */
bool NextReranked(IndexScanDesc scan, ScanState *st)
{
    Reranker *r = st->rerank;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (st->ready_count > 0) {
            RerankOne(scan, st);
            continue;
        }
        if (r->ranked_count == 0 || !(st->walk_over || r->ranked[0].key <= r->exact_limit))
            return false;
        const ReturnItem item = Pop(r->ranked, &r->ranked_count);
        if (!st->walk_over && iterative_scan == kScanStrict && item.key < st->last_key) {
            Append(&st->late, &st->late_count, &st->late_capacity, item);
            continue;
        }
        ReturnRow(scan, st, item, true);
        return true;
    }
}

bool GetTuple(IndexScanDesc scan, ScanDirection)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    MemoryContext old = MemoryContextSwitchTo(st->context);
    if (!st->started)
        Start(scan, st);
    bool found = false;
    while (!st->exhausted) {
        CHECK_FOR_INTERRUPTS();
        if (st->rerank != nullptr) {
            if ((found = NextReranked(scan, st)))
                break;
        } else if (st->ready_count > 0 && (st->walk_over || st->ready[0].key <= st->release_limit)) {
            ReturnRow(scan, st, Pop(st->ready, &st->ready_count), false);
            found = true;
            break;
        }
        if (st->walk_over || !NextBatch(scan, st))
            st->exhausted = st->walk_over && st->ready_count == 0 &&
                            (st->rerank == nullptr || st->rerank->ranked_count == 0);
    }
    MemoryContextSwitchTo(old);
    if (!found && st->capped) {
        /* The executor wanted another row (a LIMIT not yet filled) and the
         * walk had more to give: say why there is none. */
        st->capped = false;
        ereport(NOTICE,
                (errmsg("hnsw index scan on \"%s\" stopped at hnsw.max_scan_tuples (%d rows found) before the "
                        "query had all the rows it asked for",
                        RelationGetRelationName(scan->indexRelation), max_scan_tuples),
                 errhint("Raise hnsw.max_scan_tuples to let the scan go further, or give the filter an index of "
                         "its own.")));
    }
    return found;
}

void EndScan(IndexScanDesc scan)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    if (st->started && st->info != nullptr)
        elog(DEBUG1,
             "hnsw scan: %u batches, %lu codes scored, %lu lists read, %lu page reads, %lu rows re-ranked, "
             "%lu rows found, %lu passing the index's keys, %lu rows returned%s",
             st->batches, (unsigned long) st->graph_scan.stats().distance_computations,
             (unsigned long) st->graph_scan.stats().hops, (unsigned long) st->reader.buffer_accesses(),
             (unsigned long) (st->rerank != nullptr ? st->rerank->fetches : 0), (unsigned long) st->walked,
             (unsigned long) st->found,
             (unsigned long) st->returned, st->capped ? ", stopped at hnsw.max_scan_tuples" : "");
    st->reader.release();
    FreeReranker(st->rerank);
    MemoryContextDelete(st->context);
    pfree(st);
    scan->opaque = nullptr;
}

}  // namespace vecdb::pg::hnsw
