/*
 * hnsw_build.cpp -- CREATE INDEX: the graph is built in memory by the core
 * (src/core/graph, on both cores), then every page is written once and
 * WAL-logged in bulk with log_newpage_range, as nbtree's sorted build and
 * pgvector's in-memory build do.
 *
 * Memory.  The graph (fp32 vectors, neighbour lists, per-thread scratch) is
 * sized for the rows the table is expected to hold, capped by
 * maintenance_work_mem.  Rows beyond that cap go to a temporary file and,
 * after the pages are written, are inserted one by one through the pages
 * like any INSERT: correct, slower, and announced by a NOTICE.
 *
 * Codes are computed once the graph is built; SQ8 learns its ranges from
 * every vector held in memory.  Every node's slot (block, offset) is fixed
 * first, in PageOrder() (pages of neighbours), so neighbour ids are known
 * before any page is written.
 */
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "../../core/graph/hnsw.h"
#include "hnsw.h"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "commands/progress.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/buffile.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varbit.h"
}

#include "../types/vector.h"

namespace vecdb::pg::hnsw {

namespace core = vecdb::hnsw;

namespace {

enum BuildPhase { kPhaseLoad = 2, kPhaseGraph = 3, kPhaseWrite = 4, kPhaseOverflow = 5 };

/*
 * Copies among the rows the graph links: a row whose vector (as the graph
 * stores it) and filter value are a node's joins that node as one more heap
 * TID, as an insert joins an element (AddHeapTid), so the graph gets one
 * node per distinct vector.  Open addressing over node ids hashed by the
 * vector's bytes (at most 4 slots per node); the joined rows are kept in
 * row order as (node, TID) pairs, at most one per node of graph capacity
 * (so the build stays within maintenance_work_mem; later copies get nodes
 * of their own).
 */
struct Copies {
    uint32 *slots; /* node id + 1; 0: empty */
    uint32 mask;
    uint8 *more; /* per node: heap TIDs beyond its own */
    uint32 *node;
    ItemPointerData *tid;
    uint32 count;
    uint32 allocated; /* of node and tid; grows by doubling up to limit */
    uint32 limit;     /* the graph's capacity */
    float *prepared;  /* one row's vector as the graph stores it */
};
/* Bytes the copy table takes per node of graph capacity, at most: 4 slots,
 * a count, and one joined row. */
constexpr Size kCopyBytesPerNode = 4 * sizeof(uint32) + sizeof(uint8) + sizeof(uint32) + sizeof(ItemPointerData);

struct BuildState {
    uint32 dims;
    uint32 graph_dims; /* floats a graph node holds: dims, or the words of a packed bit string */
    bool packed;       /* a bit column's strings packed 32 bits a float slot (PackedBits()) */
    float *packed_row; /* one row's string, packed */
    const MetaPageData *meta;
    float *row;        /* one row's floats (IndexedRow()) */
    Metric metric;
    core::MemoryGraph *graph;
    Copies copies;
    ItemPointerData *heap_tids; /* per graph node */
    const FilterColumn *filter_column; /* null: the index has none */
    FilterValue *filters;       /* per graph node, with a filter column */
    CodecTrainer *trainer;      /* codec parameters from every row, overflow included */
    BufFile *overflow;          /* (tid, filter, vector) records past the graph's capacity */
    uint64 overflow_count;
    double heap_tuples;
    double index_tuples;
    MemoryContext tuple_context;
};

/* SQ8 learns its ranges from the rows at build; with fewer, the index
 * stores fp32 codes instead (see PlanIndex). */
constexpr uint32 kMinTrainRows = 1000;

/* Metapage fields for an index storing codes of kind q. */
void FillMeta(Relation index, Quantization q, int m, int ef_construction, uint32 dims, MetaPageData *meta)
{
    memset(meta, 0, sizeof(*meta));
    meta->magic = HNSW_MAGIC;
    meta->version = HNSW_VERSION;
    meta->dims = dims;
    meta->m = uint16(m);
    meta->ef_construction = uint16(ef_construction);
    meta->metric = uint8(MetricOf(index));
    meta->quantization = uint8(q);
    meta->code_size = uint32(quantized_code_size(q, dims));
    meta->aux_bytes = uint32(AuxBytes(q, dims));
    const Size per_page = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
    meta->aux_pages = uint32((meta->aux_bytes + per_page - 1) / per_page);
    meta->entry_block = InvalidBlockNumber;
    meta->entry_offset = InvalidOffsetNumber;
    meta->entry_level = -1;
    meta->insert_page = 1 + meta->aux_pages;
    meta->seed = 0x7665636462ull;
    meta->rotation_seed = kDefaultRotationSeed;
    const int max_level = MaxLevelForPage(ElementLayout{meta->m, meta->code_size});
    meta->max_level = uint8(std::max(max_level, 0));
    if (max_level < 0) {
        /* The largest dimension whose level-0 element fits a page. */
        uint32 most = 0;
        for (uint32 d = 1; d <= VECTOR_MAX_DIM; d++) {
            if (MaxLevelForPage(ElementLayout{meta->m, uint32(quantized_code_size(q, d))}) < 0)
                break;
            most = d;
        }
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("column cannot have more than %u dimensions for hnsw index with m = %d and "
                               "quantization '%s'",
                               most, m, quantization_name(q)),
                        IndexesBitColumn(index) && q != Quantization::Bit
                            ? errhint("Use quantization = 'bit' (the default for bit columns) or a smaller m.")
                        : IndexesSparseColumn(index)
                            ? errhint("Use quantization = 'sparse' (the rows' own elements) or a smaller code.")
                        : vecdb::metric_needs_exact_vectors(Metric(meta->metric))
                            ? errhint("Use a smaller m: no code supports this distance.")
                            : errhint("Use a smaller code (quantization = 'sq8' or 'e8') or a smaller m.")));
    }
}

