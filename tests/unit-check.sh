#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The systemd unit (systemd-analyze verify and security), the journal catalog
# (every MESSAGE_ID of src/message-ids.h explained, and accepted by
# journalctl) and the manual page (mandoc -T lint).
# Exit 77 (skip) only when systemd-analyze is missing.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$(pwd)}"
MAX_EXPOSURE=1.5

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found"
	exit 77
fi

fail=0
failed() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok: $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/unit-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

in="$top_srcdir/systemd/synapse-janitor.service.in"
bin="$(cd "$top_builddir" && pwd)/synapse-janitor"
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }

# --- The unit -----------------------------------------------------------------

# verify needs ExecStart's binary to exist: point it at the one just built.
unit="$tmp/synapse-janitor.service"
sed -e "s|@sbindir@/synapse-janitor|$bin|" -e "s|@sysconfdir@|/etc|g" "$in" > "$unit"
if grep -q '@[a-z]*@' "$unit"; then
	failed "unsubstituted @variables@ left: $(grep -o '@[a-z]*@' "$unit" | sort -u | tr '\n' ' ')"
fi
# The unit make installs must be fully substituted too.
if [ -f "$top_builddir/systemd/synapse-janitor.service" ] &&
   grep -q '@[a-z]*@' "$top_builddir/systemd/synapse-janitor.service"; then
	failed "systemd/synapse-janitor.service has unsubstituted @variables@"
fi

# Documentation=man: entries are checked with man(1): offer the pages of
# this tree. synapse-janitor.yaml(5) comes from the policy area; without it
# the man check is left out rather than failing on someone else's file.
mkdir -p "$tmp/man/man8" "$tmp/man/man5"
cp "$top_srcdir/man/synapse-janitor.8" "$tmp/man/man8/"
man_opt=
if [ -f "$top_srcdir/man/synapse-janitor.yaml.5" ]; then
	cp "$top_srcdir/man/synapse-janitor.yaml.5" "$tmp/man/man5/"
else
	echo "note: man/synapse-janitor.yaml.5 not in the tree: verify --man=no"
	man_opt=--man=no
fi
if ! command -v man >/dev/null 2>&1; then
	man_opt=--man=no
fi
MANPATH="$tmp/man" systemd-analyze verify $man_opt "$unit" > "$tmp/verify.out" 2>&1
rc=$?
# Lines about other units (the host's targets) are not ours.
grep -F 'synapse-janitor' "$tmp/verify.out" > "$tmp/verify.ours"
if [ $rc -ne 0 ] || [ -s "$tmp/verify.ours" ]; then
	cat "$tmp/verify.out"
	failed "systemd-analyze verify (exit $rc)"
else
	ok "systemd-analyze verify clean"
fi

systemd-analyze security --offline=true "$unit" > "$tmp/security.out" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' "$tmp/security.out")
if [ -z "$exposure" ]; then
	cat "$tmp/security.out"
	failed "no exposure level in systemd-analyze security output"
elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 <= m + 0) }'; then
	ok "exposure $exposure <= $MAX_EXPOSURE"
else
	grep '✗' "$tmp/security.out"
	failed "exposure $exposure > $MAX_EXPOSURE"
fi

# Options the design requires, and the ones it forbids.
for want in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' 'RestartPreventExitStatus=2' \
	'User=_synapse-janitor' 'Group=_synapse-janitor' \
	'StateDirectory=synapse-janitor' 'PrivateUsers=yes' \
	'LoadCredential=admin-token:/etc/synapse-janitor/admin-token' 'ProtectSystem=strict' \
	'Documentation=man:synapse-janitor(8) man:synapse-janitor.yaml(5)' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'SystemCallFilter=@system-service' \
	'#ReadWritePaths='; do
	grep -qF -- "$want" "$unit" || failed "unit lacks $want"
done
for forbidden in '^PrivateNetwork=' '^IPAddressDeny=' '^IPAddressAllow='; do
	grep -q -- "$forbidden" "$unit" && failed "unit must not set ${forbidden#^} (Synapse may be remote)"
done
# A static user that owns the state directory, so runs by hand can use it
# (runuser): not a dynamic one, which exists only while the service runs.
grep -q '^DynamicUser=' "$unit" && failed "unit must not set DynamicUser= (it runs as _synapse-janitor)"
# The user the unit runs as is the one sysusers.d creates.
sysusers="$top_srcdir/systemd/sysusers.d/synapse-janitor.conf"
unit_user=$(sed -n 's/^User=//p' "$unit")
if grep -q "^u $unit_user - " "$sysusers"; then
	ok "sysusers.d creates User=$unit_user"
else
	failed "$sysusers does not create the unit's User=$unit_user"
