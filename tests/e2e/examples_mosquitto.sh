#!/usr/bin/env bash
# examples/mosquitto/home.conf with its ACL and certificates made by make-certs.sh: mosquitto
# starts with it (ports and paths substituted, nothing else), a node publishes over TLS under its
# own name and not under another's, wrong passwords, anonymous clients and an unknown CA are
# refused, and the tools log in as their own users: iots-ingest over TLS stores the node's reading,
# iots-ha on the loopback listener announces it, Home Assistant's user reads the announcement.
# Alerts only from iots-alert, commands only from iots-act and iots-serve, a command's answer only
# from its device: forged ones are dropped by the broker or ignored by the tools (the command
# stays "sent"), the real ones are taken.
. "$(dirname "$0")/lib.sh"

EX="$IOTS_SRC/examples/mosquitto"
sh "$EX/make-certs.sh" "$WORK/certs" localhost 127.0.0.1 > "$WORK/certs.log" || fail "make-certs.sh exited $?"
sh "$EX/make-certs.sh" "$WORK/other" localhost 127.0.0.1 > /dev/null || fail "make-certs.sh (other CA)"
openssl verify -CAfile "$WORK/certs/ca.crt" "$WORK/certs/server.crt" > /dev/null || fail "server.crt does not verify"

PW="$WORK/passwd"
touch "$PW"
umask 077 # the tools refuse a password file others may read
for u in node1 node2 iots-ingest iots-ha homeassistant iots-serve iots-act iots-alert; do
    mosquitto_passwd -b "$PW" "$u" "secret-$u" || fail "mosquitto_passwd $u"
    printf 'secret-%s\n' "$u" > "$WORK/$u.password"
done
cp "$EX/iotshield.acl" "$WORK/iotshield.acl"

PLAIN=$(free_port)
TLS=$(free_port)
sed -e "s#/etc/mosquitto/certs/#$WORK/certs/#" -e "s#/etc/mosquitto/passwd#$PW#" \
    -e "s#/etc/mosquitto/iotshield.acl#$WORK/iotshield.acl#" \
    -e "s#^listener 1883 127.0.0.1\$#listener $PLAIN 127.0.0.1#" -e "s#^listener 8883\$#listener $TLS 127.0.0.1#" \
    -e "s#^persistence true\$#persistence false#" "$EX/home.conf" > "$WORK/home.conf"
# Every substitution made: no path of the real system left, both listeners moved.
! grep -v '^#' "$WORK/home.conf" | grep -n '/etc/mosquitto\|^listener 1883\|^listener 8883\|^persistence true' ||
    fail "a line of home.conf was not substituted"
printf 'log_dest file %s\nlog_type all\n' "$WORK/mosquitto.log" >> "$WORK/home.conf"
[ "$(id -u)" != 0 ] || echo "user root" >> "$WORK/home.conf"
mosquitto -c "$WORK/home.conf" > "$WORK/mosquitto.out" 2>&1 &
BROKER_PID=$!
wait_port "$PLAIN"
wait_port "$TLS"

T=(-h 127.0.0.1 -p "$TLS" --cafile "$WORK/certs/ca.crt")
reading() { # device sensor value
    printf '{"ts":"%s","device":"%s","sensor":"%s","value":%s}' "$(date -u +%FT%TZ)" "$1" "$2" "$3"
}
# node1 tries another node's name first, then its own (retained, so a later reader sees what the
# broker kept: node2's would be there if the ACL had let it through).
mosquitto_pub "${T[@]}" -u node1 -P secret-node1 -q 1 -r -t iotshield/sensors/node2/temperature \
    -m "$(reading node2 temperature 99)" || fail "node1's publish (dropped by the broker) failed to send"
mosquitto_pub "${T[@]}" -u node1 -P secret-node1 -q 1 -r -t iotshield/sensors/node1/temperature \
    -m "$(reading node1 temperature 21.5)" || fail "node1 cannot publish under its own name"
