#!/usr/bin/env bash
# test_sanitize.sh -- `make test-sanitize`: the memory and undefined-behaviour
# checks, on a fresh Debian bookworm machine (see scripts/sanitize.sh).
#
#   unit-asan  GoogleTest over src/core built with ASan + UBSan
#   ubsan      pg_regress, pgTAP and TAP against vecdb.so built with UBSan
#   valgrind   pg_regress against a server under Valgrind memcheck
#
# `make test` runs them too, after its other suites.
# Arguments pick parts: test_sanitize.sh unit-asan valgrind.  The normal
# build is what is installed afterwards.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/sanitize.sh"

PACKAGES+=(valgrind)
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(unit-asan ubsan valgrind)

install_packages
prepare_workdir
build_and_install

failed=()
for part in "${parts[@]}"; do
    echo
    echo "=== $part ==="
    start=$SECONDS
    case $part in
        unit-asan) sanitize_unit ;;
        ubsan) sanitize_ubsan ;;
        valgrind) sanitize_valgrind ;;
        *) echo "unknown part: $part"; false ;;
    esac && status=passed || { status=failed; failed+=("$part"); }
    echo "--- $part $status in $((SECONDS - start)) s"
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "sanitize: $((${#parts[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
