#!/usr/bin/env bash
# --retain on a real SQLite file. Simulated history (iots-sim starts in 2025) is older than the
# window counted from the clock: it is kept, with one warning that names the count, the cutoff and
# the newest reading, whether it streams in with --retain or is already stored; --retain-force
# deletes it, and says how many. With a reading of now stored, the history is old by any measure
# and goes, and each pass says how many readings it deleted older than what.
. "$(dirname "$0")/lib.sh"

# One series (a retention step deletes the old rows of one series): all but its newest reading.
iots-sim --devices 1 --duration 1h --seed 7 | grep '"sensor":"temperature"' > "$WORK/all.ndjson"
head -n -1 "$WORK/all.ndjson" > "$WORK/history.ndjson"
N=$(wc -l < "$WORK/history.ndjson")
[ "$N" -gt 100 ] || fail "expected a history, got $N readings"
NEWEST=$(tail -n 1 "$WORK/all.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ts"])')
# One reading of now, of a device the history does not have.
now_reading() {
    python3 -c 'import json,sys,datetime
r = json.loads(sys.stdin.readline())
r["device"] = "esp32-now"
r["ts"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
print(json.dumps(r))' < "$WORK/history.ndjson"
}
# The series' newest reading, of 2025 too.
old_reading() { tail -n 1 "$WORK/all.ndjson"; }
# The cutoff named on stderr is 30 days before now (within 10 minutes).
cutoff_is_30d_ago() { # stderr-file
    local c
    c=$(sed -n 's/.* older than \([0-9TZ:.-]*\).*/\1/p' "$1" | head -n 1)
    [ -n "$c" ] || fail "no cutoff named: $(cat "$1")"
    python3 - "$c" <<'PY' || fail "cutoff $c is not 30 days ago"
import sys, datetime
c = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
want = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
sys.exit(abs((c - want).total_seconds()) > 600)
PY
}

# The issue: simulated history streamed in with --retain 30d. Nothing is deleted; one warning.
iots-ingest --db "$WORK/stream.db" --retain 30d --quiet < "$WORK/history.ndjson" 2> "$WORK/stream.err" ||
    fail "exit $?"
assert_eq "$N" "$(db_count "$WORK/stream.db" readings)" "history kept"
assert_eq 1 "$(grep -c "^iots-ingest: warning: --retain: all [0-9]* stored readings are older than .*, the newest from .*: none deleted; --retain-force deletes them$" "$WORK/stream.err")" \
    "one warning: $(cat "$WORK/stream.err")"
assert_eq 2 "$(wc -l < "$WORK/stream.err")" "lines on stderr (the warning, the counters): $(cat "$WORK/stream.err")"
cutoff_is_30d_ago "$WORK/stream.err"

# History already stored, one more old reading: the warning counts every stored reading.
iots-ingest --db "$WORK/kept.db" --quiet < "$WORK/history.ndjson" 2> /dev/null
old_reading | iots-ingest --db "$WORK/kept.db" --retain 30d --quiet 2> "$WORK/kept.err" || fail "exit $?"
assert_eq $((N + 1)) "$(db_count "$WORK/kept.db" readings)" "history kept"
grep -q "^iots-ingest: warning: --retain: all $((N + 1)) stored readings are older than .*, the newest from $NEWEST (simulated or replayed history?): none deleted; --retain-force deletes them$" "$WORK/kept.err" ||
    fail "warning: $(cat "$WORK/kept.err")"
cutoff_is_30d_ago "$WORK/kept.err"
! grep -q "retention deleted" "$WORK/kept.err" || fail "said it deleted: $(cat "$WORK/kept.err")"

# --retain-force deletes it, and says so (the reading given is stored already).
old_reading | iots-ingest --db "$WORK/kept.db" --retain 30d --retain-force --quiet 2> "$WORK/force.err" ||
    fail "exit $?"
assert_eq 0 "$(db_count "$WORK/kept.db" readings)" "rows after --retain-force"
grep -q "^iots-ingest: info: retention deleted $((N + 1)) readings older than " "$WORK/force.err" ||
    fail "no count of deleted readings: $(cat "$WORK/force.err")"
! grep -q "warning" "$WORK/force.err" || fail "warned with --retain-force: $(cat "$WORK/force.err")"
cutoff_is_30d_ago "$WORK/force.err"

# A reading of now stored: the history goes without --retain-force, and the pass says how much.
iots-ingest --db "$WORK/live.db" --quiet < "$WORK/history.ndjson" 2> /dev/null
now_reading | iots-ingest --db "$WORK/live.db" --retain 30d --quiet 2> "$WORK/live.err" || fail "exit $?"
assert_eq 1 "$(db_count "$WORK/live.db" readings)" "rows left: the reading of now"
assert_eq esp32-now "$(sqlite3 "$WORK/live.db" "SELECT d.name FROM readings r JOIN series s ON s.id = r.series_id JOIN devices d ON d.id = s.device_id")" "the reading left"
grep -q "^iots-ingest: info: retention deleted $N readings older than " "$WORK/live.err" ||
    fail "no count of deleted readings: $(cat "$WORK/live.err")"
# ... after one warning that it is about to delete most of them (issue 18).
assert_eq 1 "$(grep -c "warning" "$WORK/live.err")" "warnings: $(cat "$WORK/live.err")"
grep -q "^iots-ingest: warning: --retain-raw: deleting about 100% of the stored readings (older than " "$WORK/live.err" ||
    fail "no warning before most readings go: $(cat "$WORK/live.err")"
cutoff_is_30d_ago "$WORK/live.err"

# --retain and --retain-raw (its newer name) together are a usage error; so is a bad size.
rc=0
iots-ingest --db "$WORK/x.db" --retain 30d --retain-raw 30d < /dev/null 2> "$WORK/usage.err" || rc=$?
assert_eq 2 "$rc" "exit status of --retain with --retain-raw"
assert_eq "iots-ingest: error: --retain and --retain-raw: give one of them" "$(cat "$WORK/usage.err")" "its message"
rc=0
iots-ingest --db "$WORK/x.db" --max-db-size 12X < /dev/null 2> "$WORK/size.err" || rc=$?
assert_eq 2 "$rc" "exit status of a bad --max-db-size"
assert_eq "iots-ingest: error: --max-db-size: '12X' is not a size (like 800M, 2G or 500000000)" "$(cat "$WORK/size.err")" "its message"
for size in 999999999999999T 0 999k; do # past the int64 product, and no room for the schema
    rc=0
    iots-ingest --db "$WORK/x.db" --max-db-size "$size" < /dev/null 2> "$WORK/size.err" || rc=$?
    assert_eq 2 "$rc" "exit status of --max-db-size $size"
    assert_eq "iots-ingest: error: --max-db-size: '$size' is not a size from 1M to 1000T" "$(cat "$WORK/size.err")" "its message"
done

# The default tiers (raw 30 days): simulated history is kept without a word on stderr, and its
# rollups are built; a reading of now then makes the raw history go (and its minute rollups, older
# than 365 days), the hour rollups stay, and the pass says first that it deletes most readings.
iots-ingest --db "$WORK/default.db" --quiet < "$WORK/history.ndjson" 2> "$WORK/default.err" || fail "exit $?"
assert_eq 1 "$(wc -l < "$WORK/default.err")" "only the counters on stderr: $(cat "$WORK/default.err")"
assert_eq "$N" "$(db_count "$WORK/default.db" readings)" "history kept by the default tiers"
assert_eq "$N" "$(sqlite3 "$WORK/default.db" "SELECT sum(count) FROM rollup_minute")" "rollups of every reading"
now_reading | iots-ingest --db "$WORK/default.db" --quiet 2> "$WORK/default-now.err" || fail "exit $?"
assert_eq 1 "$(db_count "$WORK/default.db" readings)" "rows left with the default tiers"
grep -q "^iots-ingest: warning: --retain-raw: deleting about [0-9]*% of the stored readings (older than " "$WORK/default-now.err" ||
    fail "no warning before most readings go: $(cat "$WORK/default-now.err")"
assert_eq $((N + 1)) "$(sqlite3 "$WORK/default.db" "SELECT sum(count) FROM rollup_hour")" "the hour rollups stay"
pass "history older than --retain kept with a warning, deleted with --retain-force; passes say what they deleted; default tiers"
