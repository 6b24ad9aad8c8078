#!/usr/bin/env bash
# Every secret a tool takes (the MQTT password of each broker client, the language model's API key,
# iots-serve's bearer tokens) comes from a file or the environment: a file its group or others may
# read is refused with 77, and the secret is never on the command line (ps), in a message on stderr
# (a wrong password, a provider that echoes the key, a wrong token) or in the output.
. "$(dirname "$0")/lib.sh"

SECRET="pw-Zq81-never-shown"
WRONG="pw-wrong-Kx27-never-shown"
touch "$WORK/passwd"
mosquitto_passwd -b "$WORK/passwd" home "$SECRET" || fail "mosquitto_passwd"
start_broker "password_file $WORK/passwd" "allow_anonymous false"
printf '%s\n' "$SECRET" > "$WORK/open.password"
chmod 644 "$WORK/open.password"
(umask 077 && printf '%s\n' "$SECRET" > "$WORK/right.password" &&
    printf '%s\n' "$WRONG" > "$WORK/wrong.password")
echo 'when fire do plug1 relay off' > "$WORK/act.rules"
API=$(free_port)
B=(-h 127.0.0.1 -p "$BROKER_PORT" -u home)

# Each tool that logs in to the broker, with what it needs to keep running.
tool_args() {
    case $1 in
    iots-sim) echo "--realtime --interval 1s --devices 1" ;;
    iots-ingest) echo "--quiet --db $WORK/home.db" ;;
    iots-detect) echo "--anomalies-only" ;;
    iots-alert) echo "" ;;
    iots-act) echo "--rules $WORK/act.rules --input mqtt" ;;
    iots-serve) echo "--db $WORK/home.db --listen 127.0.0.1:$API" ;;
    iots-ha) echo "" ;;
    esac
}
no_secret() { # file what
    ! grep -qF -e "$SECRET" -e "$WRONG" -e "AIzaKEY" -e "tok-" "$1" || fail "$2: a secret in $1: $(cat "$1")"
}
TOOLS=(iots-sim iots-ingest iots-detect iots-alert iots-act iots-serve iots-ha)
for t in "${TOOLS[@]}"; do
    # shellcheck disable=SC2046
    set -- $(tool_args "$t")
    set +e
    "$t" "$@" "${B[@]}" --password-file "$WORK/open.password" < /dev/null > "$WORK/$t.open.out" \
        2> "$WORK/$t.open.err"
    rc=$?
    "$t" "$@" "${B[@]}" --password-file "$WORK/wrong.password" < /dev/null > "$WORK/$t.wrong.out" \
        2> "$WORK/$t.wrong.err"
    rc_wrong=$?
    set -e
    assert_eq 77 "$rc" "$t with a password file open to others"
    grep -qF "open.password: open to others (mode 0644): chmod 600" "$WORK/$t.open.err" ||
        fail "$t: $(cat "$WORK/$t.open.err")"
    assert_eq 77 "$rc_wrong" "$t with a wrong password"
    no_secret "$WORK/$t.open.err" "$t"
    no_secret "$WORK/$t.wrong.err" "$t"
    no_secret "$WORK/$t.wrong.out" "$t"

    # The right one, from the file and from the environment: the tool runs, and ps shows no secret.
    for how in file env; do
        before=$(grep -c "u'home'" "$WORK/mosquitto.log" || true)
        if [ "$how" = file ]; then
            background "$t" "$@" "${B[@]}" --password-file "$WORK/right.password" \
                > "$WORK/$t.out" 2> "$WORK/$t.$how.err"
        else
            IOTS_MQTT_PASSWORD="$SECRET" background "$t" "$@" "${B[@]}" \
                > "$WORK/$t.out" 2> "$WORK/$t.$how.err"
        fi
        pid=$LAST_PID
        logged_in() { [ "$(grep -c "u'home'" "$WORK/mosquitto.log")" -gt "$1" ]; }
        wait_until 15 logged_in "$before" || fail "$t ($how) did not log in: $(cat "$WORK/$t.$how.err")"
        ps -o args= -p "$pid" > "$WORK/$t.ps" || fail "$t ($how) is not running"
        grep -q "$t" "$WORK/$t.ps" || fail "ps shows no $t: $(cat "$WORK/$t.ps")"
        no_secret "$WORK/$t.ps" "$t ($how): ps"
        no_secret /proc/"$pid"/cmdline "$t ($how): /proc/PID/cmdline"
        kill -TERM "$pid"
        wait "$pid" || fail "$t ($how) exited $? on SIGTERM"
        no_secret "$WORK/$t.$how.err" "$t ($how)"
        no_secret "$WORK/$t.out" "$t ($how)"
    done
