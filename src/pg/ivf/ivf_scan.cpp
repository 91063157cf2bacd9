/*
 * ivf_scan.cpp -- amgettuple: the rows of the lists whose centroids are
 * nearest the query, in exact distance order.
 *
 * A scan ranks the centroids (cached in backend memory: no page read),
 * then reads the `probes` nearest lists page by page, one share lock at a
 * time, and scores every code of a page in one loop (its lower bound, in
 * the operator's units).  Rows go out in bound order, with the bound as the
 * ORDER BY value and xs_recheckorderby set: the executor fetches each heap
 * row, computes the exact distance and holds rows back until no later
 * index row can be nearer, so within the lists probed the order is exact
 * and the index holds only codes.  (For sq8 and fp32 codes the bounds are
 * tight; the coarse codes' looser bounds make the executor fetch more rows
 * before the first goes out: see README.md for the measured cost.)
 *
 * Iterative scan (ivf.iterative_scan = relaxed_order, the default): once
 * the probed lists are used up and the executor still wants rows (its
 * WHERE clause rejected some), the scan reads the next `probes` lists, up
 * to ivf.max_probes lists in all.  Rows of a later round can be nearer than
 * rows already returned (relaxed order, as pgvector's ivfflat); each round
 * is exact in itself.
 */
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../../core/ivf/kmeans.h"
#include "ivf.h"

extern "C" {
#include "access/relscan.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
}

#include "../types/vector.h"

