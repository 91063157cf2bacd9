/*
 * hnsw_search.cpp -- the search entry points over a MemoryGraph, compiled
 * once here (at the core library's -O3), and the malloc ScratchAllocator.
 */
#include "hnsw.h"

#include <cstdlib>
#include <new>

#include "../core_only.h"

namespace vecdb::hnsw {

namespace {

void *malloc_allocate(void *, std::size_t bytes)
{
    void *p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

void malloc_release(void *, void *memory) { std::free(memory); }

}  // namespace

ScratchAllocator malloc_allocator() { return ScratchAllocator{nullptr, malloc_allocate, malloc_release}; }

std::uint32_t search(const MemoryGraph &graph, const float *prepared_query, std::size_t ef, EpochVisitedSet &visited,
                     SearchScratch<std::uint32_t> &s, SearchStats &stats)
{
    if (graph.entry_point() == MemoryGraph::kNone)
        return 0;
    if (!graph.has_deleted()) {
        MemoryReader<false, false> reader(graph, prepared_query);
        return knn_search(reader, visited, s, graph.entry_point(), graph.max_level(), ef, stats);
    }
    MemoryReader<false> reader(graph, prepared_query);
    return knn_search(reader, visited, s, graph.entry_point(), graph.max_level(), ef, stats);
}

}  // namespace vecdb::hnsw
