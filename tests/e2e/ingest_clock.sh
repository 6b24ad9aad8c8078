# DESIGN §2, Clocks: a ts before 2000-01-01 or more than --max-skew (1d) ahead of this host's
# clock is rejected with a reason (exit 65 under --strict), or with --stamp-bad-clock stamped with
# the time of receipt and marked. Simulated history from the past still goes in.
. "$(dirname "$0")/lib.sh"

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
NOW=$(date -u +%s)
AHEAD_2D=$(iso $((NOW + 2 * 86400)))
AHEAD_1H=$(iso $((NOW + 3600)))
r() { echo "{\"ts\":$1,\"device\":\"esp32-attic\",\"sensor\":\"temperature\",\"value\":$2}"; }
{
    r -5 1                             # epoch ms: 1969-12-31T23:59:59.995Z, never synced
    r '"1999-12-31T23:59:59Z"' 2
    r "\"$AHEAD_2D\"" 3                # a broken clock
    r "\"$AHEAD_1H\"" 4                # within the skew
    r '"2000-01-01T00:00:00Z"' 5       # the first good time
} > "$WORK/in.ndjson"

iots-ingest --db "$WORK/a.db" --retain-raw 0 --compact-after off < "$WORK/in.ndjson" > "$WORK/a.out" 2> "$WORK/a.err" || fail "exit $?"
assert_eq "iots-ingest: warning: line 1: ts: 1969-12-31T23:59:59.995Z is before 2000-01-01 (the node's clock is not set)
iots-ingest: warning: line 2: ts: 1999-12-31T23:59:59.000Z is before 2000-01-01 (the node's clock is not set)
iots-ingest: warning: line 3: ts: $AHEAD_2D is more than 1d ahead of this host's clock
iots-ingest: info: received 5, stored 2, rejected 3, duplicates 0" "$(cat "$WORK/a.err")" "stderr"
assert_eq "4 5" "$(jq -r .value "$WORK/a.out" | xargs)" "readings passed on"
assert_eq 2 "$(db_count "$WORK/a.db" readings)" "rows stored"
assert_eq 3 "$(sqlite3 "$WORK/a.db" "SELECT value FROM stats WHERE key = 'rejected_readings'")" \
    "stats.rejected_readings"

# --strict: exit 65 at the first one, with its reason.
rc=0
iots-ingest --strict < "$WORK/in.ndjson" > /dev/null 2> "$WORK/strict.err" || rc=$?
assert_eq 65 "$rc" "--strict exit status"
grep -q "^iots-ingest: error: line 1: ts: 1969-12-31T23:59:59.995Z is before 2000-01-01" \
    "$WORK/strict.err" || fail "--strict message: $(cat "$WORK/strict.err")"

# --max-skew 3d lets the clock 2 days ahead in; a bad duration is a usage error.
iots-ingest --max-skew 3d < "$WORK/in.ndjson" > "$WORK/skew.out" 2> /dev/null
assert_eq "3 4 5" "$(jq -r .value "$WORK/skew.out" | xargs)" "passed on with --max-skew 3d"
rc=0
iots-ingest --max-skew soon < /dev/null 2> /dev/null || rc=$?
assert_eq 2 "$rc" "--max-skew soon"

# --stamp-bad-clock: stored at the time of receipt, marked, the node's ts kept.
BEFORE=$(date -u +%s)
iots-ingest --stamp-bad-clock --retain-raw 0 --db "$WORK/s.db" < "$WORK/in.ndjson" > "$WORK/s.out" 2> "$WORK/s.err" \
    || fail "--stamp-bad-clock exit $?"
AFTER=$(date -u +%s)
assert_eq "iots-ingest: info: received 5, stored 5, rejected 0, duplicates 0, stamped 3" \
    "$(cat "$WORK/s.err")" "--stamp-bad-clock stderr"
assert_eq "1969-12-31T23:59:59.995Z 1999-12-31T23:59:59.000Z $AHEAD_2D" \
    "$(jq -r 'select(.clock == "stamped") | .node_ts' "$WORK/s.out" | xargs)" "node_ts kept"
jq -e -s --argjson lo "$BEFORE" --argjson hi "$((AFTER + 1))" \
    'map(select(.clock == "stamped") | .ts | sub("\\.[0-9]+Z$"; "Z") | fromdate)
     | length == 3 and all(. >= $lo and . <= $hi)' "$WORK/s.out" > /dev/null \
    || fail "stamped readings are not at the time of receipt: $(cat "$WORK/s.out")"
assert_eq 3 "$(db_count "$WORK/s.db" readings "extra LIKE '%\"clock\":\"stamped\"%'")" \
    "stamped rows stored marked"

# Simulated history from the past is not a wrong clock.
iots-sim --devices 1 --count 60 --start 2025-10-20T00:00:00Z > "$WORK/sim.ndjson" 2> /dev/null
iots-ingest --db "$WORK/sim.db" --quiet < "$WORK/sim.ndjson" 2> "$WORK/sim.err" || fail "sim exit $?"
assert_eq 60 "$(db_count "$WORK/sim.db" readings)" "rows from iots-sim --start 2025-10-20"
pass "wrong clocks rejected with a reason, or stamped and marked"
