/*
 * hnsw_page.cpp -- the one file that knows the page format (hnsw.h):
 * metapage, codec parameter pages, element tuples, node ids.
 */
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstring>

#include "hnsw.h"

extern "C" {
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

#include "../types/vector.h"

namespace vecdb::pg::hnsw {

MetaPageData *PageGetMeta(Page page)
{
    return reinterpret_cast<MetaPageData *>(PageGetContents(page));
}

uint8 MetaCheck(const MetaPageData &meta)
{
    uint32 hash = 2166136261u; /* FNV-1a over each field's bytes (not the struct's padding) */
    auto mix = [&hash](uint64 value, int bytes) {
        for (int i = 0; i < bytes; i++) {
            hash ^= uint8(value >> (8 * i));
            hash *= 16777619u;
        }
    };
    mix(meta.magic, 4);
    mix(meta.version, 4);
    mix(meta.dims, 4);
    mix(meta.m, 2);
    mix(meta.ef_construction, 2);
    mix(meta.metric, 1);
    mix(meta.quantization, 1);
    mix(meta.max_level, 1);
    mix(meta.code_size, 4);
    mix(meta.aux_pages, 4);
    mix(meta.aux_bytes, 4);
    mix(meta.seed, 8);
    mix(meta.rotation_seed, 8);
    return uint8(1 + hash % 255);
}

void CheckElementBlockSlow(Relation index, const IndexInfoCache *info, BlockNumber block, BlockNumber from)
{
    if (block >= info->first_element_block && block <= kMaxSlotBlock) {
        info->known_blocks = RelationGetNumberOfBlocks(index);
        if (block < info->known_blocks)
            return;
    }
    ReportCorruption(index, from, "Block %u is named; elements are in blocks %u to %u.", block,
                     info->first_element_block, info->known_blocks - 1);
}

namespace {

/* The metapage's fields that never change after the build, against the
 * index's definition and each other.  The quantization is the one the
 * build stored (ALTER INDEX ... SET (quantization) takes effect at
 * REINDEX), so it is checked against the code size, not the reloption. */
void CheckMeta(Relation index, const MetaPageData *meta, Size contents_end, BlockNumber nblocks)
{
    const char *name = RelationGetRelationName(index);
    if (meta->magic != HNSW_MAGIC)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED), errmsg("index \"%s\" is not an hnsw index", name)));
    if (meta->version != HNSW_VERSION && meta->version != HNSW_VERSION_NO_MORE_TIDS)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" has page format version %u; this vecdb reads version %d", name,
                               meta->version, HNSW_VERSION),
                        errhint("REINDEX the index.")));
    const BlockNumber block = HNSW_METAPAGE_BLKNO;
    if (contents_end < MAXALIGN(SizeOfPageHeaderData) + sizeof(MetaPageData))
        ReportCorruption(index, block, "The metapage ends at byte %zu.", contents_end);

    const int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
    if (Quantization(meta->quantization) == Quantization::Sparse) {
        /* 'sparse' holds elements in slots (hnsw_sparse.cpp), of a sparsevec column */
        if (meta->dims < 3 || meta->dims % 2 == 0 || meta->dims > VECTOR_MAX_DIM || !IndexesSparseColumn(index))
            ReportCorruption(index, block, "The metapage says sparse elements of %u slots.", meta->dims);
    } else if (meta->dims < 1 || meta->dims > VECTOR_MAX_DIM || (typmod > 0 && meta->dims != uint32(typmod))) {
        ReportCorruption(index, block, "The metapage says %u dimensions; the column has %d.", meta->dims, typmod);
    }
    if (meta->m < HNSW_MIN_M || meta->m > HNSW_MAX_M)
        ReportCorruption(index, block, "The metapage says m = %u.", meta->m);
    if (meta->ef_construction < HNSW_MIN_EF_CONSTRUCTION || meta->ef_construction > HNSW_MAX_EF_CONSTRUCTION)
        ReportCorruption(index, block, "The metapage says ef_construction = %u.", meta->ef_construction);
    const Metric metric = MetricOf(index);
    if (meta->metric != uint8(metric))
        ReportCorruption(index, block, "The metapage says metric %u; the operator class's is %u.", meta->metric,
                         unsigned(metric));
    const auto q = Quantization(meta->quantization);
    if (!known_quantization(meta->quantization) || !vecdb::quantization_supports(q, metric))
        ReportCorruption(index, block, "The metapage says quantization %u.", meta->quantization);
    if (meta->code_size != quantized_code_size(q, meta->dims))
        ReportCorruption(index, block, "The metapage says %u-byte codes; %s codes of %u dimensions take %zu.",
                         meta->code_size, quantization_name(q), meta->dims, quantized_code_size(q, meta->dims));
    /* The build stores every code with this rotation (codes of another
     * seed would score as garbage). */
    if (meta->rotation_seed != kDefaultRotationSeed)
        ReportCorruption(index, block, "The metapage has an unknown rotation seed.");
    const int page_levels = MaxLevelForPage(ElementLayout{meta->m, meta->code_size});
    if (page_levels < 0 || meta->max_level > page_levels)
        ReportCorruption(index, block, "The metapage says levels up to %u; a page holds levels up to %d.",
                         meta->max_level, page_levels);
    const Size per_page = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
    const Size aux_bytes = AuxBytes(q, meta->dims);
    if (meta->aux_bytes != aux_bytes || meta->aux_pages != (aux_bytes + per_page - 1) / per_page)
        ReportCorruption(index, block,
                         "The metapage says %u pages of %u bytes of codec parameters; %s needs %zu bytes.",
                         meta->aux_pages, meta->aux_bytes, quantization_name(q), aux_bytes);
    if (nblocks < 1 + meta->aux_pages)
        ReportCorruption(index, block, "The index has %u blocks; its codec parameters take blocks 1 to %u.",
                         nblocks, meta->aux_pages);
    /* Last: the fields one by one give the better message. */
    if (meta->check != 0 && meta->check != MetaCheck(*meta))
        ReportCorruption(index, block, "The metapage's fixed fields do not match their check byte.");
}

