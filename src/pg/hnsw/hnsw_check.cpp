/*
 * hnsw_check.cpp -- vecdb_index_check() on an hnsw index: every page read
 * and every element, list and code checked, in the spirit of amcheck's
 * bt_index_check.
 *
 * Scans check what they read as they go (hnsw_page.cpp); this reads
 * everything, once, and adds what no single read can see:
 *   1. the metapage, read afresh (not from the relcache's copy), and its
 *      entry point;
 *   2. every element tuple of every element page (PageElement's checks),
 *      its heap TIDs, its code (r not NaN or negative, the decoded vector
 *      finite) and every neighbour slot (ElementNeighbors' checks);
 *   3. every link names an element that exists, is not a freed slot, and
 *      has a level up to the layer it is linked on; no live element is above
 *      the entry point's level;
 *   4. a walk of layer 0 from the entry point: live elements it does not
 *      reach are counted (a search cannot return them; VACUUM reconnects
 *      them), not an error -- inserts can leave some.
 * It also counts live elements whose code is clamped (CodeClamped: sq8,
 * rows outside the ranges learned at build), a sign to REINDEX.
 * The caller holds ShareLock on the index, which excludes inserts and
 * VACUUM (both take RowExclusiveLock), so what is read is one state.
 */
#include <algorithm>
#include <cmath>

#include "hnsw.h"

extern "C" {
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
}

namespace vecdb::pg::hnsw {

namespace {

/* Every element slot of the index, in (block, offset) order. */
struct Census {
    NodeId *ids;
    uint8 *flags;
    uint8 *levels;
    Size count;
    Size capacity;

