#!/usr/bin/env bash
# The broker restarted mid-stream (persistence on): iots-ingest (-q 1 -c -i) and iots-sim reconnect
# on their own, and every reading is stored exactly once (redeliveries counted as duplicates).
. "$(dirname "$0")/lib.sh"
start_broker "log_type all" "persistence true" "persistence_location $WORK/" "autosave_interval 0"
restart_broker() { # on the same port, with the same configuration and the saved sessions
    kill -TERM "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null || true
    sleep 0.5
    mosquitto -c "$WORK/mosquitto.conf" >> "$WORK/mosquitto.out" 2>&1 &
    BROKER_PID=$!
    wait_port "$BROKER_PORT"
}
SIM=(--seed 4 --devices 40 --count 6000 --interval 100ms)
iots-sim "${SIM[@]}" > "$WORK/sim.ndjson" # about 3 s of readings with --realtime below
N=$(wc -l < "$WORK/sim.ndjson")
rows() { db_count "$WORK/k.db" readings 2>/dev/null || echo 0; }
at_least() { [ "$(rows)" -ge "$1" ]; }

background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i ingest -c --db "$WORK/k.db" \
    --quiet 2> "$WORK/ingest.err"
INGEST=$LAST_PID
subscribed() { grep -q "ingest 1 iotshield/status/#" "$WORK/mosquitto.log"; }
wait_until 10 subscribed || fail "iots-ingest did not subscribe"
background iots-sim "${SIM[@]}" --realtime -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i sim 2> "$WORK/sim.err"
SIM_PID=$LAST_PID
wait_until 30 at_least 200 || fail "nothing stored"
restart_broker
wait "$SIM_PID" || fail "iots-sim exited $?"
wait_until 60 at_least "$N" || fail "stored $(rows) of $N after the broker restart"
kill -TERM "$INGEST"
wait "$INGEST" || fail "iots-ingest exited $? after SIGTERM"
grep -q "reconnected to broker" "$WORK/ingest.err" || fail "iots-ingest did not reconnect"
assert_eq "$N" "$(rows)" "rows"
assert_eq "$N" "$(sqlite3 "$WORK/k.db" "SELECT count(DISTINCT series_id || ' ' || seq) FROM readings")" \
    "distinct readings"
pass "broker restarted mid-stream: $N of $N stored once"
