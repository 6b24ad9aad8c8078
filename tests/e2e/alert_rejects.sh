#!/usr/bin/env bash
# One reject policy for every tool that reads readings (input/): iots-alert rejects a bad line, an
# over-long line and a bad or over-long MQTT payload with the words, options and exit status of
# iots-ingest (and iots-act on stdin, iots-ha on MQTT, with their own reasons for a record's content): the same warnings for the same input, --strict and --max-bad-lines ending with 65
# and the same error, --max-line-bytes on lines and payloads alike.
. "$(dirname "$0")/lib.sh"

good='{"ts":"2025-10-25T16:45:00Z","device":"d","sensor":"gas","value":500,"anomaly":true,"score":0.9,"reasons":["zscore"]}'
long="{\"ts\":\"2025-10-25T16:45:01Z\",\"device\":\"d\",\"sensor\":\"gas\",\"value\":1,\"note\":\"$(printf 'x%.0s' {1..200})\"}"
printf '%s\n' "$good" \
    '{"ts":"2025-10-25T16:45:02Z","device":"d","sensor":"gas","value":"x"}' \
    "$long" \
    '' \
    'not json' \
    '{"ts":"2025-10-25T16:45:03Z","device":"d","sensor":"gas","label":"vol\"cano","value":2}' \
    > "$WORK/bad.ndjson"

# The same warnings, word for word, from both tools.
iots-alert --replay --max-line-bytes 200 < "$WORK/bad.ndjson" > /dev/null 2> "$WORK/alert.err" ||
    fail "iots-alert stopped at a bad line"
iots-ingest --max-line-bytes 200 < "$WORK/bad.ndjson" > /dev/null 2> "$WORK/ingest.err" ||
    fail "iots-ingest stopped at a bad line"
cat > "$WORK/want" <<'EOF'
warning: line 2: value: expected a number, got a string
warning: line 3: longer than 200 bytes (--max-line-bytes)
warning: line 5: not a JSON object
warning: line 6: label: unknown incident kind "vol\"cano"
EOF
grep ': warning: ' "$WORK/alert.err" | sed 's/^iots-alert: //' > "$WORK/alert.warnings" || true
grep ': warning: ' "$WORK/ingest.err" | sed 's/^iots-ingest: //' > "$WORK/ingest.warnings" || true
diff "$WORK/want" "$WORK/alert.warnings" >&2 || fail "iots-alert's warnings"
diff "$WORK/want" "$WORK/ingest.warnings" >&2 || fail "iots-ingest's warnings"
grep -q ', bad lines 4$' "$WORK/alert.err" || fail "bad lines counted: $(tail -n 1 "$WORK/alert.err")"

# --strict: exit 65, the first rejected record is the error (said once), as iots-ingest says it.
for tool in iots-alert iots-ingest; do
    rc=0
    "$tool" --strict < "$WORK/bad.ndjson" > /dev/null 2> "$WORK/$tool.strict" || rc=$?
    assert_eq 65 "$rc" "$tool --strict exit"
    assert_eq "$tool: error: line 2: value: expected a number, got a string" \
        "$(grep -v ': info: ' "$WORK/$tool.strict")" "$tool --strict message"
done

# --max-bad-lines N: exit 65 at the one too many, after its warning; 0 tolerates none.
for tool in iots-alert iots-ingest; do
    rc=0
    "$tool" --max-bad-lines 2 < "$WORK/bad.ndjson" > /dev/null 2> "$WORK/$tool.max" || rc=$?
    assert_eq 65 "$rc" "$tool --max-bad-lines exit"
    assert_eq "$tool: error: more than 2 bad records (--max-bad-lines)" \
        "$(grep -v ': info: ' "$WORK/$tool.max" | tail -n 1)" "$tool --max-bad-lines message"
    assert_eq 3 "$(grep -c ': warning: line ' "$WORK/$tool.max")" "$tool warnings before the limit"
    rc=0
    "$tool" --max-bad-lines 0 < "$WORK/bad.ndjson" > /dev/null 2>&1 || rc=$?
    assert_eq 65 "$rc" "$tool --max-bad-lines 0 exit"
done

# iots-act reads alerts and readings through the same driver: its own reasons for what is in a
# record, the same words for a line (too long, not JSON), the same --strict and --max-bad-lines.
cp "$IOTS_SRC/examples/act/home.rules" "$WORK/home.rules"
act() { iots-act --rules "$WORK/home.rules" --dry-run "$@" < "$WORK/bad.ndjson" > /dev/null; }
act --max-line-bytes 200 2> "$WORK/act.err" || fail "iots-act stopped at a bad line"
grep ': warning: ' "$WORK/act.err" | sed 's/^iots-act: //' > "$WORK/act.warnings" || true
printf '%s\n' 'warning: line 2: reading: missing or invalid "ts" or "value"' \
    'warning: line 3: longer than 200 bytes (--max-line-bytes)' 'warning: line 5: not a JSON object' |
    diff - "$WORK/act.warnings" >&2 || fail "iots-act's warnings"
