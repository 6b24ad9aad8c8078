#!/usr/bin/env bash
# Encryption at rest as README "Privacy: who is protected from whom" sets it up: the data
# directory on gocryptfs (FUSE), its passphrase in a file only its owner may read. The tools work on
# the mounted directory unchanged (WAL included); what lies on the disk holds no SQLite header, no
# device name and no file name; unmounted, the files do not open as a database, a wrong passphrase
# does not mount them, and the right one gives every reading back. (SQLCipher cannot carry the
# store: README says which statements fail on Debian's 3.4.1.) Needs /dev/fuse, fusermount3 and
# gocryptfs (scripts/deps.sh test): without them this test fails, it does not pass.
. "$(dirname "$0")/lib.sh"

for need in gocryptfs fusermount3; do
    command -v "$need" > /dev/null || fail "$need is missing (scripts/deps.sh test installs it)"
done
[ -c /dev/fuse ] || fail "no /dev/fuse: this machine cannot mount a FUSE file system"

CIPHER="$WORK/cipher" PLAIN="$WORK/data"
mkdir -p "$CIPHER" "$PLAIN"
(umask 077 && printf 'correct horse battery staple\n' > "$WORK/passphrase" &&
    printf 'wrong horse\n' > "$WORK/wrong")
gocryptfs -init -q -passfile "$WORK/passphrase" "$CIPHER" > "$WORK/init.log" 2>&1 ||
    fail "gocryptfs -init: $(cat "$WORK/init.log")"
unmount() { fusermount3 -u "$PLAIN" 2>/dev/null || true; }
gocryptfs -q -passfile "$WORK/passphrase" "$CIPHER" "$PLAIN" > "$WORK/mount.log" 2>&1 ||
    fail "gocryptfs mount: $(cat "$WORK/mount.log")"
trap 'unmount; cleanup' EXIT
mountpoint -q "$PLAIN" || fail "$PLAIN is not mounted"

# The pipeline on the mounted directory: iots-sim -> iots-ingest -> the database, read back by
# iots-train and sqlite3 (WAL mode, its shared memory on FUSE).
iots-sim --device-names esp32-attic,esp32-cellar --duration 2h --seed 7 2> /dev/null > "$WORK/readings.ndjson"
N=$(wc -l < "$WORK/readings.ndjson")
[ "$N" -gt 1000 ] || fail "iots-sim wrote $N readings"
iots-ingest --db "$PLAIN/home.db" --quiet < "$WORK/readings.ndjson" 2> "$WORK/ingest.err" ||
    fail "iots-ingest on the encrypted directory exited $?"
assert_eq "$N" "$(db_count "$PLAIN/home.db" readings)" "readings stored"
assert_eq wal "$(sqlite3 "$PLAIN/home.db" 'PRAGMA journal_mode')" "journal mode"
iots-train --db "$PLAIN/home.db" --model "$PLAIN/home.model" 2> "$WORK/train.err" ||
    fail "iots-train on the encrypted directory exited $?: $(cat "$WORK/train.err")"

# On the disk: no SQLite header, no device name, no file name in the clear.
! grep -rqaF -e 'SQLite format 3' -e esp32-attic -e temperature "$CIPHER" ||
    fail "plain text on the disk: $(grep -rlaF -e 'SQLite format 3' -e esp32-attic "$CIPHER")"
! find "$CIPHER" -name 'home*' | grep -q . || fail "a file name in the clear: $(ls "$CIPHER")"

unmount
! mountpoint -q "$PLAIN" || fail "still mounted"
assert_eq "" "$(ls "$PLAIN")" "the mount point once unmounted"
for f in "$CIPHER"/*; do
    case $(basename "$f") in gocryptfs.*) continue ;; esac
    ! sqlite3 "$f" 'SELECT count(*) FROM readings' > /dev/null 2>&1 || fail "$f opens as a database"
done
set +e
gocryptfs -q -passfile "$WORK/wrong" "$CIPHER" "$PLAIN" > "$WORK/wrong.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || { unmount; fail "a wrong passphrase mounted the data"; }
assert_eq "" "$(ls "$PLAIN")" "the mount point after a wrong passphrase"

gocryptfs -q -passfile "$WORK/passphrase" "$CIPHER" "$PLAIN" > "$WORK/mount2.log" 2>&1 ||
    fail "gocryptfs mount again: $(cat "$WORK/mount2.log")"
assert_eq "$N" "$(db_count "$PLAIN/home.db" readings)" "readings after mounting again"
unmount
pass "the data directory on gocryptfs: the tools work on it, the disk holds no plain text"
