#!/usr/bin/env bash
# bench_write.sh -- `make bench-write`: the write path of vecdb's hnsw index
# against pgvector's, in one throwaway cluster, in one run (issue 14's table).
#
# Per data set, both databases get the same rows (bench/fvecs_copy) and a
# default hnsw index on them, then, in this order:
#   1. single-row INSERTs, 1 and 4 clients (pgbench, SECONDS each, ROUNDS
#      rounds interleaved between the databases; medians), and the WAL bytes
#      per row of the 1-client runs (all WAL: heap, primary key and hnsw);
#   2. one INSERT ... SELECT of 10% new rows (and its WAL per row);
#   3. UPDATE of a non-vector column on 10% of the rows;
#   4. DELETE of 10% of the rows, then VACUUM, timed, while single-row
#      inserts run beside it (pgbench in 1-second pieces until it ends): the
#      rows they wrote per second and the longest single insert, against the
#      VACUUM's own time (an insert that waited for the whole VACUUM shows
#      as a longest insert near it);
#   5. churn, three rounds of: delete 10% of the rows (a different hash each
#      round), VACUUM, insert the same rows again; then recall@10 of
#      RECALL_QUERIES queries at the default ef_search against exact lists
#      of the final table (sequential scan), and the same after REINDEX (a
#      fresh build on the same rows).
# New rows are midpoints of two existing rows ((a + b) * 0.5 elementwise):
# in distribution, and not copies (the single-row inserts pick the pair at
# random, the batch by a fixed rule, the same in both databases).
# Report: bench/results/write-<data set>.md.  Either extension may be
# missing; the other then runs alone.
#
# Environment:
#   DATASETS        data sets ("glove-100 mnist-10k"; also siftsmall)
#   SECONDS_PER_RUN pgbench time per insert run (5)
#   ROUNDS          interleaved rounds of the insert runs (3)
#   RECALL_QUERIES  queries for the churn recall (200)
#   SKIP_BUILD=1    use the vecdb installed instead of building this tree
#   PGVECTOR=0      leave pgvector out even when installed
#   DATA_DIR, PORT, SHARED_BUFFERS, MAINTENANCE_WORK_MEM as bench_ann.sh
source "$(dirname "$0")/common.sh"

DATASETS=${DATASETS:-glove-100 mnist-10k}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-3}
RECALL_QUERIES=${RECALL_QUERIES:-200}
SHARED_BUFFERS=${SHARED_BUFFERS:-1GB}
MAINTENANCE_WORK_MEM=${MAINTENANCE_WORK_MEM:-1GB}
DATA_DIR=$(cd "${DATA_DIR:-$VECDB_SRC/../shared/data}" && pwd)
RESULTS=$VECDB_SRC/bench/results

install_packages
prepare_workdir
if [ "${SKIP_BUILD:-0}" = 1 ]; then
    echo "vecdb: SKIP_BUILD=1: not building; using the vecdb installed (if any)"
else
    build_and_install
fi
"${RUN[@]}" g++ -std=c++17 -O2 -o "$WORK/bench/fvecs_copy" "$WORK/bench/fvecs_copy.cpp"

# --- the throwaway cluster -----------------------------------------------------------
make_bench_dir write
PGPORT=$(free_port "${PORT:-55532}")
SERVER_OPTS="-c shared_buffers=$SHARED_BUFFERS -c max_wal_size=4GB"
SERVER_OPTS+=" -c maintenance_work_mem=$MAINTENANCE_WORK_MEM -c autovacuum=off"
start_bench_cluster pgdata "$PGPORT" "$SERVER_OPTS"
echo "cluster: $TMP/pgdata, port $PGPORT, $SERVER_OPTS"

databases=()
available() { [ "$(psql_q -d postgres -c "SELECT count(*) FROM pg_available_extensions WHERE name = '$1'")" = 1 ]; }
if available vecdb; then pg createdb vecdb && psql_q -d vecdb -c "CREATE EXTENSION vecdb" && databases+=(vecdb); fi
if [ "${PGVECTOR:-1}" = 1 ] && available vector; then
    pg createdb pgvector && psql_q -d pgvector -c "CREATE EXTENSION vector"
    if [ "$(psql_q -d pgvector -c "SELECT count(*) FROM pg_proc WHERE proname = 'vecdb_simd_kernels'")" = 1 ]; then
        echo "extension vector is vecdb here (make install-as-vector): leaving it out"
    else
        databases+=(pgvector)
    fi
