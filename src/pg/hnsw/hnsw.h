/*
 * hnsw.h -- the hnsw index access method: page format, per-index state and
 * the entry points of each file.
 *
 * Files (split as PostgreSQL's nbtree and pgvector's hnsw are):
 *   hnsw_handler.cpp  amhandler, reloptions, GUCs, cost estimate
 *   hnsw_page.cpp     the page format: metapage, element tuples, node ids
 *   hnsw_filter.cpp   the filter column: its value in an element, scan keys
 *   hnsw_build.cpp    ambuild / ambuildempty: in-memory graph, pages written once
 *   hnsw_insert.cpp   aminsert: one element linked through the pages
 *   hnsw_scan.cpp     amgettuple: the graph search over buffers, batches
 *   hnsw_vacuum.cpp   ambulkdelete / amvacuumcleanup: delete, repair, reuse
 *   hnsw_check.cpp    vecdb_index_check(): every page, element and link checked
 * README.md in this folder is the design (layout, locking, WAL, measured
 * figures).
 *
 * Page format (version 5).  Block 0 is the metapage.  Blocks 1 .. aux_pages
 * hold the codec's parameters (SQ8's per-dimension ranges), written at build
 * and never changed.  Every later block holds element tuples only, one per
 * graph node:
 *
 *   ElementHeader (16 bytes)  kind, level, flags, number of more heap TIDs, heap TID, filter key
 *   code                      code_size bytes
 *   uint8  count[level + 1]   neighbours in use on each layer (from an even offset, padded to even)
 *   Slot (uint32)             2M slots for layer 0, then M for each layer 1..level,
 *                             at a 4-byte boundary: block << 8 | offset
 *   ItemPointerData           more heap TIDs (0 .. kMaxMoreTids): rows of the same code and filter key
 *                             (version 5; version 4 indexes have none and are read as they are)
 *
 * Where the lists are is a function of the level alone, so they are
 * rewritten in place.  A slot freed by VACUUM is reused by an element of
 * any level (PageIndexTupleOverwrite resizes it; line pointers stay).  A
 * node's id is its tuple's (block, offset).
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/metric.h"
#include "../../core/quant/quantization.h"
#include "../guard.h"
#include "../index_util.h"
#include "../quant/codec.h"

extern "C" {
#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
}

#define HNSW_MAGIC 0x76686e73 /* "vhns" */
#define HNSW_VERSION 5
#define HNSW_VERSION_NO_MORE_TIDS 4 /* still read; rows never share its elements */
#define HNSW_METAPAGE_BLKNO 0

/* Support function 1: the distance the index orders by (pgvector's numbering). */
#define HNSW_DISTANCE_PROC 1

/* Heavyweight page locks on a block number no page uses: inserts hold
 * HNSW_UPDATE_LOCK shared; an insert that moves the entry point and VACUUM,
 * when it moves the entry point, hold it exclusive, and VACUUM takes it
 * exclusive for a moment to wait for inserts older than its marking. */
#define HNSW_UPDATE_LOCK (MaxBlockNumber - 1)

#define HNSW_DEFAULT_M 16
#define HNSW_MIN_M 2
#define HNSW_MAX_M 100
#define HNSW_DEFAULT_EF_CONSTRUCTION 64
#define HNSW_MIN_EF_CONSTRUCTION 4
#define HNSW_MAX_EF_CONSTRUCTION 1000
#define HNSW_DEFAULT_EF_SEARCH 40
#define HNSW_MAX_EF_SEARCH 1000

