"""Traction side by side with DuckDB and SQLite on the same data (spec: quality.md, Performance).

Run through bench/run.sh. For each scale:
  1. generate the demo data with `traction demo` (timed);
  2. export the entities to CSV with `traction export` (the files DuckDB and SQLite read);
  3. ingest: the activities file imported by Traction into a fresh database, loaded by DuckDB's
     read_csv, and inserted into SQLite by a plain prepared-statement loop in one transaction;
  4. queries: catalog metrics computed by `traction metric … --format json` and by hand-written DuckDB
     SQL (bench/queries.py) over the same data; the answers must be equal.
Timings are medians of several runs on a noisy machine; ratios matter more than absolute figures.
"""

import argparse
import csv
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb

from queries import QUERIES

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 42
AT = "2026-11-23T12:00:00Z"
ENTITIES = [
    "teams", "users", "accounts", "contacts", "campaigns", "pipelines", "stages", "deals",
    "stage_changes", "leads", "activities", "products", "orders", "order_lines",
    "inventory_movements", "costs", "web_visits", "email_events", "surveys", "targets",
]
RUNS = 5


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{res.stderr}")
    return res.stdout


def timed(fn, runs=RUNS):
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def generate(traction, scale):
    db = DATA / f"{scale}.db"
    if db.exists():
        return db, None
    DATA.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    run([traction, "--db", db, "demo", "--scale", scale, "--seed", str(SEED), "--at", AT])
    return db, time.perf_counter() - t0


def export(traction, db, scale):
    folder = DATA / scale
    folder.mkdir(exist_ok=True)
    for entity in ENTITIES:
        path = folder / f"{entity}.csv"
        if not path.exists():
            with open(path, "w") as f:
                subprocess.run([traction, "--db", db, "export", entity], stdout=f, check=True)
    return folder


def rows_of(path):
    with open(path) as f:
        return sum(1 for _ in f) - 1


def ingest(traction, folder, duck):
    """The activities file into Traction, DuckDB and SQLite; rows per second of each."""
    activities = folder / "activities.csv"
    n = rows_of(activities)
    tmp = DATA / "ingest.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    for entity in ["teams", "users", "accounts", "contacts", "campaigns", "pipelines", "stages", "deals", "leads"]:
        run([traction, "--db", tmp, "import", entity, folder / f"{entity}.csv"])
    t0 = time.perf_counter()
    run([traction, "--db", tmp, "import", "activities", activities])
    t_traction = time.perf_counter() - t0

    t0 = time.perf_counter()
    duck.execute(f"CREATE OR REPLACE TEMP TABLE ingest AS SELECT * FROM read_csv('{activities}', header=true)")
    t_duck = time.perf_counter() - t0

    lite_path = DATA / "plain-sqlite.db"
    lite_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    con = sqlite3.connect(lite_path)
    with open(activities) as f:
        reader = csv.reader(f)
        header = next(reader)
        cols = ", ".join(header)
        con.execute(f"CREATE TABLE activities ({cols}, PRIMARY KEY (id))")
        con.executemany(
            f"INSERT INTO activities VALUES ({', '.join('?' for _ in header)})", reader
        )
    con.commit()
    con.close()
    t_lite = time.perf_counter() - t0
    return n, t_traction, t_duck, t_lite


def load_duck(folder, zone):
    duck = duckdb.connect()
    duck.execute(f"SET TimeZone = '{zone}'")
    for entity in ENTITIES:
        path = folder / f"{entity}.csv"
        if rows_of(path) == 0:
            continue
        duck.execute(f"CREATE TABLE {entity} AS SELECT * FROM read_csv('{path}', header=true)")
    return duck


def traction_rows(traction, db, q):
    args = [traction, "--db", db, "metric", q["metric"], "--from", q["from"], "--to", q["to"],
            "--grain", q["grain"], "--at", AT, "--format", "json"]
    if q.get("by"):
        args += ["--by", q["by"]]
    out = json.loads(run(args))
    keys = ["period"] + ([q["by"]] if q.get("by") else [])
    return {tuple(str(r.get(k)) for k in keys): r["value"] for r in out["rows"]}


