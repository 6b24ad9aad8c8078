#!/usr/bin/env bash
# iots-ha against a real broker: iots-sim's nodes, iots-alert's alerts and an anomaly become Home
# Assistant discovery configs (retained) that follow the rules of iots-ha(1): valid JSON, a
# unique_id, a device block, availability on the node's status topic, the classes and units of
# each kind, no "gas" device class on the ppm sensor; every state and availability topic a config
# names is published; "online" on homeassistant/status announces every config again.
. "$(dirname "$0")/lib.sh"

start_broker
P=(-h 127.0.0.1 -p "$BROKER_PORT")
LOG="$WORK/sub.log"
# Everything on the broker, as it goes by; a retained probe tells when it is subscribed.
mosquitto_pub -p "$BROKER_PORT" -t iotshield/probe -r -m probe
background mosquitto_sub -p "$BROKER_PORT" -t 'homeassistant/#' -t 'iotshield/#' -v > "$LOG"
wait_until 10 grep -q '^iotshield/probe probe' "$LOG" || fail "mosquitto_sub did not subscribe"

background iots-ha "${P[@]}" --clear-after 2s -v 2> "$WORK/ha.err"
HA=$LAST_PID
# Online once subscribed: from here on nothing it should see is missed.
wait_until 10 grep -q '^iotshield/ha/status online' "$LOG" || fail "iots-ha is not online"
background iots-alert "${P[@]}" --quiet-period 2s > "$WORK/alert.out" 2> "$WORK/alert.err"
ALERT=$LAST_PID

