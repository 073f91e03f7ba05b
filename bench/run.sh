#!/usr/bin/env bash
# The benchmark: Traction side by side with DuckDB and SQLite on the same data, in one run.
#
#   bash bench/run.sh            # scales S and M
#   bash bench/run.sh s m l      # any of s, m, l (L is ~10M rows: generation takes minutes)
#
# It builds Traction in release mode, installs DuckDB from PyPI into bench/.venv, generates the demo
# data at each scale (seed 42, clock 2026-11-23T12:00:00Z) into bench/data/, and writes the results
# to bench/RESULTS.md. Not part of the test suite: timings never decide a test.
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("$@")
[ ${#scales[@]} -eq 0 ] && scales=(s m)
cargo build --release --quiet -p traction
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
bench/.venv/bin/pip install --quiet --disable-pip-version-check duckdb pytz
bench/.venv/bin/python bench/bench.py --traction target/release/traction "${scales[@]}"
