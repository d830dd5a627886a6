#!/usr/bin/env bash
# Runs `custody bench --postgres` against a throwaway PostgreSQL cluster on
# loopback: initdb into a temporary directory, pg_ctl on a free port, stopped
# and removed at the end. Needs the server binaries (Debian: postgresql);
# as root they run as the `postgres` user, since initdb refuses root.
set -euo pipefail
cd "$(dirname "$0")/.."

bindir=${CUSTODY_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
bindir=${bindir:-$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")}
if [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL server binaries not found: apt-get install postgresql (or set CUSTODY_PG_BINDIR)" >&2
    exit 2
fi
cargo build --release --quiet
custody="$PWD/target/release/custody"

dir=$(mktemp -d)
as=()
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    as=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop() {
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" stop -m fast >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT
"${as[@]}" "$bindir/initdb" -D "$dir/data" -U custody -A trust -E UTF8 --locale=C >/dev/null
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir" start >/dev/null
"$custody" bench --postgres "postgres://custody@127.0.0.1:$port/postgres" "$@"
