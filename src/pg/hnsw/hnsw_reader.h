/*
 * hnsw_reader.h -- the graph reader of src/core/graph/hnsw_search.h over
 * index pages: what scans, inserts and VACUUM's repair search with.
 *
 * Each call share-locks one page at a time, copies what it needs (a
 * neighbour list, or a code's distance) and unlocks before returning, so no
 * buffer lock is held while the core loop runs and none is ever held two at
 * a time.  Pages stay pinned in a small cache (Pin()); release() drops the
 * pins.  distances() scores a neighbour list's ids page by page.
 *
 * Every scored element's heap TID is remembered (NodeInfo); a returned
 * element's rows (all of its heap TIDs) and lower bound are read when the
 * scan needs them (rows()), from a page the reader usually still has pinned.  Elements marked
 * deleted are walked through but are not results; freed slots (VACUUM)
 * score +inf and have no neighbours.  Ids come from checked slots or the
 * checked entry point (their blocks exist), and every tuple is checked as
 * it is read (PageElement()); a corrupt one raises an ERROR.
 *
 * Everything is palloc'd and trivially destructible (see hnsw_search.h).
 */
#pragma once

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <cstring>

#include "../../core/graph/hnsw_search.h"
#include "hnsw.h"

namespace vecdb::pg::hnsw {

/* palloc / pfree for the core's growable structures. */
inline vecdb::hnsw::ScratchAllocator PallocAllocator()
{
    return vecdb::hnsw::ScratchAllocator{
        nullptr, [](void *, std::size_t bytes) -> void * { return MemoryContextAllocHuge(CurrentMemoryContext, bytes); },
        [](void *, void *memory) { pfree(memory); }};
}

/* What a scored element's tuple said: its heap row. */
struct NodeInfo {
    NodeId id;
    ItemPointerData heap_tid;
    uint16 more_tids;    /* heap TIDs beyond heap_tid (rows sharing the element), read by rows() */
    uint8 reuses;        /* ElementHeader::reuses when scored */
    bool result;         /* scored, and not deleted */
    bool passes;         /* its filter key passes the scan's keys (hnsw_filter.cpp) */
    bool unbounded;      /* its code bounds nothing (CodeUnbounded) */
    uint32 visit_epoch;  /* NodeVisitedSet's mark */
};

/* NodeId -> NodeInfo, open addressing, growing by doubling (palloc). */
class NodeInfoMap {
public:
    void init(std::size_t slots = 1024)
    {
        mask_ = slots - 1;
        count_ = 0;
        slots_ = static_cast<NodeInfo *>(MemoryContextAllocHuge(CurrentMemoryContext, slots * sizeof(NodeInfo)));
        for (std::size_t i = 0; i <= mask_; i++)
            slots_[i].id = kNoNode;
    }

    NodeInfo *insert(NodeId id)
    {
        if ((count_ + 1) * 2 > mask_ + 1)
            grow();
        NodeInfo *slot = find_slot(id);
        if (slot->id != id) {
            slot->id = id;
            ItemPointerSetInvalid(&slot->heap_tid);
            slot->more_tids = 0;
            slot->reuses = 0;
            slot->result = false;
            slot->passes = false;
            slot->unbounded = false;
            slot->visit_epoch = 0;
            count_++;
        }
        return slot;
    }

    const NodeInfo *find(NodeId id) const
    {
        const NodeInfo *slot = find_slot(id);
        return slot->id == id ? slot : nullptr;
    }

private:
    NodeInfo *find_slot(NodeId id) const
    {
        for (std::size_t i = vecdb::splitmix64_mix(id) & mask_;; i = (i + 1) & mask_)
            if (slots_[i].id == id || slots_[i].id == kNoNode)
                return &slots_[i];
    }

    void grow()
    {
        NodeInfo *old = slots_;
        std::size_t old_slots = mask_ + 1;
        init(old_slots * 2);
        for (std::size_t i = 0; i < old_slots; i++)
            if (old[i].id != kNoNode)
                *insert(old[i].id) = old[i];
        pfree(old);
    }

