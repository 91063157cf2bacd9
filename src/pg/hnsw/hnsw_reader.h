/*
 * hnsw_reader.h -- the graph reader of src/core/graph/hnsw_search.h over
 * index pages: what scans, inserts and VACUUM's repair search with.
 *
 * Each call pins and share-locks one page, copies what it needs (a
 * neighbour list, or a code's distance), and lets go before returning, so
 * no buffer lock is held while the core loop runs and none is ever held
 * two at a time.  distances() scores a neighbour list's ids block by block,
 * one buffer access per distinct page.
 *
 * Every scored element's heap TID and lower bound are remembered (NodeInfo),
 * so returning a result costs no second page access.  Elements marked
 * deleted are walked through but are not results; freed slots (VACUUM) and
 * anything that is not an element score +inf and have no neighbours.
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

/* What a scored element's tuple said: its heap row and the bound the scan
 * reports for it. */
struct NodeInfo {
    NodeId id;
    ItemPointerData heap_tid;
    bool result; /* not deleted */
    double bound;
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
            count_++;
        }
        return slot;
    }

    const NodeInfo *find(NodeId id) const
    {
        const NodeInfo *slot = find_slot(id);
        return slot->id == id ? slot : nullptr;
    }

    void clear()
    {
        for (std::size_t i = 0; i <= mask_; i++)
            slots_[i].id = kNoNode;
        count_ = 0;
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
        index_ = index;
        layout_ = &info->layout;
        codec_ = codec;
        nodes_.init();
        buffer_accesses_ = 0;
        order_ = static_cast<std::uint32_t *>(palloc(sizeof(std::uint32_t) * max_degree()));
    }

    std::size_t max_degree() const { return 2 * layout_->m; }

    std::size_t neighbors(Id id, int lc, Id *out)
    {
        buffer_accesses_++;
        return ReadNeighbors(index_, *layout_, id, lc, out);
    }

    float distance(Id id)
    {
        float d;
        distances(&id, 1, &d);
        return d;
    }

    void distances(const Id *ids, std::size_t n, float *out)
    {
        // Visit the ids by block so each page is read once.
        for (std::uint32_t i = 0; i < n; i++)
            order_[i] = i;
        std::sort(order_, order_ + n, [ids](std::uint32_t a, std::uint32_t b) { return ids[a] < ids[b]; });
        Buffer buffer = InvalidBuffer;
        BlockNumber current = InvalidBlockNumber;
        for (std::size_t j = 0; j < n; j++) {
            const std::uint32_t i = order_[j];
            const BlockNumber block = NodeBlock(ids[i]);
            if (block != current) {
                if (BufferIsValid(buffer))
                    UnlockReleaseBuffer(buffer);
                buffer = ReadBuffer(index_, block);
                LockBuffer(buffer, BUFFER_LOCK_SHARE);
                buffer_accesses_++;
                current = block;
            }
            out[i] = score(BufferGetPage(buffer), ids[i]);
        }
        if (BufferIsValid(buffer))
            UnlockReleaseBuffer(buffer);
    }

    bool is_result(Id id) const
    {
        const NodeInfo *info = nodes_.find(id);
        return info != nullptr && info->result;
    }

    const NodeInfo *info(Id id) const { return nodes_.find(id); }
    std::uint64_t buffer_accesses() const { return buffer_accesses_; }
    void forget() { nodes_.clear(); }

private:
    float score(Page page, Id id)
    {
        NodeInfo *info = nodes_.insert(id);
        info->result = false;
        info->bound = 0;
        ItemPointerSetInvalid(&info->heap_tid);
        const OffsetNumber offset = NodeOffset(id);
        if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page))
            return FLT_MAX;
        ItemId item = PageGetItemId(page, offset);
        if (!ItemIdIsNormal(item))
            return FLT_MAX;
        ElementView e{reinterpret_cast<const char *>(PageGetItem(page, item)), layout_};
        if (e.header()->kind != HNSW_ELEMENT_KIND || (e.header()->flags & HNSW_ELEMENT_FREE))
            return FLT_MAX;
        info->result = !e.is_deleted();
        info->heap_tid = e.header()->heap_tid;
        return CodeDistanceAndBound(codec_, e.code(), &info->bound);
    }

    Relation index_;
    const ElementLayout *layout_;
    Codec *codec_;
    NodeInfoMap nodes_;
    std::uint32_t *order_;
    std::uint64_t buffer_accesses_;
};

}  // namespace vecdb::pg::hnsw
