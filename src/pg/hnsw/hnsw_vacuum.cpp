/*
 * hnsw_vacuum.cpp -- VACUUM: elements whose heap rows are gone are marked
 * deleted, the graph is repaired around them, and their slots are freed
 * for reuse.
 *
 *   1. Mark: every element all of whose heap TIDs the callback reports
 *      dead gets HNSW_ELEMENT_DELETED.  Scans walk through it and never
 *      return it; inserts never link to it.  An element that some of its
 *      rows outlive (rows of one code share an element, AddHeapTid) drops
 *      the dead TIDs and shrinks in place.
 *   2. Repair, beside inserts and scans, once the inserts that began
 *      before the marking have ended (a moment's HNSW_UPDATE_LOCK
 *      exclusive): each live element's list that names a deleted element
 *      is re-selected from its live members plus the live neighbours of the
 *      deleted ones (RelinkNode, Algorithm 4), again if an insert changed
 *      it meanwhile; a deleted entry point moves to a live element of the
 *      highest level (under the exclusive lock, as an insert moves it).
 *   3. Free: deleted elements become HNSW_ELEMENT_FREE; no list names them
 *      any more, so an insert may overwrite the slot (resized in place).
 *      The insert hint moves to the first page with a free slot.
 *   4. Reconnect: re-selected lists can leave a live element with no path
 *      from the entry point (its only in-links came through deleted ones,
 *      or an insert re-selected them away; mostly under inner product).  A
 *      walk of layer 0 from the entry point finds them; each gets one link
 *      from a reached node near it, spliced in so that no path is cut
 *      (SpliceLink).  Repeated (up to 4 times) until a walk reaches every
 *      live element.
 *      A VACUUM that finds nothing dead runs this step alone.
 * A scan that read a slot before it was reused only walks a little off its
 * way; the heap TIDs it returns were copied when read, and the executor's
 * MVCC check rejects any row that replaced a dead one.
 */
#include <algorithm>
#include <cstring>

#include "../../core/graph/visited.h"
#include "hnsw_reader.h"