namespace vecdb::pg::hnsw {

/* The code stored in each element (reloption quantization). */
using vecdb::Quantization;

/* The distance an opclass orders by (src/core/metric.h), stored in the
 * metapage as its uint8 value. */
using vecdb::Metric;

/* hnsw.iterative_scan */
enum IterativeScan { kScanOff = 0, kScanRelaxed = 1, kScanStrict = 2 };

extern int ef_search;
extern int iterative_scan;
extern int max_scan_tuples;
extern int rerank_window;

/* Reloptions (rd_options). */
struct Options {
    int32 vl_len_;
    int m;
    int ef_construction;
    int quantization_offset; /* string option: offset of the value */
};

struct MetaPageData {
    uint32 magic;
    uint32 version;
    uint32 dims;
    uint16 m;
    uint16 ef_construction;
    uint8 metric;       /* Metric */
    uint8 quantization; /* Quantization */
    uint8 max_level;    /* levels are capped so every tuple fits a page */
    uint8 check;        /* MetaCheck() of the fields that never change (0: written before it existed) */
    uint32 code_size;
    uint32 aux_pages; /* blocks 1 .. aux_pages hold codec parameters */
    uint32 aux_bytes;
    BlockNumber entry_block; /* InvalidBlockNumber while the graph is empty */
    OffsetNumber entry_offset;
    int16 entry_level;
    BlockNumber insert_page; /* where inserts start looking for room */
    uint64 seed;             /* levels of built nodes */
    uint64 rotation_seed;    /* e8, e8_4bit, h4, binary: their rotation */
};

/* Element flags. */
#define HNSW_ELEMENT_DELETED 0x01 /* heap row gone: walked through, never returned */
#define HNSW_ELEMENT_FREE 0x02    /* unlinked by VACUUM: the slot may be reused */
#define HNSW_ELEMENT_FILTER_NULL 0x04 /* the filter column is NULL: no filter key matches */

struct ElementHeader {
    uint8 kind; /* HNSW_ELEMENT_KIND */
    uint8 level;
    uint8 flags;
    uint8 reuses; /* times the slot was reused, mod 256 (PlaceElement; 0 in version 4): a
                   * scan tells the element it scored from a later one in the slot */
    uint16 more_tids; /* heap TIDs after the lists (0 in version 4) */
    ItemPointerData heap_tid;
    uint32 filter_key; /* the filter column's value (hnsw_filter.cpp); 0 without one */
};
#define HNSW_ELEMENT_KIND 0x45
static_assert(sizeof(ElementHeader) == 16, "element header is 16 bytes on disk");
/* A neighbour slot: (block << 8) | offset in 4 bytes, not a 6-byte item
 * pointer.  Every element tuple is over 32 bytes, so a page holds fewer
 * than 256 of them; blocks stop at 2^24 (a 128 GB index). */
using Slot = uint32;
inline constexpr BlockNumber kMaxSlotBlock = (1u << 24) - 1;

/* A node id: its tuple's (block, offset) in 48 bits. */
using NodeId = uint64;
inline NodeId MakeNodeId(BlockNumber block, OffsetNumber offset) { return (uint64(block) << 16) | offset; }
inline BlockNumber NodeBlock(NodeId id) { return BlockNumber(id >> 16); }
inline OffsetNumber NodeOffset(NodeId id) { return OffsetNumber(id & 0xFFFF); }
inline constexpr NodeId kNoNode = ~uint64(0);

/* Where things are inside an element tuple of a given level. */
struct ElementLayout {
    uint32 m;
    uint32 code_size;

    uint32 max_links(int lc) const { return lc == 0 ? 2 * m : m; }
    /* The code right after the header: scoring a node reads two or three
     * adjacent cache lines, its lists only when it is expanded. */
    static constexpr uint32 code_offset() { return sizeof(ElementHeader); }
    uint32 counts_offset() const { return code_offset() + code_size; }
    uint32 slots_offset(int level) const { return (counts_offset() + level + 1 + 3) & ~3u; }
    uint32 layer_offset(int level, int lc) const
    {
        return slots_offset(level) + sizeof(Slot) * (lc == 0 ? 0 : 2 * m + (lc - 1) * m);
    }
    Size tuple_size(int level) const { return MAXALIGN(layer_offset(level, level + 1)); }
    /* The more heap TIDs follow the lists (tuple_size is MAXALIGNed). */
    static Size element_size(Size tuple_size, uint32 more_tids)
    {
        return tuple_size + sizeof(ItemPointerData) * more_tids;
    }
};
/* Rows of one code and filter key share an element up to this many heap
 * TIDs beyond the first; one more gets an element of its own. */
inline constexpr uint32 kMaxMoreTids = 32;
/* The page room an element takes when pages are filled (builds, inserts):
 * its tuple, its line pointer, and room for one more heap TID, so that each
 * element's row can be updated once (not HOT, the vector unchanged) between
 * two VACUUMs and share its element (AddHeapTid) rather than add one.
 * 3% of a GloVe-100 sq8 tuple, 1% of a 784-d one. */
inline constexpr Size kTidReserve = MAXALIGN(sizeof(ItemPointerData));
inline Size PlacedSize(const ElementLayout &layout, int level, uint32 more_tids = 0)
{
    return MAXALIGN(ElementLayout::element_size(layout.tuple_size(level), more_tids)) + sizeof(ItemIdData) +
           kTidReserve;
}

/* A read-only view of one element tuple on a locked page. */
struct ElementView {
    const char *base;
    const ElementLayout *layout;

