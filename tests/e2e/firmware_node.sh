#!/usr/bin/env bash
# The ESP32 node's core on the host (tests/firmware/fw_host.cpp: a fake board, a file as flash, a
# real libmosquitto connection) against a real mosquitto: its readings reach SQLite through
# iots-ingest (the first ones without ts, before "NTP", stamped on receipt), a failed DHT22 read
# is a fault record, commands sent by iots-serve are acknowledged and recorded, readings wait out
# a broker restart in the offline buffer (bounded, the drops counted and reported), seq keeps
# growing across a reboot, and the last will says offline.
. "$(dirname "$0")/lib.sh"
FW_HOST="$IOTS_BIN/../tests/iots-fw-host"
[ -x "$FW_HOST" ] || fail "no $FW_HOST (it is built with the tests)"

start_broker "log_type all" "persistence true" "persistence_location $WORK/" "autosave_interval 0"
restart_broker() { # on the same port, with the same configuration and the saved sessions
    mosquitto -c "$WORK/mosquitto.conf" >> "$WORK/mosquitto.out" 2>&1 &
    BROKER_PID=$!
    wait_port "$BROKER_PORT"
}
DB="$WORK/home.db"
DEV=esp32-fw
now_ms() { date +%s%3N; }
q() { sqlite3 "$DB" "$1" 2>/dev/null || echo 0; }
node_rows() { q "SELECT count(*) FROM readings r JOIN series s ON s.id = r.series_id
                 JOIN devices d ON d.id = s.device_id WHERE d.name = '$DEV'"; }
at_least() { [ "$(node_rows)" -ge "$1" ]; }
status() { mosquitto_sub -p "$BROKER_PORT" -t "iotshield/status/$DEV" -C 1 -W 3 2>/dev/null; }
offline() { [ "$(status)" = offline ]; } # read again on each try of wait_until

background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i ingest -c --db "$DB" --quiet \
    2> "$WORK/ingest.err"
INGEST=$LAST_PID
subscribed() { grep -q "ingest 1 iotshield/status/#" "$WORK/mosquitto.log"; }
wait_until 10 subscribed || fail "iots-ingest did not subscribe"
background mosquitto_sub -p "$BROKER_PORT" -c -i faultwatch -q 1 -t "iotshield/faults/$DEV" \
    > "$WORK/faults.ndjson" 2> /dev/null
wait_until 10 grep -q "faultwatch 1 iotshield/faults/$DEV" "$WORK/mosquitto.log" ||
    fail "the fault watcher did not subscribe"

NODE_ARGS=(-p "$BROKER_PORT" --device "$DEV" --state "$WORK/flash" --interval 500 --outbox 12)
background "$FW_HOST" "${NODE_ARGS[@]}" --ntp-after 1200 --dht-fail-every 5 \
    > "$WORK/node1.out" 2> "$WORK/node.err"
NODE=$LAST_PID

# Readings reach the database; the first (before the clock) were stamped on receipt.
wait_until 20 at_least 30 || fail "the node's readings did not reach the database: $(node_rows)"
assert_eq online "$(status)" "retained status"
stamped=$(q "SELECT count(*) FROM readings WHERE extra LIKE '%\"clock\":\"stamped\"%'")
[ "$stamped" -ge 1 ] || fail "no reading stamped on receipt (sent before the clock)"
timed=$(q "SELECT count(*) FROM readings WHERE extra IS NULL OR extra NOT LIKE '%clock%'")
[ "$timed" -ge 1 ] || fail "no reading with the node's own ts"
old=$(q "SELECT count(*) FROM readings WHERE ts < $(( $(now_ms) - 600000 ))")
assert_eq 0 "$old" "readings stamped in the past (a 1970 clock)"
for kind in temperature humidity gas flame motion light; do
    n=$(q "SELECT count(*) FROM series s JOIN sensors k ON k.id = s.sensor_id WHERE k.name = '$kind'")
    assert_eq 1 "$n" "series $kind"
done
wait_until 10 grep -q '"reason":"dht22: no valid answer' "$WORK/faults.ndjson" ||
    fail "no fault record for the failed DHT22 read"
# (Both counts in one query: the node goes on publishing between two.)
assert_eq 0 "$(q "SELECT count(*) - count(DISTINCT r.seq) FROM readings r JOIN series s ON s.id = r.series_id
                  JOIN devices d ON d.id = s.device_id WHERE d.name = '$DEV'")" "readings sharing a seq"

# A command from iots-serve: acknowledged by the node and recorded; a bad one answered failed.
PORT=$(free_port)
api() { curl -sS --max-time 5 "http://127.0.0.1:$PORT$1" "${@:2}"; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
background iots-serve --db "$DB" --listen "127.0.0.1:$PORT" -h 127.0.0.1 -p "$BROKER_PORT" \
    --allow-control 2> "$WORK/serve.err"
wait_port "$PORT"
send() {
    api /api/control/send/ -o "$WORK/sent.json" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' -d "{\"device\":\"$DEV\",\"actuator\":\"$1\",\"action\":\"$2\"}"
}
command_status() { q "SELECT status FROM commands WHERE id = '$1'"; }
status_is() { [ "$(command_status "$1")" = "$2" ]; } # id status: read again on each try
assert_eq 202 "$(send fan on)" "POST /api/control/send/"
ID=$(jget 'd["id"]' < "$WORK/sent.json")
wait_until 20 status_is "$ID" done || fail "command $ID: $(command_status "$ID")"
grep -q "relay fan on" "$WORK/node.err" || fail "the node did not switch the fan on"
assert_eq 202 "$(send fan toggle)" "second POST"
ID2=$(jget 'd["id"]' < "$WORK/sent.json")
wait_until 20 status_is "$ID2" failed || fail "command $ID2: $(command_status "$ID2")"
grep -q "failed: unknown action 'toggle' for fan (on, off)" "$WORK/node.err" ||
    fail "the node did not log the failed command"

# The broker away for 4 s: about 8 samples of 5-7 records against room for 12. Back on the same
# port, the node reconnects (libmosquitto's backoff: a few seconds more), says how many it dropped
# (that record's ts is the reconnection), then sends what it kept: readings taken while it was
# disconnected reach the database.
before=$(node_rows)
kill -TERM "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
stopped=$(now_ms)
sleep 4
restart_broker
wait_until 30 grep -q "mqtt: online, 12 buffered, [1-9][0-9]* dropped" "$WORK/node.err" ||
    fail "the node did not buffer up to its bound: $(grep 'mqtt: online' "$WORK/node.err")"
dropped=$(grep -o "mqtt: online, 12 buffered, [0-9]* dropped" "$WORK/node.err" | tail -1 | awk '{print $5}')
wait_until 20 grep -q "\"dropped\":$dropped}" "$WORK/faults.ndjson" ||
    fail "no fault record with the $dropped dropped: $(tail -3 "$WORK/faults.ndjson")"
reconnected=$(python3 -c '
import datetime, json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "dropped" in r:
        t = datetime.datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
        print(round(t.timestamp() * 1000))
' "$WORK/faults.ndjson" | tail -1)
[ "$reconnected" -gt "$stopped" ] || fail "the drop record's ts $reconnected is not after $stopped"
kept() { [ "$(q "SELECT count(*) FROM readings WHERE ts > $stopped AND ts < $((reconnected - 250))")" -ge 1 ]; }
wait_until 20 kept || fail "no reading taken while disconnected was stored"
wait_until 20 at_least $((before + 12)) || fail "readings stopped after the restart"

# A reboot: the same flash, seq goes on above everything sent.
kill -TERM "$NODE"
wait "$NODE" || fail "iots-fw-host exited $? after SIGTERM"
wait_until 10 offline || fail "no offline status after a clean stop"
max_seq=$(q "SELECT max(seq) FROM readings")
rows_first=$(node_rows)
rebooted=$(now_ms)
background "$FW_HOST" "${NODE_ARGS[@]}" > "$WORK/node2.out" 2>> "$WORK/node.err"
NODE=$LAST_PID
wait_until 20 at_least $((rows_first + 6)) || fail "the rebooted node's readings were not stored"
min_new=$(q "SELECT min(seq) FROM readings WHERE ts >= $rebooted")
[ "$min_new" -gt "$max_seq" ] || fail "seq after the reboot ($min_new) not above $max_seq"
assert_eq online "$(status)" "status after the reboot"

# Killed without a word: the broker sends its will.
kill -KILL "$NODE"
wait "$NODE" 2>/dev/null || true
wait_until 20 offline || fail "the last will did not say offline"

kill -TERM "$INGEST"
wait "$INGEST" || fail "iots-ingest exited $? after SIGTERM"
grep -q "stamped [1-9]" "$WORK/ingest.err" || fail "ingest did not count stamped readings"
pass "$(node_rows) readings stored, commands done/failed, $dropped dropped over the bound and reported, seq $max_seq -> $min_new across a reboot"