extern "C" {
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

namespace vecdb::pg::hnsw {

namespace {

/* Growable array of node ids (palloc). */
struct IdList {
    NodeId *ids = nullptr;
    uint32 count = 0;
    uint32 capacity = 0;

    void push(NodeId id)
    {
        if (count == capacity) {
            capacity = std::max(64u, capacity * 2);
            ids = static_cast<NodeId *>(ids == nullptr ? palloc(sizeof(NodeId) * capacity)
                                                       : repalloc(ids, sizeof(NodeId) * capacity));
        }
        ids[count++] = id;
    }
};

/* Changes the metapage with change(meta), WAL-logged. */
template <class Change>
void UpdateMeta(Relation index, Change &&change)
{
    Buffer buffer = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState *state = GenericXLogStart(index);
    change(PageGetMeta(GenericXLogRegisterBuffer(state, buffer, 0)));
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buffer);
}

/* Calls visit(id, header) for every element tuple, each page share-locked
 * while its elements are visited (visit must not read other pages). */
template <class Visit>
void ForEachElement(IndexVacuumInfo *vinfo, const IndexInfoCache *info, Visit &&visit)
{
    const BlockNumber nblocks = RelationGetNumberOfBlocks(vinfo->index);
    for (BlockNumber block = 1 + info->meta.aux_pages; block < nblocks; block++) {
        vacuum_delay_point();
        Buffer buffer = ReadBufferExtended(vinfo->index, MAIN_FORKNUM, block, RBM_NORMAL, vinfo->strategy);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
            visit(MakeNodeId(block, off),
                  reinterpret_cast<const ElementHeader *>(PageElement(vinfo->index, info, page, block, off)));
        UnlockReleaseBuffer(buffer);
    }
}

/* Phase 1; returns how many heap rows it removed: an element whose rows
 * are all dead is marked deleted, one with some dead rows keeps the others
 * (the first moves into the header) and shrinks in place. */
double MarkDeleted(IndexVacuumInfo *vinfo, const IndexInfoCache *info, IndexBulkDeleteCallback callback,
                   void *callback_state, double *live)
{
    Relation index = vinfo->index;
    double removed = 0;
    const BlockNumber first = 1 + info->meta.aux_pages;
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    OffsetNumber dead[MaxOffsetNumber];
    OffsetNumber shrunk[MaxOffsetNumber];
    char *shrunk_tuple[MaxOffsetNumber];
    Size shrunk_size[MaxOffsetNumber];
    ItemPointerData rows[1 + kMaxMoreTids];
    for (BlockNumber block = first; block < nblocks; block++) {
        vacuum_delay_point();
        Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, vinfo->strategy);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        int n_dead = 0;
        int n_shrunk = 0;
        for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++) {
            const char *tuple = PageElement(index, info, page, block, off);
            const ElementView e{tuple, &info->layout};
            if (e.is_deleted())
                continue;
            uint32 kept = 0;
            if (!callback(const_cast<ItemPointer>(&e.header()->heap_tid), callback_state))
                rows[kept++] = e.header()->heap_tid;
            for (uint32 t = 0; t < e.more_tids(); t++)
                if (!callback(const_cast<ItemPointer>(&e.more()[t]), callback_state))
                    rows[kept++] = e.more()[t];
            *live += kept;
            removed += 1 + e.more_tids() - kept;
            if (kept == 0) {
                dead[n_dead++] = off;
            } else if (kept < 1 + e.more_tids()) {
                shrunk[n_shrunk] = off;
                shrunk_tuple[n_shrunk] = ElementWithRows(info->layout, tuple, rows, kept, &shrunk_size[n_shrunk]);
                n_shrunk++;
            }
        }
        if (n_dead > 0 || n_shrunk > 0) {
            GenericXLogState *state = GenericXLogStart(index);
            Page copy = GenericXLogRegisterBuffer(state, buffer, 0);
            for (int i = 0; i < n_dead; i++)
                reinterpret_cast<ElementHeader *>(CheckedElement(copy, dead[i]))->flags |=
                    HNSW_ELEMENT_DELETED;
            for (int i = 0; i < n_shrunk; i++)
                if (!PageIndexTupleOverwrite(copy, shrunk[i], Item(shrunk_tuple[i]), shrunk_size[i]))
                    elog(ERROR, "hnsw: failed to shrink element %u of block %u", shrunk[i], block);
            GenericXLogFinish(state);
        }
        for (int i = 0; i < n_shrunk; i++)
            pfree(shrunk_tuple[i]);
        UnlockReleaseBuffer(buffer);
    }
    return removed;
}

