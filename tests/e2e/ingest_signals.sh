# SIGTERM in mid-stream loses nothing: every reading received is stored and passed on, exit 0.
# SIGUSR1 prints the counters.
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"

# 1. A stream that pauses: 500 lines through a FIFO that stays open, then SIGUSR1 and SIGTERM.
mkfifo "$WORK/fifo"
iots-ingest --db "$WORK/a.db" --batch-size 100000 --batch-ms 1h < "$WORK/fifo" > "$WORK/a.out" \
    2> "$WORK/a.err" &
INGEST=$!
BG_PIDS+=("$INGEST")
exec 3> "$WORK/fifo"
$R gen 500 >&3
out_lines() { [ "$(wc -l < "$WORK/a.out")" -eq "$1" ]; }
wait_until 20 out_lines 500 || fail "500 records not passed on: $(wc -l < "$WORK/a.out")"
kill -USR1 "$INGEST"
has_counters() { grep -q "received 500, stored 500" "$WORK/a.err"; }
wait_until 10 has_counters || fail "no counters after SIGUSR1: $(cat "$WORK/a.err")"
kill -TERM "$INGEST"
rc=0
wait "$INGEST" || rc=$?
exec 3>&-
assert_eq 0 "$rc" "exit status after SIGTERM"
assert_eq 500 "$(db_count "$WORK/a.db" readings)" "rows after SIGTERM"

# 2. A stream that never pauses: SIGTERM while a writer floods the pipe. What was received is
# stored and passed on (the rest was never read), and the counters at exit agree with the file.
mkfifo "$WORK/flood"
iots-ingest --db "$WORK/b.db" < "$WORK/flood" > "$WORK/b.out" 2> "$WORK/b.err" &
INGEST=$!
BG_PIDS+=("$INGEST")
python3 -c '
import json, sys
try:
    for i in range(10**8):
        sys.stdout.write(json.dumps({"ts": 1761410712000 + i, "device": "flood", "sensor": "gas",
                                     "value": 400 + i % 50, "seq": i}) + "\n")
except BrokenPipeError:
    pass
' > "$WORK/flood" 2>/dev/null &
WRITER=$!
BG_PIDS+=("$WRITER")
started() { [ "$(db_count "$WORK/b.db" readings 2>/dev/null || echo 0)" -gt 1000 ]; }
wait_until 30 started || fail "the flood did not start"
kill -TERM "$INGEST"
rc=0
wait "$INGEST" || rc=$?
assert_eq 0 "$rc" "exit status after SIGTERM in a flood"
wait "$WRITER" 2>/dev/null || true
received=$(sed -n 's/.*received \([0-9]*\), stored \([0-9]*\), rejected 0, duplicates 0$/\1/p' "$WORK/b.err")
stored=$(sed -n 's/.*received \([0-9]*\), stored \([0-9]*\), rejected 0, duplicates 0$/\2/p' "$WORK/b.err")
[ -n "$received" ] || fail "no counters at exit: $(cat "$WORK/b.err")"
assert_eq "$received" "$stored" "stored = received"
assert_eq "$received" "$(db_count "$WORK/b.db" readings)" "rows = received"
assert_eq "$received" "$(wc -l < "$WORK/b.out")" "records passed on = received"
# The stored ones are the first $received lines of the stream, none skipped.
assert_eq "$((received - 1))" "$(sqlite3 "$WORK/b.db" "SELECT max(seq) FROM readings")" "last seq"
pass "SIGTERM loses nothing"
