#!/usr/bin/env bash
# deb.sh -- `make deb`: the Debian package postgresql-15-vecdb, built with
# dpkg-buildpackage from a scratch copy of this tree (debian/ in it), into
# build/deb/.  Install it with `apt install ./build/deb/postgresql-15-vecdb_*.deb`.
source "$(dirname "$0")/common.sh"

PACKAGES+=(dpkg-dev debhelper)
install_packages
prepare_workdir
"${RUN[@]}" make -C "$WORK" -s clean >/dev/null
(cd "$WORK" && "${RUN[@]}" dpkg-buildpackage -us -uc -b) > "$WORK/../vecdb-deb.log" 2>&1 || {
    tail -40 "$WORK/../vecdb-deb.log"
    exit 1
}
mkdir -p "$VECDB_SRC/build/deb"
cp "$WORK"/../postgresql-15-vecdb_*.deb "$VECDB_SRC/build/deb/"
rm -f "$WORK"/../postgresql-15-vecdb_* "$WORK"/../vecdb_*.buildinfo "$WORK"/../vecdb_*.changes "$WORK/../vecdb-deb.log"
for deb in "$VECDB_SRC"/build/deb/postgresql-15-vecdb_*.deb; do
    echo "vecdb: $deb"
    dpkg-deb --contents "$deb" | awk '{print "  " $NF}' | grep -E 'vecdb(\.so|\.control|--)' || true
done
