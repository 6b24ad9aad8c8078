# iots-detect on a pipe: no model, thresholds from the first reading, bad input, model errors.
. "$(dirname "$0")/lib.sh"

cat > "$WORK/in.ndjson" <<'J'
{"ts":"2025-10-25T16:45:12.123Z","device":"k","sensor":"flame","value":1}
{"ts":"2025-10-25T16:45:12.123Z","device":"k","sensor":"gas","value":2500}
not json
{"ts":"2025-10-25T16:45:17.123Z","device":"k","sensor":"gas","value":300,"room":"x"}
J
iots-detect < "$WORK/in.ndjson" > "$WORK/out" 2> "$WORK/err" || fail "exit $?"
assert_eq 3 "$(wc -l < "$WORK/out")" "scored lines"
assert_eq '{"ts":"2025-10-25T16:45:12.123Z","device":"k","sensor":"flame","value":1,"score":1,"anomaly":true,"reasons":["threshold:flame"]}' "$(sed -n 1p "$WORK/out")" "flame line"
grep -q '"reasons":\["threshold:gas"\]' "$WORK/out" || fail "gas threshold missing"
grep -q '"value":300,"score":0,"anomaly":false,"reasons":\[\],"room":"x"' "$WORK/out" || fail "pass-through"
assert_eq 1 "$(grep -c 'no model' "$WORK/err")" "no-model notice once"
grep -q '^iots-detect: warning: line 3: ' "$WORK/err" || fail "bad line not reported"

iots-detect --anomalies-only < "$WORK/in.ndjson" > "$WORK/only" 2>/dev/null
assert_eq 2 "$(wc -l < "$WORK/only")" "anomalies only"

rc=0; iots-detect --strict < "$WORK/in.ndjson" > /dev/null 2>&1 || rc=$?
assert_eq 65 "$rc" "--strict exit"

rc=0; iots-detect --model "$WORK/none.iotsmodel" < /dev/null 2> "$WORK/err" || rc=$?
assert_eq 66 "$rc" "missing model exit"
grep -q "none.iotsmodel: No such file or directory" "$WORK/err" || fail "missing model message"

printf 'IOTSMODL\001\000\000\000' > "$WORK/short.iotsmodel"
rc=0; iots-detect --model "$WORK/short.iotsmodel" < /dev/null 2> "$WORK/err" || rc=$?
assert_eq 66 "$rc" "truncated model exit"
grep -q "truncated" "$WORK/err" || fail "truncated model message"

rc=0; iots-detect < "$WORK/in.ndjson" > /dev/full 2>/dev/null || rc=$?
assert_eq 74 "$rc" "/dev/full exit"

rc=0; iots-detect --bogus < /dev/null > /dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "usage exit"

# The reader going away is a clean stop.
rc=0; iots-sim --duration 1h | iots-detect 2>/dev/null | head -1 > /dev/null || rc=$?
assert_eq 0 "$rc" "EPIPE exit"
pass "stdin scoring, bad input and model errors"
