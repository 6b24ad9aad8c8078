# iots-ingest in a pipe: N readings in, N rows stored equal field by field, the same N records out.
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
N=2000

$R gen $N > "$WORK/in.ndjson"
iots-ingest --db "$WORK/a.db" < "$WORK/in.ndjson" > "$WORK/out.ndjson" 2> "$WORK/ingest.err" \
    || fail "exit $?"
assert_eq "$N" "$($R compare "$WORK/a.db" "$WORK/in.ndjson")" "rows stored"
$R same "$WORK/in.ndjson" "$WORK/out.ndjson" || fail "stdout differs from the input"
assert_eq "iots-ingest: info: received $N, stored $N, rejected 0, duplicates 0" \
    "$(cat "$WORK/ingest.err")" "counters at exit"
assert_eq 600 "$(stat -c %a "$WORK/a.db")" "database file mode"

# The same input again: every reading is a duplicate, nothing is stored or passed on twice.
iots-ingest --db "$WORK/a.db" < "$WORK/in.ndjson" > "$WORK/again.ndjson" 2> "$WORK/again.err"
assert_eq "iots-ingest: info: received $N, stored 0, rejected 0, duplicates $N" \
    "$(cat "$WORK/again.err")" "counters of a replay"
assert_eq 0 "$(wc -l < "$WORK/again.ndjson")" "records passed on by a replay"
assert_eq "$N" "$(db_count "$WORK/a.db" readings)" "rows after a replay"

# IOTS_DB instead of --db; --quiet prints nothing on stdout.
IOTS_DB="$WORK/env.db" iots-ingest --quiet < "$WORK/in.ndjson" > "$WORK/quiet.out" 2>/dev/null
assert_eq 0 "$(wc -c < "$WORK/quiet.out")" "--quiet output bytes"
assert_eq "$N" "$(db_count "$WORK/env.db" readings)" "rows stored through IOTS_DB"

# Without a database it validates and passes on only.
iots-ingest < "$WORK/in.ndjson" > "$WORK/nodb.ndjson" 2>/dev/null
cmp -s "$WORK/out.ndjson" "$WORK/nodb.ndjson" || fail "output without --db differs"

# Small batches give the same result (--batch-size, --batch-ms).
iots-ingest --db "$WORK/b.db" --batch-size 7 --batch-ms 5ms --quiet < "$WORK/in.ndjson" 2>/dev/null
assert_eq "$N" "$($R compare "$WORK/b.db" "$WORK/in.ndjson")" "rows stored in batches of 7"

# From iots-sim when it exists.
if [ -x "$IOTS_BIN/iots-sim" ]; then
    iots-sim --devices 2 --count 300 --seed 7 > "$WORK/sim.ndjson"
    iots-ingest --db "$WORK/sim.db" --quiet < "$WORK/sim.ndjson" 2>/dev/null
    assert_eq 300 "$(db_count "$WORK/sim.db" readings)" "rows from iots-sim"
fi
pass "pipe form"
