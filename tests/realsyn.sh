#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The real binary against a real Synapse 1.68.0, brought up on 127.0.0.1:8008
# by ../shared/realsyn/bringup.sh with a fresh set of rooms (rooms.env):
#   dry-run     every room's outcome in the CSV, the JSONL and the journal;
#               the clock check passes on Synapse's own Date header
#   explain     --explain of real rooms: the verdict the dry run reached
#   prior       rooms every local member left, protected by the name they
#               had: read from /context at their newest event
#   activity    activity: messages against activity: events on backdated rooms
#   token       a non-admin token, then a made-up one: exit 1, nothing written
#   crash       killed right after a DELETE was accepted, then run again
#   delete      a deleting run: gone rooms answer 404, kept ones 200, one
#               DELETE each (Synapse's own access log)
# The cases run in that order on one set of rooms; a new case is a case_*
# function added to the list at the end, before "delete", which uses the
# rooms up. Without ../shared/realsyn (a tarball build, make distcheck) the
# test is skipped.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"

realsyn=$top_srcdir/../shared/realsyn
base=/tmp/realsyn
url=http://127.0.0.1:8008
server_log=$base/data/homeserver.log
# The test hooks (SYNAPSE_JANITOR_TEST_*) live in a test build of the
# program when there is one.
sj=$top_builddir/synapse-janitor-test
[ -x "$sj" ] || sj=$top_builddir/synapse-janitor
# Deletes on a test server finish in milliseconds: poll them quickly.
SYNAPSE_JANITOR_TEST_POLL_MS=50,500
export SYNAPSE_JANITOR_TEST_POLL_MS

MSGID_RUN_END=0892e9e9d92147ddb4bcae3d9716bf1b
MSGID_ROOM_DECISION=240e14bc57ba457bb00b5c8c736b9983

n=0
fails=0
current=setup
ok() { n=$((n + 1)); echo "ok $n - $current: $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $current: $*"; }
fatal() { echo "FAIL: $current: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
clock() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(clock)" 'BEGIN { printf "%.1f", b - a }'; }

# --- the server ------------------------------------------------------------

# One set of rooms at a time: a second copy of this test (another build
# directory) waits rather than deleting rooms under the first one's feet.
lock_server() {
	exec 9>/tmp/realsyn.test.lock
	flock 9
}

# bringup [--fresh]: bring the server up (bringup.sh installs its packages
# the first time, and reuses a running Synapse and its users).
bringup() {
	# 9>&-: the Synapse it starts must not hold the lock of this test
	if bash "$realsyn/bringup.sh" "$@" >"$work/bringup.log" 2>&1 9>&-; then
		printf 'Authorization: Bearer %s\n' "$(cat "$base/admin.token")" >"$work/auth"
		return 0
	fi
	tail -n 20 "$work/bringup.log"
	return 1
}

# All rooms of the server into $work/all-rooms.json (one page).
list_rooms() {
	curl -sf -m 10 -H @"$work/auth" "$url/_synapse/admin/v1/rooms?limit=100000" >"$work/all-rooms.json" ||
		fatal "cannot list the rooms"
}

# Rooms total_rooms counts but the room list leaves out: statistics rows of
# purged rooms. Synapse 1.68 restarted after purges finds its newest events
# gone, rewinds its statistics processor ("Event stream ordering appears to
# have gone backwards") and writes rows for purged rooms again; total_rooms
# counts room_stats_state, the list joins it with rooms. With more than two
# every run of the program sees a truncated listing and deletes nothing,
# which is not what these cases are about.
phantom_rooms() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["total_rooms"] - len(d["rooms"]))' "$work/all-rooms.json"
}