/* SQ8's ranges: a finite minimum and a non-negative finite step per
 * dimension (anything else would score codes as garbage). */
void CheckAux(Relation index, const MetaPageData &meta, const float *aux)
{
    if (Quantization(meta.quantization) != Quantization::SQ8)
        return;
    const Size per_page = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
    for (uint32 i = 0; i < 2 * meta.dims; i++)
        if (!std::isfinite(aux[i]) || (i >= meta.dims && aux[i] < 0.0f))
            ReportCorruption(index, BlockNumber(1 + i * sizeof(float) / per_page),
                             "The sq8 range of dimension %u is invalid.", i % meta.dims);
}

/* Sets pd_lower just past `end`, so full-page images skip the hole. */
void SetLower(Page page, const char *end)
{
    reinterpret_cast<PageHeader>(page)->pd_lower = uint16(end - reinterpret_cast<char *>(page));
}

}  // namespace

Codec *MakeCodec(const IndexInfoCache *info)
{
    const CodecParams params = {Quantization(info->meta.quantization), Metric(info->meta.metric), info->meta.dims,
                                info->meta.rotation_seed, info->aux};
    return vecdb::pg::MakeCodec(params);
}

const IndexInfoCache *GetIndexInfo(Relation index)
{
    if (index->rd_amcache != nullptr)
        return static_cast<IndexInfoCache *>(index->rd_amcache);

    /* Read everything first, then copy into the relcache's context at once,
     * so an ERROR on the way leaves no half-filled cache. */
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    Buffer buffer = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    MetaPageData meta = *PageGetMeta(BufferGetPage(buffer));
    const Size meta_end = reinterpret_cast<PageHeader>(BufferGetPage(buffer))->pd_lower;
    UnlockReleaseBuffer(buffer);
    CheckMeta(index, &meta, meta_end, nblocks);

    char *aux = nullptr;
    if (meta.aux_bytes > 0) {
        aux = static_cast<char *>(palloc(meta.aux_bytes));
        const Size per_page = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
        Size done = 0;
        for (uint32 i = 0; i < meta.aux_pages; i++) {
            buffer = ReadBuffer(index, 1 + i);
            LockBuffer(buffer, BUFFER_LOCK_SHARE);
            Page page = BufferGetPage(buffer);
            const Size n = Min(per_page, meta.aux_bytes - done);
            const Size end = reinterpret_cast<PageHeader>(page)->pd_lower;
            if (end < MAXALIGN(SizeOfPageHeaderData) + n) {
                UnlockReleaseBuffer(buffer);
                ReportCorruption(index, 1 + i, "The codec parameter page ends at byte %zu, not %zu.", end,
                                 MAXALIGN(SizeOfPageHeaderData) + n);
            }
            memcpy(aux + done, PageGetContents(page), n);
            UnlockReleaseBuffer(buffer);
            done += n;
        }
        CheckAux(index, meta, reinterpret_cast<const float *>(aux));
    }

    auto *info = static_cast<IndexInfoCache *>(
        MemoryContextAllocZero(index->rd_indexcxt, MAXALIGN(sizeof(IndexInfoCache)) + meta.aux_bytes));
    info->meta = meta;
    info->layout.m = meta.m;
    info->layout.code_size = meta.code_size;
    info->first_element_block = 1 + meta.aux_pages;
    info->known_blocks = nblocks;
    if (aux != nullptr) {
        info->aux = reinterpret_cast<float *>(reinterpret_cast<char *>(info) + MAXALIGN(sizeof(IndexInfoCache)));
        memcpy(info->aux, aux, meta.aux_bytes);
        pfree(aux);
    }
    index->rd_amcache = info;
    return info;
}