/*
 * Everything a build decides before reading a row: metapage fields, core
 * parameters; raises the user-facing errors for bad options.  For 'sq8',
 * *fallback is the metapage of the same index storing fp32 codes, which the
 * build uses when the table has too few rows to learn ranges from (an index
 * created before the data is loaded): exact and correct, larger; REINDEX
 * then gives sq8 codes.  *has_fallback is false where fp32 elements would
 * not fit a page well.  Under 'sparse', meta->dims is sparse_slots (the
 * slots of each element, hnsw_sparse.cpp).
 */
void PlanIndex(Relation index, MetaPageData *meta, core::Params *params, MetaPageData *fallback, bool *has_fallback,
               uint32 sparse_slots)
{
    (void) GetFilterColumn(index); /* raises for columns hnsw cannot index */
    const Quantization q = QuantizationOf(index);
    /* 'sparse' holds elements, not dimensions: any sparsevec(n) will do. */
    const int32 typmod = q == Quantization::Sparse ? int32(sparse_slots)
                                                   : TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
    if (typmod < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("column does not have dimensions"),
                        errhint("Index a vector(n) column, or cast the expression to vector(n).")));
    if (typmod > VECTOR_MAX_DIM) /* bit(n) and sparsevec(n) columns go past vector's limit */
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("column cannot have more than %d dimensions for hnsw index", VECTOR_MAX_DIM),
                        IndexesSparseColumn(index) ? errhint("Use quantization = 'sparse' (the default past 2000 dimensions).") : 0));
    const int m = OptionM(index);
    const int ef_construction = OptionEfConstruction(index);
    if (ef_construction < 2 * m)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("ef_construction must be greater than or equal to 2 * m")));
    FillMeta(index, q, m, ef_construction, uint32(typmod), meta);
    *has_fallback = false;
    const uint32 fp32_code = uint32(quantized_code_size(Quantization::None, uint32(typmod)));
    if (q == Quantization::SQ8 && MaxLevelForPage(ElementLayout{uint32(m), fp32_code}) >= 4) {
        FillMeta(index, Quantization::None, m, ef_construction, uint32(typmod), fallback);
        *has_fallback = true;
        /* Levels are drawn before the build knows which codes it stores. */
        meta->max_level = fallback->max_level = std::min(meta->max_level, fallback->max_level);
    }

    params->M = uint32(m);
    params->ef_construction = uint32(ef_construction);
    params->seed = meta->seed;
    params->max_level = meta->max_level;
    params->keep_pruned = true;
    /* A new node takes 2M neighbours on layer 0 where the heuristic prunes
     * hard: sparse rows under inner product (SPLADE-like, 20,000 rows: lists
     * 22 links long on average instead of 32, recall@10 at ef_search 40 0.51
     * instead of 0.61).  On dense sets (SIFT-small, MNIST, GloVe-100) recall
     * moved by at most 0.006 and the graph took 1.5 times as long. */
    params->select_max_links = q == Quantization::Sparse;
}

/* What a build of n nodes needs, without the optional list cache. */
Size BuildBytes(uint32 n, uint32 dims, const core::Params &params, unsigned threads)
{
    return core::build_memory_estimate(n, dims, params, threads) +
           Size(n) * (sizeof(ItemPointerData) + kCopyBytesPerNode);
}

