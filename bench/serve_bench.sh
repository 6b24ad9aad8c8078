#!/usr/bin/env bash
# iots-serve under wrk against a database of 10 million readings (60 series, 5 s apart, ~9.6 days):
# requests/s and latency percentiles for the overview's summary and for one week of one sensor
# through /api/readings?points=1000, and the overview's first contentful paint in headless Chromium.
# Usage: bench/serve_bench.sh [BUILD_DIR] [READINGS]   (needs wrk, sqlite3, chromium, node)
# Environment: WRK_SECONDS (10) per wrk run, RUNS (11) page loads for the first paint.
set -euo pipefail
BUILD=${1:-build-serve}
N=${2:-10000000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN="$SRC/$BUILD/tools"
[ -d "$BIN" ] || BIN="$BUILD/tools"
WORK=$(mktemp -d /tmp/iots-serve-bench.XXXXXX)
trap '[ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null; [ -n "${FLOOR_PID:-}" ] && kill "$FLOOR_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
DB="$WORK/bench.db"

t0=$(date +%s.%N)
"$BIN/iots-serve" --db "$DB" --listen 127.0.0.1:0 --help > /dev/null # binary present
"$BIN/iots-ingest" --db "$DB" --quiet < /dev/null 2> /dev/null       # schema v-latest, WAL
# 10 devices x 6 sensors; readings interleaved by time as a live home would write them.
sqlite3 "$DB" <<SQL
PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-200000;
BEGIN;
WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < 10)
INSERT INTO devices (id, name, location, first_seen, last_seen, status)
SELECT i, 'esp32-node' || i, 'room ' || i, 1760000000000, 1760000000000, 'online' FROM d;
INSERT INTO sensors (id, name, unit) VALUES (1,'temperature','C'),(2,'humidity','%'),(3,'gas','ppm'),
  (4,'flame','0/1'),(5,'motion','0/1'),(6,'light','lux');
INSERT INTO series (id, device_id, sensor_id, count, anomalies)
SELECT (d.id - 1) * 6 + s.id, d.id, s.id, 0, 0 FROM devices d, sensors s;
WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < $N - 1)
INSERT INTO readings (series_id, ts, value, seq)
SELECT k % 60 + 1, 1760000000000 + (k / 60) * 5000, 20 + (k % 997) / 50.0, k / 60 FROM n;
UPDATE series SET count = (SELECT count(*) FROM readings r WHERE r.series_id = series.id),
  first_ts = (SELECT min(ts) FROM readings r WHERE r.series_id = series.id),
  last_ts = (SELECT max(ts) FROM readings r WHERE r.series_id = series.id),
  last_value = 21.5;
UPDATE devices SET last_seen = (SELECT max(last_ts) FROM series);
INSERT INTO stats (key, value) VALUES ('total_readings', $N);
COMMIT;
SQL
t1=$(date +%s.%N)
LAST=$(sqlite3 "$DB" "SELECT max(last_ts) FROM series WHERE id = 1")
WEEK_FROM=$((LAST + 1 - 7 * 86400000))
echo "database: $N readings, $(du -h "$DB" | cut -f1), generated in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/iots-serve" --db "$DB" --listen "127.0.0.1:$PORT" --quiet-log &
SERVE_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && break; sleep 0.1; done

SUMMARY="http://127.0.0.1:$PORT/api/stats/summary/"
READINGS="http://127.0.0.1:$PORT/api/readings?device=esp32-node1&sensor=temperature&from=$WEEK_FROM&to=$((LAST + 1))&points=1000"
points=$(curl -s "$READINGS" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["count"], len(d["points"]))')
echo "week of one sensor: $points (raw readings, points returned)"
single=$(curl -s -o /dev/null -w '%{time_total}' "$READINGS")
echo "one week request alone: $(printf '%.1f' "$(echo "$single * 1000" | bc)") ms"

run_wrk() { # name url connections
    local out
    out=$(wrk -t2 -c"$3" -d"${WRK_SECONDS:-10}s" --latency "$2")
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
    p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
    printf '| %-34s | %4s | %10s | %8s | %8s |\n' "$1" "$3" "$rps" "$p50" "$p99"
}
echo
echo "| endpoint                           | conn |    req/s   |   p50    |   p99    |"
echo "|------------------------------------|------|------------|----------|----------|"
run_wrk "/api/stats/summary/" "$SUMMARY" 8
run_wrk "/api/readings week, points=1000" "$READINGS" 2
run_wrk "/api/readings week, points=1000" "$READINGS" 8

if [ -d "$SRC/tests/browser/node_modules/playwright-core" ]; then
    echo
    node "$SRC/bench/serve_paint.mjs" "http://127.0.0.1:$PORT/"
    # The floor: a one-heading page from python's http.server, measured the same way.
    mkdir "$WORK/floor"
    echo '<!doctype html><html><head><meta charset="utf-8"><title>floor</title></head><body><h1>Hello</h1></body></html>' \
        > "$WORK/floor/index.html"
    FLOOR_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 -m http.server "$FLOOR_PORT" --bind 127.0.0.1 --directory "$WORK/floor" > /dev/null 2>&1 &
    FLOOR_PID=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$FLOOR_PORT/" && break; sleep 0.1; done
    node "$SRC/bench/serve_paint.mjs" --floor "http://127.0.0.1:$FLOOR_PORT/"
    kill "$FLOOR_PID"
fi
