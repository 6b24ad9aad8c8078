# QoS 1 with a persistent session (-c -i): iots-ingest restarted twice while a publisher keeps
# sending stores every reading exactly once.
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
N=3000
start_broker "log_type all"
OPTS=(-h 127.0.0.1 -p "$BROKER_PORT" -c -i ingest1 -q 1 --db "$WORK/a.db" --quiet)

start_ingest() {
    iots-ingest "${OPTS[@]}" 2>> "$WORK/ingest.err" &
    INGEST=$!
    BG_PIDS+=("$INGEST")
}
rows() { db_count "$WORK/a.db" readings 2>/dev/null || echo 0; }
at_least() { [ "$(rows)" -ge "$1" ]; }
stop_ingest() {
    kill -TERM "$INGEST"
    local rc=0
    wait "$INGEST" || rc=$?
    assert_eq 0 "$rc" "exit status after SIGTERM"
}

start_ingest
subscribed() { grep -q "iotshield/sensors/#" "$WORK/mosquitto.log"; }
wait_until 10 subscribed || fail "iots-ingest did not subscribe"

# A paced publisher: about 3 s of readings, QoS 1, on the legacy topic.
$R gen $N > "$WORK/in.ndjson"
python3 -c '
import sys, time
for i, line in enumerate(open(sys.argv[1])):
    sys.stdout.write(line); sys.stdout.flush()
    if i % 20 == 0: time.sleep(0.02)
' "$WORK/in.ndjson" | mosquitto_pub -p "$BROKER_PORT" -q 1 -i pub1 -t iotshield/sensors/data -l &
PUB=$!
BG_PIDS+=("$PUB")

wait_until 30 at_least 300 || fail "nothing stored"
stop_ingest
sleep 0.3 # messages queue at the broker for ingest1 meanwhile
start_ingest
wait_until 30 at_least 1500 || fail "stored $(rows) after the first restart"
stop_ingest
start_ingest
wait "$PUB" || fail "mosquitto_pub failed"
wait_until 60 at_least $N || fail "stored $(rows) of $N"
stop_ingest
assert_eq "$N" "$($R compare "$WORK/a.db" "$WORK/in.ndjson")" "every reading exactly once"
pass "persistent session across restarts"
