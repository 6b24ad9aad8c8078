#!/usr/bin/env bash
# iots-sim publishes N readings over a real mosquitto at QoS 1; iots-ingest stores exactly N, equal
# field by field to what the same iots-sim options print on stdout.
. "$(dirname "$0")/lib.sh"

N=500
SIM_OPTS=(--count "$N" --seed 7 --devices 2 --interval 5s --start 2025-10-06T00:00:00Z)

start_broker "log_type subscribe" "log_type error" "log_type warning"
DB="$WORK/readings.db"

background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -c -i e2e-pipeline-ingest \
    --db "$DB" --quiet 2> "$WORK/ingest.err"
INGEST_PID=$LAST_PID
# Subscribed (the broker logs each subscription): from here on nothing the sim sends is missed.
wait_until 20 grep -q "e2e-pipeline-ingest 1 iotshield/sensors/#" "$WORK/mosquitto.log" ||
    fail "iots-ingest did not subscribe"

iots-sim "${SIM_OPTS[@]}" > "$WORK/expected.ndjson" 2> "$WORK/sim-stdout.err"
assert_eq "$N" "$(wc -l < "$WORK/expected.ndjson")" "readings printed by iots-sim"

iots-sim "${SIM_OPTS[@]}" -h 127.0.0.1 -p "$BROKER_PORT" -q 1 2> "$WORK/sim.err" ||
    fail "iots-sim exited with $?"

stored() { [ "$(db_count "$DB" readings)" -ge "$N" ]; }
wait_until 60 stored || fail "stored $(db_count "$DB" readings) of $N readings"
kill -TERM "$INGEST_PID"
wait "$INGEST_PID" || fail "iots-ingest exited with $? on SIGTERM"
assert_eq "$N" "$(db_count "$DB" readings)" "readings stored"

# Field by field: device, sensor, ts (epoch ms), value (as a double), seq, label.
python3 - "$WORK/expected.ndjson" > "$WORK/expected.rows" <<'EOF'
import json, sys, datetime
for line in open(sys.argv[1]):
    r = json.loads(line)
    ts = r["ts"]
    if isinstance(ts, str):
        dt = datetime.datetime.strptime(ts.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
        ts = round(dt.timestamp() * 1000)
    print("|".join([r["device"], r["sensor"], str(ts), repr(float(r["value"])),
                    str(r.get("seq", "")), r.get("label", "")]))
EOF
python3 - "$DB" > "$WORK/stored.rows" <<'EOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
q = """SELECT d.name, s.name, r.ts, r.value, r.seq, r.label FROM readings r
       JOIN series x ON x.id = r.series_id JOIN devices d ON d.id = x.device_id
       JOIN sensors s ON s.id = x.sensor_id"""
for dev, sen, ts, value, seq, label in con.execute(q):
    print("|".join([dev, sen, str(ts), repr(float(value)), "" if seq is None else str(seq),
                    label or ""]))
EOF
sort -o "$WORK/expected.rows" "$WORK/expected.rows"
sort -o "$WORK/stored.rows" "$WORK/stored.rows"
diff "$WORK/expected.rows" "$WORK/stored.rows" > "$WORK/rows.diff" ||
    fail "stored readings differ from iots-sim's stdout (see rows.diff): $(head -4 "$WORK/rows.diff")"
pass "$N readings published over MQTT and stored, equal field by field"
