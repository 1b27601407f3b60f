#!/usr/bin/env bash
# What `make cluster-test` needs beyond the venv: root (it makes network namespaces), iproute2
# (`ip netns`), Debian's HAProxy, and the PostgreSQL at 127.0.0.1:5432 (its unix socket in
# /var/run/postgresql is how the namespaced nodes reach it).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "error: make cluster-test makes network namespaces: run it as root" >&2
  exit 1
fi
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v haproxy >/dev/null || missing+=(haproxy)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing Debian's ${missing[*]} for the cluster test..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
fi
pg_isready -q -h 127.0.0.1 -p 5432 || {
  echo "error: the cluster test needs PostgreSQL on 127.0.0.1:5432" >&2
  exit 1
}
[ -S /var/run/postgresql/.s.PGSQL.5432 ] || {
  echo "error: no PostgreSQL socket in /var/run/postgresql (the namespaced nodes use it)" >&2
  exit 1
}
