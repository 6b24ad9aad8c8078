#!/usr/bin/env bash
# iots-sim with 1,000 nodes on one broker (issue 10): every node its own connection (past select()'s
# 1,024 descriptors), exactly --count readings, every node's retained status offline after a clean
# stop; the open-file limit raised, or reported when it cannot be; a command answered by the last
# node; SIGTERM while connecting to a broker that never answers, and SIGTERM with a frozen broker,
# both end the process (the bounds below are hang checks, not timings).
. "$(dirname "$0")/lib.sh"
start_broker

n=6000 # 1,000 nodes x 6 sensors: every node publishes
background mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/sensors/#' -q 1 -C $((n + 1)) -W 60 \
    > "$WORK/sub.out"
sub=$LAST_PID
sleep 0.5 # the subscription is in place before anything is published
set +e
timeout -k 5 90 iots-sim --devices 1000 --count "$n" -q 1 -h 127.0.0.1 -p "$BROKER_PORT" \
    2> "$WORK/sim.err"
rc=$?
set -e
assert_eq 0 "$rc" "exit status of iots-sim --devices 1000 --count $n"
# Every reading was acknowledged before the exit, so a marker published now reaches the subscriber
# after all of them: one line more or less than n before it is a lost or a duplicated reading.
mosquitto_pub -p "$BROKER_PORT" -q 1 -t iotshield/sensors/end/marker -m end
wait "$sub" || fail "mosquitto_sub did not receive $n readings and the marker"
assert_eq end "$(tail -n 1 "$WORK/sub.out")" "the line after the readings"
assert_eq $((n + 1)) "$(wc -l < "$WORK/sub.out")" "readings (and the marker) received"
assert_eq 1000 "$(head -n "$n" "$WORK/sub.out" | python3 -c '
import json, sys
print(len({json.loads(l)["device"] for l in sys.stdin}))')" "nodes that published"

mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/status/#' -v -C 1000 -W 10 > "$WORK/status" ||
    fail "fewer than 1000 retained statuses"
assert_eq 1000 "$(grep -c ' offline$' "$WORK/status")" "offline statuses after a clean stop"

# Three descriptors per node: a low soft limit is raised to the hard limit; a hard limit too low
# for the nodes is a clear error (exit 1) before any connection.
set +e
(ulimit -S -n 128 && iots-sim --devices 100 --count 600 -h 127.0.0.1 -p "$BROKER_PORT" \
    2> "$WORK/soft.err")
rc=$?
set -e
assert_eq 0 "$rc" "exit status of 100 nodes under a soft limit of 128 open files"
# 256, not lower: UBSan's runtime needs descriptors of its own to check the error it throws.
set +e
(ulimit -n 256 && iots-sim --devices 100 --count 600 -h 127.0.0.1 -p "$BROKER_PORT" \
    2> "$WORK/hard.err")
rc=$?
set -e
assert_eq 1 "$rc" "exit status of 100 nodes under a hard limit of 256 open files"
grep -q '^iots-sim: error: 100 MQTT clients need about 364 open files, but the limit is 256' \
    "$WORK/hard.err" || fail "no clear error under a hard limit: $(cat "$WORK/hard.err")"

# A broker that accepts TCP connections and never answers CONNECT: SIGTERM while connecting.
hole=$(free_port)
background python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4096)
held = []
while True:
    held.append(s.accept()[0])' "$hole"
wait_port "$hole"
background iots-sim --devices 1000 --realtime -h 127.0.0.1 -p "$hole" 2> "$WORK/hole.err"
pid=$LAST_PID
sleep 1
kill -TERM "$pid"
ended() { ! kill -0 "$pid" 2>/dev/null; }
wait_until 20 ended || fail "iots-sim still runs 20 s after SIGTERM while connecting"
set +e
wait "$pid"
rc=$?
set -e
assert_eq 0 "$rc" "exit status after SIGTERM while connecting"

# All 1,000 nodes online with actuators; the last node (its socket well past descriptor 1,024)
# answers a command. Then the broker freezes (no acknowledgement, no DISCONNECT answered):
# SIGTERM still ends the process, with 69 since the "offline" statuses were never acknowledged.
background iots-sim --devices 1000 --realtime --actuators --topic-prefix frozen -h 127.0.0.1 \
    -p "$BROKER_PORT" 2> "$WORK/frozen.err" > /dev/null
pid=$LAST_PID
all_online() {
    [ "$(mosquitto_sub -p "$BROKER_PORT" -t 'frozen/status/#' -v -C 1000 -W 2 2>/dev/null |
        grep -c ' online$')" = 1000 ]
}
wait_until 60 all_online || fail "the 1000 nodes did not all come online"
last=$(iots-sim --devices 1000 --count 6000 | tail -n 1 | python3 -c '
import json, sys
print(json.loads(sys.stdin.read())["device"])')
background mosquitto_sub -p "$BROKER_PORT" -t "frozen/control/$last/ack" -q 1 -C 1 -W 20 \
    > "$WORK/ack"
sub=$LAST_PID
sleep 0.5
mosquitto_pub -p "$BROKER_PORT" -q 1 -t "frozen/control/$last" \
    -m '{"kind":"command","id":"late-1","actuator":"fan","action":"on"}'
wait "$sub" || fail "no acknowledgement from $last"
grep -q '"id":"late-1".*"status":"done"' "$WORK/ack" || fail "acknowledgement: $(cat "$WORK/ack")"
kill -STOP "$BROKER_PID"
kill -TERM "$pid"
wait_until 20 ended || { kill -CONT "$BROKER_PID"; fail "iots-sim still runs 20 s after SIGTERM"; }
kill -CONT "$BROKER_PID"
set +e
wait "$pid"
rc=$?
set -e
assert_eq 69 "$rc" "exit status after SIGTERM with a frozen broker"
pass "1000 nodes: exact count, offline statuses, file limit, a command, SIGTERM while connecting and frozen"