    NodeInfo *slots_;
    std::size_t mask_;
    std::size_t count_;
};

class PageReader {
public:
    using Id = NodeId;

    void init(Relation index, const IndexInfoCache *info, Codec *codec)
    {
        rank_clamped_by_bound_ = false;
        index_ = index;
        info_ = info;
        layout_ = &info->layout;
        codec_ = codec;
        nodes_.init();
        buffer_accesses_ = 0;
        std::uint32_t slots = 1;
        while (slots * 2 <= std::min<std::uint32_t>(kMaxPinnedPages, std::uint32_t(NBuffers / (4 * Max(MaxBackends, 1)))))
            slots *= 2;
        pinned_mask_ = slots - 1;
        pinned_ = static_cast<PinnedPage *>(palloc(sizeof(PinnedPage) * slots));
        for (std::uint32_t i = 0; i < slots; i++) {
            pinned_[i].buffer = InvalidBuffer;
            pinned_[i].call = 0;
        }
        order_ = static_cast<std::uint32_t *>(palloc(sizeof(std::uint32_t) * max_degree()));
        blocks_ = static_cast<BlockNumber *>(palloc(sizeof(BlockNumber) * max_degree()));
        buffers_ = static_cast<Buffer *>(palloc(sizeof(Buffer) * max_degree()));
        own_pin_ = static_cast<bool *>(palloc(sizeof(bool) * max_degree()));
        call_ = 0;
        filter_ = nullptr;
        keep_codes_ = nullptr;
        /* Scoring reads the header and the code right after it. */
        code_end_ = ElementLayout::code_offset() + std::min<std::uint32_t>(layout_->code_size, 1024);
    }

    std::size_t max_degree() const { return 2 * layout_->m; }

    /* A scan's keys on the filter column: each scored element records
     * whether it passes them (NodeInfo::passes). */
    void set_filter(const ScanFilter *filter) { filter_ = filter; }

    /* Inserts and VACUUM: every live element scored leaves a copy of its
     * code in `cache` (KeepCode()).  Their neighbour selections then decode
     * the candidates and the members of the lists they rewrite, nearly all
     * met by the search, without reading their pages again (an insert into
     * GloVe-100 read ~650 pages for them). */
    void keep_codes(VectorCache *cache) { keep_codes_ = cache; }

    /* Called once a hop: every graph walk (scans, inserts, VACUUM's
     * repair) answers a cancel here, with no buffer locked. */
    std::size_t neighbors(Id id, int lc, Id *out)
    {
        CHECK_FOR_INTERRUPTS();
        Buffer buffer = Pin(NodeBlock(id));
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        const std::size_t n = PageNeighbors(index_, info_, BufferGetPage(buffer), id, lc, out);
        LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
        return n;
    }

    float distance(Id id)
    {
        float d;
        distances(&id, 1, &d);
        return d;
    }

    /*
     * Scores ids[0 .. n) in three passes, so the cache misses of a whole
     * neighbour list overlap instead of coming one after another: pin each
     * distinct page once (ids sorted by block; all stay pinned until
     * scored, PinForCall()) and prefetch the line pointers; prefetch the
     * tuples; then lock each page and score.  The
     * prefetches read line pointers without the content lock: an element
     * moves only when one on its page grows or shrinks by a heap TID
     * (AddHeapTid(), VACUUM), and a stale value only wastes a prefetch (a
     * prefetch of a bad address does not fault; tuples are found and
     * checked again under the lock, in score()).
     */
    void distances(const Id *ids, std::size_t n, float *out)
    {
        for (std::uint32_t i = 0; i < n; i++)
            order_[i] = i;
        std::sort(order_, order_ + n, [ids](std::uint32_t a, std::uint32_t b) { return ids[a] < ids[b]; });
        std::uint32_t pages = 0;
        call_++;
        for (std::size_t j = 0; j < n; j++) {
            const Id id = ids[order_[j]];
            if (pages == 0 || blocks_[pages - 1] != NodeBlock(id)) {
                blocks_[pages] = NodeBlock(id);
                buffers_[pages] = PinForCall(NodeBlock(id), &own_pin_[pages]);
                pages++;
            }
            __builtin_prefetch(PageGetItemId(BufferGetPage(buffers_[pages - 1]), NodeOffset(id)));
        }
        for (std::size_t j = 0, p = 0; j < n; j++) {
            const Id id = ids[order_[j]];
            while (blocks_[p] != NodeBlock(id))
                p++;
            const char *page = BufferGetPage(buffers_[p]);
            const char *tuple = page + ItemIdGetOffset(PageGetItemId(page, NodeOffset(id)));
            __builtin_prefetch(tuple);
            for (std::uint32_t off = ElementLayout::code_offset(); off < code_end_; off += 64)
                __builtin_prefetch(tuple + off);
        }
        for (std::size_t j = 0, p = 0; p < pages; p++) {
            LockBuffer(buffers_[p], BUFFER_LOCK_SHARE);
            Page page = BufferGetPage(buffers_[p]);
            for (; j < n && NodeBlock(ids[order_[j]]) == blocks_[p]; j++)
                out[order_[j]] = score(page, ids[order_[j]]);
            LockBuffer(buffers_[p], BUFFER_LOCK_UNLOCK);
        }
        for (std::uint32_t p = 0; p < pages; p++)
            if (own_pin_[p])
                ReleaseBuffer(buffers_[p]);
    }

