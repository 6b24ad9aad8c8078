# A file with a known mix of good and bad lines: exact counts, exact messages, exit codes. Two
# duplicates: a reading with seq, and one without (the same device, sensor, ts and value). A
# reading without ts (a node whose clock has not synced yet) is stamped on receipt (DESIGN §2):
# its time is the run's, so the comparison writes STAMPED in its place.
. "$(dirname "$0")/lib.sh"
D="$IOTS_TEST_DATA/ingest"

iots-ingest --db "$WORK/m.db" --retain-raw 0 < "$D/mixed.ndjson" > "$WORK/m.out" 2> "$WORK/m.err" || fail "exit $?"
diff -u "$D/mixed.expected-stderr" "$WORK/m.err" || fail "stderr differs from the golden file"
sed -E 's/^\{"ts":"[^"]+",(.*,"clock":"stamped"\})$/{"ts":"STAMPED",\1/' "$WORK/m.out" |
    diff -u "$D/mixed.expected-stdout" - || fail "stdout differs from the golden file"
assert_eq 5 "$(db_count "$WORK/m.db" readings)" "rows stored"
assert_eq 1 "$(sqlite3 "$WORK/m.db" "SELECT count(*) FROM readings WHERE extra = '\"clock\":\"stamped\"' AND ts > 1761410717000")" \
    "the reading without ts stored at its time of receipt"
assert_eq 5 "$(sqlite3 "$WORK/m.db" "SELECT value FROM stats WHERE key = 'rejected_readings'")" \
    "rejected_readings stat"
assert_eq 2 "$(sqlite3 "$WORK/m.db" "SELECT value FROM stats WHERE key = 'duplicate_readings'")" \
    "duplicate_readings stat"
assert_eq '"rssi":-61' "$(sqlite3 "$WORK/m.db" "SELECT DISTINCT extra FROM readings WHERE extra LIKE '%rssi%'")" \
    "unknown fields kept"

# --strict: exit 65 at the first bad record, after committing the good ones before it.
set +e
iots-ingest --strict --db "$WORK/s.db" < "$D/mixed.ndjson" > "$WORK/s.out" 2> "$WORK/s.err"
rc=$?
set -e
assert_eq 65 "$rc" "--strict exit status"
assert_eq "iots-ingest: info: received 3, stored 1, rejected 1, duplicates 1
iots-ingest: error: line 4: value: not a finite number" "$(cat "$WORK/s.err")" "--strict stderr"
assert_eq 1 "$(db_count "$WORK/s.db" readings)" "rows stored before the bad line"
assert_eq 1 "$(wc -l < "$WORK/s.out")" "records passed on before the bad line"

# --max-bad-lines 2: the third rejected record ends the run with 65.
set +e
iots-ingest --max-bad-lines 2 --retain-raw 0 --db "$WORK/b.db" < "$D/mixed.ndjson" > /dev/null 2> "$WORK/b.err"
rc=$?
set -e
assert_eq 65 "$rc" "--max-bad-lines exit status"
assert_eq "iots-ingest: error: more than 2 bad records (--max-bad-lines)" "$(tail -n 1 "$WORK/b.err")" \
    "--max-bad-lines message"
assert_eq 3 "$(grep -c warning "$WORK/b.err")" "warnings before stopping"

# --max-line-bytes: a longer line is rejected with its line number, the rest goes on.
python3 -c 'print("{\"ts\":1761410712000,\"device\":\"d\",\"sensor\":\"gas\",\"value\":1,\"pad\":\"" + "x" * 300 + "\"}")
print("{\"ts\":1761410712000,\"device\":\"d\",\"sensor\":\"gas\",\"value\":2}")' > "$WORK/long.ndjson"
iots-ingest --max-line-bytes 200 < "$WORK/long.ndjson" > "$WORK/long.out" 2> "$WORK/long.err"
assert_eq "iots-ingest: warning: line 1: longer than 200 bytes (--max-line-bytes)" \
    "$(head -n 1 "$WORK/long.err")" "long line message"
assert_eq 1 "$(wc -l < "$WORK/long.out")" "records after a long line"

# A database in a missing directory: 66, one line on stderr.
set +e
iots-ingest --db "$WORK/no/such/dir/x.db" < "$D/mixed.ndjson" > /dev/null 2> "$WORK/66.err"
rc=$?
set -e
assert_eq 66 "$rc" "missing database directory"
assert_eq 1 "$(wc -l < "$WORK/66.err")" "lines of the 66 message"
grep -q "^iots-ingest: error: .*no/such/dir/x.db" "$WORK/66.err" || fail "66 message: $(cat "$WORK/66.err")"

# stdout on a full disk: 74.
set +e
iots-ingest --db "$WORK/f.db" < "$D/mixed.ndjson" > /dev/full 2> "$WORK/74.err"
rc=$?
set -e
assert_eq 74 "$rc" "write to /dev/full"
grep -q "^iots-ingest: error: write to standard output failed" "$WORK/74.err" \
    || fail "74 message: $(cat "$WORK/74.err")"

# Usage errors: 2.
set +e
iots-ingest --retain nonsense < /dev/null 2> /dev/null
rc=$?
set -e
assert_eq 2 "$rc" "bad --retain"
pass "mixed input, golden messages and exit codes"
