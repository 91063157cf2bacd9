/*
 * ivf.h -- the ivf index access method (also spelled ivfflat, pgvector's
 * name): page format, per-index state and the entry points of each file.
 *
 * Files (split as the hnsw index's are):
 *   ivf_handler.cpp  amhandlers (ivf, ivfflat), reloptions, GUCs, cost estimate
 *   ivf_page.cpp     the page format: metapage, centroids, list pages
 *   ivf_build.cpp    ambuild / ambuildempty: sample, k-means, lists written once
 *   ivf_insert.cpp   aminsert: append to the nearest list
 *   ivf_scan.cpp     amgettuple: the nearest lists' codes, in bound order
 *   ivf_vacuum.cpp   ambulkdelete / amvacuumcleanup: remove, compact, reuse
 *   ivf_check.cpp    vecdb_index_check(): every list, page, entry and code checked
 * README.md in this folder is the design (layout, locking, WAL, figures).
 *
 * Page format (version 3).
 *   block 0                        metapage (MetaPageData)
 *   blocks 1 .. aux_pages          the codec's parameters (SQ8's ranges)
 *   next centroid_pages blocks     the centroids, centroids_per_page to a
 *                                  page, dims floats each
 *   next `lists` blocks            list j's first page is list_start + j
 *   later blocks                   further list pages, chained by `next`
 * A list page holds entries densely, struct-of-arrays, so scoring a page is
 * one loop over contiguous codes:
 *   codes   capacity x code_size bytes, from the page's contents
 *   tids    capacity x 6 bytes (ItemPointerData), after the codes
 *   special ListPageOpaque: next page, entry count, list number
 * Entries [0, count) are live; VACUUM moves the last ones into the holes.
 * pd_lower is the end of the tids block whatever the count, so full-page
 * images and GenericXLog deltas cover every byte that can hold data.
 * A list's first page also records the page inserts go to (insert_page).
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/metric.h"
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

#define IVF_MAGIC 0x76697666 /* "vivf" */
#define IVF_VERSION 3
#define IVF_METAPAGE_BLKNO 0
#define IVF_PAGE_ID 0xFF91   /* ListPageOpaque.page_id, as nbtree's and GIN's */

/* Support function 1: the distance the index orders by (as hnsw's). */
#define IVF_DISTANCE_PROC 1

#define IVF_MAX_LISTS 32768
/* Centroids are kept in each backend's memory, one page per centroid at
 * most: pgvector's ivfflat limit. */
#define IVF_MAX_DIM 2000
#define IVF_DEFAULT_PROBES 10
#define IVFFLAT_DEFAULT_PROBES 1 /* pgvector's */