# A fresh set of rooms: without rooms.env, populate.py makes a whole new
# one. A server an earlier run left unusable (a wrong program that deleted
# the server notices room makes the next notice fail), or one with phantom
# rooms, is started over with a new database.
bring_up() {
	rm -f "$base/rooms.env"
	if ! bringup; then
		echo "# bringup.sh failed on the running server: starting over (--fresh)"
		bringup --fresh || fatal "bringup.sh --fresh failed"
	fi
	list_rooms
	phantoms=$(phantom_rooms)
	if [ "$phantoms" -ne 0 ]; then
		echo "# Synapse counts $phantoms purged rooms in total_rooms: starting over (--fresh)"
		bringup --fresh || fatal "bringup.sh --fresh failed"
		list_rooms
	fi
	# shellcheck disable=SC1091 # written by bringup.sh
	. "$base/rooms.env"
	kinds=$(sed -n 's/^ROOM_\([A-Z0-9_]*\)=.*/\1/p' "$base/rooms.env")
	[ -n "$kinds" ] || fatal "no rooms in $base/rooms.env"
}

room_id() { eval "printf '%s' \"\${ROOM_$1:?no room $1 in rooms.env}\""; }
escape() { printf '%s' "$1" | sed -e 's/%/%25/g' -e 's/!/%21/g' -e 's/:/%3A/g' -e 's/#/%23/g'; }

# admin_status ROOM_ID: the HTTP status of the room's Admin API details.
admin_status() {
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H @"$work/auth" \
		"$url/_synapse/admin/v1/rooms/$(escape "$1")"
}

# deletes_sent ROOM_ID: the DELETEs of the room in Synapse's access log.
deletes_sent() {
	grep -ci "\"DELETE /_synapse/admin/v2/rooms/$(escape "$1") HTTP" "$server_log" || true
}

# Rooms of earlier sets (a run stopped before its deletes leaves rooms the
# rules below match) are protected by id: only this set can have candidates.
earlier_rooms() {
	python3 - "$work/all-rooms.json" "$base/rooms.env" <<'EOF'
import json, sys
ours = {l.split("=", 1)[1].strip() for l in open(sys.argv[2]) if l.startswith("ROOM_")}
print(json.dumps(sorted(r["room_id"] for r in json.load(open(sys.argv[1]))["rooms"]
                        if r["room_id"] not in ours)))
EOF
}

# The journal: the suite makes sure a journald runs (see tests/journal.sh).
journald_alive() { echo "realsyn test probe" | systemd-cat -t synapse-janitor-test 2>/dev/null; }
start_journald() {
	command -v journalctl >/dev/null || skip "journalctl is not installed"
	journald_alive && return 0
	[ "$(id -u)" -eq 0 ] || skip "no journald running and not root to start one"
	[ -x /lib/systemd/systemd-journald ] || skip "systemd-journald is not installed"
	/lib/systemd/systemd-journald >/dev/null 2>&1 &
	for _ in $(seq 50); do journald_alive && return 0; sleep 0.1; done
	fatal "systemd-journald did not start"
}

# --- running the program -----------------------------------------------------

# policy DIR: DIR's policy is the common part below (this server, the admin
# token, DIR's records and state) followed by stdin.
policy() {
	mkdir -p "$1"
	install -m 600 "$base/admin.token" "$1/admin-token"
	{
		cat <<EOF
homeserver:
  url: $url
  token_file: $1/admin-token
  timeout: 10s
  page_size: 5
records:
  csv: $1/candidates.csv
  jsonl: $1/decisions.jsonl
  all_rooms: true
state_file: $1/state.json
EOF
		cat
	} >"$1/policy.yaml"
}

# janitor DIR [OPTION...]: one --once run of DIR's policy; its exit status in
# $rc, stdout and stderr in DIR/out and DIR/err.
janitor() {
	dir=$1
	shift
	rc=0
	# shellcheck disable=SC2086 # the wrapper is a command line (valgrind ...)
	timeout 300 ${SJ_TEST_WRAPPER:-} "$sj" --once -c "$dir/policy.yaml" "$@" \
		>"$dir/out" 2>"$dir/err" || rc=$?
	sed 's/^/    /' "$dir/err"
}

expect_exit() {
	if [ "$rc" -eq "$1" ]; then
		ok "exit status $1"
	else
		not_ok "exit status: expected $1, got $rc"
	fi
}

# The run id of DIR's last run, from its CSV.
run_id_of() { sed -n '2s/^\([0-9a-f]*\),.*/\1/p' "$1/candidates.csv" 2>/dev/null; }

