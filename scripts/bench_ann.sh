#!/usr/bin/env bash
# bench_ann.sh -- `make bench-ann`: vecdb's HNSW index against pgvector's, at
# the SQL level, in one throwaway cluster on this machine, in one run.
#
# Per data set: the same rows (bench/fvecs_copy) are COPYed into database
# vecdb (CREATE EXTENSION vecdb) and database pgvector (CREATE EXTENSION
# vector) -- two databases because both define type vector -- and
# bench/ann_client builds each HNSW index and measures recall@10, QPS,
# latency and buffers over an ef_search sweep, then filtered queries on
# fvecs_copy's int columns (category = 0; u < 1000/100/10, uncorrelated with
# the vectors; c < 1000/100/10, the rows farthest from the mean), each with a
# btree, with the planner's plan and forced onto the HNSW index.  Reports:
# bench/results/ann-<data set>[-<REPORT_TAG>].md and .svg.
# Either extension may be missing; the other then runs alone.
#
# IVF=1 measures vecdb's ivf index instead, against pgvector's ivfflat and
# hnsw, three curves in one run, unfiltered only: database pgvector gets a
# second table, items_hnsw, an identical copy of items, so that each of its
# indexes is its table's only vector index (ivfflat on items, hnsw on
# items_hnsw).  Per index: build time, size, the probes (ef_search) sweep in
# ROUNDS interleaved rounds (medians), QPS and buffers per query at recall@10
# 0.95 and 0.99 interpolated on each curve with vecdb-ivf's ratios to the
# other two, and single-row insert throughput.  The seq-scan, bitmap and
# sort plans are disabled so the rows come from the index measured (the plan
# is checked at every point).  If vecdb has no ivf access method it is
# reported unsupported and pgvector runs alone.  Reports:
# bench/results/ann-<data set>-ivf[-<REPORT_TAG>].md and .svg.
#
# Environment:
#   DATASETS        data sets to run ("glove-100 siftsmall"; also mnist-10k)
#   QUERIES         queries per data set (default: 1000 for glove-100 and
#                   mnist-10k, all 100 for siftsmall)
#   EF_LIST         hnsw.ef_search sweep ("10 20 40 80 120 200 400")
#   FILTER_EF_LIST  ef_search values for the filtered queries ("40 200")
#   FILTER_QUERIES  filtered runs use this many of the queries, evenly spaced (200)
#   FILTER_INDEX=1  also measure vecdb with each of u and c inside an HNSW index
#                   of its own, (embedding, u) and (embedding, c), built and
#                   dropped in turn (reported unsupported if the build fails)
#   MIN_SECONDS     per point, each database repeats the query set until it has
#                   spent this long (2; at least one pass)
#   BUFFER_SAMPLE   queries per point run under EXPLAIN (ANALYZE, BUFFERS) (50)
#   HNSW_M, EF_CONSTRUCTION   index build parameters (16, 64), both extensions
#   VECDB_INDEX_OPTS          appended to vecdb's WITH (...), e.g. ", quantization = 'none'"
#   REPORT_TAG      appended to the report's file names (e.g. the code measured)
#   VECDB_SETTINGS            settings for database vecdb, "name=value ..." (ALTER DATABASE ... SET),
#                             e.g. "hnsw.rerank_window=20"
#   MAINTENANCE_WORK_MEM      for both builds (1GB)
#   VECTOR_TYPE     the embedding column's type in both databases: vector (default) or
#                   halfvec (halfvec_*_ops indexes, queries cast to halfvec)
#   QUICK=1         development run: siftsmall, EF_LIST "10 40 200", small samples
#   SKIP_BUILD=1    use the vecdb already installed instead of building and
#                   installing this tree
#   DATA_DIR        the data sets (../shared/data beside the repository)
#   PORT            first port to try for the cluster (55432)
#   VECDB_EXTENSION the extension database vecdb gets (vecdb); `vector` makes
#                   an A/A run, pgvector against itself, to see the harness's noise
#   IVF=1           the IVF mode above (vecdb ivf vs pgvector ivfflat and hnsw);
#                   EF_LIST, HNSW_M, EF_CONSTRUCTION then apply to pgvector's hnsw,
#                   VECDB_INDEX_OPTS to vecdb's ivf, e.g. ", quantization = 'none'";
#                   FILTER_* are ignored
#   PROBES_LIST     IVF mode: ivf.probes / ivfflat.probes sweep ("1 2 4 8 16 32 64";
#                   values above the lists are skipped)
#   IVF_LISTS       IVF mode: lists of both IVF indexes (default per data set:
#                   rows / 1000 rounded, at least 10)
#   ROUNDS          IVF mode: rounds of the whole sweep; QPS, p50, p99 are their medians (3)
#   INSERT_ROWS     IVF mode: single-row INSERTs timed per index after the sweep (2000)
source "$(dirname "$0")/common.sh"

