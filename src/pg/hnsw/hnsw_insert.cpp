/*
 * hnsw_insert.cpp -- aminsert: INSERT (Algorithm 1) through the pages.
 *
 * The new element's neighbours are found with the same search the scans
 * use (PageReader, ef_construction), chosen with Algorithm 4 on decoded
 * codes (keeping pruned candidates to fill the list, as the build and
 * pgvector do), and the element is written with its lists filled.  Then each
 * neighbour gets a link back: appended while its list has room, otherwise
 * the list is re-selected from its old members plus the new element.
 *
 * Concurrency.  Inserts hold HNSW_UPDATE_LOCK shared; one that will become
 * the entry point (a level above the graph's top, or the first element)
 * holds it exclusive, so the entry point only moves under that lock.  A
 * neighbour list is read under a share lock, re-selected with no lock held,
 * and written under an exclusive lock only if it did not change meanwhile
 * (otherwise the other writer's list stands).  Never two buffer locks at
 * once, so no deadlock.  Every page change goes through GenericXLog.
 */
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "../../core/graph/hnsw.h"
#include "../../core/graph/neighbor_select.h"
#include "../../core/graph/visited.h"
#include "../../core/splitmix64.h"
#include "hnsw_reader.h"

extern "C" {
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

#include "../types/vector.h"

namespace vecdb::pg::hnsw {

namespace core = vecdb::hnsw;

namespace {

/* Pages an insert looks at for room before extending the relation. */
constexpr int kPlacementTries = 4;

int RandomLevel(const MetaPageData &meta)
{
    const double ml = 1.0 / std::log(double(meta.m));
    const double u = 1.0 - pg_prng_double(&pg_global_prng_state); /* (0, 1] */
    return std::min<int>(int(std::floor(-std::log(u) * ml)), meta.max_level);
}

/* Copies node id's code into `code`; false if it is not a live element. */
bool ReadCode(Relation index, const IndexInfoCache *info, NodeId id, uint8 *code)
{
    Buffer buffer = ReadBuffer(index, NodeBlock(id));
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    const char *tuple = LiveElement(index, info, BufferGetPage(buffer), NodeBlock(id), NodeOffset(id));
    if (tuple != nullptr)
        memcpy(code, ElementView{tuple, &info->layout}.code(), info->layout.code_size);
    UnlockReleaseBuffer(buffer);
    return tuple != nullptr;
}

/* Writes `tuple` into a freed slot of its level or free space, from the
 * insert hint on; extends the index when the pages tried are full.  *hint
 * moves past the pages found full, so freed slots are found page by page.
 * A hint outside the element pages (a corrupt metapage) counts as the
 * first element page: any page is a correct place to look, and this
 * insert's hint replaces it. */
NodeId PlaceElement(Relation index, const IndexInfoCache *info, const char *tuple, int level, BlockNumber *hint)
{
    const ElementLayout &layout = info->layout;
    const Size size = layout.tuple_size(level);
    const BlockNumber first = 1 + info->meta.aux_pages;
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    BlockNumber block = *hint >= first && *hint < nblocks ? *hint : first;
    for (int tries = 0; block < nblocks && tries < kPlacementTries; block++, tries++) {
        Buffer buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        /* A freed slot: of the same size if there is one, else any whose
         * tuple can be resized in place (PageIndexTupleOverwrite keeps line
         * pointers, so no node id changes). */
        OffsetNumber reuse = InvalidOffsetNumber;
        const Size free_space = PageGetExactFreeSpace(page);
        for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++) {
            const char *e = PageElement(index, info, page, block, off);
            if (!(reinterpret_cast<const ElementHeader *>(e)->flags & HNSW_ELEMENT_FREE))
                continue;
            const Size old_size = ItemIdGetLength(PageGetItemId(page, off));
            if (old_size == size) {
                reuse = off;
                break;
            }
            if (reuse == InvalidOffsetNumber && (old_size > size || free_space >= size - old_size))
                reuse = off;
        }
        /* Room for the tuple, its line pointer and kTidReserve for every
         * element of the page, this one too (PlacedSize()). */
        const Size reserve = kTidReserve * (PageGetMaxOffsetNumber(page) + 1);
        if (reuse != InvalidOffsetNumber || PageGetFreeSpace(page) >= size + reserve) {
            GenericXLogState *state = GenericXLogStart(index);
            Page copy = GenericXLogRegisterBuffer(state, buffer, 0);
            OffsetNumber at = reuse;
            if (reuse != InvalidOffsetNumber) {
                const uint8 reuses = reinterpret_cast<const ElementHeader *>(CheckedElement(copy, reuse))->reuses;
                if (!PageIndexTupleOverwrite(copy, reuse, Item(tuple), size))
                    elog(ERROR, "hnsw: failed to reuse slot %u of block %u", reuse, block);
                reinterpret_cast<ElementHeader *>(CheckedElement(copy, reuse))->reuses = uint8(reuses + 1);
            } else {
                at = PageAddItem(copy, Item(tuple), size, InvalidOffsetNumber, false, false);
            }
            if (at == InvalidOffsetNumber)
                elog(ERROR, "hnsw: failed to add element to block %u", block);
            GenericXLogFinish(state);
            UnlockReleaseBuffer(buffer);
            *hint = block;
            return MakeNodeId(block, at);
        }
        UnlockReleaseBuffer(buffer);
        *hint = block + 1;
    }

    if (RelationGetNumberOfBlocks(index) > kMaxSlotBlock)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("hnsw index \"%s\" cannot grow beyond %u pages", RelationGetRelationName(index),
                               kMaxSlotBlock + 1)));
    LockRelationForExtension(index, ExclusiveLock);
    Buffer buffer = ReadBuffer(index, P_NEW);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    UnlockRelationForExtension(index, ExclusiveLock);
    GenericXLogState *state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buffer, GENERIC_XLOG_FULL_IMAGE);
    PageInit(page, BLCKSZ, 0);
    OffsetNumber at = PageAddItem(page, Item(tuple), size, InvalidOffsetNumber, false, false);
    if (at == InvalidOffsetNumber)
        elog(ERROR, "hnsw: failed to add element to a new page");
    GenericXLogFinish(state);
    block = BufferGetBlockNumber(buffer);
    UnlockReleaseBuffer(buffer);
    *hint = std::min(std::max(*hint, first), block);
    return MakeNodeId(block, at);
}

