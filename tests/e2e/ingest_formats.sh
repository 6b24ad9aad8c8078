# Other ecosystems' payloads through a real broker: every fixture of tests/data/formats published
# with mosquitto_pub (as its device would), read by iots-ingest --format auto, and the rows checked
# in SQLite against the fixtures' expected readings (a payload's own time exactly, a time of
# receipt within the run); bad payloads rejected naming their topic and counted; the payloads with
# a time of their own published again are duplicates, not second rows; device statuses from
# zigbee2mqtt's availability, Tasmota's LWT and ESPHome's status; a retained ESPHome state ignored;
# iots-detect --format scores them.
. "$(dirname "$0")/lib.sh"
F="$IOTS_TEST_DATA/formats"
start_broker "log_type all"

# The messages of the fixtures, `TOPIC PAYLOAD` a line, each published on its topic.
publish() { # file...
    grep -hv '^#' "$@" | while IFS= read -r line; do
        mosquitto_pub -p "$BROKER_PORT" -q 1 -t "${line%% *}" -m "${line#* }"
    done
}
subscribed() { # the last of --format auto's eight filters
    grep -qF '+/status' "$WORK/mosquitto.log" && grep -qF 'tele/+/LWT' "$WORK/mosquitto.log"
}

before=$(date +%s%3N)
background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 --format auto --utc-offset +02:00 \
    --db "$WORK/a.db" > "$WORK/out.ndjson" 2> "$WORK/ingest.err"
INGEST=$LAST_PID
wait_until 10 subscribed || fail "iots-ingest --format auto did not subscribe"
for filter in 'iotshield/sensors/#' 'iotshield/status/#' 'zigbee2mqtt/#' 'tele/+/SENSOR' \
    '+/sensor/+/state' '+/binary_sensor/+/state'; do
    grep -qF "$filter" "$WORK/mosquitto.log" || fail "not subscribed to $filter"
done

