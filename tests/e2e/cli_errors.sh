#!/usr/bin/env bash
# The errors a newcomer meets, as a table: each row runs one tool with one mistake and expects its
# exit status and exactly one line on stderr that holds the expected text, naming the option or
# file and the problem (and nothing on stdout); the rows up to iots-ha's password file failed on the
# tools of main at 0ad14dd, the later ones hold every tool (iots-act and iots-export too) to the
# same form. Then: every numeric option of every tool refuses a word in that one-line form;
# --help shows no CLI11 noise, the defaults of -q and -k, and what -h means to each tool (or that it
# needs a broker); iots-alert's old --model spelling
# still works, with a warning; iots-serve's ack route gives its reasons (415, 404, 409); iots-sim
# without a broker says so in one line.
. "$(dirname "$0")/lib.sh"

W="$WORK"
echo "not a database" > "$W/notdb.db"
mkdir "$W/dir.d"
cp "$IOTS_SRC/examples/act/home.rules" "$W/home.rules"
printf '{\n  "window": 1h\n}\n' > "$W/notjson.json"
echo '{"budget": {"epsilon_per_dya": 1}}' > "$W/typo.json"

# tool | arguments (split on spaces; @W@ is the work directory) | exit status |
# a part of the one line expected on stderr
rows=$(cat <<'EOF'
iots-train | --bogus | 2 | iots-train: error: unknown option --bogus (see --help)
iots-serve | --bogus | 2 | iots-serve: error: unknown option --bogus (see --help)
iots-detect | --bogus --port 0 | 2 | iots-detect: error: unknown option --bogus (see --help)
iots-detect | --bogus=3 | 2 | iots-detect: error: unknown option --bogus=3 (see --help)
iots-detect | stray | 2 | iots-detect: error: unexpected argument 'stray' (see --help)
iots-detect | --gas-ppm banana | 2 | iots-detect: error: --gas-ppm: 'banana' is not a number above 0, up to 10000 (see --help)
iots-detect | --ror 0 | 2 | iots-detect: error: --ror: '0' is not a number above 0 (see --help)
iots-detect | --heat-c -500 | 2 | iots-detect: error: --heat-c: '-500' is not a number from 30 to 125 (see --help)
iots-detect | --port 0 | 2 | iots-detect: error: --port: '0' is not a whole number from 1 to 65535 (see --help)
iots-detect | --max-bad-lines -1 | 2 | iots-detect: error: --max-bad-lines: '-1' is not a whole number of 0 or more (see --help)
iots-detect | --state @W@/none/state | 2 | iots-detect: error: --state @W@/none/state: cannot write in @W@/none: No such file or directory
iots-detect | --no-alarm-lane | 2 | iots-detect: error: --no-alarm-lane needs a broker: give -h HOST
iots-alert | --gas-danger banana | 2 | iots-alert: error: --gas-danger: 'banana' is not a number above 0, up to 10000 (see --help)
iots-alert | --heat-danger 400 | 2 | iots-alert: error: --heat-danger: '400' is not a number from 30 to 125 (see --help)
iots-alert | --llm-timeout 0s | 2 | iots-alert: error: --llm-timeout: '0s' is not a duration longer than 0
iots-alert | --exec-timeout 0s | 2 | iots-alert: error: --exec-timeout: '0s' is not a duration longer than 0
iots-alert | --escalate-after 0s | 2 | iots-alert: error: --escalate-after: '0s' is not a duration longer than 0
iots-alert | --llm-retries 11 | 2 | iots-alert: error: --llm-retries: '11' is not a whole number from 0 to 10 (see --help)
iots-alert | --api-key-file @W@/missing | 66 | iots-alert: error: --api-key-file @W@/missing: cannot read: No such file or directory
iots-train | --model @W@/m.model --db @W@/notdb.db | 66 | iots-train: error: --db @W@/notdb.db: not an SQLite database
iots-train | --model @W@/none/m.model | 2 | iots-train: error: --model @W@/none/m.model: cannot write in @W@/none: No such file or directory
iots-train | --model @W@/dir.d | 2 | iots-train: error: --model @W@/dir.d: is a directory
iots-train | --model @W@/m.model --trees 0 | 2 | iots-train: error: --trees: '0' is not a whole number from 1 to 10000 (see --help)
iots-sim | -h 127.0.0.1 --password-file @W@/missing | 66 | iots-sim: error: --password-file @W@/missing: cannot read: No such file or directory
iots-sim | -h 127.0.0.1 --password-file @W@/dir.d | 66 | iots-sim: error: --password-file @W@/dir.d: cannot read: Is a directory
iots-sim | --incident fire@30h --duration 1d | 2 | iots-sim: error: --incident fire@30h: starts after the run ends (--duration 1d)
iots-sim | --incident fire@1d | 2 | iots-sim: error: --incident fire@1d: starts after the run ends (--duration 1d)
iots-sim | --duration 0s | 2 | iots-sim: error: --duration: '0s' is not a duration longer than 0
iots-sim | --seed -1 | 2 | iots-sim: error: --seed: '-1' is not a whole number of 0 or more (see --help)
iots-sim | --utc-offset banana | 2 | iots-sim: error: --utc-offset: 'banana' is not a number (see --help)
iots-sim | --devices 0 | 2 | iots-sim: error: --devices: '0' is not a whole number from 1 to 1000 (see --help)
iots-serve | --db @W@/s.db --poll 5ms | 2 | iots-serve: error: --poll: '5ms' is not a duration from 10ms to 10s
iots-serve | --db @W@/s.db --tokens @W@/missing | 66 | iots-serve: error: --tokens @W@/missing: cannot read: No such file or directory
iots-serve | --db @W@/s.db --threads 0 | 2 | iots-serve: error: --threads: '0' is not a whole number from 1 to 256 (see --help)
iots-ingest | --retain 0s | 2 | iots-ingest: error: --retain: '0s' is not a duration longer than 0
iots-ha | --clear-after 0s | 2 | iots-ha: error: --clear-after: '0s' is not a duration longer than 0
iots-ha | --gas-danger 20000 | 2 | iots-ha: error: --gas-danger: '20000' is not a number above 0, up to 10000 (see --help)
iots-ha | --discovery-prefix ha | 2 | iots-ha: error: a broker is required (-h HOST or IOTS_BROKER)
iots-ha | -h 127.0.0.1 --password-file @W@/missing | 66 | iots-ha: error: --password-file @W@/missing: cannot read: No such file or directory
iots-ha | --bogus | 2 | iots-ha: error: unknown option --bogus (see --help)
iots-ha | -h 127.0.0.1 --max-bad-lines -3 | 2 | iots-ha: error: --max-bad-lines: '-3' is not a whole number of 0 or more (see --help)
iots-sim | --bogus | 2 | iots-sim: error: unknown option --bogus (see --help)
iots-ingest | --bogus | 2 | iots-ingest: error: unknown option --bogus (see --help)
iots-ingest | --compact-after of | 2 | iots-ingest: error: --compact-after: 'of' is not a duration (like 500ms, 5s, 2h, 14d) (see --help)
iots-alert | --bogus | 2 | iots-alert: error: unknown option --bogus (see --help)
iots-train | --model @W@/m.model --since banana | 2 | iots-train: error: --since: 'banana' is neither RFC 3339 nor epoch ms
iots-act | --bogus | 2 | iots-act: error: unknown option --bogus (see --help)
iots-act | --dry-run | 2 | iots-act: error: --rules is required (see --help)
iots-act | --rules @W@/missing --dry-run | 66 | iots-act: error: --rules @W@/missing: cannot read: No such file or directory
iots-act | --rules @W@/dir.d --dry-run | 66 | iots-act: error: --rules @W@/dir.d: cannot read: Is a directory
iots-act | --rules @W@/home.rules | 2 | iots-act: error: no broker to send commands to: give -h HOST, or --dry-run
iots-act | --rules @W@/home.rules --input mqtt --dry-run | 2 | iots-act: error: --input mqtt needs a broker: give -h HOST
iots-act | --rules @W@/home.rules --input file | 2 | iots-act: error: --input: file not in {stdin,mqtt} (see --help)
iots-act | --rules @W@/home.rules --dry-run --tz Mars/Base | 2 | iots-act: error: --tz: unknown time zone: Mars/Base
iots-act | --rules @W@/home.rules --dry-run --max-line-bytes 10 | 2 | iots-act: error: --max-line-bytes: '10' is not a whole number from 64 to 1073741824 (see --help)
iots-act | --rules @W@/home.rules -h 127.0.0.1 -p 0 | 2 | iots-act: error: --port: '0' is not a whole number from 1 to 65535 (see --help)
iots-export | --bogus | 2 | iots-export: error: unknown option --bogus (see --help)
iots-export | --report | 2 | iots-export: error: --db is required (see --help)
iots-export | --db @W@/notdb.db --report | 66 | iots-export: error: --db @W@/notdb.db: not an SQLite database
iots-export | --db @W@/e.db --since banana | 2 | iots-export: error: --since: 'banana' is neither RFC 3339 nor epoch ms
iots-export | --db @W@/e.db --until 5 | 2 | iots-export: error: --policy and --destination are required to release (or give --report)
iots-export | --db @W@/e.db --policy @W@/missing --destination x | 66 | iots-export: error: --policy @W@/missing: cannot read: No such file or directory
iots-export | --db @W@/e.db --policy @W@/dir.d --destination x | 66 | iots-export: error: --policy @W@/dir.d: cannot read: Is a directory
iots-export | --db @W@/e.db --policy @W@/notjson.json --destination x | 78 | iots-export: error: @W@/notjson.json:2:14: not JSON: invalid literal; last read: '1h'; expected '}'
iots-export | --db @W@/e.db --policy @W@/typo.json --destination x | 78 | iots-export: error: @W@/typo.json: budget.epsilon_per_dya: unknown key
EOF
)