/* Phases 2 and 3, beside inserts and scans. */
void RepairAndFree(IndexVacuumInfo *vinfo, const IndexInfoCache *info)
{
    Relation index = vinfo->index;
    const ElementLayout &layout = info->layout;

    /* Deleted ids (sorted: blocks and offsets ascend) and the best live entry. */
    IdList deleted;
    NodeId best = kNoNode;
    int best_level = -1;
    BlockNumber first_free = InvalidBlockNumber;
    /* Items per page, so that the walk over every list below checks slot
     * offsets too.  Inserts run beside it: a slot past a page's count from
     * this walk may name an element added since, and is checked again on
     * its page after the walk (suspects). */
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    auto *items = static_cast<uint16 *>(palloc0(sizeof(uint16) * Max(nblocks, 1u)));
    ForEachElement(vinfo, info, [&](NodeId id, const ElementHeader *header) {
        if (NodeBlock(id) < nblocks)
            items[NodeBlock(id)] = NodeOffset(id);
        if (header->flags & HNSW_ELEMENT_FREE) {
            if (!BlockNumberIsValid(first_free))
                first_free = NodeBlock(id);
        } else if (header->flags & HNSW_ELEMENT_DELETED) {
            deleted.push(id);
        } else if (header->level > best_level) {
            best = id;
            best_level = header->level;
        }
    });
    if (deleted.count == 0)
        return;

    /* The (node, layer) lists that name a deleted element. */
    NodeId *list = static_cast<NodeId *>(palloc(sizeof(NodeId) * 2 * layout.m));
    IdList todo; /* node id << 5 | layer */
    IdList suspects;
    ForEachElement(vinfo, info, [&](NodeId id, const ElementHeader *header) {
        if (header->flags & (HNSW_ELEMENT_DELETED | HNSW_ELEMENT_FREE))
            return;
        const ElementView e{reinterpret_cast<const char *>(header), &layout};
        for (int lc = 0; lc <= e.level(); lc++) {
            const uint32 n = ElementNeighbors(index, info, NodeBlock(id), e, lc, list);
            for (uint32 i = 0; i < n; i++)
                if (NodeBlock(list[i]) < nblocks && NodeOffset(list[i]) > items[NodeBlock(list[i])])
                    suspects.push(list[i]);
            for (uint32 i = 0; i < n; i++)
                if (InSortedIds(deleted.ids, deleted.count, list[i])) {
                    todo.push((id << 5) | uint32(lc));
                    break;
                }
        }
    });

    for (uint32 i = 0; i < suspects.count; i++) {
        const BlockNumber block = NodeBlock(suspects.ids[i]);
        Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, vinfo->strategy);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        const OffsetNumber now = PageGetMaxOffsetNumber(BufferGetPage(buffer));
        UnlockReleaseBuffer(buffer);
        if (NodeOffset(suspects.ids[i]) > now)
            ReportCorruption(index, block, "A neighbour slot names offset %u of block %u, which has %u items.",
                             NodeOffset(suspects.ids[i]), block, now);
    }

    /* Re-select each from its live members plus the deleted members'
     * neighbours.  The lists share their decoded vectors until those take
     * maintenance_work_mem (then the cache starts again, empty): a
     * GloVe-100 VACUUM of 10% of the rows re-selects ~89,000 lists from 8.4
     * million candidates; runs of 256 lists, a cache each, read 4.6 million
     * codes from their pages, one cache reads 90,000. */
    const Size cache_budget = Max(Size(maintenance_work_mem) * 1024, Size(4) << 20);
    Codec *codec = MakeCodec(info);
    MemoryContext run_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw repair", ALLOCSET_DEFAULT_SIZES);
    MemoryContext list_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw repair list", ALLOCSET_DEFAULT_SIZES);
    VectorCache *cache = nullptr;
    NodeId *hop = static_cast<NodeId *>(palloc(sizeof(NodeId) * 2 * layout.m));
    IdList added;
    for (uint32 t = 0; t < todo.count; t++) {
        CHECK_FOR_INTERRUPTS();
        if (cache == nullptr || MemoryContextMemAllocated(run_context, false) > cache_budget) {
            MemoryContextReset(run_context);
            MemoryContext old = MemoryContextSwitchTo(run_context);
            cache = MakeVectorCache(index, info, codec);
            MemoryContextSwitchTo(old);
        }
        const NodeId base = todo.ids[t] >> 5;
        const int lc = int(todo.ids[t] & 31);
        /* Inserts run meanwhile: one that changed the list between its
         * read and the write below wins, and the list is repaired again
         * from what it holds now. */
        for (;;) {
            const uint32 n = ReadNeighbors(index, info, base, lc, list);
            added.count = 0;
            bool names_deleted = false;
            for (uint32 i = 0; i < n; i++) {
                if (!InSortedIds(deleted.ids, deleted.count, list[i]))
                    continue;
                names_deleted = true;
                const uint32 h = ReadNeighbors(index, info, list[i], lc, hop);
                for (uint32 j = 0; j < h; j++)
                    added.push(hop[j]);
            }
            if (!names_deleted)
                break;
            MemoryContext old = MemoryContextSwitchTo(list_context);
            const bool stands =
                RelinkNode(index, info, cache, base, lc, added.ids, added.count, deleted.ids, deleted.count, false);
            MemoryContextSwitchTo(old);
            MemoryContextReset(list_context);
            if (stands)
                break;
            CHECK_FOR_INTERRUPTS();
        }
    }
    MemoryContextDelete(run_context);
    MemoryContextDelete(list_context);

    /* A deleted entry point moves to a live element of the top level before
     * any slot is freed, so the metapage never names a freed element
     * (ReadEntryPoint() counts that as corruption). */
    /* Under the exclusive update lock, as an insert that moves it. */
    NodeId entry;
    int entry_level;
    LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
    ReadEntryPoint(index, &entry, &entry_level, nullptr);
    if (entry != kNoNode && InSortedIds(deleted.ids, deleted.count, entry))
        UpdateMeta(index, [&](MetaPageData *meta) {
            meta->entry_block = best == kNoNode ? InvalidBlockNumber : NodeBlock(best);
            meta->entry_offset = best == kNoNode ? InvalidOffsetNumber : NodeOffset(best);
            meta->entry_level = int16(best_level);
        });
    UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);

    /* Free the deleted slots (each checked on the page before its copy is
     * changed). */
    for (uint32 i = 0; i < deleted.count;) {
        vacuum_delay_point();
        const BlockNumber block = NodeBlock(deleted.ids[i]);
        Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, vinfo->strategy);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        uint32 end = i;
        for (; end < deleted.count && NodeBlock(deleted.ids[end]) == block; end++)
            PageElement(index, info, BufferGetPage(buffer), block, NodeOffset(deleted.ids[end]));
        GenericXLogState *state = GenericXLogStart(index);
        Page copy = GenericXLogRegisterBuffer(state, buffer, 0);
        for (; i < end; i++) {
            auto *header = reinterpret_cast<ElementHeader *>(CheckedElement(copy, NodeOffset(deleted.ids[i])));
            header->flags |= HNSW_ELEMENT_FREE;
            ItemPointerSetInvalid(&header->heap_tid);
            memset(reinterpret_cast<char *>(header) + layout.tuple_size(header->level), 0,
                   sizeof(ItemPointerData) * header->more_tids);
            memset(reinterpret_cast<uint8 *>(header) + layout.counts_offset(), 0, header->level + 1);
        }
        GenericXLogFinish(state);
        UnlockReleaseBuffer(buffer);
        if (!BlockNumberIsValid(first_free) || block < first_free)
            first_free = block;
    }

    /* The insert hint: the first page with a free slot. */
    if (BlockNumberIsValid(first_free))
        UpdateMeta(index, [&](MetaPageData *meta) {
            if (first_free < meta->insert_page)
                meta->insert_page = first_free;
        });
}

