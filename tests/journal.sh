#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The journal is the audit trail: run the program (its test build) with
# --log-target=journal against the test homeserver, read the entries back
# from the real systemd-journald with journalctl -o json, and check their
# fields.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

command -v journalctl >/dev/null || skip "journalctl is not installed"
# The socket file outlives a journald that has gone (/run need not be a
# tmpfs), so ask a live journald to take a line, not whether the file exists.
journald_alive() { echo "journal test probe" | systemd-cat -t synapse-janitor-test 2>/dev/null; }
if ! journald_alive; then
	[ "$(id -u)" -eq 0 ] || skip "no journald running and not root to start one"
	[ -x /lib/systemd/systemd-journald ] || skip "systemd-journald is not installed"
	/lib/systemd/systemd-journald >/dev/null 2>&1 &
	for _ in $(seq 50); do journald_alive && break; sleep 0.1; done
	journald_alive || fail "systemd-journald did not start"
fi

work=$(mktemp -d)
"$top_builddir/fake-synapse" --fixture "$top_srcdir/tests/e2e/world.json" \
	--admin-token journal-test-token-5511 --port 0 >"$work/fake.out" &
fake=$!
trap 'kill $fake 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do port=$(sed -n 's/^port //p' "$work/fake.out"); [ -n "$port" ] && break; sleep 0.1; done
[ -n "$port" ] || fail "the test homeserver did not start"
sed -e "s/@PORT@/$port/" -e "s|@DIR@|$work|" "$top_srcdir/tests/e2e/policy.yaml" >"$work/policy.yaml"
printf 'journal-test-token-5511\n' >"$work/admin-token"
chmod 600 "$work/admin-token"

# shellcheck disable=SC2086 # the wrapper is a command line (valgrind ...)
${SJ_TEST_WRAPPER:-} "$top_builddir/synapse-janitor-test" --once --log-target=journal -c "$work/policy.yaml" \
	>"$work/stdout" 2>"$work/stderr" || fail "exit status $? ($(cat "$work/stderr"))"
run_id=$(sed -n '2s/^\([0-9a-f]*\),.*/\1/p' "$work/candidates.csv")
[ -n "$run_id" ] || fail "no run id in the CSV"
journalctl --sync 2>/dev/null || true
for _ in $(seq 50); do
	journalctl -o json RUN_ID="$run_id" >"$work/journal.json" 2>/dev/null
	grep -q '"MESSAGE_ID":"0892e9e9d92147ddb4bcae3d9716bf1b"' "$work/journal.json" && break
	sleep 0.2
done

expect() {
	grep "$1" "$work/journal.json" | grep -q "$2" || fail "no entry with $1 and $2"
}
# one decision entry with every field of DESIGN.md §7
expect '"ROOM_ID":"!abandoned:test.local"' '"OUTCOME":"would_delete"'
expect '"ROOM_ID":"!abandoned:test.local"' '"MESSAGE_ID":"240e14bc57ba457bb00b5c8c736b9983"'
expect '"ROOM_ID":"!abandoned:test.local"' '"RULE":"abandoned"'
expect '"ROOM_ID":"!abandoned:test.local"' '"ACTION":"delete"'
expect '"ROOM_ID":"!abandoned:test.local"' '"DRY_RUN":"true"'
expect '"ROOM_ID":"!abandoned:test.local"' '"INACTIVE_DAYS":"200"'
expect '"ROOM_ID":"!abandoned:test.local"' '"JOINED_LOCAL_MEMBERS":"0"'
expect '"ROOM_ID":"!abandoned:test.local"' '"SYSLOG_IDENTIFIER":"synapse-janitor"'
expect '"ROOM_ID":"!abandoned:test.local"' '"LAST_ACTIVITY":"20'
expect '"ROOM_ID":"!pinned:test.local"' '"OUTCOME":"protected"'
expect '"ROOM_ID":"!no-events:test.local"' '"PRIORITY":"4"'
expect '"ROOM_ID":"!stale-dm:test.local"' '"OUTCOME":"recorded"'
# run start and end, with the counts
expect '"MESSAGE_ID":"6f4d2d10f1cf4ff28973298ca4290b3c"' '"DRY_RUN":"true"'
expect '"MESSAGE_ID":"0892e9e9d92147ddb4bcae3d9716bf1b"' '"SCANNED":"18"'
expect '"MESSAGE_ID":"0892e9e9d92147ddb4bcae3d9716bf1b"' '"CANDIDATES":"5"'
expect '"MESSAGE_ID":"0892e9e9d92147ddb4bcae3d9716bf1b"' '"KEPT_UNKNOWN":"2"'
# plain keeps are not logged without --verbose
grep -q '"ROOM_ID":"!team:test.local"' "$work/journal.json" && fail "a plain keep was logged"
# the token never reaches the journal
grep -q journal-test-token-5511 "$work/journal.json" && fail "the token is in the journal"
[ -s "$work/stderr" ] && fail "journal target wrote to stderr: $(cat "$work/stderr")"
echo "PASS: $(wc -l <"$work/journal.json") journal entries checked"
exit 0