namespace vecdb::pg::ivf {

using vecdb::Metric;
using vecdb::Quantization;
using vecdb::pg::ReportCorruption;

/* ivf.iterative_scan, ivfflat.iterative_scan */
enum IterativeScan { kScanOff = 0, kScanRelaxed = 1 };

/* The settings a scan reads: ivf.* for an ivf index, ivfflat.* for an
 * index created USING ivfflat. */
struct ScanSettings {
    int probes;
    int iterative_scan;
    int max_probes;
};
extern ScanSettings ivf_settings;
extern ScanSettings ivfflat_settings;

/* Reloptions (rd_options), the same for both spellings. */
struct Options {
    int32 vl_len_;
    int lists;               /* 0: from the row count at build */
    int quantization_offset; /* string option: offset of the value */
};

struct MetaPageData {
    uint32 magic;
    uint32 version;
    uint32 dims;
    uint8 metric;       /* Metric */
    uint8 quantization; /* Quantization */
    uint8 check;        /* MetaCheck() of every other field */
    uint8 unused;
    uint32 lists;
    uint32 code_size;
    uint32 capacity; /* entries per list page */
    uint32 aux_pages;
    uint32 aux_bytes;
    uint32 centroid_pages;
    uint32 centroids_per_page;
    uint64 rotation_seed;
    uint64 build_rows; /* rows the build indexed (for the planner's estimate) */
};

struct ListPageOpaque {
    BlockNumber next;        /* InvalidBlockNumber at the list's end */
    BlockNumber insert_page; /* a list's first page: where inserts start; else InvalidBlockNumber */
    uint32 list;             /* the list this page belongs to */
    uint16 count;            /* entries in use */
    uint16 page_id;          /* IVF_PAGE_ID */
};

inline ListPageOpaque *PageOpaque(Page page)
{
    return reinterpret_cast<ListPageOpaque *>(PageGetSpecialPointer(page));
}

/* Byte offsets inside a list page, from its metapage's code_size and
 * capacity. */
struct ListLayout {
    uint32 code_size;
    uint32 capacity;
    static Size codes_offset() { return MAXALIGN(SizeOfPageHeaderData); }
    /* Codes have any length; the tids after them need 2-byte alignment. */
    Size tids_offset() const { return SHORTALIGN(codes_offset() + Size(capacity) * code_size); }
    Size end() const { return tids_offset() + Size(capacity) * sizeof(ItemPointerData); }
};
/* The most entries of `code_size` bytes a list page holds. */
uint32 ListCapacity(uint32 code_size);

/* What every backend caches per index (rd_amcache): the metapage, the
 * codec's parameters and the centroids, all fixed by the build and checked
 * when read. */
struct IndexInfoCache {
    MetaPageData meta;
    ListLayout layout;
    float *aux;       /* aux_bytes / sizeof(float) floats, or null */
    float *centroids; /* lists x dims */
    BlockNumber list_start;  /* first page of list 0 */
    BlockNumber first_extra; /* the first block after the lists' first pages */
    mutable BlockNumber known_blocks; /* the relation had this many blocks */
};

/* --- ivf_page.cpp -------------------------------------------------------------- */

uint8 MetaCheck(const MetaPageData &meta);
const IndexInfoCache *GetIndexInfo(Relation index);
CodecParams CodecParamsOf(const IndexInfoCache *info);
/* Raises unless `block`, named by page `from` of list `list` as its next
 * page, can be a list page (past the first pages, below the size). */
void CheckNextBlock(Relation index, const IndexInfoCache *info, BlockNumber block, BlockNumber from);
/* Raises unless the list page `block` (locked by the caller) belongs to
 * `list` and its count fits; returns its opaque data. */
ListPageOpaque *CheckListPage(Relation index, const IndexInfoCache *info, Page page, BlockNumber block, uint32 list);
/* Initializes a list page of `list` (empty). */
void InitListPage(Page page, const ListLayout &layout, uint32 list);
/* Puts entry (code, tid) at slot `i` of a list page. */
void SetEntry(Page page, const ListLayout &layout, uint32 i, const uint8 *code, ItemPointer tid);
inline const uint8 *PageCodes(Page page) { return reinterpret_cast<const uint8 *>(page) + ListLayout::codes_offset(); }
inline ItemPointerData *PageTids(Page page, const ListLayout &layout)
{
    return reinterpret_cast<ItemPointerData *>(reinterpret_cast<char *>(page) + layout.tids_offset());
}
/* Writes the metapage, aux pages, centroid pages and one empty first page
 * per list into fork `fork` of an empty relation (no WAL: the build logs
 * every page afterwards). */
void WriteIndexSkeleton(Relation index, ForkNumber fork, const MetaPageData &meta, const float *aux,
                        const float *centroids);

/* --- the access method entry points ------------------------------------------- */

IndexBuildResult *Build(Relation heap, Relation index, IndexInfo *info);
void BuildEmpty(Relation index);
bool Insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
            IndexUniqueCheck check, bool indexUnchanged, IndexInfo *info);
/* Appends (code, tid) to list `list` (ivf_insert.cpp; also the build). */
void AppendToList(Relation index, const IndexInfoCache *info, uint32 list, const uint8 *code, ItemPointer tid);
IndexScanDesc BeginScan(Relation index, int nkeys, int norderbys, const ScanSettings *settings);
void Rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool GetTuple(IndexScanDesc scan, ScanDirection dir);
void EndScan(IndexScanDesc scan);
IndexBulkDeleteResult *BulkDelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
                                  IndexBulkDeleteCallback callback, void *callback_state);
IndexBulkDeleteResult *VacuumCleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

/* The metric from the opclass's distance function. */
Metric MetricOf(Relation index);
/* The reloptions: 'sq8' unless asked otherwise; lists 0 = from the rows. */
Quantization QuantizationOf(Relation index);
int OptionLists(Relation index);
/* The list count for `rows` rows when the lists option is 0. */
uint32 DefaultLists(double rows);

void DefineGucs();

/* True for an index of this access method, either spelling (ivf_handler.cpp). */
bool IsIvfIndex(Relation index);
/* vecdb_index_check() (ivf_check.cpp): raises ERRCODE_INDEX_CORRUPTED at
 * the first problem, else fills report.  The caller holds ShareLock. */
void CheckIndex(Relation index, CheckReport *report);

}  // namespace vecdb::pg::ivf
