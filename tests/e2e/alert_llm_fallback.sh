#!/usr/bin/env bash
# iots-alert against a local server that speaks Gemini's generateContent and the OpenAI
# chat-completions wire formats (tests/fake/llm_server.py) and plays their failure modes. Whatever
# the model does, every rules alert goes out in full; a good answer adds an update with the same
# id, every failure ends in the rules text, counted by its cause; the key never leaves a header.
#
# One fake server serves every case at once: each case's base URL carries /t/CASE/MODE, which
# picks the failure mode and tags the case's requests in the log. The cases run in parallel
# (they mostly wait on timeouts, Retry-After and backoff), then each is checked.
. "$(dirname "$0")/lib.sh"

FAKE="$IOTS_SRC/tests/fake/llm_server.py"
INPUT="$IOTS_TEST_DATA/alert/fire.ndjson" # opens MEDIUM, raises to CRITICAL, resolves: 3 alerts
export GEMINI_API_KEY="AIzaFAKE-not-a-real-key-123"
unset OPENAI_API_KEY
FAKE_LOG="$WORK/requests.log"

# slow: answers after 4 s, past the 1.5 s timeout the timeout cases use (ample for a request to
# reach the server on a loaded machine, so the request count holds); 429: Retry-After 1 s.
background python3 "$FAKE" --port-file "$WORK/port" --log "$FAKE_LOG" --delay 4 --retry-after 1 \
    --fail-first 1
wait_until 10 test -s "$WORK/port" || fail "fake server did not start"
PORT=$(cat "$WORK/port")

CASES=()
CASE_PIDS=()
# start_case provider case mode [iots-alert options]: runs in the background; output in
# $WORK/<case>.{out,err}. TIMEOUT (env) is the --llm-timeout (5s: ample for the answering modes).
start_case() {
    local provider=$1 case=$2 mode=$3; shift 3
    local base="http://127.0.0.1:$PORT/t/$case/$mode"
    [ "$mode" = dead ] && base="http://127.0.0.1:$(free_port)"
    local url_opt=(--gemini-url "$base")
    [ "$provider" = openai ] && url_opt=(--llm-url "$base/v1")
    iots-alert --replay --narrator "$provider" "${url_opt[@]}" --llm-timeout "${TIMEOUT:-5s}" \
        --llm-retries 1 "$@" < "$INPUT" > "$WORK/$case.out" 2> "$WORK/$case.err" &
    CASES+=("$case")
    CASE_PIDS+=("$!")
    BG_PIDS+=("$!")
}

# The same checks for every failure mode: provider case failure-name expected-requests.
FALLBACKS=()
fallback_case() { # provider mode failure-name expected-requests
    local case="$1-$2"
    if [ "$2" = slow ]; then TIMEOUT=1500ms start_case "$1" "$case" "$2"; else start_case "$1" "$case" "$2"; fi
    FALLBACKS+=("$1 $case $3 $4")
}

# --- start every case -------------------------------------------------------------------------
start_case gemini gemini-ok ok --db "$WORK/alerts.db"
start_case gemini gemini-lower lower # the model may raise the severity, never lower it
start_case gemini gemini-raise raise
fallback_case gemini 400 bad-request 2
fallback_case gemini 401 auth 2
fallback_case gemini 403 auth 2
fallback_case gemini 429 rate-limited 4      # one retry each, after Retry-After
fallback_case gemini 429-long rate-limited 2 # Retry-After 3600: too late, no retry
fallback_case gemini 500 server 4
fallback_case gemini 503 server 4
fallback_case gemini slow timeout 4
fallback_case gemini malformed malformed 2
fallback_case gemini badjson malformed 2
fallback_case gemini invalid invalid 2
fallback_case gemini blocked blocked 2
fallback_case gemini safety blocked 2
fallback_case gemini reset network 4
start_case gemini gemini-flaky flaky # a transient 503 is retried and then succeeds
start_case gemini gemini-dead dead   # nothing listens
OPENAI_API_KEY=sk-local-test start_case openai openai-ok ok --llm-model qwen2.5:3b
start_case openai openai-nokey ok
fallback_case openai 401 auth 2
fallback_case openai 429 rate-limited 4
fallback_case openai 500 server 4
fallback_case openai slow timeout 4
fallback_case openai malformed malformed 2
fallback_case openai blocked blocked 2
fallback_case openai invalid invalid 2
# --api-key-file is read, and wins over the environment.
echo "AIzaFROM-FILE" > "$WORK/key"
chmod 600 "$WORK/key"
start_case gemini gemini-keyfile ok --api-key-file "$WORK/key"

# Gemini without a key is a usage error, and the message names where a key comes from.
set +e
env -u GEMINI_API_KEY iots-alert --narrator gemini < /dev/null > /dev/null 2> "$WORK/nokey.err"
rc=$?
set -e
assert_eq 2 "$rc" "gemini without a key"
grep -q "GEMINI_API_KEY or give --api-key-file" "$WORK/nokey.err" || fail "no-key message"

for i in "${!CASES[@]}"; do
    wait "${CASE_PIDS[$i]}" || fail "${CASES[$i]}: exit $?"
done

