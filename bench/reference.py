#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reference approach the benchmark compares against: what admins run
today (the oldrooms.py kind of script), with the Python standard library
only. It pages the room list sequentially, fetches the last activity of
every room one request at a time, decides, and writes results.csv.

usage: reference.py URL TOKEN_FILE OUT_CSV [--inactive-days N] [--page-size N]
"""
import csv
import json
import sys
import time
import urllib.parse
import urllib.request


def get(opener, base, path, token):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with opener.open(req, timeout=30) as resp:
        return json.loads(resp.read())


def main(argv):
    url, token_file, out = argv[1], argv[2], argv[3]
    inactive_days = 90
    page_size = 500
    args = argv[4:]
    while args:
        if args[0] == "--inactive-days":
            inactive_days = int(args[1])
        elif args[0] == "--page-size":
            page_size = int(args[1])
        args = args[2:]
    with open(token_file) as f:
        token = f.read().strip()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    now_ms = int(time.time() * 1000)
    requests = 0
    rows = []
    start = 0
    while True:
        page = get(opener, url, "/_synapse/admin/v1/rooms?from=%d&limit=%d&order_by=name"
                   % (start, page_size), token)
        requests += 1
        for room in page["rooms"]:
            rid = urllib.parse.quote(room["room_id"], safe="")
            ext = get(opener, url, "/_synapse/admin/v1/rooms/%s/forward_extremities" % rid, token)
            requests += 1
            last = max((e["received_ts"] for e in ext.get("results", [])), default=None)
            inactive = None if last is None else (now_ms - last) // 86400000
            delete = (room["joined_local_members"] == 0 and inactive is not None
                      and inactive >= inactive_days)
            rows.append([room["room_id"], room.get("name") or "", room["joined_members"],
                         room["joined_local_members"], "" if inactive is None else inactive,
                         "yes" if delete else "no"])
        if "next_batch" not in page:
            break
        start = page["next_batch"]
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["room_id", "name", "joined_members", "joined_local_members",
                    "inactive_days", "delete"])
        w.writerows(rows)
    print("reference: %d rooms, %d requests" % (len(rows), requests))


if __name__ == "__main__":
    main(sys.argv)
