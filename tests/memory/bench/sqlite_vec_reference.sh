#!/usr/bin/env bash
# Reference point for `agentd bench vector`: the same data searched by sqlite-vec's vec0 (exact
# brute force, float32 and int8) in Debian's sqlite3 shell. sqlite-vec is never a dependency of
# agentd: pass the path of a vec0 extension you obtained yourself (e.g. the vec0.so inside the
# npm package sqlite-vec-linux-x64).
#
#   build/agentd bench vector --n 100000 --dim 384 --save-data DIR ...   # writes the files
#   tests/memory/bench/sqlite_vec_reference.sh VEC0.so DIR 100000 384 200 [float|int8]
#
# Prints the insert rate and p50/p99 query latency (ms) measured by the shell's .timer.
set -euo pipefail
if [ $# -lt 5 ]; then
    sed -n '2,10p' "$0"
    exit 2
fi
ext=${1%.so}
dir=$2
n=$3
dim=$4
q=$5
mode=${6:-float}
base="$dir/base_${n}x${dim}.f32"
query="$dir/query_${q}x${dim}.f32"
[ -f "$base" ] && [ -f "$query" ] || { echo "missing $base or $query" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bytes=$((dim * 4))
if [ "$mode" = int8 ]; then
    column="embedding int8[$dim]"
    wrap_open="vec_quantize_int8("
    wrap_close=", 'unit')"
else
    column="embedding float[$dim]"
    wrap_open=""
    wrap_close=""
fi
{
    echo ".load $ext"
    echo "PRAGMA journal_mode=WAL;"
    echo "CREATE VIRTUAL TABLE v USING vec0($column);"
    echo "CREATE TEMP TABLE q AS WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < $q)"
    echo "  SELECT i, substr(d, i * $bytes + 1, $bytes) AS e FROM r, (SELECT readfile('$query') AS d);"
    echo ".timer on"
    echo "INSERT INTO v(rowid, embedding) WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < $n)"
    echo "  SELECT i, ${wrap_open}substr(d, i * $bytes + 1, $bytes)${wrap_close} FROM r, (SELECT readfile('$base') AS d);"
    for ((i = 0; i < q; i++)); do
        echo "SELECT count(*) FROM (SELECT rowid FROM v WHERE embedding MATCH ${wrap_open}(SELECT e FROM q WHERE i = $i)${wrap_close} AND k = 10);"
    done
} > "$work/run.sql"
sqlite3 "$work/ref.db" < "$work/run.sql" > "$work/out.txt"
grep '^Run Time' "$work/out.txt" | awk -v n="$n" '
    NR == 1 { printf "sqlite-vec %s: insert %.0f vectors/s\n", "'"$mode"'", n / $4; next }
    { t[NR - 1] = $4 * 1000 }
    END {
        m = NR - 1; asort(t)
        p50 = t[int((m + 1) / 2)]; i99 = int(m * 0.99 + 0.999); if (i99 < 1) i99 = 1
        printf "sqlite-vec queries: %d, p50 %.3f ms, p99 %.3f ms\n", m, p50, t[i99]
    }'