# read_journal DIR: the entries of DIR's run, once its run-end entry is in.
read_journal() {
	id=$(run_id_of "$1")
	[ -n "$id" ] || fatal "no run id in $1/candidates.csv"
	journalctl --sync 2>/dev/null || true
	for _ in $(seq 50); do
		journalctl -o json RUN_ID="$id" >"$1/journal.json" 2>/dev/null || true
		grep -q "\"MESSAGE_ID\":\"$MSGID_RUN_END\"" "$1/journal.json" && return 0
		sleep 0.2
	done
	fatal "the journal has no run-end entry of run $id"
}

# rows DIR SOURCE: DIR's decisions of its last run as lines of
# room_id, outcome, rule, reason, last_activity (tab-separated), from its
# CSV, its JSONL or the journal's decision entries ("" for none).
rows() {
	python3 - "$1" "$2" "$(run_id_of "$1")" "$MSGID_ROOM_DECISION" <<'EOF'
import csv, json, sys
d, source, run_id, decision = sys.argv[1:]
keys = ("room_id", "outcome", "rule", "reason", "last_activity")
if source == "csv":
    rows = list(csv.DictReader(open(d + "/candidates.csv", newline="")))
elif source == "jsonl":
    rows = [o for o in map(json.loads, open(d + "/decisions.jsonl")) if o["run_id"] == run_id]
else:
    rows = [{k: e.get(k.upper()) for k in keys}
            for e in map(json.loads, open(d + "/journal.json"))
            if e.get("MESSAGE_ID") == decision]
for r in rows:
    print("\t".join("" if r.get(k) is None else str(r[k]).replace("\t", " ") for k in keys))
EOF
}

# expect_rooms DIR SOURCE...: every room of the set has the outcome stdin
# says, in each SOURCE (csv, jsonl, journal). Lines of stdin:
#   KIND OUTCOME RULE REASON   (RULE "-": none; REASON: a part of the reason)
# A plain keep has no journal entry; OUTCOME "gone": a room deleted before
# the run, in no source.
expect_rooms() {
	dir=$1
	shift
	for s in "$@"; do
		rows "$dir" "$s" >"$dir/$s.tsv" || fatal "cannot read the $s of $dir"
	done
	checked=" "
	while read -r kind outcome rule reason; do
		case $kind in "" | "#"*) continue ;; esac
		checked="$checked$kind "
		id=$(room_id "$kind")
		shown=$outcome
		[ "$rule" = - ] || [ "$outcome" = gone ] || shown="$outcome rule=$rule"
		bad=""
		for s in "$@"; do
			bad="$bad$(expect_row "$dir/$s.tsv" "$s" "$id" "$outcome" "$rule" "$reason")"
		done
		if [ -z "$bad" ]; then
			ok "$kind $shown ($*)"
		else
			not_ok "$kind ($id): expected $shown:$bad"
		fi
	done
	for kind in $kinds; do
		case $checked in *" $kind "*) ;; *) not_ok "$kind of rooms.env has no expected outcome" ;; esac
	done
}

# One room in one source: prints what is wrong, nothing when all is right.
expect_row() {
	got=$(awk -F '\t' -v id="$3" '$1 == id' "$1")
	if [ "$4" = gone ] || { [ "$2" = journal ] && [ "$4" = kept ]; }; then
		[ -z "$got" ] || printf '\n      %s: got a row: %s' "$2" "$got"
		return 0
	fi
	case $got in
	"") printf '\n      %s: no row' "$2"; return 0 ;;
	*"
"*) printf '\n      %s: more than one row' "$2"; return 0 ;;
	esac
	got_outcome=$(printf '%s' "$got" | cut -f 2)
	got_rule=$(printf '%s' "$got" | cut -f 3)
	got_reason=$(printf '%s' "$got" | cut -f 4)
	want_rule=${5#-}
	if [ "$got_outcome" != "$4" ] || [ "$got_rule" != "$want_rule" ]; then
		printf '\n      %s: got %s%s (%s)' "$2" "$got_outcome" "${got_rule:+ rule=$got_rule}" "$got_reason"
	else
		case $got_reason in
		*"$6"*) ;;
		*) printf '\n      %s: the reason "%s" lacks "%s"' "$2" "$got_reason" "$6" ;;
		esac
	fi
}