/* Sets the metapage's entry point and/or insert hint (WAL-logged). */
void UpdateMeta(Relation index, NodeId entry, int entry_level, BlockNumber insert_page)
{
    Buffer buffer = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState *state = GenericXLogStart(index);
    MetaPageData *meta = PageGetMeta(GenericXLogRegisterBuffer(state, buffer, 0));
    if (entry != kNoNode) {
        meta->entry_block = NodeBlock(entry);
        meta->entry_offset = NodeOffset(entry);
        meta->entry_level = int16(entry_level);
    }
    if (BlockNumberIsValid(insert_page))
        meta->insert_page = insert_page;
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buffer);
}

}  // namespace

/*
 * Decoded vectors of the nodes one insert (or one VACUUM step) reads: a node
 * met in several neighbour lists is read and decoded once (an insert's
 * re-selections read ~1,000 codes, mostly of the same few hundred nodes),
 * and a node its search scored is not read again: the search kept a copy of
 * its code (KeepCode()), decoded when first asked for.  Sound because a
 * live element's code never changes; a slot freed or reused meanwhile reads
 * as it did when first met.
 */
struct VectorCache {
    Relation index;
    const IndexInfoCache *info;
    Codec *codec;
    NodeId *keys;     /* open addressing; kNoNode marks an empty slot */
    float **vectors;  /* per slot: the decoded vector, null if not (yet) decoded */
    uint8 **codes;    /* per slot: the code kept by KeepCode(), not yet decoded */
    MemoryContext context; /* of all the above: the one current at MakeVectorCache() */
    char *arena;           /* vectors and codes are cut from blocks of it */
    Size arena_left;
    uint32 mask;
    uint32 count;
    uint8 *code;
};

namespace {

void InitSlots(VectorCache *c, uint32 slots)
{
    c->mask = slots - 1;
    c->count = 0;
    c->keys = static_cast<NodeId *>(MemoryContextAlloc(c->context, sizeof(NodeId) * slots));
    c->vectors = static_cast<float **>(MemoryContextAlloc(c->context, sizeof(float *) * slots));
    c->codes = static_cast<uint8 **>(MemoryContextAlloc(c->context, sizeof(uint8 *) * slots));
    for (uint32 i = 0; i < slots; i++)
        c->keys[i] = kNoNode;
}

/* Node id's slot, made (empty: no vector, no code) if it had none; *found
 * says which. */
uint32 FindSlot(VectorCache *c, NodeId id, bool *found)
{
    if ((c->count + 1) * 2 > c->mask + 1) {
        NodeId *keys = c->keys;
        float **vectors = c->vectors;
        uint8 **codes = c->codes;
        const uint32 old_slots = c->mask + 1;
        InitSlots(c, 2 * old_slots);
        for (uint32 i = 0; i < old_slots; i++)
            if (keys[i] != kNoNode) {
                bool moved;
                const uint32 j = FindSlot(c, keys[i], &moved);
                c->vectors[j] = vectors[i];
                c->codes[j] = codes[i];
            }
        pfree(keys);
        pfree(vectors);
        pfree(codes);
    }
    uint32 i = uint32(vecdb::splitmix64_mix(id)) & c->mask;
    while (c->keys[i] != kNoNode && c->keys[i] != id)
        i = (i + 1) & c->mask;
    *found = c->keys[i] == id;
    if (!*found) {
        c->keys[i] = id;
        c->vectors[i] = nullptr;
        c->codes[i] = nullptr;
        c->count++;
    }
    return i;
}

/* Memory that lives as long as the cache, without a chunk header or
 * rounding to a power of two per vector (a 100-d vector took 528 bytes of
 * palloc for its 404). */
void *CacheAlloc(VectorCache *c, Size bytes)
{
    constexpr Size kArenaBlock = Size(64) << 10;
    bytes = MAXALIGN(bytes);
    if (bytes > c->arena_left) {
        const Size block = Max(bytes, kArenaBlock);
        c->arena = static_cast<char *>(MemoryContextAlloc(c->context, block));
        c->arena_left = block;
    }
    void *p = c->arena;
    c->arena += bytes;
    c->arena_left -= bytes;
    return p;
}

/* The selection vector of `code` (one more float: 1 if clamped). */
float *DecodeCached(VectorCache *c, const uint8 *code)
{
    const uint32 dims = SelectionDims(c->codec);
    float *v = static_cast<float *>(CacheAlloc(c, sizeof(float) * (dims + 1)));
    DecodeForSelection(c->codec, code, v);
    v[dims] = CodeClamped(c->codec, code) ? 1.0f : 0.0f;
    return v;
}

}  // namespace

