# Hostile input through the whole of iots-ingest, on stdin and as MQTT payloads (real broker,
# recommended configuration): every case listed in data/ingest/hostile.py is rejected with a
# one-line reason naming its line or topic, every good reading around it is stored exactly, the
# counters add up, SQL and HTML in accepted text are stored verbatim and not executed, and the
# tool exits 0 (65 at the first with --strict).
. "$(dirname "$0")/lib.sh"
H="python3 $IOTS_TEST_DATA/ingest/hostile.py"

check_db() { # db what
    assert_eq ok "$(sqlite3 "$1" 'PRAGMA integrity_check')" "$2: integrity"
    assert_eq "alerts anomalies commands devices readings sensors series stats" \
        "$(sqlite3 "$1" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master
            WHERE type = 'table' AND name IN ('alerts','anomalies','commands','devices',
            'readings','sensors','series','stats') ORDER BY name)")" "$2: tables"
    assert_eq "'); DROP TABLE readings;--" \
        "$(sqlite3 "$1" "SELECT location FROM devices WHERE name = 'esp32-sql'")" "$2: SQL location"
    assert_eq "<img src=x onerror=alert(1)>" \
        "$(sqlite3 "$1" "SELECT location FROM devices WHERE name = 'esp32-html'")" \
        "$2: HTML location"
    assert_eq '"note":"a\u0000b\u001b[31mc\nd"' "$(sqlite3 "$1" "SELECT r.extra FROM readings r
        JOIN series s ON s.id = r.series_id JOIN devices d ON d.id = s.device_id
        WHERE d.name = 'esp32-ctl'")" "$2: control characters kept escaped in an extra field"
    good=$($H check "$1" 2>&1) || fail "$2: $good"
}

# --- stdin: NDJSON lines, good and hostile interleaved.
$H stdin "$WORK"
cases=$(wc -l < "$WORK/stdin.expect")
blank=$(awk -F '\t' '$3 == ""' "$WORK/stdin.expect" | wc -l)
rc=0
iots-ingest --db "$WORK/s.db" < "$WORK/stdin.ndjson" > "$WORK/s.out" 2> "$WORK/s.err" || rc=$?
assert_eq 0 "$rc" "stdin: exit status"
check_db "$WORK/s.db" stdin
assert_eq "$good" "$(wc -l < "$WORK/s.out")" "stdin: records passed on"
while IFS=$'\t' read -r line name reason; do
    w=$(grep "^iots-ingest: warning: line $line: " "$WORK/s.err" || true)
    if [ -z "$reason" ]; then # a blank line is no record: nothing said about it
        assert_eq "" "$w" "stdin: $name: a blank line"
        continue
    fi
    [[ "$w" == *"$reason"* ]] || fail "stdin: $name (line $line): expected '$reason' in '$w'"
done < "$WORK/stdin.expect"
rejected=$((cases - blank))
assert_eq "$rejected" "$(grep -c '^iots-ingest: warning: line [0-9]*: ' "$WORK/s.err")" \
    "stdin: one warning per hostile case"
assert_eq $((rejected + 1)) "$(wc -l < "$WORK/s.err")" "stdin: nothing else on stderr"
grep -qx "iots-ingest: info: received $((good + rejected)), stored $good, rejected $rejected, duplicates 0" \
    "$WORK/s.err" || fail "stdin: counters: $(tail -n 1 "$WORK/s.err")"
assert_eq "$rejected" "$(sqlite3 "$WORK/s.db" "SELECT value FROM stats WHERE key = 'rejected_readings'")" \
    "stdin: rejected_readings stat"

# --strict: 65 at the first hostile line, the good one before it stored.
rc=0
iots-ingest --strict --db "$WORK/strict.db" < "$WORK/stdin.ndjson" > /dev/null 2> "$WORK/strict.err" || rc=$?
assert_eq 65 "$rc" "--strict: exit status"
first=$(awk -F '\t' '$3 != "" {print $1; exit}' "$WORK/stdin.expect")
grep -q "^iots-ingest: error: line $first: " "$WORK/strict.err" || fail "--strict: $(cat "$WORK/strict.err")"
assert_eq 2 "$(db_count "$WORK/strict.db" readings)" "--strict: readings before the first bad line"

# --- MQTT: each case as one payload (mosquitto_pub -f), through the broker configured as
# examples/mosquitto/iotshield.conf recommends (no message_size_limit: the broker's own).
mkdir "$WORK/mqtt"
$H mqtt "$WORK/mqtt"
start_broker "max_queued_bytes 0" "log_type all"
iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 --db "$WORK/m.db" > "$WORK/m.out" 2> "$WORK/m.err" &
INGEST=$!
BG_PIDS+=("$INGEST")
subscribed() { grep -q "iotshield/sensors/#" "$WORK/mosquitto.log"; }
wait_until 10 subscribed || fail "iots-ingest did not subscribe"
n=0
while IFS=$'\t' read -r file topic name reason; do
    if [ -s "$file" ]; then
        mosquitto_pub -p "$BROKER_PORT" -q 1 -t "$topic" -f "$file" || fail "mosquitto_pub $name"
    else
        mosquitto_pub -p "$BROKER_PORT" -q 1 -t "$topic" -n || fail "mosquitto_pub $name"
    fi
    n=$((n + 1))
done < "$WORK/mqtt/mqtt.list"
awk -F '\t' '$3 != "good"' "$WORK/mqtt/mqtt.list" > "$WORK/mqtt/hostile.list"
mqtt_rejected=$(wc -l < "$WORK/mqtt/hostile.list")
arrived() { [ "$(grep -c '^iots-ingest: warning: topic ' "$WORK/m.err")" -ge "$mqtt_rejected" ] &&
    [ "$(db_count "$WORK/m.db" readings)" -ge "$good" ]; }
wait_until 60 arrived || fail "MQTT: $(db_count "$WORK/m.db" readings) stored, $(grep -c warning "$WORK/m.err") warnings"
kill -TERM "$INGEST"
rc=0
wait "$INGEST" || rc=$?
assert_eq 0 "$rc" "MQTT: exit status after SIGTERM"
check_db "$WORK/m.db" MQTT
assert_eq "$good" "$(wc -l < "$WORK/m.out")" "MQTT: records passed on"
# One publisher at a time, one subscriber: the warnings come in the order of the cases.
grep '^iots-ingest: warning: topic ' "$WORK/m.err" > "$WORK/m.warnings" || true
while IFS=$'\t' read -r file topic name reason <&3 && IFS= read -r w <&4; do
    [[ "$w" == "iots-ingest: warning: topic $topic: "*"$reason"* ]] ||
        fail "MQTT: $name: expected '$reason' in '$w'"
done 3< "$WORK/mqtt/hostile.list" 4< "$WORK/m.warnings"
assert_eq "$mqtt_rejected" "$(grep -c '^iots-ingest: warning: topic ' "$WORK/m.err")" \
    "MQTT: one warning per hostile case"
grep -q "info: received $n, stored $good, rejected $mqtt_rejected, duplicates 0" "$WORK/m.err" ||
    fail "MQTT: counters: $(grep info: "$WORK/m.err" | tail -n 1)"
pass "$cases hostile cases on stdin and $mqtt_rejected over MQTT rejected with reasons; $good good readings stored"