namespace {

struct EntryPoint {
    BlockNumber block;
    OffsetNumber offset;
    int level;
    BlockNumber insert_page;
};

EntryPoint ReadMetaEntry(Relation index)
{
    Buffer buffer = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    const MetaPageData *meta = PageGetMeta(BufferGetPage(buffer));
    const EntryPoint entry{meta->entry_block, meta->entry_offset, meta->entry_level, meta->insert_page};
    UnlockReleaseBuffer(buffer);
    return entry;
}

}  // namespace

/*
 * The entry point's fields are checked against the metapage and the
 * relation, and its element must be there with the level the metapage
 * gives: the element the entry names keeps its level until VACUUM frees it,
 * which it does only after moving the entry point.  A scan holds no lock
 * between the two reads, so a mismatch counts only if a second read of
 * the metapage still names the same entry.
 */
void ReadEntryPoint(Relation index, NodeId *entry, int *entry_level, BlockNumber *insert_page)
{
    const IndexInfoCache *info = GetIndexInfo(index);
    const EntryPoint read = ReadMetaEntry(index);
    if (insert_page != nullptr)
        *insert_page = read.insert_page;
    if (!BlockNumberIsValid(read.block)) {
        if (read.offset != InvalidOffsetNumber || read.level != -1)
            ReportCorruption(index, HNSW_METAPAGE_BLKNO, "The empty graph's entry point has offset %u, level %d.",
                             read.offset, read.level);
        *entry = kNoNode;
        *entry_level = -1;
        return;
    }
    if (read.offset < FirstOffsetNumber || read.offset > 0xFF || read.level < 0 ||
        read.level > info->meta.max_level)
        ReportCorruption(index, HNSW_METAPAGE_BLKNO, "The entry point is offset %u of block %u at level %d.",
                         read.offset, read.block, read.level);
    CheckElementBlock(index, info, read.block, HNSW_METAPAGE_BLKNO);

    Buffer buffer = ReadBuffer(index, read.block);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    const char *e = LiveElement(index, info, BufferGetPage(buffer), read.block, read.offset);
    const int found = e != nullptr ? reinterpret_cast<const ElementHeader *>(e)->level : -1;
    UnlockReleaseBuffer(buffer);
    if (found != read.level) {
        const EntryPoint again = ReadMetaEntry(index);
        if (again.block == read.block && again.offset == read.offset && again.level == read.level)
            ReportCorruption(index, read.block,
                             "The entry point (offset %u, level %d) holds %s.", read.offset, read.level,
                             found < 0 ? "a freed element" : "an element of another level");
        ReadEntryPoint(index, entry, entry_level, insert_page); /* it moved meanwhile */
        return;
    }
    *entry = MakeNodeId(read.block, read.offset);
    *entry_level = read.level;
}

void WriteMetaPages(Relation index, ForkNumber fork, const MetaPageData &meta, const void *aux, bool wal)
{
    const Size per_page = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
    for (uint32 block = 0; block <= meta.aux_pages; block++) {
        Buffer buffer = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
        if (BufferGetBlockNumber(buffer) != block)
            elog(ERROR, "hnsw: index \"%s\" is not empty", RelationGetRelationName(index));
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        GenericXLogState *state = nullptr;
        Page page = BufferGetPage(buffer);
        if (wal) {
            state = GenericXLogStart(index);
            page = GenericXLogRegisterBuffer(state, buffer, GENERIC_XLOG_FULL_IMAGE);
        }
        PageInit(page, BLCKSZ, 0);
        char *contents = PageGetContents(page);
        if (block == 0) {
            memcpy(contents, &meta, sizeof(meta));
            PageGetMeta(page)->check = MetaCheck(meta);
            SetLower(page, contents + sizeof(meta));
        } else {
            Size offset = (block - 1) * per_page;
            Size n = Min(per_page, meta.aux_bytes - offset);
            memcpy(contents, static_cast<const char *>(aux) + offset, n);
            SetLower(page, contents + n);
        }
        if (wal)
            GenericXLogFinish(state);
        else
            MarkBufferDirty(buffer);
        UnlockReleaseBuffer(buffer);
    }
}