if [ "${QUICK:-0}" = 1 ]; then
    DATASETS=${DATASETS:-siftsmall}
    EF_LIST=${EF_LIST:-10 40 200}
    FILTER_EF_LIST=${FILTER_EF_LIST:-40}
    BUFFER_SAMPLE=${BUFFER_SAMPLE:-10}
    MIN_SECONDS=${MIN_SECONDS:-0.5}
    ROUNDS=${ROUNDS:-2}
    INSERT_ROWS=${INSERT_ROWS:-500}
fi
DATASETS=${DATASETS:-glove-100 siftsmall}
QUERIES=${QUERIES:-}
EF_LIST=${EF_LIST:-10 20 40 80 120 200 400}
FILTER_EF_LIST=${FILTER_EF_LIST:-40 200}
FILTER_QUERIES=${FILTER_QUERIES:-200}
BUFFER_SAMPLE=${BUFFER_SAMPLE:-50}
MIN_SECONDS=${MIN_SECONDS:-2}
HNSW_M=${HNSW_M:-16}
EF_CONSTRUCTION=${EF_CONSTRUCTION:-64}
VECDB_INDEX_OPTS=${VECDB_INDEX_OPTS:-}
VECDB_SETTINGS=${VECDB_SETTINGS:-}
REPORT_TAG=${REPORT_TAG:+-$REPORT_TAG}
MAINTENANCE_WORK_MEM=${MAINTENANCE_WORK_MEM:-1GB}
VECTOR_TYPE=${VECTOR_TYPE:-vector}
VECDB_EXTENSION=${VECDB_EXTENSION:-vecdb}
DATA_DIR=$(cd "${DATA_DIR:-$VECDB_SRC/../shared/data}" && pwd)
RESULTS=$VECDB_SRC/bench/results
FILTER_COLUMNS="category u c"
IVF=${IVF:-0}
PROBES_LIST=${PROBES_LIST:-1 2 4 8 16 32 64}
IVF_LISTS=${IVF_LISTS:-}
ROUNDS=${ROUNDS:-3}
INSERT_ROWS=${INSERT_ROWS:-2000}
report_name() {  # ann-<data set>[-halfvec][-ivf][<REPORT_TAG>]
    local type=; [ "$VECTOR_TYPE" = vector ] || type=-$VECTOR_TYPE
    if [ "$IVF" = 1 ]; then echo "ann-$1$type-ivf$REPORT_TAG"; else echo "ann-$1$type$REPORT_TAG"; fi
}
filter_index_arg=()
if [ "${FILTER_INDEX:-0}" = 1 ]; then filter_index_arg=(--filter-index); fi

# The client is linked with libpq; this script's own need, not the extension's.
PACKAGES+=(libpq-dev)
install_packages
prepare_workdir
if [ "${SKIP_BUILD:-0}" = 1 ]; then
    echo "vecdb: SKIP_BUILD=1: not building; using the vecdb installed (if any)"
else
    build_and_install
fi

CXXFLAGS_BENCH=(-std=c++17 -O2 -Wall -Wextra)
"${RUN[@]}" g++ "${CXXFLAGS_BENCH[@]}" -o "$WORK/bench/fvecs_copy" "$WORK/bench/fvecs_copy.cpp"
"${RUN[@]}" g++ "${CXXFLAGS_BENCH[@]}" -I"$(pg_config --includedir)" -o "$WORK/bench/ann_client" \
    "$WORK/bench/ann_client.cpp" -L"$(pg_config --libdir)" -lpq

