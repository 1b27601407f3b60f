#!/usr/bin/env bash
# Vendor axe-core's browser build for the accessibility tests (tests/browser/axe.py): the
# version pinned in package.json, from the npm registry, checked against the registry's
# integrity hash by npm itself. Writes tests/browser/vendor/axe.min.js (its licence header
# stays at the top: MPL-2.0) and tests/browser/vendor/LICENSE-axe-core.txt. Run it again after
# changing the pin; commit both files. The tests only read the committed file: no network.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./package.json').devDependencies['axe-core']")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf "axe-core-$version.tgz")
head -c 200 "$work/package/axe.min.js" | grep -q "axe v$version" \
  || { echo "error: axe.min.js is not version $version" >&2; exit 1; }
mkdir -p tests/browser/vendor
cp "$work/package/axe.min.js" tests/browser/vendor/axe.min.js
cp "$work/package/LICENSE" tests/browser/vendor/LICENSE-axe-core.txt
echo "axe-core $version -> tests/browser/vendor/axe.min.js ($(sha256sum tests/browser/vendor/axe.min.js | cut -c1-16)…)"
