#!/usr/bin/env bash
# iots-alert against a local server that speaks Gemini's generateContent and the OpenAI
# chat-completions wire formats (tests/fake/llm_server.py) and plays their failure modes. Whatever
# the model does, every rules alert goes out in full; a good answer adds an update with the same
# id, every failure ends in the rules text, counted by its cause; the key never leaves a header.
. "$(dirname "$0")/lib.sh"

FAKE="$IOTS_SRC/tests/fake/llm_server.py"
INPUT="$IOTS_TEST_DATA/alert/fire.ndjson" # opens MEDIUM, raises to CRITICAL, resolves: 3 alerts
export GEMINI_API_KEY="AIzaFAKE-not-a-real-key-123"
unset OPENAI_API_KEY

start_fake() { # mode [extra args]: sets FAKE_PORT, FAKE_LOG
    local mode=$1; shift
    FAKE_LOG="$WORK/requests-$mode-$RANDOM.log"
    : > "$FAKE_LOG"
    rm -f "$WORK/port"
    background python3 "$FAKE" --port-file "$WORK/port" --log "$FAKE_LOG" --mode "$mode" "$@"
    FAKE_PID=$LAST_PID
    wait_until 10 test -s "$WORK/port" || fail "fake server ($mode) did not start"
    FAKE_PORT=$(cat "$WORK/port")
}
stop_fake() { kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true; }

# run_alert provider mode [iots-alert options]: output in $WORK/$provider-$mode.{out,err}
run_alert() {
    local provider=$1 mode=$2; shift 2
    local url_opt=(--gemini-url "http://127.0.0.1:$FAKE_PORT")
    [ "$provider" = openai ] && url_opt=(--llm-url "http://127.0.0.1:$FAKE_PORT/v1")
    OUT="$WORK/$provider-$mode.out"
    ERR="$WORK/$provider-$mode.err"
    iots-alert --replay --narrator "$provider" "${url_opt[@]}" --llm-timeout 1s \
        --llm-retries 1 "$@" < "$INPUT" > "$OUT" 2> "$ERR" || fail "$provider $mode: exit $?"
}

rules_alerts() { jq -c 'select(.source == "rules")' "$OUT" | wc -l; }
updates() { jq -c "select(.source == \"$1\")" "$OUT" | wc -l; }
requests() { wc -l < "$FAKE_LOG"; }

check_fallback() { # provider mode failure-name expected-requests
    local provider=$1 mode=$2 why=$3 n=$4
    start_fake "$mode" --delay 3 --retry-after 1
    run_alert "$provider" "$mode"
    stop_fake
    assert_eq 3 "$(rules_alerts)" "$provider $mode: rules alerts"
    assert_eq 0 "$(updates "$provider")" "$provider $mode: updates"
    grep -q "$provider: updated 0, fallback 2 ($why 2)" "$ERR" ||
        fail "$provider $mode: counters: $(tail -n 1 "$ERR")"
    grep -q "the rules text stands" "$ERR" || fail "$provider $mode: no warning"
    assert_eq "$n" "$(requests)" "$provider $mode: requests sent"
    ! grep -q "$GEMINI_API_KEY" "$OUT" "$ERR" || fail "$provider $mode: the key was printed"
}

# --- a good answer: the update follows with the same id ---------------------------------------
start_fake ok
run_alert gemini ok --db "$WORK/alerts.db"
stop_fake
assert_eq 3 "$(rules_alerts)" "gemini ok: rules alerts"
assert_eq 2 "$(updates gemini)" "gemini ok: updates (open and raise; resolve is not narrated)"
assert_eq "$(jq -r 'select(.source=="rules" and .event!="resolve") | .id' "$OUT" | sort)" \
    "$(jq -r 'select(.source=="gemini") | .id' "$OUT" | sort)" "update ids"
jq -e 'select(.source=="gemini") | (.title | startswith("AI: ")) and (.rules.title | length > 0)' \
    "$OUT" > /dev/null || fail "update lacks the model title or the rules text"
# The first line out is the rules alert: the model never delays it.
assert_eq rules "$(head -n 1 "$OUT" | jq -r .source)" "first line"
grep -q "gemini: updated 2, fallback 0" "$ERR" || fail "counters: $(tail -n 1 "$ERR")"
# Wire format: path, key in the x-goog-api-key header and nowhere else.
jq -e --arg k "$GEMINI_API_KEY" 'select(.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    and .headers["x-goog-api-key"] == $k and (.body | contains($k) | not)
    and (.body | fromjson | .generationConfig.responseMimeType == "application/json"))' \
    "$FAKE_LOG" > /dev/null || fail "gemini request shape: $(head -c 600 "$FAKE_LOG")"