rc=0
act --strict 2> "$WORK/act.strict" || rc=$?
assert_eq 65 "$rc" "iots-act --strict exit"
assert_eq 'iots-act: error: line 2: reading: missing or invalid "ts" or "value"' \
    "$(grep -v ': info: ' "$WORK/act.strict")" "iots-act --strict message"
rc=0
act --max-bad-lines 1 2> "$WORK/act.max" || rc=$?
assert_eq 65 "$rc" "iots-act --max-bad-lines exit"
assert_eq "iots-act: error: more than 1 bad records (--max-bad-lines)" \
    "$(grep -v ': info: ' "$WORK/act.max" | tail -n 1)" "iots-act --max-bad-lines message"

# MQTT: a payload is limited like a line and named by its topic.
start_broker
background iots-alert -h 127.0.0.1 -p "$BROKER_PORT" --topic-prefix home --max-line-bytes 200 \
    > "$WORK/mqtt.out" 2> "$WORK/mqtt.err"
ALERT=$LAST_PID
# Retained, so that iots-alert gets them whenever its subscription is made.
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t home/anomalies/d/long -m "$long"
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t home/anomalies/d/bad -m 'not json'
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t home/anomalies/d/gas -m "$good"
wait_until 10 grep -q '^{' "$WORK/mqtt.out" || fail "no alert from MQTT"
# (Counted again on each try: an argument of wait_until is evaluated once, before it starts.)
topic_warnings() { [ "$(grep -c ': warning: topic ' "$WORK/mqtt.err")" -ge 2 ]; }
wait_until 10 topic_warnings ||
    fail "MQTT rejects: $(cat "$WORK/mqtt.err")"
kill -TERM "$ALERT"
wait "$ALERT" || fail "iots-alert did not stop cleanly on SIGTERM"
grep ': warning: ' "$WORK/mqtt.err" | sort > "$WORK/mqtt.warnings"
printf '%s\n' 'iots-alert: warning: topic home/anomalies/d/bad: not a JSON object' \
    'iots-alert: warning: topic home/anomalies/d/long: longer than 200 bytes (--max-line-bytes)' \
    > "$WORK/mqtt.want"
diff "$WORK/mqtt.want" "$WORK/mqtt.warnings" >&2 || fail "MQTT warnings"

# iots-ha (MQTT only): the same limit and words for a payload, and --strict ends it with 65 at the
# first bad one.
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t home/sensors/d/gas -m "$long"
background iots-ha -h 127.0.0.1 -p "$BROKER_PORT" --topic-prefix home --max-line-bytes 200 \
    > /dev/null 2> "$WORK/ha.err"
HA=$LAST_PID
# (It reads the anomalies retained above too.)
ha_warnings() { [ "$(grep -c ': warning: topic ' "$WORK/ha.err")" -ge 3 ]; }
wait_until 10 ha_warnings || fail "iots-ha: $(cat "$WORK/ha.err")"
kill -TERM "$HA"
wait "$HA" || fail "iots-ha did not stop cleanly on SIGTERM"
grep ': warning: ' "$WORK/ha.err" | sort > "$WORK/ha.warnings"
printf '%s\n' 'iots-ha: warning: topic home/anomalies/d/bad: not a JSON object' \
    'iots-ha: warning: topic home/anomalies/d/long: longer than 200 bytes (--max-line-bytes)' \
    'iots-ha: warning: topic home/sensors/d/gas: longer than 200 bytes (--max-line-bytes)' |
    diff - "$WORK/ha.warnings" >&2 || fail "iots-ha's warnings"
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t home/sensors/d/gas -m 'not json'
rc=0
timeout 60 iots-ha -h 127.0.0.1 -p "$BROKER_PORT" --topic-prefix home --strict > /dev/null \
    2> "$WORK/ha.strict" || rc=$?
assert_eq 65 "$rc" "iots-ha --strict exit ($(cat "$WORK/ha.strict"))"
grep -qxE 'iots-ha: error: topic home/(sensors/d/gas|anomalies/d/(bad|long)): .*' "$WORK/ha.strict" ||
    fail "iots-ha --strict message: $(cat "$WORK/ha.strict")"
pass "iots-alert, iots-act and iots-ha reject as iots-ingest does, on stdin and MQTT"