/* Phase 4, beside inserts and scans; returns elements linked in.  Each
 * live element the walk from the entry point missed gets one link from the
 * nearest reached node its search finds that accepts it (SpliceLink(),
 * which cuts no path; the entry point last), and then everything it leads
 * to counts as reached.  An element an insert is still linking in counts
 * as missed and is linked once more (no harm). */
uint32 Reconnect(IndexVacuumInfo *vinfo, const IndexInfoCache *info)
{
    Relation index = vinfo->index;
    const ElementLayout &layout = info->layout;
    NodeId entry;
    int entry_level;
    ReadEntryPoint(index, &entry, &entry_level, nullptr);
    if (entry == kNoNode)
        return 0;

    /* Breadth-first over layer 0 from the entry point (and later from each
     * element linked in). */
    vecdb::hnsw::HashVisitedSet<NodeId> reached;
    reached.init(PallocAllocator(), 1024);
    IdList queue;
    NodeId *list = static_cast<NodeId *>(palloc(sizeof(NodeId) * 2 * layout.m));
    auto walk_from = [&](NodeId start) {
        if (!reached.insert(start))
            return;
        queue.count = 0;
        queue.push(start);
        for (uint32 head = 0; head < queue.count; head++) {
            vacuum_delay_point(); /* a page read per list */
            const uint32 n = ReadNeighbors(index, info, queue.ids[head], 0, list);
            for (uint32 i = 0; i < n; i++)
                if (reached.insert(list[i]))
                    queue.push(list[i]);
        }
    };
    walk_from(entry);

    /* Live elements the walk missed. */
    IdList missed;
    ForEachElement(vinfo, info, [&](NodeId id, const ElementHeader *header) {
        if (!(header->flags & (HNSW_ELEMENT_DELETED | HNSW_ELEMENT_FREE)) && !reached.contains(id))
            missed.push(id);
    });

    /* Link each one in from a reached node a search finds near it. */
    Codec *codec = MakeCodec(info);
    NodeId *selected[1];
    uint32 count[1];
    float *query = static_cast<float *>(palloc(sizeof(float) * info->meta.dims));
    MemoryContext node_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw reconnect", ALLOCSET_DEFAULT_SIZES);
    uint32 linked = 0;
    for (uint32 i = 0; i < missed.count; i++) {
        CHECK_FOR_INTERRUPTS();
        const NodeId x = missed.ids[i];
        if (reached.contains(x))
            continue; /* an element linked in before leads to it */
        MemoryContext old = MemoryContextSwitchTo(node_context);
        VectorCache *cache = MakeVectorCache(index, info, codec);
        bool in = false;
        if (const float *vector = CachedVector(cache, x); vector != nullptr && NodeVector(cache, x, query)) {
            SetQuery(codec, query);
            NodeId *found = nullptr;
            uint32 n_found = 0;
            FindNeighbors(index, info, cache, vector, entry, entry_level, 0, x, selected, count, &found, &n_found);
            NodeId nearest = entry;
            for (uint32 j = n_found; j-- > 0;)
                if (reached.contains(found[j]))
                    nearest = found[j];
            for (uint32 j = 0; j < n_found && !in; j++)
                in = reached.contains(found[j]) && SpliceLink(index, info, cache, found[j], x);
            if (!in)
                in = SpliceLink(index, info, cache, entry, x);
            /* Every list refused (full, nothing in common with x's, and x's
             * full): the nearest takes x in place of a member, which the
             * next pass links in again if that was its only way in. */
            if (!in)
                in = RelinkNode(index, info, cache, nearest, 0, &x, 1, nullptr, 0, true);
        }
        MemoryContextSwitchTo(old);
        MemoryContextReset(node_context);
        if (in) {
            linked++;
            walk_from(x);
        }
    }
    MemoryContextDelete(node_context);
    return linked;
}