VectorCache *MakeVectorCache(Relation index, const IndexInfoCache *info, Codec *codec)
{
    auto *c = static_cast<VectorCache *>(palloc0(sizeof(VectorCache)));
    c->context = CurrentMemoryContext;
    c->index = index;
    c->info = info;
    c->codec = codec;
    InitSlots(c, 1024);
    c->code = static_cast<uint8 *>(palloc(info->layout.code_size));
    return c;
}

void KeepCode(VectorCache *c, NodeId id, const uint8 *code)
{
    bool found;
    const uint32 i = FindSlot(c, id, &found);
    if (found)
        return;
    c->codes[i] = static_cast<uint8 *>(CacheAlloc(c, c->info->layout.code_size));
    memcpy(c->codes[i], code, c->info->layout.code_size);
}

const float *CachedVector(VectorCache *c, NodeId id)
{
    bool found;
    const uint32 i = FindSlot(c, id, &found);
    if (found) {
        if (c->codes[i] != nullptr) {
            c->vectors[i] = DecodeCached(c, c->codes[i]);
            c->codes[i] = nullptr;
        }
        return c->vectors[i];
    }
    if (ReadCode(c->index, c->info, id, c->code))
        c->vectors[i] = DecodeCached(c, c->code);
    return c->vectors[i];
}

float PairDistance(const Codec *codec, const float *a, const float *b)
{
    const uint32 dims = SelectionDims(codec);
    if (a[dims] != 0.0f || b[dims] != 0.0f)
        return FLT_MAX;
    return SelectionDistance(codec, a, b);
}

bool NodeVector(VectorCache *c, NodeId id, float *out)
{
    if (!ReadCode(c->index, c->info, id, c->code))
        return false;
    Decode(c->codec, c->code, out);
    return true;
}

bool InSortedIds(const NodeId *ids, uint32 n, NodeId id)
{
    return n > 0 && std::binary_search(ids, ids + n, id);
}

/*
 * Makes node `base`'s layer-lc list hold `added` too: appended while there
 * is room, else the list is re-selected (Algorithm 4 on decoded codes) from
 * its members plus `added`.  Members and candidates in the sorted `deleted`
 * ids are dropped (VACUUM's repair passes the deleted elements and their
 * neighbours as `added`).  The list is written only if it is still what was
 * read; false if it was not (another writer changed it meanwhile, and its
 * list stands), true otherwise.
 */
