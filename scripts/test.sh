#!/usr/bin/env bash
# test.sh -- `make test`: every suite, on a fresh Debian bookworm machine.
#
#   unit     GoogleTest over src/core (test/unit)
#   regress  pg_regress over the SQL surface (sql/, expected/)
#   pgtap    catalog checks (test/pgtap)
#   tap      crash recovery and binary I/O in their own clusters (test/t)
#   unit-asan  the unit tests built with ASan + UBSan          (scripts/sanitize.sh;
#   ubsan      regress, pgTAP and TAP against a UBSan vecdb.so    make test-sanitize
#   valgrind   regress against a server under Valgrind memcheck   runs them alone)
#
# Clusters are throwaway (pg_virtualenv, PostgreSQL::Test::Cluster, or one of
# sanitize.sh's own); the system cluster is never used.  The normal build is
# what is installed afterwards.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/sanitize.sh"

PACKAGES+=(valgrind)
install_packages
prepare_workdir
build_and_install
install_as_vector_unless_pgvector

passed=0
failed=0
failed_names=()

run_suite() {
    local name=$1
    shift
    echo
    echo "=== $name ==="
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "--- $name passed in $((SECONDS - start)) s"
    else
        echo "--- $name failed in $((SECONDS - start)) s"
        failed=$((failed + 1))
        failed_names+=("$name")
        [ "$name" = regress ] && [ -f "$WORK/regression.diffs" ] && cat "$WORK/regression.diffs"
    fi
    return 0
}

run_suite unit "${RUN[@]}" make -C "$WORK" -s unit
run_suite regress in_throwaway_cluster make -C "$WORK" -s installcheck-regress
run_suite pgtap in_throwaway_cluster make -C "$WORK" -s installcheck-pgtap
run_suite tap "${RUN[@]}" make -C "$WORK" -s installcheck-tap
run_suite unit-asan sanitize_unit
run_suite ubsan sanitize_ubsan
run_suite valgrind sanitize_valgrind

echo
[ $failed -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