    void push(NodeId id, uint8 f, uint8 level)
    {
        if (count == capacity) {
            capacity = Max(Size(1024), capacity * 2);
            ids = static_cast<NodeId *>(repalloc_huge(ids, sizeof(NodeId) * capacity));
            flags = static_cast<uint8 *>(repalloc_huge(flags, capacity));
            levels = static_cast<uint8 *>(repalloc_huge(levels, capacity));
        }
        ids[count] = id;
        flags[count] = f;
        levels[count] = level;
        count++;
    }
    /* The position of id, or -1. */
    int64 find(NodeId id) const
    {
        const NodeId *at = std::lower_bound(ids, ids + count, id);
        return at != ids + count && *at == id ? at - ids : -1;
    }
};

/* Calls visit(block, offset, element) for every element tuple, its page
 * share-locked (visit reads nothing else); reports the pages read as the
 * check's progress in `phase`. */
template <class Visit>
void ForEachElement(Relation index, const IndexInfoCache *info, BlockNumber nblocks, CheckPhase phase, Visit &&visit)
{
    ReportCheckPhase(phase, int64(nblocks) - int64(Min(info->first_element_block, nblocks)));
    for (BlockNumber block = info->first_element_block; block < nblocks; block++) {
        CHECK_FOR_INTERRUPTS();
        pgstat_progress_update_param(PROGRESS_SCAN_BLOCKS_DONE, int64(block - info->first_element_block) + 1);
        Buffer buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
            visit(block, off, ElementView{PageElement(index, info, page, block, off), &info->layout});
        UnlockReleaseBuffer(buffer);
    }
}

}  // namespace

void CheckIndex(Relation index, CheckReport *report)
{
    /* 1. The metapage as it is on disk now, and the entry point. */
    /* The cache's copy was checked when it was read; the page may have
     * changed since.  The old copy stays in rd_indexcxt until the relcache
     * entry is rebuilt: a scan of this backend may hold it. */
    index->rd_amcache = nullptr;
    const IndexInfoCache *info = GetIndexInfo(index);
    NodeId entry;
    int entry_level;
    ReadEntryPoint(index, &entry, &entry_level, nullptr);
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    const ElementLayout &layout = info->layout;
    const uint32 dims = info->meta.dims;

    /* 2. Every element, its code and its slots (their blocks and offsets). */
    Census census{static_cast<NodeId *>(palloc(sizeof(NodeId))), static_cast<uint8 *>(palloc(1)),
                  static_cast<uint8 *>(palloc(1)), 0, 1};
    Codec *codec = MakeCodec(info);
    float *decoded = static_cast<float *>(palloc(sizeof(float) * dims));
    FixedQuery(info->meta, decoded);
    SetQuery(codec, decoded);
    NodeId *list = static_cast<NodeId *>(palloc(sizeof(NodeId) * 2 * layout.m));
    int top_live_level = -1;
    int64 clamped = 0;
    ForEachElement(index, info, nblocks, kCheckPhaseElements,
                   [&](BlockNumber block, OffsetNumber off, const ElementView &e) {
        const uint8 flags = e.header()->flags;
        census.push(MakeNodeId(block, off), flags, uint8(e.level()));
        if (flags & HNSW_ELEMENT_FREE)
            return;
        if (!ItemPointerIsValid(&e.header()->heap_tid))
            ReportCorruption(index, block, "The element at offset %u has no valid heap TID.", off);
        for (uint32 t = 0; t < e.more_tids(); t++)
            if (!ItemPointerIsValid(&e.more()[t]))
                ReportCorruption(index, block, "The element at offset %u has an invalid heap TID (%u of %u more).",
                                 off, t + 1, e.more_tids());
        if (const char *fault = CodeFault(codec, e.code(), decoded))
            ReportCorruption(index, block, "The code of the element at offset %u %s.", off, fault);
        for (int lc = 0; lc <= e.level(); lc++)
            (void) ElementNeighbors(index, info, block, e, lc, list);
        if (!(flags & HNSW_ELEMENT_DELETED)) {
            top_live_level = Max(top_live_level, e.level());
            clamped += CodeClamped(codec, e.code());
        }
    });
    if (top_live_level > entry_level)
        ReportCorruption(index, HNSW_METAPAGE_BLKNO,
                         "A live element has level %d, above the entry point's level %d.", top_live_level,
                         entry_level);

    /* 3. Every link's target. */
    ForEachElement(index, info, nblocks, kCheckPhaseLinks,
                   [&](BlockNumber block, OffsetNumber off, const ElementView &e) {
        if (e.header()->flags & HNSW_ELEMENT_FREE)
            return;
        for (int lc = 0; lc <= e.level(); lc++) {
            const uint32 n = ElementNeighbors(index, info, block, e, lc, list);
            for (uint32 i = 0; i < n; i++) {
                const int64 at = census.find(list[i]);
                if (at < 0)
                    ReportCorruption(index, block, "The element at offset %u links to (%u,%u), which holds no element.",
                                     off, NodeBlock(list[i]), NodeOffset(list[i]));
                if (census.flags[at] & HNSW_ELEMENT_FREE)
                    ReportCorruption(index, block, "The element at offset %u links to the freed slot (%u,%u).", off,
                                     NodeBlock(list[i]), NodeOffset(list[i]));
                if (census.levels[at] < lc)
                    ReportCorruption(index, block,
                                     "The element at offset %u links on layer %d to (%u,%u), of level %u.", off, lc,
                                     NodeBlock(list[i]), NodeOffset(list[i]), census.levels[at]);
            }
        }
    });

    /* 4. Layer 0 from the entry point. */
    uint64 reached_live = 0, live = 0, deleted = 0, freed = 0;
    for (Size i = 0; i < census.count; i++) {
        if (census.flags[i] & HNSW_ELEMENT_FREE)
            freed++;
        else if (census.flags[i] & HNSW_ELEMENT_DELETED)
            deleted++;
        else
            live++;
    }
    ReportCheckPhase(kCheckPhaseWalk, 0, int64(census.count - freed));
    if (entry != kNoNode) {
        bool *reached = static_cast<bool *>(palloc_extended(census.count, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
        Size *queue = static_cast<Size *>(palloc_extended(sizeof(Size) * census.count, MCXT_ALLOC_HUGE));
        Size head = 0, tail = 0;
        const int64 start = census.find(entry);
        if (start < 0) /* ReadEntryPoint found it there; a page read since says otherwise */
            ReportCorruption(index, NodeBlock(entry), "The entry point's element is missing.");
        reached[start] = true;
        queue[tail++] = Size(start);
        while (head < tail) {
            CHECK_FOR_INTERRUPTS();
            if (head % 1024 == 0)
                pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, int64(head));
            const Size at = queue[head++];
            if (!(census.flags[at] & HNSW_ELEMENT_DELETED))
                reached_live++;
            const uint32 n = ReadNeighbors(index, info, census.ids[at], 0, list);
            for (uint32 i = 0; i < n; i++) {
                const int64 to = census.find(list[i]); /* checked above */
                if (to >= 0 && !reached[to]) {
                    reached[to] = true;
                    queue[tail++] = Size(to);
                }
            }
        }
    }

    report->add("pages", int64(nblocks));
    report->add("levels", entry_level + 1);
    report->add("elements", int64(census.count));
    report->add("live", int64(live));
    report->add("deleted", int64(deleted));
    report->add("free", int64(freed));
    report->add("unreachable", int64(live - reached_live));
    report->add("clamped", clamped);
}

}  // namespace vecdb::pg::hnsw
