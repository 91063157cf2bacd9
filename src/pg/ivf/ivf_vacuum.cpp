/*
 * ivf_vacuum.cpp -- ambulkdelete / amvacuumcleanup: dead rows' entries
 * leave their list pages, and inserts are sent back to the room made.
 *
 * Each list page is rewritten under its own exclusive lock (one page at a
 * time, one GenericXLog record each): the entries of dead rows are replaced
 * by the page's last entries, so the live ones stay dense in [0, count).
 * Entries only ever move within a page, and a scan reads a whole page under
 * one share lock, so a scan running beside VACUUM sees each live entry
 * exactly once.  Pages are never unlinked: a list keeps its pages, and its
 * first page's insert_page is moved back to the first page with room, so
 * the list's next inserts fill them before the index grows.
 */
#include <algorithm>
#include <cstring>

#include "ivf.h"

extern "C" {
#include "commands/vacuum.h"
}

namespace vecdb::pg::ivf {

namespace {

/* Removes the entries of dead rows from one list; returns the first page
 * with room (InvalidBlockNumber: none) and the list's pages in chain order. */
BlockNumber VacuumList(IndexVacuumInfo *vinfo, const IndexInfoCache *info, uint32 list,
                       IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback, void *callback_state,
                       BlockNumber **chain, uint32 *chain_length)
{
    Relation index = vinfo->index;
    const ListLayout &layout = info->layout;
    bool *dead = static_cast<bool *>(palloc(info->meta.capacity));
    BlockNumber first_room = InvalidBlockNumber;
    uint32 length = 0, room = 16;
    BlockNumber *blocks = static_cast<BlockNumber *>(palloc(sizeof(BlockNumber) * room));
    for (BlockNumber block = info->list_start + list; block != InvalidBlockNumber;) {
        vacuum_delay_point();
        if (length == room) {
            room *= 2;
            blocks = static_cast<BlockNumber *>(repalloc(blocks, sizeof(BlockNumber) * room));
        }
        blocks[length++] = block;
        if (length > info->known_blocks + 1)
            ReportCorruption(index, block, "List %u's pages form a cycle.", list);
        Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, vinfo->strategy);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        const ListPageOpaque *opaque = CheckListPage(index, info, page, block, list);
        uint32 count = opaque->count, removed = 0;
        const ItemPointerData *tids = PageTids(page, layout);
        for (uint32 i = 0; i < count; i++) {
            ItemPointerData tid = tids[i];
            dead[i] = callback(&tid, callback_state);
            removed += dead[i];
        }
        if (removed > 0) {
            GenericXLogState *state = GenericXLogStart(index);
            Page copy = GenericXLogRegisterBuffer(state, buffer, 0);
            uint8 *codes = reinterpret_cast<uint8 *>(copy) + ListLayout::codes_offset();
            ItemPointerData *copy_tids = PageTids(copy, layout);
            for (uint32 i = 0; i < count;) {
                if (!dead[i]) {
                    i++;
                    continue;
                }
                count--;
                if (i != count) { /* the last entry fills the hole (and is tested in its turn) */
                    SetEntry(copy, layout, i, codes + Size(count) * layout.code_size, &copy_tids[count]);
                    dead[i] = dead[count];
                }
            }
            PageOpaque(copy)->count = uint16(count);
            GenericXLogFinish(state);
            stats->tuples_removed += removed;
        }
        stats->num_index_tuples += count;
        if (first_room == InvalidBlockNumber && count < info->meta.capacity)
            first_room = block;
        const BlockNumber next = PageOpaque(page)->next;
        UnlockReleaseBuffer(buffer);
        if (next != InvalidBlockNumber)
            CheckNextBlock(index, info, next, block);
        block = next;
    }
    pfree(dead);
    *chain = blocks;
    *chain_length = length;
    return first_room;
}

/* Points list `list`'s inserts at `room` if it comes before their page. */
void MoveInsertPage(Relation index, const IndexInfoCache *info, uint32 list, BlockNumber room,
                    const BlockNumber *chain, uint32 length)
{
    const BlockNumber first_block = info->list_start + list;
    Buffer buffer = ReadBuffer(index, first_block);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    const BlockNumber current = CheckListPage(index, info, BufferGetPage(buffer), first_block, list)->insert_page;
    const BlockNumber *end = chain + length;
    const BlockNumber *room_at = std::find(chain, end, room);
    const BlockNumber *current_at = std::find(chain, end, current);
    /* A page past the chain seen was added since: it comes later too. */
    if (current != room && current_at > room_at) {
        GenericXLogState *state = GenericXLogStart(index);
        PageOpaque(GenericXLogRegisterBuffer(state, buffer, 0))->insert_page = room;
        GenericXLogFinish(state);
    }
    UnlockReleaseBuffer(buffer);
}

}  // namespace

IndexBulkDeleteResult *BulkDelete(IndexVacuumInfo *vinfo, IndexBulkDeleteResult *stats,
                                  IndexBulkDeleteCallback callback, void *callback_state)
{
    if (stats == nullptr)
        stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
    const IndexInfoCache *info = GetIndexInfo(vinfo->index);
    stats->num_index_tuples = 0;
    for (uint32 list = 0; list < info->meta.lists; list++) {
        BlockNumber *chain;
        uint32 length;
        const BlockNumber room =
            VacuumList(vinfo, info, list, stats, callback, callback_state, &chain, &length);
        if (room != InvalidBlockNumber)
            MoveInsertPage(vinfo->index, info, list, room, chain, length);
        pfree(chain);
    }
    stats->num_pages = RelationGetNumberOfBlocks(vinfo->index);
    return stats;
}

IndexBulkDeleteResult *VacuumCleanup(IndexVacuumInfo *vinfo, IndexBulkDeleteResult *stats)
{
    if (vinfo->analyze_only)
        return stats;
    if (stats == nullptr) {
        /* No bulk delete ran: count the entries (a pass that removes none). */
        stats = BulkDelete(vinfo, nullptr, [](ItemPointer, void *) { return false; }, nullptr);
    }
    stats->num_pages = RelationGetNumberOfBlocks(vinfo->index);
    return stats;
}

}  // namespace vecdb::pg::ivf
