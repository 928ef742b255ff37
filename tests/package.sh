#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian package, as an admin meets it: tests/package.sh [BUILD_DIR [OUT_DIR]]
# Builds it (scripts/package), runs lintian (an error or a warning fails),
# installs it with apt-get on this machine, checks what is installed (files,
# conffile, user, state directory, unit not enabled, unit verified, catalog
# compiled), the installed policy with --check-config, the refusal of a run
# as root, one --once --dry-run as the service user against the test
# homeserver of BUILD_DIR (default build/, built if needed), then purges it
# and checks that nothing is left but the system user the purge says it
# keeps. Needs root; run by scripts/test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
out=${2:-$top/build-deb}
pkg=synapse-janitor
user=_synapse-janitor
state=/var/lib/synapse-janitor
start=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL: tests/package.sh installs a package: run it as root"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt-get on this machine holds the dpkg lock for a while: wait for it.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
[ -x "$build/fake-synapse" ] || sh "$top/scripts/build" "$build" || exit 1
[ -x "$build/fake-synapse" ] || { echo "FAIL: $build/fake-synapse not built (check, libmicrohttpd-dev?)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/package-test.XXXXXX") || exit 1
chmod 755 "$work"
fake=
installed=no
cleanup() {
	[ -n "$fake" ] && kill "$fake" 2>/dev/null && wait "$fake" 2>/dev/null
	# Never leave the package behind on this machine, even after a failure.
	[ "$installed" = yes ] && apt_get purge -y -qq "$pkg" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

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
		fails=$((fails + 1))
		return 1
	fi
}
show() { sed 's/^/    /' "$@"; }
step() { echo "== $* ($(($(date +%s) - start)) s)"; }

# A package left installed by an earlier, interrupted test goes first.
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
	echo "note: $pkg was installed; purging it first"
	apt_get purge -y -qq "$pkg" >/dev/null
fi

step "build the package"
if ! sh "$top/scripts/package" "$out"; then
	echo "FAIL: scripts/package"
	exit 1
fi
version=$(sed -n '1s/^synapse-janitor (\([^)]*\)).*/\1/p' "$top/debian/changelog")
arch=$(dpkg --print-architecture)
deb="$out/${pkg}_${version}_${arch}.deb"
changes="$out/${pkg}_${version}_${arch}.changes"
check "the package is ${pkg}_${version}_${arch}.deb" test -f "$deb"
echo "$(du -k "$deb" | cut -f1) KiB: $deb"

step "lintian"
command -v lintian >/dev/null 2>&1 || apt_get install -y -qq --no-install-recommends lintian >/dev/null
rc=0
lintian --fail-on error,warning --display-info "$deb" "$changes" >"$work/lintian" 2>&1 || rc=$?
grep -v '^running with root privileges' "$work/lintian" | show
check "lintian: no error, no warning (exit $rc)" test "$rc" -eq 0
check "lintian: no E: or W: line" sh -c '! grep -q "^[EW]: " "$1"' - "$work/lintian"

step "install with apt-get"
rc=0
apt_get install -y "$deb" >"$work/install" 2>&1 || rc=$?
installed=yes
check "apt-get install: exit 0 (exit $rc)" test "$rc" -eq 0 || show "$work/install"
check "postinst says the service is not enabled yet" grep -q "installed, not enabled" "$work/install"

# Files (not directories) the package installs: exactly these.
cat >"$work/want-files" <<EOF
/etc/synapse-janitor/policy.yaml
/lib/systemd/system/synapse-janitor.service
/usr/lib/systemd/catalog/synapse-janitor.catalog
/usr/lib/sysusers.d/synapse-janitor.conf
/usr/sbin/synapse-janitor
/usr/share/doc/synapse-janitor/README.gz
/usr/share/doc/synapse-janitor/changelog.gz
/usr/share/doc/synapse-janitor/copyright
/usr/share/lintian/overrides/synapse-janitor
/usr/share/man/man5/synapse-janitor.yaml.5.gz
/usr/share/man/man8/synapse-janitor.8.gz
EOF
dpkg -L "$pkg" >"$work/dpkg-L"
while IFS= read -r f; do
	[ -f "$f" ] && [ ! -d "$f" ] && echo "$f"
