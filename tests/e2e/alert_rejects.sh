#!/usr/bin/env bash
# One reject policy for every tool that reads readings (input/): iots-alert rejects a bad line, an
# over-long line and a bad or over-long MQTT payload with the words, options and exit status of
# iots-ingest: the same warnings for the same input, --strict and --max-bad-lines ending with 65
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
wait_until 10 test "$(grep -c ': warning: topic ' "$WORK/mqtt.err")" -ge 2 ||
    fail "MQTT rejects: $(cat "$WORK/mqtt.err")"
kill -TERM "$ALERT"
wait "$ALERT" || fail "iots-alert did not stop cleanly on SIGTERM"
grep ': warning: ' "$WORK/mqtt.err" | sort > "$WORK/mqtt.warnings"
printf '%s\n' 'iots-alert: warning: topic home/anomalies/d/bad: not a JSON object' \
    'iots-alert: warning: topic home/anomalies/d/long: longer than 200 bytes (--max-line-bytes)' \
    > "$WORK/mqtt.want"
diff "$WORK/mqtt.want" "$WORK/mqtt.warnings" >&2 || fail "MQTT warnings"
pass "iots-alert rejects as iots-ingest does, on stdin and MQTT"
