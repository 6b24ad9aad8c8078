# iots-export on a real SQLite file made by iots-sim | iots-ingest: a release and its ledger rows,
# a dry run that spends nothing, a refusal with exit 77 once the day's budget is spent, a bad
# policy (exit 78), the report, and records that parse with what the policy declared.
. "$(dirname "$0")/lib.sh"

iots-sim --devices 2 --interval 60s --duration 2d --start 2025-10-25T00:00:00Z --seed 5 \
    --incident gas-leak@30h/esp32-kitchen | iots-ingest --db "$WORK/home.db" --quiet --quiet-log ||
    fail "sim | ingest"
cat > "$WORK/policy.json" <<'END'
{
  "window": "1h",
  "budget": {"epsilon_per_day": 30, "delta_per_day": 1e-5},
  "sensors": {
    "temperature": {"release": "mean", "range": [10, 35], "epsilon": 0.2},
    "humidity": {"release": "mean", "range": [20, 90], "epsilon": 0.1, "mechanism": "gaussian",
                 "delta": 1e-7},
    "light": {"release": "mean", "range": [0, 2000], "epsilon": 0.05, "min_max": true},
    "motion": {"release": "count", "max_count": 60, "epsilon": 0.1}
  }
}
END
# Per device and window: 0.2 + 0.1 + 3 * 0.05 + 0.1 = 0.55; a day of 2 devices: 48 * 0.55 = 26.4
# (delta 48 * 1e-7 = 4.8e-6): one release fits the budget of 30, a second does not.
day=(--db "$WORK/home.db" --policy "$WORK/policy.json" --destination cloud
     --since 2025-10-25T00:00:00Z)

# A dry run: the plan, nothing spent.
iots-export "${day[@]}" --dry-run > "$WORK/plan" 2> "$WORK/plan.err" || fail "dry run exit $?"
assert_eq 1 "$(wc -l < "$WORK/plan")" "one plan line per day"
python3 - "$WORK/plan" <<'END' || fail "plan: $(cat "$WORK/plan")"
import json, sys
p = json.loads(open(sys.argv[1]).read())
assert p["kind"] == "release_plan" and p["day"] == "2025-10-25" and p["aggregates"] == 192, p
assert abs(p["epsilon"] - 26.4) < 1e-9 and p["spent_epsilon"] == 0 and p["fits"] is True, p
END
assert_eq 0 "$(db_count "$WORK/home.db" privacy_ledger)" "ledger rows after the dry run"

# The release: records on stdout, one ledger row.
iots-export "${day[@]}" > "$WORK/out" 2> "$WORK/out.err" || fail "release exit $?: $(cat "$WORK/out.err")"
grep -q "released 192 aggregates about 1 day(s) to 'cloud': epsilon 26.4" "$WORK/out.err" ||
    fail "summary: $(cat "$WORK/out.err")"
assert_eq 1 "$(db_count "$WORK/home.db" privacy_ledger "destination = 'cloud' AND day = '2025-10-25'")" "ledger row"
assert_eq 26.4 "$(sqlite3 "$WORK/home.db" "SELECT round(epsilon, 9) FROM privacy_ledger")" "ledger epsilon"
python3 - "$WORK/out" <<'END' || fail "records do not parse as declared"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 192, len(recs)
kinds = {}
for r in recs:
    assert r["kind"] == "aggregate" and r["window_s"] == 3600, r
    assert r["window_start"].startswith("2025-10-25T") and r["window_start"].endswith(":00:00.000Z"), r
    kinds.setdefault(r["sensor"], []).append(r)
# Only what the policy declares leaves: no gas, no flame.
assert sorted(kinds) == ["humidity", "light", "motion", "temperature"], sorted(kinds)
for r in kinds["temperature"]:
    assert isinstance(r["mean"], (int, float)) and "min" not in r, r
    assert r["privacy"] == {"mech": "laplace", "epsilon": 0.2, "sensitivity": 25, "clamp": [10, 35]}, r
for r in kinds["humidity"]:
    assert r["privacy"]["mech"] == "gaussian" and r["privacy"]["delta"] == 1e-7, r
