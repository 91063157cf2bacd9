/*
 * halfvec_functions.cpp -- distances, functions, operators, comparisons and
 * aggregates of halfvec, each the vector function of the same name applied
 * to the exact float values (halfvec.h), with halfvec's own dimension
 * errors and, for halfvec results, one rounding back to half.
 */
#include "halfvec.h"

#include "../../core/simd/distance.h"

extern "C" {
#define VECTOR_FUNCTIONS(X)                                                                                   \
    X(vector_norm) X(l2_normalize) X(subvector)                                                                \
    X(binary_quantize) X(vector_add) X(vector_sub) X(vector_mul) X(vector_concat) X(vector_cmp) X(vector_accum) \
    X(vector_avg)
#define DECLARE(name) PGDLLEXPORT Datum name(PG_FUNCTION_ARGS);
VECTOR_FUNCTIONS(DECLARE)
#undef DECLARE
}

namespace {

struct FloatPair {
    Datum a;
    Datum b;
};

void CheckSameDims(const HalfVector *a, const HalfVector *b)
{
    if (a->dim != b->dim)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different halfvec dimensions %d and %d", a->dim, b->dim)));
}

/* Arguments 0 and 1 as vectors, after halfvec's dimension check. */
FloatPair GetFloatPair(FunctionCallInfo fcinfo)
{
    HalfVector *a = PG_GETARG_HALFVEC_P(0), *b = PG_GETARG_HALFVEC_P(1);
    CheckSameDims(a, b);
    return {PointerGetDatum(HalfvecToVector(a)), PointerGetDatum(HalfvecToVector(b))};
}

Datum OnPair(PGFunction function, FunctionCallInfo fcinfo)
{
    FloatPair pair = GetFloatPair(fcinfo);
    return DirectFunctionCall2(function, pair.a, pair.b);
}

/*
 * Two vectors of room kept in fn_extra for a distance function's calls: a
 * distance converts both arguments on every call (an ORDER BY scores every
 * row), and two pallocs per row cost more than the conversion itself.
 */
struct PairScratch {
    int capacity;
    Vector *a;
    Vector *b;
};

Vector *ScratchVector(MemoryContext context, int capacity)
{
    return static_cast<Vector *>(MemoryContextAlloc(context, VECTOR_SIZE(capacity)));
}

void ConvertInto(const HalfVector *h, Vector *v)
{
    SET_VARSIZE(v, VECTOR_SIZE(h->dim));
    v->dim = h->dim;
    v->unused = 0;
    vecdb::distance_kernels().half_to_float(h->x, v->x, Size(h->dim));
}

/* distance() of the arguments' float values, converted into the call's
 * scratch, and called directly: the vector function through fmgr cost a
 * tenth of a seq-scan ORDER BY's time. */
template <class Distance>
Datum DistanceOnPair(Distance &&distance, FunctionCallInfo fcinfo)
{
    HalfVector *a = PG_GETARG_HALFVEC_P(0), *b = PG_GETARG_HALFVEC_P(1);
    CheckSameDims(a, b);
    if (fcinfo->flinfo == nullptr) { /* DirectFunctionCall: no place to keep it */
        const Vector *va = HalfvecToVector(a), *vb = HalfvecToVector(b);
        PG_RETURN_FLOAT8(distance(va->x, vb->x, Size(a->dim)));
    }
    auto *scratch = static_cast<PairScratch *>(fcinfo->flinfo->fn_extra);
    if (scratch == nullptr || scratch->capacity < a->dim) {
        MemoryContext context = fcinfo->flinfo->fn_mcxt;
        if (scratch == nullptr)
            scratch = static_cast<PairScratch *>(MemoryContextAllocZero(context, sizeof(PairScratch)));
        else {
            pfree(scratch->a);
            pfree(scratch->b);
        }
        scratch->a = ScratchVector(context, a->dim);
        scratch->b = ScratchVector(context, a->dim);
        scratch->capacity = a->dim;
        fcinfo->flinfo->fn_extra = scratch;
    }
    ConvertInto(a, scratch->a);
    ConvertInto(b, scratch->b);
    PG_RETURN_FLOAT8(distance(scratch->a->x, scratch->b->x, Size(a->dim)));
}

Datum HalfResult(Datum vector, HalfOverflow overflow)
{
    return PointerGetDatum(VectorToHalfvec(DatumGetVector(vector), overflow));
}

Datum Argument(FunctionCallInfo fcinfo, int n) { return PointerGetDatum(HalfvecToVector(PG_GETARG_HALFVEC_P(n))); }

/* The vector operator of metric, as a distance for DistanceOnPair(). */
template <vecdb::Metric metric>
double Operator(const float *a, const float *b, Size n)
{
    return vecdb::operator_distance(metric, a, b, n);
}

}  // namespace

/* Distances (float8, as vector's: the same checked kernels on the same floats). */
VECDB_FUNCTION(halfvec_l2_distance) { return DistanceOnPair(Operator<vecdb::Metric::L2>, fcinfo); }
VECDB_FUNCTION(halfvec_l2_squared_distance) { return DistanceOnPair(vecdb::l2_squared_checked, fcinfo); }
VECDB_FUNCTION(halfvec_inner_product) { return DistanceOnPair(vecdb::dot_checked, fcinfo); }
VECDB_FUNCTION(halfvec_negative_inner_product) { return DistanceOnPair(Operator<vecdb::Metric::InnerProduct>, fcinfo); }
VECDB_FUNCTION(halfvec_cosine_distance) { return DistanceOnPair(vecdb::cosine_distance_checked, fcinfo); }
VECDB_FUNCTION(halfvec_spherical_distance) { return DistanceOnPair(vecdb::spherical_distance_checked, fcinfo); }
VECDB_FUNCTION(halfvec_l1_distance) { return DistanceOnPair(vecdb::l1_checked, fcinfo); }

