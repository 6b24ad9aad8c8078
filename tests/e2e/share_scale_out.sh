#!/usr/bin/env bash
# Scale-out on one host (issue 10): two iots-ingest in one --share group (persistent sessions)
# writing ONE database, and two iots-detect in another, split one QoS 1 stream: every reading is
# stored once and scored once, both members of each group take part, and every member receives
# every device status (status topics are not shared: a member must not miss an offline will).
. "$(dirname "$0")/lib.sh"
N=3000
DEVICES=4
start_broker "log_type all"

for m in a b; do
    background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -c -i "ingest-$m" --share g \
        --db "$WORK/home.db" > "$WORK/ingest-$m.out" 2> "$WORK/ingest-$m.err"
    eval "INGEST_$m=\$LAST_PID"
    background iots-detect -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -i "detect-$m" --share d \
        > "$WORK/detect-$m.out" 2> "$WORK/detect-$m.err"
    eval "DETECT_$m=\$LAST_PID"
done
subscribed() {
    [ "$(grep -c 'ingest-[ab] 1 .*iotshield/status/#' "$WORK/mosquitto.log")" -ge 2 ] &&
        [ "$(grep -c 'detect-[ab] 1 \$share/d/iotshield/sensors/#' "$WORK/mosquitto.log")" -ge 2 ]
}
wait_until 20 subscribed || fail "the group members did not all subscribe"

iots-sim -h 127.0.0.1 -p "$BROKER_PORT" -q 1 --count "$N" --devices "$DEVICES" --seed 7 \
    2> "$WORK/sim.err" || fail "iots-sim exited $?"
iots-sim --count "$N" --devices "$DEVICES" --seed 7 > "$WORK/sent.ndjson"

stored() { [ "$(db_count "$WORK/home.db" readings)" -ge "$N" ]; }
wait_until 60 stored || fail "stored $(db_count "$WORK/home.db" readings) of $N"
scored() { [ "$(cat "$WORK"/detect-[ab].out | wc -l)" -ge "$N" ]; }
wait_until 60 scored || fail "scored $(cat "$WORK"/detect-[ab].out | wc -l) of $N"
# Each member reports its counters on SIGUSR1: wait until each has seen every status message
# (online and offline of each node).
statuses() { # member: the status count of its last counters line
    kill -USR1 "$1"
    sleep 0.2
    grep -o 'status [0-9]*' "$2" | tail -n 1 | cut -d' ' -f2
}
all_status() {
    [ "$(statuses "$INGEST_a" "$WORK/ingest-a.err")" == $((2 * DEVICES)) ] &&
        [ "$(statuses "$INGEST_b" "$WORK/ingest-b.err")" == $((2 * DEVICES)) ]
}
wait_until 20 all_status || fail "a member missed status messages: a saw" \
    "$(statuses "$INGEST_a" "$WORK/ingest-a.err"), b saw" \
    "$(statuses "$INGEST_b" "$WORK/ingest-b.err") of $((2 * DEVICES))"

for pid in "$INGEST_a" "$INGEST_b" "$DETECT_a" "$DETECT_b"; do
    kill -TERM "$pid"
    wait "$pid" || fail "a member exited $? after SIGTERM"
done

# Stored: exactly the N readings sent, none twice.
assert_eq "$N" "$(db_count "$WORK/home.db" readings)" "rows stored"
assert_eq "$DEVICES" "$(db_count "$WORK/home.db" devices "status = 'offline'")" "devices offline"
received() { grep -o 'info: received [0-9]*' "$1" | tail -n 1 | awk '{print $3}'; }
ra=$(received "$WORK/ingest-a.err")
rb=$(received "$WORK/ingest-b.err")
[ "${ra:-0}" -gt 0 ] && [ "${rb:-0}" -gt 0 ] || fail "one ingest member got nothing: a $ra, b $rb"
assert_eq "$N" "$((ra + rb))" "readings received by the two ingest members together"
for m in a b; do
    grep -q 'duplicates 0' "$WORK/ingest-$m.err" || fail "ingest-$m saw duplicates"
done

# Scored: the two detect outputs together hold each reading sent exactly once.
python3 - "$WORK/sent.ndjson" "$WORK/detect-a.out" "$WORK/detect-b.out" <<'PY' ||
import collections, json, sys
key = lambda r: (r["device"], r["sensor"], r["seq"])
sent = collections.Counter(key(json.loads(l)) for l in open(sys.argv[1]))
got = collections.Counter()
for path in sys.argv[2:]:
    lines = open(path).read().splitlines()
    assert lines, f"{path}: this detect member scored nothing"
    got.update(key(json.loads(l)) for l in lines)
twice = [k for k, n in got.items() if n > 1]
assert not twice, f"scored twice: {twice[:3]}"
assert got == sent, f"missing {len(sent - got)}, unexpected {len(got - sent)}"
PY
    fail "the detect members' outputs are not the readings sent, each once"
pass "$N readings split over two ingest and two detect members: each stored and scored once"