failures=0
n=0
while IFS='|' read -r tool args want_rc want_line; do
    tool=$(echo $tool)
    want_rc=$(echo $want_rc)
    args=${args//@W@/$W}
    want_line=${want_line# }
    want_line=${want_line//@W@/$W}
    read -ra argv <<< "$args"
    rc=0
    (cd "$W" && "$tool" "${argv[@]}") < /dev/null > "$W/row.out" 2> "$W/row.err" || rc=$?
    n=$((n + 1))
    got=$(cat "$W/row.err")
    lines=$(wc -l < "$W/row.err")
    if [ "$rc" != "$want_rc" ] || [ "$lines" != 1 ] || [[ "$got" != *"$want_line"* ]] ||
        [ -s "$W/row.out" ]; then
        echo "row: $tool $args" >&2
        echo "  want $want_rc: $want_line" >&2
        echo "  got  $rc: $got" >&2
        [ -s "$W/row.out" ] && echo "  and stdout: $(head -c 200 "$W/row.out")" >&2
        failures=$((failures + 1))
    fi
done <<< "$rows"
[ "$failures" = 0 ] || fail "$failures of $n rows"

# No broker on the port: one line, saying how long it tried, and 69 as iots-sim(1) says (the
# issue's three warnings and 15 s were gone before this test; it keeps them gone).
DOWN=$(free_port)
rc=0
iots-sim -h 127.0.0.1 -p "$DOWN" < /dev/null > "$W/down.out" 2> "$W/down.err" || rc=$?
assert_eq 69 "$rc" "iots-sim without a broker: exit status"
assert_eq "iots-sim: error: cannot reach broker 127.0.0.1:$DOWN after 10 s: Connection refused" \
    "$(cat "$W/down.err")" "iots-sim without a broker: stderr"

# Every numeric option of every tool (as --help shows it) refuses a word in one line that names it.
swept=0
for tool in iots-sim iots-ingest iots-train iots-detect iots-alert iots-serve iots-ha iots-act iots-export; do
    "$tool" --help > "$W/help" || fail "$tool --help"
    for opt in $(grep -oE -- '--[a-z][a-z0-9-]+ (INT|UINT|FLOAT)' "$W/help" | cut -d' ' -f1); do
        rc=0
        "$tool" "$opt" banana < /dev/null > /dev/null 2> "$W/sweep.err" || rc=$?
        assert_eq 2 "$rc" "$tool $opt banana: exit status ($(cat "$W/sweep.err"))"
        assert_eq 1 "$(wc -l < "$W/sweep.err")" "$tool $opt banana: stderr lines"
        grep -qE -- "^$tool: error: $opt: 'banana' is not a (whole )?number" "$W/sweep.err" ||
            fail "$tool $opt banana: $(cat "$W/sweep.err")"
        swept=$((swept + 1))
    done
    # No CLI11 noise: no validator text after the type, no second mention of the environment.
    ! grep -qE 'INT:|FLOAT:| in \[|\(Env:' "$W/help" || fail "$tool --help: $(grep -E 'INT:|FLOAT:| in \[|\(Env:' "$W/help")"
done
[ "$swept" -ge 20 ] || fail "only $swept numeric options found in the tools' --help"
iots-detect --help > "$W/help"
grep -qE -- '-q,--qos .*\(default 1\)' "$W/help" || fail "--help: -q without its default"
grep -qE -- '-k,--keepalive .*\(default 30\)' "$W/help" || fail "--help: -k without its default"
# -h's help line says what each tool does without a broker, or that it needs one.
while IFS='|' read -r tool text; do
    "$tool" --help | grep -qE -- "^ *-h,--host .*; $text\$" ||
        fail "$tool --help: -h does not end with '$text': $("$tool" --help | grep -- '-h,--host')"
done <<'EOF'
iots-sim|none: readings as NDJSON on stdout
iots-ingest|none: readings from stdin
iots-detect|none: readings from stdin
iots-alert|none: scored readings from stdin
iots-serve|none: no actuator control
iots-act|where commands go; required but with --dry-run
iots-ha|required
EOF

# A number is read as written: --seed 010 is ten, not octal eight.
cmp -s <(iots-sim --seed 010 --count 12) <(iots-sim --seed 10 --count 12) ||
    fail "--seed 010 is not --seed 10"

# iots-alert: --llm-model names the language model; --model still does, with a warning.
printf '' | iots-alert --narrator openai --llm-model m1 --dry-run > /dev/null 2> "$W/new.err" ||
    fail "--llm-model: $(cat "$W/new.err")"
! grep -q 'deprecated' "$W/new.err" || fail "--llm-model warned: $(cat "$W/new.err")"
printf '' | iots-alert --narrator openai --model m1 --dry-run > /dev/null 2> "$W/old.err" ||
    fail "--model: $(cat "$W/old.err")"
grep -qx "iots-alert: warning: --model is deprecated: use --llm-model" "$W/old.err" ||
    fail "--model did not warn: $(cat "$W/old.err")"
iots-alert --help | grep -q -- '--llm-model' || fail "--help lacks --llm-model"

# iots-serve's ack route: each refusal says why, in the status the man page and OpenAPI list.
PORT=$(free_port)
DB="$W/serve.db"
background iots-serve --db "$DB" --listen "127.0.0.1:$PORT" 2> "$W/serve.err"
wait_port "$PORT"
sqlite3 "$DB" "INSERT INTO alerts (id, ts, device, severity, title, status)
               VALUES ('a-1', 1761400000000, 'esp32-kitchen', 'HIGH', 'Gas rising', 'new')"
ack() { # expected-status path curl-args...
    local want=$1 path=$2 code
    shift 2
    code=$(curl -sS --max-time 5 -o "$W/body" -w '%{http_code}' -X POST "$@" \
        "http://127.0.0.1:$PORT$path") || true
    assert_eq "$want" "$code" "POST $path $*: $(cat "$W/body")"
}
ack 415 /api/alerts/a-1/ack
grep -q '"error":"a POST needs Content-Type: application/json, even without a body"' "$W/body" ||
    fail "ack without a body: $(cat "$W/body")"
ack 404 /api/alerts/nope/ack -H 'Content-Type: application/json'
ack 200 /api/alerts/a-1/resolve -H 'Content-Type: application/json'
ack 409 /api/alerts/a-1/ack -H 'Content-Type: application/json'
grep -q '"error":"the alert is already resolved"' "$W/body" || fail "409: $(cat "$W/body")"
curl -sS "http://127.0.0.1:$PORT/api/openapi.json" | python3 -c '
import json, sys
ops = json.load(sys.stdin)["paths"]["/api/alerts/{id}/ack"]["post"]["responses"]
missing = {"200", "404", "409", "415"} - set(ops)
assert not missing, missing' || fail "OpenAPI: the ack route does not list 200, 404, 409 and 415"
for code in 404 409 415; do
    grep -qE "\*?$code\*?" "$IOTS_SRC/man/iots-serve.1.scd" || fail "iots-serve(1) does not mention $code"
done

pass "$n rows, $swept numeric options, help, --llm-model, the ack route"
