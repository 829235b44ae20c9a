#!/usr/bin/env bash
# Makes the system programs paperset needs available: a Chromium for dynamic pages and redis-server
# for the distributed tests. Quiet when both are already there. Order for Chromium: $PAPERSET_CHROMIUM,
# `chromium` on the PATH, Debian's package (when root), then Playwright's own download.
set -euo pipefail
venv_python="${1:-.venv/bin/python}"
apt_updated=0

apt_install() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    echo "paperset setup: apt-get update" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  echo "paperset setup: apt-get install $*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ -n "${PAPERSET_CHROMIUM:-}" ]; then
  [ -x "$PAPERSET_CHROMIUM" ] || { echo "PAPERSET_CHROMIUM=$PAPERSET_CHROMIUM is not an executable" >&2; exit 1; }
elif command -v chromium >/dev/null 2>&1; then
  :
elif apt_install chromium; then
  :
else
  echo "paperset setup: no system Chromium; installing Playwright's own (needs internet)" >&2
  "$venv_python" -m playwright install chromium || {
    echo "paperset setup: no browser: install Debian's 'chromium' or run 'playwright install chromium'" >&2
    exit 1
  }
fi

if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server || echo "paperset setup: redis-server not found; install it (apt-get install redis-server) for the distributed tests" >&2
  # Debian starts the service on install; the tests start their own servers on free ports.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
fi
