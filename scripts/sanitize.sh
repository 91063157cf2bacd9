# sanitize.sh -- sourced by scripts/test.sh and scripts/test_sanitize.sh,
# after common.sh and prepare_workdir (uses WORK, RUN, PG_BIN).
#
#   sanitize_unit      GoogleTest built with ASan + UBSan (test/unit/vecdb_unit_asan)
#   sanitize_ubsan     vecdb.so built with UBSan, installed; pg_regress, pgTAP
#                      and TAP against it; the normal build installed again after
#   sanitize_valgrind  pg_regress against a server running under Valgrind
#                      memcheck; errors with a vecdb frame on their stack fail
#
# The SQL suites run in a cluster of our own (initdb, postgres started
# directly): pg_ctlcluster, under pg_virtualenv, empties the server's
# environment, and Valgrind has to start the postmaster itself.

SANITIZE_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

sanitize_unit() {
    "${RUN[@]}" make -C "$WORK" -s -j"$(nproc)" test/unit/vecdb_unit_asan || return 1
    # --gtest_brief: only failures and the summary (the normal suite lists every test).
    "${RUN[@]}" make -C "$WORK" -s unit-asan ASAN_ARGS=--gtest_brief=1
}

# sanitize_scratch DIR: a scratch directory owned by the user that runs servers.
sanitize_scratch() {
    local dir
    dir=$(mktemp -d "/tmp/vecdb-$1.XXXXXX")
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    echo "$dir"
}

# start_cluster DIR LOG PREFIX...: initdb in DIR/data, then start postgres
# (prefixed by PREFIX, e.g. env or valgrind) with its socket in DIR and its
# stderr in LOG; sets PGHOST, PGPORT.  TCP is off, so the port is free.
start_cluster() {
    local dir=$1 log=$2
    shift 2
    "${RUN[@]}" "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log"; return 1; }
    "${RUN[@]}" "$@" "$PG_BIN/postgres" -D "$dir/data" -k "$dir" -p 5432 -c listen_addresses= \
        -c fsync=off -c max_connections=20 -c jit=off >"$log" 2>&1 &
    export PGHOST=$dir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
    local i
    for i in $(seq 1 300); do
        "${RUN[@]}" "$PG_BIN/pg_isready" -q && return 0
        sleep 1
    done
    echo "vecdb: the server did not start; its log:"
    cat "$log"
    return 1
}

stop_cluster() {
    "${RUN[@]}" "$PG_BIN/pg_ctl" -D "$1/data" stop -m fast -t 600 >/dev/null || true
    unset PGHOST PGPORT PGUSER PGDATABASE
}

