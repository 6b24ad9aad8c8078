# iots-serve with 100 slow clients (slowloris: a header byte now and then, never a whole head):
# the API keeps answering, the slow connections are cut off, and SIGTERM stops the server at once
# while 100 more are open, not when they leave.
. "$(dirname "$0")/lib.sh"

DB="$WORK/home.db"
PORT=$(free_port)
background iots-serve --db "$DB" --listen "127.0.0.1:$PORT" --max-connections-per-client 200 \
    2> "$WORK/serve.err"
SERVE=$LAST_PID
wait_port "$PORT"

# 100 connections, a byte every 0.5 s for 3 s, then kept open silent; prints how many the server
# closed and how many health checks (from the same address, meanwhile) answered 200.
python3 - "$PORT" > "$WORK/slow.out" <<'PY' &
import socket, sys, time, urllib.request
port = int(sys.argv[1])
slow = []
for _ in range(100):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    slow.append(s)
ok = 0
for _ in range(6):
    for s in slow:
        try:
            s.sendall(b"a")
        except OSError:
            pass
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as r:
        ok += r.status == 200
    time.sleep(0.5)
cut = 0
for s in slow:  # the head deadline (10 s) closes them without an answer
    s.settimeout(15)
    try:
        cut += s.recv(1) == b""
    except OSError:
        cut += 1
print(ok, cut)
PY
SLOW=$!
wait "$SLOW" || fail "the slow clients' script failed"
read -r ok cut < "$WORK/slow.out"
assert_eq 6 "$ok" "health checks answered with 100 slow clients open"
assert_eq 100 "$cut" "slow connections cut off at the head deadline"

# SIGTERM with 100 slow clients open: the server exits at once (bounded wait, not a timing).
python3 - "$PORT" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
for s in held:
    s.sendall(b"GET / HTTP/1.1\r\nHo")
time.sleep(30)
PY
HOLD=$!
BG_PIDS+=("$HOLD")
sleep 1
kill -TERM "$SERVE"
gone() { [ ! -e "/proc/$SERVE" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$SERVE/stat"; }
wait_until 5 gone || fail "iots-serve still running 5 s after SIGTERM"
rc=0
wait "$SERVE" || rc=$?
assert_eq 0 "$rc" "exit status after SIGTERM"
pass "slow clients leave the API answering, are cut off, and do not delay SIGTERM"
