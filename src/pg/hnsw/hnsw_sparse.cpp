/*
 * hnsw_sparse.cpp -- sparsevec columns under quantization 'sparse': each
 * element holds the row's own elements in a fixed number of slots
 * (src/core/sparse_slots.h), so any dimension count works (a vocabulary of
 * 30,522 or more) and distances are the operators' own values.
 *
 * The slots are fixed per index, at build: room for the elements of 99% of
 * the rows, counted in a first pass over the table, then adjusted to fill
 * element pages (PageFillingElements).  A row with more keeps
 * its largest elements; its code bounds nothing (CodeUnbounded), so a scan
 * hands it to the executor's recheck at once and results stay exact.  A
 * fixed size keeps the element layout of every other code; the price is
 * the padding of rows shorter than the slots.
 */
#include <algorithm>
#include <cmath>
#include <cstring>

#include "hnsw.h"

#include "../../core/graph/hnsw.h"
#include "../../core/sparse_slots.h"

extern "C" {
#include "access/tableam.h"
#include "utils/memutils.h"
}

#include "../types/sparsevec.h"

namespace vecdb::pg::hnsw {

namespace {

/* Share of the rows whose elements all fit; down to kFewestWholeRows where
 * that puts one more element on a page. */
constexpr double kWholeRows = 0.99;
constexpr double kFewestWholeRows = 0.98;
/* Below this many rows the count says little (an index created before its
 * data is loaded): room for at least kEmptyElements. */
constexpr uint32 kMeasuredRows = 1000;
constexpr uint32 kEmptyElements = 256;
/* The slots stay small enough for an element of this level to fit a page,
 * so the graph keeps a few layers. */
constexpr int kMinLevels = 3;

struct NnzCount {
    uint64 rows;
    uint64 at[SPARSEVEC_MAX_NNZ + 1];
    MemoryContext tuple_context;
};

void CountCallback(Relation, ItemPointer, Datum *values, bool *isnull, bool, void *state)
{
    auto *count = static_cast<NnzCount *>(state);
    if (isnull[0])
        return;
    MemoryContext old = MemoryContextSwitchTo(count->tuple_context);
    const SparseVector *v = DatumGetSparseVector(values[0]);
    count->at[std::clamp(v->nnz, 0, SPARSEVEC_MAX_NNZ)]++;
    count->rows++;
    MemoryContextSwitchTo(old);
    MemoryContextReset(count->tuple_context);
}

/* The most elements whose slots leave an element of kMinLevels on a page. */
uint32 MaxElements(int m)
{
    uint32 lo = 1, hi = SPARSEVEC_MAX_NNZ;
    while (lo < hi) {
        const uint32 mid = lo + (hi - lo + 1) / 2;
        if (MaxLevelForPage(ElementLayout{uint32(m), uint32(sizeof(float) * sparse_slots(mid))}) >= kMinLevels)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Level-0 elements of `elements` slots' worth that one page holds. */
uint32 ElementsPerPage(uint32 elements, int m)
{
    const ElementLayout layout{uint32(m), uint32(sizeof(float) * sparse_slots(elements))};
    return uint32((BLCKSZ - MAXALIGN(SizeOfPageHeaderData)) / PlacedSize(layout, 0));
}

/* The most elements (up to `most`) whose elements a page holds `per` of; 0
 * if none. */
uint32 MostElementsAt(uint32 per, uint32 most, int m)
{
    if (ElementsPerPage(1, m) < per)
        return 0;
    uint32 lo = 1, hi = most;
    while (lo < hi) {
        const uint32 mid = lo + (hi - lo + 1) / 2;
        if (ElementsPerPage(mid, m) >= per)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/*
 * Slots are padding for most rows, and pages hold whole elements: on 100,000
 * SPLADE-like rows (p98 277 elements, p99 316) 99% asks for 320, two elements
 * a page, the rest of the page empty.  So: the most elements a page holds
 * per page-count, taking the largest count that still keeps kFewestWholeRows
 * of the rows whole -- there 319 elements, three a page, 29% fewer pages
 * for 0.93% of rows truncated -- and filling the page at that count (never
 * fewer elements than `whole` needs for its pages).  Measured on SPLADE-like
 * rows only (100,000 and 20,000 of them).
 */
uint32 PageFillingElements(uint32 whole, uint32 fewest, int m)
{
    const uint32 most = MaxElements(m);
    whole = std::min(std::max(whole, 1u), most);
    uint32 per = ElementsPerPage(whole, m);
    while (MostElementsAt(per + 1, most, m) >= std::max(fewest, 1u))
        per++;
    return MostElementsAt(per, most, m);
}

uint32 SlotsFor(uint32 elements, int m)
{
    elements = (std::max(elements, 1u) + 7) / 8 * 8; /* a little room for longer rows */
    return sparse_slots(std::min(elements, MaxElements(m)));
}

const float *SparseRow(Datum value, uint32 slots, float *out)
{
    const SparseVector *v = DatumGetSparseVector(value);
    auto *order = static_cast<uint32 *>(palloc(sizeof(uint32) * Max(v->nnz, 1)));
    pack_sparse(SparseVectorView(const_cast<SparseVector *>(v)), slots, out, order);
    pfree(order);
    return out;
}

}  // namespace

uint32 SparseSlotsForBuild(Relation heap, Relation index, IndexInfo *index_info, int m)
{
    auto *count = static_cast<NnzCount *>(palloc0(sizeof(NnzCount)));
    count->tuple_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw sparse count", ALLOCSET_DEFAULT_SIZES);
    table_index_build_scan(heap, index, index_info, true, false, CountCallback, count, nullptr);
    MemoryContextDelete(count->tuple_context);
    uint32 elements = 0;
    if (count->rows < kMeasuredRows) {
        for (uint32 k = 0; k <= SPARSEVEC_MAX_NNZ; k++)
            if (count->at[k] != 0)
                elements = k;
        elements = std::max(elements, kEmptyElements);
    } else {
        /* The fewest elements that keep a share of the rows whole. */
        auto keeping = [count](double share) {
            const uint64 whole = uint64(std::ceil(share * double(count->rows)));
            uint32 k = 0;
            uint64 seen = 0;
            while (k < SPARSEVEC_MAX_NNZ && (seen += count->at[k]) < whole)
                k++;
            return k;
        };
        const uint32 fill = PageFillingElements(keeping(kWholeRows), keeping(kFewestWholeRows), m);
        pfree(count);
        return sparse_slots(fill);
    }
    pfree(count);
    return SlotsFor(elements, m);
}

uint32 SparseSlotsWhenEmpty(int m) { return SlotsFor(kEmptyElements, m); }

const float *IndexedRow(Relation index, const MetaPageData &meta, Datum value, float *buffer)
{
    if (Quantization(meta.quantization) == Quantization::Sparse)
        return SparseRow(value, meta.dims, buffer);
    const Vector *v = IndexedVector(index, value);
    if (uint32(v->dim) != meta.dims)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %u dimensions, not %d", meta.dims, v->dim)));
    return v->x;
}

float *SparseQuery(Relation index, const MetaPageData &meta, Datum value, uint32 *slots)
{
    const SparseVector *v = DatumGetSparseVector(value);
    const int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
    if (typmod > 0 && v->dim != typmod)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different sparsevec dimensions %d and %d", typmod, v->dim)));
    *slots = std::max(meta.dims, sparse_slots(uint32(v->nnz)));
    auto *form = static_cast<float *>(palloc(sizeof(float) * *slots));
    auto *order = static_cast<uint32 *>(palloc(sizeof(uint32) * Max(v->nnz, 1)));
    pack_sparse(SparseVectorView(const_cast<SparseVector *>(v)), *slots, form, order);
    pfree(order);
    return form;
}

void FixedQuery(const MetaPageData &meta, float *out)
{
    memset(out, 0, sizeof(float) * meta.dims);
    if (Quantization(meta.quantization) == Quantization::Sparse) {
        const int32 index = 0;
        const float value = 1.0f;
        std::uint32_t order[1];
        pack_sparse(vecdb::SparseView{&index, &value, 1}, meta.dims, out, order);
    } else {
        out[0] = 1.0f;
    }
}

void PrepareRow(const MetaPageData &meta, const float *in, float *out)
{
    if (Quantization(meta.quantization) == Quantization::Sparse)
        memmove(out, in, sizeof(float) * meta.dims);
    else
        vecdb::hnsw::prepare_vector(Metric(meta.metric), in, out, meta.dims);
}

}  // namespace vecdb::pg::hnsw
