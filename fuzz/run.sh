#!/usr/bin/env bash
# Run fuzz targets one after another, each for SECONDS (default 600), at the
# lowest priority and on one core, logging to fuzz/logs/<target>.log.
# FUZZ_MAX_LEN: the longest input (default 65536; EVTX seeds need 69632).
# Usage: fuzz/run.sh SECONDS target...
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
secs="${1:-600}"; shift
mkdir -p "$here/logs"
cd "$here"
for t in "$@"; do
  [ -d "corpus/$t" ] || ./seed.sh "$t"
  nice -n 19 cargo fuzz build "$t" --sanitizer none >"logs/$t.build.log" 2>&1 || { echo "$t: build failed" >&2; continue; }
  start=$(date -u +%FT%TZ)
  nice -n 19 cargo fuzz run "$t" --sanitizer none "corpus/$t" -- \
    -max_total_time="$secs" -jobs=1 -workers=1 -max_len="${FUZZ_MAX_LEN:-65536}" -rss_limit_mb=4096 -timeout=30 \
    >"logs/$t.log" 2>&1
  rc=$?
  # With -jobs, libFuzzer's worker writes its own log (fuzz-0.log) in the
  # working directory: keep it beside the target's log.
  for f in fuzz-0.log ../fuzz-0.log; do [ -f "$f" ] && mv -f "$f" "logs/$t.job.log"; done
  done_line=$(grep -h '^Done ' "logs/$t.log" "logs/$t.job.log" 2>/dev/null | tail -1)
  crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
  echo "$t start=$start end=$(date -u +%FT%TZ) rc=$rc artifacts=$crashes $done_line" >> logs/summary.txt
done
