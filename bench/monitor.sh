#!/usr/bin/env bash
# The cost of one alert evaluation of 100 rules on the demo data (issue 15, Benchmark).
#
#   bash bench/monitor.sh s m      # any of s, m, l
#
# For each scale: the demo data (seed 42, clock 2026-11-23T12:00:00Z) in bench/data/monitor-S.db,
# 100 rules notifying one in-app channel (no network): 10 kpi rules on every current target, 80
# threshold rules (8 metrics × 5 windows × company and the first team), 10 lead SLA rules; then
# five evaluations a minute apart, each its own process (`alert eval --at T`), timed end to end.
# The server runs the same evaluation on a thread of its own once a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("$@")
[ ${#scales[@]} -eq 0 ] && scales=(s m)
cargo build --release --quiet -p traction
bin=target/release/traction
mkdir -p bench/data
for scale in "${scales[@]}"; do
  db=bench/data/monitor-$scale.db
  rm -f "$db" "$db"-wal "$db"-shm
  $bin --db "$db" demo --seed 42 --scale "$scale" --at 2026-11-23T12:00:00Z 2>/dev/null
  admin=$($bin --db "$db" export users | awk -F, 'NR>1 && /,admin,/ {print $1; exit}')
  team=$($bin --db "$db" export teams | awk -F, 'NR==2 {print $1}')
  $bin --db "$db" channel add --id app --user "$admin" >/dev/null
  at=2026-11-23T10:00:00Z
  for i in $(seq 1 10); do
    $bin --db "$db" alert add --id "kpi-$i" --kind kpi --targets current --status at_risk --channel app --at $at >/dev/null
    $bin --db "$db" alert add --id "sla-$i" --kind lead_sla --minutes $((30 * i)) --channel app --at $at >/dev/null
  done
  n=0
  for metric in revenue_won deals_won win_rate average_deal_size leads_created lead_response_time orders revenue; do
    for window in 1h 1d 7d 30d period; do
      for scope in company "team:$team"; do
        n=$((n + 1))
        $bin --db "$db" alert add --id "thr-$n" --kind threshold --metric $metric --scope "$scope" \
          --window $window --op '<' --value 1 --channel app --at $at >/dev/null
      done
    done
  done
  echo "scale $scale: $($bin --db "$db" alert list --format csv | tail -n +2 | wc -l) rules"
  for minute in 01 02 03 04 05; do
    /usr/bin/time -f "  eval at 12:$minute: %e s wall, %U s user, %M KB" \
      $bin --db "$db" alert eval --at "2026-11-23T12:$minute:00Z" --format json > /tmp/monitor-eval.json
    python3 -c "import json; d=json.load(open('/tmp/monitor-eval.json')); print('   ', len(d['transitions']), 'transitions,', d['notifications'], 'notifications,', len(d['errors']), 'errors')"
  done
done