# expect_field DIR KIND COLUMN VALUE: one cell of the room's CSV row.
expect_field() {
	got=$(python3 - "$1/candidates.csv" "$(room_id "$2")" "$3" <<'EOF'
import csv, sys
try:
    rows = list(csv.DictReader(open(sys.argv[1], newline="")))
except OSError:
    sys.exit(print("(no CSV)"))
for r in rows:
    if r["room_id"] == sys.argv[2]:
        print(r.get(sys.argv[3], "(no column %s)" % sys.argv[3]))
EOF
)
	if [ "$got" = "$4" ]; then
		ok "$2 $3 $4"
	else
		not_ok "$2 ($(room_id "$2")): $3 expected \"$4\", got \"$got\""
	fi
}

# expect_summary DIR TEXT: the run's last line (its summary) contains TEXT.
expect_summary() {
	got=$(tail -n 1 "$1/err")
	case $got in
	*"$2"*) ok "summary: $2" ;;
	*) not_ok "summary: expected \"$2\" in \"$got\"" ;;
	esac
}

# expect_server KIND STATUS DELETES: what Synapse says of the room now (200
# or 404 on the Admin API) and how many DELETEs of it it received.
expect_server() {
	id=$(room_id "$1")
	status=$(admin_status "$id")
	sent=$(deletes_sent "$id")
	if [ "$status" = "$2" ] && [ "$sent" -eq "$3" ]; then
		ok "$1 answers $2, $3 DELETE sent"
	else
		not_ok "$1 ($id): expected $2 and $3 DELETE, got $status and $sent DELETE"
	fi
}

# expect_state DIR KIND PHASE: the room's delete in DIR's state file.
expect_state() {
	got=$(python3 - "$1/state.json" "$(room_id "$2")" <<'EOF'
import json, sys
try:
    state = json.load(open(sys.argv[1]))
except OSError:
    sys.exit(print("no state file"))
print(state.get("deletes", {}).get(sys.argv[2], {}).get("phase", "none"))
EOF
)
	if [ "$got" = "$3" ]; then
		ok "$2 in the state file: $3"
	else
		not_ok "$2 ($(room_id "$2")): state file says \"$got\", expected \"$3\""
	fi
}

# --- the policy the dry run and the deleting run share ------------------------

# Every protected room is also matched by a delete rule, so a protection
# that does not hold shows as would_delete, and in the deleting run as a
# deleted room. Activity is what this server received (activity: events).
main_policy() {
	policy "$1" <<EOF
dry_run: $2
protect:
  rooms: $earlier
  aliases: ["#victim-4:test.local"]
  names: ["Secret *"]
  creators: ["@notices:*"]
  public: true
  spaces: true
rules:
  - name: abandoned
    action: delete
    match: {joined_local_members: {max: 0}, inactive_for: 0s}
  - name: victims
    action: delete
    match: {name: "Victim *", inactive_for: 0s}
  - name: public-rooms
    action: delete
    match: {public: true, inactive_for: 0s}
  - name: encrypted-rooms
    action: delete
    match: {encrypted: true, inactive_for: 0s}
  - name: old-timers
    action: record
    match: {creator: "@as_*", inactive_for: 0s}
  - name: lonely
    action: delete
    match: {joined_members: {max: 1}, inactive_for: 0s}
delete:
  max_fraction: 1.0
  grace_period: 0s
EOF
}

