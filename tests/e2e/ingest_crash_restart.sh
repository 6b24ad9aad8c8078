#!/usr/bin/env bash
# iots-ingest killed (SIGKILL) mid-stream and started again with the same persistent session
# (-q 1 -c -i): the backlog the broker kept flows in at once (no wait for a subscription answer
# behind a full queue), and every reading is stored exactly once. Then SIGKILL over and over
# during a stream, including during catch-up: an acknowledged reading is already stored, so none
# is lost.
. "$(dirname "$0")/lib.sh"
start_broker "log_type all"
SIM=(--seed 4 --devices 20 --count 12000)
iots-sim "${SIM[@]}" > "$WORK/sim.ndjson"
N=$(wc -l < "$WORK/sim.ndjson")
[ "$N" -gt 5000 ] || fail "only $N readings: too few to fill the queue"
OPTS=(-h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i ingest -c --db "$WORK/k.db" --quiet)

start_ingest() { # stderr file
    iots-ingest "${OPTS[@]}" 2>> "$1" &
    INGEST=$!
    BG_PIDS+=("$INGEST")
}
rows() { db_count "$WORK/k.db" readings 2>/dev/null || echo 0; }
at_least() { [ "$(rows)" -ge "$1" ]; }
now_ms() { date +%s%3N; }

# Whether the iots-ingest of pid $1 (client id $2) has subscribed: the broker's log shows its
# subscription after its own connection (known by its local port), not another run's. A run killed
# early may never have subscribed, so counting the log's subscriptions says nothing of the last one.
# (The bounds of the waits below only stop a test that hangs: a loaded machine or a sanitizer build
# may take seconds to start a tool.)
subscribed_run() { # pid client-id
    local port
    # Its local port: of the TCP sockets it holds (/proc/PID/fd), the one to the broker.
    port=$(python3 - "$1" "$BROKER_PORT" <<'PY'
import os, sys
pid, broker = sys.argv[1], int(sys.argv[2])
try:
    inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    for line in open(f"/proc/{pid}/net/tcp").readlines()[1:]:
        f = line.split()
        if int(f[2].split(":")[1], 16) == broker and f"socket:[{f[9]}]" in inodes:
            print(int(f[1].split(":")[1], 16))
except OSError:
    pass # not running (any more)
PY
    )
    [ -n "$port" ] && awk -v conn="from 127.0.0.1:$port as $2 " -v any=" as $2 " \
        -v want="$2 1 iotshield/status/#" '
        /New client connected/ && index($0, any) { mine = index($0, conn) > 0; next }
        mine && index($0, want) { found = 1 }
        END { exit !found }' "$WORK/mosquitto.log"
}

# The first run creates the session; the broker holds what arrives while it is dead.
start_ingest "$WORK/first.err"
subscribed() { subscribed_run "$INGEST" ingest; }
wait_until 60 subscribed || fail "iots-ingest did not subscribe"
background iots-sim "${SIM[@]}" -h 127.0.0.1 -p "$BROKER_PORT" -q 1
SIM_PID=$LAST_PID
wait_until 30 at_least 1 || fail "nothing stored"
kill -KILL "$INGEST"
wait "$INGEST" 2>/dev/null || true
wait "$SIM_PID" || fail "iots-sim failed"
before=$(rows)
[ $((N - before)) -gt 2048 ] || fail "only $((N - before)) readings left for the restart"

t0=$(now_ms)
start_ingest "$WORK/restart.err"
wait_until 60 at_least "$N" || fail "stored $(rows) of $N after the restart"
t1=$(now_ms)
echo "catch-up: $((N - before)) readings in $((t1 - t0)) ms after the restart"
kill -TERM "$INGEST"
wait "$INGEST" || fail "iots-ingest exited $? after SIGTERM"
assert_eq "$N" "$(rows)" "rows after the restart"
if grep -q "no answer from broker" "$WORK/restart.err"; then
    fail "the restart waited for a subscription answer: $(head -n 2 "$WORK/restart.err")"
fi
assert_eq "$N" "$(sqlite3 "$WORK/k.db" "SELECT count(DISTINCT series_id || ' ' || seq) FROM readings")" \
    "distinct readings (the simulator numbers each series)"

# SIGKILL every few tenths of a second while a paced stream goes on; each start catches up on the
# backlog of the time it was dead, and the kills hit that catch-up.
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
M=10000
OPTS=(-h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i ingest2 -c --db "$WORK/m.db" --quiet)
rows() { db_count "$WORK/m.db" readings 2>/dev/null || echo 0; }
start_ingest "$WORK/kills.err"
subscribed2() { subscribed_run "$INGEST" ingest2; }
wait_until 60 subscribed2 || fail "iots-ingest did not subscribe (second session)"
$R gen $M 7 > "$WORK/in.ndjson"
python3 -c '
import sys, time
for i, line in enumerate(open(sys.argv[1])):
    sys.stdout.write(line); sys.stdout.flush()
    if i % 50 == 0: time.sleep(0.02)
' "$WORK/in.ndjson" | mosquitto_pub -p "$BROKER_PORT" -q 1 -i pub2 -t iotshield/sensors/data -l &
PUB=$!
BG_PIDS+=("$PUB")
for delay in 0.4 0.3 0.6 0.2 0.5 0.35 0.25 0.45; do
    sleep "$delay"
    kill -KILL "$INGEST"
    wait "$INGEST" 2>/dev/null || true
    sleep 0.3
    start_ingest "$WORK/kills.err"
done
wait "$PUB" || fail "mosquitto_pub failed"
wait_until 60 at_least $M || fail "stored $(rows) of $M after 8 kills: readings lost"
# The last start may find nothing left to store: SIGTERM only once it runs (its signal handlers
# are installed by then), or a slow start-up dies of the signal itself.
wait_until 60 subscribed2 || fail "the last iots-ingest did not subscribe"
kill -TERM "$INGEST"
wait "$INGEST" || fail "iots-ingest exited $? after SIGTERM"
assert_eq "$M" "$($R compare "$WORK/m.db" "$WORK/in.ndjson")" "every reading exactly once"
pass "backlog after SIGKILL flows at once; 8 kills lose nothing"
