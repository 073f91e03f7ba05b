#!/usr/bin/env python3
"""Heavy reads beside writes (issue 25): does a single write stay fast while metric queries hammer
the server, are heavy requests admitted fairly, and how much memory does the server take?

    python3 bench/heavy_reads.py [--traction target/release/traction] [--scale s|m|l]
                                 [--readers 8] [--seconds 20]

Makes (or reuses) bench/data/heavy-<scale>.db with `traction demo --scale <scale> --at <AT>`,
serves it, and for `--seconds` runs `--readers` clients asking for a metric by owner and day over
November–December at a new `at` each time (inside the range, so no cached answer is served), beside one client logging
activities one after another and one client checking a token on a record read. Prints the
writes' and token checks' rate and p50/p99, the readers' answers by status (200, 429, 503), the
server's peak RSS, and its RSS after 150 s idle (the server gives its caches back after two idle
minutes). Timing belongs here, not in the tests.
"""

import argparse
import http.client
import json
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

AT = "2026-11-23T12:00:00Z"
HERE = pathlib.Path(__file__).resolve().parent


def run(args):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def rss_mb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    return 0


def pct(times, p):
    times = sorted(times)
    return times[min(len(times) - 1, int(len(times) * p))] if times else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--traction", default=str(HERE.parent / "target/release/traction"))
    ap.add_argument("--scale", default="s")
    ap.add_argument("--readers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--idle", type=float, default=150)
    args = ap.parse_args()
    traction = args.traction
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    db = data / f"heavy-{args.scale}.db"
    if not db.exists():
        run([traction, "--db", db, "demo", "--scale", args.scale, "--at", AT])
    subprocess.run([traction, "--db", db, "user", "add", "--id", "heavy-admin", "--name", "Heavy",
                    "--role", "admin"], capture_output=True)
    token = run([traction, "--db", db, "token", "create", "--user", "heavy-admin", "--name", "heavy"]).strip()
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([traction, "--db", db, "serve", "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
        stop = time.perf_counter() + args.seconds
        lock = threading.Lock()
        statuses, reads, writes, checks = {}, [], [], []
        counter = iter(range(10**9))

        def reader(idx):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            n = 0
            while time.perf_counter() < stop:
                n += 1
                at = f"2026-11-{1 + (idx * 7 + n) % 28:02d}T{n % 24:02d}:{idx % 60:02d}:00Z"
                path = (f"/api/v1/metrics/activities?from=2026-11-01&to=2026-12-31&grain=day"
                        f"&by=owner&at={at}")
                t0 = time.perf_counter()
                conn.request("GET", path, headers=headers)
                res = conn.getresponse()
                res.read()
                with lock:
                    statuses[res.status] = statuses.get(res.status, 0) + 1
                    reads.append(time.perf_counter() - t0)
                if res.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                if res.status in (429, 503):
                    time.sleep(float(res.getheader("retry-after", "1")) / 10)

        def writer():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            stamp = int(time.time() * 1000)
            while time.perf_counter() < stop:
                n = next(counter)
                body = json.dumps({"id": f"heavy-{stamp}-{n}", "kind": "call", "owner_id": "heavy-admin",
                                   "occurred_at": "2026-11-20T10:00:00Z"})
                t0 = time.perf_counter()
                conn.request("POST", "/api/v1/activities", body=body, headers=headers)
                res = conn.getresponse()
                res.read()
                if res.status != 201:
                    sys.exit(f"write failed: {res.status}")
                writes.append(time.perf_counter() - t0)

        def checker():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                conn.request("GET", "/api/v1/users/heavy-admin", headers=headers)
                res = conn.getresponse()
                res.read()
                checks.append(time.perf_counter() - t0)
                time.sleep(0.01)

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
        threads += [threading.Thread(target=writer), threading.Thread(target=checker)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        peak = rss_mb(server.pid, "VmHWM")
        after_load = rss_mb(server.pid, "VmRSS")
        print(f"scale {args.scale}, {args.readers} heavy readers, {elapsed:.1f} s, machine: {os.cpu_count()} cores")
        print(f"writes: {len(writes) / elapsed:.1f}/s, p50 {statistics.median(writes) * 1e3:.1f} ms, "
              f"p99 {pct(writes, 0.99) * 1e3:.1f} ms")
        print(f"token checks + record reads: {len(checks)}, p50 {statistics.median(checks) * 1e3:.1f} ms, "
              f"p99 {pct(checks, 0.99) * 1e3:.1f} ms")
        print(f"heavy reads by status: {dict(sorted(statuses.items()))}, p50 {statistics.median(reads) * 1e3:.0f} ms, "
              f"p99 {pct(reads, 0.99) * 1e3:.0f} ms")
        print(f"server RSS: peak {peak} MB, after the load {after_load} MB")
        # Idle: the server gives its caches back after two idle minutes (checked every 30 s).
        waited = 0
        for mark in (60, 120, args.idle):
            if mark > args.idle or mark <= waited:
                continue
            time.sleep(mark - waited)
            waited = mark
            print(f"server RSS after {mark:.0f} s idle: {rss_mb(server.pid, 'VmRSS')} MB")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