# --- checks -----------------------------------------------------------------------------------
use() { OUT="$WORK/$1.out"; ERR="$WORK/$1.err"; CASE=$1; }
# Counted with grep, not jq, to keep ~30 cases quick: iots-alert writes compact JSON.
rules_alerts() { grep -c '"source":"rules"' "$OUT" || true; }
updates() { grep -c "\"source\":\"$1\"" "$OUT" || true; }
jq -r '.case' "$FAKE_LOG" | sort | uniq -c > "$WORK/requests.count"
requests() { awk -v c="$CASE" '$2 == c { n = $1 } END { print n + 0 }' "$WORK/requests.count"; }
case_log() { jq -c --arg c "$CASE" 'select(.case == $c)' "$FAKE_LOG"; }

# A good answer: the update follows with the same id.
use gemini-ok
assert_eq 3 "$(rules_alerts)" "gemini ok: rules alerts"
assert_eq 2 "$(updates gemini)" "gemini ok: updates (open and raise; resolve is not narrated)"
assert_eq "$(jq -r 'select(.source=="rules" and .event!="resolve") | .id' "$OUT" | sort)" \
    "$(jq -r 'select(.source=="gemini") | .id' "$OUT" | sort)" "update ids"
jq -e -s '[.[] | select(.source=="gemini")] | length == 2 and
    all((.title | startswith("AI: ")) and (.rules.title | length > 0))' "$OUT" > /dev/null ||
    fail "update lacks the model title or the rules text"
# The first line out is the rules alert: the model never delays it.
assert_eq rules "$(head -n 1 "$OUT" | jq -r .source)" "first line"
grep -q "gemini: updated 2, fallback 0" "$ERR" || fail "counters: $(tail -n 1 "$ERR")"
# Wire format: path, key in the x-goog-api-key header and nowhere else.
case_log | jq -e -s --arg k "$GEMINI_API_KEY" 'length == 2 and all(
    .path == "/v1beta/models/gemini-2.5-flash:generateContent"
    and .headers["x-goog-api-key"] == $k and (.body | contains($k) | not)
    and (.body | fromjson | .generationConfig.responseMimeType == "application/json"))' \
    > /dev/null || fail "gemini request shape: $(case_log | head -c 600)"
! grep -q "$GEMINI_API_KEY" "$OUT" "$ERR" || fail "the key was printed"
# Database: three rows; the narrated ones show the model text beside the rules text.
assert_eq 3 "$(db_count "$WORK/alerts.db" alerts)" "alert rows"
assert_eq 2 "$(db_count "$WORK/alerts.db" alerts "source = 'gemini' AND title <> rules_title AND updated_ts IS NOT NULL")" "updated rows"
assert_eq 1 "$(db_count "$WORK/alerts.db" alerts "status = 'resolved' AND source = 'rules'")" "resolve row"
assert_eq 2 "$(db_count "$WORK/alerts.db" alerts "status = 'resolved' AND source = 'gemini'")" "earlier rows resolved"

use gemini-lower
assert_eq "MEDIUM CRITICAL" "$(jq -r 'select(.source=="gemini") | .severity' "$OUT" | sort -r | xargs)" \
    "a model answering LOW leaves the rules severities"
use gemini-raise
assert_eq "CRITICAL CRITICAL" "$(jq -r 'select(.source=="gemini") | .severity' "$OUT" | xargs)" \
    "a model may raise"

# Every failure mode: all rules alerts out, no update, counted by cause, a warning, the expected
# number of requests (retries only where retrying makes sense), and the key never printed.
for f in "${FALLBACKS[@]}"; do
    read -r provider case why n <<< "$f"
    use "$case"
    assert_eq 3 "$(rules_alerts)" "$case: rules alerts"
    assert_eq 0 "$(updates "$provider")" "$case: updates"
    grep -q "$provider: updated 0, fallback 2 ($why 2)" "$ERR" ||
        fail "$case: counters: $(tail -n 1 "$ERR")"
    grep -q "the rules text stands" "$ERR" || fail "$case: no warning"
    assert_eq "$n" "$(requests)" "$case: requests sent"
    ! grep -q "$GEMINI_API_KEY" "$OUT" "$ERR" || fail "$case: the key was printed"
done

use gemini-flaky
assert_eq 2 "$(updates gemini)" "flaky: updates after a retry"
grep -q "gemini: updated 2, fallback 0, retries 2" "$ERR" || fail "flaky counters: $(tail -n 1 "$ERR")"

use gemini-dead # a dead model changes nothing for the rules alerts
assert_eq 3 "$(rules_alerts)" "dead model: rules alerts"
grep -q "fallback 2 (network 2)" "$ERR" || fail "dead model counters: $(tail -n 1 "$ERR")"

# OpenAI-compatible.
use openai-ok
assert_eq 2 "$(updates openai)" "openai ok: updates"
case_log | jq -e -s 'length == 2 and all(.path == "/v1/chat/completions"
    and .headers.authorization == "Bearer sk-local-test"
    and (.body | fromjson | .model == "qwen2.5:3b" and .response_format.type == "json_object"))' \
    > /dev/null || fail "openai request shape: $(case_log | head -c 600)"
! grep -q "sk-local-test" "$OUT" "$ERR" || fail "the OpenAI key was printed"
use openai-nokey
case_log | jq -e -s 'length == 2 and all(.headers.authorization == null)' > /dev/null ||
    fail "no key: no Authorization header expected"

use gemini-keyfile
case_log | jq -e -s 'length == 2 and all(.headers["x-goog-api-key"] == "AIzaFROM-FILE")' \
    > /dev/null || fail "--api-key-file not used"
pass "fake Gemini and OpenAI servers: every failure mode fell back to the rules text"
