#!/usr/bin/env bash
# iots-alert on crafted streams: grouping across devices and sensors, one alert per incident
# unless severity rises, resolution by record time, bad input, -C, EPIPE, /dev/full, --exec and
# MQTT in and out with wall-clock resolution.
. "$(dirname "$0")/lib.sh"

# A stream of three devices over an hour, built so the expected alerts can be counted by hand:
#  kitchen: 20 MEDIUM gas anomalies 10 s apart (one incident, 1 alert), resolved 5 min later (1)
#  hall:    motion (MEDIUM, 1), resolved (1); 10 minutes later again: a new incident (1 + 1)
#  attic:   humidity LOW, then flame at +30 s: raise to CRITICAL (1 + 1), resolve (1)
#  = 2 + 4 + 3 = 9 alerts
#  normal readings of a fourth device every 30 s carry stream time forward.
python3 - "$WORK/stream.ndjson" <<'PY'
import json, sys
t0 = 1761400000000
rows = []
def add(t, dev, sensor, value, anomaly, score, reasons, loc):
    rows.append((t, {"ts": t, "device": dev, "sensor": sensor, "value": value, "location": loc,
                     "score": score, "anomaly": anomaly, "reasons": reasons}))
for i in range(20):
    add(t0 + i * 10_000, "kitchen-1", "gas", 420 + i, True, 0.8, ["zscore"], "kitchen")
add(t0 + 60_000, "hall-1", "motion", 1, True, 0.7, ["iforest"], "hall")
add(t0 + 660_000, "hall-1", "motion", 1, True, 0.7, ["iforest"], "hall")
add(t0 + 1_200_000, "attic-1", "humidity", 88, True, 0.6, ["zscore"], "attic")
add(t0 + 1_230_000, "attic-1", "flame", 1, True, 0.99, ["threshold:flame"], "attic")
for i in range(0, 3_600_000, 30_000):
    add(t0 + i, "cellar-1", "temperature", 12.5, False, 0.1, [], "cellar")
rows.sort(key=lambda r: r[0])
with open(sys.argv[1], "w") as f:
    for _, r in rows:
        f.write(json.dumps(r) + "\n")
PY

iots-alert --replay --db "$WORK/a.db" < "$WORK/stream.ndjson" > "$WORK/out" 2> "$WORK/err" ||
    fail "exit $?"
assert_eq 9 "$(wc -l < "$WORK/out")" "alerts"
assert_eq "open resolve" "$(jq -r 'select(.device=="kitchen-1") | .event' "$WORK/out" | xargs)" "kitchen"
assert_eq "open resolve open resolve" \
    "$(jq -r 'select(.device=="hall-1") | .event' "$WORK/out" | xargs)" "hall"
assert_eq "open:LOW raise:CRITICAL resolve:LOW" \
    "$(jq -r 'select(.device=="attic-1") | "\(.event):\(.severity)"' "$WORK/out" | xargs)" "attic"
assert_eq 0 "$(jq -r 'select(.device=="cellar-1")' "$WORK/out" | wc -l)" "normal device"
# The kitchen incident resolves 5 minutes (the default quiet period) after its last anomaly.
assert_eq "2025-10-25T13:54:50.000Z" \
    "$(jq -r 'select(.device=="kitchen-1" and .event=="resolve") | .ts' "$WORK/out")" "resolve ts"
assert_eq 9 "$(db_count "$WORK/a.db" alerts)" "rows"
grep -q "readings 144, anomalies 24, incidents 4 (0 open), alerts 9, bad lines 0" "$WORK/err" ||
    fail "counters: $(cat "$WORK/err")"
# Replaying gives the same alerts, byte for byte, and the same rows (no duplicates).
iots-alert --replay --db "$WORK/a.db" < "$WORK/stream.ndjson" > "$WORK/out2" 2>/dev/null
cmp -s "$WORK/out" "$WORK/out2" || fail "a replay gave different alerts"
assert_eq 9 "$(db_count "$WORK/a.db" alerts)" "rows after a replay"

# Options change the grouping: a 1-minute quiet period splits the hall (already split) and the
# window, and --gas-danger 400 makes the kitchen gas CRITICAL.
iots-alert --replay --gas-danger 400 < "$WORK/stream.ndjson" > "$WORK/out3" 2>/dev/null
assert_eq CRITICAL "$(jq -r 'select(.device=="kitchen-1" and .event=="open") | .severity' "$WORK/out3")" \
    "--gas-danger"

# Bad input: a one-line reason with the line number, counted, the stream goes on; --strict: 65.
printf '%s\n' '{"ts":"2025-10-25T16:45:00Z","device":"d","sensor":"gas","value":"x"}' \
    '{"ts":"2025-10-25T16:45:01Z","device":"d","sensor":"gas","value":500,"anomaly":true,"score":0.9,"reasons":["zscore"]}' \
    > "$WORK/bad.ndjson"
