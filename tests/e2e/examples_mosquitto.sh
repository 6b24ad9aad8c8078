#!/usr/bin/env bash
# examples/mosquitto/home.conf with its ACL and certificates made by make-certs.sh: mosquitto
# starts with it (ports and paths substituted, nothing else), a node publishes over TLS under its
# own name and not under another's, wrong passwords, anonymous clients and an unknown CA are
# refused, and the tools log in as their own users: iots-ingest over TLS stores the node's reading,
# iots-ha on the loopback listener announces it, Home Assistant's user reads the announcement.
. "$(dirname "$0")/lib.sh"

EX="$IOTS_SRC/examples/mosquitto"
sh "$EX/make-certs.sh" "$WORK/certs" localhost 127.0.0.1 > "$WORK/certs.log" || fail "make-certs.sh exited $?"
sh "$EX/make-certs.sh" "$WORK/other" localhost 127.0.0.1 > /dev/null || fail "make-certs.sh (other CA)"
openssl verify -CAfile "$WORK/certs/ca.crt" "$WORK/certs/server.crt" > /dev/null || fail "server.crt does not verify"

PW="$WORK/passwd"
touch "$PW"
for u in node1 node2 iots-ingest iots-ha homeassistant; do
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
echo "log_dest file $WORK/mosquitto.log" >> "$WORK/home.conf"
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
kill -0 "$BROKER_PID" || fail "mosquitto is gone"
pass "TLS, passwords and the per-device ACL of examples/mosquitto"