/* The most nodes whose build fits `bytes`. */
uint32 CapacityFor(Size bytes, uint32 dims, const core::Params &params, unsigned threads)
{
    uint32 lo = 0, hi = 1u << 30;
    while (lo < hi) {
        uint32 mid = lo + (hi - lo + 1) / 2;
        if (BuildBytes(mid, dims, params, threads) <= bytes)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

void InitCopies(Copies *c, uint32 capacity, uint32 dims)
{
    uint32 slots = 2;
    while (slots < 2 * Max(capacity, 1u))
        slots *= 2;
    c->slots = static_cast<uint32 *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * slots));
    memset(c->slots, 0, sizeof(uint32) * slots);
    c->mask = slots - 1;
    c->more = static_cast<uint8 *>(MemoryContextAllocHuge(CurrentMemoryContext, Max(capacity, 1u)));
    memset(c->more, 0, Max(capacity, 1u));
    c->limit = capacity;
    c->allocated = Min(64u, Max(capacity, 1u));
    c->count = 0;
    c->node = static_cast<uint32 *>(palloc(sizeof(uint32) * c->allocated));
    c->tid = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * c->allocated));
    c->prepared = static_cast<float *>(palloc(sizeof(float) * dims));
}

/* The row joins an earlier node of the same vector and filter value, if
 * there is one with room for a TID: true.  Else false, and *slot is where
 * a node added for it goes in the table (null once no row can join). */
bool JoinCopy(BuildState *bs, const float *vector, const FilterValue &filter, ItemPointer tid, uint32 **slot)
{
    Copies *c = &bs->copies;
    const core::MemoryGraph &graph = *bs->graph;
    *slot = nullptr;
    if (c->count == c->limit)
        return false;
    if (bs->packed)
        memcpy(c->prepared, vector, sizeof(float) * bs->graph_dims);
    else
        PrepareRow(*bs->meta, vector, c->prepared);
    const Size bytes = sizeof(float) * bs->graph_dims;
    uint32 i = hash_bytes(reinterpret_cast<const unsigned char *>(c->prepared), int(bytes)) ^
               hash_uint32(filter.key + (filter.isnull ? 0x9e3779b9u : 0u));
    for (i &= c->mask; c->slots[i] != 0; i = (i + 1) & c->mask) {
        const uint32 id = c->slots[i] - 1;
        if (memcmp(graph.vector(id), c->prepared, bytes) != 0 ||
            (bs->filters != nullptr &&
             (bs->filters[id].key != filter.key || bs->filters[id].isnull != filter.isnull)))
            continue;
        if (c->more[id] >= kMaxMoreTids)
            continue; /* full: a later node of this vector may have room */
        if (c->count == c->allocated) {
            c->allocated = uint32(Min(uint64(c->allocated) * 2, uint64(c->limit)));
            c->node = static_cast<uint32 *>(repalloc_huge(c->node, sizeof(uint32) * c->allocated));
            c->tid = static_cast<ItemPointerData *>(repalloc_huge(c->tid, sizeof(ItemPointerData) * c->allocated));
        }
        c->node[c->count] = id;
        c->tid[c->count++] = *tid;
        c->more[id]++;
        return true;
    }
    *slot = &c->slots[i];
    return false;
}

/*
 * A bit(n) column's string as the graph holds it with quantization 'bit':
 * its bytes as they are, in ceil(n / 32) float slots, scored with popcounts
 * (core::packed_bit_distance).  A bit(1024) node takes 128 bytes instead of
 * 4 KB of 0/1 floats: 20,000 rows fit the default maintenance_work_mem,
 * where 0/1 floats overflowed it into one-by-one inserts.
 */
bool UsesPackedBits(Relation index, const MetaPageData &meta)
{
    return IndexesBitColumn(index) && Quantization(meta.quantization) == Quantization::Bit;
}

uint32 PackedWords(uint32 bits) { return (bits + 31) / 32; }

const float *PackBits(BuildState *bs, Datum value)
{
    const VarBit *bits = DatumGetVarBitP(value);
    memset(bs->packed_row, 0, sizeof(float) * bs->graph_dims);
    memcpy(bs->packed_row, VARBITS(bits), Min(Size(VARBITBYTES(bits)), sizeof(float) * bs->graph_dims));
    return bs->packed_row;
}

