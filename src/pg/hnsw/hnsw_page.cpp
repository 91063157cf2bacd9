/*
 * hnsw_page.cpp -- the one file that knows the page format (hnsw.h):
 * metapage, codec parameter pages, element tuples, node ids.
 */
#include <algorithm>
#include <cstring>

#include "hnsw.h"

extern "C" {
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

namespace vecdb::pg::hnsw {

MetaPageData *PageGetMeta(Page page)
{
    return reinterpret_cast<MetaPageData *>(PageGetContents(page));
}

namespace {

void CheckMeta(Relation index, const MetaPageData *meta)
{
    if (meta->magic != HNSW_MAGIC)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not an hnsw index", RelationGetRelationName(index))));
    if (meta->version != HNSW_VERSION)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" has page format version %u; this vecdb reads version %d",
                               RelationGetRelationName(index), meta->version, HNSW_VERSION),
                        errhint("REINDEX the index.")));
}

/* Sets pd_lower just past `end`, so full-page images skip the hole. */
void SetLower(Page page, const char *end)
{
    reinterpret_cast<PageHeader>(page)->pd_lower = uint16(end - reinterpret_cast<char *>(page));
}

}  // namespace

const IndexInfoCache *GetIndexInfo(Relation index)
{
    if (index->rd_amcache != nullptr)
        return static_cast<IndexInfoCache *>(index->rd_amcache);

    /* Read everything first, then copy into the relcache's context at once,
     * so an ERROR on the way leaves no half-filled cache. */
    Buffer buffer = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    MetaPageData meta = *PageGetMeta(BufferGetPage(buffer));
    UnlockReleaseBuffer(buffer);
    CheckMeta(index, &meta);

    char *aux = nullptr;
    if (meta.aux_bytes > 0) {
        aux = static_cast<char *>(palloc(meta.aux_bytes));
        const Size per_page = BLCKSZ - MAXALIGN(SizeOfPageHeaderData);
        Size done = 0;
        for (uint32 i = 0; i < meta.aux_pages; i++) {
            buffer = ReadBuffer(index, 1 + i);
            LockBuffer(buffer, BUFFER_LOCK_SHARE);
            Size n = Min(per_page, meta.aux_bytes - done);
            memcpy(aux + done, PageGetContents(BufferGetPage(buffer)), n);
            UnlockReleaseBuffer(buffer);
            done += n;
        }
    }

    auto *info = static_cast<IndexInfoCache *>(
        MemoryContextAllocZero(index->rd_indexcxt, MAXALIGN(sizeof(IndexInfoCache)) + meta.aux_bytes));
    info->meta = meta;
    info->layout.m = meta.m;
    info->layout.code_size = meta.code_size;
    if (aux != nullptr) {
        info->aux = reinterpret_cast<float *>(reinterpret_cast<char *>(info) + MAXALIGN(sizeof(IndexInfoCache)));
        memcpy(info->aux, aux, meta.aux_bytes);
        pfree(aux);
    }
    index->rd_amcache = info;
    return info;
}

void ReadEntryPoint(Relation index, NodeId *entry, int *entry_level, BlockNumber *insert_page)
{
    Buffer buffer = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    const MetaPageData *meta = PageGetMeta(BufferGetPage(buffer));
    *entry = BlockNumberIsValid(meta->entry_block) ? MakeNodeId(meta->entry_block, meta->entry_offset) : kNoNode;
    *entry_level = meta->entry_level;
    if (insert_page != nullptr)
        *insert_page = meta->insert_page;
    UnlockReleaseBuffer(buffer);
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
    MarkBufferDirty(buffer);
    UnlockReleaseBuffer(buffer);
}

void FormElement(const ElementLayout &layout, int level, ItemPointer heap_tid, const uint8 *code, char *out)
{
    memset(out, 0, layout.tuple_size(level));
    auto *header = reinterpret_cast<ElementHeader *>(out);
    header->kind = HNSW_ELEMENT_KIND;
    header->level = uint8(level);
    ItemPointerCopy(heap_tid, &header->heap_tid);
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

void SlotsToIds(const Slot *slots, uint32 n, NodeId *out)
{
    for (uint32 i = 0; i < n; i++)
        out[i] = MakeNodeId(BlockNumber(slots[i] >> 8), OffsetNumber(slots[i] & 0xFF));
}

void IdsToSlots(const NodeId *ids, uint32 n, Slot *out)
{
    for (uint32 i = 0; i < n; i++)
        out[i] = (Slot(NodeBlock(ids[i])) << 8) | Slot(NodeOffset(ids[i]));
}

uint32 ReadNeighbors(Relation index, const ElementLayout &layout, NodeId id, int lc, NodeId *out)
{
    Buffer buffer = ReadBuffer(index, NodeBlock(id));
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    uint32 n = PageNeighbors(BufferGetPage(buffer), layout, id, lc, out);
    UnlockReleaseBuffer(buffer);
    return n;
}

char *PageElement(Page page, OffsetNumber offset)
{
    if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page))
        return nullptr;
    ItemId item = PageGetItemId(page, offset);
    if (!ItemIdIsNormal(item))
        return nullptr;
    char *tuple = static_cast<char *>(PageGetItem(page, item));
    return reinterpret_cast<ElementHeader *>(tuple)->kind == HNSW_ELEMENT_KIND ? tuple : nullptr;
}

char *LiveElement(Page page, OffsetNumber offset)
{
    char *e = PageElement(page, offset);
    return e != nullptr && !(reinterpret_cast<ElementHeader *>(e)->flags & HNSW_ELEMENT_FREE) ? e : nullptr;
}

uint32 PageNeighbors(Page page, const ElementLayout &layout, NodeId id, int lc, NodeId *out)
{
    const char *tuple = LiveElement(page, NodeOffset(id));
    if (tuple == nullptr)
        return 0;
    ElementView e{tuple, &layout};
    if (lc > e.level())
        return 0;
    const uint32 n = std::min<uint32>(e.count(lc), layout.max_links(lc));
    SlotsToIds(e.slots(lc), n, out);
    return n;
}

}  // namespace vecdb::pg::hnsw
