#!/bin/sh
# The whole pipeline in one shell line: two simulated hours of one node with a fire after the first,
# stored, scored and turned into alerts (one JSON line each on stdout, also in the database).
# Usage: whole-pipeline.sh [DATABASE]        (default home.db; the same file for readings and alerts)
set -eu
db=${1:-home.db}

iots-sim --devices 1 --duration 2h --incident fire@1h | iots-ingest --db "$db" | iots-detect | iots-alert --replay --db "$db"
