#!/usr/bin/env bash
# A persistent session's backlog stored slower than the broker sends it. Once PUBACKs flow,
# mosquitto 2.0.11 sends all it has queued at once, whatever max_inflight_messages says; an
# iots-ingest that read it all before writing a PUBACK (they wait until what came before them is
# stored) sent nothing, not even its PINGREQ, until the whole backlog was stored: the keepalive
# expired, the broker dropped the connection and delivered the backlog again (the soak: 1.28
# million duplicate deliveries for 720,000 readings, five reconnects). Here the backlog takes about
# 13 s to pass on (a reader of 3,000 lines a second), longer than 1.5 keepalives of 5 s: every
# reading is stored once, on one connection, with no duplicate.
. "$(dirname "$0")/lib.sh"
start_broker "log_type all"
N=40000
SIM=(--seed 5 --devices 40 --count "$N")
B=(-h 127.0.0.1 -p "$BROKER_PORT" -q 1 -c -i flood --db "$WORK/f.db")
rows() { db_count "$WORK/f.db" readings 2>/dev/null || echo 0; }
at_least() { [ "$(rows)" -ge "$1" ]; }

# The session first, then the backlog while iots-ingest is away.
background iots-ingest "${B[@]}" --quiet 2> "$WORK/first.err"
FIRST=$LAST_PID
wait_until 10 grep -q "flood 1 iotshield/status/#" "$WORK/mosquitto.log" \
    || fail "iots-ingest did not subscribe"
kill -TERM "$FIRST"
wait "$FIRST" || fail "iots-ingest exited $? after SIGTERM"
iots-sim "${SIM[@]}" -h 127.0.0.1 -p "$BROKER_PORT" -q 1 2> "$WORK/sim.err" \
    || fail "iots-sim exited $?"

# Back, passing every reading on to a slow reader.
slow_reader() {
    python3 -c '
import sys, time
for n, _ in enumerate(sys.stdin, 1):
    if n % 300 == 0:
        time.sleep(0.1)'
}
mkfifo "$WORK/out"
slow_reader < "$WORK/out" & # not through background(): its redirection would block this shell
READER=$!
BG_PIDS+=("$READER")
background iots-ingest "${B[@]}" -k 5 > "$WORK/out" 2> "$WORK/ingest.err"
INGEST=$LAST_PID
wait_until 180 at_least "$N" || fail "stored $(rows) of $N"
kill -TERM "$INGEST"
wait "$INGEST" || fail "iots-ingest exited $? after SIGTERM"
wait "$READER" || fail "the reader exited $?"

assert_eq "$N" "$(rows)" "rows"
assert_eq "$N" "$(sqlite3 "$WORK/f.db" "SELECT count(DISTINCT series_id || ' ' || seq) FROM readings")" \
    "distinct readings"
assert_eq 0 "$(sqlite3 "$WORK/f.db" "SELECT coalesce(max(value), 0) FROM stats WHERE key = 'duplicate_readings'")" \
    "duplicate deliveries"
! grep -q "lost connection" "$WORK/ingest.err" || fail "iots-ingest lost its connection: $(cat "$WORK/ingest.err")"
! grep -q "exceeded timeout" "$WORK/mosquitto.log" || fail "the broker timed iots-ingest out"
pass "a backlog of $N stored slower than it came: once each, on one connection"