# The outcome of every room under main_policy: $1 for its delete
# candidates (would_delete, deleted), $2 for VICTIM_3, which the crash case
# deletes before the deleting run.
main_outcomes() {
	cat <<EOF
PUBLIC     protected  -                (protect.public)
PRIVATE    kept       -                no rule matches
DM         kept       -                no rule matches
SPACE      protected  -                (protect.spaces)
EMPTY      $1  abandoned        0 local members
SINGLE     $1  lonely           1 members
CHATTY     kept       -                no rule matches
ENCRYPTED  protected  -                protect.names "Secret *"
NOTICES    protected  -                creator @notices:test.local matches protect.creators
OLD        recorded   old-timers       creator matches "@as_*"
OLD_EMPTY  $1  abandoned        0 local members
VICTIM_1   $1  victims          name matches "Victim *"
VICTIM_2   $1  victims          name matches "Victim *"
VICTIM_3   $2  victims          name matches "Victim *"
VICTIM_4   protected  -                an alias in protect.aliases resolves to this room
EOF
}
main_deleted="EMPTY SINGLE OLD_EMPTY VICTIM_1 VICTIM_2"
main_kept="PUBLIC PRIVATE DM SPACE CHATTY ENCRYPTED NOTICES OLD VICTIM_4"

# --- the cases ---------------------------------------------------------------

case_dry_run() {
	d=$work/dry-run
	main_policy "$d" true
	janitor "$d" --log-target=journal
	expect_exit 0
	read_journal "$d"
	main_outcomes would_delete would_delete >"$d/expected"
	expect_rooms "$d" csv jsonl journal <"$d/expected"
	# The earlier sets' rooms are protected too.
	summary=$(python3 -c 'import json, sys
for e in map(json.loads, sys.stdin):
    if e.get("MESSAGE_ID") == sys.argv[1]: print(e["MESSAGE"])' "$MSGID_RUN_END" <"$d/journal.json")
	case $summary in
	"scanned $((n_rooms + n_earlier)) rooms in "*": 3 kept, 0 kept in doubt, $((5 + n_earlier)) protected, 7 candidates (dry-run, nothing deleted)")
		ok "run-end entry: $summary" ;;
	*) not_ok "run-end entry: expected $n_rooms + $n_earlier rooms scanned, 3 kept, 5 + $n_earlier protected, 7 candidates; got \"$summary\"" ;;
	esac
	for kind in $kinds; do
		expect_server "$kind" 200 0
	done
	# Synapse's Date header was read and agrees with this machine's clock
	if grep -q "has no Date header\|clock check failed" "$d/err" "$d/out"; then
		not_ok "the clock check did not pass: $(grep -h "Date header\|clock check" "$d/err" "$d/out")"
	else
		ok "the clock check passed on Synapse's Date header"
	fi
}

# explain KIND: --explain of the room under $d's policy; output in $d/out.
explain() {
	rc=0
	# shellcheck disable=SC2086 # the wrapper is a command line (valgrind ...)
	timeout 120 ${SJ_TEST_WRAPPER:-} "$sj" -c "$d/policy.yaml" --explain="$(room_id "$1")" \
		>"$d/out" 2>"$d/err" || rc=$?
}

# expect_explained KIND TEXT...: --explain exits 0 and prints each TEXT.
expect_explained() {
	kind=$1
	shift
	explain "$kind"
	missing=""
	for text in "$@"; do
		grep -qF -- "$text" "$d/out" || missing="$missing \"$text\""
	done
	if [ "$rc" -eq 0 ] && [ -z "$missing" ]; then
		ok "--explain $kind: $1"
	else
		not_ok "--explain $kind: exit $rc, missing$missing:
$(sed 's/^/      /' "$d/out" "$d/err")"
	fi
}

# Read-only, on the dry run's policy: the verdicts the dry run reached,
# from the room details and lookups of the real server.
case_explain() {
	d=$work/dry-run
	expect_explained OLD_EMPTY "Verdict of the next run: would_delete (rule abandoned)" \
		"    joined_local_members   0" "(activity: events):"
	expect_explained VICTIM_1 "Verdict of the next run: would_delete (rule victims)"
	expect_explained NOTICES "Verdict of the next run: protected" "@notices:test.local"
	expect_explained CHATTY "Verdict of the next run: kept"
	expect_explained VICTIM_4 "Verdict of the next run: protected" "#victim-4:test.local"
	for kind in OLD_EMPTY VICTIM_1; do
		expect_server "$kind" 200 0
	done
}

