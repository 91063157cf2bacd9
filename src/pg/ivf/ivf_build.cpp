/*
 * ivf_build.cpp -- CREATE INDEX: one or two passes over the table.
 *
 *   1. sampling: a uniform sample of the rows (reservoir sampling, Vitter's
 *      algorithm R) within half of maintenance_work_mem;
 *   2. k-means (src/core/ivf/kmeans.h, on every build thread) on up to
 *      kSamplePerList rows per list; SQ8 learns its ranges from the sample;
 *      the metapage, centroid pages and one first page per list are written;
 *   3. assigning: every row's nearest centroid and code are computed a chunk
 *      of rows at a time on every build thread, then appended to its list's
 *      last page, list by list.  The rows come from a second pass over the
 *      table, or from the sample itself when it holds every row (a table of
 *      up to ~256 rows per list, or what fits the memory): reading and
 *      detoasting the table again was a sixth of a 784-d build.
 * Pages are written through shared buffers without WAL and logged at the
 * end with log_newpage_range, as the hnsw build and nbtree's sorted build do.
 *
 * The number of lists, unless given, follows the rows found (DefaultLists);
 * an empty table gets one list (with a zero centroid) that accepts inserts:
 * correct, and as slow as a sequential scan until a REINDEX.
 */
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../../core/graph/hnsw.h"
#include "../../core/ivf/kmeans.h"
#include "../../core/parallel.h"
#include "../../core/splitmix64.h"
#include "ivf.h"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "commands/progress.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

#include "../types/vector.h"

namespace vecdb::pg::ivf {

namespace {

enum BuildPhase { kPhaseSample = 2, kPhaseKMeans = 3, kPhaseAssign = 4 };

/* k-means trains on at most this many sample rows per list (VectorChord's
 * figure; ../../core/ivf/README.md). */
constexpr uint32 kSamplePerList = 256;
/* SQ8 learns its ranges from at least this many rows; with fewer, the
 * index stores fp32 codes instead (as the hnsw build does). */
constexpr uint32 kMinTrainRows = 1000;
/* Rows assigned and encoded per parallel step. */
constexpr uint32 kChunkRows = 8192;

struct SampleState {
    uint32 dims;
    Metric metric;
    float *rows;       /* capacity x dims */
    ItemPointerData *tids; /* capacity: the rows' heap TIDs */
    uint32 capacity;
    uint32 count;      /* rows held */
    uint64 seen;       /* indexable rows seen */
    double heap_tuples;
};

struct AssignState {
    const IndexInfoCache *info;
    Relation index;
    Codec *codec;
    unsigned threads;
    float *vectors; /* kChunkRows x dims */
    ItemPointerData *tids;
    uint32 *lists;
    uint32 *order;
    uint8 *codes;
    float *work;
    uint32 count;
    BlockNumber *tails; /* per list: its last page */
    double heap_tuples;
    double index_tuples;
};

const Vector *CheckedVector(Relation index, Datum value, uint32 dims)
{
    const Vector *v = IndexedVector(index, value);
    if (uint32(v->dim) != dims)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %u dimensions, not %d", dims, v->dim)));
    return v;
}

void SampleCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool, void *state)
{
    auto *ss = static_cast<SampleState *>(state);
    ss->heap_tuples++;
    if (isnull[0])
        return;
    const Vector *v = CheckedVector(index, values[0], ss->dims);
    if (Orderable(ss->metric, v->x, ss->dims)) {
        uint64 slot = ss->seen;
        if (ss->count == ss->capacity) /* algorithm R: keep row n with probability capacity / (n + 1) */
            slot = splitmix64_at(0x697666, ss->seen) % (ss->seen + 1);
        if (slot < ss->capacity) {
            memcpy(ss->rows + Size(slot) * ss->dims, v->x, sizeof(float) * ss->dims);
            ss->tids[slot] = *tid;
            ss->count = uint32(Max(uint64(ss->count), slot + 1));
        }
        ss->seen++;
        if (ss->seen % 1024 == 0)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, int64(ss->seen));
    }
    if (DatumGetPointer(values[0]) != reinterpret_cast<const char *>(v))
        pfree(const_cast<Vector *>(v));
}

