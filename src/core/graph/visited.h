/*
 * visited.h -- the visited sets of the graph search (the paper's v).
 *
 * The search loop is a template over its visited set, which offers:
 *     void clear();          forget every id (O(1): bumps an epoch)
 *     bool insert(Id id);    true if id was not in the set (and now is)
 *     bool contains(Id id) const;
 *
 * Two implementations:
 *   - EpochVisitedSet: dense uint32 ids below a known capacity (the in-memory
 *     build graph): one 16-bit tag per node, "visited" meaning "tag == the
 *     current epoch", as in hnswlib's VisitedList.
 *   - HashVisitedSet<Id>: sparse ids (a PostgreSQL item pointer, or a 64-bit
 *     packing of one): open addressing with linear probing, each slot tagged
 *     with the epoch that filled it, so clear() is O(1) too.  It grows through
 *     a ScratchAllocator when half full.
 *
 * Both are trivially destructible views over memory their owner frees.
 * The current epoch lives in the struct, not in the memory: copying one
 * and using both copies over the same tags confuses them, so pass visited
 * sets by reference or pointer.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "scored_heap.h"
#include "../splitmix64.h"

namespace vecdb::hnsw {

/// Visited set for dense ids 0 .. capacity-1.
struct EpochVisitedSet {
    using Id = std::uint32_t;

    std::uint16_t *tags;     ///< capacity tags, owned by the caller
    std::uint32_t capacity;  ///< ids must be < capacity
    std::uint16_t epoch;     ///< tags equal to this are visited

    static std::size_t bytes(std::uint32_t capacity) { return std::size_t(capacity) * sizeof(std::uint16_t); }

    /// memory: bytes(capacity) bytes, 2-byte aligned.
    void init(void *memory, std::uint32_t cap)
    {
        tags = static_cast<std::uint16_t *>(memory);
        capacity = cap;
        std::memset(tags, 0, bytes(cap));
        epoch = 1;
    }

    void clear()
    {
        if (++epoch == 0) {  // wrapped after 65535 clears: start over
            std::memset(tags, 0, bytes(capacity));
            epoch = 1;
        }
    }

    bool insert(Id id)
    {
        if (tags[id] == epoch)
            return false;
        tags[id] = epoch;
        return true;
    }

    bool contains(Id id) const { return tags[id] == epoch; }

    /// The tags belong to the caller; nothing to give back.
    void release() {}
};

/// Hash of an id for HashVisitedSet: the id's bytes, zero-extended to 64
/// bits, through mix64.  Works for any trivially copyable id of at most 8
/// bytes without padding (uint32, uint64, a 6-byte ItemPointerData).
template <class Id>
struct IdHash {
    static_assert(std::is_trivially_copyable<Id>::value && sizeof(Id) <= 8, "specialize IdHash for this id type");
    std::uint64_t operator()(const Id &id) const
    {
        std::uint64_t x = 0;
        std::memcpy(&x, &id, sizeof(Id));
        return splitmix64_mix(x);
    }
};

/// Visited set for sparse ids.  Id needs operator== and an IdHash.
template <class Id, class Hash = IdHash<Id>>
struct HashVisitedSet {
    struct Slot {
        Id id;
        std::uint32_t epoch;  ///< slot is in use iff epoch == the set's epoch
    };

    Slot *slots;
    std::size_t mask;   ///< slot count - 1 (slot count is a power of two)
    std::size_t count;  ///< ids in the set
    std::uint32_t epoch;
    ScratchAllocator allocator;

    /// initial_slots is rounded up to a power of two (at least 16).
    void init(ScratchAllocator alloc, std::size_t initial_slots = 1024)
    {
        allocator = alloc;
        std::size_t n = 16;
        while (n < initial_slots)
            n *= 2;
        slots = allocate_slots(n);
        mask = n - 1;
        count = 0;
        epoch = 1;
    }

    void clear()
    {
        count = 0;
        if (++epoch == 0) {
            std::memset(static_cast<void *>(slots), 0, (mask + 1) * sizeof(Slot));
            epoch = 1;
        }
    }

    bool insert(Id id)
    {
        if ((count + 1) * 2 > mask + 1)
            grow();
        for (std::size_t i = Hash()(id) & mask;; i = (i + 1) & mask) {
            Slot &s = slots[i];
            if (s.epoch != epoch) {
                s.id = id;
                s.epoch = epoch;
                count++;
                return true;
            }
            if (s.id == id)
                return false;
        }
    }

    bool contains(Id id) const
    {
        for (std::size_t i = Hash()(id) & mask;; i = (i + 1) & mask) {
            const Slot &s = slots[i];
            if (s.epoch != epoch)
                return false;
            if (s.id == id)
                return true;
        }
    }

    std::size_t size() const { return count; }

    void release()
    {
        if (slots != nullptr && allocator.release != nullptr)
            allocator.release(allocator.context, slots);
        slots = nullptr;
        mask = 0;
        count = 0;
    }

private:
    Slot *allocate_slots(std::size_t n)
    {
        Slot *s = static_cast<Slot *>(allocator.allocate(allocator.context, n * sizeof(Slot)));
        std::memset(static_cast<void *>(s), 0, n * sizeof(Slot));  // epoch 0: empty
        return s;
    }

    void grow()
    {
        std::size_t old_slots = mask + 1;
        Slot *old = slots;
        std::size_t n = old_slots * 2;
        slots = allocate_slots(n);
        mask = n - 1;
        std::uint32_t old_epoch = epoch;
        epoch = 1;
        for (std::size_t j = 0; j < old_slots; j++) {
            if (old[j].epoch != old_epoch)
                continue;
            std::size_t i = Hash()(old[j].id) & mask;
            while (slots[i].epoch == epoch)
                i = (i + 1) & mask;
            slots[i].id = old[j].id;
            slots[i].epoch = epoch;
        }
        if (allocator.release != nullptr)
            allocator.release(allocator.context, old);
    }
};

}  // namespace vecdb::hnsw
