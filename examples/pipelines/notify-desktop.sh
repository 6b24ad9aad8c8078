#!/bin/sh
# Alerts as desktop notifications (notify-send, libnotify): MEDIUM and above, not the resolve that
# ends an incident nor a language model's later text; CRITICAL ones stay until dismissed.
# Usage:  mosquitto_sub -h HUB -t 'iotshield/alerts/+' | notify-desktop.sh
# Environment: NOTIFY_SEND (the notify-send command, notify-send).
set -eu
tab=$(printf '\t')

jq --unbuffered -r 'select(.kind == "alert" and (.source // "rules") == "rules"
        and (.severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL")
        and .event != "resolve")
    | [.severity, .title, .description] | @tsv' |
while IFS=$tab read -r severity title body; do
    if [ "$severity" = CRITICAL ]; then urgency=critical; else urgency=normal; fi
    ${NOTIFY_SEND:-notify-send} --app-name=IoTShield --urgency="$urgency" "$title" "$body" ||
        echo "notify-desktop: could not show \"$title\"" >&2
done