done

# The language model's key: refused from a file open to others, never in ps or on stderr, also
# when the provider quotes it back in its error.
FAKE="$IOTS_SRC/tests/fake/llm_server.py"
rm -f "$WORK/port"
background python3 "$FAKE" --port-file "$WORK/port" --log "$WORK/requests.log" --mode 401-echo
wait_until 10 test -s "$WORK/port" || fail "fake server did not start"
LLM=$(cat "$WORK/port")
printf 'AIzaKEY-from-file\n' > "$WORK/open.key"
chmod 644 "$WORK/open.key"
(umask 077 && printf 'AIzaKEY-from-file\n' > "$WORK/right.key")
set +e
iots-alert --narrator gemini --gemini-url "http://127.0.0.1:$LLM" --api-key-file "$WORK/open.key" \
    < /dev/null > /dev/null 2> "$WORK/key.open.err"
rc=$?
set -e
assert_eq 77 "$rc" "iots-alert with a key file open to others"
no_secret "$WORK/key.open.err" "iots-alert"
anomaly='{"ts":"2025-10-25T16:45:12.345Z","device":"kitchen-1","sensor":"gas","value":1612.5,"location":"kitchen","score":0.97,"anomaly":true,"reasons":["threshold:gas"]}'
for how in file env; do
    # Not through background(): a job's stdin would be /dev/null, not the anomaly.
    if [ "$how" = file ]; then
        iots-alert --replay --narrator gemini --gemini-url "http://127.0.0.1:$LLM" \
            --api-key-file "$WORK/right.key" < <(echo "$anomaly"; sleep 60) > "$WORK/alert.out" \
            2> "$WORK/alert.$how.err" &
    else
        GEMINI_API_KEY=AIzaKEY-from-env iots-alert --replay --narrator gemini \
            --gemini-url "http://127.0.0.1:$LLM" < <(echo "$anomaly"; sleep 60) \
            > "$WORK/alert.out" 2> "$WORK/alert.$how.err" &
    fi
    pid=$!
    BG_PIDS+=("$pid")
    wait_until 15 grep -q "AIzaKEY-from-$how" "$WORK/requests.log" || fail "no request with the $how key"
    wait_until 15 grep -q "401" "$WORK/alert.$how.err" ||
        fail "the provider's refusal not reported: $(cat "$WORK/alert.$how.err")"
    ps -o args= -p "$pid" > "$WORK/alert.ps"
    no_secret "$WORK/alert.ps" "iots-alert ($how): ps"
    kill -TERM "$pid"
    wait "$pid" || true
    no_secret "$WORK/alert.$how.err" "iots-alert ($how)"
    no_secret "$WORK/alert.out" "iots-alert ($how)"
done

# iots-serve's tokens: never in ps, nor in what a wrong token gets back or what the server logs.
(umask 077 && printf 'tok-read-Pq3-xxxxxxxxxxxx read\ntok-ctl-Wm9-xxxxxxxxxxxx control\n' > "$WORK/tokens")
background iots-serve --db "$WORK/home.db" --listen "127.0.0.1:$API" --tokens "$WORK/tokens" \
    2> "$WORK/serve.err"
pid=$LAST_PID
wait_port "$API"
code=$(curl -sS -o "$WORK/wrong-token.body" -w '%{http_code}' -H 'Authorization: Bearer tok-guess-xxxxxxxxxxxx' \
    "http://127.0.0.1:$API/api/devices/list/")
assert_eq 401 "$code" "a wrong token"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tok-read-Pq3-xxxxxxxxxxxx' \
    "http://127.0.0.1:$API/api/devices/list/")
assert_eq 200 "$code" "the read token"
ps -o args= -p "$pid" > "$WORK/serve.ps"
no_secret "$WORK/serve.ps" "iots-serve: ps"
kill -TERM "$pid"
wait "$pid" || fail "iots-serve exited $?"
! grep -qF -e tok-read -e tok-ctl "$WORK/wrong-token.body" "$WORK/serve.err" ||
    fail "a token was shown: $(cat "$WORK/wrong-token.body" "$WORK/serve.err")"
pass "secrets from 0600 files or the environment only; none in ps, messages or output"
