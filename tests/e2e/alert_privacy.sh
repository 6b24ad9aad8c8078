#!/usr/bin/env bash
# --dry-run prints exactly the request body that would be sent, one line of JSON on stderr, and
# sends nothing. What leaves the home is the minimum of DESIGN §6: sensor kind, value, normal
# range, score and room label; never the device id, a timestamp, the history or a credential.
# Off the box (Gemini, an OpenAI-compatible server on another host or given --off-box) the value,
# the score and the duration are coarsened too: the fake servers never see the exact ones.
. "$(dirname "$0")/lib.sh"

FAKE="$IOTS_SRC/tests/fake/llm_server.py"
export GEMINI_API_KEY="AIzaPRIVACY-secret-key"
export OPENAI_API_KEY="sk-privacy-secret"
cat > "$WORK/in.ndjson" <<'NDJSON'
{"ts":"2025-10-25T16:40:00.000Z","device":"esp32-grandma-flat-17","sensor":"temperature","value":21.7,"seq":9001,"location":"kitchen","score":0.1,"anomaly":false,"reasons":[]}
{"ts":"2025-10-25T16:41:00.000Z","device":"esp32-grandma-flat-17","sensor":"temperature","value":23.9,"seq":9002,"location":"kitchen","score":0.2,"anomaly":false,"reasons":[]}
{"ts":"2025-10-25T16:45:12.345Z","device":"esp32-grandma-flat-17","sensor":"gas","value":1612.5,"seq":9003,"location":"kitchen","score":0.97,"anomaly":true,"reasons":["threshold:gas"],"owner":"Alice Example"}
NDJSON

rm -f "$WORK/port"
: > "$WORK/requests.log"
background python3 "$FAKE" --port-file "$WORK/port" --log "$WORK/requests.log" --mode ok
wait_until 10 test -s "$WORK/port" || fail "fake server did not start"
PORT=$(cat "$WORK/port")

# openai: a server on this host; openai-off: the same given --off-box (an SSH tunnel, say).
for provider in gemini openai openai-off; do
    extra=()
    [ "$provider" = openai-off ] && extra=(--off-box)
    iots-alert --replay --narrator "${provider%-off}" --dry-run --gemini-url "http://127.0.0.1:$PORT" \
        --llm-url "http://127.0.0.1:$PORT/v1" "${extra[@]}" < "$WORK/in.ndjson" \
        > "$WORK/$provider.out" 2> "$WORK/$provider.err" || fail "$provider dry run: exit $?"
    grep '^{' "$WORK/$provider.err" > "$WORK/$provider.body" || fail "$provider: no body printed"
    assert_eq 1 "$(wc -l < "$WORK/$provider.body")" "$provider: one body for one narrated alert"
    jq -e . "$WORK/$provider.body" > /dev/null || fail "$provider: the body is not JSON"
    # The rules alert still goes out on stdout as usual.
    assert_eq "CRITICAL" "$(jq -r .severity "$WORK/$provider.out")" "$provider: rules alert"
    body=$(cat "$WORK/$provider.body")
    if [ "$provider" = openai ]; then exact=('\"value\":1612.5' '\"score\":0.97'); else
        # 1612.5 ppm to 50 ppm, 0.97 to 0.1; never the exact ones.
        exact=('\"value\":1600.0' '\"score\":1.0')
        for never in 1612 0.97; do
            ! grep -qF -- "$never" <<< "$body" || fail "$provider: off-box body contains '$never'"
        done
    fi
    for must in '\"sensor\":\"gas\"' "${exact[@]}" '\"normal_low\":0' '\"normal_high\":300' \
        '\"room\":\"kitchen\"' '\"severity\":\"CRITICAL\"'; do
        grep -qF -- "$must" <<< "$body" || fail "$provider: body lacks $must"
    done
    for never in esp32 grandma flat-17 2025 16:45 1761 9001 9002 9003 21.7 23.9 Alice owner \
        AIza PRIVACY sk-privacy secret; do
        ! grep -qF -- "$never" <<< "$body" || fail "$provider: body contains '$never'"
    done
    # Nor is any secret anywhere on stdout or stderr.
    ! grep -qE 'AIzaPRIVACY|sk-privacy' "$WORK/$provider.out" "$WORK/$provider.err" ||
        fail "$provider: a key was printed"
done
jq -e '.contents[0].parts[0].text and .generationConfig.responseSchema' "$WORK/gemini.body" \
    > /dev/null || fail "gemini body is not a generateContent request"
jq -e '.messages[1].content and .response_format.type == "json_object"' "$WORK/openai.body" \
    > /dev/null || fail "openai body is not a chat-completions request"
# An OpenAI-compatible server on another host is off the box without --off-box: shown by
# --dry-run (nothing is sent, so the address need not answer).
iots-alert --replay --narrator openai --dry-run --llm-url "http://192.0.2.7:11434/v1" \
    < "$WORK/in.ndjson" 2>&1 > /dev/null | grep '^{' > "$WORK/remote.body" || fail "remote: no body"
assert_eq "$(cat "$WORK/openai-off.body")" "$(cat "$WORK/remote.body")" "remote server = --off-box"
# Nothing was sent.
assert_eq 0 "$(wc -l < "$WORK/requests.log")" "requests received during --dry-run"
# The dry-run body is byte for byte what a real run sends.
iots-alert --replay --narrator gemini --gemini-url "http://127.0.0.1:$PORT" \
    < "$WORK/in.ndjson" > /dev/null 2> "$WORK/real.err" || fail "real run failed"
assert_eq "$(cat "$WORK/gemini.body")" "$(jq -r .body "$WORK/requests.log")" "sent body = dry-run body"
iots-alert --replay --narrator openai --off-box --llm-url "http://127.0.0.1:$PORT/v1" \
    < "$WORK/in.ndjson" > /dev/null 2> "$WORK/real-openai.err" || fail "real openai run failed"
assert_eq 2 "$(wc -l < "$WORK/requests.log")" "requests received"
# What the fake servers received in the bodies and paths: no device id, exact value or time.
jq -r '.path, .body' "$WORK/requests.log" > "$WORK/received"
for never in esp32 grandma flat-17 2025-10-25 16:45 1761 1612 0.97 9003 Alice; do
    ! grep -qF -- "$never" "$WORK/received" || fail "the fake server received '$never'"
done
pass "the request body holds the minimum, --dry-run shows it exactly and sends nothing"
