#!/usr/bin/env bash
# What the tests start, from Debian's packages (never a browser or binary download):
# Chromium (browser tests), a CJK font (zh-Hans screenshots), Alertmanager (the intake's
# end-to-end test), Prometheus and promtool (the /metrics scrape and the alerting rules), HAProxy
# (`haproxy -c` checks the shipped configurations), GNU gettext (msgfmt checks the catalogue).
set -euo pipefail
. "$(dirname "$0")/debian.sh"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi 'wenquanyi' || missing+=(fonts-wqy-zenhei)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
{ [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || missing+=(prometheus)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v msgfmt >/dev/null || missing+=(gettext)
install_missing "the tests" "${missing[@]}"
