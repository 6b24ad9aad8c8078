# Armadillo stays inside detect/ (STYLE: each third-party library in one module): no public header
# under lib/ brings it in, directly or through another header, so users of the detector do not
# compile it. All headers are preprocessed together once; on a hit each is tried alone to name it.
. "$(dirname "$0")/lib.sh"

CXX=${CXX:-c++}
command -v "$CXX" > /dev/null || fail "no C++ compiler ($CXX) to preprocess the headers"
(cd "$IOTS_SRC/lib" && find iotshield -name '*.hpp' | sort) > "$WORK/headers"
[ "$(wc -l < "$WORK/headers")" -ge 10 ] || fail "found only $(wc -l < "$WORK/headers") headers"
sed 's/.*/#include "&"/' "$WORK/headers" > "$WORK/all.cpp"
"$CXX" -std=c++20 -I"$IOTS_SRC/lib" -E -x c++ "$WORK/all.cpp" > "$WORK/all.i" 2> "$WORK/cpp.err" \
    || fail "the headers do not preprocess: $(head -n 5 "$WORK/cpp.err")"
# The check can see Armadillo: the module's own source does include it.
"$CXX" -std=c++20 -I"$IOTS_SRC/lib" -E -x c++ "$IOTS_SRC/lib/iotshield/detect/kmeans.cpp" \
    > "$WORK/kmeans.i" 2> /dev/null || fail "kmeans.cpp does not preprocess"
grep -q '/armadillo"' "$WORK/kmeans.i" || fail "preprocessed kmeans.cpp shows no Armadillo"
if grep -q '/armadillo"' "$WORK/all.i"; then
    while read -r h; do
        echo "#include \"$h\"" | "$CXX" -std=c++20 -I"$IOTS_SRC/lib" -E -x c++ - \
            > "$WORK/one.i" 2> /dev/null || true
        if grep -q '/armadillo"' "$WORK/one.i"; then echo "$h"; fi
    done < "$WORK/headers" > "$WORK/offenders"
    fail "public headers that include <armadillo>: $(tr '\n' ' ' < "$WORK/offenders")"
fi
pass "$(wc -l < "$WORK/headers") headers under lib/, none includes Armadillo"
