# iots-serve --command-timeout over a real broker: a command a node answers (iots-sim --actuators)
# is "done" and stays so; one no device answers becomes "timeout" (database, API, live stream,
# metrics); an answer after that is still recorded, as the device's answer, and logged as late;
# "sent" rows found at a restart time out by their age.
. "$(dirname "$0")/lib.sh"

start_broker
PORT=$(free_port)
DB="$WORK/home.db"
api() { curl -sS --max-time 5 "http://127.0.0.1:$PORT$1" "${@:2}"; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
status_of() { sqlite3 "$DB" "SELECT status FROM commands WHERE id = '$1'"; }
api_status() {
    api /api/control/list/ | jget '[c["status"] for c in d["results"] if c["id"] == "'"$1"'"][0]'
}
is_status() { [ "$(api_status "$1")" = "$2" ]; }
serve() {
    background iots-serve --db "$DB" --listen "127.0.0.1:$PORT" -h 127.0.0.1 -p "$BROKER_PORT" \
        --allow-control "$@" 2>> "$WORK/serve.err"
    SERVE_PID=$LAST_PID
    wait_port "$PORT"
}
stop_serve() {
    kill -TERM "$SERVE_PID"
    local rc=0
    wait "$SERVE_PID" || rc=$?
    assert_eq 0 "$rc" "exit status after SIGTERM"
}

background iots-sim --realtime --interval 1s --devices 2 --actuators -h 127.0.0.1 -p "$BROKER_PORT" \
    > /dev/null 2> "$WORK/sim.err"
online() { mosquitto_sub -p "$BROKER_PORT" -t iotshield/status/esp32-kitchen -C 1 -W 2 \
    2>/dev/null | grep -qx online; }
wait_until 10 online || fail "the simulator did not come online"
sleep 0.5 # its subscription follows the connection

serve --command-timeout 1s
curl -sS -N "http://127.0.0.1:$PORT/api/stream" > "$WORK/stream" 2> "$WORK/curl.err" &
STREAM_PID=$!
BG_PIDS+=("$STREAM_PID")
wait_until 10 grep -q ': connected' "$WORK/stream" || fail "stream did not open"

# The node answers: the command is done.
api /api/control/send/ -o "$WORK/answered.json" -X POST -H 'Content-Type: application/json' \
    -d '{"device":"esp32-kitchen","actuator":"fan","action":"on"}'
DONE_ID=$(jget 'd["id"]' < "$WORK/answered.json")
wait_until 20 is_status "$DONE_ID" done || fail "command $DONE_ID not answered: $(api_status "$DONE_ID")"

# Nobody answers: the command times out.
api /api/control/send/ -o "$WORK/sent.json" -X POST -H 'Content-Type: application/json' \
    -d '{"device":"silent-node","actuator":"fan","action":"on"}'
ID=$(jget 'd["id"]' < "$WORK/sent.json")
assert_eq sent "$(jget 'd["status"]' < "$WORK/sent.json")" "the POST's answer"
wait_until 30 is_status "$ID" timeout || fail "command $ID did not time out: $(api_status "$ID")"
assert_eq "timeout||" "$(sqlite3 "$DB" "SELECT status, ack_ts, latency_ms FROM commands WHERE id = '$ID'")" \
    "the stored row"
timed_out_event() { # STATUS [ID]: the stream told a command event with this status
    python3 - "$WORK/stream" "${2:-$ID}" "$1" <<'EOF'
import json, sys
kind = None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("event: "):
        kind = line[7:]
    elif line.startswith("data: ") and kind == "command":
        d = json.loads(line[6:])
        if d["id"] == sys.argv[2] and d["status"] == sys.argv[3]:
            sys.exit(0)
sys.exit(1)
EOF
}
wait_until 10 timed_out_event timeout || fail "no command event with status timeout: $(cat "$WORK/stream")"
assert_eq 1 "$(api /metrics | grep -c '^iots_serve_command_timeouts_total 1$')" "timeouts counted"
# The answered command, sent before the silent one, is past its deadline too and stays done.
assert_eq done "$(status_of "$DONE_ID")" "the answered command after the expiry"
assert_eq done "$(api_status "$DONE_ID")" "the answered command in the list"
timed_out_event timeout "$DONE_ID" && fail "the answered command was told as timed out"

# The device answers after all: its answer is recorded, with the true latency, and logged as late.
mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/control/silent-node/ack" \
    -m "{\"id\":\"$ID\",\"status\":\"failed\"}"
wait_until 20 is_status "$ID" failed || fail "late answer not recorded: $(api_status "$ID")"
latency=$(sqlite3 "$DB" "SELECT latency_ms FROM commands WHERE id = '$ID'")
[ "$latency" -ge 1000 ] || fail "late answer's latency $latency ms"
wait_until 10 timed_out_event failed || fail "no command event with the late answer"
grep -q "late answer to command $ID from silent-node: failed after [0-9]* ms" "$WORK/serve.err" \
    || fail "late answer not logged"
stop_serve

# A restart: a "sent" row older than the timeout times out at once, a recent one keeps its time.
now=$(($(date +%s) * 1000))
sqlite3 "$DB" "INSERT INTO commands (id, ts, device, actuator, action, status) VALUES
    ('stale', $((now - 7200000)), 'old-node', 'valve', 'close', 'sent'),
    ('fresh', $now, 'old-node', 'valve', 'open', 'sent')"
serve --command-timeout 1h
wait_until 30 is_status stale timeout || fail "stale command did not time out: $(status_of stale)"
assert_eq sent "$(status_of fresh)" "a command younger than the timeout"
stop_serve

# A bad duration is a usage error.
rc=0
iots-serve --db "$DB" --command-timeout soon 2> "$WORK/usage.err" || rc=$?
assert_eq 2 "$rc" "exit status of a bad --command-timeout"
grep -q -- "--command-timeout" "$WORK/usage.err" || fail "the usage error names the option"
grep -q "timed out" "$WORK/serve.err" || fail "the timeout was not logged"
grep -q "command $DONE_ID .*timed out" "$WORK/serve.err" && fail "the answered command was logged as timed out"
pass "an answered command stayed done, a silent device's command timed out, its late answer ($latency ms) replaced the timeout"