void OverwriteMetaPage(Relation index, const MetaPageData &meta)
{
    Buffer buffer = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    memcpy(PageGetMeta(BufferGetPage(buffer)), &meta, sizeof(meta));
    PageGetMeta(BufferGetPage(buffer))->check = MetaCheck(meta);
    MarkBufferDirty(buffer);
    UnlockReleaseBuffer(buffer);
}

void FormElement(const ElementLayout &layout, int level, ItemPointer heap_tid, const FilterValue &filter,
                 const uint8 *code, char *out)
{
    memset(out, 0, layout.tuple_size(level));
    auto *header = reinterpret_cast<ElementHeader *>(out);
    header->kind = HNSW_ELEMENT_KIND;
    header->level = uint8(level);
    ItemPointerCopy(heap_tid, &header->heap_tid);
    header->filter_key = filter.key;
    if (filter.isnull)
        header->flags |= HNSW_ELEMENT_FILTER_NULL;
    memcpy(out + ElementLayout::code_offset(), code, layout.code_size);
}

/* Slots keep 8 bits of offset: every element tuple takes at least 40 bytes
 * plus its line pointer, so at most 185 fit a page. */
static_assert((BLCKSZ - SizeOfPageHeaderData) / (40 + sizeof(ItemIdData)) < 256, "slot offsets fit 8 bits");

int MaxLevelForPage(const ElementLayout &layout)
{
    const Size room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - sizeof(ItemIdData);
    int level = -1;
    while (level < 31 && layout.tuple_size(level + 1) <= room)
        level++;
    return level;
}

void IdsToSlots(const NodeId *ids, uint32 n, Slot *out)
{
    for (uint32 i = 0; i < n; i++)
        out[i] = (Slot(NodeBlock(ids[i])) << 8) | Slot(NodeOffset(ids[i]));
}

uint32 ReadNeighbors(Relation index, const IndexInfoCache *info, NodeId id, int lc, NodeId *out)
{
    Buffer buffer = ReadBuffer(index, NodeBlock(id));
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    uint32 n = PageNeighbors(index, info, BufferGetPage(buffer), id, lc, out);
    UnlockReleaseBuffer(buffer);
    return n;
}

namespace {

constexpr uint8 kElementFlags = HNSW_ELEMENT_DELETED | HNSW_ELEMENT_FREE | HNSW_ELEMENT_FILTER_NULL;

[[noreturn]] pg_noinline void BadElement(Relation index, Page page, BlockNumber block, OffsetNumber offset)
{
    if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page))
        ReportCorruption(index, block, "Offset %u is named; the page has %u items.", offset,
                         unsigned(PageGetMaxOffsetNumber(page)));
    const ItemId item = PageGetItemId(page, offset);
    ReportCorruption(index, block, "Item %u (flags %u, at byte %u, %u bytes) is not an element of this index.",
                     offset, ItemIdGetFlags(item), ItemIdGetOffset(item), ItemIdGetLength(item));
}

}  // namespace

char *PageElement(Relation index, const IndexInfoCache *info, Page page, BlockNumber block, OffsetNumber offset)
{
    const auto *header = reinterpret_cast<const PageHeaderData *>(page);
    if (unlikely(offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page)))
        BadElement(index, page, block, offset);
    const ItemId item = PageGetItemId(page, offset);
    const uint32 start = ItemIdGetOffset(item);
    const uint32 length = ItemIdGetLength(item);
    if (unlikely(!ItemIdIsNormal(item) || start < header->pd_upper || start + length > header->pd_special ||
                 start != MAXALIGN(start) || length < sizeof(ElementHeader)))
        BadElement(index, page, block, offset);
    char *tuple = page + start;
    const auto *element = reinterpret_cast<const ElementHeader *>(tuple);
    if (unlikely(element->kind != HNSW_ELEMENT_KIND || (element->flags & ~kElementFlags) != 0 ||
                 element->level > info->meta.max_level || element->more_tids > kMaxMoreTids ||
                 length != ElementLayout::element_size(info->layout.tuple_size(element->level), element->more_tids)))
        BadElement(index, page, block, offset);
    return tuple;
}

