#!/usr/bin/env bash
# Every option a tool's --help shows is documented in its man page and offered by the bash, zsh and
# fish completions (STYLE, Code 8), and each committed man page matches its scdoc source (scdoc
# stamps a date into the .TH line, so that line is left out of the comparison).
. "$(dirname "$0")/lib.sh"

tools=$(cd "$IOTS_BIN" && ls iots-* 2>/dev/null || true)
[ -n "$tools" ] || fail "no tools built in $IOTS_BIN"
checked=0
for tool in $tools; do
    [ -x "$IOTS_BIN/$tool" ] || continue
    help=$("$IOTS_BIN/$tool" --help) || fail "$tool --help exited non-zero"
    [ -n "$help" ] || fail "$tool --help printed nothing"
    scd="$IOTS_SRC/man/$tool.1.scd"
    [ -f "$scd" ] || fail "$tool has no man page source man/$tool.1.scd"
    [ -f "$IOTS_SRC/man/$tool.1" ] || fail "$tool has no generated man page man/$tool.1"
    for comp in "completions/bash/$tool" "completions/zsh/_$tool" "completions/fish/$tool.fish"; do
        [ -f "$IOTS_SRC/$comp" ] || fail "$tool has no $comp"
    done
    for opt in $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
        grep -qF -- "$opt" "$scd" || grep -qF -- "*${opt#--}*" "$scd" ||
            fail "$tool: option $opt is in --help but not in man/$tool.1.scd"
        grep -qF -- "$opt" "$IOTS_SRC/completions/bash/$tool" ||
            fail "$tool: option $opt missing from completions/bash/$tool"
        grep -qF -- "$opt" "$IOTS_SRC/completions/zsh/_$tool" ||
            fail "$tool: option $opt missing from completions/zsh/_$tool"
        grep -qE -- "-l ${opt#--}( |$)" "$IOTS_SRC/completions/fish/$tool.fish" ||
            fail "$tool: option $opt missing from completions/fish/$tool.fish"
        checked=$((checked + 1))
    done
done
if command -v scdoc >/dev/null; then
    for scd in "$IOTS_SRC"/man/*.scd; do
        roff="${scd%.scd}"
        [ -f "$roff" ] || fail "$(basename "$scd") has no generated $(basename "$roff") beside it"
        scdoc < "$scd" > "$WORK/page" || fail "scdoc rejects $(basename "$scd")"
        diff <(grep -v '^\.TH' "$WORK/page") <(grep -v '^\.TH' "$roff") >/dev/null ||
            fail "man/$(basename "$roff") is stale: scdoc < $scd > $roff"
    done
fi
pass "$checked options documented across $(echo $tools | wc -w) tools"
