#!/bin/sh
# Alerts to a phone through ntfy (https://ntfy.sh, or a server of your own): HIGH and CRITICAL
# alerts only, not the resolve that ends an incident nor a language model's later text.
# Usage:  mosquitto_sub -h HUB -t 'iotshield/alerts/+' | notify-ntfy.sh
#    or:  iots-alert -h HUB | notify-ntfy.sh
# Environment: NTFY_URL (the topic's URL, e.g. https://ntfy.sh/my-secret-home-topic; required),
# NTFY_TOKEN (optional access token), CURL (the curl command, curl).
set -eu
: "${NTFY_URL:?set NTFY_URL to your ntfy topic URL}"
tab=$(printf '\t')

jq --unbuffered -r 'select(.kind == "alert" and (.source // "rules") == "rules"
        and (.severity == "HIGH" or .severity == "CRITICAL") and .event != "resolve")
    | [.severity, .title, .description + " " + .suggestion] | @tsv' |
while IFS=$tab read -r severity title body; do
    if [ "$severity" = CRITICAL ]; then priority=urgent; else priority=high; fi
    ${CURL:-curl} -fsS -o /dev/null -H "Title: $title" -H "Priority: $priority" -H "Tags: warning" \
        ${NTFY_TOKEN:+-H "Authorization: Bearer $NTFY_TOKEN"} --data-binary "$body" "$NTFY_URL" ||
        echo "notify-ntfy: could not post \"$title\"" >&2
done
