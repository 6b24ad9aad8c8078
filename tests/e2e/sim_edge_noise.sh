#!/usr/bin/env bash
# iots-sim --dp-epsilon: every temperature, humidity, light and motion reading noised and marked with
# its privacy member, gas, flame and heat exactly as without noise, the day's total on stderr, the
# records accepted by iots-ingest --strict, the option errors; and --occupancy's ground truth.
. "$(dirname "$0")/lib.sh"

iots-sim --duration 2h --seed 3 > "$WORK/plain.ndjson"
iots-sim --duration 2h --seed 3 --dp-epsilon 1 > "$WORK/noised.ndjson" 2> "$WORK/noised.err"

# Two hours of 3 nodes, 4 noised kinds, one reading per 5 s: 3 x 4 x 1,440 = 17,280 noised; the
# day holds 3 x 4 x 17,281 = 207,372, so the two hours spent 17,280 / 207,372 = 0.0833285 of 1.
grep -q 'edge noise: laplace (motion: randomized response), epsilon 1 a day for the home, split over the 207372 readings its 3 node(s) send a day on 4 sensors at one per 5000 ms: 4.82e-06 each; gas, flame and temperatures at or above 57 C are sent exact, outside the guarantee' "$WORK/noised.err" \
    || fail "no plan line: $(cat "$WORK/noised.err")"
grep -q 'edge noise: 17280 readings noised in 1 UTC day(s), 8640 safety readings sent exact: epsilon 0.0833285 spent in all, at most 0.0833285 in one day (budget 1 a day)' "$WORK/noised.err" \
    || fail "no spending line: $(cat "$WORK/noised.err")"

# Every noised kind carries the member; the safety kinds never do, and are the same lines.
bad=$(jq -c 'select((.sensor == "gas" or .sensor == "flame") == (has("privacy")))' "$WORK/noised.ndjson" | head -n 3)
[ -z "$bad" ] || fail "privacy member on the wrong readings: $bad"
jq -c 'select(.privacy) | .privacy | {mech, sensitivity, clamp, day_epsilon}' "$WORK/noised.ndjson" | LC_ALL=C sort -u > "$WORK/notes"
cat > "$WORK/notes.expected" <<'END'
{"mech":"laplace","sensitivity":100,"clamp":[0,100],"day_epsilon":1}
{"mech":"laplace","sensitivity":100000,"clamp":[0,100000],"day_epsilon":1}
{"mech":"laplace","sensitivity":96,"clamp":[-40,56],"day_epsilon":1}
{"mech":"randomized_response","sensitivity":1,"clamp":[0,1],"day_epsilon":1}
END
diff "$WORK/notes.expected" "$WORK/notes" || fail "privacy members differ"
jq -c 'select(.sensor == "gas" or .sensor == "flame")' "$WORK/plain.ndjson" > "$WORK/safety.plain"
jq -c 'select(.sensor == "gas" or .sensor == "flame")' "$WORK/noised.ndjson" > "$WORK/safety.noised"
[ -s "$WORK/safety.plain" ] || fail "no gas or flame readings"
diff -q "$WORK/safety.plain" "$WORK/safety.noised" >/dev/null || fail "gas or flame readings changed by edge noise"
# At 4.8e-6 a reading the noise dwarfs every range: values land on the clamp's ends. The noise is
# not seeded (it must not be predictable); a draw inside the 96 C range has a chance of about
# 96 / (2 x 96 / 4.8e-6) = 2.4e-6 a reading, so a few of the 4,320 may, but none may leave the clamp.
jq -r 'select(.sensor == "temperature") | .value' "$WORK/noised.ndjson" > "$WORK/temps"
assert_eq 4320 "$(wc -l < "$WORK/temps")" "noised temperatures"
assert_eq "" "$(awk '$1 < -40 || $1 > 56' "$WORK/temps" | head -n 3)" "temperatures outside the clamp"
assert_eq "-40 56 " "$(grep -xE -- '-40|56' "$WORK/temps" | sort -u | tr '\n' ' ')" "the clamp's ends"
inside=$(grep -cvxE -- '-40|56' "$WORK/temps" || true)
[ "$inside" -le 4 ] || fail "$inside of 4320 noised temperatures inside the clamp (expected about 0.01)"

