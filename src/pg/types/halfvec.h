/*
 * halfvec.h -- the SQL type halfvec(n): vector(n) in IEEE binary16.
 *
 * The layout is pgvector's, byte for byte (dumps and the binary wire format
 * move between the two):
 *
 *   int32 vl_len_   varlena header
 *   int16 dim       number of elements, 1 .. HALFVEC_MAX_DIM
 *   int16 unused    always 0
 *   half  x[dim]    finite binary16 values
 *
 * Every function but I/O works by converting to vector (float) and back:
 * a half converts to float exactly, so results equal the vector function's
 * on the same values, rounded to half once at the end.
 */
#pragma once

#include "../../core/half.h"
#include "vector.h"

#define HALFVEC_MAX_DIM 16000

struct HalfVector {
    int32 vl_len_;
    int16 dim;
    int16 unused;
    vecdb::Half x[FLEXIBLE_ARRAY_MEMBER];
};

#define HALFVEC_SIZE(dim) (offsetof(HalfVector, x) + sizeof(vecdb::Half) * (dim))
#define DatumGetHalfVector(d) ((HalfVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_HALFVEC_P(n) DatumGetHalfVector(PG_GETARG_DATUM(n))

/* A zeroed halfvec of dim elements, in the current memory context. */
HalfVector *InitHalfVector(int dim);
/* ERROR unless 1 <= dim <= HALFVEC_MAX_DIM. */
void CheckHalfvecDim(int dim);
/* The same values as a vector. */
Vector *HalfvecToVector(const HalfVector *h);
/* What a conversion to halfvec does with a float beyond the half range. */
enum class HalfOverflow {
    Cast,      /* 22003 "<value>" is out of range for type halfvec */
    Arithmetic /* 22003 value out of range: overflow */
};
/* v rounded to halfvec; a non-finite or out-of-range element is an ERROR. */
HalfVector *VectorToHalfvec(const Vector *v, HalfOverflow overflow);