    const ElementHeader *header() const { return reinterpret_cast<const ElementHeader *>(base); }
    int level() const { return header()->level; }
    bool is_deleted() const { return (header()->flags & (HNSW_ELEMENT_DELETED | HNSW_ELEMENT_FREE)) != 0; }
    uint8 count(int lc) const { return reinterpret_cast<const uint8 *>(base + layout->counts_offset())[lc]; }
    const Slot *slots(int lc) const
    {
        return reinterpret_cast<const Slot *>(base + layout->layer_offset(level(), lc));
    }
    const uint8 *code() const { return reinterpret_cast<const uint8 *>(base + ElementLayout::code_offset()); }
    uint32 more_tids() const { return header()->more_tids; }
    const ItemPointerData *more() const
    {
        return reinterpret_cast<const ItemPointerData *>(base + layout->tuple_size(level()));
    }
    /* The element holds heap row `tid`. */
    bool holds(const ItemPointerData &tid) const
    {
        if (ItemPointerEquals(const_cast<ItemPointer>(&header()->heap_tid), const_cast<ItemPointer>(&tid)))
            return true;
        for (uint32 i = 0; i < more_tids(); i++)
            if (ItemPointerEquals(const_cast<ItemPointer>(&more()[i]), const_cast<ItemPointer>(&tid)))
                return true;
        return false;
    }
};

/* What every backend caches per index (rd_amcache): the metapage's fixed
 * fields and the codec parameters, both immutable after the build, checked
 * when read (GetIndexInfo). */
struct IndexInfoCache {
    MetaPageData meta;
    ElementLayout layout;
    float *aux; /* aux_bytes / sizeof(float) floats (SQ8 ranges), or null */
    BlockNumber first_element_block; /* 1 + aux_pages */
    /* The relation had this many blocks (it never shrinks while the cache
     * lives: REINDEX and TRUNCATE make a new relfilenode and so a new
     * cache), so a slot below it needs no size lookup (CheckElementBlock). */
    mutable BlockNumber known_blocks;
};

/* --- hnsw_page.cpp ---------------------------------------------------------- */

/*
 * Pages are untrusted input: every size, count, offset and block number
 * read from one is checked before it is used, and a bad one raises
 * ERRCODE_INDEX_CORRUPTED naming the index and the block (never a crash or
 * silently wrong rows).  The metapage's fixed fields are checked once per
 * cache load (GetIndexInfo), the entry point at every read
 * (ReadEntryPoint), element tuples and neighbour slots where they are read.
 */
using vecdb::pg::ReportCorruption; /* ../index_util.h */
/* Cold path of CheckElementBlock(): looks up the relation's size again. */
void CheckElementBlockSlow(Relation index, const IndexInfoCache *info, BlockNumber block, BlockNumber from);
/* Raises unless `block`, named by block `from`, is an element page of the
 * relation (past the metapage and the aux pages, below its size).  The
 * relation grows under concurrent inserts: a block past the size cached in
 * info is looked up again before it counts as corrupt. */
inline void CheckElementBlock(Relation index, const IndexInfoCache *info, BlockNumber block, BlockNumber from)
{
    if (likely(block >= info->first_element_block && block < info->known_blocks))
        return;
    CheckElementBlockSlow(index, info, block, from);
}

MetaPageData *PageGetMeta(Page page);
/* A check byte (1 .. 255) of the metapage fields a build fixes, so that a
 * changed field that is consistent with the others (e8 and h4 codes have
 * the same size) is still caught.  Written with the metapage. */
uint8 MetaCheck(const MetaPageData &meta);
/* The cached fixed part of the index's metapage (reads and checks it the
 * first time). */
const IndexInfoCache *GetIndexInfo(Relation index);
/* The metapage's current entry point (checked: its element is there with
 * that level) and insert hint (a hint only: PlaceElement() ignores one
 * outside the element pages); one metapage read, and one of the entry's page. */
void ReadEntryPoint(Relation index, NodeId *entry, int *entry_level, BlockNumber *insert_page);
/* Writes the initial metapage (and aux pages) into fresh pages of fork `fork`;
 * WAL-logged as full pages when `wal`. */
void WriteMetaPages(Relation index, ForkNumber fork, const MetaPageData &meta, const void *aux, bool wal);
/* Replaces the metapage's contents without WAL (a build, before it logs
 * every page). */
void OverwriteMetaPage(Relation index, const MetaPageData &meta);
/* The filter column's value as an element holds it (hnsw_filter.cpp). */
struct FilterValue {
    uint32 key;
    bool isnull;
};

/* Builds element tuple `out` (layout.tuple_size(level) bytes, zeroed). */
void FormElement(const ElementLayout &layout, int level, ItemPointer heap_tid, const FilterValue &filter,
                 const uint8 *code, char *out);
/* Adds heap row `tid` to the element at `offset` of `buffer` (exclusively
 * locked by the caller), WAL-logged, if that is a live element of the code
 * and filter value given, with fewer than kMaxMoreTids more TIDs, and the
 * page has room for one more (the tuple grows in place: line pointers and
 * so node ids stay).  False, with nothing written, otherwise, and always
 * for a version 4 index. */
bool AddHeapTid(Relation index, const IndexInfoCache *info, Buffer buffer, OffsetNumber offset, const uint8 *code,
                const FilterValue &filter, ItemPointer tid);
/* A palloc'd copy of element `tuple` (checked) holding heap rows
 * rows[0 .. n) (n >= 1) instead of its own; its size in *size. */
char *ElementWithRows(const ElementLayout &layout, const char *tuple, const ItemPointerData *rows, uint32 n,
                      Size *size);
/* The largest level whose tuple fits on a page. */
int MaxLevelForPage(const ElementLayout &layout);
/* The element tuple at `offset` of element page `block` (locked by the
 * caller), checked: its line pointer lies inside the page, it is an element
 * of a level up to max_level, of that level's size plus its more heap TIDs.
 * Anything else is corruption (element pages hold element tuples only, and
 * line pointers are never removed).  LiveElement(): null for a slot VACUUM freed. */
char *PageElement(Relation index, const IndexInfoCache *info, Page page, BlockNumber block, OffsetNumber offset);
char *LiveElement(Relation index, const IndexInfoCache *info, Page page, BlockNumber block, OffsetNumber offset);
/* The element at `offset` of a page copy (GenericXLogRegisterBuffer) whose
 * original the caller checked with PageElement() under the same lock. */
inline char *CheckedElement(Page page, OffsetNumber offset)
{
    return static_cast<char *>(PageGetItem(page, PageGetItemId(page, offset)));
}
/* Copies the layer-lc neighbours of checked element e (of block `block`)
 * into out, checking the count (at most max_links) and every slot's block
 * and offset; returns the count. */
uint32 ElementNeighbors(Relation index, const IndexInfoCache *info, BlockNumber block, const ElementView &e, int lc,
                        NodeId *out);
/* Copies node id's layer-lc neighbours (buffer lock taken and released
 * inside) into out; returns the count.  A freed slot reads as no
 * neighbours. */
uint32 ReadNeighbors(Relation index, const IndexInfoCache *info, NodeId id, int lc, NodeId *out);
/* ReadNeighbors() on a page the caller has locked. */
uint32 PageNeighbors(Relation index, const IndexInfoCache *info, Page page, NodeId id, int lc, NodeId *out);
void IdsToSlots(const NodeId *ids, uint32 n, Slot *out);

/* --- the code stored per element: ../quant/codec.h --------------------------- */

/* A codec for the index's parameters (metapage and aux pages). */
Codec *MakeCodec(const IndexInfoCache *info);

/* --- hnsw_filter.cpp -------------------------------------------------------- */

struct FilterColumn; /* how the index's filter column becomes a filter key */
struct ScanFilter;   /* a scan's keys on the filter column, compiled */
/* The index's filter column (its second key column), or null if it has
 * none; raises for a column layout hnsw does not support. */
const FilterColumn *GetFilterColumn(Relation index);
/* The filter value of index row values / isnull (no filter: zero). */
FilterValue MakeFilterValue(const FilterColumn *column, const Datum *values, const bool *isnull);
/* The scan keys compiled (null for none); *empty when no row can pass
 * (a comparison with NULL). */
ScanFilter *MakeScanFilter(Relation index, ScanKey keys, int nkeys, bool *empty);
/* False when the element's row cannot pass the keys; true means it may
 * (the executor rechecks). */
bool FilterMatches(const ScanFilter *filter, const ElementHeader &element);

/* --- the access method entry points ------------------------------------------ */

IndexBuildResult *Build(Relation heap, Relation index, IndexInfo *info);
void BuildEmpty(Relation index);
bool Insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
            IndexUniqueCheck check, bool indexUnchanged, IndexInfo *info);
