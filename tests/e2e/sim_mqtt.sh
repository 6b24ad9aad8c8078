#!/usr/bin/env bash
# iots-sim over a real broker: every reading on its per-sensor topic, byte for byte what the pipe
# form writes; a retained "online" per node while it runs, "offline" after a clean stop, and the
# "offline" last will when the process dies.
. "$(dirname "$0")/lib.sh"
start_broker

iots-sim --count 90 --seed 5 > "$WORK/pipe.ndjson"
background mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/sensors/#' -q 1 -C 90 -W 30 -v \
    > "$WORK/sub.out"
sub=$LAST_PID
sleep 0.5 # the subscription is in place before anything is published
iots-sim -h 127.0.0.1 -p "$BROKER_PORT" -q 1 --count 90 --seed 5 2> "$WORK/sim.err" ||
    fail "iots-sim -h exited $?"
wait "$sub" || fail "mosquitto_sub did not receive 90 readings"
python3 - "$WORK/sub.out" "$WORK/pipe.ndjson" <<'PY' || fail "MQTT readings differ from the pipe's"
import json, sys
received = {}
for line in open(sys.argv[1]):
    topic, payload = line.rstrip("\n").split(" ", 1)
    r = json.loads(payload)
    assert topic == "iotshield/sensors/%s/%s" % (r["device"], r["sensor"]), topic
    received[(r["device"], r["seq"])] = payload
expected = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    expected[(r["device"], r["seq"])] = line.rstrip("\n")
assert received == expected, "payloads differ"
PY

# After a clean stop every node's retained status is offline.
mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/status/#' -v -C 3 -W 5 > "$WORK/status" ||
    fail "no retained status"
assert_eq 3 "$(grep -c ' offline$' "$WORK/status")" "offline statuses after a clean stop"

# While running: retained online; killed without a DISCONNECT: the broker sends the will.
background iots-sim -h 127.0.0.1 -p "$BROKER_PORT" --realtime --interval 1s \
    --device-names dying-node --topic-prefix test 2> "$WORK/rt.err"
pid=$LAST_PID
online() { mosquitto_sub -p "$BROKER_PORT" -t test/status/dying-node -C 1 -W 2 2>/dev/null |
    grep -qx online; }
wait_until 10 online || fail "no retained online status"
kill -KILL "$pid"
offline() { mosquitto_sub -p "$BROKER_PORT" -t test/status/dying-node -C 1 -W 2 2>/dev/null |
    grep -qx offline; }
wait_until 10 offline || fail "the last will (offline) was not published"

# No broker listening: exit 69 after the retries, with one error line.
stop_broker
set +e
iots-sim -h 127.0.0.1 -p "$(free_port)" --count 1 2> "$WORK/nobroker.err"
rc=$?
set -e
assert_eq 69 "$rc" "exit status without a broker"
grep -q '^iots-sim: error: ' "$WORK/nobroker.err" || fail "no error line without a broker"
pass "per-sensor topics equal to the pipe, retained status, last will, no broker"
