#!/usr/bin/env bash
# iots-sim on a pipe: exact counts, determinism, usage errors, EPIPE, a full disk, SIGTERM.
. "$(dirname "$0")/lib.sh"

# --count is exact, and every line is a reading with a label.
n=$(iots-sim --count 100 | wc -l)
assert_eq 100 "$n" "--count 100 lines"
iots-sim --count 100 --devices 1 > "$WORK/one.ndjson"
python3 - "$WORK/one.ndjson" <<'PY' || fail "records of --count 100 --devices 1"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 100
assert {r["device"] for r in rows} == {"esp32-livingroom"}
assert {r["sensor"] for r in rows} == {"temperature", "humidity", "gas", "flame", "motion", "light"}
assert all(r["label"] == "normal" and r["location"] == "livingroom" for r in rows)
assert [r["seq"] for r in rows] == list(range(100))
PY

# --duration: 1 h at 5 s, 2 nodes, 6 sensors.
n=$(iots-sim --duration 1h --devices 2 | wc -l)
assert_eq $((720 * 2 * 6)) "$n" "--duration 1h --devices 2"
n=$(iots-sim --duration 1h --interval 1m --device-names a,b,c --rooms kitchen,garage,attic | wc -l)
assert_eq $((60 * 3 * 6)) "$n" "--interval 1m with three named nodes"
iots-sim --count 6 --device-names node-1 --rooms kitchen --start 2024-01-15T12:00:00Z \
    --no-labels > "$WORK/named.ndjson"
grep -q '"device":"node-1"' "$WORK/named.ndjson" || fail "--device-names"
grep -q '"location":"kitchen"' "$WORK/named.ndjson" || fail "--rooms"
grep -q '"ts":"2024-01-15T12:00:00' "$WORK/named.ndjson" || fail "--start"
! grep -q '"label"' "$WORK/named.ndjson" || fail "--no-labels still writes labels"

# Same options, same bytes; another seed, other bytes; --utc-offset moves the household's day.
iots-sim --duration 2h --incident-rate 6/d --incident fire@30m --seed 7 > "$WORK/a"
iots-sim --duration 2h --incident-rate 6/d --incident fire@30m --seed 7 > "$WORK/b"
iots-sim --duration 2h --incident-rate 6/d --incident fire@30m --seed 8 > "$WORK/c"
iots-sim --duration 2h --incident-rate 6/d --incident fire@30m --seed 7 --utc-offset 5 > "$WORK/d"
cmp -s "$WORK/a" "$WORK/b" || fail "same seed gave different output"
! cmp -s "$WORK/a" "$WORK/c" || fail "another seed gave the same output"
! cmp -s "$WORK/a" "$WORK/d" || fail "--utc-offset changed nothing"
# --tz moves it too, and TZ is its default.
iots-sim --duration 2h --incident-rate 6/d --incident fire@30m --seed 7 --tz Asia/Kolkata > "$WORK/e"
TZ=Asia/Kolkata iots-sim --duration 2h --incident-rate 6/d --incident fire@30m --seed 7 > "$WORK/f"
! cmp -s "$WORK/a" "$WORK/e" || fail "--tz changed nothing"
cmp -s "$WORK/e" "$WORK/f" || fail "TZ is not the default of --tz"
grep -q '"label":"fire"' "$WORK/a" || fail "--incident fire@30m not labelled"

# Every incident kind on request, labelled.
args=()
for k in fire gas-leak intrusion hvac-failure sensor-stuck sensor-spike sensor-dropout; do
    args+=(--incident "$k@10m:20m")
done
iots-sim --duration 3h --devices 6 "${args[@]}" > "$WORK/all"
for k in fire gas-leak intrusion hvac-failure sensor-stuck sensor-spike sensor-dropout; do
    grep -q "\"label\":\"$k\"" "$WORK/all" || fail "--incident $k: no reading labelled $k"
done

# --help works offline and lists the options; usage errors exit 2 with one line on stderr.
iots-sim --help > "$WORK/help" || fail "--help exited non-zero"
grep -q -- "--incident-rate" "$WORK/help" || fail "--help lacks --incident-rate"
for bad in "--bogus" "--devices 0" "--interval 5x" "--incident smoke@1h" "--incident fire@1h/nobody" \
    "--incident-rate 3" "--start yesterday" "--count 5 --duration 1h" "--utc-offset 20" \
    "--from 2025-01-01T00:00:00Z" "--actuators" "--device-names a,a" \
    "--devices 2 --rooms kitchen" "--tz Nowhere/Land" "--tz Europe/Berlin --utc-offset 1"; do
    set +e
    # shellcheck disable=SC2086
    iots-sim $bad --count 1 > "$WORK/out" 2> "$WORK/err"
    rc=$?
    set -e
    assert_eq 2 "$rc" "exit status of iots-sim $bad"
    [ ! -s "$WORK/out" ] || fail "iots-sim $bad wrote to stdout"
    assert_eq 1 "$(wc -l < "$WORK/err")" "stderr lines of iots-sim $bad"
    grep -q '^iots-sim: error: ' "$WORK/err" || fail "iots-sim $bad: $(cat "$WORK/err")"
done

set +e
iots-sim --count 0 > "$WORK/out" 2> "$WORK/err"
rc=$?
set -e
assert_eq 2 "$rc" "exit status of --count 0"
grep -q '^iots-sim: error: .*--count' "$WORK/err" || fail "--count 0: $(cat "$WORK/err")"

# The reader going away is not an error (EPIPE -> 0); a full disk is (74).
set +e
iots-sim --duration 14d | head -1 > /dev/null
rc=${PIPESTATUS[0]}
iots-sim --count 1000 > /dev/full 2> "$WORK/full.err"
full=$?
set -e
assert_eq 0 "$rc" "exit status with | head -1"
assert_eq 74 "$full" "exit status writing to /dev/full"
grep -q '^iots-sim: error: .*No space left on device' "$WORK/full.err" || fail "no /dev/full message"

# Real time: paced, flushed per line, and SIGTERM ends it cleanly after a whole line.
background iots-sim --realtime --interval 100ms --devices 2 > "$WORK/rt" 2> "$WORK/rt.err"
pid=$LAST_PID
wait_until 10 grep -q '"sensor":"light"' "$WORK/rt" || fail "nothing written in real time"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
assert_eq 0 "$rc" "exit status after SIGTERM"
python3 - "$WORK/rt" <<'PY' || fail "real-time output has a partial or invalid line"
import json, sys, datetime
data = open(sys.argv[1]).read()
assert data.endswith("\n")
rows = [json.loads(l) for l in data.splitlines()]
first = datetime.datetime.fromisoformat(rows[0]["ts"].replace("Z", "+00:00"))
now = datetime.datetime.now(datetime.timezone.utc)
assert abs((now - first).total_seconds()) < 600, "real time starts now"
PY
pass "counts, determinism, incidents, usage errors, EPIPE, /dev/full, SIGTERM"
