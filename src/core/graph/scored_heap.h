/*
 * scored_heap.h -- (distance, id) pairs and the heaps the graph search keeps
 * them in.
 *
 * Two kinds of heap, both trivially destructible views over memory the caller
 * owns, so a PostgreSQL ERROR (a longjmp) may unwind through a search that is
 * using them (cpp-postgres.md, rule 3):
 *   - FixedHeap: a binary heap over an array whose capacity is fixed up front
 *     (the search's C and W, sized from ef);
 *   - GrowableHeap: a binary min-heap whose storage comes from a
 *     ScratchAllocator (palloc in a scan's memory context, malloc in tests);
 *     the resumable scan keeps its pending candidates in one.
 *
 * Every comparison uses one total order, closer(): by distance, then by id.
 * Ties in distance are common (duplicate vectors), and a total order makes
 * the search's result a function of the graph alone, not of how a heap
 * happens to break ties, which is what lets tests compare the fast loop with
 * reference_search_layer() exactly.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace vecdb::hnsw {

/// A node id with its distance to the current query.
template <class Id>
struct ScoredId {
    float distance;
    Id id;
};

/// The total order of candidates: a before b when a is nearer, or as near
/// with a smaller id.  Id needs operator<.  NaN distances are outside the
/// contract (vecdb's vector type rejects non-finite values).
template <class Id>
inline bool closer(const ScoredId<Id> &a, const ScoredId<Id> &b)
{
    return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
}

/// Heap order of a min-heap (nearest on top) and a max-heap (farthest on
/// top), over any entry with .distance and .id fields, in closer()'s order.
struct NearestFirst {
    template <class E>
    bool operator()(const E &a, const E &b) const
    {
        return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
    }
};
struct FarthestFirst {
    template <class E>
    bool operator()(const E &a, const E &b) const { return NearestFirst()(b, a); }
};

/// Sift operations of a binary heap where Before(a, b) puts a nearer the root.
template <class Entry, class Before>
struct HeapOps {
    static void sift_up(Entry *a, std::size_t i)
    {
        Entry x = a[i];
        while (i > 0) {
            std::size_t parent = (i - 1) / 2;
            if (!Before()(x, a[parent]))
                break;
            a[i] = a[parent];
            i = parent;
        }
        a[i] = x;
    }

    static void sift_down(Entry *a, std::size_t n, std::size_t i)
    {
        Entry x = a[i];
        for (;;) {
            std::size_t child = 2 * i + 1;
            if (child >= n)
                break;
            if (child + 1 < n && Before()(a[child + 1], a[child]))
                child++;
            if (!Before()(a[child], x))
                break;
            a[i] = a[child];
            i = child;
        }
        a[i] = x;
    }

    static void heapify(Entry *a, std::size_t n)
    {
        for (std::size_t i = n / 2; i-- > 0;)
            sift_down(a, n, i);
    }
};

/// A binary heap over caller memory with a fixed capacity.
template <class Entry, class Before>
struct FixedHeap {
    using Ops = HeapOps<Entry, Before>;

    Entry *data;             ///< capacity entries, owned by the caller
    std::uint32_t count;     ///< entries in the heap
    std::uint32_t capacity;  ///< entries data can hold

    void init(Entry *storage, std::uint32_t cap)
    {
        data = storage;
        count = 0;
        capacity = cap;
    }
    void clear() { count = 0; }
    bool empty() const { return count == 0; }
    bool full() const { return count >= capacity; }
    std::uint32_t size() const { return count; }
    const Entry &top() const { return data[0]; }

    /// Precondition: !full().
    void push(const Entry &e)
    {
        data[count] = e;
        Ops::sift_up(data, count);
        count++;
    }

    Entry pop()
    {
        Entry t = data[0];
        count--;
        if (count > 0) {
            data[0] = data[count];
            Ops::sift_down(data, count, 0);
        }
        return t;
    }

    /// pop() then push(e) in one sift.  Precondition: !empty().
    Entry replace_top(const Entry &e)
    {
        Entry t = data[0];
        data[0] = e;
        Ops::sift_down(data, count, 0);
        return t;
    }

    /// Removes the entry at the bottom of the heap order (the farthest entry
    /// of a min-heap): a scan of the leaves, O(capacity).  Precondition: !empty().
    Entry remove_last()
    {
        std::uint32_t worst = count / 2;  // first leaf
        for (std::uint32_t i = worst + 1; i < count; i++)
            if (Before()(data[worst], data[i]))
                worst = i;
        Entry t = data[worst];
        count--;
        if (worst < count) {
            data[worst] = data[count];
            Ops::sift_down(data, count, worst);
            Ops::sift_up(data, worst);
        }
        return t;
    }

    /// Removes every entry for which drop(e) is true, handing each to sink(e),
    /// then restores the heap order.  O(count).
    template <class Drop, class Sink>
    void remove_if(Drop drop, Sink sink)
    {
        std::uint32_t kept = 0;
        for (std::uint32_t i = 0; i < count; i++) {
            if (drop(data[i]))
                sink(data[i]);
            else
                data[kept++] = data[i];
        }
        count = kept;
        Ops::heapify(data, count);
    }

    /// Heap-sorts the entries in place so that data[0 .. n) runs in Before
    /// order reversed: a max-heap (FarthestFirst) ends up nearest first.
    /// The heap is empty afterwards; returns the number of entries sorted.
    std::uint32_t sort_in_place()
    {
        std::uint32_t n = count;
        while (count > 1) {
            Entry t = data[0];
            count--;
            data[0] = data[count];
            Ops::sift_down(data, count, 0);
            data[count] = t;
        }
        count = 0;
        return n;
    }
};

template <class Id>
using CandidateHeap = FixedHeap<ScoredId<Id>, NearestFirst>;  ///< the paper's C
template <class Id>
using ResultHeap = FixedHeap<ScoredId<Id>, FarthestFirst>;  ///< the paper's W

/// Where growable scratch memory comes from.  allocate() never returns null:
/// it throws (std::bad_alloc) or, in PostgreSQL, raises an ERROR (palloc).
/// release may be null when the memory is freed wholesale (a memory context
/// reset).  Trivially copyable: two pointers and a context.
struct ScratchAllocator {
    void *context;
    void *(*allocate)(void *context, std::size_t bytes);
    void (*release)(void *context, void *memory);
};

/// std::malloc and std::free; allocate throws std::bad_alloc on failure.
ScratchAllocator malloc_allocator();

/// A binary heap whose storage grows through a ScratchAllocator (doubling).
/// Entry must be trivially copyable.  append() adds without ordering (a
/// search parks most of what it scores here and usually never pops it);
/// settle() restores the heap before top() / pop(): sifting the few
/// appended entries up, or rebuilding (Floyd, O(n)) when many were.
template <class Entry, class Before>
struct GrowableHeap {
    using Ops = HeapOps<Entry, Before>;
    static_assert(std::is_trivially_copyable<Entry>::value, "entries are moved with memcpy");

    Entry *data;
    std::size_t count;
    std::size_t heap_count;  ///< data[0 .. heap_count) is a heap; the rest was appended
    std::size_t capacity;
    ScratchAllocator allocator;

    void init(ScratchAllocator alloc)
    {
        data = nullptr;
        count = heap_count = 0;
        capacity = 0;
        allocator = alloc;
    }
    bool empty() const { return count == 0; }
    std::size_t size() const { return count; }
    void clear() { count = heap_count = 0; }
    /// Needs settle() after append().
    const Entry &top() const { return data[0]; }

    void append(const Entry &e)
    {
        if (count == capacity)
            grow();
        data[count++] = e;
    }

    void settle()
    {
        if (heap_count == count)
            return;
        if ((count - heap_count) * 8 < heap_count) {
            for (; heap_count < count; heap_count++)
                Ops::sift_up(data, heap_count);
        } else {
            Ops::heapify(data, count);
            heap_count = count;
        }
    }

    void push(const Entry &e)
    {
        append(e);
        settle();
    }

    /// Needs settle() after append().
    Entry pop()
    {
        Entry t = data[0];
        count--;
        heap_count = count;
        if (count > 0) {
            data[0] = data[count];
            Ops::sift_down(data, count, 0);
        }
        return t;
    }

    /// Gives the storage back (when the allocator can) and empties the heap.
    void release()
    {
        if (data != nullptr && allocator.release != nullptr)
            allocator.release(allocator.context, data);
        data = nullptr;
        count = heap_count = capacity = 0;
    }

private:
    void grow()
    {
        std::size_t new_capacity = capacity == 0 ? 256 : capacity * 2;
        Entry *bigger = static_cast<Entry *>(allocator.allocate(allocator.context, new_capacity * sizeof(Entry)));
        if (count > 0)
            std::memcpy(static_cast<void *>(bigger), data, count * sizeof(Entry));
        if (data != nullptr && allocator.release != nullptr)
            allocator.release(allocator.context, data);
        data = bigger;
        capacity = new_capacity;
    }
};

}  // namespace vecdb::hnsw
