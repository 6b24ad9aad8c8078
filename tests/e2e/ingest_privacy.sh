#!/usr/bin/env bash
# iots-ingest --privacy-policy: what a rule removes is neither in the database nor on stdout, from a
# pipe and from MQTT alike; the safety signals pass untouched; a rule that would touch them is
# refused with the file, the line and 78.
. "$(dirname "$0")/lib.sh"

cat > "$WORK/home.policy" <<'POLICY'
# the landlord's view
light drop
humidity round 5 time 15m   # 16:47:12 -> 16:45:00
temperature round 0.5
* time 1h
POLICY
cat > "$WORK/in.ndjson" <<'NDJSON'
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"light","value":312,"seq":1}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"humidity","value":47.4,"seq":2}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"temperature","value":21.76,"seq":3}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"co2","value":812,"seq":4}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"gas","value":1612.5,"seq":5}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"flame","value":1,"seq":6}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"motion","value":1,"seq":7}
NDJSON
expected='{"ts":"2025-10-25T16:45:00.000Z","device":"hall","sensor":"humidity","value":45,"seq":2}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"temperature","value":22,"seq":3}
{"ts":"2025-10-25T16:00:00.000Z","device":"hall","sensor":"co2","value":812,"seq":4}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"gas","value":1612.5,"seq":5}
{"ts":"2025-10-25T16:47:12.345Z","device":"hall","sensor":"flame","value":1,"seq":6}
{"ts":"2025-10-25T16:00:00.000Z","device":"hall","sensor":"motion","value":1,"seq":7}'
rows() { # the database as device sensor ts value, in seq order
    sqlite3 -separator ' ' "$1" "SELECT d.name, s.name, r.ts, r.value FROM readings r
        JOIN series x ON x.id = r.series_id JOIN devices d ON d.id = x.device_id
        JOIN sensors s ON s.id = x.sensor_id ORDER BY r.seq"
}
# 16:45:00 = 1761410700000, 16:47:12.345 = 1761410832345, 16:00:00 = 1761408000000.
expected_rows='hall humidity 1761410700000 45.0
hall temperature 1761410832345 22.0
hall co2 1761408000000 812.0
hall gas 1761410832345 1612.5
hall flame 1761410832345 1.0
hall motion 1761408000000 1.0'

# From a pipe.
iots-ingest --privacy-policy "$WORK/home.policy" --db "$WORK/pipe.db" < "$WORK/in.ndjson" \
    > "$WORK/pipe.out" 2> "$WORK/pipe.err" || fail "iots-ingest exited $?"
assert_eq "$expected" "$(cat "$WORK/pipe.out")" "records passed on"
assert_eq "$expected_rows" "$(rows "$WORK/pipe.db")" "rows stored"
grep -q "received 7, stored 6, rejected 0, duplicates 0, dropped 1" "$WORK/pipe.err" ||
    fail "counters: $(cat "$WORK/pipe.err")"
! grep -qF -e 312 -e 47.4 -e 21.76 "$WORK/pipe.out" || fail "a removed value passed on"

# From MQTT: the same rules on the same readings.
start_broker
background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" --privacy-policy "$WORK/home.policy" \
    --db "$WORK/mqtt.db" > "$WORK/mqtt.out" 2> "$WORK/mqtt.err"
INGEST=$LAST_PID
sleep 0.5 # its subscription: what is published before it would not be delivered (clean session)
while read -r line; do
    sensor=$(jq -r .sensor <<< "$line")
    mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/sensors/hall/$sensor" -m "$line"
done < "$WORK/in.ndjson"
six() { [ "$(db_count "$WORK/mqtt.db" readings 2>/dev/null)" = 6 ] && [ "$(wc -l < "$WORK/mqtt.out")" = 6 ]; }
wait_until 15 six || fail "MQTT: $(db_count "$WORK/mqtt.db" readings) rows"
kill -TERM "$INGEST"
wait "$INGEST" || fail "iots-ingest (MQTT) exited $?"
assert_eq "$expected_rows" "$(rows "$WORK/mqtt.db")" "rows stored from MQTT"
assert_eq "$expected" "$(cat "$WORK/mqtt.out")" "records passed on from MQTT"

# Refused: a rule on a safety signal, a bad step; a file that is missing.
printf 'light drop\ngas round 50\n' > "$WORK/bad.policy"
set +e
iots-ingest --privacy-policy "$WORK/bad.policy" < /dev/null > /dev/null 2> "$WORK/bad.err"
rc=$?
iots-ingest --privacy-policy "$WORK/missing.policy" < /dev/null > /dev/null 2> "$WORK/missing.err"
rc_missing=$?
set -e
assert_eq 78 "$rc" "a policy that rounds gas"
assert_eq "iots-ingest: error: $WORK/bad.policy:2: gas is a safety signal: it is kept as it is (keep)" \
    "$(cat "$WORK/bad.err")" "its message"
assert_eq 66 "$rc_missing" "a missing policy"
pass "the privacy policy applies before storing and passing on, from a pipe and from MQTT"
