#!/usr/bin/env bash
# test.sh -- `make test`: every suite, on a fresh Debian bookworm machine.
#
#   unit     GoogleTest over src/core (test/unit)
#   regress  pg_regress over the SQL surface (sql/, expected/)
#   pgtap    catalog checks (test/pgtap)
#   tap      crash recovery and binary I/O in their own clusters (test/t)
#
# Clusters are throwaway (pg_virtualenv, PostgreSQL::Test::Cluster); the
# system cluster is never used.
source "$(dirname "$0")/common.sh"

install_packages
prepare_workdir
build_and_install

passed=0
failed=0
failed_names=()

run_suite() {
    local name=$1
    shift
    echo
    echo "=== $name ==="
    if "$@"; then
        passed=$((passed + 1))
    else
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

echo
[ $failed -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