done <"$work/dpkg-L" | sort >"$work/files"
check "dpkg -L: the program, 2 man pages, unit, catalog, sysusers, policy, docs, lintian overrides" \
	cmp -s "$work/want-files" "$work/files" || diff "$work/want-files" "$work/files" | show
check "/etc/synapse-janitor/policy.yaml is a conffile" \
	sh -c 'dpkg-query -W -f="\${Conffiles}\n" "$1" | grep -q "^ /etc/synapse-janitor/policy.yaml "' - "$pkg"
check "the installed policy is dry_run: true" grep -qx 'dry_run: true' /etc/synapse-janitor/policy.yaml
check "the system user $user: home $state, no login shell" \
	sh -c 'getent passwd "$1" | grep -q "^$1:x:[0-9]*:[0-9]*:[^:]*:$2:/usr/sbin/nologin$"' - "$user" "$state"
check "$state: $user's, mode 700" test "$(stat -c '%U:%G %a' "$state")" = "$user:$user 700"
check "$state: empty" test -z "$(ls -A "$state")"
check "the unit is not enabled" test "$(systemctl is-enabled "$pkg.service" 2>/dev/null)" = disabled
if [ -d /run/systemd/system ]; then
	check "the unit is not started" sh -c '! systemctl is-active -q "$1"' - "$pkg.service"
else
	echo "note: systemd is not running here: whether the unit started is not checked"
fi
unit=/lib/systemd/system/$pkg.service
rc=0
systemd-analyze verify "$unit" >"$work/verify" 2>&1 || rc=$?
check "systemd-analyze verify the installed unit (exit $rc)" \
	sh -c '[ "$1" -eq 0 ] && ! grep -q synapse-janitor "$2"' - "$rc" "$work/verify" || show "$work/verify"
exposure=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
check "the installed unit's exposure ${exposure:-?} <= 1.5" \
	awk -v e="${exposure:-99}" 'BEGIN { exit !(e + 0 <= 1.5) }'
# The catalog is compiled (systemd's dpkg trigger runs journalctl --update-catalog).
journalctl --list-catalog >"$work/catalog" 2>/dev/null
sed -n 's/^#define MSGID_[A-Z_]* *"\([0-9a-f]\{32\}\)".*/\1/p' "$top/src/message-ids.h" >"$work/ids"
missing=0
for id in $(cat "$work/ids"); do
	grep -q "^$id " "$work/catalog" || missing=$((missing + 1))
done
check "journalctl --list-catalog has all $(wc -l <"$work/ids") message ids ($missing missing)" \
	test "$missing" -eq 0 -a -s "$work/ids"

step "the installed policy and a run as root"
rc=0
synapse-janitor --check-config >"$work/out" 2>&1 || rc=$?
check "synapse-janitor --check-config on the conffile: exit 0 (exit $rc)" test "$rc" -eq 0 || show "$work/out"
check "--check-config: DRY-RUN first" sh -c 'head -n 1 "$1" | grep -q "^DRY-RUN"' - "$work/out"
rc=0
synapse-janitor --once --dry-run >"$work/out" 2>&1 || rc=$?
check "root's --once --dry-run: exit 2" test "$rc" -eq 2
check "root's --once --dry-run: prints the runuser command" \
	grep -qxF "  runuser -u $user -- synapse-janitor --once --dry-run" "$work/out" || show "$work/out"
check "root's --once --dry-run: $state still empty" test -z "$(ls -A "$state")"

step "--once --dry-run as $user against the test homeserver"
"$build/fake-synapse" --generate 200 --seed 42 --port 0 --port-file "$work/port" >/dev/null &
fake=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port" 2>/dev/null)
check "the test homeserver listens" test -n "$port"
# The installed policy, pointed at it, with a token file of the user's.
printf 'admin-secret-token\n' >"$work/admin-token"
chown "$user:" "$work/admin-token"
chmod 600 "$work/admin-token"
sed -e "s|^  url: .*|  url: http://127.0.0.1:$port|" \
	-e "s|^  token_file: .*|  token_file: $work/admin-token|" \
	/etc/synapse-janitor/policy.yaml >"$work/policy.yaml"
