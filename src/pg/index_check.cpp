/*
 * index_check.cpp -- vecdb_index_check(regclass): reads a whole hnsw or ivf
 * index and raises ERRCODE_INDEX_CORRUPTED at the first problem, or returns
 * what it counted (hnsw/hnsw_check.cpp, ivf/ivf_check.cpp say what is
 * checked).
 *
 * Locks, as amcheck's bt_index_parent_check: ShareLock on the table, then
 * on the index, which waits for inserts and VACUUM to finish and keeps new
 * ones out while the check reads; scans go on.  Only the table's owner (or a
 * member of its role) may hold writers off like that.  On a standby, where
 * ShareLock cannot be taken, PostgreSQL refuses with its own error.
 *
 * Progress shows in pg_stat_progress_create_index (index_util.h).
 */
#include "hnsw/hnsw.h"
#include "ivf/ivf.h"

extern "C" {
#include "access/genam.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "commands/progress.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

VECDB_FUNCTION(vecdb_index_check)
{
    const Oid index_oid = PG_GETARG_OID(0);
    const Oid heap_oid = IndexGetRelation(index_oid, true);
    if (!OidIsValid(heap_oid))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not an index", get_rel_name(index_oid) ? get_rel_name(index_oid) : "?")));
    if (!pg_class_ownercheck(heap_oid, GetUserId()))
        aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(heap_oid));
    LockRelationOid(heap_oid, ShareLock);
    Relation index = index_open(index_oid, ShareLock);
    const bool hnsw = vecdb::pg::hnsw::IsHnswIndex(index);
    if (!hnsw && !vecdb::pg::ivf::IsIvfIndex(index))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not an hnsw or ivf index", RelationGetRelationName(index))));
    if (!index->rd_index->indisvalid)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("index \"%s\" is not valid", RelationGetRelationName(index)),
                        errhint("A failed CREATE INDEX CONCURRENTLY leaves an invalid index: REINDEX or drop it.")));

    /* Progress: CREATE INDEX's view, whose command stays NULL (index_util.h).
     * An error ends the report with the transaction. */
    pgstat_progress_start_command(PROGRESS_COMMAND_CREATE_INDEX, heap_oid);
    const int params[] = {PROGRESS_CREATEIDX_INDEX_OID, PROGRESS_CREATEIDX_ACCESS_METHOD_OID, PROGRESS_CREATEIDX_PHASE,
                          PROGRESS_CREATEIDX_SUBPHASE};
    const int64 values[] = {index_oid, index->rd_rel->relam, PROGRESS_CREATEIDX_PHASE_BUILD,
                            PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE};
    pgstat_progress_update_multi_param(lengthof(params), params, values);
    vecdb::pg::CheckReport report;
    if (hnsw)
        vecdb::pg::hnsw::CheckIndex(index, &report);
    else
        vecdb::pg::ivf::CheckIndex(index, &report);
    pgstat_progress_end_command();
    index_close(index, NoLock); /* locks are held to the end of the transaction */

    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    for (int i = 0; i < report.count; i++) {
        Datum values[2] = {CStringGetTextDatum(report.items[i].name), Int64GetDatum(report.items[i].value)};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum) 0;
}
