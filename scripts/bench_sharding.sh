#!/usr/bin/env bash
# bench_sharding.sh -- `make bench-sharding`: the README's "Scaling out" query
# shapes, measured.  Three shard clusters and a coordinator, all throwaway and
# on this machine, as TAP 015 builds them: the coordinator's table is
# hash-partitioned into postgres_fdw foreign tables, one per shard, each shard
# with its own hnsw index.  GloVe-100 (100,000 rows, cosine) is loaded
# through the coordinator, which also keeps every row in one table of its own
# with one hnsw index: the one-server query everything is compared with.
#
# Shapes, each run by pgbench (one client, prepared) for POINT_SECONDS, in ROUNDS
# interleaved rounds, with a random one of the 1,000 GloVe queries each time:
#   one server   SELECT id FROM one_node ORDER BY embedding <=> q LIMIT 10
#   union all    one ORDER BY ... LIMIT 10 per foreign partition, merged
#   dblink       the README's shard_knn: one query per shard sent at once
#                over dblink's asynchronous calls, merged
# and recall@10 of each against the exact answer over 100 of the queries.
# Report: bench/results/sharding-glove-100.md (the medians, and each round).
#
# Environment: ROUNDS (3), POINT_SECONDS (8), SKIP_BUILD=1 (use the installed vecdb),
# DATA_DIR (../shared/data), PORT (first port to try, 55440).
source "$(dirname "$0")/common.sh"

ROUNDS=${ROUNDS:-3}
SECONDS_PER_POINT=${POINT_SECONDS:-8}
DATA_DIR=$(cd "${DATA_DIR:-$VECDB_SRC/../shared/data}" && pwd)
RESULTS=$VECDB_SRC/bench/results
SHARDS=3

install_packages
prepare_workdir
if [ "${SKIP_BUILD:-0}" = 1 ]; then
    echo "vecdb: SKIP_BUILD=1: not building; using the vecdb installed"
else
    build_and_install
fi
"${RUN[@]}" g++ -std=c++17 -O2 -o "$WORK/bench/fvecs_copy" "$WORK/bench/fvecs_copy.cpp"

make_bench_dir shard
nodes=(coord)
for s in $(seq 1 $SHARDS); do nodes+=("shard$s"); done
declare -A port
next_port=${PORT:-55440}
for node in "${nodes[@]}"; do
    port[$node]=$(free_port "$next_port")
    next_port=$((port[$node] + 1))
done