/* Other functions. */
VECDB_FUNCTION(halfvec_vector_dims) { PG_RETURN_INT32(PG_GETARG_HALFVEC_P(0)->dim); }
VECDB_FUNCTION(halfvec_l2_norm) { return DirectFunctionCall1(vector_norm, Argument(fcinfo, 0)); }
VECDB_FUNCTION(halfvec_l2_normalize)
{
    return HalfResult(DirectFunctionCall1(l2_normalize, Argument(fcinfo, 0)), HalfOverflow::Arithmetic);
}
VECDB_FUNCTION(halfvec_binary_quantize) { return DirectFunctionCall1(binary_quantize, Argument(fcinfo, 0)); }
VECDB_FUNCTION(halfvec_subvector)
{
    return HalfResult(DirectFunctionCall3(subvector, Argument(fcinfo, 0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)),
                      HalfOverflow::Arithmetic);
}

/* Element-wise arithmetic: a result beyond the half range is an overflow. */
VECDB_FUNCTION(halfvec_add) { return HalfResult(OnPair(vector_add, fcinfo), HalfOverflow::Arithmetic); }
VECDB_FUNCTION(halfvec_sub) { return HalfResult(OnPair(vector_sub, fcinfo), HalfOverflow::Arithmetic); }
VECDB_FUNCTION(halfvec_mul)
{
    /* A product that is not zero in float but rounds to zero in half is an
     * underflow, as a float product that rounds to zero is for vector. */
    const Vector *product = DatumGetVector(OnPair(vector_mul, fcinfo));
    HalfVector *result = VectorToHalfvec(product, HalfOverflow::Arithmetic);
    for (int i = 0; i < result->dim; i++)
        if (product->x[i] != 0.0f && vecdb::half_to_float(result->x[i]) == 0.0f)
            float_underflow_error();
    PG_RETURN_POINTER(result);
}
VECDB_FUNCTION(halfvec_concat)
{
    /* Any two dimensions concatenate; the sum is checked against the limit. */
    HalfVector *a = PG_GETARG_HALFVEC_P(0), *b = PG_GETARG_HALFVEC_P(1);
    CheckHalfvecDim(a->dim + b->dim);
    HalfVector *result = InitHalfVector(a->dim + b->dim);
    memcpy(result->x, a->x, sizeof(vecdb::Half) * a->dim);
    memcpy(result->x + a->dim, b->x, sizeof(vecdb::Half) * b->dim);
    PG_RETURN_POINTER(result);
}

/* Comparisons: vector's order (element by element, then the shorter first)
 * on the float values, which order as the halves do. */
namespace {
int Compare(FunctionCallInfo fcinfo)
{
    return DatumGetInt32(DirectFunctionCall2(vector_cmp, Argument(fcinfo, 0), Argument(fcinfo, 1)));
}
}  // namespace
VECDB_FUNCTION(halfvec_cmp) { PG_RETURN_INT32(Compare(fcinfo)); }
VECDB_FUNCTION(halfvec_lt) { PG_RETURN_BOOL(Compare(fcinfo) < 0); }
VECDB_FUNCTION(halfvec_le) { PG_RETURN_BOOL(Compare(fcinfo) <= 0); }
VECDB_FUNCTION(halfvec_eq) { PG_RETURN_BOOL(Compare(fcinfo) == 0); }
VECDB_FUNCTION(halfvec_ne) { PG_RETURN_BOOL(Compare(fcinfo) != 0); }
VECDB_FUNCTION(halfvec_ge) { PG_RETURN_BOOL(Compare(fcinfo) >= 0); }
VECDB_FUNCTION(halfvec_gt) { PG_RETURN_BOOL(Compare(fcinfo) > 0); }

/* avg(halfvec): vector's float8[] state, fed the float values.  The call
 * goes through the aggregate's own context, so vector_accum still updates
 * its state in place. */
VECDB_FUNCTION(halfvec_accum)
{
    LOCAL_FCINFO(inner, 2);
    InitFunctionCallInfoData(*inner, nullptr, 2, InvalidOid, fcinfo->context, nullptr);
    inner->args[0] = fcinfo->args[0];
    inner->args[1].value = Argument(fcinfo, 1);
    inner->args[1].isnull = false;
    Datum state = vector_accum(inner);
    if (inner->isnull)
        elog(ERROR, "vector_accum returned NULL");
    return state;
}
VECDB_FUNCTION(halfvec_avg)
{
    /* NULL (no rows) passes through. */
    LOCAL_FCINFO(inner, 1);
    InitFunctionCallInfoData(*inner, nullptr, 1, InvalidOid, fcinfo->context, nullptr);
    inner->args[0] = fcinfo->args[0];
    Datum average = vector_avg(inner);
    if (inner->isnull)
        PG_RETURN_NULL();
    return HalfResult(average, HalfOverflow::Arithmetic);
}
