/*
 * bit_distance.cpp -- Hamming and Jaccard distance between bit strings, for
 * the output of binary_quantize(vector) (operators <~> and <%>).
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
