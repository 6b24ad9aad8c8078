# iots-serve against a hostile web page, with a real broker and a real database: every POST route
# (all that /api/openapi.json lists), sent the way a page of another site sends it without asking
# (Origin: http://evil.example, Content-Type: text/plain), is refused, publishes nothing and changes
# nothing, while the dashboard's own POST still goes out. A name that is not the server's (DNS
# rebinding) is refused on every kind of route; an ack id written to forge a log line stays on its
# line, escaped; more live streams than the cap get 503 while the rest keeps answering.
. "$(dirname "$0")/lib.sh"

start_broker
PORT=$(free_port)
DB="$WORK/home.db"
BASE="http://127.0.0.1:$PORT"

# A retained probe tells when the subscriber is ready (it prints and flushes each message).
mosquitto_pub -p "$BROKER_PORT" -t iotshield/control/probe -r -m probe
background mosquitto_sub -p "$BROKER_PORT" -t 'iotshield/control/#' -v > "$WORK/sub.log"
wait_until 10 grep -q probe "$WORK/sub.log" || fail "mosquitto_sub did not subscribe"

background iots-serve --db "$DB" --listen "127.0.0.1:$PORT" -h 127.0.0.1 -p "$BROKER_PORT" \
    --allow-control 2> "$WORK/serve.err"
wait_port "$PORT"
sqlite3 "$DB" "INSERT INTO alerts (id, ts, device, severity, title, status)
               VALUES ('a-1', 1761400000000, 'esp32-kitchen', 'HIGH', 'Gas rising', 'new')"
snapshot() { sqlite3 "$DB" "SELECT id, status, updated_ts FROM alerts; SELECT count(*) FROM commands"; }
before=$(snapshot)

# --- A: a page of another site posting to every POST route.
posts=$(curl -sS "$BASE/api/openapi.json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("\n".join(p.replace("{id}", "a-1") for p, ops in d["paths"].items() if "post" in ops))')
assert_eq 3 "$(echo "$posts" | wc -l)" "POST routes in the OpenAPI document"
CMD='{"device":"esp32-kitchen","actuator":"fan","action":"on"}'
post() { # expected-status what curl-args...
    local want=$1 what=$2; shift 2
    local code
    code=$(curl -sS --max-time 5 -o "$WORK/out" -w '%{http_code}' -X POST "$@" --data "$CMD") || true
    assert_eq "$want" "$code" "$what: $(cat "$WORK/out")"
}
for path in $posts; do
    post 403 "POST $path from evil.example as text/plain" "$BASE$path" \
        -H 'Origin: http://evil.example' -H 'Content-Type: text/plain'
    grep -q '"error":"cross-origin request refused' "$WORK/out" || fail "$path: $(cat "$WORK/out")"
    post 403 "POST $path from evil.example as JSON" "$BASE$path" \
        -H 'Origin: http://evil.example' -H 'Content-Type: application/json'
    post 403 "POST $path with Sec-Fetch-Site: cross-site" "$BASE$path" \
        -H 'Sec-Fetch-Site: cross-site' -H 'Content-Type: application/json'
    post 415 "POST $path without an Origin, as text/plain" "$BASE$path" -H 'Content-Type: text/plain'
done
assert_eq "$before" "$(snapshot)" "the database after the refused posts"

# The dashboard's own POST: same origin, JSON. It reaches the broker, and it is the only one.
post 202 "the dashboard's command" "$BASE/api/control/send/" \
    -H "Origin: $BASE" -H 'Sec-Fetch-Site: same-origin' -H 'Content-Type: application/json'
wait_until 10 grep -q '^iotshield/control/esp32-kitchen ' "$WORK/sub.log" || fail "command not published"
assert_eq 1 "$(grep -c '^iotshield/control/esp32-kitchen ' "$WORK/sub.log")" \
    "commands on the broker: $(cat "$WORK/sub.log")"
assert_eq 1 "$(sqlite3 "$DB" 'SELECT count(*) FROM commands')" "commands stored"

# --- B: a name that is not this server's, on a page, a file, the API and the stream.
for path in / /app.js /api/devices/list/ /api/stream /metrics; do
    code=$(curl -sS --max-time 5 -o "$WORK/out" -w '%{http_code}' -H "Host: evil.example:$PORT" \
        "$BASE$path") || true
    assert_eq 421 "$code" "GET $path with Host evil.example"
done
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Host: localhost:$PORT" "$BASE/api/health")
assert_eq 200 "$code" "Host localhost"

# --- C: an answer whose id would forge a log line and move the terminal's cursor.
mosquitto_pub -p "$BROKER_PORT" -q 1 -t iotshield/control/esp32-kitchen/ack \
    -m '{"id":"x\niots-serve: error: forged line\u001b[2J","status":"done"}'
wait_until 10 grep -q 'ignored an answer on iotshield/control/esp32-kitchen/ack' "$WORK/serve.err" ||
    fail "the forged answer was not reported"
grep -q '^iots-serve: error: forged' "$WORK/serve.err" && fail "a log line was forged: $(cat "$WORK/serve.err")"
grep -q $'\x1b' "$WORK/serve.err" && fail "an escape sequence reached the log"
grep -qF 'no command x\niots-serve: error: forged line\x1b[2J for this device' "$WORK/serve.err" ||
    fail "the id is not shown escaped: $(cat "$WORK/serve.err")"

# --- D: streams beyond the cap get 503 with Retry-After; the rest of the server answers.
PORT2=$(free_port)
background iots-serve --db "$DB" --listen "127.0.0.1:$PORT2" --threads 4 --max-streams 2 \
    2> "$WORK/serve2.err"
wait_port "$PORT2"
for i in 1 2 3; do
    background curl -sS -N -D "$WORK/stream$i.head" -o /dev/null "http://127.0.0.1:$PORT2/api/stream"
    wait_until 10 test -s "$WORK/stream$i.head" || fail "stream $i: no answer"
done
assert_eq 2 "$(cat "$WORK"/stream?.head | grep -c '^HTTP/1.1 200')" "streams open"
grep -l '^HTTP/1.1 503' "$WORK"/stream?.head | xargs grep -q '^Retry-After: ' ||
    fail "the third stream: $(cat "$WORK/stream3.head")"
health=$(curl -sS --max-time 5 "http://127.0.0.1:$PORT2/api/health")
echo "$health" | grep -q '"stream_clients":2' || fail "health with the cap reached: $health"
echo "$health" | grep -q '"stream_limit":2' || fail "health: $health"
pass "cross-site posts, foreign names, forged log lines and surplus streams refused"