fi
# systemd-sysusers accepts it (into a scratch root, not this system).
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$tmp/sysroot/etc"
	if systemd-sysusers --root="$tmp/sysroot" "$sysusers" > "$tmp/sysusers.out" 2>&1 &&
	   grep -q "^$unit_user:x:[0-9]*:[0-9]*:[^:]*:/var/lib/synapse-janitor:/usr/sbin/nologin$" "$tmp/sysroot/etc/passwd"; then
		ok "systemd-sysusers creates $unit_user, home /var/lib/synapse-janitor, no login shell"
	else
		cat "$tmp/sysusers.out" "$tmp/sysroot/etc/passwd"
		failed "systemd-sysusers $sysusers"
	fi
fi
grep -q '^WatchdogSec=' "$unit" || failed "unit lacks WatchdogSec="
grep -qx 'LimitCORE=0' "$unit" || failed "unit lacks LimitCORE=0 (the token is in the daemon's memory)"
# The start-up check's deadline (src/daemon.h) stays below TimeoutStartSec.
deadline=$(sed -n 's/^#define DAEMON_CHECK_DEADLINE_SEC \([0-9]*\).*/\1/p' "$top_srcdir/src/daemon.h")
start_timeout=$(sed -n 's/^TimeoutStartSec=\([0-9]*\)s$/\1/p' "$unit")
if [ -z "$deadline" ] || [ -z "$start_timeout" ]; then
	failed "cannot read DAEMON_CHECK_DEADLINE_SEC ('$deadline') or TimeoutStartSec=Ns ('$start_timeout')"
elif [ "$deadline" -ge "$start_timeout" ]; then
	failed "the start-up check's deadline ${deadline}s is not below TimeoutStartSec=${start_timeout}s"
else
	ok "start-up check deadline ${deadline}s < TimeoutStartSec=${start_timeout}s"
fi
grep -q '^TimeoutStopSec=' "$unit" || failed "unit lacks TimeoutStopSec="

# --- The catalog --------------------------------------------------------------

catalog="$top_srcdir/systemd/synapse-janitor.catalog"
ids="$tmp/ids"
sed -n 's/^#define MSGID_[A-Z_]* *"\([0-9a-f]\{32\}\)".*/\1/p' "$top_srcdir/src/message-ids.h" | sort > "$ids"
[ "$(wc -l < "$ids")" -ge 10 ] || failed "could not read the ids of src/message-ids.h"
sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$catalog" | sort > "$tmp/catalog-ids"
if ! cmp -s "$ids" "$tmp/catalog-ids"; then
	diff "$ids" "$tmp/catalog-ids"
	failed "catalog ids differ from src/message-ids.h (< header only, > catalog only)"
else
	ok "catalog explains all $(wc -l < "$ids") message ids"
fi
# Each entry: Subject, Defined-By, Documentation, a blank line, some text.
awk '
	/^-- [0-9a-f]+$/ { if (id) check(); id = $2; subj = def = doc = text = 0; hdr = 1; next }
	!id { next }
	hdr && /^Subject: ./ { subj = 1; next }
	hdr && /^Defined-By: synapse-janitor$/ { def = 1; next }
	hdr && /^Documentation: man:/ { doc = 1; next }
	hdr && /^$/ { hdr = 0; next }
	hdr { print "bad header line in " id ": " $0; bad = 1; next }
	/[^ ]/ { text = 1 }
	function check() {
		if (!subj || !def || !doc || !text) { print "incomplete entry " id; bad = 1 }
	}
	END { if (id) check(); exit bad }
' "$catalog" || failed "catalog entries malformed"
if command -v journalctl >/dev/null 2>&1; then
	# journalctl builds its database under --root, so no root needed.
	mkdir -p "$tmp/root/usr/lib/systemd/catalog" "$tmp/root/var/lib/systemd/catalog"
	cp "$catalog" "$tmp/root/usr/lib/systemd/catalog/"
	if journalctl --root="$tmp/root" --update-catalog > "$tmp/jc.out" 2>&1 &&
	   journalctl --root="$tmp/root" --list-catalog > "$tmp/jc.list" 2>>"$tmp/jc.out"; then
		cut -d' ' -f1 "$tmp/jc.list" | sort > "$tmp/jc-ids"
		if cmp -s "$ids" "$tmp/jc-ids"; then
			ok "journalctl --update-catalog accepts it"
		else
			diff "$ids" "$tmp/jc-ids"
			failed "journalctl did not read every entry"
		fi
	else
		cat "$tmp/jc.out"
		failed "journalctl --update-catalog"
	fi
fi

# --- The manual page ----------------------------------------------------------

if command -v mandoc >/dev/null 2>&1; then
	if mandoc -T lint "$top_srcdir/man/synapse-janitor.8"; then
		ok "mandoc -T lint clean"
	else
		failed "mandoc -T lint man/synapse-janitor.8"
	fi
else
	echo "note: mandoc not found, manual page not linted"
fi
# Every option of --help is documented.
for opt in $("$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
	grep -q -- "$esc" "$top_srcdir/man/synapse-janitor.8" || failed "man page lacks $opt"
done
for id in $(cat "$ids"); do
	grep -q "$id" "$top_srcdir/man/synapse-janitor.8" || failed "man page lacks MESSAGE_ID $id"
done

exit $fail