/* The 0/1 vector of a packed string of `bits` bits (as bit_to_vector()). */
void UnpackBits(const float *packed, uint32 bits, float *out)
{
    const uint8 *bytes = reinterpret_cast<const uint8 *>(packed);
    for (uint32 i = 0; i < bits; i++)
        out[i] = float((bytes[i / 8] >> (7 - i % 8)) & 1);
}

void BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool, void *state)
{
    auto *bs = static_cast<BuildState *>(state);
    bs->heap_tuples++;
    if (isnull[0])
        return;
    MemoryContext old = MemoryContextSwitchTo(bs->tuple_context);
    const float *x = IndexedRow(index, *bs->meta, values[0], bs->row);
    if (Orderable(bs->metric, x, bs->dims)) {
        const FilterValue filter = MakeFilterValue(bs->filter_column, values, isnull);
        AddTrainingRow(bs->trainer, x);
        const float *row = bs->packed && bs->overflow == nullptr ? PackBits(bs, values[0]) : x;
        uint32 *slot = nullptr;
        if (bs->overflow == nullptr && JoinCopy(bs, row, filter, tid, &slot)) {
            /* one more heap TID of an earlier node */
        } else if (uint32 id = bs->overflow == nullptr ? bs->graph->add(row) : core::MemoryGraph::kNone;
                   id != core::MemoryGraph::kNone) {
            bs->heap_tids[id] = *tid;
            if (bs->filters != nullptr)
                bs->filters[id] = filter;
            if (slot != nullptr)
                *slot = id + 1;
        } else {
            if (bs->overflow == nullptr) {
                ereport(NOTICE, (errmsg("hnsw graph no longer fits in maintenance_work_mem after %u tuples",
                                        bs->graph->size()),
                                 errdetail("The remaining rows are inserted one by one, which is slower."),
                                 errhint("Increase maintenance_work_mem to speed up builds.")));
                /* In the build's context: the tuple context is reset per row. */
                MemoryContext tuple_context = MemoryContextSwitchTo(old);
                bs->overflow = BufFileCreateTemp(false);
                MemoryContextSwitchTo(tuple_context);
            }
            BufFileWrite(bs->overflow, tid, sizeof(ItemPointerData));
            BufFileWrite(bs->overflow, const_cast<FilterValue *>(&filter), sizeof(FilterValue));
            BufFileWrite(bs->overflow, const_cast<float *>(x), sizeof(float) * bs->dims);
            bs->overflow_count++;
        }
        bs->index_tuples++;
        if (uint64(bs->index_tuples) % 1024 == 0)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, int64(bs->index_tuples));
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(bs->tuple_context);
}

/* The heap TIDs beyond its own that each node's element holds: node u's
 * are tids[start[u] .. start[u + 1]). */
struct NodeRows {
    uint32 *start;
    ItemPointerData *tids;
    uint32 more(uint32 u) const { return start[u + 1] - start[u]; }
};

/* The joined rows of `c` by node, as many as fit the node's page with its
 * element (a page holds an element of any level, not always with 32 more
 * TIDs); the rest are left in (leftover_node, leftover_tid)[0 ..
 * *leftovers), in row order, for InsertVector() after the build. */
NodeRows ArrangeCopies(const Copies &c, const core::MemoryGraph &graph, const ElementLayout &layout,
                       uint32 **leftover_node, ItemPointerData **leftover_tid, uint32 *leftovers)
{
    const uint32 n = graph.size();
    const Size room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
    NodeRows rows;
    rows.start = static_cast<uint32 *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * (n + 1)));
    rows.tids = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * Max(c.count, 1u)));
    *leftover_node = static_cast<uint32 *>(palloc(sizeof(uint32) * Max(c.count, 1u)));
    *leftover_tid = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * Max(c.count, 1u)));
    *leftovers = 0;
    rows.start[0] = 0;
    for (uint32 u = 0; u < n; u++) {
        uint32 fit = c.more[u];
        while (fit > 0 && PlacedSize(layout, graph.level(u), fit) > room)
            fit--;
        rows.start[u + 1] = rows.start[u] + fit;
    }
    uint32 *next = static_cast<uint32 *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(n, 1u)));
    memcpy(next, rows.start, sizeof(uint32) * n);
    for (uint32 i = 0; i < c.count; i++) {
        const uint32 u = c.node[i];
        if (next[u] < rows.start[u + 1]) {
            rows.tids[next[u]++] = c.tid[i];
        } else {
            (*leftover_node)[*leftovers] = u;
            (*leftover_tid)[(*leftovers)++] = c.tid[i];
        }
    }
    pfree(next);
    return rows;
}