    bool is_result(Id id) const
    {
        const NodeInfo *info = nodes_.find(id);
        return info != nullptr && info->result;
    }

    const NodeInfo *info(Id id) const { return nodes_.find(id); }

    /* The heap rows of scored element id (1 + kMaxMoreTids at most) into
     * out, and their lower bound into *bound unless it is null, if its slot
     * still holds the element `scored` describes; else 0 (VACUUM has freed
     * the slot, maybe reused it: its rows are dead to this scan anyway).
     * Version 5 tells by the slot's reuse count: VACUUM may have removed
     * the element's own heap row since, and moved another into its header
     * (a scan that looked for the row it scored missed the element's other
     * rows, TAP 007 (e)).  Version 4 elements have one row: that one. */
    uint32 rows(Id id, const NodeInfo &scored, ItemPointerData *out, double *bound)
    {
        Buffer buffer = Pin(NodeBlock(id));
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        const char *tuple = LiveElement(index_, info_, BufferGetPage(buffer), NodeBlock(id), NodeOffset(id));
        uint32 n = 0;
        if (tuple != nullptr) {
            const ElementView e{tuple, layout_};
            if (info_->meta.version == HNSW_VERSION_NO_MORE_TIDS ? e.holds(scored.heap_tid)
                                                                 : e.header()->reuses == scored.reuses) {
                out[n++] = e.header()->heap_tid;
                for (uint32 i = 0; i < e.more_tids(); i++)
                    out[n++] = e.more()[i];
                if (bound != nullptr)
                    *bound = CodeBound(codec_, e.code());
            }
        }
        LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
        return n;
    }
    NodeInfo *slot(Id id) { return nodes_.insert(id); }
    std::uint64_t buffer_accesses() const { return buffer_accesses_; }
    /* Drops every pin the reader holds (before a rescan or the end; an
     * ERROR releases them with the resource owner). */
    void release()
    {
        for (std::uint32_t i = 0; pinned_ != nullptr && i <= pinned_mask_; i++)
            if (BufferIsValid(pinned_[i].buffer)) {
                ReleaseBuffer(pinned_[i].buffer);
                pinned_[i].buffer = InvalidBuffer;
            }
        pinned_ = nullptr; /* its memory goes with the caller's context */
    }

private:
    /* Pages a reader keeps pinned, direct-mapped by block number: a search
     * comes back to the same pages (neighbours share pages, see the build's
     * PageOrder()), and a pinned page needs no buffer-table lookup (15% more
     * QPS on GloVe-100 with 1,024 pins than with 64).  At most a quarter of
     * shared_buffers shared out among all possible backends, so even every
     * backend scanning at once cannot pin the pool dry. */
    static constexpr std::uint32_t kMaxPinnedPages = 1024;
    struct PinnedPage {
        BlockNumber block;
        Buffer buffer;
        std::uint64_t call; /* the distances() call that last used it */
    };