/* Appends the chunk's rows to their lists' last pages, list by list. */
void FlushChunk(AssignState *as)
{
    const IndexInfoCache *info = as->info;
    const uint32 dims = info->meta.dims, n = as->count;
    if (n == 0)
        return;
    const Size code_size = info->meta.code_size;
    const float *centroids = info->centroids;
    const uint32 lists = info->meta.lists;
    const Metric metric = Metric(info->meta.metric);
    const float *vectors = as->vectors;
    uint32 *chunk_lists = as->lists;
    /* A chunk is 8,192 x lists x dims multiply-adds (minutes at the largest
     * settings): cancel is polled between blocks of it. */
    while (!vecdb::ivf::assign_rows(centroids, lists, dims, metric, vectors, n, as->threads, chunk_lists,
                                    [](void *) { return bool(INTERRUPTS_PENDING_CONDITION()); }, nullptr))
        CHECK_FOR_INTERRUPTS(); /* ERROR on a cancel; other interrupts: assign again */
    const float **rows = static_cast<const float **>(palloc(sizeof(float *) * n));
    for (uint32 i = 0; i < n; i++)
        rows[i] = as->vectors + Size(i) * dims;
    EncodeParallel(as->codec, rows, n, as->codes, as->threads);
    pfree(rows);
    for (uint32 i = 0; i < n; i++)
        as->order[i] = i;
    std::stable_sort(as->order, as->order + n, [&](uint32 a, uint32 b) { return chunk_lists[a] < chunk_lists[b]; });

    const ListLayout &layout = info->layout;
    Buffer buffer = InvalidBuffer;
    uint32 current = UINT32_MAX;
    for (uint32 k = 0; k < n; k++) {
        const uint32 i = as->order[k];
        const uint32 list = chunk_lists[i];
        if (list != current) {
            if (BufferIsValid(buffer)) {
                MarkBufferDirty(buffer);
                UnlockReleaseBuffer(buffer);
            }
            current = list;
            buffer = ReadBuffer(as->index, as->tails[list]);
            LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        }
        Page page = BufferGetPage(buffer);
        if (PageOpaque(page)->count == info->meta.capacity) {
            Buffer next = ReadBufferExtended(as->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
            LockBuffer(next, BUFFER_LOCK_EXCLUSIVE);
            InitListPage(BufferGetPage(next), layout, list);
            PageOpaque(page)->next = BufferGetBlockNumber(next);
            MarkBufferDirty(buffer);
            UnlockReleaseBuffer(buffer);
            buffer = next;
            page = BufferGetPage(buffer);
            as->tails[list] = BufferGetBlockNumber(buffer);
        }
        SetEntry(page, layout, PageOpaque(page)->count++, as->codes + Size(i) * code_size, &as->tids[i]);
    }
    MarkBufferDirty(buffer);
    UnlockReleaseBuffer(buffer);
    as->index_tuples += n;
    as->count = 0;
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, int64(as->index_tuples));
    CHECK_FOR_INTERRUPTS();
}

/* Queues one row for its list (flushing a full chunk). */
void AddRow(AssignState *as, const float *x, ItemPointer tid)
{
    const uint32 dims = as->info->meta.dims;
    /* Stored as scans compare it: normalized under cosine. */
    vecdb::hnsw::prepare_vector(Metric(as->info->meta.metric), x, as->vectors + Size(as->count) * dims, dims);
    as->tids[as->count++] = *tid;
    if (as->count == kChunkRows)
        FlushChunk(as);
}

void AssignCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool, void *state)
{
    auto *as = static_cast<AssignState *>(state);
    as->heap_tuples++;
    if (isnull[0])
        return;
    const uint32 dims = as->info->meta.dims;
    const Vector *v = CheckedVector(index, values[0], dims);
    if (Orderable(Metric(as->info->meta.metric), v->x, dims))
        AddRow(as, v->x, tid);
    if (DatumGetPointer(values[0]) != reinterpret_cast<const char *>(v))
        pfree(const_cast<Vector *>(v));
}

/* The metapage of an index with `lists` lists of codes q. */
MetaPageData MakeMeta(Relation index, uint32 dims, Quantization q, uint32 lists)
{
    MetaPageData meta{};
    meta.magic = IVF_MAGIC;
    meta.version = IVF_VERSION;
    meta.dims = dims;
    meta.metric = uint8(MetricOf(index));
    meta.quantization = uint8(q);
    meta.lists = lists;
    meta.code_size = uint32(quantized_code_size(q, dims));
    meta.capacity = ListCapacity(meta.code_size);
    meta.aux_bytes = uint32(AuxBytes(q, dims));
    const Size contents = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
    meta.aux_pages = uint32((meta.aux_bytes + contents - 1) / contents);
    meta.centroids_per_page = uint32(contents / (sizeof(float) * dims));
    meta.centroid_pages = (lists + meta.centroids_per_page - 1) / meta.centroids_per_page;
    meta.rotation_seed = kDefaultRotationSeed;
    return meta;
}

