#!/usr/bin/env bash
# Single writes under load (spec: quality.md, Performance: 2,000 writes/s at p99 < 5 ms, every
# acknowledged write durable): a rep logs calls through the HTTP API from 8 keep-alive clients on
# loopback for 20 s, against a release server over the demo data at scale S.
#
#   bash bench/writes.sh [CLIENTS] [SECONDS]
#
# The load generator is crates/traction-server/examples/write_load.rs (std threads, one per
# client). It prints writes/s and the median and p99 latency timed at the client; record the line
# in bench/RESULTS.md with the machine and what else ran on it. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-8}
seconds=${2:-20}
cargo build --release --quiet -p traction
cargo build --release --quiet -p traction-server --example write_load
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
db="$work/writes.db"
traction=target/release/traction
"$traction" --db "$db" demo --seed 42 --scale s --at 2026-11-20T12:00:00Z >/dev/null
# A rep of the demo data (d42-user-4 is one) writes their own calls.
rep=d42-user-4
token=$("$traction" --db "$db" token create --user "$rep" --name bench-writes)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$traction" --db "$db" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
  sleep 0.1
done
# A short warm-up, then the measured run.
target/release/examples/write_load "127.0.0.1:$port" "$token" "$rep" "$clients" 2 >/dev/null
target/release/examples/write_load "127.0.0.1:$port" "$token" "$rep" "$clients" "$seconds"
echo "server peak RSS: $(awk '/VmHWM/ {print int($2/1024) " MB"}' "/proc/$server/status")"
