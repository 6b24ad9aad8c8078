#!/usr/bin/env bash
# A command nobody answers: iots-act sends it, sends it again after each confirm timeout, then gives
# up with an "unconfirmed" action record and a HIGH alert naming the actuator and its room, on
# stdout and on the alerts topic; the commands table holds every try.
. "$(dirname "$0")/lib.sh"
start_broker
DB="$WORK/home.db"

echo 'when gas-leak >= HIGH do esp32-ghost valve close confirm 1s retries 2' > "$WORK/home.rules"
background mosquitto_sub -p "$BROKER_PORT" -q 1 -t 'iotshield/alerts/#' -t 'iotshield/control/#' -v \
    > "$WORK/bus"
sleep 0.5
echo '{"kind":"alert","id":"g-1.1","ts":"2025-10-25T16:45:12.000Z","device":"esp32-ghost","sensor":"gas","severity":"CRITICAL","incident":"g-1","source":"rules","event":"open","location":"cellar","pattern":"gas-leak"}' |
    iots-act --rules "$WORK/home.rules" -h 127.0.0.1 -p "$BROKER_PORT" --db "$DB" \
        > "$WORK/out" 2> "$WORK/act.err" || fail "iots-act exited $?"

python3 - "$WORK/out" <<'PY' || fail "records: $(cat "$WORK/out")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
actions = [(r["status"], r["attempt"]) for r in recs if r["kind"] == "action"]
assert actions == [("sent", 1), ("sent", 2), ("sent", 3), ("unconfirmed", 3)], actions
ids = [r["command"] for r in recs if r["kind"] == "action"]
assert len(set(ids[:3])) == 3 and ids[3] == ids[2], ids  # each try a command of its own
alerts = [r for r in recs if r["kind"] == "alert"]
assert len(alerts) == 1, alerts
a = alerts[0]
assert a["severity"] == "HIGH" and a["source"] == "act" and a["device"] == "esp32-ghost", a
assert a["description"].startswith("The gas valve in the cellar did not confirm closing: no answer after 3 tries, 1s each"), a["description"]
assert a["incident"] == "g-1", a
PY
assert_eq 3 "$(db_count "$DB" commands "device = 'esp32-ghost' AND actuator = 'valve' AND action = 'close'")" \
    "commands stored"
assert_eq 0 "$(db_count "$DB" commands "status = 'done'")" "commands answered"
wait_until 5 grep -q "^iotshield/alerts/esp32-ghost .*did not confirm closing" "$WORK/bus" ||
    fail "the HIGH alert is not on the alerts topic: $(cat "$WORK/bus")"
assert_eq 3 "$(grep -c '^iotshield/control/esp32-ghost {' "$WORK/bus")" "commands published"
grep -q "sending again (try 3 of 3)" "$WORK/act.err" || fail "no retry logged: $(cat "$WORK/act.err")"
pass "3 tries, then an unconfirmed action and a HIGH alert"
