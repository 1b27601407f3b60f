#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a Playwright browser download).
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'wenquanyi'; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "error: Chromium is missing; run: sudo apt-get install -y chromium fonts-wqy-zenhei" >&2
  exit 1
fi
echo "Installing Debian's chromium and a CJK font for the browser tests..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-wqy-zenhei >/dev/null
