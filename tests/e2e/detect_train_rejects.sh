#!/usr/bin/env bash
# One reject policy for every tool that reads readings (input/): iots-detect and iots-train reject
# a bad line, an over-long line and (iots-detect) a bad or over-long MQTT payload with the words,
# options and exit status of iots-ingest: the same warnings for the same input, blank lines
# skipped, --strict and --max-bad-lines ending with 65 and the same error, --max-line-bytes on
# lines and payloads alike.
. "$(dirname "$0")/lib.sh"

good='{"ts":"2025-10-25T16:45:00Z","device":"d","sensor":"gas","value":500}'
long="{\"ts\":\"2025-10-25T16:45:01Z\",\"device\":\"d\",\"sensor\":\"gas\",\"value\":1,\"note\":\"$(printf 'x%.0s' {1..200})\"}"
printf '%s\n' "$good" \
    '{"ts":"2025-10-25T16:45:02Z","device":"d","sensor":"gas","value":"x"}' \
    "$long" \
    '' \
    'not json' \
    '{"ts":"2025-10-25T16:45:03Z","device":"d","sensor":"gas","label":"vol\"cano","value":2}' \
    > "$WORK/bad.ndjson"

# The same warnings, word for word, from the three tools.
iots-detect --max-line-bytes 200 < "$WORK/bad.ndjson" > /dev/null 2> "$WORK/iots-detect.err" ||
    fail "iots-detect stopped at a bad line"
rc=0
iots-train --max-line-bytes 200 --model "$WORK/m.model" < "$WORK/bad.ndjson" \
    2> "$WORK/iots-train.err" || rc=$?
assert_eq 65 "$rc" "iots-train with one reading (too few to train)"
iots-ingest --max-line-bytes 200 < "$WORK/bad.ndjson" > /dev/null 2> "$WORK/iots-ingest.err" ||
    fail "iots-ingest stopped at a bad line"
cat > "$WORK/want" <<'EOF'
warning: line 2: value: expected a number, got a string
warning: line 3: longer than 200 bytes (--max-line-bytes)
warning: line 5: not a JSON object
warning: line 6: label: unknown incident kind "vol\"cano"
EOF
for tool in iots-detect iots-train iots-ingest; do
    grep ': warning: line ' "$WORK/$tool.err" | sed "s/^$tool: //" > "$WORK/$tool.warnings" || true
    diff "$WORK/want" "$WORK/$tool.warnings" >&2 || fail "$tool's warnings"
done
# The blank line is no record: not read, not rejected (iots-train: test_train_history).
grep -q ': info: read 5, scored 1, anomalies 0, rejected 4, ' "$WORK/iots-detect.err" ||
    fail "iots-detect's counts: $(tail -n 1 "$WORK/iots-detect.err")"

# Runs tool (iots-train writing model $1) with the options after it on bad.ndjson; sets rc.
reads() { # model tool options...
    local model=$1 tool=$2
    shift 2
    [ "$tool" = iots-train ] && set -- --model "$model" "$@"
    rc=0
    "$tool" "$@" < "$WORK/bad.ndjson" > /dev/null 2> "$WORK/$tool.out" || rc=$?
}

# --strict: exit 65, the first rejected record is the error (said once); iots-train writes no model.
for tool in iots-detect iots-train iots-ingest; do
    reads "$WORK/strict.model" "$tool" --strict
    assert_eq 65 "$rc" "$tool --strict exit"
    assert_eq "$tool: error: line 2: value: expected a number, got a string" \
        "$(grep -v ': info: ' "$WORK/$tool.out")" "$tool --strict message"
done
[ ! -e "$WORK/strict.model" ] || fail "iots-train --strict wrote a model"