publish "$F"/seed.msgs "$F"/zigbee2mqtt.msgs "$F"/tasmota.msgs "$F"/esphome.msgs "$F"/bad.msgs
want=$(cat "$F"/*.expected | grep -c ' {')
stored() { [ "$(db_count "$WORK/a.db" readings)" -ge "$want" ]; }
wait_until 30 stored || fail "stored $(db_count "$WORK/a.db" readings) of $want readings"
after=$(date +%s%3N)

# Every expected reading is a row: exactly, or (stamped on receipt) with a ts within the run.
sqlite3 -separator ' ' "$WORK/a.db" "SELECT d.name, s.name, r.ts, r.value FROM readings r
    JOIN series x ON x.id = r.series_id JOIN devices d ON d.id = x.device_id
    JOIN sensors s ON s.id = x.sensor_id" > "$WORK/rows.txt"
python3 - "$WORK/rows.txt" "$before" "$after" "$F"/*.expected <<'PY' || fail "rows differ from the fixtures' readings"
import datetime, json, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
lo, hi = int(sys.argv[2]), int(sys.argv[3])
receipt = "2025-10-25T16:00:00.000Z"  # the unit test's time of receipt
bad = 0
for path in sys.argv[4:]:
    for line in open(path):
        _, _, rest = line.partition(" ")
        if not rest.startswith("{"):
            continue
        r = json.loads(rest)
        ts = int(datetime.datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)
        found = [x for x in rows if x[0] == r["device"] and x[1] == r["sensor"] and
                 float(x[3]) == r["value"] and
                 (int(x[2]) == ts if r["ts"] != receipt else lo <= int(x[2]) <= hi)]
        if not found:
            print("missing:", path, rest.strip(), file=sys.stderr)
            bad += 1
if len(rows) != sum(1 for p in sys.argv[4:] for l in open(p) if " {" in l):
    print("rows:", len(rows), file=sys.stderr)
    bad += 1
sys.exit(1 if bad else 0)
PY

# The kinds the project does not know flowed through under their own names.
assert_eq "1000.6|hPa" "$(sqlite3 "$WORK/a.db" "SELECT r.value, s.unit FROM readings r
    JOIN series x ON x.id = r.series_id JOIN devices d ON d.id = x.device_id
    JOIN sensors s ON s.id = x.sensor_id WHERE d.name = 'weather' AND s.name = 'pressure'")" \
    "zigbee2mqtt's pressure, a kind of its own"
assert_eq 1 "$(sqlite3 "$WORK/a.db" "SELECT count(*) FROM sensors WHERE name = 'wifi_signal'")" \
    "ESPHome's wifi_signal, a kind of its own"

# Statuses: the last word of each device.
statuses=$(sqlite3 "$WORK/a.db" "SELECT name || '=' || status FROM devices
    WHERE status IS NOT NULL ORDER BY name" | tr '\n' ' ')
assert_eq "front_door=online hall_motion=offline livingroom=offline tasmota_A1B2C3=offline " \
    "$statuses" "device statuses"

# Bad payloads: one warning each naming the topic, counted.
nbad=$(grep -c 'problem:' "$F"/bad.expected)
rejected() { [ "$(grep -c 'warning: topic ' "$WORK/ingest.err")" -ge "$nbad" ]; }
wait_until 10 rejected || fail "$(grep -c 'warning: topic ' "$WORK/ingest.err") warnings of $nbad"
grep -qF 'warning: topic zigbee2mqtt/kitchen: not valid JSON' "$WORK/ingest.err" ||
    fail "malformed JSON not named with its topic"
grep -qF 'warning: topic tele/tasmota_X/SENSOR: unknown driver "XYZ9000" (not read)' \
    "$WORK/ingest.err" || fail "unknown Tasmota driver not named with its topic"
grep -qF 'warning: topic livingroom/sensor/temperature/state: value: "warm" is not a number' \
    "$WORK/ingest.err" || fail "a non-numeric ESPHome state not named with its topic"

# Redelivered: the payloads that carry their own time (the seed's, Tasmota's, zigbee2mqtt's with
# last_seen) are the same readings, duplicates.
rows_before=$(db_count "$WORK/a.db" readings)
grep -h last_seen "$F"/zigbee2mqtt.msgs > "$WORK/z2m_timed.msgs"
publish "$F"/seed.msgs "$F"/tasmota.msgs "$WORK/z2m_timed.msgs"
dups=$(($(grep -c ' {' "$F"/seed.expected) + $(grep -c ' {' "$F"/tasmota.expected) +
    $(grep ' {' "$F"/zigbee2mqtt.expected | grep -vc '"ts":"2025-10-25T16:00:00.000Z"')))
# SIGUSR1 prints the counters; asked again until every redelivered message was stored.
counted() { kill -USR1 "$INGEST"; sleep 0.2; grep -q "duplicates $dups" "$WORK/ingest.err"; }
wait_until 20 counted || fail "not $dups duplicates: $(grep 'info: received' "$WORK/ingest.err" | tail -1)"
assert_eq "$rows_before" "$(db_count "$WORK/a.db" readings)" "rows after the redelivery"

kill -TERM "$INGEST"
rc=0
wait "$INGEST" || rc=$?
assert_eq 0 "$rc" "iots-ingest exit status after SIGTERM"
assert_eq "$want" "$(wc -l < "$WORK/out.ndjson")" "records passed on"

# A retained state with no time of its own (ESPHome retains its states) is delivered again at
# every subscription: ignored, not stored as a new reading at each restart.
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t livingroom/sensor/co2/state -m 500
seen=$(grep -cF '+/sensor/+/state' "$WORK/mosquitto.log")
background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 --format esphome --db "$WORK/a.db" \
    --quiet 2> "$WORK/ingest2.err"
INGEST=$LAST_PID
# SIGUSR1 only once it is running (its handler set up): it has subscribed.
esphome_subscribed() { [ "$(grep -cF '+/sensor/+/state' "$WORK/mosquitto.log")" -gt "$seen" ]; }
wait_until 10 esphome_subscribed || fail "iots-ingest --format esphome did not subscribe"
ignored() { kill -USR1 "$INGEST"; sleep 0.2; grep -q "received 0, .*ignored 1" "$WORK/ingest2.err"; }
wait_until 20 ignored || fail "the retained ESPHome state was not ignored: $(cat "$WORK/ingest2.err")"
kill -TERM "$INGEST"
wait "$INGEST" || fail "iots-ingest --format esphome exit status $?"
assert_eq 0 "$(sqlite3 "$WORK/a.db" "SELECT count(*) FROM sensors WHERE name = 'co2'")" \
    "a retained state stored"

# iots-detect --format zigbee2mqtt over MQTT: subscribes to zigbee2mqtt/# and scores its readings.
seen=$(grep -cF 'zigbee2mqtt/#' "$WORK/mosquitto.log") # iots-ingest's subscription
background iots-detect -h 127.0.0.1 -p "$BROKER_PORT" --format zigbee2mqtt \
    > "$WORK/scored.ndjson" 2> "$WORK/detect.err"
DETECT=$LAST_PID
detect_subscribed() { [ "$(grep -cF 'zigbee2mqtt/#' "$WORK/mosquitto.log")" -gt "$seen" ]; }
wait_until 10 detect_subscribed || fail "iots-detect --format zigbee2mqtt did not subscribe"
publish "$F"/zigbee2mqtt.msgs
zwant=$(grep -c ' {' "$F"/zigbee2mqtt.expected)
scored() { [ "$(wc -l < "$WORK/scored.ndjson")" -ge "$zwant" ]; }
wait_until 20 scored || fail "iots-detect scored $(wc -l < "$WORK/scored.ndjson") of $zwant"
kill -TERM "$DETECT"
rc=0
wait "$DETECT" || rc=$?
assert_eq 0 "$rc" "iots-detect exit status after SIGTERM"
grep -q '"device":"weather","sensor":"pressure","value":1000.6.*"score":' "$WORK/scored.ndjson" ||
    fail "iots-detect did not score zigbee2mqtt's pressure"
pass "zigbee2mqtt, Tasmota, ESPHome and the seed's payloads to SQLite; iots-detect --format"
