#!/usr/bin/env bash
# demo.sh -- `make demo`: builds and installs vecdb, starts a throwaway local
# cluster, loads a small deterministic sample and runs example queries with
# timings.  The cluster and the scratch build are removed at the end.
source "$(dirname "$0")/common.sh"

install_packages
prepare_workdir
build_and_install
in_throwaway_cluster psql -X -q -v ON_ERROR_STOP=1 -f "$WORK/scripts/demo.sql"
echo "vecdb demo: done (the throwaway cluster has been dropped)"
