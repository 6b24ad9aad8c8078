# iots-serve's command line: exit codes of DESIGN §5 with one-line errors, --help, and a reading
# stored by iots-ingest reaching an open live stream.
. "$(dirname "$0")/lib.sh"

DB="$WORK/home.db"
expect_exit() { # code what command...
    local want=$1 what=$2; shift 2
    local rc=0
    "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
    assert_eq "$want" "$rc" "$what: exit status"
    [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "$what: expected one line on stderr, got: $(cat "$WORK/err")"
    grep -q '^iots-serve: error: ' "$WORK/err" || fail "$what: $(cat "$WORK/err")"
}

iots-serve --help > "$WORK/help" || fail "--help"
for o in --db --listen --tokens --allow-control --allow-host --threads --max-streams \
    --max-streams-per-client --max-connections --max-connections-per-client --poll; do
    grep -q -- "$o" "$WORK/help" || fail "--help lacks $o"
done
expect_exit 2 "bad --listen" iots-serve --db "$DB" --listen 127.0.0.1:http
expect_exit 2 "v6 without brackets" iots-serve --db "$DB" --listen ::1:8080
expect_exit 2 "bad --poll" iots-serve --db "$DB" --poll 1ms
expect_exit 2 "--max-streams 0" iots-serve --db "$DB" --max-streams 0
expect_exit 2 "--max-connections 0" iots-serve --db "$DB" --max-connections 0
expect_exit 66 "missing tokens file" iots-serve --db "$DB" --tokens "$WORK/none"
printf '0123456789abcdef0123 read\n' > "$WORK/tokens"
chmod 644 "$WORK/tokens"
expect_exit 77 "tokens file others may read" iots-serve --db "$DB" --tokens "$WORK/tokens"
grep -q "is open to others (mode 0644): chmod 600" "$WORK/err" || fail "tokens mode: $(cat "$WORK/err")"
printf 'short read\n' > "$WORK/tokens"
chmod 600 "$WORK/tokens"
expect_exit 78 "bad tokens file" iots-serve --db "$DB" --tokens "$WORK/tokens"
grep -q "line 1: token shorter than 16 characters" "$WORK/err" || fail "tokens error: $(cat "$WORK/err")"
expect_exit 66 "unopenable database" iots-serve --db "$WORK/no/such/dir/home.db" --listen 127.0.0.1:0

# A port already taken: 69.
PORT=$(free_port)
background iots-serve --db "$DB" --listen "127.0.0.1:$PORT" 2> "$WORK/serve.err"
SERVE_PID=$LAST_PID
wait_port "$PORT"
expect_exit 69 "port in use" iots-serve --db "$DB" --listen "127.0.0.1:$PORT"

# Live: a reading stored by iots-ingest after the stream opened is pushed to it.
curl -sS -N "http://127.0.0.1:$PORT/api/stream" > "$WORK/stream" 2> "$WORK/curl.err" &
BG_PIDS+=($!)
wait_until 10 grep -q ': connected' "$WORK/stream" || fail "stream did not open"
echo '{"ts":"2025-10-25T16:45:12.123Z","device":"esp32-hall","sensor":"temperature","value":21.75,"seq":1}' \
    | iots-ingest --db "$DB" --quiet 2> "$WORK/ingest.err"
wait_until 10 grep -q '"device":"esp32-hall"' "$WORK/stream" || fail "reading not streamed: $(cat "$WORK/stream")"
grep -A1 '^event: reading$' "$WORK/stream" | grep -q '"value":21.75' || fail "stream: $(cat "$WORK/stream")"
kill -INT "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
assert_eq 0 "$rc" "exit status after SIGINT with a stream open"
pass "exit codes and live stream"
