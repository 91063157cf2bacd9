/*
 * hnsw_filter.cpp -- the filter column: a second key column whose value
 * every element keeps in 32 bits of its header, so a scan tests the WHERE
 * clause on it while it walks, without reading the table row.
 *
 *   CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops, tenant_id);
 *   SELECT id FROM items WHERE tenant_id = 42 ORDER BY embedding <=> $1 LIMIT 10;
 *
 * PostgreSQL hands an index the WHERE clauses on its key columns only (not
 * on INCLUDE columns), as scan keys.  The scan walks the graph as it would
 * without them and drops each row whose key fails them (hnsw_scan.cpp), so
 * a rejected row costs a code scored, not a table row fetched and thrown
 * away.
 *
 * How a value becomes 32 bits depends on the opclass (hnsw.sql):
 *   integer_ops (int2, int4, int8)  the value, with values beyond int32's
 *       range clamped to INT32_MIN / INT32_MAX: every comparison (< <= = >=
 *       > <>) is then exact but against a clamped value, where it is a
 *       "maybe";
 *   text_ops (text, varchar)        the type's hash: = only, a "maybe" on a
 *       hash match;
 *   array_ops (any array of a hashable type)  a 32-bit signature, one bit
 *       per element (its hash mod 32): && (overlaps), @> (contains) and <@
 *       (is contained by) are tested on the signatures, a "maybe" each.
 * A NULL value is a header flag and matches nothing.  "Maybe" is why every
 * filtered scan sets xs_recheck: the executor tests the clause again on the
 * row it fetches, so a lossy key costs a fetch, never a wrong row.
 *
 * `IN (...)` stays a heap filter: PostgreSQL 15 plans no ordered scan with
 * an array key on a column after the first, so amsearcharray would buy
 * nothing.
 */
#include <algorithm>
#include <climits>

#include "hnsw.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
}

namespace vecdb::pg::hnsw {

/* Strategy numbers of the filter opclasses (hnsw.sql). */
enum FilterStrategy {
    kLess = 1,
    kLessEqual = 2,
    kEqual = 3,
    kGreaterEqual = 4,
    kGreater = 5,
    kNotEqual = 6,
    kOverlaps = 7,
    kContains = 8,
    kContainedBy = 9,
};

enum class FilterEncoding : uint8 { Integer, Hash, Signature };

struct FilterColumn {
    FilterEncoding encoding;
    Oid type; /* Integer: the column's type */
    Oid collation;
    FmgrInfo hash; /* Hash: of the value; Signature: of an element */
    Oid element_type;
    int16 element_len;
    bool element_byval;
    char element_align;
};

/* One scan key, compiled. */
struct FilterKey {
    int strategy;
    bool integer;
    int64 value; /* integer: the operand */
    uint32 key;  /* else: the operand's hash or signature */
};

struct ScanFilter {
    FilterKey *keys;
    int count;
};

namespace {

int64 IntegerDatum(Datum value, Oid type)
{
    switch (type) {
    case INT2OID:
        return DatumGetInt16(value);
    case INT4OID:
        return DatumGetInt32(value);
    case INT8OID:
        return DatumGetInt64(value);
    }
    elog(ERROR, "hnsw: integer filter of unexpected type %u", type);
    pg_unreachable();
}

uint32 HashDatum(const FilterColumn &column, Datum value)
{
    return DatumGetUInt32(FunctionCall1Coll(const_cast<FmgrInfo *>(&column.hash), column.collation, value));
}

/* Bits of the array's non-null elements' hashes mod 32. */
uint32 Signature(const FilterColumn &column, Datum array)
{
    ArrayType *a = DatumGetArrayTypeP(array);
    Datum *elements;
    bool *nulls;
    int n;
    deconstruct_array(a, column.element_type, column.element_len, column.element_byval, column.element_align,
                      &elements, &nulls, &n);
    uint32 signature = 0;
    for (int i = 0; i < n; i++)
        if (!nulls[i])
            signature |= 1u << (HashDatum(column, elements[i]) & 31);
    return signature;
}

/* The range of values a stored integer key stands for: the key itself, or
 * everything past int32's range for a clamped one. */
void IntegerRange(uint32 key, int64 *lo, int64 *hi)
{
    const int32 v = int32(key);
    *lo = v == INT32_MIN ? INT64_MIN : v;
    *hi = v == INT32_MAX ? INT64_MAX : v;
}

bool IntegerMaybe(int strategy, int64 lo, int64 hi, int64 operand)
{
    switch (strategy) {
    case kLess:
        return lo < operand;
    case kLessEqual:
        return lo <= operand;
    case kEqual:
        return lo <= operand && operand <= hi;
    case kGreaterEqual:
        return hi >= operand;
    case kGreater:
        return hi > operand;
    case kNotEqual:
        return !(lo == hi && lo == operand);
    }
    return true;
}

bool KeyMaybe(const FilterKey &k, uint32 stored)
{
    if (k.integer) {
        int64 lo, hi;
        IntegerRange(stored, &lo, &hi);
        return IntegerMaybe(k.strategy, lo, hi, k.value);
    }
    switch (k.strategy) {
    case kEqual:
        return stored == k.key;
    case kOverlaps:
        return (stored & k.key) != 0;
    case kContains:
        return (k.key & ~stored) == 0;
    case kContainedBy:
        return (stored & ~k.key) == 0;
    }
    return true;
}

}  // namespace

const FilterColumn *GetFilterColumn(Relation index)
{
    const int columns = IndexRelationGetNumberOfKeyAttributes(index);
    if (!OidIsValid(index_getprocid(index, 1, HNSW_DISTANCE_PROC)))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("the first column of an hnsw index must be the vector it orders by"),
                        errhint("Put the vector column first and a filter column second.")));
    if (columns == 1)
        return nullptr;
    if (columns > 2)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("an hnsw index has at most one filter column after its vector column")));
    if (OidIsValid(index_getprocid(index, 2, HNSW_DISTANCE_PROC)))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("an hnsw index orders by its first column only"),
                        errhint("Its second column is a filter column: an integer, text or array column.")));
    auto *column = static_cast<FilterColumn *>(palloc0(sizeof(FilterColumn)));
    column->collation = index->rd_indcollation[1];
    const Oid opcintype = index->rd_opcintype[1];
    Oid hashed = InvalidOid;
    if (opcintype == INT2OID || opcintype == INT4OID || opcintype == INT8OID) {
        column->encoding = FilterEncoding::Integer;
        column->type = opcintype;
    } else if (opcintype == TEXTOID) {
        column->encoding = FilterEncoding::Hash;
        hashed = TEXTOID;
    } else if (opcintype == ANYARRAYOID) {
        column->encoding = FilterEncoding::Signature;
        const Oid type = TupleDescAttr(RelationGetDescr(index), 1)->atttypid;
        column->element_type = get_element_type(type);
        if (!OidIsValid(column->element_type))
            elog(ERROR, "hnsw: array filter column of non-array type %u", type);
        get_typlenbyvalalign(column->element_type, &column->element_len, &column->element_byval,
                             &column->element_align);
        hashed = column->element_type;
    } else {
        elog(ERROR, "hnsw: filter opclass for unexpected type %u", opcintype);
    }
    if (OidIsValid(hashed)) {
        TypeCacheEntry *entry = lookup_type_cache(hashed, TYPECACHE_HASH_PROC_FINFO);
        if (!OidIsValid(entry->hash_proc_finfo.fn_oid))
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("hnsw cannot filter on type %s: it has no hash function",
                                   format_type_be(hashed))));
        fmgr_info_copy(&column->hash, &entry->hash_proc_finfo, CurrentMemoryContext);
    }
    return column;
}