char *ElementWithRows(const ElementLayout &layout, const char *tuple, const ItemPointerData *rows, uint32 n,
                      Size *size)
{
    const Size base = layout.tuple_size(reinterpret_cast<const ElementHeader *>(tuple)->level);
    *size = ElementLayout::element_size(base, n - 1);
    char *copy = static_cast<char *>(palloc(*size));
    memcpy(copy, tuple, base);
    auto *header = reinterpret_cast<ElementHeader *>(copy);
    header->heap_tid = rows[0];
    header->more_tids = uint16(n - 1);
    memcpy(copy + base, rows + 1, sizeof(ItemPointerData) * (n - 1));
    return copy;
}

bool AddHeapTid(Relation index, const IndexInfoCache *info, Buffer buffer, OffsetNumber offset, const uint8 *code,
                const FilterValue &filter, ItemPointer tid)
{
    if (info->meta.version == HNSW_VERSION_NO_MORE_TIDS)
        return false;
    Page page = BufferGetPage(buffer);
    const char *e = LiveElement(index, info, page, BufferGetBlockNumber(buffer), offset);
    if (e == nullptr)
        return false;
    const ElementView view{e, &info->layout};
    const ElementHeader *header = view.header();
    const Size length = ItemIdGetLength(PageGetItemId(page, offset));
    if (view.is_deleted() || header->more_tids >= kMaxMoreTids || header->filter_key != filter.key ||
        ((header->flags & HNSW_ELEMENT_FILTER_NULL) != 0) != filter.isnull ||
        memcmp(view.code(), code, info->layout.code_size) != 0 ||
        MAXALIGN(length + sizeof(ItemPointerData)) - MAXALIGN(length) > PageGetExactFreeSpace(page))
        return false;
    char *grown = static_cast<char *>(palloc(length + sizeof(ItemPointerData)));
    memcpy(grown, e, length);
    memcpy(grown + length, tid, sizeof(ItemPointerData));
    reinterpret_cast<ElementHeader *>(grown)->more_tids++;
    GenericXLogState *state = GenericXLogStart(index);
    if (!PageIndexTupleOverwrite(GenericXLogRegisterBuffer(state, buffer, 0), offset, Item(grown),
                                 length + sizeof(ItemPointerData))) {
        GenericXLogAbort(state);
        pfree(grown);
        return false;
    }
    GenericXLogFinish(state);
    pfree(grown);
    return true;
}

char *LiveElement(Relation index, const IndexInfoCache *info, Page page, BlockNumber block, OffsetNumber offset)
{
    char *e = PageElement(index, info, page, block, offset);
    return !(reinterpret_cast<ElementHeader *>(e)->flags & HNSW_ELEMENT_FREE) ? e : nullptr;
}

uint32 ElementNeighbors(Relation index, const IndexInfoCache *info, BlockNumber block, const ElementView &e, int lc,
                        NodeId *out)
{
    const uint32 n = e.count(lc);
    if (unlikely(n > info->layout.max_links(lc)))
        ReportCorruption(index, block, "An element has %u neighbours on layer %d, at most %u.", n, lc,
                         info->layout.max_links(lc));
    const Slot *slots = e.slots(lc);
    for (uint32 i = 0; i < n; i++) {
        const BlockNumber to = BlockNumber(slots[i] >> 8);
        const OffsetNumber at = OffsetNumber(slots[i] & 0xFF);
        CheckElementBlock(index, info, to, block);
        if (unlikely(at == InvalidOffsetNumber))
            ReportCorruption(index, block, "A neighbour slot names offset 0 of block %u.", to);
        out[i] = MakeNodeId(to, at);
    }
    return n;
}

uint32 PageNeighbors(Relation index, const IndexInfoCache *info, Page page, NodeId id, int lc, NodeId *out)
{
    const char *tuple = LiveElement(index, info, page, NodeBlock(id), NodeOffset(id));
    if (tuple == nullptr)
        return 0;
    ElementView e{tuple, &info->layout};
    if (lc > e.level())
        return 0;
    return ElementNeighbors(index, info, NodeBlock(id), e, lc, out);
}

}  // namespace vecdb::pg::hnsw
