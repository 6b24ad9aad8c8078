# SIGTERM to a filter whose reader stopped reading (a FIFO held open, never read): the write it
# is blocked in cannot finish, so the tool gives its output up, says so and exits 0 instead of
# hanging. A reader that reads slowly is still waited for: nothing is given up.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
WARN="warning: stdout is not being read; stopping without writing the rest"
mkfifo out.fifo in.fifo

# Stops $1 (pid) with SIGTERM; fails if it is still running 30 s later (then kills it).
term_and_wait() {
    local pid=$1 what=$2
    kill -TERM "$pid"
    gone() { ! kill -0 "$pid" 2>/dev/null; }
    if ! wait_until 30 gone; then
        kill -KILL "$pid"
        fail "$what did not stop on SIGTERM with a stalled reader"
    fi
    rc=0
    wait "$pid" || rc=$?
    assert_eq 0 "$rc" "$what exit after SIGTERM with a stalled reader"
}
# True once the process is blocked writing to a full pipe (its output is not being read).
blocked_on_pipe() { grep -q pipe_write "/proc/$1/wchan" 2>/dev/null; }

# 1. iots-sim writing two weeks of readings into a pipe nobody reads.
exec 4<> out.fifo
iots-sim --duration 14d > out.fifo 2> sim.err 4<&- &
SIM=$!
BG_PIDS+=("$SIM")
wait_until 30 blocked_on_pipe "$SIM" || fail "iots-sim never blocked on its output"
term_and_wait "$SIM" iots-sim
assert_eq "iots-sim: $WARN" "$(cat sim.err)" "iots-sim stderr"

# 2. iots-detect, its input a FIFO kept open, its output nobody reads.
iots-sim --duration 2d > day.ndjson
exec 5<> in.fifo
iots-detect < in.fifo > out.fifo 2> detect.err 4<&- 5<&- &
DETECT=$!
BG_PIDS+=("$DETECT")
cat day.ndjson >&5 &
BG_PIDS+=($!)
wait_until 30 blocked_on_pipe "$DETECT" || fail "iots-detect never blocked on its output"
term_and_wait "$DETECT" iots-detect
grep -q "^iots-detect: $WARN\$" detect.err || fail "iots-detect stderr: $(cat detect.err)"
exec 5<&-

# 3. A slow reader is no stall: SIGTERM while iots-sim waits on a reader that reads in bursts; it
# stops after the current record with its output whole (complete lines, no warning).
exec 4<&-
rm -f out.fifo
mkfifo out.fifo
python3 -c '
import sys, time
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
    while True:
        b = f.read(4096)
        if not b:
            break
        out.write(b)
        time.sleep(0.01)
' out.fifo slow.out &
READER=$!
BG_PIDS+=("$READER")
iots-sim --duration 14d > out.fifo 2> slow.err &
SIM=$!
BG_PIDS+=("$SIM")
wait_until 30 blocked_on_pipe "$SIM" || fail "iots-sim never waited on the slow reader"
term_and_wait "$SIM" "iots-sim (slow reader)"
wait "$READER"
assert_eq "" "$(cat slow.err)" "stderr with a slow reader"
[ "$(tail -c 1 slow.out | od -An -c | tr -d ' ')" = '\n' ] || fail "the output ends mid-line"
jq -e . slow.out > /dev/null || fail "a broken line in the slow reader's output"
pass "SIGTERM ends a stall on stdout (sim, detect), a slow reader is waited for"
