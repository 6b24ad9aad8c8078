# Over a real broker: N readings published, N stored equal field by field, device status kept,
# a message on a device's topic that names another device rejected, SIGTERM exits 0.
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
N=600
start_broker "log_type all"

iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" --db "$WORK/a.db" > "$WORK/out.ndjson" 2> "$WORK/ingest.err" &
INGEST=$!
BG_PIDS+=("$INGEST")
subscribed() { grep -q "iotshield/sensors/#" "$WORK/mosquitto.log"; }
wait_until 10 subscribed || fail "iots-ingest did not subscribe"

# Readings on their per-device topics (each device's lines through one mosquitto_pub -l), and
# the seed's legacy topic for the rest.
$R gen $N > "$WORK/in.ndjson"
for dev in esp32-00 esp32-01; do
    grep "\"device\":\"$dev\"" "$WORK/in.ndjson" | python3 -c '
import json, subprocess, sys
lines = sys.stdin.read().splitlines()
by_topic = {}
for line in lines:
    r = json.loads(line)
    by_topic.setdefault("iotshield/sensors/%s/%s" % (r["device"], r["sensor"]), []).append(line)
for topic, msgs in by_topic.items():
    subprocess.run(["mosquitto_pub", "-p", sys.argv[1], "-q", "1", "-t", topic, "-l"],
                   input="\n".join(msgs) + "\n", text=True, check=True)
' "$BROKER_PORT"
done
grep '"device":"esp32-02"' "$WORK/in.ndjson" | mosquitto_pub -p "$BROKER_PORT" -q 1 -t iotshield/sensors/data -l
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t iotshield/status/esp32-01 -m offline
mosquitto_pub -p "$BROKER_PORT" -q 1 -t iotshield/sensors/esp32-00/gas \
    -m '{"ts":0,"device":"esp32-01","sensor":"gas","value":1}'

stored() { [ "$(db_count "$WORK/a.db" readings)" -ge "$N" ]; }
wait_until 30 stored || fail "stored $(db_count "$WORK/a.db" readings) of $N"
has_status() { [ "$(sqlite3 "$WORK/a.db" "SELECT status FROM devices WHERE name = 'esp32-01'")" == offline ]; }
wait_until 10 has_status || fail "device status not stored"
rejected() { grep -q "warning: topic iotshield/sensors/esp32-00/gas: device \"esp32-01\"" "$WORK/ingest.err"; }
wait_until 10 rejected || fail "a reading on another device's topic was not rejected"
kill -TERM "$INGEST"
rc=0
wait "$INGEST" || rc=$?
assert_eq 0 "$rc" "exit status after SIGTERM"
assert_eq "$N" "$($R compare "$WORK/a.db" "$WORK/in.ndjson")" "rows stored"
assert_eq "$N" "$(wc -l < "$WORK/out.ndjson")" "records passed on"
grep -q "info: received $((N + 1)), stored $N, rejected 1, duplicates 0, status 1" "$WORK/ingest.err" \
    || fail "counters: $(cat "$WORK/ingest.err")"
# A clean DISCONNECT, not a dropped connection.
grep -q "disconnected" "$WORK/mosquitto.log" || fail "no clean disconnect in the broker log"
pass "MQTT to SQLite"
