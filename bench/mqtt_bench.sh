#!/usr/bin/env bash
# MQTT benchmark: prints a table. Not a test (never run by ctest); figures depend on the machine.
#
#   bench/mqtt_bench.sh [N]            N readings per run (default 100000)
#   IOTS_BIN=build-x/tools bench/mqtt_bench.sh
#   MEMBERS=2 bench/mqtt_bench.sh      parts 2-3 with 2 iots-ingest in one --share group, one file
#
# 1. The broker's own ceiling: mosquitto_sub -C N receiving N readings that bench_mqtt_pub (one
#    message per stdin line, like mosquitto_pub -l) publishes, at QoS 0 and 1.
# 2. The same stream through iots-ingest into SQLite (rows/s until the last row is committed), with
#    the number lost. Targets: >= 80% of mosquitto_sub at QoS 0, nothing lost at QoS 1.
# 3. Publish -> committed row latency at 1,000 readings/s (p50 < 5 ms, p99 < 20 ms).
# 4. iots-ingest resident memory at rest and after a flood (< 20 MiB).
# Parts 2-4 need iots-ingest (IOTS_BIN, else build-*/tools, else PATH); without it they are skipped
# and the table says so.
set -euo pipefail

N=${1:-100000}
LAT_RATE=${LAT_RATE:-1000}
LAT_COUNT=${LAT_COUNT:-5000}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")

