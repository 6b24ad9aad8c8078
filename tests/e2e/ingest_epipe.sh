# iots-ingest when the reader of its stdout goes away or stops reading. Storing comes first: on
# EPIPE it stops passing records on, says so once, stores every reading it reads and exits 0. A
# reader that stalls holds it up (back-pressure up to the tool before it), memory stays flat.
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
WARN="iots-ingest: warning: stdout closed; storing without passing records on"

# 1. The reporter's case: | head -5 on 30,000 readings.
N=30000
$R gen $N > "$WORK/in.ndjson"
iots-ingest --db "$WORK/head.db" < "$WORK/in.ndjson" 2> "$WORK/head.err" | head -5 \
    > "$WORK/head.out" || true
rc=${PIPESTATUS[0]}
assert_eq 0 "$rc" "exit status under | head -5"
assert_eq 5 "$(wc -l < "$WORK/head.out")" "lines head got"
assert_eq "$N" "$($R compare "$WORK/head.db" "$WORK/in.ndjson")" "rows stored under | head -5"
# Whether head left before the first write or after a few, the warning comes once, then the
# counters of the whole input.
assert_eq 1 "$(grep -c "^$WARN\$" "$WORK/head.err")" "stdout-closed warnings"
assert_eq "iots-ingest: info: received $N, stored $N, rejected 0, duplicates 0" \
    "$(tail -n 1 "$WORK/head.err")" "counters at exit"
assert_eq 2 "$(wc -l < "$WORK/head.err")" "stderr lines"

# 2. The reader is gone before the first record: the very first write meets EPIPE.
python3 - "$WORK" <<'EOF' || fail "closed-pipe run: see closed.err"
import os, subprocess, sys
work = sys.argv[1]
r, w = os.pipe()
os.close(r)
with open(f"{work}/in.ndjson") as inp, open(f"{work}/closed.err", "w") as err:
    rc = subprocess.call(["iots-ingest", "--db", f"{work}/closed.db"], stdin=inp, stdout=w,
                         stderr=err)
sys.exit(rc)
EOF
assert_eq "$N" "$(db_count "$WORK/closed.db" readings)" "rows stored with stdout closed"
assert_eq 1 "$(grep -c "^$WARN\$" "$WORK/closed.err")" "warnings with stdout closed"

# 3. A reader that stalls, then leaves: iots-sim | iots-ingest > FIFO that nobody reads. Ingest
# stops storing once its output and chunk pool are full, iots-sim waits on its pipe, and memory
# stays bounded; when the reader closes, ingest stores the rest and exits 0.
N=200000
mkfifo "$WORK/out.fifo"
exec 4<> "$WORK/out.fifo" # a reader that never reads (and, being read-write, never blocks open)
mkfifo "$WORK/sim.fifo"
iots-sim --count $N --seed 5 > "$WORK/sim.fifo" 2> "$WORK/sim.err" 4<&- &
SIM=$!
BG_PIDS+=("$SIM")
iots-ingest --db "$WORK/stall.db" < "$WORK/sim.fifo" > "$WORK/out.fifo" 2> "$WORK/stall.err" 4<&- &
INGEST=$!
BG_PIDS+=("$INGEST")
rows() { db_count "$WORK/stall.db" readings 2>/dev/null || echo 0; }
LAST=-1
stalled() { # the row count has stopped growing (sampled 1 s apart)
    local now
    now=$(rows)
    [ "$now" -gt 0 ] && [ "$now" -eq "$LAST" ] && return 0
    LAST=$now
    sleep 1
    return 1
}
wait_until 60 stalled || fail "ingest never stalled: $(rows) rows"
STALL_ROWS=$(rows)
[ "$STALL_ROWS" -lt $((N / 2)) ] || fail "stored $STALL_ROWS of $N with nobody reading"
kill -0 "$SIM" 2>/dev/null || fail "iots-sim finished while the pipeline was stalled"
HWM_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$INGEST/status")
# The simulated input is about 30 MB; held output is bounded at 4 MiB and the chunk pool at 2 MiB.
# AddressSanitizer's shadow and quarantine add tens of MB of their own: the release run holds the
# tight bound.
LIMIT_KB=32768
# grep reads all of ldd's output (no -q): under pipefail an early exit of grep -q can fail the
# pipeline with ldd's SIGPIPE, and the tight bound would then apply to a sanitized build.
ldd "$IOTS_BIN/iots-ingest" | grep libasan >/dev/null && LIMIT_KB=131072
[ "$HWM_KB" -lt "$LIMIT_KB" ] || fail "ingest peak memory ${HWM_KB} kB while stalled"
exec 4<&- # the reader leaves without reading a line
rc=0
wait "$INGEST" || rc=$?
assert_eq 0 "$rc" "ingest exit after the stalled reader left"
rc=0
wait "$SIM" || rc=$?
assert_eq 0 "$rc" "iots-sim exit"
assert_eq "$N" "$(rows)" "rows stored after the stall"
assert_eq 1 "$(grep -c "^$WARN\$" "$WORK/stall.err")" "warnings after the stall"
assert_eq "iots-ingest: info: received $N, stored $N, rejected 0, duplicates 0" \
    "$(tail -n 1 "$WORK/stall.err")" "counters after the stall"
echo "stalled at $STALL_ROWS of $N rows, ingest peak ${HWM_KB} kB"

# 4. SIGTERM while the reader stalls: ingest cannot flush to it, so it gives up the output, commits
# every reading it received, says so and exits 0 (it does not hang in write(2)).
STALL_WARN="iots-ingest: warning: stdout is not being read; stopping without passing the last records on"
exec 4<> "$WORK/out.fifo"
iots-sim --count $N --seed 6 > "$WORK/sim.fifo" 2> "$WORK/sim2.err" 4<&- &
SIM=$!
BG_PIDS+=("$SIM")
iots-ingest --db "$WORK/term.db" < "$WORK/sim.fifo" > "$WORK/out.fifo" 2> "$WORK/term.err" 4<&- &
INGEST=$!
BG_PIDS+=("$INGEST")
rows() { db_count "$WORK/term.db" readings 2>/dev/null || echo 0; }
LAST=-1
wait_until 60 stalled || fail "ingest never stalled: $(rows) rows"
kill -TERM "$INGEST"
gone() { ! kill -0 "$INGEST" 2>/dev/null; }
if ! wait_until 30 gone; then
    kill -KILL "$INGEST" # the cleanup's SIGTERM would not end it either
    fail "ingest did not stop on SIGTERM with a stalled reader: $(cat "$WORK/term.err")"
fi
rc=0
wait "$INGEST" || rc=$?
assert_eq 0 "$rc" "ingest exit after SIGTERM with a stalled reader"
received=$(sed -n 's/^iots-ingest: info: received \([0-9]*\), stored \([0-9]*\), rejected 0, duplicates 0$/\1 \2/p' "$WORK/term.err")
[ -n "$received" ] || fail "no counters after SIGTERM: $(cat "$WORK/term.err")"
read -r received stored <<< "$received"
assert_eq "$received" "$stored" "stored = received after SIGTERM"
assert_eq "$received" "$(rows)" "rows = received after SIGTERM"
assert_eq 1 "$(grep -c "^$STALL_WARN\$" "$WORK/term.err")" "stalled-stdout warnings"
exec 4<&-
wait "$SIM" 2>/dev/null || true
pass "EPIPE stores everything, a stalled reader holds the pipeline up, SIGTERM ends a stall"