/* Links one vector into the on-disk graph (aminsert, and builds that
 * outgrow maintenance_work_mem). */
/* unchanged: the executor's hint that an UPDATE left the indexed value as it
 * was (aminsert's indexUnchanged). */
void InsertVector(Relation index, const float *vector, ItemPointer heap_tid, const FilterValue &filter,
                  bool unchanged = false);
/* Shared by inserts and VACUUM's repair (hnsw_insert.cpp). */
struct VectorCache; /* decoded vectors of the nodes one operation reads */
VectorCache *MakeVectorCache(Relation index, const IndexInfoCache *info, Codec *codec);
/* Node id's code decoded for selection (DecodeForSelection), or null if it
 * is not a live element.  One more float follows the vector: 1 if the code
 * was clamped (CodeClamped), else 0. */
const float *CachedVector(VectorCache *cache, NodeId id);
/* A live element's code as a search scored it (PageReader::keep_codes()):
 * CachedVector() decodes it from this copy instead of reading its page
 * again. */
void KeepCode(VectorCache *cache, NodeId id, const uint8 *code);
/* Algorithm 4's distance between two cached vectors: SelectionDistance(),
 * but FLT_MAX if either code was clamped.  A clamped code decodes to the
 * edge of the sq8 ranges, where its row is not: several rows far outside
 * them decode to one corner and would read as copies, pruned from each
 * other's lists, which strands them.  At FLT_MAX a clamped candidate is
 * never covered by, nor covers, another: it is kept while the list has
 * room. */