/* The column's dimensions, checked against what ivf indexes. */
uint32 IndexedDims(Relation index)
{
    const int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
    if (typmod < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("column does not have dimensions"),
                        errhint("Index a vector(n) column, or cast the expression to vector(n).")));
    if (typmod > IVF_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("column cannot have more than %d dimensions for ivf index", IVF_MAX_DIM),
                        errhint("Use an hnsw index for wider vectors.")));
    if (vecdb::metric_needs_exact_vectors(MetricOf(index)))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("ivf does not support L1 or Jaccard distance"),
                        errhint("Use an hnsw index for vector_l1_ops and bit_jaccard_ops.")));
    return uint32(typmod);
}

/* Moves a uniformly drawn m of the n sample rows (and their TIDs) to its
 * front (partial Fisher-Yates): a reservoir is a uniform set, not in random
 * order. */
void ShuffleFront(float *rows, ItemPointerData *tids, uint32 n, uint32 m, uint32 dims)
{
    float *tmp = static_cast<float *>(palloc(sizeof(float) * dims));
    for (uint32 i = 0; i < m && i + 1 < n; i++) {
        const uint32 j = i + uint32(splitmix64_at(0x6b6d65616e73, i) % (n - i));
        if (j == i)
            continue;
        memcpy(tmp, rows + Size(i) * dims, sizeof(float) * dims);
        memcpy(rows + Size(i) * dims, rows + Size(j) * dims, sizeof(float) * dims);
        memcpy(rows + Size(j) * dims, tmp, sizeof(float) * dims);
        std::swap(tids[i], tids[j]);
    }
    pfree(tmp);
}

}  // namespace

uint32 DefaultLists(double rows)
{
    /* sqrt(rows) (pgvector recommends it past a million rows, rows / 1000
     * below): on 10,000-row sets the QPS at recall 0.95 is about twice that
     * of rows / 1000 lists, on GloVe's 100,000 rows a quarter more; README.md
     * in this folder has the measurements. */
    return uint32(std::clamp(std::sqrt(rows), 1.0, double(IVF_MAX_LISTS)));
}