iots-alert < "$WORK/bad.ndjson" > "$WORK/bad.out" 2> "$WORK/bad.err" || fail "bad line stopped it"
grep -qE '^iots-alert: warning: line 1: value' "$WORK/bad.err" || fail "warning: $(cat "$WORK/bad.err")"
assert_eq 1 "$(wc -l < "$WORK/bad.out")" "alert after a bad line"
set +e
iots-alert --strict < "$WORK/bad.ndjson" > /dev/null 2>&1; rc=$?
iots-alert --window nonsense < /dev/null > /dev/null 2>&1; rc_usage=$?
iots-alert --db /nonexistent-dir/x.db < /dev/null > /dev/null 2>&1; rc_db=$?
iots-alert --replay < "$WORK/stream.ndjson" > /dev/full 2>/dev/null; rc_full=$?
iots-alert --replay < "$WORK/stream.ndjson" 2>/dev/null | head -n 1 > "$WORK/head"
rc_pipe=${PIPESTATUS[0]}
iots-alert --replay -C 3 < "$WORK/stream.ndjson" > "$WORK/count" 2>/dev/null; rc_count=$?
set -e
assert_eq 65 "$rc" "--strict exit"
assert_eq 2 "$rc_usage" "bad duration exit"
[ "$rc_db" -ne 0 ] || fail "an unwritable database must fail"
assert_eq 74 "$rc_full" "/dev/full exit"
assert_eq 0 "$rc_pipe" "EPIPE exit"
assert_eq 1 "$(wc -l < "$WORK/head")" "head -n 1"
assert_eq 0 "$rc_count" "-C exit"
assert_eq 3 "$(wc -l < "$WORK/count")" "-C 3 alerts"

# --exec: the alert on the command's stdin, env with id and severity; a hanging command is killed
# after --exec-timeout and never holds the stream back (all 9 alerts still come out).
iots-alert --replay --exec "cat >> '$WORK/exec.log'; echo \"\$IOTS_ALERT_ID \$IOTS_ALERT_SEVERITY\" >> '$WORK/exec.env'" \
    < "$WORK/stream.ndjson" > "$WORK/exec.out" 2> "$WORK/exec.err" || fail "--exec run"
assert_eq 9 "$(wc -l < "$WORK/exec.log")" "alerts passed to --exec"
jq -e -s 'length == 9 and all(.kind == "alert")' "$WORK/exec.log" > /dev/null || fail "exec stdin"
assert_eq "$(jq -r '"\(.id) \(.severity)"' "$WORK/out" | sort)" "$(sort "$WORK/exec.env")" "exec env"
grep -q "exec: ok 9, failed 0, timed out 0, skipped 0" "$WORK/exec.err" || fail "$(cat "$WORK/exec.err")"
iots-alert --replay --exec "sleep 30" --exec-timeout 1s \
    < "$WORK/stream.ndjson" > "$WORK/hang.out" 2> "$WORK/hang.err" || fail "--exec hang run"
assert_eq 9 "$(wc -l < "$WORK/hang.out")" "alerts with a hanging --exec"
grep -q "exec: ok 0, failed 0, timed out 9, skipped 0" "$WORK/hang.err" ||
    fail "hang counters: $(tail -n 1 "$WORK/hang.err")"

# MQTT: anomalies in from <prefix>/anomalies/#, alerts out on <prefix>/alerts/<device>; the feed
# goes silent and the wall clock resolves the incident after --quiet-period.
start_broker
# A retained probe tells when the subscriber is ready (it prints and flushes each message).
mosquitto_pub -p "$BROKER_PORT" -t home/alerts/probe -r -m probe
background mosquitto_sub -p "$BROKER_PORT" -t 'home/alerts/#' -v -C 3 -W 30 > "$WORK/sub.log"
SUB=$LAST_PID
wait_until 10 grep -q probe "$WORK/sub.log" || fail "mosquitto_sub did not subscribe"
# Retained: iots-alert gets it whenever its subscription is made.
mosquitto_pub -p "$BROKER_PORT" -t home/anomalies/garage-1/flame -q 1 -r \
    -m '{"ts":"2025-10-25T16:45:00Z","device":"garage-1","sensor":"flame","value":1,"location":"garage","score":0.99,"anomaly":true,"reasons":["threshold:flame"]}'
background iots-alert -h 127.0.0.1 -p "$BROKER_PORT" --topic-prefix home --quiet-period 1s \
    --db "$WORK/m.db" > "$WORK/mqtt.out" 2> "$WORK/mqtt.err"
ALERT=$LAST_PID
wait "$SUB" || fail "no alerts on MQTT"
assert_eq 2 "$(grep -c '^home/alerts/garage-1 {' "$WORK/sub.log")" "alerts on home/alerts/garage-1"
kill -TERM "$ALERT"
wait "$ALERT" || fail "iots-alert did not stop cleanly on SIGTERM"
assert_eq "open resolve" "$(jq -r .event "$WORK/mqtt.out" | xargs)" "MQTT alerts on stdout"
assert_eq 2 "$(db_count "$WORK/m.db" alerts)" "MQTT alert rows"
pass "grouping, resolution, bad input, exit codes, --exec and MQTT"
