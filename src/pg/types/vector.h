/*
 * vector.h -- the on-disk and in-memory form of the SQL type vector(n).
 *
 * The layout is pgvector's, byte for byte, so the binary wire format and
 * dumps are interchangeable:
 *
 *   int32 vl_len_   varlena header (TOAST-able; STORAGE main keeps it inline
 *                   while it fits a heap page)
 *   int16 dim       number of elements, 1 .. VECTOR_MAX_DIM
 *   int16 unused    always 0
 *   float x[dim]    finite float4 values
 *
 * Include after C++ standard headers (it includes pg.h).
 */
#pragma once

#include "../guard.h"

#define VECTOR_MAX_DIM 16000

struct Vector {
    int32 vl_len_;
    int16 dim;
    int16 unused;
    float x[FLEXIBLE_ARRAY_MEMBER];
};

#define VECTOR_SIZE(dim) (offsetof(Vector, x) + sizeof(float) * (dim))
#define DatumGetVector(d) ((Vector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_VECTOR_P(n) DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(v) PG_RETURN_POINTER(v)

/* A zeroed vector of dim elements, in the current memory context. */
Vector *InitVector(int dim);

/* ERROR unless 1 <= dim <= VECTOR_MAX_DIM. */
void CheckDim(int dim);

/* ERROR unless a vector of dim elements fits typmod (-1: any). */
void CheckExpectedDim(int32 typmod, int dim);

/* ERROR if value is NaN or infinite: such values never enter a vector. */
void CheckElement(float value);

/* ERROR if a and b have different dimensions. */
void CheckSameDims(const Vector *a, const Vector *b);

/* Arguments 0 and 1 of a binary vector function, detoasted and checked to
 * have the same dimension. */
struct VectorPair {
    Vector *a;
    Vector *b;
};
VectorPair GetVectorPair(FunctionCallInfo fcinfo);