for r in kinds["light"]:
    assert "min" in r and "max" in r and abs(r["privacy"]["epsilon"] - 0.15) < 1e-12, r
for r in kinds["motion"]:
    assert isinstance(r["count"], int) and r["privacy"]["sensitivity"] == 60, r
# 24 windows of each of 2 devices per sensor; the noise is on a grid of a power of two.
assert all(len(v) == 48 for v in kinds.values())
import math
# Temperature: b = 25 / 0.2 = 125, floor(log2 125) = 6: a grid of 2^(6 - 10) = 1/16.
vals = [r["mean"] for r in kinds["temperature"]]
g = 2.0 ** -4
assert all((v / g) == int(v / g) for v in vals), "temperature means off the grid"
END

# The same day again: refused whole with exit 77, nothing written, nothing spent.
rc=0
iots-export "${day[@]}" > "$WORK/again" 2> "$WORK/again.err" || rc=$?
assert_eq 77 "$rc" "exit status of a release past the budget"
assert_eq 0 "$(wc -c < "$WORK/again")" "bytes released when refused"
grep -q "iots-export: error: budget: destination 'cloud', day 2025-10-25: this release needs epsilon 26.4, delta 4.8e-06, but only epsilon 3.6, delta 5.2e-06 is left of the day's budget (epsilon 30, delta 1e-05); nothing released" \
    "$WORK/again.err" || fail "refusal message: $(cat "$WORK/again.err")"
assert_eq 1 "$(db_count "$WORK/home.db" privacy_ledger)" "ledger rows after the refusal"
# The dry run says so too, with the same exit status, and spends nothing.
rc=0
iots-export "${day[@]}" --dry-run > "$WORK/plan2" 2>/dev/null || rc=$?
assert_eq 77 "$rc" "exit status of a dry run past the budget"
grep -q '"fits":false' "$WORK/plan2" || fail "plan: $(cat "$WORK/plan2")"
assert_eq 1 "$(db_count "$WORK/home.db" privacy_ledger)" "ledger rows after the second dry run"

# Another destination has its own budget; the next day is its own day.
iots-export "${day[@]/cloud/adviser}" > /dev/null 2>&1 || fail "another destination refused"
iots-export --db "$WORK/home.db" --policy "$WORK/policy.json" --destination cloud \
    --since 2025-10-26T00:00:00Z --until 2025-10-27T00:00:00Z > /dev/null 2>&1 ||
    fail "the next day refused"

# The report: per destination and day, with what is left.
iots-export --db "$WORK/home.db" --report --policy "$WORK/policy.json" > "$WORK/report" ||
    fail "report exit $?"
python3 - "$WORK/report" <<'END' || fail "report: $(cat "$WORK/report")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["destination"], r["day"]) for r in rows] == [
    ("adviser", "2025-10-25"), ("cloud", "2025-10-25"), ("cloud", "2025-10-26")], rows
c = rows[1]
assert c["kind"] == "budget" and c["releases"] == 1 and c["aggregates"] == 192, c
assert abs(c["left_epsilon"] - 3.6) < 1e-9 and c["budget_epsilon"] == 30, c
END

# A bad policy: exit 78 naming the key; a window not over yet: exit 2.
sed 's/"range": \[10, 35\], //' "$WORK/policy.json" > "$WORK/bad.json"
rc=0
iots-export --db "$WORK/home.db" --policy "$WORK/bad.json" --destination x 2> "$WORK/bad.err" || rc=$?
assert_eq 78 "$rc" "exit status of a bad policy"
grep -q "iots-export: error: $WORK/bad.json: sensors.temperature.range: missing" "$WORK/bad.err" ||
    fail "bad policy message: $(cat "$WORK/bad.err")"
rc=0
iots-export --db "$WORK/home.db" --policy "$WORK/policy.json" --destination x \
    --since 2099-01-01T00:00:00Z 2> "$WORK/future.err" || rc=$?
assert_eq 2 "$rc" "exit status of a window not over yet"
rc=0
iots-export --db "$WORK/none.db" --policy "$WORK/policy.json" --destination x 2>/dev/null || rc=$?
assert_eq 66 "$rc" "exit status of a missing database"

pass "release, ledger, refusal (77), dry run, report, bad policy (78)"
