# iots-detect --db writes scores and anomalies; with a broker it publishes anomalies.
. "$(dirname "$0")/lib.sh"

iots-sim --devices 1 --duration 30m --seed 4 --incident fire@10m > "$WORK/day.ndjson"
iots-ingest --db "$WORK/h.db" --quiet < "$WORK/day.ndjson" 2>/dev/null || fail "ingest"
iots-detect --db "$WORK/h.db" < "$WORK/day.ndjson" > "$WORK/out" 2> "$WORK/err" || fail "detect exit $?"
flagged=$(grep -c '"anomaly":true' "$WORK/out")
[ "$flagged" -gt 0 ] || fail "no anomaly in a fire"
assert_eq "$flagged" "$(db_count "$WORK/h.db" anomalies)" "anomalies rows"
assert_eq "$flagged" "$(db_count "$WORK/h.db" readings 'anomaly = 1')" "flagged stored readings"
assert_eq "$(wc -l < "$WORK/day.ndjson")" "$(db_count "$WORK/h.db" readings 'score IS NOT NULL')" "scored stored readings"
grep -q 'threshold:flame' <(sqlite3 "$WORK/h.db" "SELECT reasons FROM anomalies") || fail "reasons"

start_broker
background mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/anomalies/#' -v -C 1
sub=$LAST_PID
background iots-detect -h 127.0.0.1 -p "$BROKER_PORT" --anomalies-only
det=$LAST_PID
# Publish a flame reading until the anomaly comes back (iots-detect may still be subscribing).
got=0
for i in $(seq 1 50); do
    mosquitto_pub -p "$BROKER_PORT" -t iotshield/sensors/k/flame -q 1 \
        -m "{\"ts\":$((1761410712000 + i * 5000)),\"device\":\"k\",\"sensor\":\"flame\",\"value\":1}"
    sleep 0.2
    if ! kill -0 "$sub" 2>/dev/null; then got=1; break; fi
done
assert_eq 1 "$got" "anomaly published to iotshield/anomalies/k/flame"
kill -TERM "$det"
rc=0; wait "$det" || rc=$?
assert_eq 0 "$rc" "SIGTERM exit"
pass "database and MQTT"
