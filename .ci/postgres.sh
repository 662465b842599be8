#!/usr/bin/env bash
# Start a throwaway local PostgreSQL for the store tests and print its URL.
#   eval "$(.ci/postgres.sh)"   # sets ZHIJIAN_TEST_POSTGRES_URL
# Installs Debian's postgresql package if it is missing; the cluster lives in a temporary folder,
# listens on 127.0.0.1 only, and trusts local connections (test data only).
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"  # runuser lives there; a minimal PATH (env -i, some runners) lacks it
PORT="${ZHIJIAN_CI_PG_PORT:-54329}"
DATA="${ZHIJIAN_CI_PG_DIR:-${TMPDIR:-/tmp}/zhijian-ci-postgres}"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing postgresql (Debian package)..." >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

as_owner() {  # PostgreSQL refuses to run as root
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$DATA"
[ "$(id -u)" -eq 0 ] && chown postgres "$DATA"
if [ ! -f "$DATA/PG_VERSION" ]; then
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $DATA -c fsync=off" start >/dev/null
fi
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='zhijian_test'" \
    | grep -q 1 || "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres zhijian_test
echo "export ZHIJIAN_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/zhijian_test"
