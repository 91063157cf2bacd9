/*
 * vector_cast.cpp -- casts between vector and SQL arrays.
 *
 * integer[], real[], double precision[] and numeric[] cast to vector (one C
 * function; the element type is read from the array); vector casts to real[].
 */
#include <cmath>

#include "vector.h"

namespace {

/* One array element as float, refusing values a vector cannot hold. */
float ElementToFloat(Datum element, Oid type)
{
    float value;
    switch (type) {
    case INT4OID:
        value = (float) DatumGetInt32(element);
        break;
    case FLOAT4OID:
        value = DatumGetFloat4(element);
        break;
    case FLOAT8OID: {
        double wide = DatumGetFloat8(element);
        value = (float) wide;
        if (std::isinf(value) && std::isfinite(wide))
            ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                            errmsg("\"%g\" is out of range for type real", wide)));
        break;
    }
    case NUMERICOID:
        /* numeric_float4 raises 22003 for values beyond float's range. */
        value = DatumGetFloat4(DirectFunctionCall1(numeric_float4, element));
        break;
    default:
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));
    }
    CheckElement(value);
    return value;
}

}  // namespace

/*
 * array_to_vector(anyarray, typmod, explicit)
 */
VECDB_FUNCTION(array_to_vector)
{
    ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
    int32 typmod = PG_GETARG_INT32(1);
    Oid element_type = ARR_ELEMTYPE(array);
    int16 element_length;
    bool element_byval;
    char element_align;
    Datum *elements;
    bool *nulls;
    int count;

    if (ARR_NDIM(array) > 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("array must not contain nulls")));

    get_typlenbyvalalign(element_type, &element_length, &element_byval, &element_align);
    deconstruct_array(array, element_type, element_length, element_byval, element_align, &elements, &nulls,
                      &count);
    CheckDim(count);
    CheckExpectedDim(typmod, count);

    Vector *result = InitVector(count);
    for (int i = 0; i < count; i++)
        result->x[i] = ElementToFloat(elements[i], element_type);
    PG_RETURN_VECTOR_P(result);
}

/*
 * vector_to_float4(vector, typmod, explicit) -- vector as real[].
 */
VECDB_FUNCTION(vector_to_float4)
{
    Vector *vector = PG_GETARG_VECTOR_P(0);
    Datum *elements = (Datum *) palloc(sizeof(Datum) * vector->dim);

    for (int i = 0; i < vector->dim; i++)
        elements[i] = Float4GetDatum(vector->x[i]);
    PG_RETURN_POINTER(construct_array(elements, vector->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
}
