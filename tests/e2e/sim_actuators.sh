#!/usr/bin/env bash
# iots-sim --actuators answers commands on <prefix>/control/<device>/ack with the same id.
. "$(dirname "$0")/lib.sh"
start_broker

background iots-sim -h 127.0.0.1 -p "$BROKER_PORT" --realtime --interval 1s --actuators \
    --devices 2 2> "$WORK/sim.err" > /dev/null
sim=$LAST_PID
online() { mosquitto_sub -p "$BROKER_PORT" -t iotshield/status/esp32-kitchen -C 1 -W 2 \
    2>/dev/null | grep -qx online; }
wait_until 10 online || fail "the simulator did not come online"
sleep 0.5 # its subscription follows the connection

background mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/control/+/ack' -q 1 -C 3 -W 20 \
    > "$WORK/acks"
sub=$LAST_PID
sleep 0.5
pub() { mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/control/$1" -m "$2"; }
pub esp32-kitchen '{"kind":"command","id":"cmd-1","ts":"2025-10-06T00:00:00Z","device":"esp32-kitchen","actuator":"fan","action":"on"}'
pub esp32-kitchen '{"kind":"command","id":"cmd-2","device":"esp32-kitchen","actuator":"laser","action":"on"}'
pub esp32-livingroom '{"kind":"command","id":42,"device":"esp32-livingroom","actuator":"valve","action":"close"}'
pub esp32-nowhere '{"kind":"command","id":"cmd-x","device":"esp32-nowhere","actuator":"fan","action":"on"}'
wait "$sub" || fail "fewer than 3 acknowledgements"
python3 - "$WORK/acks" <<'PY' || fail "acknowledgements: $(cat "$WORK/acks")"
import json, sys
acks = {json.dumps(a["id"]): a for a in (json.loads(l) for l in open(sys.argv[1]))}
assert set(acks) == {'"cmd-1"', '"cmd-2"', "42"}, acks.keys()
assert acks['"cmd-1"']["status"] == "done" and acks['"cmd-1"']["device"] == "esp32-kitchen"
assert acks['"cmd-1"']["kind"] == "ack" and acks['"cmd-1"']["actuator"] == "fan"
assert acks['"cmd-2"']["status"] == "failed" and "unknown actuator" in acks['"cmd-2"']["reason"]
assert acks["42"]["status"] == "done" and acks["42"]["device"] == "esp32-livingroom"
PY
kill -TERM "$sim"
wait "$sim" || fail "iots-sim --actuators exited $? after SIGTERM"
grep -q "command \"cmd-2\" failed: unknown actuator" "$WORK/sim.err" ||
    fail "the failed command was not logged"
pass "commands answered done/failed with the same id"