# EMPTY and OLD_EMPTY: every local member left, so the room list shows
# their name as null. Their names before that ("Abandoned Room", "Old
# Abandoned Room (2019)") come from /context at the newest event and
# protect them; a name that matches nothing leaves them candidates.
prior_policy() {
	policy "$1" <<EOF
dry_run: true
protect:
  rooms: $earlier
  names: ["$2"]
rules:
  - name: abandoned
    action: delete
    match: {joined_local_members: {max: 0}, inactive_for: 0s}
delete:
  max_fraction: 1.0
EOF
}

# context_reads KIND: the /context requests of the room in Synapse's log.
context_reads() {
	grep -ci "\"GET /_synapse/admin/v1/rooms/$(escape "$(room_id "$1")")/context/" "$server_log" || true
}

case_prior() {
	before_empty=$(context_reads EMPTY)
	before_old=$(context_reads OLD_EMPTY)
	d=$work/prior
	prior_policy "$d" "*Abandoned Room*"
	janitor "$d"
	expect_exit 0
	for kind in EMPTY OLD_EMPTY; do
		expect_field "$d" "$kind" name ""
		expect_field "$d" "$kind" outcome protected
		expect_field "$d" "$kind" reason \
			'name before the last local member left matches protect.names "*Abandoned Room*"'
	done
	if [ "$(context_reads EMPTY)" -gt "$before_empty" ] && [ "$(context_reads OLD_EMPTY)" -gt "$before_old" ]; then
		ok "the state before the leave was read from /context for EMPTY and OLD_EMPTY"
	else
		not_ok "no /context request for EMPTY or OLD_EMPTY in $server_log"
	fi
	d=$work/prior-explain
	prior_policy "$d" "*Abandoned Room*"
	expect_explained OLD_EMPTY "Verdict of the next run: protected" \
		"name before the last local member left matches protect.names"
	d=$work/prior-other
	prior_policy "$d" "Something Else *"
	janitor "$d"
	expect_exit 0
	for kind in EMPTY OLD_EMPTY; do
		expect_field "$d" "$kind" outcome would_delete
	done
}

# Backdated rooms (populate.py sends their messages with ?ts= in 2020 and
# 2019): old by their messages' origin_server_ts, but every event was
# received now, so recent by forward_extremities' received_ts.
activity_policy() {
	policy "$1" <<EOF
dry_run: true
activity: $2
protect:
  rooms: $earlier
rules:
  - name: ancient-empty
    action: delete
    match: {joined_local_members: {max: 0}, inactive_for: 365d}
  - name: stale
    action: record
    match: {inactive_for: 365d}
delete:
  max_fraction: 1.0
EOF
}

case_activity() {
	d=$work/activity-messages
	activity_policy "$d" messages
	janitor "$d"
	expect_exit 0
	# A room without a message was last active when it was created.
	expect_rooms "$d" csv jsonl <<EOF
PUBLIC     protected     -              (protect.public)
PRIVATE    kept          -              no rule matches
DM         kept          -              no rule matches
SPACE      protected     -              (protect.spaces)
EMPTY      kept          -              no rule matches
SINGLE     kept          -              no rule matches
CHATTY     kept          -              no rule matches
ENCRYPTED  kept          -              no rule matches
NOTICES    kept          -              no rule matches
OLD        recorded      stale          inactive for
OLD_EMPTY  would_delete  ancient-empty  0 local members, inactive for
VICTIM_1   kept          -              no rule matches
VICTIM_2   kept          -              no rule matches
VICTIM_3   kept          -              no rule matches
VICTIM_4   kept          -              no rule matches
EOF
	expect_field "$d" OLD last_activity 2020-01-01T00:02:00Z
	expect_field "$d" OLD_EMPTY last_activity 2019-01-01T00:01:00Z

	d=$work/activity-events
	activity_policy "$d" events
	janitor "$d"
	expect_exit 0
	expect_field "$d" OLD outcome kept
	expect_field "$d" OLD inactive_days 0
	expect_field "$d" OLD_EMPTY outcome kept
	expect_field "$d" OLD_EMPTY inactive_days 0
}