fi
[ ${#databases[@]} -gt 0 ] || { echo "neither vecdb nor pgvector is installed" >&2; exit 1; }
echo "databases: ${databases[*]}"

# --- helpers ------------------------------------------------------------------------------
now() { date +%s.%N; }
elapsed() { awk "BEGIN {printf \"%.2f\", $(now) - $1}"; }
median() { tr ' ' '\n' | awk NF | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
wal_lsn() { psql_q -d "$1" -c "SELECT pg_current_wal_lsn()"; }
wal_bytes() { psql_q -d "$1" -c "SELECT pg_wal_lsn_diff('$3', '$2')"; }
new_ids() { psql_q -d "$1" -c "SELECT last_value FROM new_id"; }
tps_of() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | awk '{printf "%.0f", $1}'; }
declare -A R  # R[<db>,<measure>] = value

for dataset in $DATASETS; do
    case $dataset in
    glove-100) dir=glove-100-angular; prefix=glove-100; ext=.gz; metric=cosine; ops=vector_cosine_ops; op='<=>' ;;
    siftsmall) dir=siftsmall; prefix=siftsmall; ext=; metric=l2; ops=vector_l2_ops; op='<->' ;;
    mnist-10k) dir=mnist-10k-784-euclidean; prefix=mnist10k; ext=.gz; metric=l2; ops=vector_l2_ops; op='<->' ;;
    *) echo "unknown data set $dataset" >&2; exit 1 ;;
    esac
    base=$TMP/${prefix}_base.fvecs query=$TMP/${prefix}_query.fvecs
    for f in base query; do
        src=$DATA_DIR/$dir/${prefix}_$f.fvecs$ext
        if [ -n "$ext" ]; then pg sh -c 'zcat "$1" > "$2"' sh "$src" "$TMP/${prefix}_$f.fvecs"; else cp "$src" "$TMP/"; fi
    done
    dims=$(od -An -t d4 -N4 "$base" | tr -d ' ')
    rows=$(( $(stat -c %s "$base") / (4 + 4 * dims) ))
    half="'[$(awk -v d="$dims" 'BEGIN {for (i = 1; i <= d; i++) printf "%s0.5", (i > 1 ? "," : "")}')]'::vector"
    echo
    echo "== $dataset: $rows rows, $dims dimensions, $metric"
    # Single-row insert: the midpoint of two rows picked at random.
    cat > "$TMP/insert.sql" <<EOF
\\set a random(0, $((rows - 1)))
\\set b random(0, $((rows - 1)))
INSERT INTO items SELECT nextval('new_id'), 0, 0, 0, (x.embedding + y.embedding) * $half
  FROM items x, items y WHERE x.id = :a AND y.id = :b;
