# DESIGN §2, Identity: a reading without seq is (device, sensor, ts, value). A seqless file
# ingested twice keeps its N rows and counts N duplicates; the same message delivered twice over
# MQTT (QoS 1 redelivery) is stored once; two values at one ms stay two readings.
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
N=93

# The generator's readings without seq, as zigbee2mqtt, Tasmota and ESPHome send them; the
# last three at the ts of earlier ones of the same series with other values.
$R gen 90 | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
for r in rows:
    del r["seq"]
for r in rows[:3]:
    rows.append(dict(r, value=r["value"] + 0.5))
for r in rows:
    print(json.dumps(r, separators=(",", ":")))
' > "$WORK/seqless.ndjson"
assert_eq "$N" "$(wc -l < "$WORK/seqless.ndjson")" "input lines"

iots-ingest --db "$WORK/a.db" < "$WORK/seqless.ndjson" > "$WORK/first.out" 2> "$WORK/first.err" \
    || fail "first ingest exit $?"
assert_eq "iots-ingest: info: received $N, stored $N, rejected 0, duplicates 0" \
    "$(cat "$WORK/first.err")" "counters of the first ingest"
iots-ingest --db "$WORK/a.db" < "$WORK/seqless.ndjson" > "$WORK/again.out" 2> "$WORK/again.err" \
    || fail "second ingest exit $?"
assert_eq "iots-ingest: info: received $N, stored 0, rejected 0, duplicates $N" \
    "$(cat "$WORK/again.err")" "counters of the second ingest"
assert_eq "$N" "$(db_count "$WORK/a.db" readings)" "rows after ingesting twice"
assert_eq 0 "$(wc -l < "$WORK/again.out")" "records passed on by the second ingest"
assert_eq "$N" "$(sqlite3 "$WORK/a.db" "SELECT value FROM stats WHERE key = 'duplicate_readings'")" \
    "stats.duplicate_readings"
# Stored at seq -1, -2 in their (series, ts); readers see no seq.
assert_eq 3 "$(db_count "$WORK/a.db" readings "seq = -2")" "second values at a ms"
assert_eq "$N" "$(db_count "$WORK/a.db" readings "seq < 0")" "rows without seq"

# Over MQTT: one message published twice, and another value at the same ms.
start_broker "log_type all"
background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 --db "$WORK/m.db" \
    > "$WORK/mqtt.out" 2> "$WORK/mqtt.err"
INGEST=$LAST_PID
subscribed() { grep -q "iotshield/sensors/#" "$WORK/mosquitto.log"; }
wait_until 10 subscribed || fail "iots-ingest did not subscribe"
MSG='{"ts":"2025-10-25T16:45:12.000Z","device":"z-kitchen","sensor":"temperature","value":21.5}'
for m in "$MSG" "$MSG" "${MSG/21.5/21.75}"; do
    mosquitto_pub -p "$BROKER_PORT" -q 1 -t iotshield/sensors/z-kitchen/temperature -m "$m"
done
seen() { [ "$(wc -l < "$WORK/mqtt.out")" -ge 2 ] &&
    [ "$(sqlite3 "$WORK/m.db" "SELECT value FROM stats WHERE key = 'duplicate_readings'")" = 1 ]; }
wait_until 20 seen || fail "MQTT: $(wc -l < "$WORK/mqtt.out") passed on, $(cat "$WORK/mqtt.err")"
kill -TERM "$INGEST"
wait "$INGEST" || fail "iots-ingest exited with $? on SIGTERM"
grep -q "info: received 3, stored 2, rejected 0, duplicates 1" "$WORK/mqtt.err" \
    || fail "MQTT counters: $(cat "$WORK/mqtt.err")"
assert_eq "21.5 21.75" "$(sqlite3 "$WORK/m.db" "SELECT group_concat(value, ' ') FROM (SELECT value FROM readings ORDER BY seq DESC)")" \
    "values stored over MQTT"
pass "a seqless reading delivered twice is stored once"
