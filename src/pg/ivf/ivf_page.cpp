/*
 * ivf_page.cpp -- the ivf page format (ivf.h): the metapage and the pages
 * the build fixes, read once per backend into rd_amcache and checked, and
 * the list pages every operation reads and writes.
 *
 * Pages are untrusted input: every field read from one is checked before
 * it is used, and a bad one raises ERRCODE_INDEX_CORRUPTED naming the index
 * and the block (never a crash, a loop or silently wrong rows).
 */
#include <cmath>
#include <cstring>

#include "ivf.h"

extern "C" {
#include "utils/memutils.h"
}

namespace vecdb::pg::ivf {

namespace {

Size ContentsBytes() { return BLCKSZ - MAXALIGN(SizeOfPageHeaderData); }

uint32 CentroidsPerPage(uint32 dims) { return uint32(ContentsBytes() / (sizeof(float) * Size(dims))); }

/* The metapage's fields against the index's definition and each other. */
void CheckMeta(Relation index, const MetaPageData *meta, BlockNumber nblocks)
{
    auto bad = [&](const char *detail, uint64 value) {
        ReportCorruption(index, IVF_METAPAGE_BLKNO, detail, (unsigned long long) value);
    };
    if (meta->magic != IVF_MAGIC)
        bad("The metapage's magic number is %llx.", meta->magic);
    if (meta->version != IVF_VERSION)
        bad("The index has page format version %llu; this vecdb reads version " CppAsString2(IVF_VERSION)
            ": REINDEX it.", meta->version);
    if (meta->check != MetaCheck(*meta))
        bad("The metapage's check byte is %llu, not the one of its fields.", meta->check);
    const int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
    if (meta->dims < 1 || meta->dims > IVF_MAX_DIM || (typmod > 0 && meta->dims != uint32(typmod)))
        bad("The metapage says %llu dimensions.", meta->dims);
    if (meta->metric != uint8(MetricOf(index)))
        bad("The metapage's metric %llu is not the operator class's.", meta->metric);
    const Quantization q = Quantization(meta->quantization);
    if (!known_quantization(meta->quantization) || !vecdb::quantization_supports(q, Metric(meta->metric)))
        bad("The metapage names quantization %llu.", meta->quantization);
    if (meta->code_size != quantized_code_size(q, meta->dims))
        bad("The metapage's code size is %llu.", meta->code_size);
    if (meta->capacity < 1 || meta->capacity != ListCapacity(meta->code_size))
        bad("The metapage's list page capacity is %llu.", meta->capacity);
    if (meta->aux_bytes != AuxBytes(q, meta->dims) ||
        meta->aux_pages != (meta->aux_bytes + ContentsBytes() - 1) / ContentsBytes())
        bad("The metapage's codec parameters take %llu bytes.", meta->aux_bytes);
    if (meta->lists < 1 || meta->lists > IVF_MAX_LISTS)
        bad("The metapage says %llu lists.", meta->lists);
    if (meta->centroids_per_page != CentroidsPerPage(meta->dims) ||
        meta->centroid_pages != (meta->lists + meta->centroids_per_page - 1) / meta->centroids_per_page)
        bad("The metapage's centroids take %llu pages.", meta->centroid_pages);
    if (1 + uint64(meta->aux_pages) + meta->centroid_pages + meta->lists > nblocks)
        bad("The index has %llu blocks, fewer than its metapage describes.", nblocks);
}

/* Copies `bytes` from the contents of blocks first, first + 1, ... */
void ReadContents(Relation index, BlockNumber first, Size bytes, char *out)
{
    const Size per_page = ContentsBytes();
    for (BlockNumber block = first; bytes > 0; block++) {
        const Size n = Min(bytes, per_page);
        Buffer buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        if (PageGetContents(page) + n > reinterpret_cast<char *>(page) + reinterpret_cast<PageHeader>(page)->pd_lower)
            ReportCorruption(index, block, "The page ends before its %zu bytes of parameters.", n);
        memcpy(out, PageGetContents(page), n);
        UnlockReleaseBuffer(buffer);
        out += n;
        bytes -= n;
    }
}

/* Writes `bytes` as the contents of new pages of `fork`. */
void WriteContents(Relation index, ForkNumber fork, const char *data, Size bytes, uint32 pages, Size stride)
{
    const Size per_page = stride == 0 ? ContentsBytes() : stride;
    for (uint32 i = 0; i < pages; i++) {
        const Size offset = Size(i) * per_page;
        const Size n = Min(per_page, bytes - offset);
        Buffer buffer = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        PageInit(page, BLCKSZ, 0);
        memcpy(PageGetContents(page), data + offset, n);
        reinterpret_cast<PageHeader>(page)->pd_lower = uint16(PageGetContents(page) + n - reinterpret_cast<char *>(page));
        MarkBufferDirty(buffer);
        UnlockReleaseBuffer(buffer);
    }
}

}  // namespace

uint32 ListCapacity(uint32 code_size)
{
    /* Less one byte: the padding that may align the tids after odd-length codes. */
    const Size room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(ListPageOpaque)) - 1;
    return uint32(Min(room / (Size(code_size) + sizeof(ItemPointerData)), Size(PG_UINT16_MAX)));
}

