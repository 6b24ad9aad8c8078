#!/usr/bin/env bash
# iots-act refuses a rules file that breaks a safety interlock or has conflicting rules, naming the
# line, with exit 78 and before anything runs; a missing file is 66; no broker without --dry-run
# is a usage error; a dry run prints the action records of what would be sent.
. "$(dirname "$0")/lib.sh"

cat > "$WORK/bad.rules" <<'RULES'
# the kitchen
when gas-leak >= HIGH in kitchen do esp32-kitchen valve close

when fire do esp32-kitchen valve open   # line 4: would open the gas
RULES
rc=0
iots-act --rules "$WORK/bad.rules" --dry-run < /dev/null > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq 78 "$rc" "exit status of a forbidden rule"
assert_eq "iots-act: error: $WORK/bad.rules:4: refused: a rule may never open a gas valve (valve open)" \
    "$(cat "$WORK/err")" "the refusal"
[ ! -s "$WORK/out" ] || fail "something was written: $(cat "$WORK/out")"

printf '%s\n' 'when fire do esp32-hall buzzer on' 'when fire do esp32-hall buzzer off' > "$WORK/bad.rules"
rc=0
iots-act --rules "$WORK/bad.rules" -h 127.0.0.1 -p "$(free_port)" < /dev/null 2> "$WORK/err" || rc=$?
assert_eq 78 "$rc" "exit status of a rule that silences the buzzer (checked before the broker)"
grep -q "bad.rules:2: refused: a rule may never switch off a buzzer or an alarm" "$WORK/err" ||
    fail "buzzer off: $(cat "$WORK/err")"

printf '%s\n' 'when gas-leak in kitchen do esp32-kitchen fan on' '' \
    'when any do esp32-kitchen fan off' > "$WORK/bad.rules"
rc=0
iots-act --rules "$WORK/bad.rules" --dry-run < /dev/null 2> "$WORK/err" || rc=$?
assert_eq 78 "$rc" "exit status of conflicting rules"
grep -q "bad.rules:3: conflicts with line 1: esp32-kitchen fan off here and on there on the same event" \
    "$WORK/err" || fail "conflict: $(cat "$WORK/err")"

rc=0
iots-act --rules "$WORK/missing.rules" --dry-run < /dev/null 2> "$WORK/err" || rc=$?
assert_eq 66 "$rc" "exit status of a missing rules file"

echo 'when gas-leak do esp32-kitchen valve close' > "$WORK/home.rules"
rc=0
iots-act --rules "$WORK/home.rules" < /dev/null 2> "$WORK/err" || rc=$?
assert_eq 2 "$rc" "exit status without a broker or --dry-run"
grep -q "no broker to send commands to: give -h HOST, or --dry-run" "$WORK/err" ||
    fail "no broker: $(cat "$WORK/err")"

# A dry run: the alert's pattern picks the rule; an alert of another kind, a reading, an action
# record and a bad line pass through without a command (the bad line is counted).
{
    echo '{"kind":"alert","id":"k-1.1","ts":"2025-10-25T16:45:12.000Z","device":"esp32-kitchen","sensor":"gas","severity":"HIGH","incident":"k-1","source":"rules","event":"open","location":"kitchen","pattern":"gas-leak"}'
    echo '{"kind":"alert","id":"k-2.1","ts":"2025-10-25T16:46:12.000Z","device":"esp32-kitchen","sensor":"temperature","severity":"HIGH","incident":"k-2","source":"rules","event":"open"}'
    echo '{"ts":"2025-10-25T16:46:13.000Z","device":"esp32-kitchen","sensor":"motion","value":1,"location":"kitchen"}'
    echo '{"kind":"action","id":"x"}'
    echo 'not json'
} | iots-act --rules "$WORK/home.rules" --dry-run > "$WORK/out" 2> "$WORK/err" || fail "dry run exited $?"
assert_eq 1 "$(wc -l < "$WORK/out")" "action records of the dry run"
python3 - "$WORK/out" "$WORK/home.rules" <<'PY' || fail "dry run: $(cat "$WORK/out")"
import json, sys
a = json.loads(open(sys.argv[1]).readline())
assert a["kind"] == "action" and a["status"] == "dry-run", a
assert a["rule"] == sys.argv[2] + ":1" and a["actuator"] == "valve" and a["action"] == "close", a
assert a["incident"] == "k-1" and a["alert"] == "k-1.1" and a["event"] == "open", a
PY
grep -q "warning: line 5: not a JSON object" "$WORK/err" || fail "bad line: $(cat "$WORK/err")"
grep -q "alerts 2, rules fired 1, .*bad lines 1" "$WORK/err" || fail "counters: $(cat "$WORK/err")"
pass "forbidden and conflicting rules refused with their line and 78; a dry run"