assert_eq 2 "$(requests)" "gemini ok: requests"
! grep -q "$GEMINI_API_KEY" "$OUT" "$ERR" || fail "the key was printed"
# Database: three rows; the narrated ones show the model text beside the rules text.
assert_eq 3 "$(db_count "$WORK/alerts.db" alerts)" "alert rows"
assert_eq 2 "$(db_count "$WORK/alerts.db" alerts "source = 'gemini' AND title <> rules_title AND updated_ts IS NOT NULL")" "updated rows"
assert_eq 1 "$(db_count "$WORK/alerts.db" alerts "status = 'resolved' AND source = 'rules'")" "resolve row"
assert_eq 2 "$(db_count "$WORK/alerts.db" alerts "status = 'resolved' AND source = 'gemini'")" "earlier rows resolved"

# The model may raise the severity, never lower it.
start_fake lower
run_alert gemini lower
stop_fake
assert_eq "MEDIUM CRITICAL" "$(jq -r 'select(.source=="gemini") | .severity' "$OUT" | sort -r | xargs)" \
    "a model answering LOW leaves the rules severities"
start_fake raise
run_alert gemini raise
stop_fake
assert_eq "CRITICAL CRITICAL" "$(jq -r 'select(.source=="gemini") | .severity' "$OUT" | xargs)" \
    "a model may raise"

# --- Gemini failure modes ---------------------------------------------------------------------
check_fallback gemini 400 bad-request 2
check_fallback gemini 401 auth 2
check_fallback gemini 403 auth 2
check_fallback gemini 429 rate-limited 4      # one retry each, after Retry-After
check_fallback gemini 429-long rate-limited 2 # Retry-After 3600: too late, no retry
check_fallback gemini 500 server 4
check_fallback gemini 503 server 4
check_fallback gemini slow timeout 4
check_fallback gemini malformed malformed 2
check_fallback gemini badjson malformed 2
check_fallback gemini invalid invalid 2
check_fallback gemini blocked blocked 2
check_fallback gemini safety blocked 2
check_fallback gemini reset network 4

# A transient 503 is retried and then succeeds.
start_fake flaky --fail-first 1
run_alert gemini flaky
stop_fake
assert_eq 2 "$(updates gemini)" "flaky: updates after a retry"
grep -q "gemini: updated 2, fallback 0, retries 2" "$ERR" || fail "flaky counters: $(tail -n 1 "$ERR")"

# A dead model (nothing listens) changes nothing for the rules alerts.
FAKE_PORT=$(free_port)
FAKE_LOG=/dev/null
run_alert gemini dead
assert_eq 3 "$(rules_alerts)" "dead model: rules alerts"
grep -q "fallback 2 (network 2)" "$ERR" || fail "dead model counters: $(tail -n 1 "$ERR")"

# --- OpenAI-compatible ------------------------------------------------------------------------
start_fake ok
OPENAI_API_KEY=sk-local-test run_alert openai ok --model qwen2.5:3b
stop_fake
assert_eq 2 "$(updates openai)" "openai ok: updates"
jq -e 'select(.path == "/v1/chat/completions" and .headers.authorization == "Bearer sk-local-test"
    and (.body | fromjson | .model == "qwen2.5:3b" and .response_format.type == "json_object"))' \
    "$FAKE_LOG" > /dev/null || fail "openai request shape: $(head -c 600 "$FAKE_LOG")"
! grep -q "sk-local-test" "$OUT" "$ERR" || fail "the OpenAI key was printed"
start_fake ok
run_alert openai nokey
stop_fake
jq -e 'select(.headers.authorization == null)' "$FAKE_LOG" > /dev/null ||
    fail "no key: no Authorization header expected"
check_fallback openai 401 auth 2
check_fallback openai 429 rate-limited 4
check_fallback openai 500 server 4
check_fallback openai slow timeout 4
check_fallback openai malformed malformed 2
check_fallback openai blocked blocked 2
check_fallback openai invalid invalid 2

# Gemini without a key is a usage error, and the message names where a key comes from.
set +e
env -u GEMINI_API_KEY iots-alert --narrator gemini < /dev/null > /dev/null 2> "$WORK/nokey.err"
rc=$?
set -e
assert_eq 2 "$rc" "gemini without a key"
grep -q "GEMINI_API_KEY or give --api-key-file" "$WORK/nokey.err" || fail "no-key message"
# --api-key-file is read, and wins over the environment.
echo "AIzaFROM-FILE" > "$WORK/key"
chmod 600 "$WORK/key"
start_fake ok
run_alert gemini keyfile --api-key-file "$WORK/key"
stop_fake
jq -e 'select(.headers["x-goog-api-key"] == "AIzaFROM-FILE")' "$FAKE_LOG" > /dev/null ||
    fail "--api-key-file not used"
pass "fake Gemini and OpenAI servers: every failure mode fell back to the rules text"
