#!/usr/bin/env python3
"""The dashboard's "why it moved" sentences, timed in a release build (issue 16).

Usage: python3 bench/why.py [TRACTION_BINARY]   (default target/release/traction)

Makes the scale-S demo (seed 42, clock 2026-11-23T12:00:00Z) in a temporary directory, starts
`traction serve` over it with the query cache off (every figure from the tables), and times at the
client over loopback, median of 10 requests each, a new clock second per request:
- each key metric's explanation as the dashboard makes it (`GET /api/v1/explain/{metric}` over the
  month against the previous month like for like, by the first of channel, owner, region, source
  that applies) — the sum is what the sentences cost on one thread;
- the month's dashboard, twice: the first render of the day (the KPI forecasts and their
  backtests are made and kept) and later renders at new clocks (read back).
"""
import os, statistics, subprocess, sys, tempfile, time, urllib.error, urllib.request



def start_server(traction, db, env=None):
    """`traction serve` on a free loopback port, once it answers (as bench.py starts it)."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([traction, "--db", db, "serve", "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/api/v1/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return server, base

AT = "2026-11-23T12:00:00Z"
KEY = ["leads_created", "lead_response_time", "leads_answered_within_hour_rate", "deals_created",
       "calls_made", "meetings_booked", "demos_given", "open_pipeline_value", "deals_won", "revenue_won",
       "win_rate", "average_deal_size", "sales_cycle_days", "revenue", "new_customers", "costs",
       "net_cash_flow", "customer_acquisition_cost", "nps"]
DIMS = ["channel", "owner", "region", "source"]


def main():
    traction = sys.argv[1] if len(sys.argv) > 1 else "target/release/traction"
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "demo.db")
        run = lambda *a: subprocess.run([traction, "--db", db, *a], check=True, capture_output=True, text=True).stdout
        run("--at", AT, "demo", "--seed", "42")
        run("user", "add", "--id", "bench-admin", "--name", "Bench", "--role", "admin")
        token = run("token", "create", "--user", "bench-admin", "--name", "bench").strip()
        headers = {"Authorization": f"Bearer {token}"}

        def get(base, path):
            req = urllib.request.Request(base + path, headers=headers)
            t0 = time.perf_counter()
            with urllib.request.urlopen(req, timeout=120) as r:
                body = r.read()
            return time.perf_counter() - t0, body

        def clock(i):
            return f"{AT[:17]}{i % 60:02d}Z"

        def median(base, path_of, n=10):
            get(base, path_of(59))
            return statistics.median(get(base, path_of(i))[0] for i in range(n))

        server, base = start_server(traction, db, {"TRACTION_QUERY_CACHE": "off"})
        try:
            health = median(base, lambda i: "/api/v1/health")
            # The catalog says which metrics have a driver tree; a metric with neither drivers
            # nor a dimension to split along gets no sentence on the dashboard.
            import json
            catalog = json.loads(get(base, "/api/v1/metrics")[1])["items"]
            trees = {m["name"] for m in catalog if m.get("drivers")}
            rows, total = [], 0.0
            for m in KEY:
                dim = None
                for d in DIMS:
                    try:
                        get(base, f"/api/v1/explain/{m}?from=2026-11-01&to=2026-12-01&by={d}&at={AT}")
                        dim = d
                        break
                    except urllib.error.HTTPError:
                        pass
                if dim is None and m not in trees:
                    rows.append((m, "no sentence: neither drivers nor a dimension", None))
                    continue
                by = f"&by={dim}" if dim else ""
                path = lambda i: f"/api/v1/explain/{m}?from=2026-11-01&to=2026-12-01{by}&at={clock(i)}"
                try:
                    t = median(base, path)
                except urllib.error.HTTPError as e:
                    rows.append((m, dim, None))
                    continue
                total += t - health
                rows.append((m, dim, t))
            print("| metric | split by | median ms |\n| --- | --- | ---: |")
            for m, dim, t in rows:
                print(f"| {m} | {dim or 'drivers only'} | {'–' if t is None else f'{t * 1000:.1f}'} |")
            print(f"\nhealth (the HTTP round trip): {health * 1000:.2f} ms; "
                  f"sum of the explanations less the round trip: {total * 1000:.1f} ms")
            first, _ = get(base, f"/?at={AT}")
            later = median(base, lambda i: f"/?at={clock(i)}")
            print(f"dashboard, month: first render of the day {first * 1000:.1f} ms; "
                  f"later renders at new clocks, median {later * 1000:.1f} ms")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