float PairDistance(const Codec *codec, const float *a, const float *b);
/* Node id's vector as the graph holds it (Decode) into out; false if it is
 * not a live element. */
bool NodeVector(VectorCache *cache, NodeId id, float *out);
bool RelinkNode(Relation index, const IndexInfoCache *info, VectorCache *cache, NodeId base, int lc,
                const NodeId *added, uint32 n_added, const NodeId *deleted, uint32 n_deleted, bool keep_added);
/* Links v to u on layer 0 without cutting any path (VACUUM's reconnect);
 * false if v refuses or a list changed meanwhile. */
bool SpliceLink(Relation index, const IndexInfoCache *info, VectorCache *cache, NodeId v, NodeId u);
bool InSortedIds(const NodeId *ids, uint32 n, NodeId id);
void FindNeighbors(Relation index, const IndexInfoCache *info, VectorCache *cache, const float *vector, NodeId entry,
                   int entry_level, int level, NodeId skip, NodeId **selected, uint32 *count, NodeId **found = nullptr,
                   uint32 *n_found = nullptr);
IndexScanDesc BeginScan(Relation index, int nkeys, int norderbys);
void Rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool GetTuple(IndexScanDesc scan, ScanDirection dir);
void EndScan(IndexScanDesc scan);
IndexBulkDeleteResult *BulkDelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
                                  IndexBulkDeleteCallback callback, void *callback_state);
IndexBulkDeleteResult *VacuumCleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

/* The index column's value as fp32, after its opclass's normalization; the
 * metric from the opclass's distance function. */
Metric MetricOf(Relation index);
Quantization QuantizationOf(Relation index);
int OptionM(Relation index);
int OptionEfConstruction(Relation index);

/* --- sparsevec columns under 'sparse' (hnsw_sparse.cpp) ----------------------- */

/* Slots of a 'sparse' index built on `heap`: room for the elements of 99%
 * of its rows (a first pass counts them), within what a page holds. */
uint32 SparseSlotsForBuild(Relation heap, Relation index, IndexInfo *index_info, int m);
/* Slots of a 'sparse' index built with too few rows to measure. */
uint32 SparseSlotsWhenEmpty(int m);
/* The floats the index holds for `value`, a datum of its column: the
 * sparse form in meta.dims slots under 'sparse' (written to buffer, of
 * meta.dims floats), else the vector (IndexedVector, its dimension checked). */
const float *IndexedRow(Relation index, const MetaPageData &meta, Datum value, float *buffer);
/* A 'sparse' index's query: the whole sparse form of `value` (every
 * element), in at least meta.dims slots (*slots says how many), palloc'd. */
float *SparseQuery(Relation index, const MetaPageData &meta, Datum value, uint32 *slots);
/* A query every code can be scored against (meta.dims floats), for a scan
 * whose own query orders nothing and for checks: all ones, or under
 * 'sparse' the form of one element. */
void FixedQuery(const MetaPageData &meta, float *out);
/* A row's floats as the graph stores them (prepare_vector(): normalized
 * under cosine; a sparse form as it is). */
void PrepareRow(const MetaPageData &meta, const float *in, float *out);

/* Registers the GUCs (from _PG_init). */
void DefineGucs();

/* True for an index of this access method (hnsw_handler.cpp). */
bool IsHnswIndex(Relation index);
/* vecdb_index_check() (hnsw_check.cpp): raises ERRCODE_INDEX_CORRUPTED at
 * the first problem, else fills report.  The caller holds ShareLock. */
void CheckIndex(Relation index, CheckReport *report);

}  // namespace vecdb::pg::hnsw
