#!/usr/bin/env bash
# Does the alert evaluator slow the pages? (issue 15, Benchmark: "the evaluator must never slow
# the pages".) The dashboard's median time with no rules, then with 100 rules and an evaluation
# of all of them running back to back the whole time (the worst case: the server evaluates once a
# minute).
#
#   bash bench/monitor-pages.sh m      # s, m or l; default m
#
# The demo data (seed 42, clock 2026-11-23T12:00:00Z) in bench/data/pages-SCALE.db, a release
# `traction serve` on 127.0.0.1:18087, an admin's API token. Each dashboard request asks for a
# different `at` (11:00, 11:01, …), so none is served from the page cache: every one computes.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-m}
n=${N:-25}
port=18087
cargo build --release --quiet -p traction
bin=target/release/traction
mkdir -p bench/data
db=bench/data/pages-$scale.db
rm -f "$db" "$db"-wal "$db"-shm
$bin --db "$db" demo --seed 42 --scale "$scale" --at 2026-11-23T12:00:00Z 2>/dev/null
$bin --db "$db" user add --id bench --name Bench --role admin >/dev/null 2>&1
token=$($bin --db "$db" token create --user bench 2>/dev/null)
$bin --db "$db" serve --listen 127.0.0.1:$port >/tmp/monitor-pages-serve.log 2>&1 &
server=$!
evaluator=""
cleanup() {
  [ -n "$evaluator" ] && kill "$evaluator" 2>/dev/null || true
  kill "$server" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/health" && break; sleep 0.2; done

median() {
  local label=$1 offset=$2
  local times=()
  for i in $(seq 1 "$n"); do
    minute=$(printf "%02d" $(((i + offset) % 60)))
    hour=$((10 - (i + offset) / 60))
    t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port/?at=2026-11-23T$(printf %02d $hour):$minute:00Z")
    times+=("$t")
  done
  python3 -c "import statistics,sys; v=sorted(float(x) for x in sys.argv[2:]); print(f'{sys.argv[1]}: dashboard median {statistics.median(v)*1000:.0f} ms, p90 {v[int(len(v)*0.9)-1]*1000:.0f} ms over {len(v)} requests')" "$label" "${times[@]}"
}

# Warm up (connections, page cache of the file), then without rules.
curl -s -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/?at=2026-11-23T09:00:00Z"
median "scale $scale, no rules" 0

# 100 rules, as bench/monitor.sh makes them.
admin=bench
team=$($bin --db "$db" export teams | awk -F, 'NR==2 {print $1}')
$bin --db "$db" channel add --id app --user "$admin" >/dev/null
at=2026-11-23T10:00:00Z
for i in $(seq 1 10); do
  $bin --db "$db" alert add --id "kpi-$i" --kind kpi --targets current --status at_risk --channel app --at $at >/dev/null
  $bin --db "$db" alert add --id "sla-$i" --kind lead_sla --minutes $((30 * i)) --channel app --at $at >/dev/null
done
k=0
for metric in revenue_won deals_won win_rate average_deal_size leads_created lead_response_time orders revenue; do
  for window in 1h 1d 7d 30d period; do
    for scope in company "team:$team"; do
      k=$((k + 1))
      $bin --db "$db" alert add --id "thr-$k" --kind threshold --metric $metric --scope "$scope" \
        --window $window --op '<' --value 1 --channel app --at $at >/dev/null
    done
  done
done
# Evaluations of the 100 rules back to back in another process, for the whole measurement.
(
  while true; do
    /usr/bin/time -f "%e" -a -o /tmp/monitor-pages-evals.txt $bin --db "$db" alert eval >/dev/null 2>&1 || true
  done
) &
evaluator=$!
rm -f /tmp/monitor-pages-evals.txt
sleep 2
median "scale $scale, 100 rules evaluated back to back" 30
kill "$evaluator" 2>/dev/null || true
evaluator=""
python3 -c "import statistics; v=[float(l) for l in open('/tmp/monitor-pages-evals.txt') if l.strip() and l.strip()[0].isdigit()]; print(f'  {len(v)} evaluations meanwhile, median {statistics.median(v):.2f} s each')" 2>/dev/null || true
