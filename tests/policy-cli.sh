#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# synapse-janitor --check-config against the real binary: the shipped example,
# the demo policy, a broken policy and a missing file (exit codes, where the
# messages go, what they say).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
sj="$top_builddir/synapse-janitor-test"
work=$(mktemp -d "${TMPDIR:-/tmp}/policy-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
n=0

check() { # description, then a shell condition
	n=$((n + 1))
	desc=$1
	shift
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		echo "  stdout:"; sed 's/^/    /' "$work/out"
		echo "  stderr:"; sed 's/^/    /' "$work/err"
		fails=$((fails + 1))
	fi
}

run() { # exit code into $rc, output into $work/out and $work/err
	rc=0
	# shellcheck disable=SC2086 # the wrapper is a command line (valgrind ...)
	${SJ_TEST_WRAPPER:-} "$sj" "$@" >"$work/out" 2>"$work/err" || rc=$?
}

# The shipped example: valid, and dry-run is the first thing it says.
run --check-config -c "$top_srcdir/etc/policy.yaml"
check "example: exit 0" test "$rc" -eq 0
check "example: DRY-RUN on the first line" sh -c 'head -n 1 "$1" | grep -q "^DRY-RUN: nothing will be deleted"' - "$work/out"
check "example: rules listed" grep -q "1. abandoned-by-locals" "$work/out"
check "example: nothing on stderr" test ! -s "$work/err"

# The demo policy as scripts/demo writes it.
sed 's/@PORT@/8448/' "$top_srcdir/etc/demo.yaml" >"$work/demo.yaml"
run --check-config -c "$work/demo.yaml"
check "demo: exit 0" test "$rc" -eq 0
check "demo: relative paths resolved next to the policy" grep -q "CSV $work/candidates.csv" "$work/out"

# A policy that turns deletion on says so in capitals.
sed 's/^dry_run: true/dry_run: false/' "$work/demo.yaml" >"$work/live.yaml"
run --check-config -c "$work/live.yaml"
check "live: exit 0" test "$rc" -eq 0
check "live: DELETING on the first line" sh -c 'head -n 1 "$1" | grep -q "^DELETING: rooms matching delete rules WILL BE DELETED"' - "$work/out"

# A broken policy: exit 2, file:line:column and key path on stderr, no summary.
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
run --check-config -c "$work/broken.yaml"
check "broken: exit 2" test "$rc" -eq 2
check "broken: duration error with position" grep -q "^$work/broken.yaml:4:12: homeserver.timeout: " "$work/err"
check "broken: unknown key with position" grep -q "^$work/broken.yaml:10:7: rules\[0\].match.inactve: unknown key" "$work/err"
check "broken: nothing on stdout" test ! -s "$work/out"

# --dry-run cannot make a broken policy acceptable, and a daemon would not start.
run --once --dry-run -c "$work/broken.yaml"
check "broken --once: exit 2 before any request" test "$rc" -eq 2

# A missing file: exit 2, the path and the errno text.
run --check-config -c "$work/nope.yaml"
check "missing: exit 2" test "$rc" -eq 2
check "missing: path and strerror" grep -q "$work/nope.yaml.*No such file or directory" "$work/err"

# --check-config reads no token: a missing token file is not its business.
run --check-config -c "$work/demo.yaml"
check "check-config does not need the token file" test "$rc" -eq 0

# A world-readable token file: exit 2 before anything is sent, the file named,
# the token never shown.
printf 'SeCrEt-token-123\n' >"$work/admin-token"
chmod 644 "$work/admin-token"
run --once --log-target=console -c "$work/demo.yaml"
check "readable token: exit 2" test "$rc" -eq 2
check "readable token: the file is named" grep -q "$work/admin-token.*readable by every user" "$work/err"
check "readable token: never shown" sh -c '! grep -q SeCrEt "$1" "$2"' - "$work/out" "$work/err"

echo "1..$n"
[ "$fails" -eq 0 ]
