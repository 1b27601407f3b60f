#!/usr/bin/env bash
# What `make cluster-test` needs beyond the venv: root (it makes network namespaces), iproute2
# (`ip netns`), Debian's HAProxy, and the PostgreSQL at 127.0.0.1:5432 (its unix socket in
# /var/run/postgresql is how the namespaced nodes reach it).
set -euo pipefail
. "$(dirname "$0")/debian.sh"
if [ "$(id -u)" != 0 ]; then
  echo "error: make cluster-test makes network namespaces: run it as root" >&2
  exit 1
fi
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v haproxy >/dev/null || missing+=(haproxy)
install_missing "the cluster test" "${missing[@]}"
ensure_postgres "the cluster test"
[ -S /var/run/postgresql/.s.PGSQL.5432 ] || {
  echo "error: no PostgreSQL socket in /var/run/postgresql (the namespaced nodes use it)" >&2
  exit 1
}
