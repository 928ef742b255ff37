#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Root starting the real binary in a state directory that belongs to
# another user (nobody): --once, --apply and the daemon stop before writing
# anything or sending a request, exit 2 and print the runuser command with
# the same arguments; that command, pasted as printed, runs and leaves
# only files of that user's. --check-config still works as root.
# Needs root, runuser and the test homeserver (exit 77 otherwise).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
sj="$top_builddir/synapse-janitor"
fake_bin="$top_builddir/fake-synapse"
user=nobody

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (a directory of another user's, runuser)"
command -v runuser >/dev/null 2>&1 || skip "runuser not found"
getent passwd "$user" >/dev/null || skip "no user $user"
[ -x "$fake_bin" ] || skip "$fake_bin not built"
runuser -u "$user" -- test -x "$sj" || skip "$user cannot run $sj (a directory on the way is closed)"

work=$(mktemp -d "${TMPDIR:-/tmp}/runas.XXXXXX") || exit 1
fake=
cleanup() {
	[ -n "$fake" ] && kill "$fake" 2>/dev/null && wait "$fake" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
fails=0
n=0
check() { # description, then a command that must succeed
	n=$((n + 1))
	desc=$1
	shift
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		echo "  stderr:"; sed 's/^/    /' "$work/err"
		fails=$((fails + 1))
	fi
}
run() { # exit code into $rc, stderr into $work/err; a daemon that was
	# not stopped is killed after 20 s (exit 124)
	rc=0
	timeout 20 "$@" >"$work/out" 2>"$work/err" || rc=$?
}
requests() { curl -s "$url/_fake/stats" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }
empty() { [ -z "$(ls -A "$1")" ]; }

"$fake_bin" --generate 20 --seed 7 --port 0 --port-file "$work/port" >/dev/null &
fake=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "FAIL: the test homeserver did not start"; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")"

# Spaces in the paths: the printed command must quote them.
state="$work/state dir"
mkdir "$state"
chown "$user:" "$state"
chmod 700 "$state"
policy="$work/my policy.yaml"
printf 'admin-secret-token\n' >"$work/admin-token"
chown "$user:" "$work/admin-token"
chmod 600 "$work/admin-token"
cat >"$policy" <<EOF
homeserver:
  url: $url
  token_file: $work/admin-token
schedule:
  every: 1h
rules:
  - name: everything
    action: record
    match:
      joined_members: {min: 0}
records:
  csv: $state/candidates.csv
  jsonl: $state/decisions.jsonl
state_file: $state/state.json
EOF
chmod 644 "$policy"
printf 'room_id,rule\n' >"$work/reviewed.csv"

want="  runuser -u $user -- $sj --once --dry-run -c '$policy'"
run "$sj" --once --dry-run -c "$policy"
check "--once as root: exit 2" test "$rc" -eq 2
check "--once as root: the runuser command, same arguments, quoted" grep -qxF -- "$want" "$work/err"
check "--once as root: names the directory's owner" grep -qF "belongs to $user" "$work/err"
check "--once as root: nothing written in the state directory" empty "$state"

run "$sj" -c "$policy" --apply "$work/reviewed.csv"
check "--apply as root: exit 2" test "$rc" -eq 2
check "--apply as root: the runuser command" \
	grep -qxF -- "  runuser -u $user -- $sj -c '$policy' --apply $work/reviewed.csv" "$work/err"
check "--apply as root: nothing written" empty "$state"

run "$sj" -c "$policy" --log-target=console
check "daemon as root: exit 2" test "$rc" -eq 2
check "daemon as root: the runuser command" \
	grep -qxF -- "  runuser -u $user -- $sj -c '$policy' --log-target=console" "$work/err"
check "daemon as root: nothing written" empty "$state"
check "no request reached the homeserver" test "$(requests)" = 0

run "$sj" --check-config -c "$policy"
check "--check-config as root: exit 0 (it writes nothing)" test "$rc" -eq 0

# The printed command, pasted into a shell: runs as the user, completes.
cmd=$("$sj" --once --dry-run -c "$policy" 2>&1 | sed -n 's/^  runuser /runuser /p')
run sh -c "$cmd"
check "the printed command: exit 0" test "$rc" -eq 0
check "the printed command: a run of the 20 rooms" grep -q "^scanned 20 rooms" "$work/err"
check "the printed command: the state file written" test -s "$state/state.json"
check "the printed command: every file there is $user's" \
	test -z "$(find "$state" -mindepth 1 ! -user "$user")"

# The directory back to root: root's run goes ahead.
chown -R root: "$state"
run "$sj" --once --dry-run -c "$policy"
check "root's own directory: the run goes ahead (exit 0)" test "$rc" -eq 0

echo "$n checks, $fails failed"
[ "$fails" -eq 0 ]