# --- the throwaway cluster -----------------------------------------------------------
TMP=$(mktemp -d /tmp/vecdb-ann.XXXXXX)
if [ "$(id -u)" = 0 ]; then chown postgres: "$TMP"; fi
cleanup() {
    if [ -f "$TMP/pgdata/postmaster.pid" ]; then
        "${RUN[@]}" "$PG_BIN/pg_ctl" -D "$TMP/pgdata" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    # This replaces prepare_workdir's trap, so do what it did: drop the scratch copy.
    if [ "$(id -u)" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$TMP"  # the postgres user may not be able to enter the caller's directory

port_in_use() {
    local p=$1 dir
    for dir in /tmp /var/run/postgresql; do
        if [ -e "$dir/.s.PGSQL.$p" ] || [ -e "$dir/.s.PGSQL.$p.lock" ]; then return 0; fi
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
}
PGPORT=${PORT:-55432}
while port_in_use "$PGPORT"; do PGPORT=$((PGPORT + 1)); done

pg() { "${RUN[@]}" env PATH="$PG_BIN:$PATH" PGHOST="$TMP" PGPORT="$PGPORT" PGOPTIONS="-c client_min_messages=warning" "$@"; }
psql_q() { pg psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

pg initdb -D "$TMP/pgdata" --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
SERVER_OPTS="-p $PGPORT -k $TMP -c shared_buffers=1GB -c max_wal_size=4GB -c listen_addresses=''"
if ! pg pg_ctl -D "$TMP/pgdata" -l "$TMP/server.log" -w -o "$SERVER_OPTS" start >/dev/null; then
    cat "$TMP/server.log" >&2
    exit 1
fi
echo "cluster: $TMP/pgdata, port $PGPORT, $SERVER_OPTS"

# --- the extensions, one database each -----------------------------------------------
databases=() absent=()
available() { [ "$(psql_q -d postgres -c "SELECT count(*) FROM pg_available_extensions WHERE name = '$1'")" = 1 ]; }
add_database() {  # add_database <database> <extension>
    pg createdb "$1"
    if ! psql_q -d "$1" -c "CREATE EXTENSION $2"; then
        echo "$2 is installed but CREATE EXTENSION failed: leaving it out"
        absent+=("$1: CREATE EXTENSION $2 failed")
    elif [ "$(psql_q -d "$1" -c "SELECT count(*) FROM pg_am WHERE amname = 'hnsw'")" = 0 ]; then
        # vecdb's index arrives after its types: an older install has none.
        echo "$2 is installed but has no hnsw access method: leaving it out"
        absent+=("$1: $2 installed but without an hnsw access method")
    elif [ "$1" = pgvector ] && [ "$(psql_q -d "$1" -c "SELECT count(*) FROM pg_proc WHERE proname = 'vecdb_simd_kernels'")" = 1 ]; then
        # `make install-as-vector` (make test runs it): no pgvector to compare against.
        echo "extension vector is vecdb here, not pgvector: leaving it out"
        absent+=("$1: extension vector is vecdb (make install-as-vector)")
    else
        databases+=("$1")
    fi
}
if available "$VECDB_EXTENSION"; then add_database vecdb "$VECDB_EXTENSION"; fi
if available vector; then add_database pgvector vector; fi
case "${databases[*]}" in
"vecdb pgvector") echo "comparing vecdb and pgvector" ;;
pgvector) echo "vecdb not installed: pgvector only" ;;
vecdb) echo "no vector extension installed: vecdb only" ;;
*) echo "neither vecdb nor pgvector (vector) is usable: nothing to measure" >&2; exit 1 ;;
esac
db_args=()
for db in "${databases[@]}"; do db_args+=(--db "$db"); done

# Facts for every report's header.
source_note="vecdb source: $(git -C "$VECDB_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$VECDB_SRC" diff --quiet HEAD 2>/dev/null || source_note+=" + uncommitted changes"
if [ "${SKIP_BUILD:-0}" = 1 ]; then
    source_note+=" (SKIP_BUILD=1: the vecdb installed, not necessarily this tree)"
fi
notes=("$source_note")
if [ "$VECDB_EXTENSION" != vecdb ] && [ "${databases[0]}" = vecdb ]; then
    notes+=("A/A run: database vecdb holds extension $VECDB_EXTENSION, not vecdb")
fi
for a in "${absent[@]}"; do notes+=("left out: $a"); done
[ ${#databases[@]} = 2 ] || notes+=("${databases[0]} only: the other extension is not installed or not usable")
notes+=("cluster: fresh initdb, \`$SERVER_OPTS\`, otherwise defaults")
if [ -n "$VECDB_SETTINGS" ] && [ "${databases[0]}" = vecdb ]; then
    for setting in $VECDB_SETTINGS; do
        psql_q -d vecdb -c "ALTER DATABASE vecdb SET ${setting%%=*} = '${setting#*=}'"
    done
    notes+=("database vecdb settings: $VECDB_SETTINGS")
fi

# --- per data set ------------------------------------------------------------------------
mkdir -p "$TMP/data" "$TMP/results" "$RESULTS"
if [ "$(id -u)" = 0 ]; then chown postgres: "$TMP/data" "$TMP/results"; fi
plain_file() {  # the path of a plain .fvecs/.ivecs, decompressed into $TMP/data if gzipped
    case "$1" in
    *.gz) local out="$TMP/data/$(basename "${1%.gz}")"
          [ -f "$out" ] || pg sh -c 'zcat "$1" > "$2"' sh "$1" "$out"
          echo "$out" ;;
    *) echo "$1" ;;
    esac
}

