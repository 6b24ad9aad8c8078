#!/usr/bin/env bash
# iots-detect on the broker prints its counters on SIGUSR1, as on stdin, and keeps going.
. "$(dirname "$0")/lib.sh"
start_broker "log_type subscribe"

background iots-detect -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i sig-detect --topic-prefix t \
    > "$WORK/detect.out" 2> "$WORK/detect.err"
detect=$LAST_PID
subscribed() { grep -q "sig-detect 1 t/sensors/#" "$WORK/mosquitto.log"; }
wait_until 20 subscribed || fail "iots-detect did not subscribe"

for i in 1 2 3; do
    echo "{\"ts\":\"2025-10-06T00:00:0$i.000Z\",\"device\":\"n1\",\"sensor\":\"gas\",\"value\":40$i,\"seq\":$i}"
done | mosquitto_pub -p "$BROKER_PORT" -q 1 -t t/sensors/n1/gas -l
out_lines() { [ "$(wc -l < "$WORK/detect.out")" -eq "$1" ]; }
wait_until 20 out_lines 3 || fail "3 readings not scored: $(wc -l < "$WORK/detect.out")"

kill -USR1 "$detect"
counters() { grep -q "info: read 3, anomalies 0, rejected 0" "$WORK/detect.err"; }
wait_until 10 counters || fail "no counters after SIGUSR1: $(cat "$WORK/detect.err")"
kill -0 "$detect" || fail "iots-detect ended on SIGUSR1"

kill -TERM "$detect"
rc=0
wait "$detect" || rc=$?
assert_eq 0 "$rc" "exit status after SIGTERM"
pass "SIGUSR1 prints the counters on the broker"