# A fire: the heat readings at or above 57 C leave exact; no noised temperature reaches 57.
iots-sim --duration 1h --seed 3 --incident fire@10m/esp32-kitchen > "$WORK/fire.plain"
iots-sim --duration 1h --seed 3 --incident fire@10m/esp32-kitchen --dp-epsilon 1 > "$WORK/fire.noised" 2>/dev/null
jq -c 'select(.sensor == "temperature" and .value >= 57)' "$WORK/fire.plain" > "$WORK/heat.plain"
jq -c 'select(.sensor == "temperature" and .value >= 57)' "$WORK/fire.noised" > "$WORK/heat.noised"
[ "$(wc -l < "$WORK/heat.plain")" -gt 10 ] || fail "the fire raised no heat"
diff -q "$WORK/heat.plain" "$WORK/heat.noised" >/dev/null || fail "heat readings changed by edge noise"

# The hub takes them: iots-ingest --strict stores every line.
iots-ingest --db "$WORK/home.db" --strict --quiet --quiet-log < "$WORK/noised.ndjson"
assert_eq "$(wc -l < "$WORK/noised.ndjson")" "$(sqlite3 "$WORK/home.db" 'SELECT count(*) FROM readings')" "stored readings"

# Gaussian: the delta is split too (1e-6 / 207,372 = 4.82e-12); at epsilon 100 000 a day, 0.482 a
# reading, within the discrete Gaussian's reach.
iots-sim --duration 1m --dp-epsilon 100000 --dp-mech gaussian --dp-clamp temperature=10:35 > "$WORK/g.ndjson" 2> "$WORK/g.err"
grep -q '0.482, delta 4.82e-12 each' "$WORK/g.err" || fail "gaussian plan: $(cat "$WORK/g.err")"
jq -e -s 'map(select(.sensor == "temperature")) | length > 0 and all(.privacy.mech == "gaussian" and .privacy.clamp == [10,35] and .privacy.day_delta == 1e-06 and .value >= 10 and .value <= 35)' "$WORK/g.ndjson" >/dev/null \
    || fail "gaussian members: $(head -n 1 "$WORK/g.ndjson")"

# Option errors: exit 2 and a message naming what is wrong.
expect_usage() { # message-part args...
    local want=$1 rc=0
    shift
    iots-sim --duration 1m "$@" > /dev/null 2> "$WORK/usage.err" || rc=$?
    assert_eq 2 "$rc" "exit of iots-sim $*"
    grep -qF -- "$want" "$WORK/usage.err" || fail "iots-sim $*: expected '$want' in: $(cat "$WORK/usage.err")"
}
expect_usage "--dp-mech requires --dp-epsilon" --dp-mech gaussian
expect_usage "--dp-clamp requires --dp-epsilon" --dp-clamp temperature=10:35
expect_usage "--dp-epsilon" --dp-epsilon 0
expect_usage "--dp-mech" --dp-epsilon 1 --dp-mech uniform
expect_usage "below the samplers' smallest" --dp-epsilon 0.1 --devices 100 --interval 1s
expect_usage "use Laplace" --dp-epsilon 1 --dp-mech gaussian
expect_usage "gas and flame are safety channels" --dp-epsilon 1 --dp-clamp gas=0:100
expect_usage "below the heat level" --dp-epsilon 1 --dp-clamp temperature=10:60

# --occupancy: the presence at the start, then each change.
iots-sim --duration 1d --seed 3 --occupancy "$WORK/occ.ndjson" > /dev/null
head -n 1 "$WORK/occ.ndjson" | grep -qx '{"kind":"occupancy","ts":"2025-10-06T00:00:00.000Z","presence":"asleep"}' \
    || fail "occupancy start: $(head -n 1 "$WORK/occ.ndjson")"
jq -e -s 'length >= 4 and (map(.presence) | unique) == ["asleep","away","home"]' "$WORK/occ.ndjson" >/dev/null \
    || fail "occupancy: $(cat "$WORK/occ.ndjson")"
rc=0; iots-sim -C 5 --occupancy "$WORK/x" > /dev/null 2> "$WORK/usage.err" || rc=$?
assert_eq 2 "$rc" "--occupancy without an end"
rc=0; iots-sim --duration 1h --occupancy /dev/full > /dev/null 2> "$WORK/full.err" || rc=$?
assert_eq 74 "$rc" "--occupancy /dev/full"

pass "edge noise marked, safety exact, totals on stderr, ingested; occupancy written"
