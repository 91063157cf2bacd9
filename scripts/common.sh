# common.sh -- sourced by scripts/test.sh, demo.sh and bench_sql.sh.
#
# Installs what vecdb needs from Debian, builds and installs the extension,
# and arranges for servers to run as a non-root user: initdb refuses root, so
# when run as root the build happens in a scratch copy owned by `postgres`.

set -euo pipefail

VECDB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PACKAGES=(make g++ postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-pgtap pgtap
          libipc-run-perl libsimde-dev libgtest-dev libbenchmark-dev)

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        echo "vecdb: needs root (or sudo) for: $*" >&2
        return 1
    fi
}

install_packages() {
    local missing=()
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "vecdb: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Sets WORK (the tree to build and test in) and RUN (the prefix that runs a
# command as the non-root user that owns WORK).
prepare_workdir() {
    if [ "$(id -u)" = 0 ]; then
        WORK=$(mktemp -d /tmp/vecdb.XXXXXX)
        tar -C "$VECDB_SRC" --exclude=.git --exclude=./tmp_check -cf - . | tar -C "$WORK" -xf -
        chown -R postgres: "$WORK"
        RUN=(runuser -u postgres --)
        trap 'rm -rf "$WORK"' EXIT
    else
        WORK=$VECDB_SRC
        RUN=()
    fi
}

build_and_install() {
    echo "vecdb: building in $WORK"
    "${RUN[@]}" make -C "$WORK" -s -j"$(nproc)"
    as_root make -C "$WORK" -s install >/dev/null
}

# Also installs vecdb under pgvector's name (make install-as-vector) for the
# TAP test of that name, unless pgvector's own files are installed: those are
# never overwritten by a test run.
install_as_vector_unless_pgvector() {
    local control
    control="$(pg_config --sharedir)/extension/vector.control"
    if [ -f "$control" ] && ! grep -q "vecdb" "$control"; then
        echo "vecdb: pgvector is installed here; not installing vecdb as extension vector (its TAP test skips)"
        return 0
    fi
    as_root make -C "$WORK" -s install-as-vector >/dev/null
}

# True if a server (or anything) already holds port $1: a socket file of a
# PostgreSQL server, or a TCP listener on loopback.
port_in_use() {
    local p=$1 dir
    for dir in /tmp /var/run/postgresql; do
        if [ -e "$dir/.s.PGSQL.$p" ] || [ -e "$dir/.s.PGSQL.$p.lock" ]; then return 0; fi
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
}

# Runs "$@" as the owner of WORK in a throwaway cluster (PGHOST, PGPORT, ...
# set; the cluster is dropped when the command ends).
in_throwaway_cluster() {
    "${RUN[@]}" env PATH="$PG_BIN:$PATH" pg_virtualenv -v $PG_MAJOR "$@"
}

# --- throwaway benchmark clusters (bench_ann.sh, bench_write.sh, bench_sharding.sh)

# Makes TMP (/tmp/vecdb-$1.XXXXXX, owned by the server user), enters it (the
# server user may not be able to enter the caller's directory) and sets a
# trap that stops every cluster started in it, then removes it and the
# scratch copy (prepare_workdir's trap, which this one replaces).
make_bench_dir() {
    TMP=$(mktemp -d "/tmp/vecdb-$1.XXXXXX")
    if [ "$(id -u)" = 0 ]; then chown postgres: "$TMP"; fi
    trap remove_bench_dir EXIT
    trap 'exit 130' INT TERM
    cd "$TMP"
}

remove_bench_dir() {
    local pid
    for pid in "$TMP"/*/postmaster.pid; do
        if [ -f "$pid" ]; then
            "${RUN[@]}" "$PG_BIN/pg_ctl" -D "${pid%/postmaster.pid}" -m fast -w stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$TMP"
    if [ "$(id -u)" = 0 ]; then rm -rf "$WORK"; fi
}

# The first port from $1 up that nothing holds.
free_port() {
    local p=$1
    while port_in_use "$p"; do p=$((p + 1)); done
    echo "$p"
}

# start_bench_cluster NAME PORT "SETTINGS": a fresh cluster in $TMP/NAME
# (log $TMP/NAME.log) listening on PORT through a socket in $TMP only.
start_bench_cluster() {
    local dir=$TMP/$1 port=$2 settings=$3
    "${RUN[@]}" "$PG_BIN/initdb" -D "$dir" --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
    if ! "${RUN[@]}" "$PG_BIN/pg_ctl" -D "$dir" -l "$dir.log" -w \
        -o "-p $port -k $TMP -c listen_addresses='' $settings" start >/dev/null; then
        cat "$dir.log" >&2
        exit 1
    fi
}

# In the cluster on $PGPORT: pg runs a command as the server user, psql_q a
# quiet psql that stops at the first error.
pg() { "${RUN[@]}" env PATH="$PG_BIN:$PATH" PGHOST="$TMP" PGPORT="$PGPORT" PGOPTIONS="-c client_min_messages=warning" "$@"; }
psql_q() { pg psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