def duck_rows(duck, q):
    res = duck.execute(q["sql"].format(**{"from": q["from"], "to": q["to"], "at": AT})).fetchall()
    return {tuple(str(c) for c in row[:-1]): row[-1] for row in res}


def equal(a, b):
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if x is None or y is None:
            if x is not y and not (x is None and y is None):
                return False
            continue
        if abs(float(x) - float(y)) > 1e-9 * max(1.0, abs(float(y))):
            return False
    return True


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(traction, db, env=None):
    port = free_port()
    server = subprocess.Popen([traction, "--db", db, "serve", "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/api/v1/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return server, base


def peak_rss_mb(server):
    with open(f"/proc/{server.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def web_pages(traction, db):
    """The web app's pages served by `traction serve` over this database: each page requested 20
    times after a warm-up, timed at the client over loopback (the whole HTTP round trip), with
    the page's size and the server's peak memory. The dashboard is timed after real changes (an
    activity logged, a deal won, both through the API), at a new clock with no change, with the
    query cache turned off (every figure computed from the tables), and unchanged (page cache)."""
    # On a copy: the pages are timed after writes, and the data must stay as exported.
    copy = db.with_name(db.stem + "-web.db")
    for stale in [copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")]:
        stale.unlink(missing_ok=True)
    run([traction, "--db", db, "backup", copy])
    db = copy
    # The bench user may exist from an earlier run over the same database.
    subprocess.run([traction, "--db", db, "user", "add", "--id", "bench-admin", "--name", "Bench", "--role", "admin"],
                   capture_output=True)
    # `token create` prints the token alone on stdout (its notes go to stderr).
    token = run([traction, "--db", db, "token", "create", "--user", "bench-admin", "--name", "bench"]).strip()
    headers = {"Authorization": f"Bearer {token}"}

    def call(base, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(base + path, data=data,
                                     headers={**headers, "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()

    out = []

    def measure(base, name, paths, before=None):
        call(base, paths[0])
        times = []
        body = b""
        for i in range(20):
            if before:
                before(i)
            path = paths[i % len(paths)]
            t0 = time.perf_counter()
            body = call(base, path)
            times.append(time.perf_counter() - t0)
        times.sort()
        out.append((name, statistics.median(times), times[int(len(times) * 0.9) - 1], len(body)))

    # A clock per request: the dashboard's page cache misses (the figures are as of that clock).
    at = [f"{AT[:17]}{i:02d}Z" for i in range(1, 21)]
    dashboards = [f"/?at={a}" for a in at]
    server, base = start_server(traction, db, {"TRACTION_QUERY_CACHE": "off"})
    try:
        measure(base, "dashboard, month, nothing cached (every figure from the tables)", dashboards)
        measure(base, "dashboard, quarter, nothing cached", [f"/?period=quarter&at={a}" for a in at])
    finally:
        server.terminate()
        server.wait()
    server, base = start_server(traction, db)
    try:
        stamp = int(time.time() * 1000)

        def log_activity(i):
            call(base, "/api/v1/activities", {
                "id": f"bench-activity-{stamp}-{i}", "kind": "call", "direction": "outbound",
                "outcome": "connected", "owner_id": "d42-user-4", "occurred_at": f"{AT[:14]}3{i % 10}:00Z"})

        open_deals = json.loads(call(base, "/api/v1/deals?status=open&limit=40"))["items"]
        stages = json.loads(call(base, "/api/v1/stages?limit=500"))["items"]
        won = {s["pipeline_id"]: s["id"] for s in stages if s["kind"] == "won"}

        def win_deal(i):
            deal = open_deals[i]
            call(base, f"/api/v1/deals/{urllib.parse.quote(deal['id'])}/move", {"stage_id": won[deal["pipeline_id"]]})

        measure(base, "dashboard, month, after an activity is logged (API)", dashboards, log_activity)
        measure(base, "dashboard, month, after a deal is won (API)", dashboards, win_deal)
        measure(base, "dashboard, month, new clock, no change", dashboards)
        measure(base, "dashboard, month, unchanged (page cache)", ["/"])
        measure(base, "dashboard, quarter, new clock, no change", [f"/?period=quarter&at={a}" for a in at])
        for name, path in [("today", "/today?scope=company"), ("pipeline board", "/pipeline"),
                           ("leads", "/leads"), ("explorer (revenue won by week and owner)", "/explore?metric=revenue_won&grain=week&by=owner")]:
            measure(base, name, [path])
        return out, peak_rss_mb(server)
    finally:
        server.terminate()
        server.wait()


def writes(traction, db):
    """Single writes through the HTTP API (logging one activity, as a rep does after a call): one
    client after another, then several clients at once for a few seconds (keep-alive connections
    on loopback; the load generator is this Python script, on the same two cores as the server),
    and the time until a client of the event stream sees the write."""
    import http.client
    import threading
    token = run([traction, "--db", db, "token", "create", "--user", "bench-admin", "--name", "bench-writes"]).strip()
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    server, base = start_server(traction, db)
    port = int(base.rsplit(":", 1)[1])
    stamp = int(time.time() * 1000)
    counter = iter(range(10**9))

    def activity():
        n = next(counter)
        return f"bench-write-{stamp}-{n}", json.dumps({
            "id": f"bench-write-{stamp}-{n}", "kind": "call", "direction": "outbound",
            "outcome": "connected", "owner_id": "d42-user-4", "occurred_at": f"{AT[:14]}{n % 60:02d}:00Z"})

    def post(conn):
        _, body = activity()
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/activities", body=body, headers=headers)
        res = conn.getresponse()
        res.read()
        if res.status != 201:
            sys.exit(f"write failed: {res.status}")
        return time.perf_counter() - t0

    def pct(times, p):
        times = sorted(times)
        return times[min(len(times) - 1, int(len(times) * p))]

    out = {}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(20):
            post(conn)
        seq = [post(conn) for _ in range(500)]
        out["sequential"] = (len(seq) / sum(seq), statistics.median(seq), pct(seq, 0.99))
        conn.close()
        # Several clients at once, for a fixed time.
        lat, stop = [], time.perf_counter() + 5
        lock = threading.Lock()

        def client():
            c = http.client.HTTPConnection("127.0.0.1", port)
            mine = []
            while time.perf_counter() < stop:
                mine.append(post(c))
            with lock:
                lat.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(8)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out["8 clients"] = (len(lat) / (time.perf_counter() - t0), statistics.median(lat), pct(lat, 0.99))
        # The event stream: the time from sending a write to the event arriving at a listener.
        seen = {}
        ready = threading.Event()

        def listen():
            c = http.client.HTTPConnection("127.0.0.1", port)
            c.request("GET", "/api/v1/events", headers=headers)
            res = c.getresponse()
            ready.set()
            while len(seen) < 20:
                line = res.fp.readline().decode()
                if not line:
                    break
                if line.startswith("data:") and "bench-write" in line:
                    seen[json.loads(line[5:])["id"]] = time.perf_counter()

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        ready.wait(10)
        time.sleep(0.2)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        sent = {}
        for _ in range(20):
            key, body = activity()
            sent[key] = time.perf_counter()
            conn.request("POST", "/api/v1/activities", body=body, headers=headers)
            conn.getresponse().read()
            time.sleep(0.05)
        listener.join(10)
        delays = [seen[k] - sent[k] for k in sent if k in seen]
        out["event stream"] = (len(delays), statistics.median(delays) if delays else None, max(delays) if delays else None)
        out["rss"] = peak_rss_mb(server)
        return out
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--traction", required=True)
    parser.add_argument("scales", nargs="+")
    args = parser.parse_args()
    traction = str(Path(args.traction).resolve())
    lines = []
    for scale in [s.lower() for s in args.scales]:
        db, gen_secs = generate(traction, scale)
        zone = json.loads(run([traction, "--db", db, "config", "get", "timezone", "--format", "json"]))["items"][0]["value"]
        folder = export(traction, db, scale)
        total_rows = sum(rows_of(folder / f"{e}.csv") for e in ENTITIES)
        duck = load_duck(folder, zone)
        n, t_tr, t_duck, t_lite = ingest(traction, folder, duck)
        lines.append(f"\n## Scale {scale.upper()}: {total_rows:,} rows in all (time zone {zone})\n")
        if gen_secs is not None:
            lines.append(f"Demo data generated and stored in {gen_secs:.1f} s ({total_rows / gen_secs:,.0f} rows/s).\n")
        lines.append("\n### Ingest: the activities file\n")
        lines.append("| engine | seconds | rows/s | times as fast as Traction |\n| --- | ---: | ---: | ---: |")
        for name, secs in [("Traction `import` (validated, atomic)", t_tr), ("DuckDB `read_csv`", t_duck),
                           ("SQLite prepared-statement loop, one transaction", t_lite)]:
            lines.append(f"| {name} | {secs:.2f} | {n / secs:,.0f} | {t_tr / secs:.2f}× |")
        lines.append(f"\n{n:,} rows.\n")
        lines.append("\n### Queries (median of 5 runs; Traction end to end through the CLI, DuckDB in-process and warm)\n")
        lines.append("| query | Traction ms | DuckDB ms | Traction / DuckDB | same answer |\n| --- | ---: | ---: | ---: | :---: |")
        for q in QUERIES:
            t_t, ours = timed(lambda: traction_rows(traction, db, q))
            t_d, theirs = timed(lambda: duck_rows(duck, q))
            same = equal(ours, theirs)
            if not same:
                print(f"MISMATCH {q['name']}:\n traction {sorted(ours.items())[:5]}\n duckdb   {sorted(theirs.items())[:5]}", file=sys.stderr)
            lines.append(f"| {q['name']} | {t_t * 1000:.1f} | {t_d * 1000:.1f} | {t_t / t_d:.2f} | {'yes' if same else '**no**'} |")
        print("\n".join(lines[-(len(QUERIES) + 2):]))
        pages, rss = web_pages(traction, db)
        lines.append("\n### Web pages (`traction serve`, 20 warm requests each, timed at the client over loopback)\n")
        lines.append("| page | median ms | p90 ms | HTML bytes |\n| --- | ---: | ---: | ---: |")
        for name, med, p90, size in pages:
            lines.append(f"| {name} | {med * 1000:.1f} | {p90 * 1000:.1f} | {size:,} |")
        lines.append(f"\nServer peak RSS over the page requests: {rss} MB.\n")
        print("\n".join(lines[-(len(pages) + 4):]))
        w = writes(traction, DATA / f"{scale}-web.db")
        lines.append("\n### Single writes: one activity logged through the API (`POST /api/v1/activities`, loopback)\n")
        lines.append("| load | writes/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |")
        for name in ["sequential", "8 clients"]:
            rate, p50, p99 = w[name]
            label = "one client, one write after another" if name == "sequential" else "8 clients at once for 5 s (Python load generator on the same 2 cores)"
            lines.append(f"| {label} | {rate:,.0f} | {p50 * 1000:.1f} | {p99 * 1000:.1f} |")
        n, med, worst = w["event stream"]
        if med is not None:
            lines.append(f"\nA listener on the event stream (`GET /api/v1/events`) saw {n} of 20 writes, a median of "
                         f"{med * 1000:.1f} ms after each was sent (at most {worst * 1000:.1f} ms). Server peak RSS: {w['rss']} MB.\n")
        print("\n".join(lines[-6:]))
    header = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"DuckDB {duckdb.__version__}; date {time.strftime('%Y-%m-%d', time.gmtime())}.",
        f"Command: `bash bench/run.sh {' '.join(args.scales)}`. Data: `traction demo --seed {SEED} --at {AT}`.",
        "Traction's query times include starting the process and opening the database; DuckDB's do not.",
        "",
        "Traction answers from SQLite row tables with a plan per query, covering indexes, and customers",
        "kept at write time (the customer metrics read one row per customer); DuckDB scans columns in",
        "memory. Every answer is checked equal to DuckDB's (hand-written SQL in bench/queries.py). The",
        "CLI queries start a process each time, so nothing is cached between runs. Ingest: Traction",
        "validates every row and reference and commits atomically; the plain SQLite loop checks nothing;",
        "DuckDB loads columns without keys. Web pages: the server keeps query results until a table they",
        "read is written; \"nothing cached\" runs it with TRACTION_QUERY_CACHE=off.",
    ]
    (HERE / "RESULTS.md").write_text("\n".join(header + lines) + "\n")
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