mosquitto_pub "${T[@]}" -u node1 -P secret-node1 -q 1 -r -t iotshield/status/node1 -m online ||
    fail "node1 cannot publish its status"
mosquitto_sub "${T[@]}" -u iots-ingest -P secret-iots-ingest -t 'iotshield/sensors/#' -v \
    --retained-only -W 3 > "$WORK/retained.log" 2> "$WORK/sub.err" || true
assert_eq "iotshield/sensors/node1/temperature" "$(cut -d' ' -f1 "$WORK/retained.log" | xargs)" \
    "retained readings seen by iots-ingest's user"

# Refused: a wrong password, no user, a CA the broker's certificate is not from, plain text on TLS.
set +e
mosquitto_pub "${T[@]}" -u node1 -P wrong -t iotshield/sensors/node1/x -m 1 2> "$WORK/e1"; rc1=$?
mosquitto_pub "${T[@]}" -t iotshield/sensors/node1/x -m 1 2> "$WORK/e2"; rc2=$?
mosquitto_pub -h 127.0.0.1 -p "$TLS" --cafile "$WORK/other/ca.crt" -u node1 -P secret-node1 \
    -t iotshield/sensors/node1/x -m 1 2> "$WORK/e3"; rc3=$?
mosquitto_pub -h 127.0.0.1 -p "$PLAIN" -t iotshield/sensors/node1/x -m 1 2> "$WORK/e4"; rc4=$?
set -e
[ "$rc1" -ne 0 ] || fail "a wrong password was accepted"
[ "$rc2" -ne 0 ] || fail "an anonymous client was accepted over TLS"
[ "$rc3" -ne 0 ] || fail "a broker certificate from another CA was trusted"
[ "$rc4" -ne 0 ] || fail "an anonymous client was accepted on the loopback listener"

# The tools, each as its own user: iots-ingest over TLS stores node1's reading...
background iots-ingest "${T[@]}" -u iots-ingest --password-file "$WORK/iots-ingest.password" \
    --db "$WORK/home.db" --quiet 2> "$WORK/ingest.err"
INGEST=$LAST_PID
stored() { [ "$(sqlite3 "$WORK/home.db" 'SELECT count(*) FROM readings' 2>/dev/null)" = 1 ]; }
wait_until 15 stored ||
    fail "iots-ingest did not store node1's reading"
kill -TERM "$INGEST"; wait "$INGEST" || fail "iots-ingest exited $?"
# ... iots-ha on the loopback listener may read all it subscribes to and announces node1 ...
background iots-ha -h 127.0.0.1 -p "$PLAIN" -u iots-ha --password-file "$WORK/iots-ha.password" \
    2> "$WORK/ha.err"
HA=$LAST_PID
# ... and Home Assistant's user reads the announcement over TLS.
announced() {
    # -W ends it with 27 once the retained ones are out: not a failure here (pipefail).
    { mosquitto_sub "${T[@]}" -u homeassistant -P secret-homeassistant -t 'homeassistant/#' -v \
        --retained-only -W 2 2>/dev/null || true; } | grep -q '^homeassistant/sensor/node1/temperature/config '
}
wait_until 15 announced || fail "no discovery config for node1 read by homeassistant"
kill -TERM "$HA"; wait "$HA" || fail "iots-ha exited $? (a subscription refused by the ACL is 77)"
! grep -q 'error' "$WORK/ha.err" || fail "iots-ha: $(cat "$WORK/ha.err")"

# Commands and their answers. iots-act (rules on node1's and node2's gas) and iots-serve log in
# as their own users on the loopback listener, the nodes over TLS.
cat > "$WORK/home.rules" <<'RULES'
when gas-leak >= HIGH on node1 do node1 valve close confirm 60s retries 0
when gas-leak >= HIGH on node2 do node2 valve close confirm 60s retries 0
RULES
L=(-h 127.0.0.1 -p "$PLAIN")
background iots-act --rules "$WORK/home.rules" --input mqtt "${L[@]}" -u iots-act \
    --password-file "$WORK/iots-act.password" --db "$WORK/home.db" > "$WORK/act.out" 2> "$WORK/act.err"
