/*
 * index_util.h -- what the hnsw and ivf access methods share beyond the
 * codes (quant/codec.h): corruption reports, the metric an opclass orders
 * by, build threads.
 */
#pragma once

#include "../core/metric.h"
#include "../core/quant/quantization.h"
#include "pg.h"
#include "types/vector.h"

extern "C" {
#include "utils/rel.h"
}

namespace vecdb::pg {

/* Raises ERRCODE_INDEX_CORRUPTED naming the index and the block, with
 * `detail` (printf-style) as the detail and a REINDEX hint. */
[[noreturn]] void ReportCorruption(Relation index, BlockNumber block, const char *detail, ...)
    pg_attribute_printf(3, 4);

/* The metric of the distance function `proc` (an opclass's support
 * function 1); raises ERRCODE_FEATURE_NOT_SUPPORTED naming access method
 * `am` for any other function. */
vecdb::Metric MetricOfDistanceFunction(Oid proc, const char *am);

/* The vector an index orders by for `value`, a datum of its first column:
 * the value itself (vector), or what the opclass's support function 2
 * (halfvec_to_vector, ...) makes of it, in the current memory context.
 * The quantized codes then do not care where the floats came from. */
const Vector *IndexedVector(Relation index, Datum value);
/* The rows a build should expect in `heap`: reltuples, or for a table never
 * analyzed the planner's estimate from its size and column widths (a bit or
 * halfvec column's rows are far narrower than a vector's). */
double ExpectedRows(Relation heap);
/* True when the opclass's operator sums in its own order, not as the dense
 * vector kernels do (support function 2 is sparsevec_to_vector): scans tell
 * the codec (SetOperatorSumsInOwnOrder). */
bool OperatorSumsInOwnOrder(Relation index);
/* True when the index's column is a sparsevec (support function 2 is
 * sparsevec_to_vector), whose elements the 'sparse' code stores. */
bool IndexesSparseColumn(Relation index);
/* True when the ORDER BY operator's value is the squared L2 distance of the
 * indexed vectors, not the distance (hamming_distance on bit_to_vector's 0/1
 * vectors): scans tell the codec (SetOperatorSquaredL2). */
bool OperatorIsSquaredL2(Relation index);

/* The operator class of the index's column, e.g. vector_l1_ops, by its
 * family (CREATE OPERATOR CLASS makes a family of the same name). */
const char *OpclassName(Relation index);
/* True when the index's column is of type bit (bit_hamming_ops,
 * bit_jaccard_ops), whose 0/1 vectors the 'bit' code stores exactly. */
bool IndexesBitColumn(Relation index);
/* The code an index stores: `value` (its `quantization` reloption, "" when
 * not set), checked against the column and `metric`, or by default 'bit' for
 * a bit column, 'sparse' for a sparsevec column of no or more than 2,000
 * dimensions, 'none' for L1 and 'sq8' otherwise.  Raises
 * ERRCODE_INVALID_PARAMETER_VALUE, naming access method `am`, for a code
 * the opclass cannot use. */
vecdb::Quantization ResolveQuantization(Relation index, vecdb::Metric metric, const char *value, const char *am);

/* What vecdb_index_check() found in an index (index_check.cpp): named
 * counts, in the order they are reported. */
struct CheckReport {
    struct Item {
        const char *name;
        int64 value;
    } items[16];
    int count = 0;
    void add(const char *name, int64 value)
    {
        Assert(count < 16);
        items[count++] = {name, value};
    }
};

/* vecdb_index_check() reports its progress in pg_stat_progress_create_index
 * (PostgreSQL has no progress view an extension can add): its command is
 * NULL, its phase "building index: " followed by one of these subphases'
 * names (CheckPhaseName, which both access methods' ambuildphasename
 * return), and blocks_done / blocks_total count the pages of the step. */
enum CheckPhase : int64 {
    kCheckPhaseElements = 101, /* hnsw: every element page */
    kCheckPhaseLinks,          /* hnsw: every link's target */
    kCheckPhaseWalk,           /* hnsw: the layer-0 walk (tuples_done: elements reached) */
    kCheckPhaseLists,          /* ivf: every list's pages */
};
const char *CheckPhaseName(int64 phase);
/* Moves the check's progress report to `phase`, with its totals (done
 * counts back to 0). */
void ReportCheckPhase(CheckPhase phase, int64 blocks_total, int64 tuples_total = 0);

/* Threads a build runs on: max_parallel_maintenance_workers + 1, at most
 * the machine's cores. */
unsigned BuildThreads();

/* MemoryContextAllocHuge for a build's large arrays, asking the kernel for
 * transparent huge pages under them: the first touch of every 4 KB page of
 * fresh memory faults, and in a VM those faults were a seventh of a 784-d
 * ivf build.  Advice only: where it is refused, plain pages are used. */
void *AllocBuildArray(Size bytes);

}  // namespace vecdb::pg