on() {  # on <node> <command...>
    local node=$1; shift
    "${RUN[@]}" env PATH="$PG_BIN:$PATH" PGHOST="$TMP" PGPORT="${port[$node]}" PGDATABASE=postgres \
        PGOPTIONS="-c client_min_messages=warning" "$@"
}
sql() { local node=$1; shift; on "$node" psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

for node in "${nodes[@]}"; do
    start_bench_cluster "$node" "${port[$node]}" "-c shared_buffers=256MB -c jit=off"
done
echo "clusters in $TMP: ${nodes[*]} on ports ${port[*]}"

# --- data ---------------------------------------------------------------------------
glove=$DATA_DIR/glove-100-angular
zcat "$glove/glove-100_base.fvecs.gz" > "$TMP/base.fvecs"
zcat "$glove/glove-100_query.fvecs.gz" > "$TMP/query.fvecs"
chmod a+r "$TMP"/*.fvecs
on coord "$WORK/bench/fvecs_copy" --metric cosine "$TMP/base.fvecs" > "$TMP/base.txt"
on coord "$WORK/bench/fvecs_copy" --metric cosine "$TMP/query.fvecs" > "$TMP/query.txt"
chmod a+r "$TMP"/*.txt

columns="id bigint PRIMARY KEY, category int, u int, c int, embedding vector(100)"
for s in $(seq 1 $SHARDS); do
    sql "shard$s" -c "CREATE EXTENSION vecdb; CREATE TABLE items ($columns);"
done
servers=""
for s in $(seq 1 $SHARDS); do
    servers+="
    CREATE SERVER shard$s FOREIGN DATA WRAPPER postgres_fdw
        OPTIONS (host '$TMP', port '${port[shard$s]}', dbname 'postgres', extensions 'vecdb', batch_size '1000');
    CREATE USER MAPPING FOR CURRENT_USER SERVER shard$s;
    CREATE FOREIGN TABLE items_p$s PARTITION OF items FOR VALUES WITH (MODULUS $SHARDS, REMAINDER $((s - 1)))
        SERVER shard$s OPTIONS (table_name 'items');"
done
sql coord <<EOF
CREATE EXTENSION vecdb;
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION dblink;
CREATE TABLE one_node ($columns);
CREATE TABLE queries ($columns);
\copy one_node FROM '$TMP/base.txt'
\copy queries FROM '$TMP/query.txt'
CREATE TABLE items (id bigint NOT NULL, category int, u int, c int, embedding vector(100)) PARTITION BY HASH (id);
$servers
INSERT INTO items SELECT * FROM one_node;
EOF
# The helper, as the README gives it.
sed -n '/^-- vecdb_shard_knn begin/,/^-- vecdb_shard_knn end/p' "$VECDB_SRC/README.md" | sql coord
echo "loaded: $(sql coord -c 'SELECT count(*) FROM items') rows through the coordinator"

build_start=$(date +%s)
for node in "${nodes[@]}"; do
    table=items; [ "$node" = coord ] && table=one_node
    sql "$node" -c "SET maintenance_work_mem = '1GB'; CREATE INDEX ON $table USING hnsw (embedding vector_cosine_ops); ANALYZE $table;" &
done
wait
echo "indexes built in $(( $(date +%s) - build_start )) s"

# --- the shapes -----------------------------------------------------------------------
q='(SELECT embedding FROM queries WHERE id = :qid)'
union=""
for s in $(seq 1 $SHARDS); do
    [ -n "$union" ] && union+=" UNION ALL "
    union+="(SELECT id, embedding <=> $q AS d FROM items_p$s ORDER BY embedding <=> $q LIMIT 10)"
done
shapes=(one union dblink)
declare -A shape_name=([one]="one server" [union]="UNION ALL over three shards" [dblink]="shard_knn (dblink) over three shards")
declare -A shape_sql=(
    [one]="SELECT id FROM one_node ORDER BY embedding <=> $q LIMIT 10;"
    [union]="SELECT id FROM ($union) u ORDER BY d LIMIT 10;"
    [dblink]="SELECT id FROM shard_knn($q, 10);"
)
for shape in "${shapes[@]}"; do
    printf '\\set qid random(0, 999)\n%s\n' "${shape_sql[$shape]}" > "$TMP/$shape.sql"
done
chmod a+r "$TMP"/*.sql

# Recall@10 against the exact order (a sequential scan), 100 queries.
sql coord <<EOF
SET enable_indexscan = off;
CREATE TABLE exact AS SELECT qq.id AS qid, array(SELECT id FROM one_node ORDER BY embedding <=> qq.embedding LIMIT 10) AS ids
  FROM queries qq WHERE qq.id % 10 = 0;
EOF
recall() {  # recall <shape>
    local select=${shape_sql[$1]//:qid/qq.id}
    select=${select%;}
    sql coord <<EOF
SELECT round(avg((SELECT count(*) FROM unnest(exact.ids) e WHERE e = ANY (got.ids))) / 10, 3)
  FROM exact, queries qq, LATERAL (SELECT array($select) AS ids) got WHERE qq.id = exact.qid;
EOF
}
declare -A recall_of
for shape in "${shapes[@]}"; do recall_of[$shape]=$(recall "$shape"); done

declare -A runs
for round in $(seq 1 "$ROUNDS"); do
    for shape in "${shapes[@]}"; do
        ms=$(on coord pgbench -n -M prepared -c 1 -T "$SECONDS_PER_POINT" -f "$TMP/$shape.sql" 2>&1 |
             sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p')
        runs[$shape]+="$ms "
        echo "round $round: $shape $ms ms"
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- report -----------------------------------------------------------------------------
mkdir -p "$RESULTS"
report=$RESULTS/sharding-glove-100.md
one_ms=$(median ${runs[one]})
{
    echo "# Sharding over postgres_fdw: GloVe-100, three shards"
    echo
    source_note="vecdb $(git -C "$VECDB_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    git -C "$VECDB_SRC" diff --quiet HEAD 2>/dev/null || source_note+=" + uncommitted changes"
    echo "\`make bench-sharding\` (scripts/bench_sharding.sh), $(date -u +%Y-%m-%d), $source_note."
    echo "$(nproc) cores; three shard clusters and a coordinator on this one host; 100,000 rows, cosine, default hnsw on"
    echo "every shard and on the one-server table; pgbench, one client, $SECONDS_PER_POINT s a point, $ROUNDS interleaved rounds."
    echo
    echo "| query | median latency | rounds (ms) | vs one server | a shard's share vs one server | recall@10 (100 queries) |"
    echo "|---|---:|---|---:|---:|---:|"
    for shape in "${shapes[@]}"; do
        ms=$(median ${runs[$shape]})
        n=$SHARDS; [ "$shape" = one ] && n=1
        echo "| ${shape_name[$shape]} | $ms ms | ${runs[$shape]% } | $(awk -v a="$ms" -v b="$one_ms" 'BEGIN { printf "%.1fx", a / b }')" \
             "| $(awk -v a="$ms" -v b="$one_ms" -v n="$n" 'BEGIN { printf "%.1fx", a / b / n }') | ${recall_of[$shape]} |"
    done
} > "$report"
cat "$report"