IndexBuildResult *Build(Relation heap, Relation index, IndexInfo *index_info)
{
    if (RelationGetNumberOfBlocks(index) != 0)
        elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
    const uint32 dims = IndexedDims(index);
    Quantization q = QuantizationOf(index);
    const Metric metric = MetricOf(index);
    const int lists_option = OptionLists(index);
    const unsigned threads = BuildThreads();
    const TimestampTz started = GetCurrentTimestamp();

    /* 1. A sample within half of maintenance_work_mem, sized for the lists
     * the table is expected to need. */
    const double expected = ExpectedRows(heap);
    const uint32 lists_expected = lists_option > 0 ? uint32(lists_option) : DefaultLists(expected * 1.2);
    const Size budget = Size(maintenance_work_mem) * 1024 / 2;
    const double fits = double(budget) / (sizeof(float) * dims + sizeof(ItemPointerData));
    SampleState ss{};
    ss.dims = dims;
    ss.metric = metric;
    ss.capacity = uint32(std::max(1.0, std::min({fits, double(kSamplePerList) * lists_expected + 1000.0, 1e8})));
    ss.rows = static_cast<float *>(AllocBuildArray(sizeof(float) * dims * Size(ss.capacity)));
    ss.tids = static_cast<ItemPointerData *>(AllocBuildArray(sizeof(ItemPointerData) * Size(ss.capacity)));
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseSample);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, int64(std::max(expected, 0.0)));
    ss.heap_tuples = table_index_build_scan(heap, index, index_info, true, true, SampleCallback, &ss, nullptr);

    /* 2. Centroids and codec parameters from the sample. */
    const TimestampTz sampled = GetCurrentTimestamp();
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseKMeans);
    uint32 lists = lists_option > 0 ? uint32(lists_option) : DefaultLists(double(ss.seen));
    if (q == Quantization::SQ8 && ss.count < kMinTrainRows) {
        if (ss.count > 0)
            ereport(NOTICE,
                    (errmsg("ivf index created with little data: it stores full vectors, not sq8 codes"),
                     errdetail("sq8 learns its ranges from at least %u rows; the table has %u.", kMinTrainRows,
                               ss.count),
                     errhint("REINDEX after loading data for a smaller index.")));
        q = Quantization::None;
    }
    float *centroids;
    if (ss.count == 0) {
        lists = 1;
        centroids = static_cast<float *>(palloc0(sizeof(float) * dims));
    } else {
        const uint32 train_rows = uint32(std::min<uint64>(ss.count, uint64(kSamplePerList) * lists));
        if (train_rows < ss.count) /* else k-means trains on all of it, in heap order */
            ShuffleFront(ss.rows, ss.tids, ss.count, train_rows, dims);
        centroids = static_cast<float *>(
            MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * dims * Size(Min(lists, train_rows))));
        vecdb::ivf::KMeansOptions options;
        options.metric = metric;
        options.threads = threads;
        options.cancel = [](void *) { return bool(INTERRUPTS_PENDING_CONDITION()); };
        options.progress = [](void *, uint32 done, uint32 total) {
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, total);
        };
        vecdb::ivf::KMeansResult result;
        while ((result = vecdb::ivf::train_centroids(ss.rows, train_rows, dims, lists, options, centroids)).status ==
               vecdb::ivf::KMeansStatus::Cancelled)
            CHECK_FOR_INTERRUPTS(); /* ERROR on a cancel; other interrupts: train again */
        lists = result.clusters;
    }
    MetaPageData meta = MakeMeta(index, dims, q, lists);
    meta.build_rows = ss.seen;
    float *aux = static_cast<float *>(palloc0(Max(meta.aux_bytes, 1u)));
    TrainCodec(q, metric, dims, ss.rows, ss.count, aux);
    WriteIndexSkeleton(index, MAIN_FORKNUM, meta, aux, centroids);

    /* 3. Every row to its list. */
    const TimestampTz trained = GetCurrentTimestamp();
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseAssign);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, int64(ss.seen));
    AssignState as{};
    as.index = index;
    as.info = GetIndexInfo(index);
    as.codec = MakeCodec(CodecParamsOf(as.info));
    as.threads = threads;
    as.vectors = static_cast<float *>(AllocBuildArray(sizeof(float) * dims * kChunkRows));
    as.tids = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * kChunkRows));
    as.lists = static_cast<uint32 *>(palloc(sizeof(uint32) * kChunkRows));
    as.order = static_cast<uint32 *>(palloc(sizeof(uint32) * kChunkRows));
    as.codes = static_cast<uint8 *>(MemoryContextAllocHuge(CurrentMemoryContext, Size(meta.code_size) * kChunkRows));
    as.tails = static_cast<BlockNumber *>(palloc(sizeof(BlockNumber) * lists));
    for (uint32 j = 0; j < lists; j++)
        as.tails[j] = as.info->list_start + j;
    if (ss.count == ss.seen) { /* the sample holds every row: no second pass */
        for (uint32 i = 0; i < ss.count; i++)
            AddRow(&as, ss.rows + Size(i) * dims, &ss.tids[i]);
        as.heap_tuples = ss.heap_tuples;
        pfree(ss.rows);
        pfree(ss.tids);
    } else {
        pfree(ss.rows); /* the second pass does not need the sample's memory */
        pfree(ss.tids);
        as.heap_tuples = table_index_build_scan(heap, index, index_info, true, true, AssignCallback, &as, nullptr);
    }
    FlushChunk(&as);

    /* Each list's first page names its last page, where inserts go. */
    for (uint32 j = 0; j < lists; j++) {
        if (as.tails[j] == as.info->list_start + j)
            continue;
        Buffer buffer = ReadBuffer(index, as.info->list_start + j);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        PageOpaque(BufferGetPage(buffer))->insert_page = as.tails[j];
        MarkBufferDirty(buffer);
        UnlockReleaseBuffer(buffer);
    }
    const TimestampTz written = GetCurrentTimestamp();
    if (RelationNeedsWAL(index))
        log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
    elog(DEBUG1, "ivf build: %.0f rows, %u lists, %u threads; sample %ld ms, k-means %ld ms, assign %ld ms, WAL %ld ms",
         as.index_tuples, lists, threads, long(TimestampDifferenceMilliseconds(started, sampled)),
         long(TimestampDifferenceMilliseconds(sampled, trained)), long(TimestampDifferenceMilliseconds(trained, written)),
         long(TimestampDifferenceMilliseconds(written, GetCurrentTimestamp())));

    auto *result = static_cast<IndexBuildResult *>(palloc(sizeof(IndexBuildResult)));
    result->heap_tuples = as.heap_tuples;
    result->index_tuples = as.index_tuples;
    return result;
}

void BuildEmpty(Relation index)
{
    const uint32 dims = IndexedDims(index);
    const MetaPageData meta = MakeMeta(index, dims, Quantization::None, 1);
    float *centroids = static_cast<float *>(palloc0(sizeof(float) * dims));
    WriteIndexSkeleton(index, INIT_FORKNUM, meta, nullptr, centroids);
    log_newpage_range(index, INIT_FORKNUM, 0, RelationGetNumberOfBlocksInFork(index, INIT_FORKNUM), true);
}

}  // namespace vecdb::pg::ivf