FilterValue MakeFilterValue(const FilterColumn *column, const Datum *values, const bool *isnull)
{
    if (column == nullptr || isnull[1])
        return FilterValue{0, column != nullptr};
    FilterValue out{0, false};
    const Datum value = values[1];
    switch (column->encoding) {
    case FilterEncoding::Integer:
        out.key = uint32(int32(std::clamp<int64>(IntegerDatum(value, column->type), INT32_MIN, INT32_MAX)));
        break;
    case FilterEncoding::Hash:
        out.key = HashDatum(*column, value);
        break;
    case FilterEncoding::Signature:
        out.key = Signature(*column, value);
        break;
    }
    return out;
}

ScanFilter *MakeScanFilter(Relation index, ScanKey keys, int nkeys, bool *empty)
{
    *empty = false;
    if (nkeys == 0)
        return nullptr;
    const FilterColumn *column = GetFilterColumn(index);
    if (column == nullptr)
        elog(ERROR, "hnsw: scan keys on an index without a filter column");
    auto *filter = static_cast<ScanFilter *>(palloc(sizeof(ScanFilter)));
    filter->keys = static_cast<FilterKey *>(palloc0(sizeof(FilterKey) * nkeys));
    filter->count = nkeys;
    for (int i = 0; i < nkeys; i++) {
        const ScanKeyData &sk = keys[i];
        FilterKey &k = filter->keys[i];
        k.strategy = sk.sk_strategy;
        if (sk.sk_attno != 2 || k.strategy < kLess || k.strategy > kContainedBy)
            elog(ERROR, "hnsw: unexpected scan key (column %d, strategy %d)", sk.sk_attno, k.strategy);
        if (sk.sk_flags & SK_ISNULL) {
            *empty = true; /* a comparison with NULL: no row passes */
            return filter;
        }
        k.integer = column->encoding == FilterEncoding::Integer;
        if (k.integer)
            k.value = IntegerDatum(sk.sk_argument, sk.sk_subtype);
        else if (column->encoding == FilterEncoding::Hash)
            k.key = HashDatum(*column, sk.sk_argument);
        else
            k.key = Signature(*column, sk.sk_argument);
    }
    return filter;
}

bool FilterMatches(const ScanFilter *filter, const ElementHeader &element)
{
    if (element.flags & HNSW_ELEMENT_FILTER_NULL)
        return false; /* every filter operator is strict */
    for (int i = 0; i < filter->count; i++)
        if (!KeyMaybe(filter->keys[i], element.filter_key))
            return false;
    return true;
}

}  // namespace vecdb::pg::hnsw