for dataset in $DATASETS; do
    case $dataset in
    glove-100) dir=glove-100-angular; prefix=glove-100; ext=.gz; metric=cosine; queries=1000 ;;
    siftsmall) dir=siftsmall; prefix=siftsmall; ext=; metric=l2; queries=100 ;;
    mnist-10k) dir=mnist-10k-784-euclidean; prefix=mnist10k; ext=.gz; metric=l2; queries=1000 ;;
    *) echo "unknown data set $dataset (glove-100, siftsmall, mnist-10k)" >&2; exit 1 ;;
    esac
    base=$(plain_file "$DATA_DIR/$dir/${prefix}_base.fvecs$ext")
    query=$(plain_file "$DATA_DIR/$dir/${prefix}_query.fvecs$ext")
    truth=$DATA_DIR/$dir/${prefix}_groundtruth.ivecs
    dims=$(od -An -t d4 -N4 "$base" | tr -d ' ')
    echo
    echo "== $dataset: loading ($dims dimensions, $metric)"
    load_notes=()
    for db in "${databases[@]}"; do
        # The filter columns are fvecs_copy's (see its header comment).
        psql_q -d "$db" -c "DROP TABLE IF EXISTS items" \
            -c "CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL, u int NOT NULL, c int NOT NULL,
                                    embedding $VECTOR_TYPE($dims))"
        t0=$(date +%s.%N)
        pg "$WORK/bench/fvecs_copy" --metric "$metric" "$base" | psql_q -d "$db" -c "\\copy items FROM STDIN"
        # A btree per filter column, as a user's table would have: the
        # planner then weighs a bitmap scan against the HNSW index.
        for column in $FILTER_COLUMNS; do psql_q -d "$db" -c "CREATE INDEX ON items ($column)"; done
        psql_q -d "$db" -c "VACUUM ANALYZE items" -c "CHECKPOINT"
        secs=$(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}")
        echo "$db: loaded $(psql_q -d "$db" -c "SELECT count(*) FROM items") rows in $secs s (COPY + btrees + VACUUM ANALYZE)"
        load_notes+=("$db load (COPY text + filter btrees + VACUUM ANALYZE): $secs s")
        if [ "$IVF" = 1 ] && [ "$db" = pgvector ]; then
            # pgvector's hnsw gets a table of its own (see the header).
            psql_q -d "$db" -c "DROP TABLE IF EXISTS items_hnsw" \
                -c "CREATE TABLE items_hnsw (LIKE items INCLUDING ALL)" \
                -c "INSERT INTO items_hnsw SELECT * FROM items ORDER BY id" \
                -c "VACUUM ANALYZE items_hnsw" -c "CHECKPOINT"
            echo "$db: copied items to items_hnsw"
        fi
    done
    mode_args=()
    if [ "$IVF" = 1 ]; then
        rows=$(( $(stat -c %s "$base") / (4 + 4 * dims) ))
        lists=${IVF_LISTS:-$(( (rows + 500) / 1000 ))}
        [ -n "$IVF_LISTS" ] || [ "$lists" -ge 10 ] || lists=10
        mode_args=(--ivf --ivf-lists "$lists" --probes-list "$PROBES_LIST" --rounds "$ROUNDS"
                   --insert-rows "$INSERT_ROWS")
        echo "IVF mode: lists = $lists, probes ($PROBES_LIST), $ROUNDS rounds, $INSERT_ROWS single-row inserts"
    fi
    report=$(report_name "$dataset")
    note_args=()
    for n in "${notes[@]}" "${load_notes[@]}"; do note_args+=(--note "$n"); done
    pg "$WORK/bench/ann_client" --dataset "$dataset" --metric "$metric" \
        --base "$base" --query "$query" --groundtruth "$truth" "${db_args[@]}" \
        --queries "${QUERIES:-$queries}" --ef-list "$EF_LIST" --filter-ef-list "$FILTER_EF_LIST" \
        --filter-queries "$FILTER_QUERIES" "${filter_index_arg[@]}" \
        --buffer-sample "$BUFFER_SAMPLE" --min-seconds "$MIN_SECONDS" --m "$HNSW_M" --ef-construction "$EF_CONSTRUCTION" \
        --maintenance-work-mem "$MAINTENANCE_WORK_MEM" --type "$VECTOR_TYPE" --vecdb-opts "$VECDB_INDEX_OPTS" "${mode_args[@]}" \
        --report "$TMP/results/$report.md" --svg "$TMP/results/$report.svg" \
        "${note_args[@]}"
    cp "$TMP/results/$report.md" "$TMP/results/$report.svg" "$RESULTS/"
    # The tables go before the next data set: only one set's rows at a time.
    for db in "${databases[@]}"; do psql_q -d "$db" -c "DROP TABLE items" -c "DROP TABLE IF EXISTS items_hnsw"; done
    echo "report: $RESULTS/$report.md (plot: $RESULTS/$report.svg)"
done
