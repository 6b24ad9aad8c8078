#!/usr/bin/env bash
# The main job, on one machine with no broker: installs what is missing, builds, backfills two days
# of simulated history, trains the model, then runs the live pipeline
#   iots-sim --realtime | iots-ingest | iots-detect | iots-alert
# into one SQLite database with the dashboard (iots-serve) on http://127.0.0.1:8080/.
# Ctrl-C stops everything cleanly. Environment: IOTS_DEMO_DIR (default ./demo), IOTS_DEMO_PORT (8080),
# IOTS_DEMO_SECONDS (run this long, then stop; default: until Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh run

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target iots-sim iots-ingest iots-train iots-detect iots-alert iots-serve >&2
bin=$PWD/build/tools

dir=${IOTS_DEMO_DIR:-$PWD/demo}
port=${IOTS_DEMO_PORT:-8080}
mkdir -p "$dir"
db=$dir/home.db
model=$dir/home.model

now_s=$(date -u +%s)
start=$(date -u -d "@$((now_s - 2 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
if [ ! -f "$model" ]; then
    echo "demo: simulating two days of history into $db" >&2
    "$bin/iots-sim" --devices 3 --start "$start" --duration 2d --seed "$now_s" |
        "$bin/iots-ingest" --db "$db" --quiet
    echo "demo: training $model" >&2
    "$bin/iots-train" --db "$db" --model "$model" --quiet-log
fi

stop() {
    trap - INT TERM EXIT
    # Every tool finishes its record, commits and exits 0 on SIGTERM.
    pkill -TERM -P $$ 2>/dev/null || true
    wait 2>/dev/null || true
    echo "demo: stopped; the data stays in $db" >&2
}
trap stop INT TERM EXIT

"$bin/iots-serve" --db "$db" --listen "127.0.0.1:$port" &
# A fire and a gas leak a few minutes in, so the dashboard has something to show.
"$bin/iots-sim" --devices 3 --realtime --interval 2s --seed "$((now_s + 1))" \
    --incident fire@3m:4m/esp32-kitchen --incident gas-leak@8m:5m/esp32-livingroom |
    "$bin/iots-ingest" --db "$db" |
    "$bin/iots-detect" --model "$model" --db "$db" |
    "$bin/iots-alert" --db "$db" &

echo "demo: dashboard at http://127.0.0.1:$port/  (alerts also print below; Ctrl-C stops)" >&2
if [ -n "${IOTS_DEMO_SECONDS:-}" ]; then
    sleep "$IOTS_DEMO_SECONDS"
else
    wait
fi
