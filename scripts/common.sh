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
