/*
 * ivf_insert.cpp -- aminsert: a row's code goes to the last page of its
 * nearest centroid's list.
 *
 * Locking.  An insert holds its list's first page exclusively throughout
 * (so inserts into one list take turns, and inserts into different lists
 * run side by side), and then the page it writes: always in chain order,
 * first page before later ones.  VACUUM holds one page at a time and scans
 * one page at a time, so no lock cycle can form.  The first page names the
 * page inserts start from (insert_page): the last page after a build or an
 * extension, an earlier one with room after VACUUM; an insert walks forward
 * from there to the first page with room, and past the last page adds one.
 *
 * WAL: one GenericXLog record per insert, over the page written, its
 * predecessor when a page is added, and the first page when insert_page
 * moves.
 */
#include <cstring>

#include "../../core/graph/hnsw.h"
#include "../../core/ivf/kmeans.h"
#include "ivf.h"

extern "C" {
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

#include "../types/vector.h"

namespace vecdb::pg::ivf {

void AppendToList(Relation index, const IndexInfoCache *info, uint32 list, const uint8 *code, ItemPointer tid)
{
    const ListLayout &layout = info->layout;
    const BlockNumber first_block = info->list_start + list;
    Buffer first = ReadBuffer(index, first_block);
    LockBuffer(first, BUFFER_LOCK_EXCLUSIVE);
    const BlockNumber start = CheckListPage(index, info, BufferGetPage(first), first_block, list)->insert_page;

    /* The first page with room, from insert_page on. */
    Buffer buffer = first;
    BlockNumber block = first_block;
    if (start != first_block) {
        CheckNextBlock(index, info, start, first_block);
        block = start;
        buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        CheckListPage(index, info, BufferGetPage(buffer), block, list);
    }
    BlockNumber walked = 0;
    while (PageOpaque(BufferGetPage(buffer))->count >= info->meta.capacity) {
        const BlockNumber next = PageOpaque(BufferGetPage(buffer))->next;
        if (next == InvalidBlockNumber)
            break;
        CheckNextBlock(index, info, next, block);
        if (++walked > info->known_blocks)
            ReportCorruption(index, block, "List %u's pages form a cycle.", list);
        if (buffer != first)
            UnlockReleaseBuffer(buffer);
        block = next;
        buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        CheckListPage(index, info, BufferGetPage(buffer), block, list);
    }

    GenericXLogState *state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buffer, 0);
    Page first_page = buffer == first ? page : nullptr;
    Buffer added = InvalidBuffer;
    if (PageOpaque(page)->count >= info->meta.capacity) {
        /* Every page is full: a new last page. */
        LockRelationForExtension(index, ExclusiveLock);
        added = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
        UnlockRelationForExtension(index, ExclusiveLock);
        LockBuffer(added, BUFFER_LOCK_EXCLUSIVE);
        Page new_page = GenericXLogRegisterBuffer(state, added, GENERIC_XLOG_FULL_IMAGE);
        InitListPage(new_page, layout, list);
        PageOpaque(page)->next = BufferGetBlockNumber(added);
        page = new_page;
        block = BufferGetBlockNumber(added);
    }
    SetEntry(page, layout, PageOpaque(page)->count++, code, tid);
    if (start != block) {
        if (first_page == nullptr)
            first_page = GenericXLogRegisterBuffer(state, first, 0);
        PageOpaque(first_page)->insert_page = block;
    }
    GenericXLogFinish(state);

    if (BufferIsValid(added))
        UnlockReleaseBuffer(added);
    if (buffer != first)
        UnlockReleaseBuffer(buffer);
    UnlockReleaseBuffer(first);
}

bool Insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation, IndexUniqueCheck, bool,
            IndexInfo *)
{
    if (isnull[0])
        return false;
    MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "ivf insert", ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(context);
    const IndexInfoCache *info = GetIndexInfo(index);
    const MetaPageData &meta = info->meta;
    const Vector *v = IndexedVector(index, values[0]);
    if (uint32(v->dim) != meta.dims)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %u dimensions, not %d", meta.dims, v->dim)));
    const Metric metric = Metric(meta.metric);
    if (Orderable(metric, v->x, meta.dims)) {
        /* Stored as the build stores it (normalized under cosine). */
        float *x = static_cast<float *>(palloc(sizeof(float) * meta.dims));
        vecdb::hnsw::prepare_vector(metric, v->x, x, meta.dims);
        const uint32 list = vecdb::ivf::nearest_centroid(info->centroids, meta.lists, meta.dims, metric, x);
        Codec *codec = MakeCodec(CodecParamsOf(info));
        uint8 *code = static_cast<uint8 *>(palloc(meta.code_size));
        Encode(codec, x, code);
        AppendToList(index, info, list, code, heap_tid);
    }
    MemoryContextSwitchTo(old);
    MemoryContextDelete(context);
    return false;
}

}  // namespace vecdb::pg::ivf
