# iots-train from NDJSON and from the database: deterministic, incidents left out, summary.
. "$(dirname "$0")/lib.sh"

iots-sim --devices 2 --duration 6h --seed 3 --incident gas-leak@2h > "$WORK/hist.ndjson"
iots-train --model "$WORK/a.iotsmodel" < "$WORK/hist.ndjson" 2> "$WORK/train.err" || fail "train exit $?"
iots-train --model "$WORK/b.iotsmodel" --quiet-log < "$WORK/hist.ndjson" || fail "train exit $?"
cmp -s "$WORK/a.iotsmodel" "$WORK/b.iotsmodel" || fail "same data and seed gave different models"
assert_eq 12 "$(grep -c 'rows, threshold' "$WORK/train.err")" "one summary line per series"
labelled=$(grep -c '"label":"gas-leak"' "$WORK/hist.ndjson")
[ "$labelled" -gt 0 ] || fail "the simulator labelled no incident"
grep -q "($labelled incident readings left out" "$WORK/train.err" || fail "incident readings not left out"
head -c 8 "$WORK/a.iotsmodel" | grep -q IOTSMODL || fail "magic"
assert_eq 600 "$(stat -c %a "$WORK/a.iotsmodel")" "model file mode (owner only)"

# Layers: activity levels for the 0/1 series (flame, motion), and with --kmeans a k-means
# ensemble for each numeric one (temperature, humidity, gas, light), on both devices.
assert_eq 4 "$(grep -c 'activity level' "$WORK/train.err")" "activity levels of event series"
assert_eq 0 "$(grep -c 'k-means' "$WORK/train.err")" "no k-means ensemble by default"
iots-train --model "$WORK/k.iotsmodel" --kmeans < "$WORK/hist.ndjson" 2> "$WORK/k.err" || fail "train --kmeans exit $?"
assert_eq 8 "$(grep -c 'k-means ensemble of 3' "$WORK/k.err")" "k-means ensembles of numeric series"
[ "$(stat -c %s "$WORK/k.iotsmodel")" -gt "$(stat -c %s "$WORK/a.iotsmodel")" ] || fail "--kmeans stored nothing"
iots-detect --model "$WORK/k.iotsmodel" --anomalies-only < "$WORK/hist.ndjson" > "$WORK/kan" 2>/dev/null
grep -q '"label":"gas-leak"' "$WORK/kan" || fail "gas leak not flagged with the k-means model"

# A model that detects: the same day's gas leak is flagged.
iots-detect --model "$WORK/a.iotsmodel" --anomalies-only < "$WORK/hist.ndjson" > "$WORK/an" 2>/dev/null
grep -q '"label":"gas-leak"' "$WORK/an" || fail "gas leak not flagged"

# From SQLite, with the filters.
iots-ingest --db "$WORK/h.db" --quiet < "$WORK/hist.ndjson" 2>/dev/null || fail "ingest"
iots-train --db "$WORK/h.db" --device esp32-livingroom --sensor temperature --sensor humidity \
    --until 2025-10-06T05:00:00Z --model "$WORK/c.iotsmodel" 2> "$WORK/db.err" || fail "train --db"
assert_eq 2 "$(grep -c 'rows, threshold' "$WORK/db.err")" "filtered series"
grep -q 'esp32-livingroom/temperature: 3584 rows' "$WORK/db.err" || fail "rows: $(cat "$WORK/db.err")"

rc=0; iots-train --model "$WORK/d.iotsmodel" < /dev/null 2>/dev/null || rc=$?
assert_eq 65 "$rc" "no data"
rc=0; iots-train --db "$WORK/missing.db" --model "$WORK/d.iotsmodel" 2>/dev/null || rc=$?
assert_eq 66 "$rc" "missing database"
rc=0; iots-train < /dev/null 2>/dev/null || rc=$?
assert_eq 2 "$rc" "--model is required"
pass "training"
