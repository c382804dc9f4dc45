#!/usr/bin/env bash
# Renders report.html in headless Chromium to a PNG, offline, and fails on console errors.
# Usage: [HEIGHT=pixels] tests/browser/render.sh REPORT.html OUT.png
# Needs Debian's `chromium` (apt-get install -y chromium). Exit 0: rendered, no console errors.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 REPORT.html OUT.png" >&2
  exit 2
fi
report=$(realpath "$1")
out=$(realpath -m "$2")
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "error: no chromium found; install it with: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi
profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$profile" "$log"' EXIT

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile" --hide-scrollbars --window-size=1280,"${HEIGHT:-2400}"
       --enable-logging=stderr --v=0)

"$browser" "${flags[@]}" --screenshot="$out" "file://$report" 2>"$log" >/dev/null || {
  cat "$log" >&2
  echo "error: chromium failed on $report" >&2
  exit 1
}
if grep -E "Uncaught|ERROR:CONSOLE|Failed to load resource" "$log" >&2; then
  echo "error: console errors while rendering $report" >&2
  exit 1
fi
if [ ! -s "$out" ]; then
  echo "error: no screenshot written to $out" >&2
  exit 1
fi
echo "rendered $report -> $out"