# --max-bad-lines N: exit 65 at the one too many, after its warning; 0 tolerates none.
for tool in iots-detect iots-train iots-ingest; do
    reads "$WORK/max.model" "$tool" --max-bad-lines 2
    assert_eq 65 "$rc" "$tool --max-bad-lines exit"
    assert_eq "$tool: error: more than 2 bad records (--max-bad-lines)" \
        "$(grep -v ': info: ' "$WORK/$tool.out" | tail -n 1)" "$tool --max-bad-lines message"
    assert_eq 3 "$(grep -c ': warning: line ' "$WORK/$tool.out")" "$tool warnings before the limit"
    reads "$WORK/max.model" "$tool" --max-bad-lines 0
    assert_eq 65 "$rc" "$tool --max-bad-lines 0 exit"
    assert_eq "$tool: error: more than 0 bad records (--max-bad-lines)" \
        "$(grep -v ': info: ' "$WORK/$tool.out" | tail -n 1)" "$tool --max-bad-lines 0 message"
done
[ ! -e "$WORK/max.model" ] || fail "iots-train past --max-bad-lines wrote a model"

# MQTT: a payload is limited like a line and named by its topic; --strict ends iots-detect with 65
# and the record as the error (the network thread's error handed to the main thread), after the
# score of the reading before it is committed.
start_broker "log_type subscribe"
subscribed() { grep -q "$1 1 $2/sensors/#" "$WORK/mosquitto.log"; }
background iots-detect -h 127.0.0.1 -p "$BROKER_PORT" -i rejects-detect --topic-prefix home \
    --max-line-bytes 200 > "$WORK/mqtt.out" 2> "$WORK/mqtt.err"
DETECT=$LAST_PID
wait_until 20 subscribed rejects-detect home || fail "iots-detect did not subscribe"
mosquitto_pub -p "$BROKER_PORT" -q 1 -t home/sensors/d/long -m "$long"
mosquitto_pub -p "$BROKER_PORT" -q 1 -t home/sensors/d/bad -m 'not json'
mosquitto_pub -p "$BROKER_PORT" -q 1 -t home/sensors/d/gas -m "$good"
wait_until 10 grep -q '^{' "$WORK/mqtt.out" || fail "no score from MQTT"
kill -TERM "$DETECT"
wait "$DETECT" || fail "iots-detect did not stop cleanly on SIGTERM"
grep ': warning: ' "$WORK/mqtt.err" > "$WORK/mqtt.warnings" || true
printf '%s\n' 'iots-detect: warning: topic home/sensors/d/long: longer than 200 bytes (--max-line-bytes)' \
    'iots-detect: warning: topic home/sensors/d/bad: not a JSON object' > "$WORK/mqtt.want"
diff "$WORK/mqtt.want" "$WORK/mqtt.warnings" >&2 || fail "MQTT warnings"
grep -q ': info: read 3, scored 1, anomalies 0, rejected 2, ' "$WORK/mqtt.err" ||
    fail "MQTT counts: $(tail -n 1 "$WORK/mqtt.err")"

printf '%s\n' "$good" | iots-ingest --db "$WORK/strict.db" --quiet 2> /dev/null ||
    fail "iots-ingest --db"
background iots-detect -h 127.0.0.1 -p "$BROKER_PORT" -i strict-detect --topic-prefix strict \
    --strict --db "$WORK/strict.db" > "$WORK/strict.out" 2> "$WORK/strict.err"
DETECT=$LAST_PID
wait_until 20 subscribed strict-detect strict || fail "iots-detect --strict did not subscribe"
mosquitto_pub -p "$BROKER_PORT" -q 1 -t strict/sensors/d/gas -m "$good"
mosquitto_pub -p "$BROKER_PORT" -q 1 -t strict/sensors/d/bad -m 'not json'
wait_until 20 grep -q ': error: ' "$WORK/strict.err" || fail "iots-detect --strict went on"
rc=0
wait "$DETECT" || rc=$?
assert_eq 65 "$rc" "iots-detect --strict on MQTT exit"
assert_eq "iots-detect: error: topic strict/sensors/d/bad: not a JSON object" \
    "$(grep -v ': info: ' "$WORK/strict.err")" "iots-detect --strict on MQTT message"
assert_eq 1 "$(grep -c '^{' "$WORK/strict.out")" "the reading before the bad one written"
assert_eq 1 "$(db_count "$WORK/strict.db" readings 'score IS NOT NULL')" \
    "the score of the reading before the bad one committed"
pass "iots-detect and iots-train reject as iots-ingest does, on stdin and MQTT"