uint8 MetaCheck(const MetaPageData &meta)
{
    MetaPageData copy = meta;
    copy.check = 0;
    copy.build_rows = 0; /* a planner hint, not a format field */
    const auto *bytes = reinterpret_cast<const uint8 *>(&copy);
    uint32 h = 2166136261u; /* FNV-1a */
    for (Size i = 0; i < sizeof(copy); i++)
        h = (h ^ bytes[i]) * 16777619u;
    return uint8(1 + (h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24)) % 255);
}

const IndexInfoCache *GetIndexInfo(Relation index)
{
    if (index->rd_amcache != nullptr)
        return static_cast<IndexInfoCache *>(index->rd_amcache);

    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    if (nblocks == 0)
        ReportCorruption(index, IVF_METAPAGE_BLKNO, "The index has no metapage.");
    MetaPageData meta;
    Buffer buffer = ReadBuffer(index, IVF_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buffer);
    const bool complete =
        reinterpret_cast<PageHeader>(page)->pd_lower >= PageGetContents(page) + sizeof(meta) - reinterpret_cast<char *>(page);
    memcpy(&meta, PageGetContents(page), sizeof(meta));
    UnlockReleaseBuffer(buffer);
    if (!complete)
        ReportCorruption(index, IVF_METAPAGE_BLKNO, "The metapage is shorter than its fields.");
    CheckMeta(index, &meta, nblocks);

    MemoryContext context = index->rd_indexcxt;
    auto *info = static_cast<IndexInfoCache *>(MemoryContextAllocZero(context, sizeof(IndexInfoCache)));
    info->meta = meta;
    info->layout = ListLayout{meta.code_size, meta.capacity};
    if (meta.aux_bytes > 0) {
        info->aux = static_cast<float *>(MemoryContextAlloc(context, meta.aux_bytes));
        ReadContents(index, 1, meta.aux_bytes, reinterpret_cast<char *>(info->aux));
    }
    const Size centroid_bytes = sizeof(float) * Size(meta.dims);
    info->centroids =
        static_cast<float *>(MemoryContextAllocHuge(context, centroid_bytes * Size(meta.lists)));
    const BlockNumber centroid_start = 1 + meta.aux_pages;
    for (uint32 j = 0; j < meta.lists; j += meta.centroids_per_page) {
        const uint32 n = Min(meta.centroids_per_page, meta.lists - j);
        ReadContents(index, centroid_start + j / meta.centroids_per_page, n * centroid_bytes,
                     reinterpret_cast<char *>(info->centroids + Size(j) * meta.dims));
    }
    for (Size i = 0; i < Size(meta.lists) * meta.dims; i++)
        if (!std::isfinite(info->centroids[i]))
            ReportCorruption(index, BlockNumber(centroid_start + i / meta.dims / meta.centroids_per_page),
                             "Centroid %zu is not finite.", i / meta.dims);
    info->list_start = centroid_start + meta.centroid_pages;
    info->first_extra = info->list_start + meta.lists;
    info->known_blocks = nblocks;
    index->rd_amcache = info;
    return info;
}

