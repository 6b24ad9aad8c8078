#!/usr/bin/env bash
# examples/systemd: every unit passes `systemd-analyze verify` with nothing to say (it exits 0 on an
# unknown key, so any output fails), keeps its hardening and restart policy, and starts a tool
# that exists with options that tool knows. The units name /usr/local/bin (where `cmake --install`
# puts the tools); verify checks that ExecStart's program exists, so the copies checked here name
# the tools just built instead, and nothing else is changed. The mosquitto drop-in is checked on
# Debian's own mosquitto.service.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (scripts/deps.sh test installs systemd)"
SRC="$IOTS_SRC/examples/systemd"
UNITS="$WORK/units"
mkdir -p "$UNITS" "$WORK/man/man1" "$WORK/man/man5" "$WORK/man/man7"
# verify also runs `man` for each Documentation=man: line.
for m in "$IOTS_SRC"/man/*.1; do ln -s "$m" "$WORK/man/man1/"; done
for m in "$IOTS_SRC"/man/*.5; do ln -s "$m" "$WORK/man/man5/"; done
for m in "$IOTS_SRC"/man/*.7; do ln -s "$m" "$WORK/man/man7/"; done
export MANPATH="$WORK/man:$(manpath 2>/dev/null || echo /usr/share/man)"

n=0
for tool in iots-ingest iots-detect iots-alert iots-serve iots-ha iots-act; do
    unit="$SRC/$tool.service"
    [ -f "$unit" ] || fail "no $unit"
    for line in DynamicUser=yes User=iotshield StateDirectory=iotshield NoNewPrivileges=yes \
        ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
        CapabilityBoundingSet= Restart=on-failure 'RestartPreventExitStatus=2 66 77 78' \
        LoadCredential=mqtt-password:/etc/iotshield/%N.password 'SystemCallFilter=@system-service'; do
        grep -qxF -- "$line" "$unit" || fail "$tool.service: no line '$line'"
    done
    grep -q '^ExecStart=.*/usr/local/bin/'"$tool"' ' "$unit" || fail "$tool.service does not start /usr/local/bin/$tool"
    # Every option the unit gives is one the tool has.
    help=$("$IOTS_BIN/$tool" --help)
    for opt in $(grep '^ExecStart=' "$unit" | grep -oE -- ' --[a-z][a-z0-9-]+' | sort -u); do
        grep -qF -- "$opt" <<< "$help" || fail "$tool.service: $tool has no option $opt"
    done
    sed "s#/usr/local/bin/#$IOTS_BIN/#g" "$unit" > "$UNITS/$tool.service"
    n=$((n + 1))
done
# Every unit there is one of those (a new one is checked too), and the README installs them all.
for unit in "$SRC"/*.service; do
    [ -f "$UNITS/$(basename "$unit")" ] || fail "$(basename "$unit") is not checked here"
    grep -q "^sudo systemctl enable --now .*\b$(basename "$unit" .service)\b" "$IOTS_SRC/README.md" ||
        fail "README does not enable $(basename "$unit")"
done
# iots-act's rules: the unit reads them from /etc/iotshield, and the example it starts from passes
# its safety check.
grep -q -- '--rules /etc/iotshield/home.rules' "$SRC/iots-act.service" || fail "iots-act.service: no --rules"
printf '' | "$IOTS_BIN/iots-act" --rules "$IOTS_SRC/examples/act/home.rules" --dry-run --quiet-log ||
    fail "examples/act/home.rules is refused"
# A unit with a mistake is caught: the check itself can fail.
sed 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' "$UNITS/iots-ha.service" > "$WORK/broken.service"
[ -n "$(systemd-analyze verify "$WORK/broken.service" 2>&1)" ] || fail "verify says nothing of an unknown key"

(cd "$UNITS" && systemd-analyze verify ./*.service) > "$WORK/verify.log" 2>&1 ||
    fail "systemd-analyze verify failed: $(cat "$WORK/verify.log")"
[ ! -s "$WORK/verify.log" ] || fail "systemd-analyze verify: $(cat "$WORK/verify.log")"

# The broker's drop-in, on the unit it changes.
base=/lib/systemd/system/mosquitto.service
[ -f "$base" ] || fail "no $base (the mosquitto package)"
mkdir -p "$WORK/mq/mosquitto.service.d"
cp "$base" "$WORK/mq/"
cp "$SRC/mosquitto.service.d/iotshield.conf" "$WORK/mq/mosquitto.service.d/"
grep -qx 'Restart=on-failure' "$WORK/mq/mosquitto.service.d/iotshield.conf" || fail "drop-in: no restart policy"
(cd "$WORK/mq" && systemd-analyze verify ./mosquitto.service) > "$WORK/mq.log" 2>&1 ||
    fail "verify mosquitto.service with the drop-in: $(cat "$WORK/mq.log")"
[ ! -s "$WORK/mq.log" ] || fail "verify mosquitto.service with the drop-in: $(cat "$WORK/mq.log")"
pass "$n units and the mosquitto drop-in verified"
