#!/usr/bin/env bash
# bruteforce.sh -- the body of `make bench-sql` (scripts/bench_sql.sh), run
# inside a throwaway cluster (PGHOST/PGPORT set).  Environment: ROWS, DIMS,
# QUERIES, ROUNDS, WORK (the built tree).
set -euo pipefail
psql_q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
have_pgvector=$(psql_q -d postgres -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
databases=(vecdb)
createdb vecdb && psql_q -d vecdb -c "CREATE EXTENSION vecdb" -f "$WORK/bench/bruteforce.sql"
if [ "$have_pgvector" = 1 ]; then
    databases+=(pgvector)
    createdb pgvector && psql_q -d pgvector -c "CREATE EXTENSION vector" -f "$WORK/bench/bruteforce.sql"
    echo "pgvector $(psql_q -d pgvector -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'") found: comparing"
else
    echo "no vector extension installed: vecdb only"
fi
settings="SET max_parallel_workers_per_gather = 0; SET jit = off;"

echo
echo "| dims | op | vecdb ms/query | pgvector ms/query | pgvector / vecdb | same results |"
echo "|---:|---|---:|---:|---:|---|"
for dims in $DIMS; do
    psql_q -d vecdb -c "SELECT bench_load($ROWS, $dims)" >/dev/null
    if [ ${#databases[@]} = 2 ]; then
        # Identical data in both: copy the rows as text.
        psql_q -d pgvector -c "SELECT bench_load(1, $dims)" -c "TRUNCATE items" >/dev/null
        psql -X -q -d vecdb -c "\\copy items TO STDOUT" | psql -X -q -d pgvector -c "\\copy items FROM STDIN"
        psql_q -d pgvector -c "ANALYZE items"
    fi
    for op in "<->" "<=>" "<#>"; do
        declare -A times=() md5=()
        for db in "${databases[@]}"; do times[$db]=""; done
        for round in $(seq "$ROUNDS"); do
            # Alternate who goes first, so neither always meets the cache state the other left.
            order=("${databases[@]}")
            [ $((round % 2)) = 0 ] && order=($(printf "%s\n" "${databases[@]}" | tac))
            for db in "${order[@]}"; do
                IFS="|" read -r ms hash < <(psql_q -d "$db" -c "$settings" -c "SELECT * FROM bench_run('$op', $QUERIES)")
                times[$db]+="$ms "
                md5[$db]=$hash
            done
        done
        median() { tr " " "\n" <<<"$1" | grep . | sort -g | awk "{a[NR]=\$1} END {print a[int((NR+1)/2)]}"; }
        v=$(median "${times[vecdb]}")
        if [ ${#databases[@]} = 2 ]; then
            p=$(median "${times[pgvector]}")
            same=$([ "${md5[vecdb]}" = "${md5[pgvector]}" ] && echo yes || echo NO)
            printf "| %s | %s | %.2f | %.2f | %.2fx | %s |\n" "$dims" "$op" "$v" "$p" "$(awk "BEGIN {print $p / $v}")" "$same"
        else
            printf "| %s | %s | %.2f | - | - | - |\n" "$dims" "$op" "$v"
        fi
    done
done
echo
echo "rows=$ROWS queries=$QUERIES rounds=$ROUNDS (median of rounds); kernels: $(psql_q -d vecdb -c "SELECT vecdb_simd_kernels()")"
