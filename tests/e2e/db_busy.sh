#!/usr/bin/env bash
# Another local writer holds the database's write lock for longer than the 5 s busy timeout:
# iots-ingest and iots-alert each warn once, wait, and store everything once the lock is free;
# nothing is lost.
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
db="$WORK/home.db"
iots-ingest --db "$db" < /dev/null 2> /dev/null # the schema
$R gen 2000 > "$WORK/in.ndjson"
iots-sim --devices 1 --duration 20m --start 2025-10-06T00:00:00Z --incident fire@10m 2> /dev/null |
    iots-detect 2> /dev/null > "$WORK/scored.ndjson"

# sqlite3 takes the write lock and keeps it 7 s, then commits its own row.
mkfifo "$WORK/sql"
sqlite3 "$db" < "$WORK/sql" > "$WORK/sqlite3.out" 2> "$WORK/sqlite3.err" &
holder=$!
BG_PIDS+=("$holder")
exec 3> "$WORK/sql"
echo "BEGIN IMMEDIATE; INSERT INTO stats (key, value) VALUES ('holder', 1); SELECT 'held';" >&3
held() { grep -q held "$WORK/sqlite3.out"; }
wait_until 10 held || fail "sqlite3 did not take the lock"
(sleep 7; echo "COMMIT;" >&3; exec 3>&-) &
BG_PIDS+=("$!")
exec 3>&-

# Not through background(): a background job inside a function reads /dev/null, not our file.
iots-alert --replay --db "$db" < "$WORK/scored.ndjson" > "$WORK/alerts.ndjson" 2> "$WORK/alert.err" &
alert=$!
BG_PIDS+=("$alert")
rc=0
iots-ingest --db "$db" < "$WORK/in.ndjson" > "$WORK/out.ndjson" 2> "$WORK/ingest.err" || rc=$?
assert_eq 0 "$rc" "iots-ingest exit status"
rc=0
wait "$alert" || rc=$?
assert_eq 0 "$rc" "iots-alert exit status"
wait "$holder" || fail "sqlite3 exited with $?"
assert_eq 1 "$(grep -c "iots-ingest: warning: $db: busy for 5 s (another writer); retrying" \
    "$WORK/ingest.err")" "busy warnings"
grep -q "error" "$WORK/ingest.err" && fail "iots-ingest: $(cat "$WORK/ingest.err")"
$R compare "$db" "$WORK/in.ndjson" || fail "stored readings differ from the input"
assert_eq 2000 "$(wc -l < "$WORK/out.ndjson")" "records passed on"
assert_eq 1 "$(db_count "$db" stats "key = 'holder'")" "the other writer's row"

assert_eq 1 "$(grep -c "iots-alert: warning: $db: busy for 5 s (another writer); retrying" \
    "$WORK/alert.err")" "iots-alert busy warnings"
alerts=$(jq -r .id "$WORK/alerts.ndjson" | sort -u | wc -l)
[ "$alerts" -gt 0 ] || fail "no alert raised in a fire"
assert_eq "$alerts" "$(db_count "$db" alerts)" "alerts stored"
pass "a lock held 7 s delays iots-ingest and iots-alert, nothing lost"
