/*
 * ivf_check.cpp -- vecdb_index_check() on an ivf index: every list walked,
 * every page, entry and code checked.
 *
 * Scans check what they read as they go (ivf_page.cpp); this reads every
 * list once and adds what no single read can see:
 *   1. the metapage, codec parameters and centroids, read afresh (not from
 *      the relcache's copy);
 *   2. every list's chain of pages: each page a list page of that list
 *      (CheckListPage), no page in two chains or twice in one (a cycle),
 *      the first page's insert hint a page of its own list;
 *   3. every entry: a valid heap TID and a code that decodes to finite
 *      values and bounds something.
 * Pages no chain reaches are counted, not an error (none are expected).
 * The caller holds ShareLock on the index, which excludes inserts and
 * VACUUM, so what is read is one state.
 */
#include "ivf.h"

extern "C" {
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
}

namespace vecdb::pg::ivf {

namespace {

/* Checks entry i of a list page; true if its code is clamped (CodeClamped). */
bool CheckEntry(Relation index, const IndexInfoCache *info, const Codec *codec, Page page, BlockNumber block,
                uint32 i, float *decoded)
{
    const ListLayout &layout = info->layout;
    const ItemPointerData *tid = &PageTids(page, layout)[i];
    if (!ItemPointerIsValid(tid))
        ReportCorruption(index, block, "Entry %u has no valid heap TID.", i);
    const uint8 *code = PageCodes(page) + Size(i) * layout.code_size;
    if (const char *fault = CodeFault(codec, code, decoded))
        ReportCorruption(index, block, "The code of entry %u %s.", i, fault);
    return CodeClamped(codec, code);
}

}  // namespace

void CheckIndex(Relation index, CheckReport *report)
{
    /* 1. As on disk now: the relcache's copy was checked when it was read.
     * The old copy stays in rd_indexcxt until the relcache entry is rebuilt
     * (a scan of this backend may hold it). */
    index->rd_amcache = nullptr;
    const IndexInfoCache *info = GetIndexInfo(index);
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    info->known_blocks = nblocks;

    Codec *codec = MakeCodec(CodecParamsOf(info));
    float *decoded = static_cast<float *>(palloc(sizeof(float) * info->meta.dims));
    for (uint32 d = 0; d < info->meta.dims; d++)
        decoded[d] = 1.0f;
    SetQuery(codec, decoded);

    /* 2 and 3. Every list's chain; owner[block] is 1 + the list that
     * reached it. */
    uint32 *owner = static_cast<uint32 *>(palloc_extended(sizeof(uint32) * nblocks, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
    int64 entries = 0, list_pages = 0, empty_lists = 0, longest = 0, clamped = 0;
    ReportCheckPhase(kCheckPhaseLists, int64(nblocks) - int64(Min(info->list_start, nblocks)));
    for (uint32 list = 0; list < info->meta.lists; list++) {
        BlockNumber block = info->list_start + list;
        BlockNumber insert_page = InvalidBlockNumber;
        int64 pages = 0, in_list = 0;
        while (block != InvalidBlockNumber) {
            CHECK_FOR_INTERRUPTS();
            if (owner[block] != 0)
                ReportCorruption(index, block, "List %u reaches this page, which list %u reached before.", list,
                                 owner[block] - 1);
            owner[block] = list + 1;
            pgstat_progress_update_param(PROGRESS_SCAN_BLOCKS_DONE, list_pages + pages + 1);
            Buffer buffer = ReadBuffer(index, block);
            LockBuffer(buffer, BUFFER_LOCK_SHARE);
            Page page = BufferGetPage(buffer);
            const ListPageOpaque *opaque = CheckListPage(index, info, page, block, list);
            if (pages == 0)
                insert_page = opaque->insert_page;
            else if (opaque->insert_page != InvalidBlockNumber)
                ReportCorruption(index, block, "A later page of list %u has an insert hint.", list);
            for (uint32 i = 0; i < opaque->count; i++)
                clamped += CheckEntry(index, info, codec, page, block, i, decoded);
            in_list += opaque->count;
            const BlockNumber next = opaque->next;
            UnlockReleaseBuffer(buffer);
            if (next != InvalidBlockNumber)
                CheckNextBlock(index, info, next, block);
            block = next;
            pages++;
        }
        if (insert_page != InvalidBlockNumber && (insert_page >= nblocks || owner[insert_page] != list + 1))
            ReportCorruption(index, info->list_start + list, "List %u's insert hint, block %u, is not one of its pages.",
                             list, insert_page);
        entries += in_list;
        list_pages += pages;
        empty_lists += in_list == 0;
        longest = Max(longest, pages);
    }
    int64 unreached = 0;
    for (BlockNumber block = info->first_extra; block < nblocks; block++)
        unreached += owner[block] == 0;

    report->add("pages", int64(nblocks));
    report->add("lists", int64(info->meta.lists));
    report->add("list_pages", list_pages);
    report->add("entries", entries);
    report->add("empty_lists", empty_lists);
    report->add("longest_list_pages", longest);
    report->add("unreached_pages", unreached);
    report->add("clamped", clamped);
}

}  // namespace vecdb::pg::ivf
