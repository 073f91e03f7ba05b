#!/usr/bin/env bash
# Backtests of the daily forecasts of revenue, orders, leads and activities on the demo data
# (issue 16, point 2): each must beat the seasonal-naive baseline's WAPE.
# Usage: bash bench/forecast.sh [TRACTION_BINARY]
set -euo pipefail
bin="${1:-target/release/traction}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
at="2026-11-23T12:00:00Z"
"$bin" --db "$dir/demo.db" --at "$at" demo --seed 42 >/dev/null 2>&1
printf '| metric | model | folds × days | MAPE | WAPE | MASE | seasonal naive WAPE | beats naive | seconds |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n'
for metric in revenue orders leads_created activities; do
  start=$(date +%s.%N)
  json=$("$bin" --db "$dir/demo.db" --at "$at" forecast "$metric" --format json)
  end=$(date +%s.%N)
  python3 - "$json" "$(echo "$end - $start" | bc)" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); b = d["backtest"]
pct = lambda x: f"{x * 100:.1f}%"
print(f"| {d['metric']} | {d['model']} | {b['folds']} × {b['horizon']} | {pct(b['mape'])} | {pct(b['wape'])} "
      f"| {b['mase']:.2f} | {pct(b['baseline_wape'])} | {'yes' if b['wape'] < b['baseline_wape'] else 'NO'} "
      f"| {float(sys.argv[2]):.2f} |")
PY
done
