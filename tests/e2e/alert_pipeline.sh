#!/usr/bin/env bash
# The whole pipe of issue 4: iots-sim --incident fire@1h | iots-ingest | iots-detect | iots-alert
# raises exactly one CRITICAL fire alert with rules text. One device, 2 simulated hours, no model:
# the safety thresholds (flame, heat, gas) catch a fire from its first readings.
#
# What "exactly one" means in iots-alert's terms (man/iots-alert.1, INCIDENTS): the fire opens ONE
# incident, which alerts when it opens, again only when its severity rises, and once more when it
# resolves. So the stream must be one incident whose events are `open (raise)* (resolve)?` with
# severities strictly rising, exactly one alert CRITICAL (the fire), and nothing before the fire.
. "$(dirname "$0")/lib.sh"

START=2025-10-06T00:00:00Z
FIRE_MS=$(($(date -u -d "$START" +%s) * 1000 + 3600 * 1000)) # fire@1h, epoch ms

iots-sim --devices 1 --duration 2h --start "$START" --incident fire@1h 2> "$WORK/sim.err" |
    tee "$WORK/sim.ndjson" |
    iots-ingest --db "$WORK/home.db" 2> "$WORK/ingest.err" |
    iots-detect 2> "$WORK/detect.err" |
    iots-alert --replay --db "$WORK/alerts.db" > "$WORK/alerts.ndjson" 2> "$WORK/alert.err" ||
    fail "pipeline exit status ${PIPESTATUS[*]}"

# Nothing lost on the way: every simulated reading is stored, scored and seen by iots-alert.
n=$(wc -l < "$WORK/sim.ndjson")
assert_eq 8640 "$n" "readings simulated (2 h / 5 s x 6 sensors)"
assert_eq "$n" "$(db_count "$WORK/home.db" readings)" "readings stored"
grep -q "iots-alert: info: readings $n, anomalies [0-9]*, incidents 1 (0 open), alerts [0-9]*, bad lines 0" \
    "$WORK/alert.err" || fail "iots-alert counters: $(cat "$WORK/alert.err")"

A="$WORK/alerts.ndjson"
jq -e -s 'length > 0 and all(.kind == "alert" and .source == "rules")' "$A" > /dev/null ||
    fail "alerts are not all rules alerts: $(cat "$A")"
# One incident: a single open, every alert belongs to it, at most one resolve and that one last.
assert_eq 1 "$(jq -r '.incident' "$A" | sort -u | wc -l)" "incidents"
assert_eq 1 "$(jq -s '[.[] | select(.event == "open")] | length' "$A")" "open alerts"
jq -e -s '[.[].event] | .[0] == "open" and (.[1:-1] | all(. == "raise"))
    and (.[-1] == "raise" or .[-1] == "resolve" or length == 1)' "$A" > /dev/null ||
    fail "events are not open (raise)* (resolve)?: $(jq -r .event "$A" | xargs)"
# Before the resolve, severities strictly rise and end at CRITICAL (a raise only when it rises).
jq -e -s '[.[] | select(.event != "resolve") | {"LOW":0,"MEDIUM":1,"HIGH":2,"CRITICAL":3}[.severity]]
    | . as $s | ($s[-1] == 3) and all(range(1; length); $s[.] > $s[. - 1])' "$A" > /dev/null ||
    fail "severities: $(jq -r '"\(.event):\(.severity)"' "$A" | xargs)"

# Exactly one CRITICAL alert, and it is the fire, told in the rules narrator's words.
assert_eq 1 "$(jq -s '[.[] | select(.severity == "CRITICAL")] | length' "$A")" "CRITICAL alerts"
jq -e -s '.[] | select(.severity == "CRITICAL") | (.title | test("^Fire detected"))
    and (.description | length > 40) and (.suggestion | test("fire brigade"))
    and (.reasons | any(startswith("threshold:")))' "$A" > /dev/null ||
    fail "CRITICAL alert is not the rules fire alert: $(jq -c 'select(.severity == "CRITICAL")' "$A")"
# Nothing was raised before the fire started.
first_ms=$(jq -s '.[0].ts | sub("\\.[0-9]+Z$"; "Z") | fromdate * 1000' "$A")
[ "$first_ms" -ge $((FIRE_MS - 1000)) ] || fail "an alert before the fire: $(head -n 1 "$A")"

# The alerts table holds the same alerts; the CRITICAL one is a single row.
assert_eq "$(wc -l < "$A")" "$(db_count "$WORK/alerts.db" alerts)" "alert rows"
assert_eq 1 "$(db_count "$WORK/alerts.db" alerts "severity = 'CRITICAL' AND source = 'rules'")" \
    "CRITICAL rows"
if [ "$(jq -r .event "$A" | tail -n 1)" = resolve ]; then
    assert_eq 0 "$(db_count "$WORK/alerts.db" alerts "status <> 'resolved'")" "rows left unresolved"
fi
pass "fire@1h through sim | ingest | detect | alert: one incident, one CRITICAL fire alert"