bool RelinkNode(Relation index, const IndexInfoCache *info, VectorCache *cache, NodeId base, int lc,
                const NodeId *added, uint32 n_added, const NodeId *deleted, uint32 n_deleted, bool keep_added)
{
    const ElementLayout &layout = info->layout;
    const uint32 max_links = layout.max_links(lc);
    Codec *codec = cache->codec;

    /* Fast path: room for every new link. */
    const BlockNumber block = NodeBlock(base);
    Buffer buffer = ReadBuffer(index, block);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    char *e = LiveElement(index, info, BufferGetPage(buffer), block, NodeOffset(base));
    if (e == nullptr || reinterpret_cast<ElementHeader *>(e)->level < lc) {
        UnlockReleaseBuffer(buffer);
        return true;
    }
    ElementView view{e, &layout};
    const uint32 count = view.count(lc);
    if (n_deleted == 0 && count + n_added <= max_links) {
        GenericXLogState *state = GenericXLogStart(index);
        Page copy = GenericXLogRegisterBuffer(state, buffer, 0);
        char *ce = CheckedElement(copy, NodeOffset(base));
        auto *slots = reinterpret_cast<Slot *>(ce + layout.layer_offset(view.level(), lc));
        IdsToSlots(added, n_added, slots + count);
        reinterpret_cast<uint8 *>(ce + layout.counts_offset())[lc] = uint8(count + n_added);
        GenericXLogFinish(state);
        UnlockReleaseBuffer(buffer);
        return true;
    }
    /* Full: copy the list (checked), decide unlocked. */
    NodeId *ids = static_cast<NodeId *>(palloc(sizeof(NodeId) * (max_links + n_added)));
    ElementNeighbors(index, info, block, view, lc, ids);
    const uint32 total = count + n_added;
    Slot *old_slots = static_cast<Slot *>(palloc(sizeof(Slot) * max_links));
    memcpy(old_slots, view.slots(lc), sizeof(Slot) * count);
    if (n_added > 0) /* VACUUM's repair may add none */
        memcpy(ids + count, added, sizeof(NodeId) * n_added);
    const int base_level = view.level();
    UnlockReleaseBuffer(buffer);

    const float *base_vector = CachedVector(cache, base);
    if (base_vector == nullptr)
        return true;
    const float **vectors = static_cast<const float **>(palloc(sizeof(float *) * total));
    auto *candidates = static_cast<core::ScoredId<uint32> *>(palloc(sizeof(core::ScoredId<uint32>) * total));
    uint32 n = 0;
    for (uint32 i = 0; i < total; i++) {
        vectors[i] = nullptr;
        if (ids[i] == base || InSortedIds(deleted, n_deleted, ids[i]) ||
            (vectors[i] = CachedVector(cache, ids[i])) == nullptr)
            continue;
        candidates[n++] = core::ScoredId<uint32>{SelectionDistance(codec, base_vector, vectors[i]), i};
    }
    std::sort(candidates, candidates + n,
              [](const core::ScoredId<uint32> &a, const core::ScoredId<uint32> &b) { return core::closer(a, b); });
    /* Drop duplicate ids (a candidate may already be a member). */
    uint32 unique = 0;
    for (uint32 i = 0; i < n; i++) {
        bool seen = false;
        for (uint32 j = 0; j < unique && !seen; j++)
            seen = ids[candidates[j].id] == ids[candidates[i].id];
        if (!seen)
            candidates[unique++] = candidates[i];
    }
    auto *kept = static_cast<core::ScoredId<uint32> *>(palloc(sizeof(core::ScoredId<uint32>) * max_links));
    const std::size_t k = core::select_neighbors_heuristic(
        candidates, unique, max_links,
        [&](uint32 a, uint32 b) { return PairDistance(codec, vectors[a], vectors[b]); }, true, kept,
        static_cast<core::ScoredId<uint32> *>(palloc(sizeof(core::ScoredId<uint32>) * Max(unique, 1u))));
    NodeId *new_ids = static_cast<NodeId *>(palloc(sizeof(NodeId) * max_links));
    bool has_added = false;
    for (std::size_t i = 0; i < k; i++) {
        new_ids[i] = ids[kept[i].id];
        has_added |= n_added > 0 && new_ids[i] == added[0];
    }
    /* keep_added: this link is a node's way in (its nearest neighbour's
     * link to it), so it is not pruned.  It replaces the kept member nearest
     * to the added node: that one most likely stays reachable through it. */
    if (keep_added && !has_added && k > 0 && vectors[count] != nullptr) {
        const float *added_vector = vectors[count];
        std::size_t victim = 0;
        float nearest = FLT_MAX;
        for (std::size_t i = 0; i < k; i++) {
            const float d = SelectionDistance(codec, vectors[kept[i].id], added_vector);
            if (d < nearest) {
                nearest = d;
                victim = i;
            }
        }
        new_ids[victim] = added[0];
    }
    /* Re-selected into the same members (the added node pruned, nothing
     * dropped; the order of a list means nothing): nothing to write, and no
     * WAL record.  Near-duplicate inserts end here for most full lists. */
    if (k == count) {
        NodeId *before = static_cast<NodeId *>(palloc(sizeof(NodeId) * count));
        NodeId *after = static_cast<NodeId *>(palloc(sizeof(NodeId) * count));
        memcpy(before, ids, sizeof(NodeId) * count);
        memcpy(after, new_ids, sizeof(NodeId) * count);
        std::sort(before, before + count);
        std::sort(after, after + count);
        if (memcmp(before, after, sizeof(NodeId) * count) == 0)
            return true;
    }

    buffer = ReadBuffer(index, block);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    e = LiveElement(index, info, BufferGetPage(buffer), block, NodeOffset(base));
    bool stands = true;
    if (e != nullptr && reinterpret_cast<ElementHeader *>(e)->level == base_level) {
        ElementView now{e, &layout};
        stands = now.count(lc) == count && memcmp(now.slots(lc), old_slots, sizeof(Slot) * count) == 0;
        if (stands) {
            GenericXLogState *state = GenericXLogStart(index);
            Page copy = GenericXLogRegisterBuffer(state, buffer, 0);
            char *ce = CheckedElement(copy, NodeOffset(base));
            auto *slots = reinterpret_cast<Slot *>(ce + layout.layer_offset(base_level, lc));
            IdsToSlots(new_ids, uint32(k), slots);
            reinterpret_cast<uint8 *>(ce + layout.counts_offset())[lc] = uint8(k);
            GenericXLogFinish(state);
        }
    }
    UnlockReleaseBuffer(buffer);
    return stands;
}

namespace {

/* Writes `id` into slot `at` of base's layer-0 list (at == n appends) if
 * the list is still expect[0 .. n); false, with nothing written, if it
 * changed or base is no longer a live element of that level. */
bool WriteSlot(Relation index, const IndexInfoCache *info, NodeId base, int base_level, const Slot *expect, uint32 n,
               uint32 at, NodeId id)
{
    const ElementLayout &layout = info->layout;
    Buffer buffer = ReadBuffer(index, NodeBlock(base));
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    const char *e = LiveElement(index, info, BufferGetPage(buffer), NodeBlock(base), NodeOffset(base));
    bool written = false;
    if (e != nullptr && reinterpret_cast<const ElementHeader *>(e)->level == base_level) {
        const ElementView now{e, &layout};
        if (now.count(0) == n && memcmp(now.slots(0), expect, sizeof(Slot) * n) == 0) {
            GenericXLogState *state = GenericXLogStart(index);
            char *ce = CheckedElement(GenericXLogRegisterBuffer(state, buffer, 0), NodeOffset(base));
            IdsToSlots(&id, 1, reinterpret_cast<Slot *>(ce + layout.layer_offset(base_level, 0)) + at);
            if (at == n)
                reinterpret_cast<uint8 *>(ce + layout.counts_offset())[0] = uint8(n + 1);
            GenericXLogFinish(state);
            written = true;
        }
    }
    UnlockReleaseBuffer(buffer);
    return written;
}

/* Node id's layer-0 list, checked, into ids and its raw slots into slots
 * (max_links(0) each), with its level; false if it is not a live element. */
bool ReadList(Relation index, const IndexInfoCache *info, NodeId id, NodeId *ids, Slot *slots, uint32 *n,
              int *level)
{
    Buffer buffer = ReadBuffer(index, NodeBlock(id));
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    const char *e = LiveElement(index, info, BufferGetPage(buffer), NodeBlock(id), NodeOffset(id));
    if (e != nullptr) {
        const ElementView view{e, &info->layout};
        *n = ElementNeighbors(index, info, NodeBlock(id), view, 0, ids);
        memcpy(slots, view.slots(0), sizeof(Slot) * *n);
        *level = view.level();
    }
    UnlockReleaseBuffer(buffer);
    return e != nullptr;
}

}  // namespace

