#!/usr/bin/env bash
# The documentation runs: every command block of README.md and every EXAMPLES block of the man
# pages is run as written (with the rewrites and notes docs_examples.py describes), against a
# private broker, so an example that drifts from the tools fails here.
. "$(dirname "$0")/lib.sh"

start_broker
python3 "$IOTS_SRC/tests/e2e/docs_examples.py" --src "$IOTS_SRC" --work "$WORK" \
    --broker-port "$BROKER_PORT" --http-port "$(free_port)" > "$WORK/run.log" 2> "$WORK/run.err" ||
    { cat "$WORK/run.log" "$WORK/run.err" >&2; fail "an example failed"; }
cat "$WORK/run.log"
pass "$(tail -n 1 "$WORK/run.log")"