/* Breadth-first order over layer 0 from the entry point; nodes the walk
 * does not reach follow, each starting a walk of its own. */
uint32 *BreadthFirstOrder(const core::MemoryGraph &graph)
{
    const uint32 n = graph.size();
    auto *order = static_cast<uint32 *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(n, 1u)));
    auto *placed = static_cast<bool *>(MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1u)));
    memset(placed, 0, n);
    uint32 count = 0;
    auto visit_from = [&](uint32 root) {
        uint32 head = count;
        placed[root] = true;
        order[count++] = root;
        while (head < count) {
            const uint32 *l = graph.links(order[head++], 0);
            for (uint32 j = 0; j < l[0]; j++)
                if (!placed[l[1 + j]]) {
                    placed[l[1 + j]] = true;
                    order[count++] = l[1 + j];
                }
        }
    };
    if (graph.entry_point() != core::MemoryGraph::kNone)
        visit_from(graph.entry_point());
    for (uint32 i = 0; i < n; i++)
        if (!placed[i])
            visit_from(i);
    pfree(placed);
    return order;
}

/*
 * The order nodes are laid out in pages, so that a node's neighbours share
 * its page: each page is filled by a breadth-first walk over layer 0 among
 * the nodes not yet placed, started at the next unplaced node in
 * breadth-first order, while tuples fit.  A scan then reads fewer pages per
 * neighbour list (PageReader::distances() reads each page once).  The
 * layout study (bench/layout_eval, "C cluster") measured 15% fewer distinct
 * pages per query on GloVe-100 than plain breadth-first order.  Returns the
 * order; WriteElementPages() packs it sequentially into the same pages.
 */
uint32 *PageOrder(const core::MemoryGraph &graph, const ElementLayout &layout, const NodeRows &rows)
{
    const uint32 n = graph.size();
    const uint32 *seeds = BreadthFirstOrder(graph);
    auto *order = static_cast<uint32 *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(n, 1u)));
    auto *placed = static_cast<bool *>(MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1u)));
    auto *queued = static_cast<uint32 *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(n, 1u)));
    auto *queue = static_cast<uint32 *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(n, 1u)));
    memset(placed, 0, n);
    memset(queued, 0, sizeof(uint32) * n);
    const Size room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
    auto need = [&](uint32 u) { return PlacedSize(layout, graph.level(u), rows.more(u)); };
    const Size smallest = PlacedSize(layout, 0);
    Size free = room;
    uint32 count = 0, cursor = 0, walk = 0;
    while (count < n) {
        while (placed[seeds[cursor]])
            cursor++;
        const uint32 seed = seeds[cursor];
        if (need(seed) > free)
            free = room;
        walk++;
        uint32 head = 0, tail = 0;
        queue[tail++] = seed;
        queued[seed] = walk;
        for (; head < tail && free >= smallest; head++) {
            const uint32 u = queue[head];
            if (placed[u] || need(u) > free)
                continue;
            placed[u] = true;
            order[count++] = u;
            free -= need(u);
            const uint32 *l = graph.links(u, 0);
            for (uint32 j = 0; j < l[0]; j++)
                if (!placed[l[1 + j]] && queued[l[1 + j]] != walk) {
                    queued[l[1 + j]] = walk;
                    queue[tail++] = l[1 + j];
                }
        }
        if (free < smallest)
            free = room;
    }
    pfree(placed);
    pfree(queued);
    pfree(queue);
    return order;
}

/* Writes the graph's nodes into element pages from block `first`, in id
 * order, each with its more heap TIDs; returns the node ids. */