/*
 * Reconnect() until a walk finds every live element, at most kPasses times:
 * a splice cuts no path, but inserts beside VACUUM can strand elements, and
 * an element that every candidate list refuses is linked in by a
 * re-selection, which drops a member.  Linking stranded elements in by
 * re-selecting the lists of all their neighbours (RelinkNode), as this did
 * before, dropped other members and stranded them in turn: 1,000 inserts
 * into an 8-d inner-product index of 1,000 rows whose norms take 7 values
 * left ~900 unreachable, and still ~900 after four passes; linked in by
 * SpliceLink(), none (regress index_check.sql keeps a smaller case).
 * Returns the elements linked in.
 */
uint32 ReconnectAll(IndexVacuumInfo *vinfo, const IndexInfoCache *info)
{
    constexpr int kPasses = 4;
    uint32 total = 0;
    for (int pass = 0; pass < kPasses; pass++) {
        const uint32 n = Reconnect(vinfo, info);
        total += n;
        if (n == 0)
            break;
    }
    return total;
}

}  // namespace

IndexBulkDeleteResult *BulkDelete(IndexVacuumInfo *vinfo, IndexBulkDeleteResult *stats,
                                  IndexBulkDeleteCallback callback, void *callback_state)
{
    if (stats == nullptr)
        stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
    Relation index = vinfo->index;
    const IndexInfoCache *info = GetIndexInfo(index);
    double live = 0;
    stats->tuples_removed += MarkDeleted(vinfo, info, callback, callback_state, &live);
    stats->num_index_tuples = live;

    /* Wait for the inserts that began before the marking ended: they may
     * link to an element it marked.  An insert that begins after it never
     * does (its searches return no deleted element, and its re-selections
     * only keep members), so the repair runs beside inserts. */
    LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
    UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
    RepairAndFree(vinfo, info);
    const uint32 reconnected = ReconnectAll(vinfo, info);
    if (reconnected > 0)
        elog(DEBUG1, "hnsw vacuum: %u elements reconnected", reconnected);
    stats->num_pages = RelationGetNumberOfBlocks(index);
    return stats;
}

IndexBulkDeleteResult *VacuumCleanup(IndexVacuumInfo *vinfo, IndexBulkDeleteResult *stats)
{
    if (vinfo->analyze_only)
        return stats;
    if (stats == nullptr) {
        /* No bulk delete ran (nothing dead in the heap): still reconnect
         * what inserts may have left unreachable, and count what is there. */
        ReconnectAll(vinfo, GetIndexInfo(vinfo->index));
        stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
        stats->num_index_tuples = vinfo->num_heap_tuples;
        stats->estimated_count = vinfo->estimated_count;
    }
    stats->num_pages = RelationGetNumberOfBlocks(vinfo->index);
    return stats;
}

}  // namespace vecdb::pg::hnsw
