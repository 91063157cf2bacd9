/*
 * vector_aggregates.cpp -- avg(vector) and the state functions behind it.
 *
 * The transition state is a float8[]: element 0 counts the rows, elements
 * 1..dim hold the running sums in double, so long sums do not lose the
 * precision a float accumulator would.  The initial state '{0}' has no sums
 * yet; the first row sizes the array.  Combining two states adds them, which
 * makes avg parallel-safe.  sum(vector) needs no state of its own: it is
 * vector_add folded over the rows.
 */
#include <cmath>

#include "vector.h"

namespace {

/* The sums of a state array; *length counts the array's elements.  The row
 * count must be a whole number >= 0 (states are SQL values: anyone can call
 * the state functions with any float8[]). */
float8 *StateValues(ArrayType *state, int *length)
{
    if (ARR_NDIM(state) != 1 || ARR_ELEMTYPE(state) != FLOAT8OID || ARR_HASNULL(state) || ARR_DIMS(state)[0] < 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected a float8[] vector aggregate state")));
    *length = ARR_DIMS(state)[0];
    if (*length > 1)
        CheckDim(*length - 1); /* 54000 beyond 16,000 sums, as pgvector */
    float8 *values = (float8 *) ARR_DATA_PTR(state);
    if (!(std::isfinite(values[0]) && values[0] >= 0 && values[0] == std::floor(values[0])))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected a float8[] vector aggregate state"),
                        errdetail("The row count %g is not a whole number >= 0.", values[0])));
    return values;
}

ArrayType *NewState(int length, const float8 *values)
{
    Datum *elements = (Datum *) palloc(sizeof(Datum) * length);
    for (int i = 0; i < length; i++)
        elements[i] = Float8GetDatum(values[i]);
    return construct_array(elements, length, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

void CheckStateDims(int length_a, int length_b)
{
    if (length_a != length_b)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different vector dimensions %d and %d", length_a - 1, length_b - 1)));
}

}  // namespace

/*
 * vector_accum(float8[], vector) -- adds one row.  Inside an aggregate the
 * state already lives in the aggregate's memory context and is updated in
 * place (as float8_accum does); the first row builds a sized array, which the
 * executor copies into that context.
 */
VECDB_FUNCTION(vector_accum)
{
    ArrayType *state = PG_GETARG_ARRAYTYPE_P(0);
    Vector *vector = PG_GETARG_VECTOR_P(1);
    int length;
    float8 *values = StateValues(state, &length);

    if (length == 1) {
        float8 *first = (float8 *) palloc(sizeof(float8) * (vector->dim + 1));
        first[0] = values[0] + 1;
        for (int i = 0; i < vector->dim; i++)
            first[i + 1] = vector->x[i];
        PG_RETURN_ARRAYTYPE_P(NewState(vector->dim + 1, first));
    }

    CheckStateDims(length, vector->dim + 1);
    if (!AggCheckCallContext(fcinfo, NULL)) {
        state = NewState(length, values);
        values = (float8 *) ARR_DATA_PTR(state);
    }
    values[0] += 1;
    for (int i = 0; i < vector->dim; i++)
        values[i + 1] += vector->x[i];
    PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * vector_combine(float8[], float8[]) -- merges two partial states (parallel
 * aggregation).
 */
VECDB_FUNCTION(vector_combine)
{
    ArrayType *state_a = PG_GETARG_ARRAYTYPE_P(0);
    ArrayType *state_b = PG_GETARG_ARRAYTYPE_P(1);
    int length_a, length_b;
    float8 *values_a = StateValues(state_a, &length_a);
    float8 *values_b = StateValues(state_b, &length_b);

    if (values_b[0] == 0)
        PG_RETURN_ARRAYTYPE_P(state_a);
    if (values_a[0] == 0)
        PG_RETURN_ARRAYTYPE_P(NewState(length_b, values_b));

    CheckStateDims(length_a, length_b);
    if (!AggCheckCallContext(fcinfo, NULL)) {
        state_a = NewState(length_a, values_a);
        values_a = (float8 *) ARR_DATA_PTR(state_a);
    }
    for (int i = 0; i < length_a; i++)
        values_a[i] += values_b[i];
    PG_RETURN_ARRAYTYPE_P(state_a);
}

/*
 * vector_avg(float8[]) -- the final function: sums / count, NULL for no rows.
 *
 * Sums of real rows are finite (floats <= 3.4e38 would need 5e269 rows to
 * reach double's 1.8e308) and so are their averages as floats: the average of
 * values up to FLT_MAX is at most FLT_MAX.  Only a state written by hand can
 * hold Infinity or NaN (the transition and combine functions pass them on;
 * this is the one place they would become a vector) or sums whose average
 * leaves float's range: the first is rejected as a malformed state, the
 * second is an overflow, as in float arithmetic.
 */
VECDB_FUNCTION(vector_avg)
{
    ArrayType *state = PG_GETARG_ARRAYTYPE_P(0);
    int length;
    float8 *values = StateValues(state, &length);

    if (values[0] == 0)
        PG_RETURN_NULL();
    CheckDim(length - 1);
    for (int i = 1; i < length; i++)
        if (!std::isfinite(values[i]))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected a float8[] vector aggregate state"),
                            errdetail("Element %d is %g; a state holds finite sums.", i + 1, values[i])));
    Vector *result = InitVector(length - 1);
    for (int i = 1; i < length; i++) {
        result->x[i - 1] = (float) (values[i] / values[0]);
        if (std::isinf(result->x[i - 1]))
            float_overflow_error();
    }
    PG_RETURN_VECTOR_P(result);
}