# Builds vecdb.so with UBSan in a copy of WORK (the normal objects stay),
# installs it, runs pg_regress, pgTAP and the TAP tests against it, and
# installs the normal build again.  Fails on a failed suite or a UBSan report
# in a server log (-fno-sanitize-recover ends the backend that hits it, so
# the suite fails too; the log has the report and its stack).
sanitize_ubsan() {
    local build dir rc=0
    build=$(sanitize_scratch ubsan-build)
    tar -C "$WORK" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude=./build -cf - . | tar -C "$build" -xf -
    [ "$(id -u)" = 0 ] && chown -R postgres: "$build"
    "${RUN[@]}" make -C "$build" -s -j"$(nproc)" SANITIZE=undefined || { rm -rf "$build"; return 1; }
    # grep -q stops at the first match; under pipefail nm's SIGPIPE would then
    # fail the pipe, so grep reads nm's whole output from a process substitution.
    if ! grep -q __ubsan_handle_ < <(nm -D --undefined-only "$build/vecdb.so"); then
        echo "vecdb: $build/vecdb.so has no UBSan checks"
        rm -rf "$build"
        return 1
    fi
    as_root make -C "$build" -s install SANITIZE=undefined >/dev/null || { rm -rf "$build"; return 1; }

    dir=$(sanitize_scratch ubsan)
    # The postmaster gets UBSAN_OPTIONS; a backend has written its process
    # title over its copy of the environment by the time UBSan reads it, so
    # the sanitized vecdb.so also carries these options (ubsan_options.cpp).
    if start_cluster "$dir" "$dir/server.log" env UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; then
        "${RUN[@]}" env PGHOST="$PGHOST" PGPORT="$PGPORT" make -C "$build" -s installcheck-regress || {
            rc=1
            [ -f "$build/regression.diffs" ] && head -200 "$build/regression.diffs"
        }
        "${RUN[@]}" env PGHOST="$PGHOST" PGPORT="$PGPORT" make -C "$build" -s installcheck-pgtap || rc=1
        stop_cluster "$dir"
    else
        rc=1
        unset PGHOST PGPORT PGUSER PGDATABASE
    fi
    # The TAP tests (crashes, replicas, concurrent inserts, vacuum) start
    # their own servers; their logs land in tmp_check/log.
    "${RUN[@]}" make -C "$build" -s installcheck-tap || rc=1
    local log
    for log in "$dir/server.log" "$build"/tmp_check/log/*.log; do
        [ -f "$log" ] && grep -q "runtime error" "$log" || continue
        echo "vecdb: UndefinedBehaviorSanitizer reports in $log:"
        grep -A 30 "runtime error" "$log" | head -200
        rc=1
    done
    as_root make -C "$WORK" -s install >/dev/null || rc=1
    rm -rf "$build" "$dir"
    return $rc
}

# Valgrind memcheck under the whole server during pg_regress.  Debian's
# PostgreSQL is not built with USE_VALGRIND, so palloc'd chunks are not
# tracked: only errors on malloc'd memory, out-of-mapping accesses and
# uses of undefined values are seen, and PostgreSQL's own (it writes
# uninitialised padding to disk, for one) are not ours to judge.  The run
# fails on any error whose stack has a vecdb.so frame.
#   VALGRIND_REGRESS="vector_type hnsw_index"  runs only these regress tests
#                                              (default: all but hnsw_extreme)
#   VALGRIND_OPTS=--track-origins=yes          Valgrind's own variable: more options
#   SANITIZE_KEEP=1                            keeps the logs (one per process)
# hnsw_extreme is left out by default: under Valgrind it took 154 s of the
# run's 479 s (make test, 7c8d2bb), mostly sequential scans in PL/pgSQL,
# and its C++ paths (codes, scans of every code and opclass) are those of
# hnsw_index and hnsw_quantization, which stay; UBSan runs it with the rest.
VALGRIND_REGRESS=${VALGRIND_REGRESS:-}
sanitize_valgrind() {
    local dir rc=0 found tests=$VALGRIND_REGRESS
    [ -n "$tests" ] || tests=$(make -s -C "$WORK" --no-print-directory print-regress | tr ' ' '\n' |
        grep -vx hnsw_extreme | tr '\n' ' ')
    dir=$(sanitize_scratch valgrind)
    if start_cluster "$dir" "$dir/server.log" valgrind --tool=memcheck --trace-children=yes \
            --error-limit=no --num-callers=40 --fullpath-after= \
            --suppressions="$SANITIZE_SRC/scripts/valgrind.supp" --log-file="$dir/valgrind.%p.log"; then
        "${RUN[@]}" env PGHOST="$PGHOST" PGPORT="$PGPORT" make -C "$WORK" -s installcheck-regress \
            REGRESS="$tests" || {
            rc=1
            [ -f "$WORK/regression.diffs" ] && head -200 "$WORK/regression.diffs"
        }
        stop_cluster "$dir"
    else
        rc=1
        unset PGHOST PGPORT PGUSER PGDATABASE
    fi
    # One error is a block of "==pid== " lines ended by a blank one; keep the
    # blocks that name vecdb.so or one of its source files.
    found=$(cat "$dir"/valgrind.*.log | awk '
        /^==[0-9]+== *$/ { if (block ~ /vecdb\.so|src\/(core|pg)\//) print block "\n"; block = ""; next }
        /^==[0-9]+== / { block = block $0 "\n" }
        END { if (block ~ /vecdb\.so|src\/(core|pg)\//) print block }' | grep -v "^==[0-9]*== \(HEAP\|LEAK\|ERROR\) SUMMARY" || true)
    if [ -n "$found" ]; then
        echo "vecdb: Valgrind errors in vecdb code:"
        echo "$found" | head -400
        rc=1
    fi
    echo "vecdb: Valgrind: $(cat "$dir"/valgrind.*.log | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination)' || true) unsuppressed errors in all server processes, $(echo "$found" | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination)' || true) in vecdb code"
    if [ -n "${SANITIZE_KEEP:-}" ]; then echo "vecdb: Valgrind logs kept in $dir"; else rm -rf "$dir"; fi
    return $rc
}