ACT=$LAST_PID
API=$(free_port)
background iots-serve --db "$WORK/home.db" --listen "127.0.0.1:$API" --allow-control "${L[@]}" \
    -u iots-serve --password-file "$WORK/iots-serve.password" 2> "$WORK/serve.err"
SERVE=$LAST_PID
wait_port "$API"
# node1 and node2 listen for their commands (each may read only its own).
background mosquitto_sub "${T[@]}" -u node1 -P secret-node1 -q 1 -t iotshield/control/node1 \
    > "$WORK/node1.commands" 2> "$WORK/node1.sub.err"
background mosquitto_sub "${T[@]}" -u node2 -P secret-node2 -q 1 -t iotshield/control/node2 \
    > "$WORK/node2.commands" 2> "$WORK/node2.sub.err"
subscribed() { # log_type all logs each granted subscription's filter
    grep -q $'\tiotshield/control/node1 (QoS 1)' "$WORK/mosquitto.log" &&
        grep -q $'\tiotshield/control/node2 (QoS 1)' "$WORK/mosquitto.log"
}
wait_until 15 subscribed || fail "the nodes' subscriptions to their commands were not seen"
alert() { # id device
    printf '{"kind":"alert","id":"%s","ts":"%s","device":"%s","sensor":"gas","severity":"CRITICAL","incident":"%s","source":"rules","event":"open","location":"kitchen","pattern":"gas-leak"}' \
        "$1" "$(date -u +%FT%TZ)" "$2" "$1"
}
# An alert from anyone but iots-alert is dropped: node1 (a node), iots-ha and iots-detect's users.
mosquitto_pub "${T[@]}" -u node1 -P secret-node1 -q 1 -t iotshield/alerts/node2 -m "$(alert forged-1 node2)" ||
    fail "node1's forged alert failed to send"
mosquitto_pub "${L[@]}" -u iots-ha -P secret-iots-ha -q 1 -t iotshield/alerts/node2 -m "$(alert forged-2 node2)" ||
    fail "iots-ha's forged alert failed to send"
# A node cannot command another node, nor itself (retained, so node2 would find it later).
mosquitto_pub "${T[@]}" -u node1 -P secret-node1 -q 1 -r -t iotshield/control/node2 \
    -m '{"kind":"command","id":"forged-cmd","ts":"2025-10-25T16:45:12.000Z","device":"node2","actuator":"valve","action":"close"}' ||
    fail "node1's forged command failed to send"
mosquitto_pub "${T[@]}" -u node1 -P secret-node1 -q 1 -t iotshield/control/node1 \
    -m '{"kind":"command","id":"forged-own","ts":"2025-10-25T16:45:12.000Z","device":"node1","actuator":"valve","action":"close"}' ||
    fail "node1's command to itself failed to send"
# iots-alert's user: iots-act acts on its alert.
mosquitto_pub "${L[@]}" -u iots-alert -P secret-iots-alert -q 1 -t iotshield/alerts/node1 -m "$(alert real-1 node1)" ||
    fail "iots-alert's alert failed to send"
wait_until 15 grep -q '"device":"node1"' "$WORK/node1.commands" ||
    fail "iots-act's command did not reach node1: $(cat "$WORK/act.err")"
ACT_ID=$(jq -r .id "$WORK/node1.commands" | head -1)
assert_eq 1 "$(db_count "$WORK/home.db" commands)" "commands sent (one alert let in of three)"
assert_eq "$ACT_ID" "$(sqlite3 "$WORK/home.db" "SELECT id FROM commands WHERE device = 'node1'")" \
    "iots-act's command stored"
