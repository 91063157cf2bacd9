/*
 * bit_distance.cpp -- Hamming and Jaccard distance between bit strings, for
 * the output of binary_quantize(vector) (operators <~> and <%>), and the
 * 0/1 vector an index stores for a bit string.
 */
#include "../../core/simd/distance.h"
#include "vector.h"

namespace {

/* Arguments 0 and 1 as bit strings of the same length, or ERROR. */
void GetBitPair(FunctionCallInfo fcinfo, VarBit **a, VarBit **b)
{
    *a = PG_GETARG_VARBIT_P(0);
    *b = PG_GETARG_VARBIT_P(1);
    if (VARBITLEN(*a) != VARBITLEN(*b))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different bit lengths %d and %d", VARBITLEN(*a), VARBITLEN(*b))));
}

}  // namespace

/* hamming_distance(bit, bit), operator <~>: the number of differing bits. */
VECDB_FUNCTION(hamming_distance)
{
    VarBit *a, *b;
    GetBitPair(fcinfo, &a, &b);
    PG_RETURN_FLOAT8((double) vecdb::distance_kernels().hamming(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

/* jaccard_distance(bit, bit), operator <%>: 1 - |a and b| / |a or b|;
 * 1 when no bit is shared (including two all-zero strings). */
VECDB_FUNCTION(jaccard_distance)
{
    VarBit *a, *b;
    GetBitPair(fcinfo, &a, &b);
    vecdb::BitCounts counts = vecdb::distance_kernels().bit_counts(VARBITS(a), VARBITS(b), VARBITBYTES(a));
    if (counts.both == 0)
        PG_RETURN_FLOAT8(1.0);
    PG_RETURN_FLOAT8(1.0 - (double) counts.both / (double) (counts.a + counts.b - counts.both));
}

/* bit_to_vector(bit, typmod, explicit): bit i (the first is the high bit of
 * the first byte) as element i, 0 or 1.  The hamming opclasses' support
 * function 2: on 0/1 vectors the squared Euclidean distance is the Hamming
 * distance, so an index orders bit strings with its L2 codes. */
VECDB_FUNCTION(bit_to_vector)
{
    VarBit *bits = PG_GETARG_VARBIT_P(0);
    const int n = VARBITLEN(bits);
    CheckDim(n);
    Vector *result = InitVector(n);
    const bits8 *bytes = VARBITS(bits);
    for (int i = 0; i < n; i++)
        result->x[i] = float((bytes[i / 8] >> (7 - i % 8)) & 1);
    PG_RETURN_POINTER(result);
}