CodecParams CodecParamsOf(const IndexInfoCache *info)
{
    return CodecParams{Quantization(info->meta.quantization), Metric(info->meta.metric), info->meta.dims,
                       info->meta.rotation_seed, info->aux};
}

void CheckNextBlock(Relation index, const IndexInfoCache *info, BlockNumber block, BlockNumber from)
{
    if (block >= info->first_extra && block < info->known_blocks)
        return;
    if (block >= info->first_extra && block != InvalidBlockNumber) {
        info->known_blocks = RelationGetNumberOfBlocks(index);
        if (block < info->known_blocks)
            return;
    }
    ReportCorruption(index, from, "The next list page is block %u; list pages are blocks %u to %u.", block,
                     info->first_extra, info->known_blocks - 1);
}

ListPageOpaque *CheckListPage(Relation index, const IndexInfoCache *info, Page page, BlockNumber block, uint32 list)
{
    const auto *header = reinterpret_cast<PageHeader>(page);
    if (PageIsNew(page) || header->pd_special != BLCKSZ - MAXALIGN(sizeof(ListPageOpaque)) ||
        header->pd_lower != info->layout.end())
        ReportCorruption(index, block, "The page is not a list page of this index.");
    ListPageOpaque *opaque = PageOpaque(page);
    if (opaque->page_id != IVF_PAGE_ID || opaque->list != list)
        ReportCorruption(index, block, "The page belongs to list %u, not list %u.", opaque->list, list);
    if (opaque->count > info->meta.capacity)
        ReportCorruption(index, block, "The page holds %u entries; it has room for %u.", opaque->count,
                         info->meta.capacity);
    return opaque;
}

void InitListPage(Page page, const ListLayout &layout, uint32 list)
{
    PageInit(page, BLCKSZ, sizeof(ListPageOpaque));
    reinterpret_cast<PageHeader>(page)->pd_lower = uint16(layout.end());
    ListPageOpaque *opaque = PageOpaque(page);
    opaque->next = InvalidBlockNumber;
    opaque->insert_page = InvalidBlockNumber;
    opaque->list = list;
    opaque->count = 0;
    opaque->page_id = IVF_PAGE_ID;
}

void SetEntry(Page page, const ListLayout &layout, uint32 i, const uint8 *code, ItemPointer tid)
{
    memcpy(reinterpret_cast<char *>(page) + ListLayout::codes_offset() + Size(i) * layout.code_size, code,
           layout.code_size);
    PageTids(page, layout)[i] = *tid;
}

void WriteIndexSkeleton(Relation index, ForkNumber fork, const MetaPageData &meta, const float *aux,
                        const float *centroids)
{
    if (RelationGetNumberOfBlocksInFork(index, fork) != 0)
        elog(ERROR, "ivf: index \"%s\" is not empty", RelationGetRelationName(index));
    MetaPageData stamped = meta;
    stamped.check = MetaCheck(meta);
    WriteContents(index, fork, reinterpret_cast<const char *>(&stamped), sizeof(stamped), 1, 0);
    WriteContents(index, fork, reinterpret_cast<const char *>(aux), meta.aux_bytes, meta.aux_pages, 0);
    const Size centroid_bytes = sizeof(float) * Size(meta.dims);
    WriteContents(index, fork, reinterpret_cast<const char *>(centroids), centroid_bytes * meta.lists,
                  meta.centroid_pages, centroid_bytes * meta.centroids_per_page);
    const ListLayout layout{meta.code_size, meta.capacity};
    const BlockNumber list_start = 1 + meta.aux_pages + meta.centroid_pages;
    for (uint32 j = 0; j < meta.lists; j++) {
        Buffer buffer = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
        if (BufferGetBlockNumber(buffer) != list_start + j)
            elog(ERROR, "ivf: list %u's first page is block %u, not %u", j, BufferGetBlockNumber(buffer),
                 list_start + j);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        InitListPage(page, layout, j);
        PageOpaque(page)->insert_page = list_start + j;
        MarkBufferDirty(buffer);
        UnlockReleaseBuffer(buffer);
    }
}

}  // namespace vecdb::pg::ivf
