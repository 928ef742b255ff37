#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""What bench/run needs beyond the shell, with the standard library only.

helper.py count STATS_JSON FIELD
    A counter of the test homeserver's /_fake/stats answer: "total",
    "max_concurrent" (requests in flight at once), or the requests to one
    endpoint ("rooms_list", "forward_extremities", ...).

helper.py replay BASE_URL STATS_JSON RECORDS_CSV PAGE_SIZE ROOMS >CONFIG
    A curl config (for curl -K) that repeats the requests a synapse-janitor
    run made, as the test homeserver counted them: the start-up checks, the
    room list pages and the activity lookups. The list pages are the run's
    own URLs (one of `limit=1` for the start-up check, then from=0,
    PAGE_SIZE, ...). The lookups go to the rooms the run's records name with
    an outcome that needed one (all but protected and kept), repeated in
    turn up to the count: the rooms it looked up and then kept are not in
    the records, and one room's answer costs what another's does. On
    stderr, one line saying what the config holds.

helper.py compare RECORDS_CSV RECORDS_CSV
    Whether two runs decided alike: the same rooms with the same rule,
    outcome and last activity (inactive_days, times and reasons move with
    the clock). One line.
"""
import csv
import itertools
import json
import math
import sys
import urllib.parse

ROOMS = "/_synapse/admin/v1/rooms"
FIXED = {
    "server_version": "/_synapse/admin/v1/server_version",
    "whoami": "/_matrix/client/v3/account/whoami",
}
NO_LOOKUP = {"protected", "kept"}


def records(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def count(stats_path, field):
    with open(stats_path) as f:
        stats = json.load(f)
    print(stats[field] if field in ("total", "max_concurrent") else stats["requests"].get(field, 0))


def replay(base, stats_path, records_path, page_size, rooms):
    page_size, rooms = int(page_size), int(rooms)
    with open(stats_path) as f:
        counted = json.load(f)["requests"]
    paths = []
    for ep, path in FIXED.items():
        paths += [path] * counted.get(ep, 0)
    lists = counted.get("rooms_list", 0)
    pages = min(lists, max(1, math.ceil(rooms / page_size)))
    paths += ["%s?from=0&limit=1&order_by=name" % ROOMS] * (lists - pages)
    paths += ["%s?from=%d&limit=%d&order_by=name" % (ROOMS, k * page_size, page_size)
              for k in range(pages)]
    lookups = counted.get("forward_extremities", 0)
    ids = [r["room_id"] for r in records(records_path) if r["outcome"] not in NO_LOOKUP] if lookups else []
    if lookups and not ids:
        sys.exit("helper.py: %s names no room that was looked up" % records_path)
    paths += ["%s/%s/forward_extremities" % (ROOMS, urllib.parse.quote(room, safe=""))
              for room in itertools.islice(itertools.cycle(ids), lookups)]
    for path in paths:
        sys.stdout.write('url = "%s%s"\noutput = "/dev/null"\n' % (base, path))
    left = ["%s %d" % (ep, n) for ep, n in sorted(counted.items())
            if n and ep not in FIXED and ep not in ("rooms_list", "forward_extremities")]
    print("%d start-up checks, %d list pages, %d lookups over %d rooms%s"
          % (len(paths) - lists - lookups, lists, lookups, min(len(ids), lookups),
             "; not repeated: " + ", ".join(left) if left else ""), file=sys.stderr)


def compare(first, second):
    def decisions(path):
        return {r["room_id"]: (r["rule"], r["outcome"], r["last_activity"]) for r in records(path)}

    a, b = decisions(first), decisions(second)
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    if not differ:
        print("the same decisions as run 1 (%d records alike)" % len(a))
        return
    k = differ[0]
    print("DIFFERENT decisions from run 1 in %d of %d records, e.g. %s %s -> %s"
          % (len(differ), len(a.keys() | b.keys()), k,
             "/".join(a.get(k, ("none",))), "/".join(b.get(k, ("none",)))))


COMMANDS = {"count": (count, 2), "replay": (replay, 5), "compare": (compare, 2)}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS or len(sys.argv) - 2 != COMMANDS[sys.argv[1]][1]:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]][0](*sys.argv[2:])
