#!/usr/bin/env bash
# The machine's tools the suite drives besides Python packages: Debian's Chromium (the browser
# tests of the forms and the admin) and promtool from Debian's prometheus package (the alert
# rules of deploy/). `make test` runs this first, so that a fresh machine gets them once rather
# than failing those tests; each is installed with apt-get only when it is missing. Where
# apt-get cannot run (not root, no Debian), it says what to install and exits 1: the tests
# never pass by skipping what they could not check.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium chromium-driver)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "test tools: installing Debian's ${missing[*]} (once per machine)."
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "FATAL: the tests need Debian's ${missing[*]} and this user cannot install them;" \
    "run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
fail() {
  echo "FATAL: could not install $1 with apt-get (the tests need it)." >&2
  exit 1
}
apt-get update -qq || fail "${missing[*]}"
if [ ! -x "$CHROMIUM" ]; then
  apt-get install -y -qq chromium chromium-driver >/dev/null || fail chromium
fi
if ! command -v promtool >/dev/null 2>&1; then
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null || fail prometheus
fi