NodeId *WriteElementPages(Relation index, const MetaPageData &meta, Codec *codec, const core::MemoryGraph &graph,
                          bool packed, const ItemPointerData *heap_tids, const NodeRows &rows,
                          const FilterValue *filters, BlockNumber first, unsigned threads)
{
    const uint32 n = graph.size();
    const ElementLayout layout{meta.m, meta.code_size};
    const Size room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);

    /* Place every node first: its id is (page, slot), in PageOrder(). */
    const uint32 *order = PageOrder(graph, layout, rows);
    auto *ids = static_cast<NodeId *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(NodeId) * Max(n, 1u)));
    BlockNumber block = first;
    OffsetNumber offset = FirstOffsetNumber;
    Size used = 0;
    for (uint32 j = 0; j < n; j++) {
        const uint32 i = order[j];
        Size need = PlacedSize(layout, graph.level(i), rows.more(i));
        if (used + need > room) {
            block++;
            offset = FirstOffsetNumber;
            used = 0;
        }
        if (block > kMaxSlotBlock)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("hnsw index would exceed %u pages", kMaxSlotBlock + 1)));
        ids[i] = MakeNodeId(block, offset);
        offset++;
        used += need;
    }

    char *tuple = static_cast<char *>(palloc(BLCKSZ));
    NodeId *links = static_cast<NodeId *>(palloc(sizeof(NodeId) * 2 * meta.m));
    /* Codes are encoded ahead on every build thread, a few MB at a time. */
    const Size per_node = packed ? Max(Size(meta.code_size), sizeof(float) * meta.dims) : Size(meta.code_size);
    const uint32 chunk = uint32(Max(Size(1024), Size(4 * 1024 * 1024) / per_node));
    uint8 *codes = static_cast<uint8 *>(MemoryContextAllocHuge(CurrentMemoryContext, Size(chunk) * meta.code_size));
    const float **chunk_vectors = static_cast<const float **>(palloc(sizeof(float *) * chunk));
    /* Packed strings are encoded from their 0/1 vectors. */
    float *unpacked = packed ? static_cast<float *>(MemoryContextAllocHuge(CurrentMemoryContext,
                                                                          sizeof(float) * Size(chunk) * meta.dims))
                             : nullptr;

    Buffer buffer = InvalidBuffer;
    for (uint32 j = 0; j < n; j++) {
        const uint32 i = order[j];
        if (j % 1024 == 0)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, j);
        if (!BufferIsValid(buffer) || NodeBlock(ids[i]) != BufferGetBlockNumber(buffer)) {
            if (BufferIsValid(buffer)) {
                MarkBufferDirty(buffer);
                UnlockReleaseBuffer(buffer);
            }
            CHECK_FOR_INTERRUPTS(); /* per page, with no buffer locked */
            buffer = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
            Assert(BufferGetBlockNumber(buffer) == NodeBlock(ids[i]));
            LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
            PageInit(BufferGetPage(buffer), BLCKSZ, 0);
        }
        if (j % chunk == 0) {
            const uint32 count = Min(chunk, n - j);
            for (uint32 k = 0; k < count; k++) {
                chunk_vectors[k] = graph.vector(order[j + k]);
                if (packed) {
                    UnpackBits(chunk_vectors[k], meta.dims, unpacked + Size(k) * meta.dims);
                    chunk_vectors[k] = unpacked + Size(k) * meta.dims;
                }
            }
            EncodeParallel(codec, chunk_vectors, count, codes, threads);
        }
        const int level = graph.level(i);
        FormElement(layout, level, const_cast<ItemPointer>(&heap_tids[i]),
                    filters != nullptr ? filters[i] : FilterValue{0, false}, codes + Size(j % chunk) * meta.code_size,
                    tuple);
        uint8 *counts = reinterpret_cast<uint8 *>(tuple + layout.counts_offset());
        for (int lc = 0; lc <= level; lc++) {
            const uint32 *l = graph.links(i, lc);
            for (uint32 k = 0; k < l[0]; k++)
                links[k] = ids[l[1 + k]];
            counts[lc] = uint8(l[0]);
            IdsToSlots(links, l[0], reinterpret_cast<Slot *>(tuple + layout.layer_offset(level, lc)));
        }
        const uint32 more = rows.more(i);
        reinterpret_cast<ElementHeader *>(tuple)->more_tids = uint16(more);
        memcpy(tuple + layout.tuple_size(level), rows.tids + rows.start[i], sizeof(ItemPointerData) * more);
        OffsetNumber placed = PageAddItem(BufferGetPage(buffer), Item(tuple),
                                          ElementLayout::element_size(layout.tuple_size(level), more),
                                          InvalidOffsetNumber, false, false);
        if (placed != NodeOffset(ids[i]))
            elog(ERROR, "hnsw: failed to place element %u", i);
    }
    if (BufferIsValid(buffer)) {
        MarkBufferDirty(buffer);
        UnlockReleaseBuffer(buffer);
    }
    return ids;
}

