#!/usr/bin/env bash
# The home's clock: a household in Europe/Berlin, trained on the two weeks before the autumn change
# (2025-10-26T01:00Z, CEST +2 to CET +1) and run over the four days around it, raises no profile or
# activity flag from the change on when its profiles are learnt in its zone. Learnt in UTC, its
# whole routine (heating, lamps, bedtime) moves an hour against the model and the profile flags it.
# The run is seeded: with this household the zone's run is clean after the change; other seeds'
# households also raise profile flags on weekend afternoons and at dusk, with or without a change.
# Also: --tz and TZ reach the model, iots-detect takes the model's zone, and says so once when
# told another.
. "$(dirname "$0")/lib.sh"

iots-sim --tz Europe/Berlin --start 2025-10-11T00:00:00Z --duration 18d --interval 1m --seed 3 \
    > "$WORK/home.ndjson"
awk -F'"' '$4 >= "2025-10-25T00" && $4 < "2025-10-29T00"' "$WORK/home.ndjson" > "$WORK/days.ndjson"
[ "$(wc -l < "$WORK/days.ndjson")" -eq $((4 * 1440 * 18)) ] || fail "four days of 18 series a minute"

# --tz from the environment when not given; the model records it.
TZ=Europe/Berlin iots-train --until 2025-10-25T00:00:00Z --model "$WORK/berlin.m" \
    < "$WORK/home.ndjson" 2> "$WORK/train-berlin.err"
grep -q 'time zone Europe/Berlin; wrote' "$WORK/train-berlin.err" || fail "TZ did not reach iots-train"
iots-train --until 2025-10-25T00:00:00Z --model "$WORK/utc.m" --tz UTC \
    < "$WORK/home.ndjson" 2> "$WORK/train-utc.err"
grep -q 'time zone UTC; wrote' "$WORK/train-utc.err" || fail "--tz UTC not recorded"

# Profile and activity flags at or after local midnight of the change day (22:00Z on the 25th).
layer_flags() {
    python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["ts"] >= "2025-10-25T22:00" and ("profile" in r["reasons"] or "activity" in r["reasons"]):
        n += 1
        print("  ", r["ts"], r["device"], r["sensor"], r["value"], ",".join(r["reasons"]), file=sys.stderr)
print(n)' "$1"
}

# No --tz: the model's zone, even with another TZ around.
TZ=Asia/Tokyo iots-detect --model "$WORK/berlin.m" --anomalies-only < "$WORK/days.ndjson" \
    > "$WORK/berlin.out" 2> "$WORK/detect-berlin.err"
grep -q 'time zone Europe/Berlin' "$WORK/detect-berlin.err" || fail "the model's zone not reported"
! grep -q 'warning' "$WORK/detect-berlin.err" || fail "a warning without --tz: $(cat "$WORK/detect-berlin.err")"
iots-detect --model "$WORK/utc.m" --anomalies-only < "$WORK/days.ndjson" > "$WORK/utc.out" \
    2> "$WORK/detect-utc.err"

local_flags=$(layer_flags "$WORK/berlin.out")
utc_flags=$(layer_flags "$WORK/utc.out")
echo "profile/activity flags from the change on: $local_flags in the home's zone, $utc_flags in UTC"
assert_eq 0 "$local_flags" "profile/activity flags after the change, profiles in Europe/Berlin"
[ "$utc_flags" -ge 3 ] || fail "profiles learnt in UTC raised only $utc_flags flags after the change"

# An explicit --tz that differs from the model's: obeyed, with one warning.
iots-detect --model "$WORK/berlin.m" --tz UTC --anomalies-only < "$WORK/days.ndjson" \
    > "$WORK/override.out" 2> "$WORK/override.err"
assert_eq 1 "$(grep -c 'warning: --tz UTC differs from the time zone of model' "$WORK/override.err")" \
    "warnings for --tz UTC against a Europe/Berlin model"
! cmp -s "$WORK/override.out" "$WORK/berlin.out" || fail "--tz UTC changed nothing"
iots-detect --model "$WORK/berlin.m" --tz Europe/Berlin --anomalies-only < "$WORK/days.ndjson" \
    > "$WORK/same.out" 2> "$WORK/same.err"
cmp -s "$WORK/same.out" "$WORK/berlin.out" || fail "--tz the model's zone differs from no --tz"
! grep -q 'warning' "$WORK/same.err" || fail "a warning for the model's own zone"

# A model whose zone this host's tz database lacks: refused like any unusable model (66).
python3 -c '
import sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
at = b.index(b"Europe/Berlin")
b[at:at + 13] = b"Mars/Olympus_"
b[-4:] = zlib.crc32(bytes(b[:-4])).to_bytes(4, "little")
open(sys.argv[2], "wb").write(b)' "$WORK/berlin.m" "$WORK/mars.m"
set +e
iots-detect --model "$WORK/mars.m" < /dev/null > /dev/null 2> "$WORK/mars.err"
rc=$?
set -e
assert_eq 66 "$rc" "exit status of a model in an unknown zone"
grep -q "error: model $WORK/mars.m: unknown time zone: Mars/Olympus_" "$WORK/mars.err" ||
    fail "$(cat "$WORK/mars.err")"

# An unknown zone is a usage error, from the option (before any model is read) and from TZ.
for cmd in "iots-detect --tz Mars/Olympus_Mons" "iots-detect --tz Mars/Olympus_Mons --model $WORK/none.m" \
    "iots-train --model $WORK/x.m --tz Mars/Olympus_Mons" \
    "iots-sim --count 1 --tz Mars/Olympus_Mons"; do
    set +e
    # shellcheck disable=SC2086
    $cmd < /dev/null > "$WORK/bad.out" 2> "$WORK/bad.err"
    rc=$?
    set -e
    assert_eq 2 "$rc" "exit status of $cmd"
    grep -q 'error: --tz: unknown time zone: Mars/Olympus_Mons' "$WORK/bad.err" ||
        fail "$cmd: $(cat "$WORK/bad.err")"
done
set +e
TZ=Nowhere/Land iots-detect < /dev/null > /dev/null 2> "$WORK/env.err"
rc=$?
set -e
assert_eq 2 "$rc" "exit status of iots-detect with TZ=Nowhere/Land"
grep -q 'error: TZ: unknown time zone: Nowhere/Land' "$WORK/env.err" || fail "$(cat "$WORK/env.err")"
pass "no profile or activity flag across the change in the home's zone ($utc_flags in UTC)"