    /* Pin() for distances(), whose pages must all stay pinned until it has
     * scored them: a page whose cache slot another page of the same call
     * holds gets a pin of its own (*own: the caller releases it), instead
     * of taking the slot and unpinning that page while it is in use. */
    Buffer PinForCall(BlockNumber block, bool *own)
    {
        PinnedPage &slot = pinned_[block & pinned_mask_];
        *own = BufferIsValid(slot.buffer) && slot.block != block && slot.call == call_;
        if (*own) {
            buffer_accesses_++;
            return ReadBuffer(index_, block);
        }
        const Buffer buffer = Pin(block);
        slot.call = call_;
        return buffer;
    }

    Buffer Pin(BlockNumber block)
    {
        PinnedPage &slot = pinned_[block & pinned_mask_];
        if (BufferIsValid(slot.buffer) && slot.block == block)
            return slot.buffer;
        if (BufferIsValid(slot.buffer))
            ReleaseBuffer(slot.buffer);
        slot.buffer = InvalidBuffer;
        slot.buffer = ReadBuffer(index_, block);
        slot.block = block;
        buffer_accesses_++;
        return slot.buffer;
    }

    float score(Page page, Id id)
    {
        NodeInfo *info = nodes_.insert(id);
        info->result = false;
        const char *tuple = LiveElement(index_, info_, page, NodeBlock(id), NodeOffset(id));
        if (tuple == nullptr)
            return FLT_MAX;
        ElementView e{tuple, layout_};
        if (keep_codes_ != nullptr)
            KeepCode(keep_codes_, id, e.code());
        info->result = !e.is_deleted();
        info->heap_tid = e.header()->heap_tid;
        info->more_tids = uint16(e.more_tids());
        info->reuses = e.header()->reuses;
        info->unbounded = CodeUnbounded(codec_, e.code());
        info->passes = filter_ == nullptr || FilterMatches(filter_, *e.header());
        if (rank_clamped_by_bound_ && CodeClamped(codec_, e.code()))
            return CodeSearchBound(codec_, e.code());
        return CodeDistance(codec_, e.code());
    }

public:
    /* Scans: a node whose code was clamped (CodeClamped: a row inserted far
     * outside the data the sq8 ranges were trained on) is ranked by its
     * lower bound, so the walk cannot drop a row near the query on an
     * estimate off by the whole clamping; its bound and the recheck then
     * place it.  Inserts and VACUUM keep the estimates: they choose
     * neighbours by them. */
    void set_rank_clamped_by_bound(bool on) { rank_clamped_by_bound_ = on; }

private:
    bool rank_clamped_by_bound_;
    Relation index_;
    const IndexInfoCache *info_;
    const ElementLayout *layout_;
    Codec *codec_;
    const ScanFilter *filter_;
    VectorCache *keep_codes_;
    NodeInfoMap nodes_;
    PinnedPage *pinned_;
    std::uint32_t pinned_mask_;
    std::uint32_t *order_;
    BlockNumber *blocks_;
    Buffer *buffers_;
    bool *own_pin_; /* per page of a distances() call: pinned outside the cache */
    std::uint64_t call_;
    std::uint32_t code_end_;
    std::uint64_t buffer_accesses_;
};

/*
 * A scan's visited set (the contract in hnsw_search.h) kept in its reader's
 * NodeInfoMap: the probe that marks a neighbour visited also makes the
 * entry its score fills a moment later, so one hash table serves both.
 */
class NodeVisitedSet {
public:
    void init(PageReader *reader)
    {
        reader_ = reader;
        epoch_ = 1;
    }
    void clear() { epoch_++; }
    bool insert(NodeId id)
    {
        NodeInfo *n = reader_->slot(id);
        if (n->visit_epoch == epoch_)
            return false;
        n->visit_epoch = epoch_;
        return true;
    }
    bool contains(NodeId id) const
    {
        const NodeInfo *n = reader_->info(id);
        return n != nullptr && n->visit_epoch == epoch_;
    }
    void release() {}

private:
    PageReader *reader_;
    uint32 epoch_;
};

}  // namespace vecdb::pg::hnsw
