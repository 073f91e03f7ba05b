#!/usr/bin/env bash
# Peak RSS of `traction serve` importing a ~50 MB file through the web import page (issue 19
# point 6: the page streams the upload instead of holding it in memory).
#
#   bash bench/upload.sh                 # the debug build in target/debug
#   BIN=path/to/traction bash bench/upload.sh
#
# A fresh database, an admin's API token, 1,280,000 web visits (4,000 days × 320 sources, about
# 50 MB) posted as multipart to /import like the page's form; the server's peak RSS (VmHWM) read
# from /proc after the answer, and the rows the page reports. Then the same file through
# `traction import` into another fresh database, the import path the page should keep pace with
# (wall time and peak RSS from /usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/debug/traction}
port=${PORT:-18093}
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
db=$dir/upload.db
$bin --db "$db" user add --id bench --name Bench --role admin >/dev/null 2>&1
token=$($bin --db "$db" token create --user bench 2>/dev/null)
python3 - "$dir/visits.csv" <<'PY'
import datetime, sys
start = datetime.date(2001, 1, 1)
with open(sys.argv[1], "w") as f:
    f.write("day,source,visitors\n")
    for d in range(4000):
        day = (start + datetime.timedelta(days=d)).isoformat()
        f.write("".join(f"{day},upload-bench-source-{s:03},{(d * 7 + s) % 1000}\n" for s in range(320)))
PY
size=$(stat -c %s "$dir/visits.csv")
$bin --db "$db" serve --listen 127.0.0.1:$port >"$dir/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/health" && break; sleep 0.2; done
before=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
start=$(date +%s.%N)
curl -s -o "$dir/page.html" -w '%{http_code}\n' -H "Authorization: Bearer $token" \
  -F entity=web_visits -F "file=@$dir/visits.csv;filename=visits.csv" \
  "http://127.0.0.1:$port/import"
end=$(date +%s.%N)
peak=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
grep -o 'Imported [^<]*' "$dir/page.html" || { echo "no import:"; head -c 2000 "$dir/page.html"; }
python3 -c "import sys; s,b,p,t0,t1=map(float,sys.argv[1:]); print(f'file {s/1e6:.1f} MB; server peak RSS before the upload {b/1024:.0f} MB, after {p/1024:.0f} MB; request {t1-t0:.1f} s')" \
  "$size" "$before" "$peak" "$start" "$end"
kill "$server" 2>/dev/null || true
$bin --db "$dir/cli.db" user add --id bench --name Bench --role admin >/dev/null 2>&1
/usr/bin/time -f 'the same file through `traction import`: %e s, peak RSS %M KB' \
  $bin --db "$dir/cli.db" import web_visits "$dir/visits.csv" >/dev/null