! grep -q forged "$WORK/node1.commands" "$WORK/node2.commands" || fail "a node's command got through"
{ mosquitto_sub "${T[@]}" -u node2 -P secret-node2 -t iotshield/control/node2 --retained-only -W 2 \
    2>/dev/null || true; } > "$WORK/node2.retained"
assert_eq "" "$(cat "$WORK/node2.retained")" "a command node1 left for node2"

# iots-serve sends node1 a command too.
code=$(curl -sS --max-time 5 -o "$WORK/sent.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{"device":"node1","actuator":"fan","action":"on"}' \
    "http://127.0.0.1:$API/api/control/send/")
assert_eq 202 "$code" "iots-serve's POST /api/control/send/"
SERVE_ID=$(jq -r .id "$WORK/sent.json")
wait_until 15 grep -q "\"$SERVE_ID\"" "$WORK/node1.commands" || fail "iots-serve's command did not reach node1"

# Forged answers, for both commands: node2 on node1's answer topic (dropped by the broker) and on
# its own (let in, and ignored by both tools: the command did not go to node2), iots-ha's user.
for id in "$ACT_ID" "$SERVE_ID"; do
    mosquitto_pub "${T[@]}" -u node2 -P secret-node2 -q 1 -t iotshield/control/node1/ack \
        -m "{\"id\":\"$id\",\"status\":\"done\"}" || fail "node2's forged answer failed to send"
    mosquitto_pub "${L[@]}" -u iots-ha -P secret-iots-ha -q 1 -t iotshield/control/node1/ack \
        -m "{\"id\":\"$id\",\"status\":\"done\"}" || fail "iots-ha's forged answer failed to send"
    mosquitto_pub "${T[@]}" -u node2 -P secret-node2 -q 1 -t iotshield/control/node2/ack \
        -m "{\"id\":\"$id\",\"status\":\"done\"}" || fail "node2's answer failed to send"
done
# The last ones, let in, are seen and ignored by both: what came before them is settled too.
for f in act serve; do
    wait_until 15 grep -q "ignored an answer on iotshield/control/node2/ack: no command $SERVE_ID" "$WORK/$f.err" ||
        fail "$f did not see node2's answer: $(cat "$WORK/$f.err")"
done
assert_eq "sent sent" "$(sqlite3 "$WORK/home.db" "SELECT status FROM commands WHERE id IN ('$ACT_ID', '$SERVE_ID')" | xargs)" \
    "commands after forged answers"
! grep -q "ignored an answer on iotshield/control/node1/ack" "$WORK/act.err" "$WORK/serve.err" ||
    fail "an answer on node1's topic from another user reached a tool"
# node1's own answers are taken.
for id in "$ACT_ID" "$SERVE_ID"; do
    mosquitto_pub "${T[@]}" -u node1 -P secret-node1 -q 1 -t iotshield/control/node1/ack \
        -m "{\"id\":\"$id\",\"status\":\"done\"}" || fail "node1's answer failed to send"
done
answered() {
    [ "$(sqlite3 "$WORK/home.db" "SELECT group_concat(status) FROM commands WHERE id IN ('$ACT_ID', '$SERVE_ID')")" = done,done ]
}
wait_until 15 answered || fail "node1's answers not recorded: $(sqlite3 "$WORK/home.db" 'SELECT * FROM commands')"
wait_until 15 grep -q '"status":"done"' "$WORK/act.out" || fail "iots-act did not report the answer"
kill -TERM "$ACT" "$SERVE"
wait "$ACT" || fail "iots-act exited $? (a subscription refused by the ACL is 77)"
wait "$SERVE" || fail "iots-serve exited $?"
# Both of node1's answers count (the database is shared: iots-serve's command is there too), the two
# on node2's topic are ignored, none of the dropped ones arrived.
grep -q "acks 2, ignored 2" "$WORK/act.err" || fail "iots-act's counters: $(tail -1 "$WORK/act.err")"
kill -0 "$BROKER_PID" || fail "mosquitto is gone"
pass "TLS, passwords and the per-device ACL of examples/mosquitto"