/*
 * Links v to u on layer 0 without cutting any path, as the core's
 * link_layer0() does (src/core/graph/hnsw_connect.cpp): u is appended while
 * v's list has room; else u takes the place of a member w that u links to
 * (v -> u -> w keeps every path that went v -> w; the farthest such w from
 * v), or failing that of v's farthest member, which u's list takes in if
 * it has room.  A re-selection (RelinkNode) may drop a member whose only
 * way in was that list; this never does.  False if v refuses (full, no
 * member shared with u, u full) or a list changed meanwhile.
 */
bool SpliceLink(Relation index, const IndexInfoCache *info, VectorCache *cache, NodeId v, NodeId u)
{
    const uint32 max_links = info->layout.max_links(0);
    NodeId *u_ids = static_cast<NodeId *>(palloc(sizeof(NodeId) * max_links));
    NodeId *v_ids = static_cast<NodeId *>(palloc(sizeof(NodeId) * max_links));
    Slot *u_slots = static_cast<Slot *>(palloc(sizeof(Slot) * max_links));
    Slot *v_slots = static_cast<Slot *>(palloc(sizeof(Slot) * max_links));
    uint32 n_u, n_v;
    int u_level, v_level;
    if (v == u || !ReadList(index, info, u, u_ids, u_slots, &n_u, &u_level) ||
        !ReadList(index, info, v, v_ids, v_slots, &n_v, &v_level))
        return false;
    if (std::find(v_ids, v_ids + n_v, u) != v_ids + n_v)
        return true;
    if (n_v < max_links)
        return WriteSlot(index, info, v, v_level, v_slots, n_v, n_v, u);
    const float *v_vector = CachedVector(cache, v);
    if (v_vector == nullptr)
        return false;
    int shared = -1, farthest = -1;
    float shared_distance = -1.0f, farthest_distance = -1.0f;
    for (uint32 i = 0; i < n_v; i++) {
        const float *w = CachedVector(cache, v_ids[i]);
        const float d = w != nullptr ? PairDistance(cache->codec, v_vector, w) : FLT_MAX;
        if (std::find(u_ids, u_ids + n_u, v_ids[i]) != u_ids + n_u && d > shared_distance) {
            shared = int(i);
            shared_distance = d;
        }
        if (v_ids[i] != u && d > farthest_distance) {
            farthest = int(i);
            farthest_distance = d;
        }
    }
    if (shared >= 0)
        return WriteSlot(index, info, v, v_level, v_slots, n_v, uint32(shared), u);
    if (farthest < 0 || n_u >= max_links ||
        !WriteSlot(index, info, u, u_level, u_slots, n_u, n_u, v_ids[farthest]))
        return false;
    return WriteSlot(index, info, v, v_level, v_slots, n_v, uint32(farthest), u);
}

/*
 * The neighbours `vector` (also prepared in the codec as the query) should
 * have on layers 0 .. level, searched from `entry` (on layer entry_level):
 * selected[lc][0 .. count[lc]).  The search ranks candidates by the index's
 * metric; Algorithm 4 chooses among them by SelectionDistance().  Shared
 * with VACUUM.  If `found` is given, the live layer-0 candidates (cached)
 * are left in (*found)[0 .. *n_found).
 */
void FindNeighbors(Relation index, const IndexInfoCache *info, VectorCache *cache, const float *vector, NodeId entry,
                   int entry_level, int level, NodeId skip, NodeId **selected, uint32 *count, NodeId **found,
                   uint32 *n_found)
{
    const ElementLayout &layout = info->layout;
    Codec *codec = cache->codec;
    const std::size_t ef = info->meta.ef_construction;
    PageReader reader;
    reader.init(index, info, codec);
    reader.keep_codes(cache);
    vecdb::hnsw::SearchScratch<NodeId> scratch;
    scratch.init(palloc(vecdb::hnsw::SearchScratch<NodeId>::bytes(ef, reader.max_degree())), ef, reader.max_degree());
    vecdb::hnsw::HashVisitedSet<NodeId> visited;
    visited.init(PallocAllocator(), 1024); /* grows as the search goes */
    vecdb::hnsw::SearchStats stats;

    for (int lc = 0; lc <= level; lc++)
        count[lc] = 0;
    if (entry == kNoNode)
        return;  /* the reader has pinned nothing yet */
    core::ScoredId<NodeId> cur{reader.distance(entry), entry};
    for (int lc = entry_level; lc > level; lc--)
        cur = core::search_layer_greedy(reader, scratch, cur, lc, stats);

    auto *ep = static_cast<core::ScoredId<NodeId> *>(palloc(sizeof(core::ScoredId<NodeId>) * ef));
    std::size_t n_ep = 1;
    ep[0] = cur;
    const float **vectors = static_cast<const float **>(palloc(sizeof(float *) * ef));
    auto *candidates = static_cast<core::ScoredId<uint32> *>(palloc(sizeof(core::ScoredId<uint32>) * ef));
    auto *kept = static_cast<core::ScoredId<uint32> *>(palloc(sizeof(core::ScoredId<uint32>) * 2 * layout.m));
    NodeId *candidate_ids = static_cast<NodeId *>(palloc(sizeof(NodeId) * ef));
    auto *pruned = static_cast<core::ScoredId<uint32> *>(palloc(sizeof(core::ScoredId<uint32>) * ef));
    for (int lc = std::min(level, entry_level); lc >= 0; lc--) {
        const uint32 n = core::search_layer(reader, visited, scratch, ep, n_ep, ef, lc, stats);
        memcpy(ep, scratch.results, sizeof(core::ScoredId<NodeId>) * n);
        n_ep = std::max<std::size_t>(n, 1);
        uint32 m = 0;
        for (uint32 i = 0; i < n; i++) {
            if (ep[i].id == skip || (vectors[m] = CachedVector(cache, ep[i].id)) == nullptr)
                continue;
            candidates[m] = core::ScoredId<uint32>{SelectionDistance(codec, vector, vectors[m]), m};
            candidate_ids[m] = ep[i].id;
            m++;
        }
        std::sort(candidates, candidates + m, [](const core::ScoredId<uint32> &a, const core::ScoredId<uint32> &b) {
            return core::closer(a, b);
        });
        const std::size_t k = core::select_neighbors_heuristic(
            candidates, m, layout.max_links(lc),
            [&](uint32 a, uint32 b) { return PairDistance(codec, vectors[a], vectors[b]); }, true, kept, pruned);
        selected[lc] = static_cast<NodeId *>(palloc(sizeof(NodeId) * std::max<std::size_t>(k, 1)));
        for (std::size_t i = 0; i < k; i++)
            selected[lc][i] = candidate_ids[kept[i].id];
        count[lc] = uint32(k);
        if (lc == 0 && found != nullptr) {
            *found = candidate_ids;
            *n_found = m;
        }
    }
    reader.release();
}

