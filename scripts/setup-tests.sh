#!/usr/bin/env bash
# The test set-up the README's test command runs after installing '.[test]':
# makes sure the browser the studio's browser tests drive is installed.
#
# The tests (tests/studio/test_browser_*.py) drive Debian's chromium package at
# /usr/bin/chromium through playwright's Python API; playwright's own browser
# download (`playwright install`) is never used. Idempotent: does nothing when
# the browser is there. As root it installs the package with apt-get; otherwise
# it says what to install and exits 1. COMICC_SKIP_BROWSER=1 skips the browser
# tests (and this check) on a machine that cannot have chromium.
set -euo pipefail

CHROMIUM=${COMICC_CHROMIUM:-/usr/bin/chromium}

if [ "${COMICC_SKIP_BROWSER:-}" = "1" ]; then
  echo "setup-tests: COMICC_SKIP_BROWSER=1: the browser tests will be skipped"
  exit 0
fi

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup-tests: $CHROMIUM is missing: installing Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium
  if [ -x "$CHROMIUM" ]; then
    exit 0
  fi
  echo "setup-tests: apt-get installed chromium but $CHROMIUM is still missing" >&2
  exit 1
fi

cat >&2 <<MSG
setup-tests: the browser tests need Chromium at $CHROMIUM and it is missing.
Install it, then run the tests again:
    sudo apt-get install chromium          # Debian, Ubuntu
or point COMICC_CHROMIUM at another Chromium binary, or set COMICC_SKIP_BROWSER=1
to skip the browser tests (tests/studio/test_browser_*.py).
MSG
exit 1
