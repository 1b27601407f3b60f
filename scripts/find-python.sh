#!/usr/bin/env bash
# Prints the path of a Python >= 3.12 interpreter, or fails with one clear line.
# Django 6.1 needs 3.12+; on this kind of machine the default python3 is 3.11 and pyenv
# keeps newer ones under ~/.pyenv/versions, so look there too (uv and shims trip otherwise).
set -euo pipefail
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
candidates=("${PYTHON:-}" python3.13 python3.12 python3)
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]* /usr/local/bin /usr/bin; do
  [ -d "$dir" ] || continue
  for name in python3.13 python3.12; do
    [ -x "$dir/bin/$name" ] && candidates+=("$dir/bin/$name")
    [ -x "$dir/$name" ] && candidates+=("$dir/$name")
  done
done
for c in "${candidates[@]}"; do
  [ -n "$c" ] || continue
  path=$(command -v "$c" 2>/dev/null) || continue
  if ok "$path"; then
    # Resolve pyenv shims to the real interpreter so the venv does not depend on them.
    "$path" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "error: no Python 3.12 or newer found (set PYTHON=/path/to/python3.12)" >&2
exit 1