find_ingest() {
    local c
    for c in ${IOTS_BIN:+"$IOTS_BIN/iots-ingest"} "$SRC"/build-mqtt/tools/iots-ingest \
        "$SRC"/build/tools/iots-ingest "$SRC"/build-*/tools/iots-ingest; do
        [ -x "$c" ] && { echo "$c"; return; }
    done
    command -v iots-ingest || true
}
INGEST=$(find_ingest)
find_pub() {
    local c
    for c in ${IOTS_BENCH_BIN:+"$IOTS_BENCH_BIN/bench_mqtt_pub"} "$SRC"/build-mqtt/bench/bench_mqtt_pub \
        "$SRC"/build/bench/bench_mqtt_pub "$SRC"/build-*/bench/bench_mqtt_pub; do
        [ -x "$c" ] && { echo "$c"; return; }
    done
}
PUB=$(find_pub)
[ -n "$PUB" ] || { echo "mqtt_bench: error: build bench_mqtt_pub first (make bench_mqtt_pub)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/iots-mqtt-bench.XXXXXX")
BROKER_PID=""
INGEST_PID=""
MEMBERS=${MEMBERS:-1}
MEMBER_PIDS=()
cleanup() {
    [ -n "$INGEST_PID" ] && kill "$INGEST_PID" 2>/dev/null || true
    for p in "${MEMBER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

now_ns() { date +%s%N; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_for() { # seconds cmd...: polls every 20 ms
    local deadline=$(($(date +%s) + $1)); shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rate() { awk -v n="$1" -v ns="$2" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'; }

# The recommended broker configuration (examples/mosquitto), on a free port, without persistence.
PORT=$(free_port)
sed -e "s/^listener 1883 127.0.0.1/listener $PORT 127.0.0.1/" \
    -e 's/^persistence true/persistence false/' \
    "$SRC/examples/mosquitto/iotshield.conf" > "$WORK/mosquitto.conf"
echo "log_dest file $WORK/mosquitto.log" >> "$WORK/mosquitto.conf"
[ "$(id -u)" = 0 ] && echo "user root" >> "$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.out" 2>&1 &
BROKER_PID=$!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || {
    echo "mqtt_bench: error: mosquitto did not start" >&2; cat "$WORK/mosquitto.out" >&2; exit 1; }

# N valid readings of one device and sensor, distinct seq and ts (ingest is idempotent on them).
python3 - "$N" > "$WORK/readings.ndjson" <<'EOF'
import sys
n = int(sys.argv[1]); t0 = 1761410712000
out = sys.stdout
for i in range(1, n + 1):
    out.write('{"ts":%d,"device":"bench","sensor":"temperature","value":%.2f,"unit":"C","seq":%d}\n'
              % (t0 + i, 20 + (i % 500) / 100, i))
EOF
TOPIC=iotshield/sensors/bench/temperature
# A retained reading on its own topic: its arrival proves the subscriber is in place.
READY='{"ts":1761410712000,"device":"bench-ready","sensor":"temperature","value":1,"seq":1}'
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -r -t iotshield/sensors/bench-ready/temperature -m "$READY"

# One message per line, as fast as the broker takes them. Not `mosquitto_pub -l`: in 2.0.11 it
# disconnects early at QoS 1 on a large input (about 35,000 of 100,000 lines sent).
publish() { # qos
    "$PUB" 127.0.0.1 "$PORT" "$1" "$TOPIC" < "$WORK/readings.ndjson"
}

# --- 1. broker ceiling ---------------------------------------------------------------------------
declare -A SUB_RATE SUB_LOST
for q in 0 1; do
    out="$WORK/sub$q.out"
    : > "$out"
    mosquitto_sub -h 127.0.0.1 -p "$PORT" -q "$q" -t 'iotshield/sensors/#' -C $((N + 1)) -W 120 \
        > "$out" 2>"$WORK/sub$q.err" &
    sub=$!
    wait_for 10 grep -q bench-ready "$out" || {
        echo "mqtt_bench: error: mosquitto_sub did not subscribe" >&2; cat "$WORK/sub$q.err" >&2; exit 1; }
    t0=$(now_ns)
    publish "$q"
    wait "$sub" || true
    t1=$(now_ns)
    got=$(($(wc -l < "$out") - 1))
    SUB_RATE[$q]=$(rate "$got" $((t1 - t0)))
    SUB_LOST[$q]=$((N - got))
done

# --- 2-4. through iots-ingest ---------------------------------------------------------------------
declare -A ING_RATE ING_LOST
db_rows() { sqlite3 "$1" "SELECT count(*) FROM readings" 2>/dev/null || echo 0; }
has_rows() { [ "$(db_rows "$1")" -ge 1 ]; }
start_ingest() { # qos db
    rm -f "$2" "$2"-wal "$2"-shm
    local share=()
    [ "$MEMBERS" -le 1 ] || share=(--share bench)
    "$INGEST" -h 127.0.0.1 -p "$PORT" -q "$1" --db "$2" "${share[@]}" --quiet > /dev/null \
        2>"$WORK/ingest.err" &
    INGEST_PID=$!
    local m
    for ((m = 2; m <= MEMBERS; m++)); do # the other members of the group, on the same file
        "$INGEST" -h 127.0.0.1 -p "$PORT" -q "$1" --db "$2" "${share[@]}" --quiet > /dev/null \
            2>>"$WORK/ingest.err" &
        MEMBER_PIDS+=($!)
    done
    wait_for 20 has_ready "$2" || {
        echo "mqtt_bench: error: iots-ingest did not store the ready reading" >&2
        cat "$WORK/ingest.err" >&2; exit 1; }
    [ "$MEMBERS" -le 1 ] || sleep 1 # the other members subscribed too
}
# A shared subscription gets no retained message: the members are sent the ready reading again.
has_ready() { # db
    has_rows "$1" && return
    [ "$MEMBERS" -le 1 ] ||
        mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t iotshield/sensors/bench-ready/temperature \
            -m "$READY"
    return 1
}
stop_ingest() {
    local p
    for p in "$INGEST_PID" "${MEMBER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "$INGEST_PID" "${MEMBER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    INGEST_PID=""
    MEMBER_PIDS=()
}
# Rows until N+1 (the ready reading), or no progress for 10 s. Sets ROWS and T_END.
wait_rows() { # db
    local last=-1 since=$(date +%s)
    while :; do
        ROWS=$(db_rows "$1")
        T_END=$(now_ns)
        [ "$ROWS" -ge $((N + 1)) ] && return
        if [ "$ROWS" != "$last" ]; then last=$ROWS; since=$(date +%s); fi
        [ $(($(date +%s) - since)) -lt 10 ] || return
        sleep 0.02
    done
}

REST_KIB="" FLOOD_KIB="" PEAK_KIB="" LATENCY=""
if [ -n "$INGEST" ]; then
    for q in 0 1; do
        db="$WORK/ingest$q.db"
        start_ingest "$q" "$db"
        if [ "$q" = 0 ]; then sleep 1; REST_KIB=$(rss_kib "$INGEST_PID"); fi
        t0=$(now_ns)
        publish "$q"
        wait_rows "$db"
        got=$((ROWS - 1))
        ING_RATE[$q]=$(rate "$got" $((T_END - t0)))
        ING_LOST[$q]=$((N - got))
        if [ "$q" = 0 ]; then # the QoS 0 run is the flood
            FLOOD_KIB=$(rss_kib "$INGEST_PID"); PEAK_KIB=$(hwm_kib "$INGEST_PID")
        fi
        stop_ingest
    done
    db="$WORK/latency.db"
    start_ingest 1 "$db"
    LATENCY=$(python3 "$HERE/pipeline_latency.py" 127.0.0.1 "$PORT" "$db" "$LAT_RATE" "$LAT_COUNT" 1 \
        "$PUB")
    stop_ingest
fi

# --- table -----------------------------------------------------------------------------------------
printf '\nMQTT benchmark: %d readings per run, mosquitto %s, %s cores, %s iots-ingest\n\n' "$N" \
    "$(mosquitto -h 2>/dev/null | awk 'NR==1 {print $3}')" "$(nproc)" "$MEMBERS"
printf '%-44s %12s %8s %10s\n' "path" "readings/s" "lost" "vs ceiling"
for q in 0 1; do
    printf '%-44s %12s %8s %10s\n' "publisher -> mosquitto_sub -C N, QoS $q" \
        "${SUB_RATE[$q]}" "${SUB_LOST[$q]}" "1.00"
done
if [ -n "$INGEST" ]; then
    for q in 0 1; do
        ratio=$(awk -v a="${ING_RATE[$q]}" -v b="${SUB_RATE[$q]}" 'BEGIN { printf "%.2f", a / b }')
        printf '%-44s %12s %8s %10s\n' "publisher -> iots-ingest -> SQLite, QoS $q" \
            "${ING_RATE[$q]}" "${ING_LOST[$q]}" "$ratio"
    done
    read -r lc ls lp50 lp99 lmax <<< "$LATENCY"
    printf '\npublish -> committed row at %s readings/s, QoS 1 (%s sent, %s seen):\n' \
        "$LAT_RATE" "$lc" "$ls"
    printf '  p50 %s ms   p99 %s ms   max %s ms   (targets: p50 < 5 ms, p99 < 20 ms)\n' \
        "$lp50" "$lp99" "$lmax"
    printf '\niots-ingest resident memory: at rest %s MiB, after a %d-reading QoS 0 flood %s MiB,' \
        "$(mib "$REST_KIB")" "$N" "$(mib "$FLOOD_KIB")"
    printf ' peak %s MiB (target < 20 MiB)\n' "$(mib "$PEAK_KIB")"
else
    printf '\niots-ingest not found (set IOTS_BIN): only the broker ceiling was measured.\n'
fi
