# iots-serve's control loop over a real broker: a command sent through the API reaches a simulated
# node (iots-sim --actuators), its answer comes back on .../ack and is stored with its latency.
. "$(dirname "$0")/lib.sh"

start_broker
PORT=$(free_port)
DB="$WORK/home.db"
api() { curl -sS --max-time 5 "http://127.0.0.1:$PORT$1" "${@:2}"; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

background iots-sim --realtime --interval 1s --devices 1 --actuators -h 127.0.0.1 -p "$BROKER_PORT" \
    2> "$WORK/sim.err"
background iots-ingest -h 127.0.0.1 -p "$BROKER_PORT" --db "$DB" --quiet 2> "$WORK/ingest.err"
wait_until 20 test -s "$DB" || fail "ingest made no database"
background iots-serve --db "$DB" --listen "127.0.0.1:$PORT" -h 127.0.0.1 -p "$BROKER_PORT" \
    --allow-control 2> "$WORK/serve.err"
SERVE_PID=$LAST_PID
wait_port "$PORT"

has_device() { [ "$(api /api/devices/list/ | jget 'd["count"]')" -ge 1 ]; }
wait_until 20 has_device || fail "no device stored"
DEVICE=$(api /api/devices/list/ | jget 'd["results"][0]["device"]')

# The command is stored and published; the node answers; the answer is recorded.
code=$(api /api/control/send/ -o "$WORK/sent.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' \
    -d "{\"device\":\"$DEVICE\",\"actuator\":\"fan\",\"action\":\"on\"}")
assert_eq 202 "$code" "POST /api/control/send/ status"
ID=$(jget 'd["id"]' < "$WORK/sent.json")
assert_eq "iotshield/control/$DEVICE" "$(jget 'd["topic"]' < "$WORK/sent.json")" "topic"
answered() { [ "$(sqlite3 "$DB" "SELECT status FROM commands WHERE id = '$ID'")" = done ]; }
wait_until 20 answered || fail "command $ID was not answered: $(sqlite3 "$DB" 'SELECT * FROM commands')"
row=$(api /api/control/list/ | jget '[(c["status"], type(c["latency_ms"]).__name__) for c in d["results"] if c["id"] == "'"$ID"'"]')
assert_eq "[('done', 'int')]" "$row" "the list shows the answer and its latency"
latency=$(sqlite3 "$DB" "SELECT latency_ms FROM commands WHERE id = '$ID'")
[ "$latency" -ge 0 ] || fail "latency $latency"
assert_eq 1 "$(api /metrics | grep -c '^iots_serve_command_acks_total 1$')" "acks counted"

# An answer from another device's topic does not settle a command.
code=$(api /api/control/send/ -o "$WORK/sent2.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{"device":"no-such-node","actuator":"valve","action":"close"}')
assert_eq 202 "$code" "second command"
ID2=$(jget 'd["id"]' < "$WORK/sent2.json")
mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/control/$DEVICE/ack" -m "{\"id\":\"$ID2\",\"status\":\"done\"}"
mosquitto_pub -p "$BROKER_PORT" -q 1 -t "iotshield/control/no-such-node/ack" -m '{"id":"x"}'
wait_until 10 grep -q "ignored an answer on iotshield/control/no-such-node/ack" "$WORK/serve.err" \
    || fail "bad answer not reported"
assert_eq sent "$(sqlite3 "$DB" "SELECT status FROM commands WHERE id = '$ID2'")" "foreign ack ignored"
grep -q "ignored an answer on iotshield/control/$DEVICE/ack: no command $ID2" "$WORK/serve.err" \
    || fail "foreign ack not reported"

# SIGTERM: a clean stop with 0.
kill -TERM "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
assert_eq 0 "$rc" "exit status after SIGTERM"
pass "command answered by iots-sim in ${latency} ms"
