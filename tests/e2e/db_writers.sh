#!/usr/bin/env bash
# Two writers on one new database from one stream, the README's tee pipeline: iots-detect falls
# behind, yet iots-ingest neither fails with "database is locked" nor loses a reading, and every
# stored reading gets its score. Both open the new file at once: its schema is created once.
. "$(dirname "$0")/lib.sh"

N=200000 # enough for iots-detect to fall behind iots-ingest
iots-sim --count "$N" --seed 5 --devices 4 --interval 1s --start 2025-10-06T00:00:00Z \
    > "$WORK/sim.ndjson"

db="$WORK/home.db"
(umask 077 && : > "$db") # new and empty: iots-detect does not create a database, and both migrate it
mkfifo "$WORK/to-ingest" "$WORK/to-detect"
# Not through background(): a function's redirections would open the FIFOs in this shell.
iots-ingest --db "$db" --quiet < "$WORK/to-ingest" 2> "$WORK/ingest.err" &
ingest=$!
BG_PIDS+=("$ingest")
iots-detect --db "$db" < "$WORK/to-detect" > "$WORK/detect.out" 2> "$WORK/detect.err" &
detect=$!
BG_PIDS+=("$detect")
tee "$WORK/to-ingest" < "$WORK/sim.ndjson" > "$WORK/to-detect" || true # SIGPIPE if one fails

rc=0
wait "$ingest" || rc=$?
assert_eq 0 "$rc" "iots-ingest exit status"
rc=0
wait "$detect" || rc=$?
assert_eq 0 "$rc" "iots-detect exit status"
grep -q "locked" "$WORK/ingest.err" "$WORK/detect.err" && fail "a writer saw a locked database"

assert_eq "$N" "$(db_count "$db" readings)" "stored readings"
assert_eq "$N" "$(wc -l < "$WORK/detect.out")" "scored readings"
assert_eq 0 "$(db_count "$db" readings 'score IS NULL')" "stored readings without a score"
grep -q "stored scores $N (.*not in database 0)" "$WORK/detect.err" ||
    fail "iots-detect counters: $(tail -n 1 "$WORK/detect.err")"
assert_eq "$(grep -c '"anomaly":true' "$WORK/detect.out")" "$(db_count "$db" anomalies)" \
    "anomalies rows"
pass "$N readings stored and scored by two writers;$(grep -o ', stored scores.*' "$WORK/detect.err" | cut -c2-)"
