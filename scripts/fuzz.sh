#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz and runs each
# over a copy of its seed corpus, so the checkout is not modified.
#   default: FUZZ_RUNS inputs (100,000) from a fixed seed: the same binary meets the same inputs on
#            every machine, so a red CI is a real finding that reproduces, not a lucky draw.
#   FUZZ_SECONDS=N: explore for N seconds from a random seed (look for new findings before a push).
# A crash leaves its input in build-fuzz/crashes/<target>/ and fails the script: add it to the
# corpus and a unit test in tests/unit, then fix. Usage: scripts/fuzz.sh [TARGET...]  (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${FUZZ_SECONDS:-}" ]; then
    budget=(-max_total_time="$FUZZ_SECONDS")
    what="for ${FUZZ_SECONDS}s"
else
    runs=${FUZZ_RUNS:-100000}
    budget=(-runs="$runs" -seed=1)
    what="for $runs inputs from seed 1"
fi
jobs=$(nproc)
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DIOTS_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for src in tests/fuzz/fuzz_*.cpp; do
        name=$(basename "$src" .cpp)
        targets+=("${name#fuzz_}")
    done
fi
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
work=$(mktemp -d "${TMPDIR:-/tmp}/iots-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "build-fuzz/crashes/$t"
    cp tests/fuzz/corpus/"$t"/* "$work/$t/"
    # 64 KiB holds every kind of input many times over (a longer one only slows the fuzzer: the
    # parsers are linear); one input taking 10 s is a hang.
    max_len=65536
    echo "== fuzz: $t $what" >&2
    if ! build-fuzz/tests/fuzz/fuzz_"$t" "$work/$t" "${budget[@]}" -max_len=$max_len \
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="build-fuzz/crashes/$t/" \
        -print_final_stats=1 > "$work/$t.log" 2>&1; then
        tail -n 60 "$work/$t.log" >&2
        failed+=("$t")
    else
        grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$work/$t.log" | tail -n 2 >&2 || true
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]}: inputs in build-fuzz/crashes/" >&2
    exit 1
fi
