#!/usr/bin/env bash
# What the benchmark needs beyond the venv: wrk (Debian's package, the load generator) and the
# PostgreSQL at 127.0.0.1:5432 that it builds its own database in.
set -euo pipefail
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "error: wrk is missing; run: sudo apt-get install -y wrk" >&2
    exit 1
  fi
  echo "Installing Debian's wrk for the benchmark..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || {
    echo "error: the benchmark needs PostgreSQL on 127.0.0.1:5432" >&2
    exit 1
  }
fi
