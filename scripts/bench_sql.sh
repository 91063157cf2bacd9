#!/usr/bin/env bash
# bench_sql.sh -- `make bench-sql`: brute-force k-NN in SQL (no index),
#   SELECT id FROM items ORDER BY embedding <op> q LIMIT 10
# over ROWS vectors, for each operator and each of DIMS, single backend with
# parallel query off (so the distance kernels dominate, not the worker count).
#
# When a `vector` extension (pgvector) is installed in the same PostgreSQL,
# the same data and queries run against it in a second database of the same
# cluster, interleaved round by round, and the ratio is printed.
#
# Environment: ROWS (100000), DIMS ("128 768 1536"), QUERIES (20), ROUNDS (3).
source "$(dirname "$0")/common.sh"

ROWS=${ROWS:-100000}
DIMS=${DIMS:-128 768 1536}
QUERIES=${QUERIES:-20}
ROUNDS=${ROUNDS:-3}

install_packages
prepare_workdir
build_and_install
export ROWS DIMS QUERIES ROUNDS WORK PGOPTIONS="-c client_min_messages=warning"
in_throwaway_cluster bash "$WORK/bench/bruteforce.sh"