/* Inserts the rows the graph had no room for, through the pages. */
void InsertOverflow(Relation index, BuildState *bs)
{
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseOverflow);
    if (BufFileSeek(bs->overflow, 0, 0, SEEK_SET) != 0)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not rewind hnsw build temporary file")));
    float *vector = static_cast<float *>(palloc(sizeof(float) * bs->dims));
    for (uint64 i = 0; i < bs->overflow_count; i++) {
        ItemPointerData tid;
        FilterValue filter;
        if (BufFileRead(bs->overflow, &tid, sizeof(tid)) != sizeof(tid) ||
            BufFileRead(bs->overflow, &filter, sizeof(filter)) != sizeof(filter) ||
            BufFileRead(bs->overflow, vector, sizeof(float) * bs->dims) != sizeof(float) * bs->dims)
            ereport(ERROR, (errcode_for_file_access(), errmsg("could not read hnsw build temporary file")));
        CHECK_FOR_INTERRUPTS();
        InsertVector(index, vector, &tid, filter);
        if (i % 256 == 0)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, int64(bs->graph->size() + i));
    }
    BufFileClose(bs->overflow);
}

}  // namespace

IndexBuildResult *Build(Relation heap, Relation index, IndexInfo *index_info)
{
    if (RelationGetNumberOfBlocks(index) != 0)
        elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

    MetaPageData meta, fallback;
    bool has_fallback;
    core::Params params;
    const bool sparse = QuantizationOf(index) == Quantization::Sparse;
    PlanIndex(index, &meta, &params, &fallback, &has_fallback,
              sparse ? SparseSlotsForBuild(heap, index, index_info, OptionM(index)) : 0);
    const unsigned threads = BuildThreads();

    /* Size the graph for the rows expected, within maintenance_work_mem. */
    const bool packed = UsesPackedBits(index, meta);
    const uint32 graph_dims = packed ? PackedWords(meta.dims) : meta.dims;
    const double expected = ExpectedRows(heap);
    const Size budget = Size(maintenance_work_mem) * 1024;
    const uint32 fits = CapacityFor(budget, graph_dims, params, threads);
    const uint32 capacity = uint32(std::min<double>(fits, expected * 1.2 + 1000));
    if (capacity == 0)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("maintenance_work_mem is too small to build an hnsw index"),
                        errhint("Set maintenance_work_mem to at least 1MB.")));

    BuildState bs{};
    bs.dims = meta.dims;
    bs.graph_dims = graph_dims;
    bs.packed = packed;
    bs.packed_row = packed ? static_cast<float *>(palloc(sizeof(float) * graph_dims)) : nullptr;
    bs.meta = &meta;
    bs.row = static_cast<float *>(palloc(sizeof(float) * meta.dims));
    bs.metric = Metric(meta.metric);
    const Size graph_bytes = core::MemoryGraph::bytes_needed(capacity, graph_dims, params);
    void *graph_memory = MemoryContextAllocHuge(CurrentMemoryContext, graph_bytes);
    bs.graph = new (palloc(sizeof(core::MemoryGraph))) core::MemoryGraph();
    bs.graph->init(graph_memory, graph_bytes, capacity, graph_dims, bs.metric, params,
                   packed ? core::VectorForm::PackedBits
                   : sparse ? core::VectorForm::PackedSparse
                            : core::VectorForm::Floats);
    bs.heap_tids = static_cast<ItemPointerData *>(
        MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * Max(capacity, 1u)));
    InitCopies(&bs.copies, capacity, graph_dims);
    bs.filter_column = GetFilterColumn(index);
    if (bs.filter_column != nullptr)
        bs.filters = static_cast<FilterValue *>(
            MemoryContextAllocHuge(CurrentMemoryContext, sizeof(FilterValue) * Max(capacity, 1u)));
    bs.tuple_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw build tuple", ALLOCSET_DEFAULT_SIZES);
    bs.trainer = StartCodecTraining(Quantization(meta.quantization), bs.metric, meta.dims);

    const TimestampTz started = GetCurrentTimestamp();
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, int64(std::max(expected, 0.0)));
    bs.heap_tuples = table_index_build_scan(heap, index, index_info, true, true, BuildCallback, &bs, nullptr);

    /* Link the graph on every core; a cancel request stops it between inserts. */
    const TimestampTz loaded = GetCurrentTimestamp();
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseGraph);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs.graph->size());
    core::BuildOptions options;
    options.threads = threads;
    /* Where the rest of maintenance_work_mem holds it (the same graph
     * without it, built slower: 165 bytes a node at m = 16). */
    options.list_cache = BuildBytes(capacity, graph_dims, params, threads) +
                             core::list_cache_bytes(capacity, params) <=
                         budget;
    options.cancel = [](void *) { return bool(INTERRUPTS_PENDING_CONDITION()); };
    options.progress = [](void *, uint32 inserted, uint32) {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, inserted);
    };
    while (core::build(*bs.graph, options) == core::BuildStatus::Cancelled)
        CHECK_FOR_INTERRUPTS(); /* ERROR on a cancel; other interrupts: go on */

    /* Codec parameters from every row (not only those in memory: on data that
     * drifts through the table, ranges from the first rows clamp the rest),
     * then the pages. */
    const TimestampTz linked = GetCurrentTimestamp();
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
    if (has_fallback && bs.index_tuples < kMinTrainRows) {
        ereport(NOTICE, (errmsg("hnsw index created with little data: it stores full vectors, not sq8 codes"),
                         errdetail("sq8 learns its ranges from at least %u rows; the table has %.0f.", kMinTrainRows,
                                   bs.index_tuples),
                         errhint("REINDEX after loading data for a smaller index.")));
        meta = fallback;
    }
    float *aux = static_cast<float *>(palloc0(Max(meta.aux_bytes, 1u)));
    FinishCodecTraining(bs.trainer, Quantization(meta.quantization), meta.dims, aux);
    IndexInfoCache info{};
    info.meta = meta;
    info.layout = ElementLayout{meta.m, meta.code_size};
    info.aux = aux;
    Codec *codec = MakeCodec(&info);
    WriteMetaPages(index, MAIN_FORKNUM, meta, aux, false);
    uint32 *leftover_node, leftovers;
    ItemPointerData *leftover_tid;
    const NodeRows rows = ArrangeCopies(bs.copies, *bs.graph, info.layout, &leftover_node, &leftover_tid, &leftovers);
    NodeId *ids = WriteElementPages(index, meta, codec, *bs.graph, packed, bs.heap_tids, rows, bs.filters,
                                    1 + meta.aux_pages, threads);
    BlockNumber element_pages = RelationGetNumberOfBlocks(index);
    if (bs.graph->entry_point() != core::MemoryGraph::kNone) {
        meta.entry_block = NodeBlock(ids[bs.graph->entry_point()]);
        meta.entry_offset = NodeOffset(ids[bs.graph->entry_point()]);
        meta.entry_level = int16(bs.graph->max_level());
        meta.insert_page = element_pages - 1;
    }

    OverwriteMetaPage(index, meta);
    const TimestampTz written = GetCurrentTimestamp();
    if (RelationNeedsWAL(index))
        log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
    elog(DEBUG1, "hnsw build: %u rows, %u threads; load %ld ms, graph %ld ms, pages %ld ms, WAL %ld ms",
         bs.graph->size(), threads, long(TimestampDifferenceMilliseconds(started, loaded)),
         long(TimestampDifferenceMilliseconds(loaded, linked)), long(TimestampDifferenceMilliseconds(linked, written)),
         long(TimestampDifferenceMilliseconds(written, GetCurrentTimestamp())));

    float *unpacked = packed ? static_cast<float *>(palloc(sizeof(float) * meta.dims)) : nullptr;
    for (uint32 i = 0; i < leftovers; i++) {
        CHECK_FOR_INTERRUPTS();
        const uint32 u = leftover_node[i];
        if (packed)
            UnpackBits(bs.graph->vector(u), meta.dims, unpacked);
        InsertVector(index, packed ? unpacked : bs.graph->vector(u), &leftover_tid[i],
                     bs.filters != nullptr ? bs.filters[u] : FilterValue{0, false});
    }
    if (bs.overflow != nullptr)
        InsertOverflow(index, &bs);

    auto *result = static_cast<IndexBuildResult *>(palloc(sizeof(IndexBuildResult)));
    result->heap_tuples = bs.heap_tuples;
    result->index_tuples = bs.index_tuples;
    return result;
}

void BuildEmpty(Relation index)
{
    MetaPageData meta, fallback;
    bool has_fallback;
    core::Params params;
    PlanIndex(index, &meta, &params, &fallback, &has_fallback,
              QuantizationOf(index) == Quantization::Sparse ? SparseSlotsWhenEmpty(OptionM(index)) : 0);
    if (has_fallback)
        meta = fallback; /* an empty index: no rows to learn sq8 ranges from */
    float *aux = static_cast<float *>(palloc0(Max(meta.aux_bytes, 1u)));
    TrainCodec(Quantization(meta.quantization), Metric(meta.metric), meta.dims, nullptr, 0, aux);
    WriteMetaPages(index, INIT_FORKNUM, meta, aux, false);
    log_newpage_range(index, INIT_FORKNUM, 0, RelationGetNumberOfBlocksInFork(index, INIT_FORKNUM), true);
}

}  // namespace vecdb::pg::hnsw