# The deleting policy with a token Synapse refuses: exit 1 with the reason
# (synapse-janitor(8), EXIT STATUS), no records, no state, no request that
# changes anything.
token_refused() {
	d=$work/token-$1
	main_policy "$d" false
	printf '%s\n' "$2" >"$d/admin-token"
	janitor "$d"
	expect_exit 1
	if grep -q "token refused: $3" "$d/err"; then
		ok "says: token refused: $3"
	else
		not_ok "stderr lacks \"token refused: $3\""
	fi
	if grep -qF "$2" "$d/out" "$d/err"; then
		not_ok "the refused token was printed"
	else
		ok "the token is not printed"
	fi
	if [ -e "$d/candidates.csv" ] || [ -s "$d/decisions.jsonl" ] || [ -e "$d/state.json" ]; then
		not_ok "something was written: $(ls "$d")"
	else
		ok "no CSV, no JSONL line, no state file"
	fi
}

case_token() {
	token_refused non-admin "$(cat "$base/alice.token")" \
		"the access token does not belong to a server admin"
	token_refused made-up "syt_bm90LWEtdXNlcg_madeUpMadeUpMadeUp_0a1b2c" \
		"the access token is unknown or expired"
	for kind in $kinds; do
		expect_server "$kind" 200 0
	done
}

case_delete() {
	d=$work/delete
	main_policy "$d" false
	janitor "$d"
	expect_exit 0
	expect_summary "$d" "6 candidates: 1 recorded, 5 deleted, 0 failed"
	main_outcomes deleted gone >"$d/expected"
	expect_rooms "$d" csv jsonl <"$d/expected"
	for kind in $main_deleted; do
		expect_server "$kind" 404 1
		expect_state "$d" "$kind" completed
	done
	for kind in $main_kept; do
		expect_server "$kind" 200 0
	done
	expect_server VICTIM_3 404 1
}

# SYNAPSE_JANITOR_TEST_KILL_AT=delete-answered: SIGKILL once Synapse has
# accepted the DELETE, before its delete_id is saved. The next run finds the
# delete by the room's delete status and sends no second DELETE.
case_crash() {
	d=$work/crash
	policy "$d" <<EOF
dry_run: false
protect:
  rooms: $earlier
rules:
  - name: victim-3
    action: delete
    match: {name: "Victim 3", inactive_for: 0s}
delete:
  max_fraction: 1.0
EOF
	expect_server VICTIM_3 200 0
	echo "# this run kills itself (SIGKILL) once Synapse has accepted the DELETE"
	SYNAPSE_JANITOR_TEST_KILL_AT=delete-answered
	export SYNAPSE_JANITOR_TEST_KILL_AT
	janitor "$d"
	unset SYNAPSE_JANITOR_TEST_KILL_AT
	expect_exit 137
	expect_state "$d" VICTIM_3 requested
	if [ -e "$d/candidates.csv" ]; then
		not_ok "the killed run put its CSV in place"
	fi
	janitor "$d"
	expect_exit 0
	expect_server VICTIM_3 404 1
	expect_state "$d" VICTIM_3 completed
	expect_field "$d" VICTIM_3 outcome deleted
}

# --- main ----------------------------------------------------------------------

[ -d "$realsyn" ] || skip "no $realsyn: the real Synapse lives beside the clone, not in a tarball"
command -v python3 >/dev/null || fatal "python3 is needed (scripts/install-deps --test)"
command -v curl >/dev/null || fatal "curl is needed (scripts/install-deps --test)"
start_journald
work=$(mktemp -d "${TMPDIR:-/tmp}/realsyn.XXXXXX")
trap 'status=$?; if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "# kept $work"; fi' EXIT
lock_server
t0=$(clock)
bring_up
earlier=$(earlier_rooms)
n_earlier=$(printf '%s' "$earlier" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
n_rooms=$(echo "$kinds" | wc -w)
echo "# Synapse and a fresh set of $n_rooms rooms in $(since "$t0") s ($n_earlier rooms of earlier sets); program $sj"
for current in dry_run explain prior activity token crash delete; do
	t=$(clock)
	"case_$current"
	echo "# $current: $(since "$t") s"
done
echo "# all: $(since "$t0") s"
echo "1..$n"
[ "$fails" -eq 0 ]
