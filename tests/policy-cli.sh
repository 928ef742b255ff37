#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The command line against the real program, one table row per case (as
# earlyoom's CLI tests): the command, its exit code, and what one of its
# streams must say. The cases: --check-config of the shipped example, the
# demo policy, a live, a broken and a missing policy; a world-readable
# token file; and --version, which tells the test build (what the tests
# run) from the installed program.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
sj="$top_builddir/synapse-janitor-test"
installed="$top_builddir/synapse-janitor"
work=$(mktemp -d "${TMPDIR:-/tmp}/policy-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The policies of the table. The demo policy as scripts/demo writes it;
# its token file (admin-token next to it) does not exist.
sed 's/@PORT@/8448/' "$top_srcdir/etc/demo.yaml" >"$work/demo.yaml"
# A policy that turns deletion on.
sed 's/^dry_run: true/dry_run: false/' "$work/demo.yaml" >"$work/live.yaml"
# The demo policy beside a world-readable token file.
mkdir "$work/readable"
cp "$work/demo.yaml" "$work/readable/demo.yaml"
printf 'SeCrEt-token-123\n' >"$work/readable/admin-token"
chmod 644 "$work/readable/admin-token"
# Two errors: a duration out of range (line 4) and a misspelt key (line 10).
cat >"$work/broken.yaml" <<'EOP'
homeserver:
  url: http://127.0.0.1:8008
  token_file: admin-token
  timeout: 5y
rules:
  - name: r
    action: record
    match:
      inactive_for: 90d
      inactve: 1d
EOP

# exit | stream | expectation | command
# The stream is out or err; the expectation is an extended regular
# expression a line must match, "1:RE" the first line, "!RE" no line, and
# "empty" nothing at all; "-" checks the exit code only. The command is
# split at blanks; no field holds a "|".
cases() {
	cat <<EOF
# The shipped example: valid, and dry-run is the first thing it says.
0 | out | 1:^DRY-RUN: nothing will be deleted | $sj --check-config -c $top_srcdir/etc/policy.yaml
0 | out | 1\. abandoned-by-locals | $sj --check-config -c $top_srcdir/etc/policy.yaml
0 | err | empty | $sj --check-config -c $top_srcdir/etc/policy.yaml
# Relative paths are resolved next to the policy.
0 | out | CSV $work/candidates\.csv | $sj --check-config -c $work/demo.yaml
# --check-config reads no token: the missing token file is not its business.
0 | err | !admin-token | $sj --check-config -c $work/demo.yaml
# A policy that turns deletion on says so in capitals.
0 | out | 1:^DELETING: rooms matching delete rules WILL BE DELETED | $sj --check-config -c $work/live.yaml
# A broken policy: file:line:column and key path on stderr, no summary.
2 | err | ^$work/broken\.yaml:4:12: homeserver\.timeout: | $sj --check-config -c $work/broken.yaml
2 | err | ^$work/broken\.yaml:10:7: rules\[0\]\.match\.inactve: unknown key | $sj --check-config -c $work/broken.yaml
2 | out | empty | $sj --check-config -c $work/broken.yaml
# --dry-run cannot make a broken policy acceptable: exit 2 before any request.
2 | - | - | $sj --once --dry-run -c $work/broken.yaml
# A missing file: the path and the errno text.
2 | err | $work/nope\.yaml.*No such file or directory | $sj --check-config -c $work/nope.yaml
# A world-readable token file: exit 2 before anything is sent, the file
# named, the token never shown.
2 | err | $work/readable/admin-token.*readable by every user | $sj --once --log-target=console -c $work/readable/demo.yaml
2 | err | !SeCrEt | $sj --once --log-target=console -c $work/readable/demo.yaml
2 | out | !SeCrEt | $sj --once --log-target=console -c $work/readable/demo.yaml
# The tests run the test build, and the installed program is not one.
0 | out | 1:^synapse-janitor [0-9.]+ \(test build: | $sj --version
0 | out | 1:^synapse-janitor [0-9.]+\$ | $installed --version
EOF
}

# check EXIT STREAM EXPECTATION: against the last run, whose exit code is
# in $rc and output in $work/out and $work/err.
check() {
	[ "$rc" -eq "$1" ] || return 1
	file="$work/$2"
	case $3 in
	-) ;;
	empty) [ ! -s "$file" ] ;;
	!*) ! grep -Eq -- "${3#!}" "$file" ;;
	1:*) head -n 1 "$file" | grep -Eq -- "${3#1:}" ;;
	*) grep -Eq -- "$3" "$file" ;;
	esac
}

n=0
fails=0
trim() { sed 's/^ *//; s/ *$//'; }
while IFS='|' read -r want stream expect command; do
	case $want in '#'*|'') continue ;; esac
	want=$(echo "$want" | trim)
	stream=$(echo "$stream" | trim)
	expect=$(echo "$expect" | trim)
	n=$((n + 1))
	rc=0
	# shellcheck disable=SC2086 # the wrapper is a command line (valgrind ...), the command is split at blanks
	${SJ_TEST_WRAPPER:-} $command >"$work/out" 2>"$work/err" || rc=$?
	if check "$want" "$stream" "$expect"; then
		echo "ok $n -$command -> exit $want, $stream $expect"
	else
		echo "not ok $n -$command -> exit $want, $stream $expect (exit $rc)"
		echo "  stdout:"; sed 's/^/    /' "$work/out"
		echo "  stderr:"; sed 's/^/    /' "$work/err"
		fails=$((fails + 1))
	fi
done <<EOF
$(cases)
EOF

echo "1..$n"
[ "$fails" -eq 0 ]