EOF
    chmod a+r "$TMP/insert.sql"
    for db in "${databases[@]}"; do
        psql_q -d "$db" -c "DROP TABLE IF EXISTS items, queries, gone" -c "DROP SEQUENCE IF EXISTS new_id" \
            -c "CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL, u int NOT NULL, c int NOT NULL,
                                    embedding vector($dims))" \
            -c "CREATE TABLE queries (LIKE items)" -c "CREATE TABLE gone (LIKE items)" \
            -c "CREATE SEQUENCE new_id START 10000000"
        pg "$WORK/bench/fvecs_copy" --metric "$metric" "$base" | psql_q -d "$db" -c "\\copy items FROM STDIN"
        pg "$WORK/bench/fvecs_copy" --limit "$RECALL_QUERIES" --metric "$metric" "$query" |
            psql_q -d "$db" -c "\\copy queries FROM STDIN"
        psql_q -d "$db" -c "VACUUM ANALYZE items" -c "CHECKPOINT"
        t0=$(now)
        psql_q -d "$db" -c "CREATE INDEX items_embedding ON items USING hnsw (embedding $ops)"
        R[$db,build]=$(elapsed "$t0")
        R[$db,size]=$(psql_q -d "$db" -c "SELECT round(pg_relation_size('items_embedding') / 1048576.0, 1)")
        psql_q -d "$db" -c "CHECKPOINT"
        echo "$db: index built in ${R[$db,build]} s, ${R[$db,size]} MB"
    done

    # 1. Single-row inserts.
    for db in "${databases[@]}"; do R[$db,wal1]=; done
    for clients in 1 4; do
        for db in "${databases[@]}"; do R[$db,ins$clients]=; done
        for round in $(seq 1 "$ROUNDS"); do
            for db in "${databases[@]}"; do
                lsn=$(wal_lsn "$db") ids=$(new_ids "$db")
                tps=$(pg pgbench -n -T "$SECONDS_PER_RUN" -c "$clients" -j "$clients" -f "$TMP/insert.sql" "$db" 2>&1 | tps_of)
                R[$db,ins$clients]+=" $tps"
                if [ "$clients" = 1 ]; then
                    R[$db,wal1]+=" $(( $(wal_bytes "$db" "$lsn" "$(wal_lsn "$db")") / ($(new_ids "$db") - ids) ))"
                fi
            done
        done
        for db in "${databases[@]}"; do
            R[$db,ins$clients]=$(echo "${R[$db,ins$clients]}" | median)
            echo "$db: $clients-client inserts ${R[$db,ins$clients]} rows/s"
        done
    done
    for db in "${databases[@]}"; do R[$db,wal1]=$(echo "${R[$db,wal1]}" | median); done

    # 2. A batch of 10% new rows: row i's midpoint with row (i * 7919 + 1) mod rows.
    for db in "${databases[@]}"; do
        psql_q -d "$db" -c "CHECKPOINT"
        lsn=$(wal_lsn "$db")
        t0=$(now)
        psql_q -d "$db" -c "INSERT INTO items SELECT 20000000 + x.id, 0, 0, 0, (x.embedding + y.embedding) * $half
                             FROM items x JOIN items y ON y.id = (x.id::bigint * 7919 + 1) % $rows
                            WHERE x.id < $rows AND x.id % 10 = 0"
        R[$db,batch]=$(elapsed "$t0")
        R[$db,walb]=$(( $(wal_bytes "$db" "$lsn" "$(wal_lsn "$db")") / ((rows + 9) / 10) ))
        echo "$db: batch of 10% in ${R[$db,batch]} s"
    done

    # 3. UPDATE of a non-vector column on 10% of the rows.
    for db in "${databases[@]}"; do
        psql_q -d "$db" -c "CHECKPOINT"
        t0=$(now)
        psql_q -d "$db" -c "UPDATE items SET category = category + 1 WHERE id < $rows AND id % 10 = 1"
        R[$db,update]=$(elapsed "$t0")
        psql_q -d "$db" -c "VACUUM items"
        echo "$db: UPDATE of 10% in ${R[$db,update]} s"
    done

    # 4. DELETE 10%, VACUUM, single-row inserts beside it.
    for db in "${databases[@]}"; do
        psql_q -d "$db" -c "DELETE FROM items WHERE id < $rows AND id % 10 = 2" -c "CHECKPOINT"
        ids=$(new_ids "$db")
        rm -f "$TMP"/vl.*
        t0=$(now)
        psql_q -d "$db" -c "VACUUM items" &
        vacuum=$!
        while kill -0 "$vacuum" 2>/dev/null; do
            (cd "$TMP" && pg pgbench -n -T 1 -c 1 -f "$TMP/insert.sql" -l --log-prefix=vl "$db" >/dev/null 2>&1)
        done
        wait "$vacuum"
        R[$db,vacuum]=$(elapsed "$t0")
        R[$db,vins]=$(awk "BEGIN {printf \"%.0f\", ($(new_ids "$db") - $ids) / ${R[$db,vacuum]}}")
        R[$db,vmax]=$(cat "$TMP"/vl.* 2>/dev/null | awk 'BEGIN {m = 0} $3 > m {m = $3} END {printf "%.2f", m / 1e6}')
        echo "$db: VACUUM after deleting 10% in ${R[$db,vacuum]} s; inserts beside it ${R[$db,vins]} rows/s, longest ${R[$db,vmax]} s"
    done

    # 5. Churn, then recall against exact lists of the final table.
    recall_sql="SELECT round(avg(hits) / 10, 4) FROM (
        SELECT (SELECT count(*) FROM unnest(ARRAY(SELECT i.id FROM items i ORDER BY i.embedding $op q.embedding LIMIT 10)) a(id)
                 WHERE a.id = ANY (t.ids)) AS hits
          FROM queries q JOIN truth t ON t.qid = q.id) s"
    for db in "${databases[@]}"; do
        t0=$(now)
        for round in 1 2 3; do
            psql_q -d "$db" -c "WITH d AS (DELETE FROM items WHERE abs(hashint4(id + $round * 1000003)::bigint) % 10 = 0 RETURNING *)
                                INSERT INTO gone SELECT * FROM d" \
                -c "VACUUM items" -c "INSERT INTO items SELECT * FROM gone" -c "TRUNCATE gone"
        done
        R[$db,churn]=$(elapsed "$t0")
        psql_q -d "$db" -c "DROP TABLE IF EXISTS truth" \
            -c "SET enable_indexscan = off" -c "SET enable_bitmapscan = off" \
            -c "CREATE TABLE truth AS SELECT q.id AS qid, ARRAY(SELECT i.id FROM items i ORDER BY i.embedding $op q.embedding LIMIT 10) AS ids FROM queries q"
        R[$db,recall]=$(psql_q -d "$db" -c "SET enable_seqscan = off" -c "$recall_sql")
        psql_q -d "$db" -c "REINDEX INDEX items_embedding"
        R[$db,fresh]=$(psql_q -d "$db" -c "SET enable_seqscan = off" -c "$recall_sql")
        echo "$db: churn in ${R[$db,churn]} s; recall@10 ${R[$db,recall]}, after REINDEX ${R[$db,fresh]}"
    done

    # --- the report ---
    report=$RESULTS/write-$dataset.md
    ratio() {  # ratio <measure> <higher|lower is better>: vecdb's advantage as "N.Nx"
        [ ${#databases[@]} = 2 ] || { echo; return; }
        local v=${R[vecdb,$1]} p=${R[pgvector,$1]}
        if [ "$2" = higher ]; then awk "BEGIN {if ($p > 0) printf \"%.2fx\", $v / $p}"
        else awk "BEGIN {if ($v > 0) printf \"%.2fx\", $p / $v}"; fi
    }
    row() {  # row <label> <measure> <higher|lower|->
        local line="| $1 |"
        for db in "${databases[@]}"; do line+=" ${R[$db,$2]} |"; done
        if [ "$3" = - ]; then line+=" |"; else line+=" $(ratio "$2" "$3") |"; fi
        echo "$line"
    }
    {
        echo "# Write path, $dataset ($rows rows, $dims dimensions, $metric): vecdb hnsw vs pgvector hnsw"
        echo
        echo "\`make bench-write\` (scripts/bench_write.sh), $(date -u +%Y-%m-%d), vecdb source $(git -C "$VECDB_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)."
        echo "Default hnsw indexes (m 16, ef_construction 64; vecdb sq8). Inserts: pgbench, $SECONDS_PER_RUN s per run, median of $ROUNDS interleaved rounds."
        echo "Cluster: \`$SERVER_OPTS\`. The last column is vecdb's advantage (higher is better for vecdb)."
        echo
        header="| | $(printf '%s | ' "${databases[@]}")vecdb advantage |"
        echo "$header"
        echo "|---|$(printf -- '---:|%.0s' "${databases[@]}")---:|"
        row "index build (s)" build lower
        row "index size (MB)" size lower
        row "single-row inserts, 1 client (rows/s)" ins1 higher
        row "single-row inserts, 4 clients (rows/s)" ins4 higher
        row "WAL per inserted row, 1 client (bytes)" wal1 lower
        row "INSERT ... SELECT of 10% new rows (s)" batch lower
        row "WAL per row of that batch (bytes)" walb lower
        row "UPDATE of a non-vector column on 10% (s)" update lower
        row "VACUUM after deleting 10% (s)" vacuum lower
        row "inserts beside that VACUUM (rows/s)" vins higher
        row "longest insert during it (s)" vmax -
        row "3 churn rounds: delete 10%, VACUUM, re-insert (s)" churn lower
        row "recall@10 after churn (default ef_search, $RECALL_QUERIES queries)" recall -
        row "recall@10 after REINDEX of the same rows" fresh -
    } > "$report"
    cat "$report"
    for db in "${databases[@]}"; do psql_q -d "$db" -c "DROP TABLE items, queries, gone, truth" -c "DROP SEQUENCE new_id"; done
    rm -f "$base" "$query"
done