chmod 644 "$work/policy.yaml"
rc=0
runuser -u "$user" -- synapse-janitor --once --dry-run -c "$work/policy.yaml" >"$work/out" 2>&1 || rc=$?
check "runuser -u $user -- synapse-janitor --once --dry-run: exit 0 (exit $rc)" test "$rc" -eq 0 ||
	tail -n 20 "$work/out" | show
check "the run scanned the 200 rooms" grep -q "^scanned 200 rooms" "$work/out"
for f in state.json candidates.csv decisions.jsonl; do
	check "$state/$f written, $user's" test "$(stat -c %U "$state/$f" 2>/dev/null)" = "$user"
done
check "nothing in $state is root's" test -z "$(find "$state" -user root)"
# The README's token file: root:$user, 0640, readable by the user.
install -m 0640 -o root -g "$user" /dev/null /etc/synapse-janitor/admin-token
printf 'admin-secret-token\n' >/etc/synapse-janitor/admin-token
sed "s|^  token_file: .*|  token_file: /etc/synapse-janitor/admin-token|" "$work/policy.yaml" >"$work/policy-etc.yaml"
rc=0
runuser -u "$user" -- synapse-janitor --once --dry-run -c "$work/policy-etc.yaml" >"$work/out" 2>&1 || rc=$?
check "the same with /etc/synapse-janitor/admin-token (root:$user 0640): exit 0 (exit $rc)" test "$rc" -eq 0 ||
	tail -n 20 "$work/out" | show
step "reinstall over an edited policy"
printf '# edited by the admin\n' >>/etc/synapse-janitor/policy.yaml
rc=0
apt_get install --reinstall -y "$deb" >"$work/reinstall" 2>&1 || rc=$?
check "apt-get install --reinstall: exit 0 (exit $rc)" test "$rc" -eq 0 || show "$work/reinstall"
check "the admin's edit of the conffile is kept" grep -qx '# edited by the admin' /etc/synapse-janitor/policy.yaml
check "the state file is kept" test -s "$state/state.json"
check "the token file is kept" test -s /etc/synapse-janitor/admin-token

# The README's steps enable it; the purge must undo that too.
systemctl enable "$pkg.service" >/dev/null 2>&1
check "systemctl enable (as the README says)" test "$(systemctl is-enabled "$pkg.service" 2>/dev/null)" = enabled

step "apt-get purge"
rc=0
apt_get purge -y "$pkg" >"$work/purge" 2>&1 || rc=$?
check "apt-get purge: exit 0 (exit $rc)" test "$rc" -eq 0
grep '^synapse-janitor: ' "$work/purge" | show
check "the purge says it removes $state and what is in it" \
	grep -q "^synapse-janitor: removing $state .*state.json" "$work/purge"
check "the purge says it removes the token" grep -q "^synapse-janitor: removing /etc/synapse-janitor/admin-token" "$work/purge"
check "the purge says it keeps the user" grep -q "^synapse-janitor: keeping the system user $user" "$work/purge"
installed=no
status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)
check "dpkg: $pkg not installed, no config files (status '${status:-none}')" \
	sh -c 'case "$1" in ""|un*) exit 0 ;; *) exit 1 ;; esac' - "$status"
left=0
while IFS= read -r f; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	[ -d "$f" ] && continue
	echo "    left: $f"
	left=$((left + 1))
done <"$work/dpkg-L"
check "no file of the package left" test "$left" -eq 0
check "$state gone" test ! -e "$state"
check "/etc/synapse-janitor gone" test ! -e /etc/synapse-janitor
check "no enablement link left" test -z "$(find /etc/systemd/system -name "$pkg.service" 2>/dev/null)"
journalctl --list-catalog >"$work/catalog" 2>/dev/null
check "the catalog entries are gone" sh -c '! grep -q "^$(head -n 1 "$1") " "$2"' - "$work/ids" "$work/catalog"
rm -f "$work/admin-token"
check "the user stays, as the purge said" sh -c 'getent passwd "$1" >/dev/null' - "$user"
check "no file of $user's left in /etc, /var, /tmp" \
	test -z "$(find /etc /var /tmp -xdev -user "$user" 2>/dev/null | head -n 5)"

echo "$n checks, $fails failed, $(($(date +%s) - start)) s"
[ "$fails" -eq 0 ]
