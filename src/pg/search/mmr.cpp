/*
 * mmr.cpp -- vecdb_mmr(): maximal marginal relevance over candidates a
 * query already fetched (src/core/rerank/mmr.h), e.g. an index query's
 * LIMIT 100, returning the ids of a diverse k in pick order.
 */
#include <cmath>
#include <cstring>

#include "../../core/rerank/mmr.h"
#include "../guard.h"
#include "../types/vector.h"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace {

/* The distance named `name`, as the operator classes name theirs. */
vecdb::Metric MmrMetric(const char *name)
{
    if (strcmp(name, "l2") == 0)
        return vecdb::Metric::L2;
    if (strcmp(name, "ip") == 0)
        return vecdb::Metric::InnerProduct;
    if (strcmp(name, "cosine") == 0)
        return vecdb::Metric::Cosine;
    if (strcmp(name, "l1") == 0)
        return vecdb::Metric::L1;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown distance \"%s\"", name),
                    errhint("Use 'l2' (<->), 'ip' (<#>), 'cosine' (<=>) or 'l1' (<+>).")));
    return vecdb::Metric::L2; /* not reached */
}

/* The elements of a one-dimensional array (an empty one has none), none
 * NULL; `what` names the argument in errors. */
Datum *ArrayElements(ArrayType *array, const char *what, int *count)
{
    if (ARR_NDIM(array) > 1)
        ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("%s must be a one-dimensional array", what)));
    int16 length;
    bool byval;
    char align;
    get_typlenbyvalalign(ARR_ELEMTYPE(array), &length, &byval, &align);
    Datum *elements;
    bool *nulls;
    deconstruct_array(array, ARR_ELEMTYPE(array), length, byval, align, &elements, &nulls, count);
    for (int i = 0; i < *count; i++)
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not contain NULLs", what)));
    return elements;
}

}  // namespace

/* vecdb_mmr(query vector, candidates vector[], ids bigint[], k integer,
 * lambda float8, distance text) RETURNS bigint[] */
VECDB_FUNCTION(vecdb_mmr)
{
    Vector *query = PG_GETARG_VECTOR_P(0);
    ArrayType *candidate_array = PG_GETARG_ARRAYTYPE_P(1);
    ArrayType *id_array = PG_GETARG_ARRAYTYPE_P(2);
    const int32 k = PG_GETARG_INT32(3);
    const double lambda = PG_GETARG_FLOAT8(4);
    const vecdb::Metric metric = MmrMetric(text_to_cstring(PG_GETARG_TEXT_PP(5)));
    if (k < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k must not be negative")));
    if (!(lambda >= 0.0 && lambda <= 1.0))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("lambda must be between 0 and 1")));

    int n, n_ids;
    Datum *candidates = ArrayElements(candidate_array, "candidates", &n);
    Datum *ids = ArrayElements(id_array, "ids", &n_ids);
    if (n != n_ids)
        ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                        errmsg("candidates and ids must have the same length, not %d and %d", n, n_ids)));
    const float **rows = static_cast<const float **>(palloc(sizeof(float *) * Max(n, 1)));
    for (int i = 0; i < n; i++) {
        const Vector *v = DatumGetVector(candidates[i]);
        CheckSameDims(query, v);
        rows[i] = v->x;
    }
    auto *order = static_cast<uint32 *>(palloc(sizeof(uint32) * Max(n, 1)));
    auto *scratch = static_cast<double *>(palloc(sizeof(double) * 2 * Max(n, 1)));
    /* O(n k) distances: a pending interrupt stops it between picks (it
     * returns fewer than min(k, n) only then); a cancel ERRORs here, any
     * other interrupt is served and the picks start again. */
    const Size want = Min(Size(k), Size(n));
    const auto interrupted = [] { return INTERRUPTS_PENDING_CONDITION() && INTERRUPTS_CAN_BE_PROCESSED(); };
    Size picked;
    while ((picked = vecdb::mmr_select(query->x, rows, Size(n), Size(query->dim), metric, lambda, Size(k), order,
                                       scratch, interrupted)) < want)
        CHECK_FOR_INTERRUPTS();

    Datum *result = static_cast<Datum *>(palloc(sizeof(Datum) * Max(picked, Size(1))));
    for (Size i = 0; i < picked; i++)
        result[i] = ids[order[i]];
    PG_RETURN_ARRAYTYPE_P(construct_array(result, int(picked), INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
