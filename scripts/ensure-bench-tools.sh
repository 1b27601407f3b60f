#!/usr/bin/env bash
# What the benchmark needs beyond the venv: wrk (Debian's package, the load generator) and the
# PostgreSQL at 127.0.0.1:5432 that it builds its own database in.
set -euo pipefail
. "$(dirname "$0")/debian.sh"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
install_missing "the benchmark" "${missing[@]}"
ensure_postgres "the benchmark"
