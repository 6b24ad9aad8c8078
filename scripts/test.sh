#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice: as released
# (RelWithDebInfo) and under AddressSanitizer + UndefinedBehaviorSanitizer, builds the demo's tools
# as scripts/demo.sh does (a unity build), then each fuzz target
# over a fixed number of inputs from a fixed seed (scripts/fuzz.sh).
# IOTS_SANITIZE=0 skips the second pass and IOTS_FUZZ=0 the fuzzing (quicker local runs); CI runs
# all three.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test

jobs=$(nproc)
# ccache keys on paths relative to the checkout, so a fresh clone elsewhere (CI) reuses the objects
# of any earlier build on this machine.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
if [ -f tests/browser/package-lock.json ] && [ ! -d tests/browser/node_modules ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

run_suite() { # build-dir, ctest arguments as one word, extra cmake args...
    local dir=$1 select=$2; shift 2
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
    # shellcheck disable=SC2086 # $select is zero or more ctest arguments
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 $select
}

echo "== tests: release build" >&2
run_suite build "" -DIOTS_BUILD_BENCH=OFF
# The demo builds its tools apart, as a unity build (scripts/demo.sh): two files of one library that
# each define a helper of the same name compile alone but not there.
echo "== the demo's build" >&2
scripts/demo.sh --build-only
if [ "${IOTS_SANITIZE:-1}" != 0 ]; then
    echo "== tests: ASan + UBSan build" >&2
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # The documentation's examples (label docs) ran in the first pass; they check the docs.
    run_suite build-sanitize "-LE docs" -DIOTS_SANITIZE=ON -DIOTS_BUILD_BENCH=OFF
fi
if [ "${IOTS_FUZZ:-1}" != 0 ]; then
    echo "== tests: fuzzing (clang, libFuzzer, ASan + UBSan)" >&2
    scripts/fuzz.sh
fi