namespace {

/*
 * The memory of one insert, mostly the decoded vectors of ~1,000 nodes (3 MB
 * at 784 dimensions).  A context made and deleted per insert gave that
 * memory back to the kernel each time, and faulting it in again took ~45%
 * of a 784-d insert (perf of a pgbench backend: kernel page-fault time, and
 * the decode's stores to fresh pages).  So a backend keeps one context
 * between inserts, reset after each; its first block, which a reset keeps,
 * is made again as large as the largest insert so far needed (up to
 * kInsertKeepMax).  One insert runs at a time in a backend; an insert that
 * failed is reset by the next.
 */
MemoryContext insert_context = nullptr;
Size insert_keep = ALLOCSET_DEFAULT_INITSIZE;
constexpr Size kInsertKeepMax = Size(16) << 20;

MemoryContext BeginInsertMemory()
{
    if (insert_context == nullptr)
        insert_context = AllocSetContextCreate(TopMemoryContext, "hnsw insert", 0, insert_keep,
                                               Max(insert_keep, Size(ALLOCSET_DEFAULT_MAXSIZE)));
    MemoryContextReset(insert_context);
    return insert_context;
}

void EndInsertMemory()
{
    const Size used = MemoryContextMemAllocated(insert_context, false);
    if (used > insert_keep && insert_keep < kInsertKeepMax) {
        insert_keep = Min(kInsertKeepMax, TYPEALIGN(Size(8192), used));
        MemoryContextDelete(insert_context);
        insert_context = nullptr;
    } else {
        MemoryContextReset(insert_context);
    }
}

/*
 * An UPDATE that leaves the indexed vector as it was (of other columns, not
 * HOT) inserts the old row's vector again.  Its element is still live (the
 * old row version is not vacuumed yet) and near the new code.  If a short
 * search finds it, the new element copies its layer-0 list and is linked
 * from it: no ef_construction search and no re-selection of ~32
 * neighbours' lists.  The search: the greedy descent to layer 0, and if the
 * node it stops on is not the one, a search of layer 0 from there with
 * ef = kSameCodeEf (greedy alone found 75% of GloVe-100's updated rows and
 * 96% of MNIST's; with it, 99% and 99.9%).  Returns the live element found
 * whose code is the same bytes (a clamped code excepted: clamped rows far
 * apart share a code, CodeClamped), else kNoNode.
 */
constexpr std::size_t kSameCodeEf = 16;
NodeId FindSameCode(Relation index, const IndexInfoCache *info, Codec *codec, const uint8 *code, NodeId entry,
                    int entry_level)
{
    if (entry == kNoNode || CodeClamped(codec, code))
        return kNoNode;
    PageReader reader;
    reader.init(index, info, codec);
    vecdb::hnsw::SearchScratch<NodeId> scratch;
    scratch.init(palloc(vecdb::hnsw::SearchScratch<NodeId>::bytes(kSameCodeEf, reader.max_degree())), kSameCodeEf,
                 reader.max_degree());
    vecdb::hnsw::SearchStats stats;
    /* The same bytes score the same float: only nodes at exactly the code's
     * own distance can hold them. */
    const float own = CodeDistance(codec, code);
    uint8 *stored = static_cast<uint8 *>(palloc(info->layout.code_size));
    const auto same = [&](const core::ScoredId<NodeId> &node) {
        return node.distance == own && reader.is_result(node.id) && ReadCode(index, info, node.id, stored) &&
               memcmp(stored, code, info->layout.code_size) == 0;
    };
    core::ScoredId<NodeId> cur{reader.distance(entry), entry};
    for (int lc = entry_level; lc >= 0; lc--)
        cur = core::search_layer_greedy(reader, scratch, cur, lc, stats);
    NodeId found = kNoNode;
    if (same(cur)) {
        found = cur.id;
    } else {
        vecdb::hnsw::HashVisitedSet<NodeId> visited;
        visited.init(PallocAllocator(), 256);
        const uint32 n = core::search_layer(reader, visited, scratch, &cur, 1, kSameCodeEf, 0, stats);
        for (uint32 i = 0; i < n && found == kNoNode; i++)
            if (same(scratch.results[i]))
                found = scratch.results[i].id;
    }
    reader.release();
    return found;
}

/* Heap row `tid` joins element id (AddHeapTid); false if it cannot. */
bool ShareElement(Relation index, const IndexInfoCache *info, NodeId id, const uint8 *code, const FilterValue &filter,
                  ItemPointer tid)
{
    Buffer buffer = ReadBuffer(index, NodeBlock(id));
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    const bool added = AddHeapTid(index, info, buffer, NodeOffset(id), code, filter, tid);
    UnlockReleaseBuffer(buffer);
    return added;
}

/*
 * Heap row `tid` joins the element of its code among ids[0 .. n) (cached),
 * if one is there and can take it (AddHeapTid); false otherwise.  An
 * insert's layer-0 candidates hold the element of a copy of its vector if
 * the graph has one, but not always first: with per-vector scales (e8,
 * h4) another code can decode nearer, and near copies can decode the same
 * (sq8: the same levels) with other bytes of bounds; of two such, neighbour
 * selection keeps one.  So every candidate whose code decodes as this one
 * does is tried.  A clamped code is left
 * alone, as FindSameCode() leaves it.
 */
bool ShareNeighbor(Relation index, const IndexInfoCache *info, VectorCache *cache, const NodeId *ids, uint32 n,
                   const uint8 *code, const FilterValue &filter, ItemPointer tid)
{
    Codec *codec = cache->codec;
    if (n == 0 || CodeClamped(codec, code))
        return false;
    const uint32 dims = SelectionDims(codec);
    float *decoded = static_cast<float *>(palloc(sizeof(float) * dims));
    DecodeForSelection(codec, code, decoded);
    for (uint32 i = 0; i < n; i++) {
        const float *v = CachedVector(cache, ids[i]);
        if (v != nullptr && memcmp(v, decoded, sizeof(float) * dims) == 0 &&
            ShareElement(index, info, ids[i], code, filter, tid))
            return true;
    }
    return false;
}

/*
 * The new element (level 0) beside element `same`: its layer-0 list is a
 * copy of same's, and same links to it, in place of a member the copy holds
 * if same's list is full.  So nothing same reached before is cut off (each
 * member is still reached, through the new element), and no list is
 * re-selected: a re-selection forced to keep the new element dropped other
 * members, and stranded rows (TAP 007 (d)).  False, with nothing written,
 * if same is no longer a live element.
 */
bool InsertBeside(Relation index, const IndexInfoCache *info, Codec *codec, NodeId same, const uint8 *code,
                  ItemPointer heap_tid, const FilterValue &filter, BlockNumber hint)
{
    const ElementLayout &layout = info->layout;
    const uint32 max_links = layout.max_links(0);
    NodeId *list = static_cast<NodeId *>(palloc(sizeof(NodeId) * max_links));
    const uint32 n = ReadNeighbors(index, info, same, 0, list);
    if (n == 0 && !ReadCode(index, info, same, static_cast<uint8 *>(palloc(layout.code_size))))
        return false;
    char *tuple = static_cast<char *>(palloc(layout.tuple_size(0)));
    FormElement(layout, 0, heap_tid, filter, code, tuple);
    reinterpret_cast<uint8 *>(tuple + layout.counts_offset())[0] = uint8(n);
    Slot *copied = reinterpret_cast<Slot *>(tuple + layout.layer_offset(0, 0));
    IdsToSlots(list, n, copied);
    BlockNumber new_hint = hint;
    const NodeId id = PlaceElement(index, info, tuple, 0, &new_hint);
    if (new_hint != hint)
        UpdateMeta(index, kNoNode, 0, new_hint);

    Slot slot;
    IdsToSlots(&id, 1, &slot);
    Buffer buffer = ReadBuffer(index, NodeBlock(same));
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    char *e = LiveElement(index, info, BufferGetPage(buffer), NodeBlock(same), NodeOffset(same));
    int at = -1; /* the slot of same's list that takes the new element */
    if (e != nullptr) {
        const ElementView view{e, &layout};
        const uint32 count = view.count(0);
        if (unlikely(count > max_links))
            ReportCorruption(index, NodeBlock(same), "An element has %u neighbours on layer 0, at most %u.", count,
                             max_links);
        if (count < max_links)
            at = int(count);
        for (uint32 i = count; at < 0 && i-- > 0;)
            if (std::find(copied, copied + n, view.slots(0)[i]) != copied + n)
                at = int(i);
        if (at >= 0) {
            GenericXLogState *state = GenericXLogStart(index);
            char *ce = CheckedElement(GenericXLogRegisterBuffer(state, buffer, 0), NodeOffset(same));
            reinterpret_cast<Slot *>(ce + layout.layer_offset(view.level(), 0))[at] = slot;
            if (uint32(at) == count)
                reinterpret_cast<uint8 *>(ce + layout.counts_offset())[0] = uint8(count + 1);
            GenericXLogFinish(state);
        }
    }
    UnlockReleaseBuffer(buffer);
    /* same's list changed since it was copied, beyond recognition (or same
     * was freed): link the new element in as an insert does. */
    if (at < 0)
        RelinkNode(index, info, MakeVectorCache(index, info, codec), same, 0, &id, 1, nullptr, 0, true);
    return true;
}

}  // namespace