# Two nodes, six sensors each, ten rounds of readings.
iots-sim "${P[@]}" --devices 2 --count 120 --seed 3 2> "$WORK/sim.err" || fail "iots-sim exited $?"
DEV=$(grep -m1 -o '^iotshield/sensors/[^/]*/gas' "$LOG" | cut -d/ -f3)
[ -n "$DEV" ] || fail "no gas reading from iots-sim"
# A leak on that node (at the shared danger level), and an anomaly that iots-alert turns into an
# alert; a payload that is not a reading is rejected and counted, and iots-ha goes on.
mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/sensors/$DEV/gas" \
    -m "{\"ts\":\"$(date -u +%FT%TZ)\",\"device\":\"$DEV\",\"sensor\":\"gas\",\"value\":1500,\"unit\":\"ppm\"}"
mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/sensors/$DEV/gas" -m 'not a reading'
# Retained, so that iots-alert has it whenever its subscription is made.
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t "iotshield/anomalies/$DEV/gas" \
    -m "{\"ts\":\"$(date -u +%FT%TZ)\",\"device\":\"$DEV\",\"sensor\":\"gas\",\"value\":1500,\"score\":0.99,\"anomaly\":true,\"reasons\":[\"threshold:gas\"]}"

wait_until 10 grep -q "^iotshield/ha/$DEV/gas_leak ON" "$LOG" || fail "no leak ON"
wait_until 10 grep -q "^iotshield/ha/$DEV/anomaly ON" "$LOG" || fail "no anomaly ON"
wait_until 10 grep -q "^iotshield/ha/$DEV/severity CRITICAL" "$LOG" || fail "no CRITICAL severity"
# The anomaly clears after --clear-after, the incident resolves after --quiet-period.
# A line of the log that comes after another: after FIRST LATER.
after() { sed -n "\#^$1\$#,\$p" "$LOG" | grep -qx -- "$2"; }
wait_until 15 after "iotshield/ha/$DEV/anomaly ON" "iotshield/ha/$DEV/anomaly OFF" ||
    fail "the anomaly did not clear"
wait_until 15 after "iotshield/ha/$DEV/severity CRITICAL" "iotshield/ha/$DEV/severity none" ||
    fail "the resolve did not set severity none"
grep -q "warning: topic iotshield/sensors/$DEV/gas: " "$WORK/ha.err" || fail "no warning for the bad payload"

# What is retained under homeassistant/ now is what Home Assistant reads when it starts.
mosquitto_sub -p "$BROKER_PORT" -t 'homeassistant/#' --retained-only -v -W 3 > "$WORK/retained.log" || true
python3 - "$WORK/retained.log" "$LOG" "$DEV" <<'PY' || fail "the configs break a rule (above)"
import json, sys
retained, log, dev = sys.argv[1], sys.argv[2], sys.argv[3]
published = set()
for line in open(log, encoding="utf-8"):
    topic = line.split(" ", 1)[0]
    published.add(topic)
configs = {}
for line in open(retained, encoding="utf-8"):
    topic, payload = line.rstrip("\n").split(" ", 1)
    configs[topic] = payload
errors = []
def err(t, m): errors.append(f"{t}: {m}")
ids = {}
kinds = {}
for t, p in configs.items():
    parts = t.split("/")
    if len(parts) != 5 or parts[0] != "homeassistant" or parts[4] != "config":
        err(t, "not homeassistant/<component>/<node>/<object>/config"); continue
    comp, node, obj = parts[1:4]
    try:
        c = json.loads(p)
    except ValueError as e:
        err(t, f"not JSON: {e}"); continue
    uid = c.get("unique_id")
    if not uid: err(t, "no unique_id")
    elif uid in ids: err(t, f"unique_id {uid} also on {ids[uid]}")
    else: ids[uid] = t
    d = c.get("device", {})
    if not d.get("identifiers") or not d.get("name"): err(t, "no device block")
    for key in ("state_topic",):
        if c.get(key) not in published: err(t, f"{key} {c.get(key)} never published")
    av = [a["topic"] for a in c.get("availability", [])]
    if obj != "status":
        if f"iotshield/status/{d.get('name')}" not in av: err(t, f"availability {av}")
    for a in av:
        if a not in published: err(t, f"availability {a} never published")
    kinds[(node, obj)] = (comp, c)
def expect(node, obj, comp, cls, unit=None, state_class=None):
    if (node, obj) not in kinds: err(f"{node}/{obj}", "no config"); return
    c_comp, c = kinds[(node, obj)]
    if c_comp != comp: err(f"{node}/{obj}", f"component {c_comp}, not {comp}")
    if c.get("device_class") != cls: err(f"{node}/{obj}", f"device_class {c.get('device_class')}, not {cls}")
    if unit is not None and c.get("unit_of_measurement") != unit: err(f"{node}/{obj}", f"unit {c.get('unit_of_measurement')}")
    if state_class is not None and c.get("state_class") != state_class: err(f"{node}/{obj}", f"state_class {c.get('state_class')}")
nodes = {n for n, _ in kinds}
if len(nodes) != 2: err("nodes", f"{sorted(nodes)}, not 2")
for n in nodes:
    expect(n, "temperature", "sensor", "temperature", "°C", "measurement")
    expect(n, "humidity", "sensor", "humidity", "%", "measurement")
    expect(n, "light", "sensor", "illuminance", "lx", "measurement")
    expect(n, "gas", "sensor", None, "ppm", "measurement")
    expect(n, "gas_leak", "binary_sensor", "gas")
    expect(n, "flame", "binary_sensor", "safety")
    expect(n, "motion", "binary_sensor", "motion")
    expect(n, "anomaly", "binary_sensor", "problem")
    expect(n, "severity", "sensor", "enum")
    expect(n, "status", "binary_sensor", "connectivity")
    if (n, "severity") in kinds:
        opts = kinds[(n, "severity")][1].get("options")
        if opts != ["none", "LOW", "MEDIUM", "HIGH", "CRITICAL"]: err(n, f"severity options {opts}")
if len(configs) != 20: err("configs", f"{len(configs)}, not 20")
for e in errors: print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# examples/homeassistant/show-discovery.sh lists the same, one entity a line.
sh "$IOTS_SRC/examples/homeassistant/show-discovery.sh" -h 127.0.0.1 -p "$BROKER_PORT" > "$WORK/show.txt" ||
    fail "show-discovery.sh exited $?"
assert_eq 20 "$(wc -l < "$WORK/show.txt")" "entities listed by show-discovery.sh"
grep -qP "^sensor\t$DEV/gas\t-\tppm\tiotshield/sensors/$DEV/gas\$" "$WORK/show.txt" ||
    fail "show-discovery.sh: $(cat "$WORK/show.txt")"
grep -qP "^binary_sensor\t$DEV/gas_leak\tgas\t-\tiotshield/ha/$DEV/gas_leak\$" "$WORK/show.txt" ||
    fail "show-discovery.sh: $(cat "$WORK/show.txt")"

# Home Assistant restarts: every config is announced again.
before=$(grep -c '^homeassistant/.*/config ' "$LOG")
mosquitto_pub -p "$BROKER_PORT" -t homeassistant/status -m online
configs_seen() { [ "$(grep -c '^homeassistant/.*/config ' "$LOG")" -ge "$1" ]; }
wait_until 10 configs_seen $((before + 20)) ||
    fail "not announced again: $before, then $(grep -c '^homeassistant/.*/config ' "$LOG") config messages"
# "offline" (Home Assistant's will) is not a reason to announce.
now=$(grep -c '^homeassistant/.*/config ' "$LOG")
mosquitto_pub -p "$BROKER_PORT" -t homeassistant/status -m offline
mosquitto_pub -p "$BROKER_PORT" -t iotshield/probe2 -m probe2
wait_until 10 grep -q '^iotshield/probe2 probe2' "$LOG" || fail "probe2 not seen"
sleep 0.5
assert_eq "$now" "$(grep -c '^homeassistant/.*/config ' "$LOG")" "config messages after offline"

kill -TERM "$HA"
wait "$HA" || fail "iots-ha did not stop cleanly on SIGTERM"
wait_until 10 grep -q '^iotshield/ha/status offline' "$LOG" || fail "iots-ha did not say offline"
grep -q 'iots-ha: info: 2 devices, [0-9]* configs published, [0-9]* states published, 1 rejected' \
    "$WORK/ha.err" || fail "summary: $(tail -n 2 "$WORK/ha.err")"
kill -TERM "$ALERT"; wait "$ALERT" || true

# A restart keeps the derived states an earlier run left: a retained severity HIGH is not
# overwritten with "none" when the device is seen again; the next alert moves it on.
mosquitto_pub -p "$BROKER_PORT" -q 1 -r -t "iotshield/ha/$DEV/severity" -m HIGH
before=$(grep -c '^homeassistant/.*/config ' "$LOG")
background iots-ha "${P[@]}" --clear-after 2s 2> "$WORK/ha2.err"
HA=$LAST_PID
# (The nodes are gone: their retained status names them, their sensors wait for a reading.)
wait_until 10 configs_seen $((before + 6)) || fail "the restarted iots-ha did not announce"
mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/alerts/$DEV" -m '{"kind":"alert","severity":"MEDIUM","event":"open"}'
wait_until 10 after "iotshield/ha/$DEV/severity HIGH" "iotshield/ha/$DEV/severity MEDIUM" ||
    fail "no severity MEDIUM after the restart"
sed -n "\#^iotshield/ha/$DEV/severity HIGH\$#,\#^iotshield/ha/$DEV/severity MEDIUM\$#p" "$LOG" > "$WORK/restart.log"
! grep -q "^iotshield/ha/$DEV/severity none" "$WORK/restart.log" ||
    fail "a restart overwrote the retained states: $(grep "^iotshield/ha/$DEV/" "$WORK/restart.log")"
kill -TERM "$HA"; wait "$HA" || fail "the restarted iots-ha exited $?"

# Without a broker it is a usage error.
set +e
iots-ha 2> "$WORK/nohost.err"; rc=$?
set -e
assert_eq 2 "$rc" "exit status without -h"
pass "20 configs for 2 nodes by the rules, states published, announced again on online"
