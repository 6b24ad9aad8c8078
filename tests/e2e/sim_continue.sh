#!/usr/bin/env bash
# iots-sim --from continues a run where it ended: the same household, byte for byte, on a pipe and
# paced on the wall clock (--realtime --start in the past writes what is already due at once).
. "$(dirname "$0")/lib.sh"

S=2025-10-06T00:00:00Z
SEAM=2025-10-06T02:00:00Z
# Two hours of history, then a third continued from the seam (with a fire after it): together the
# same bytes as one three-hour run up to the fire, and the seam shows no step.
iots-sim --start "$S" --duration 2h --seed 5 > "$WORK/history" || fail "history"
iots-sim --start "$S" --duration 3h --seed 5 --from "$SEAM" > "$WORK/rest" || fail "continuation"
iots-sim --start "$S" --duration 3h --seed 5 > "$WORK/whole" || fail "whole run"
cat "$WORK/history" "$WORK/rest" | cmp -s - "$WORK/whole" ||
    fail "history + --from differs from one run: $(cat "$WORK/history" "$WORK/rest" | cmp - "$WORK/whole")"
grep -q '"ts":"2025-10-06T02:00:00' "$WORK/rest" || fail "the continuation does not start at the seam"
! grep -q '"ts":"2025-10-06T01:' "$WORK/rest" || fail "the continuation repeats the history"
iots-sim --start "$S" --duration 3h --seed 5 --from "$SEAM" --incident fire@150m:10m/esp32-kitchen \
    > "$WORK/fire" || fail "continuation with a fire"
n=$(grep -c '"label":"fire"' "$WORK/fire") || fail "no fire after the seam"
head -n 1000 "$WORK/fire" | cmp -s - <(head -n 1000 "$WORK/rest") ||
    fail "a fire after the seam changed the readings before it"

# The last history reading and the first continued one of each series: one interval apart (give or
# take the nodes' jitter), close in value; each node's seq goes on by one.
python3 - "$WORK/history" "$WORK/rest" <<'PY' || fail "the seam is not continuous"
import json, sys
from datetime import datetime
def ms(ts): return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000
last, first = {}, {}
for r in map(json.loads, open(sys.argv[1])): last[r["device"], r["sensor"]] = r
for r in map(json.loads, open(sys.argv[2])): first.setdefault((r["device"], r["sensor"]), r)
for d in {k[0] for k in last}:  # seq counts a node's readings
    assert min(first[k]["seq"] for k in first if k[0] == d) == max(last[k]["seq"] for k in last if k[0] == d) + 1, d
assert last.keys() == first.keys() and len(last) == 18, (sorted(last), sorted(first))
for k in last:
    a, b = last[k], first[k]
    assert abs(ms(b["ts"]) - ms(a["ts"]) - 5000) < 100, (k, a["ts"], b["ts"])  # jitter: a few ms
    if k[1] in ("temperature", "humidity"):  # the same room, not a jump to another household
        assert abs(b["value"] - a["value"]) < 1.0, (k, a["value"], b["value"])
PY

# Paced: started two hours ago, continued from an hour ago, what is due comes at once and equals
# the unpaced continuation.
start=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
from=$(date -u -d '-1 hours' +%Y-%m-%dT%H:%M:%SZ)
iots-sim --start "$start" --from "$from" --count 200 --seed 5 > "$WORK/unpaced" || fail "unpaced"
timeout 20 iots-sim --realtime --start "$start" --from "$from" --count 200 --seed 5 > "$WORK/paced" ||
    fail "--realtime --start in the past exited with $?"
cmp -s "$WORK/unpaced" "$WORK/paced" || fail "--realtime wrote other readings than the unpaced run"
grep -q "\"ts\":\"${from%Z}" "$WORK/paced" || fail "--realtime --from does not start at --from"

# Usage errors.
for bad in "--from yesterday" "--start $SEAM --from $S"; do
    rc=0; iots-sim $bad --count 1 > /dev/null 2> "$WORK/err" || rc=$?
    assert_eq 2 "$rc" "exit status of iots-sim $bad"
    assert_eq 1 "$(wc -l < "$WORK/err")" "lines on stderr for $bad"
    grep -q -- "--from" "$WORK/err" || fail "$bad: the message does not name --from: $(cat "$WORK/err")"
done
pass "history + --from is one run; --realtime catches up from a past --start ($n fire readings after the seam)"