namespace vecdb::pg::ivf {

namespace {

struct Candidate {
    double bound;
    ItemPointerData tid;
};

/* Heap orders (types, so the heaps' compares inline): Farther puts the
 * smallest bound on top, Nearer the largest. */
struct Farther {
    bool operator()(const Candidate &a, const Candidate &b) const { return a.bound > b.bound; }
};
struct Nearer {
    bool operator()(const Candidate &a, const Candidate &b) const { return a.bound < b.bound; }
};

/*
 * A round's array of candidates past the best grows to the rows of the
 * lists read: ~10,000 entries, ~160 KB, at 10 probes of
 * 1,000-row lists.  Allocated per scan they cost more than the scoring:
 * malloc maps fresh pages for them and unmaps them at the end of the query,
 * and in a pgbench loop of plain queries (GloVe-100, probes 8) those page
 * faults were ~30% of the time and halved the throughput.  So each backend
 * keeps one between scans, lent to one scan at a time (a scan running
 * beside it allocates its own) and given back when the scan's memory goes
 * (end, rescan or error: a reset callback).
 */
struct RoundArrays {
    MemoryContext context; /* where the arrays live */
    Candidate *candidates;
    uint32 candidate_capacity;
    bool lent;
};
RoundArrays kept_arrays;
/* Kept arrays larger than this are freed when given back. */
constexpr Size kKeptBytesMax = Size(64) << 20;

template <class T>
T *Grow(MemoryContext context, T *array, uint32 *capacity, uint32 needed)
{
    if (needed <= *capacity)
        return array;
    const uint32 grown = std::max({1024u, *capacity * 2, needed});
    array = static_cast<T *>(array == nullptr ? MemoryContextAllocHuge(context, sizeof(T) * grown)
                                              : repalloc_huge(array, sizeof(T) * grown));
    *capacity = grown;
    return array;
}

void GiveBack(void *arg)
{
    auto *arrays = static_cast<RoundArrays *>(arg);
    arrays->lent = false;
    if (sizeof(Candidate) * Size(arrays->candidate_capacity) > kKeptBytesMax) {
        if (arrays->candidates != nullptr)
            pfree(arrays->candidates);
        *arrays = RoundArrays{};
    }
}

/* The kept arrays if free, else arrays of the scan's own. */
RoundArrays *BorrowArrays(MemoryContext scan_context)
{
    if (kept_arrays.lent) {
        auto *own = static_cast<RoundArrays *>(MemoryContextAllocZero(scan_context, sizeof(RoundArrays)));
        own->context = scan_context;
        return own;
    }
    kept_arrays.context = TopMemoryContext;
    kept_arrays.lent = true;
    auto *callback = static_cast<MemoryContextCallback *>(MemoryContextAlloc(scan_context, sizeof(MemoryContextCallback)));
    callback->func = GiveBack;
    callback->arg = &kept_arrays;
    MemoryContextRegisterResetCallback(scan_context, callback);
    return &kept_arrays;
}

/* A list and its centroid's score for the query (smaller is nearer). */
struct RankedList {
    double score;
    uint32 list;
};
struct RankedNearer {
    bool operator()(const RankedList &a, const RankedList &b) const
    {
        return a.score < b.score || (a.score == b.score && a.list < b.list);
    }
};

struct ScanState {
    MemoryContext context; /* per rescan: reset by Rescan */
    const IndexInfoCache *info;
    const ScanSettings *settings;
    Codec *codec;
    bool started;
    bool query_null; /* ORDER BY v <-> NULL: rows in any order, value NULL */
    bool orderable;  /* false: cosine to a zero vector, every value NaN */
    RankedList *ranking; /* every list; [0, ranked) in order, nearest first */
    uint32 ranked;
    uint32 list_count; /* lists the scan may read */
    uint32 probed;
    uint32 round;    /* lists per round */
    Candidate best[64]; /* the round's nearest by bound: a max-heap, then sorted */
    uint32 best_count;
    uint32 best_next; /* best[best_next ..] are still to return */
    RoundArrays *arrays; /* candidates: the rest of the round, no bound below best's (a min-heap once best
                          * is used up) */
    uint32 count;
    bool heaped;
    double *bounds; /* one page's */
    uint64 pages;
    uint64 codes;
    uint64 returned;
};

void Reserve(ScanState *st, uint32 more)
{
    RoundArrays *a = st->arrays;
    a->candidates = Grow(a->context, a->candidates, &a->candidate_capacity, st->count + more);
}

/*
 * Adds a scored entry to the round.  Most rows of the lists read are never
 * returned (a LIMIT wants a few), so only the nearest kBest are kept in
 * order, in a small max-heap; the others are appended unordered, and are
 * ordered only if the executor asks for more.  Every entry outside `best`
 * has a bound at or above every entry inside (it was turned away by, or
 * evicted as, best's largest, and that largest only ever decreases).
 */
constexpr uint32 kBest = 64;

void Offer(ScanState *st, const Candidate &c)
{
    if (st->best_count < kBest) {
        st->best[st->best_count++] = c;
        std::push_heap(st->best, st->best + st->best_count, Nearer());
        return;
    }
    /* The caller reserved room in candidates. */
    if (c.bound < st->best[0].bound) {
        std::pop_heap(st->best, st->best + kBest, Nearer());
        st->arrays->candidates[st->count++] = st->best[kBest - 1];
        st->best[kBest - 1] = c;
        std::push_heap(st->best, st->best + kBest, Nearer());
    } else {
        st->arrays->candidates[st->count++] = c;
    }
}

/* Every entry of list `list` into the round. */
void ReadList(IndexScanDesc scan, ScanState *st, uint32 list)
{
    const IndexInfoCache *info = st->info;
    const ListLayout &layout = info->layout;
    Relation index = scan->indexRelation;
    BlockNumber block = info->list_start + list;
    BlockNumber walked = 0;
    while (block != InvalidBlockNumber) {
        Buffer buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        const ListPageOpaque *opaque = CheckListPage(index, info, page, block, list);
        const uint32 n = opaque->count;
        const BlockNumber next = opaque->next;
        Reserve(st, n);
        const ItemPointerData *tids = PageTids(page, layout);
        if (st->orderable && !st->query_null)
            CodeBounds(st->codec, PageCodes(page), layout.code_size, n, st->bounds);
        else
            std::fill(st->bounds, st->bounds + n, 0.0);
        for (uint32 i = 0; i < n; i++)
            Offer(st, Candidate{st->bounds[i], tids[i]});
        UnlockReleaseBuffer(buffer);
        st->pages++;
        st->codes += n;
        if (next != InvalidBlockNumber) {
            CheckNextBlock(index, info, next, block);
            if (++walked > info->known_blocks)
                ReportCorruption(index, block, "List %u's pages form a cycle.", list);
        }
        block = next;
        CHECK_FOR_INTERRUPTS();
    }
}

/* Reads the next round of lists; false when none is left. */
bool NextRound(IndexScanDesc scan, ScanState *st)
{
    if (st->probed >= st->list_count)
        return false;
    const uint32 end = std::min(st->list_count, st->probed + st->round);
    /* Only the lists about to be read are put in order: a scan that stops
     * after its first round (most do) sorts probes lists, not all of them. */
    if (end > st->ranked) {
        std::partial_sort(st->ranking + st->ranked, st->ranking + end, st->ranking + st->info->meta.lists,
                          RankedNearer());
        st->ranked = end;
    }
    for (uint32 i = st->probed; i < end; i++)
        PrefetchBuffer(scan->indexRelation, MAIN_FORKNUM, st->info->list_start + st->ranking[i].list);
    st->count = st->best_count = st->best_next = 0;
    st->heaped = false;
    for (; st->probed < end; st->probed++)
        ReadList(scan, st, st->ranking[st->probed].list);
    std::sort_heap(st->best, st->best + st->best_count, Nearer());
    return true;
}

void StartScan(IndexScanDesc scan, ScanState *st)
{
    const IndexInfoCache *info = st->info;
    const MetaPageData &meta = info->meta;
    const Metric metric = Metric(meta.metric);
    MemoryContext old = MemoryContextSwitchTo(st->context);
    st->codec = MakeCodec(CodecParamsOf(info));
    if (OperatorSumsInOwnOrder(scan->indexRelation))
        SetOperatorSumsInOwnOrder(st->codec);
    if (OperatorIsSquaredL2(scan->indexRelation))
        SetOperatorSquaredL2(st->codec);
    float *query = static_cast<float *>(palloc0(sizeof(float) * meta.dims));
    st->query_null = scan->numberOfOrderBys < 1 || (scan->orderByData[0].sk_flags & SK_ISNULL) != 0;
    if (!st->query_null) {
        const Vector *v = IndexedVector(scan->indexRelation, scan->orderByData[0].sk_argument);
        if (uint32(v->dim) != meta.dims)
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("different vector dimensions %u and %d", meta.dims, v->dim)));
        memcpy(query, v->x, sizeof(float) * meta.dims);
    }
    st->orderable = Orderable(metric, query, meta.dims);
    if (st->orderable && !st->query_null)
        SetQuery(st->codec, query);

