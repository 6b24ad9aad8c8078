# A database that cannot be written: a full disk (exit 74) and a read-only file or file system
# (exit 77). The error names the file, iots-ingest prints the counters of what it committed, and
# the database stays whole. The full disk is a real small tmpfs in a private mount namespace
# (unshare -m as root, unshare -rm in a user namespace otherwise).
. "$(dirname "$0")/lib.sh"
R="python3 $IOTS_TEST_DATA/ingest/readings.py"
cd "$WORK"
N=30000
$R gen $N > in.ndjson

# Runs a shell script in a private mount namespace, where it may mount file systems.
in_private_mounts() {
    local unshare=(unshare -m --propagation private)
    [ "$(id -u)" = 0 ] || unshare=(unshare -rm --propagation private)
    "${unshare[@]}" bash -c "$1" || return $?
}
in_private_mounts true || fail "cannot make a private mount namespace ('unshare -m' as root, or \
'unshare -rm' with user namespaces): this test needs one for a real small file system"

# 1. Disk full: 30,000 readings (about 1.2 MB stored) into a 512 KiB tmpfs, in batches of 1,000
# so that some fit. The files are copied out before the namespace (and its mount) goes away.
mkdir small full
in_private_mounts '
    set -u
    mount -t tmpfs -o size=512k tmpfs small || exit 99
    rc=0
    iots-ingest --db small/home.db --quiet --batch-size 1000 < in.ndjson 2> full.err || rc=$?
    echo "$rc" > full.rc
    cp small/home.db* full/
' || fail "the tmpfs run failed ($?)"
assert_eq 74 "$(cat full.rc)" "exit status with the disk full"
grep -q '^iots-ingest: error: small/home\.db: .*: database or disk is full$' full.err ||
    fail "the error does not name the file: $(tail -n 1 full.err)"
stored=$(sed -n 's/^iots-ingest: info: received [0-9]*, stored \([0-9]*\), rejected 0, duplicates 0$/\1/p' full.err)
[ -n "$stored" ] || fail "no counters before the error: $(cat full.err)"
[ "$stored" -gt 0 ] && [ "$stored" -lt $N ] || fail "stored $stored of $N on a 512 KiB disk"
assert_eq ok "$(sqlite3 full/home.db 'PRAGMA integrity_check')" "integrity after a full disk"
assert_eq "$stored" "$(db_count full/home.db readings)" "rows = the counters' stored"
# Batches commit in order: what is stored is the first $stored readings, counted right.
assert_eq "$((stored - 1))" "$(sqlite3 full/home.db 'SELECT max(seq) FROM readings')" "last seq"
assert_eq "$stored" "$(sqlite3 full/home.db \
    "SELECT value FROM stats WHERE key = 'total_readings'")" "stats.total_readings"
echo "disk full after $stored readings"

# 2. A read-only file (mode 0400). Root ignores file modes, so as root the tools run as nobody
# in a directory nobody owns.
iots-ingest --db ro.db --quiet < in.ndjson 2>/dev/null
mkdir ro
cp ro.db ro/home.db
chmod 0400 ro/home.db
as_user=()
if [ "$(id -u)" = 0 ]; then
    chmod 0711 "$WORK"
    chown -R nobody ro
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
rc=0
"${as_user[@]}" "$IOTS_BIN/iots-ingest" --db ro/home.db < in.ndjson > /dev/null 2> ro.err || rc=$?
assert_eq 77 "$rc" "ingest exit status on a 0400 file"
assert_eq "iots-ingest: error: ro/home.db: cannot write: attempt to write a readonly database (the file's mode, owner or file system)" \
    "$(cat ro.err)" "ingest message on a 0400 file"
rc=0
"${as_user[@]}" "$IOTS_BIN/iots-detect" --db ro/home.db < in.ndjson > /dev/null 2> ro-detect.err \
    || rc=$?
assert_eq 77 "$rc" "detect --db exit status on a 0400 file"
grep -q '^iots-detect: error: ro/home\.db: cannot write: ' ro-detect.err ||
    fail "detect --db message: $(cat ro-detect.err)"
rc=0
"${as_user[@]}" "$IOTS_BIN/iots-alert" --db ro/home.db < /dev/null > /dev/null 2> ro-alert.err \
    || rc=$?
assert_eq 77 "$rc" "alert --db exit status on a 0400 file"
grep -q '^iots-alert: error: ro/home\.db: cannot write: ' ro-alert.err ||
    fail "alert --db message: $(cat ro-alert.err)"
cmp -s ro.db ro/home.db || fail "the read-only database changed"

# 3. A read-only file system (a read-only bind mount): the same refusal, as any user.
mkdir rofs
cp ro.db rofs/home.db
in_private_mounts '
    mount --bind rofs rofs && mount -o remount,bind,ro rofs || exit 99
    rc=0
    iots-ingest --db rofs/home.db < in.ndjson > /dev/null 2> rofs.err || rc=$?
    echo "$rc" > rofs.rc
' || fail "the read-only mount run failed ($?)"
assert_eq 77 "$(cat rofs.rc)" "exit status on a read-only file system"
grep -q '^iots-ingest: error: rofs/home\.db: cannot write: ' rofs.err ||
    fail "message on a read-only file system: $(cat rofs.err)"
pass "disk full 74, read-only 77, the file named, counters printed, the database whole"