void InsertVector(Relation index, const float *vector, ItemPointer heap_tid, const FilterValue &filter, bool unchanged)
{
    const IndexInfoCache *info = GetIndexInfo(index);
    const MetaPageData &meta = info->meta;
    const ElementLayout &layout = info->layout;
    MemoryContext old = MemoryContextSwitchTo(BeginInsertMemory());

    /* Stored as the build stores it (normalized under cosine). */
    float *v = static_cast<float *>(palloc(sizeof(float) * meta.dims));
    PrepareRow(meta, vector, v);
    Codec *codec = MakeCodec(info);
    uint8 *code = static_cast<uint8 *>(palloc(layout.code_size));
    Encode(codec, v, code);
    SetQuery(codec, v);
    const int level = RandomLevel(meta);

    LOCKMODE mode = ShareLock;
    LockPage(index, HNSW_UPDATE_LOCK, mode);
    NodeId entry;
    int entry_level;
    BlockNumber hint;
    ReadEntryPoint(index, &entry, &entry_level, &hint);
    if (entry == kNoNode || level > entry_level) {
        UnlockPage(index, HNSW_UPDATE_LOCK, mode);
        mode = ExclusiveLock;
        LockPage(index, HNSW_UPDATE_LOCK, mode);
        ReadEntryPoint(index, &entry, &entry_level, &hint);
    }

    /* Rows that share an element add no node, whatever level they drew. */
    if (unchanged) {
        const NodeId same = FindSameCode(index, info, codec, code, entry, entry_level);
        if (same != kNoNode &&
            (ShareElement(index, info, same, code, filter, heap_tid) ||
             (mode == ShareLock && InsertBeside(index, info, codec, same, code, heap_tid, filter, hint)))) {
            UnlockPage(index, HNSW_UPDATE_LOCK, mode);
            MemoryContextSwitchTo(old);
            EndInsertMemory();
            return;
        }
    }

    auto **selected = static_cast<NodeId **>(palloc0(sizeof(NodeId *) * (level + 1)));
    auto *count = static_cast<uint32 *>(palloc0(sizeof(uint32) * (level + 1)));
    VectorCache *cache = MakeVectorCache(index, info, codec);
    float *v_selection = static_cast<float *>(palloc(sizeof(float) * SelectionDims(codec)));
    ToSelectionSpace(codec, v, v_selection);
    NodeId *found = nullptr;
    uint32 n_found = 0;
    FindNeighbors(index, info, cache, v_selection, entry, entry_level, level, kNoNode, selected, count, &found,
                  &n_found);
    /* A copy of a vector the graph holds: its row joins that element. */
    if (ShareNeighbor(index, info, cache, found, n_found, code, filter, heap_tid)) {
        UnlockPage(index, HNSW_UPDATE_LOCK, mode);
        MemoryContextSwitchTo(old);
        EndInsertMemory();
        return;
    }

    /* A clamped code (CodeClamped) decodes to the corner of sq8's ranges,
     * as every row that left them does: distances among such rows say
     * nothing, and re-selecting a list by them drops members at random
     * (25,000 rows drifting past ranges learned from the first 5,000: all
     * but ~500 of them unreachable).  So its links in are spliced, which
     * drops no member (SpliceLink), and its layer-0 list is half full, to
     * take in the members splicing moves. */
    const bool clamped = CodeClamped(codec, code);
    if (clamped)
        count[0] = Min(count[0], layout.max_links(0) / 2);
    char *tuple = static_cast<char *>(palloc(layout.tuple_size(level)));
    FormElement(layout, level, heap_tid, filter, code, tuple);
    for (int lc = 0; lc <= level; lc++) {
        reinterpret_cast<uint8 *>(tuple + layout.counts_offset())[lc] = uint8(count[lc]);
        IdsToSlots(selected[lc], count[lc], reinterpret_cast<Slot *>(tuple + layout.layer_offset(level, lc)));
    }
    BlockNumber new_hint = hint;
    const NodeId id = PlaceElement(index, info, tuple, level, &new_hint);

    /* The nearest neighbour keeps its link to the new node (its way in).
     * A clamped code's estimates mislead the walk near it, so every
     * neighbour keeps its link: many ways in, spliced where they can be. */
    for (int lc = 0; lc <= level; lc++)
        for (uint32 i = 0; i < count[lc]; i++) {
            if (lc == 0 && clamped && SpliceLink(index, info, cache, selected[lc][i], id))
                continue;
            RelinkNode(index, info, cache, selected[lc][i], lc, &id, 1, nullptr, 0, lc == 0 && (i == 0 || clamped));
        }

    const bool new_entry = entry == kNoNode || level > entry_level;
    if (new_entry || new_hint != hint)
        UpdateMeta(index, new_entry ? id : kNoNode, level, new_hint != hint ? new_hint : InvalidBlockNumber);
    UnlockPage(index, HNSW_UPDATE_LOCK, mode);

    MemoryContextSwitchTo(old);
    EndInsertMemory();
}

bool Insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation, IndexUniqueCheck, bool unchanged,
            IndexInfo *)
{
    if (isnull[0])
        return false;
    const IndexInfoCache *info = GetIndexInfo(index);
    float *buffer = static_cast<float *>(palloc(sizeof(float) * info->meta.dims));
    const float *x = IndexedRow(index, info->meta, values[0], buffer);
    if (!Orderable(Metric(info->meta.metric), x, info->meta.dims))
        return false;
    InsertVector(index, x, heap_tid, MakeFilterValue(GetFilterColumn(index), values, isnull), unchanged);
    pfree(buffer);
    return false;
}

}  // namespace vecdb::pg::hnsw
