/*
 * sparsevec_io.cpp -- text and binary input/output of sparsevec(n), its
 * type modifier, and the sparsevec(n) -> sparsevec(m) dimension check.
 *
 * Text: "{1:1.5,3:-2}/5", 1-based indices (src/core/sparse_text.h).
 * Binary, pgvector's, network byte order: int32 dim, int32 nnz, int32 unused
 * = 0, nnz x int32 0-based indices, nnz x float4 values.
 */
#include <cmath>

#include "../../core/sparse_text.h"
#include "sparsevec.h"

namespace {

[[noreturn]] void InvalidSyntax(const char *literal, const char *detail)
{
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("invalid input syntax for type sparsevec: \"%s\"", literal),
                    detail ? errdetail("%s", detail) : 0));
    pg_unreachable();
}

}  // namespace

/*
 * sparsevec_in(cstring, oid, typmod) -- parses "{1:1.5,3:3.5}/5".  Errors
 * come in pgvector's order: the element bound, then syntax and values in
 * reading order, then the dimension count, then the indices once sorted.
 */
VECDB_FUNCTION(sparsevec_in)
{
    char *literal = PG_GETARG_CSTRING(0);
    int32 typmod = PG_GETARG_INT32(2);
    size_t bound = vecdb::sparse_text_elements_bound(literal);

    if (bound > SPARSEVEC_MAX_NNZ)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("sparsevec cannot have more than %d non-zero elements", SPARSEVEC_MAX_NNZ)));

    vecdb::SparseElement *elements = (vecdb::SparseElement *) palloc(sizeof(vecdb::SparseElement) * bound);
    vecdb::SparseParseResult parsed = vecdb::parse_sparse_text(literal, elements, bound);

    switch (parsed.status) {
    case vecdb::SparseParseStatus::Ok:
        break;
    case vecdb::SparseParseStatus::MissingOpenBrace:
        InvalidSyntax(literal, "Vector contents must start with \"{\".");
    case vecdb::SparseParseStatus::Malformed:
        InvalidSyntax(literal, nullptr);
    case vecdb::SparseParseStatus::MissingSlash:
        InvalidSyntax(literal, "Unexpected end of input.");
    case vecdb::SparseParseStatus::JunkAfterDims:
        InvalidSyntax(literal, "Junk after closing.");
    case vecdb::SparseParseStatus::OutOfRange:
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("\"%.*s\" is out of range for type sparsevec", (int) parsed.token_length,
                               parsed.token)));
        break;
    case vecdb::SparseParseStatus::NaNValue:
        SparsevecCheckElement(NAN);
        break;
    case vecdb::SparseParseStatus::InfiniteValue:
        SparsevecCheckElement(INFINITY);
        break;
    }

    SparsevecCheckDim(parsed.dims);
    SparsevecCheckExpectedDim(typmod, parsed.dims);

    vecdb::sort_sparse_elements(elements, parsed.nnz);
    SparseVector *result = InitSparseVector(parsed.dims, (int) parsed.nnz);
    float *values = SPARSEVEC_VALUES(result);
    for (int i = 0; i < result->nnz; i++) {
        result->indices[i] = elements[i].index;
        values[i] = elements[i].value;
        SparsevecCheckIndex(result->indices, i, result->dim);
    }
    pfree(elements);
    PG_RETURN_SPARSEVEC_P(result);
}

/*
 * sparsevec_out(sparsevec) -- "{1:1.5,3:3.5}/5", each value in the shortest
 * form that reads back to the same float.
 */
VECDB_FUNCTION(sparsevec_out)
{
    SparseVector *sparse = PG_GETARG_SPARSEVEC_P(0);
    char *text = (char *) palloc(vecdb::sparse_text_max_length(sparse->nnz, FLOAT_SHORTEST_DECIMAL_LEN));

    vecdb::format_sparse_text(sparse->indices, SPARSEVEC_VALUES(sparse), sparse->nnz, sparse->dim,
                              float_to_shortest_decimal_bufn, text);
    PG_FREE_IF_COPY(sparse, 0);
    PG_RETURN_CSTRING(text);
}

/*
 * sparsevec_typmod_in(cstring[]) -- the n of sparsevec(n).
 */
VECDB_FUNCTION(sparsevec_typmod_in)
{
    ArrayType *modifiers = PG_GETARG_ARRAYTYPE_P(0);
    int count;
    int32 *values = ArrayGetIntegerTypmods(modifiers, &count);

    if (count != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier")));
    if (values[0] < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type sparsevec must be at least 1")));
    if (values[0] > SPARSEVEC_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type sparsevec cannot exceed %d", SPARSEVEC_MAX_DIM)));
    PG_RETURN_INT32(values[0]);
}

/*
 * sparsevec_recv(internal, oid, typmod) -- binary input, checked as it is
 * read: the header before anything is allocated (nnz bounds the size), each
 * index against dim and its predecessor, each value finite and non-zero.  A
 * message shorter than its header promises fails in pq_getmsgint
 * ("insufficient data left in message").
 */
VECDB_FUNCTION(sparsevec_recv)
{
    StringInfo buffer = (StringInfo) PG_GETARG_POINTER(0);
    int32 typmod = PG_GETARG_INT32(2);
    int32 dim = (int32) pq_getmsgint(buffer, sizeof(int32));
    int32 nnz = (int32) pq_getmsgint(buffer, sizeof(int32));
    int32 unused = (int32) pq_getmsgint(buffer, sizeof(int32));

    SparsevecCheckDim(dim);
    SparsevecCheckNnz(nnz, dim);
    SparsevecCheckExpectedDim(typmod, dim);
    if (unused != 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected unused to be 0, not %d", unused)));

    SparseVector *result = InitSparseVector(dim, nnz);
    float *values = SPARSEVEC_VALUES(result);
    for (int i = 0; i < nnz; i++) {
        result->indices[i] = (int32) pq_getmsgint(buffer, sizeof(int32));
        SparsevecCheckIndex(result->indices, i, dim);
    }
    for (int i = 0; i < nnz; i++) {
        values[i] = pq_getmsgfloat4(buffer);
        SparsevecCheckElement(values[i]);
        if (values[i] == 0)
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("binary representation of sparsevec cannot contain zero values")));
    }
    PG_RETURN_SPARSEVEC_P(result);
}

/*
 * sparsevec_send(sparsevec) -- binary output.
 */
VECDB_FUNCTION(sparsevec_send)
{
    SparseVector *sparse = PG_GETARG_SPARSEVEC_P(0);
    const float *values = SPARSEVEC_VALUES(sparse);
    StringInfoData buffer;

    pq_begintypsend(&buffer);
    pq_sendint32(&buffer, (uint32) sparse->dim);
    pq_sendint32(&buffer, (uint32) sparse->nnz);
    pq_sendint32(&buffer, (uint32) sparse->unused);
    for (int i = 0; i < sparse->nnz; i++)
        pq_sendint32(&buffer, (uint32) sparse->indices[i]);
    for (int i = 0; i < sparse->nnz; i++)
        pq_sendfloat4(&buffer, values[i]);
    PG_RETURN_BYTEA_P(pq_endtypsend(&buffer));
}

/*
 * sparsevec(sparsevec, typmod, explicit) -- the cast that enforces
 * sparsevec(n) on assignment and on ::sparsevec(n).
 */
VECDB_FUNCTION(sparsevec)
{
    SparseVector *sparse = PG_GETARG_SPARSEVEC_P(0);
    SparsevecCheckExpectedDim(PG_GETARG_INT32(1), sparse->dim);
    PG_RETURN_SPARSEVEC_P(sparse);
}