    const ScanSettings *settings = st->settings;
    st->round = std::min(uint32(std::max(settings->probes, 1)), meta.lists);
    uint32 most = st->round;
    if (settings->iterative_scan != kScanOff)
        most = std::max(most, std::min(uint32(std::max(settings->max_probes, 1)), meta.lists));
    double *scores = static_cast<double *>(palloc(sizeof(double) * meta.lists));
    vecdb::ivf::score_centroids(info->centroids, meta.lists, meta.dims, metric, query, scores);
    st->ranking = static_cast<RankedList *>(palloc(sizeof(RankedList) * meta.lists));
    for (uint32 j = 0; j < meta.lists; j++)
        st->ranking[j] = RankedList{scores[j], j};
    pfree(scores);
    st->ranked = 0;
    st->list_count = most;
    st->bounds = static_cast<double *>(palloc(sizeof(double) * meta.capacity));
    st->arrays = BorrowArrays(st->context);
    MemoryContextSwitchTo(old);
    st->started = true;
    pgstat_count_index_scan(scan->indexRelation);
}

}  // namespace

IndexScanDesc BeginScan(Relation index, int nkeys, int norderbys, const ScanSettings *settings)
{
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    scan->xs_orderbyvals = static_cast<Datum *>(palloc0(sizeof(Datum) * Max(norderbys, 1)));
    scan->xs_orderbynulls = static_cast<bool *>(palloc(sizeof(bool) * Max(norderbys, 1)));
    auto *st = static_cast<ScanState *>(palloc0(sizeof(ScanState)));
    st->context = AllocSetContextCreate(CurrentMemoryContext, "ivf scan", ALLOCSET_DEFAULT_SIZES);
    st->info = GetIndexInfo(index);
    st->settings = settings;
    scan->opaque = st;
    return scan;
}

void Rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    if (keys != nullptr && nkeys > 0)
        memmove(scan->keyData, keys, sizeof(ScanKeyData) * nkeys);
    if (orderbys != nullptr && norderbys > 0)
        memmove(scan->orderByData, orderbys, sizeof(ScanKeyData) * norderbys);
    MemoryContextReset(st->context);
    MemoryContext context = st->context;
    const IndexInfoCache *info = st->info;
    const ScanSettings *settings = st->settings;
    *st = ScanState{};
    st->context = context;
    st->info = info;
    st->settings = settings;
}

bool GetTuple(IndexScanDesc scan, ScanDirection)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    if (!st->started)
        StartScan(scan, st);
    while (st->best_next == st->best_count && st->count == 0)
        if (!NextRound(scan, st))
            return false;
    const Candidate *next;
    if (st->best_next < st->best_count) {
        next = &st->best[st->best_next++];
    } else {
        if (!st->heaped) {
            std::make_heap(st->arrays->candidates, st->arrays->candidates + st->count, Farther());
            st->heaped = true;
        }
        std::pop_heap(st->arrays->candidates, st->arrays->candidates + st->count, Farther());
        next = &st->arrays->candidates[--st->count];
    }
    const Candidate &c = *next;
    scan->xs_heaptid = c.tid;
    scan->xs_recheck = false;
    if (scan->numberOfOrderBys > 0) {
        if (st->query_null) {
            scan->xs_orderbyvals[0] = (Datum) 0;
            scan->xs_orderbynulls[0] = true;
            scan->xs_recheckorderby = false;
        } else {
            scan->xs_orderbyvals[0] = Float8GetDatum(st->orderable ? c.bound : get_float8_nan());
            scan->xs_orderbynulls[0] = false;
            scan->xs_recheckorderby = st->orderable;
        }
    }
    st->returned++;
    return true;
}

void EndScan(IndexScanDesc scan)
{
    auto *st = static_cast<ScanState *>(scan->opaque);
    if (st->started)
        elog(DEBUG1, "ivf scan: %u lists, %llu pages, %llu codes, %llu rows returned", st->probed,
             (unsigned long long) st->pages, (unsigned long long) st->codes, (unsigned long long) st->returned);
    MemoryContextDelete(st->context);
    pfree(st);
    scan->opaque = nullptr;
}

}  // namespace vecdb::pg::ivf
