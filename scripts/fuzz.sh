#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60) with the machine's
# stable Rust (libFuzzer, no sanitizer: `cargo fuzz -s none`; Rust's own checks catch
# panics, overflows in debug assertions and out-of-bounds access), installing cargo-fuzz
# when missing. Seeds come from ../shared/fabric-vectors when present. Each target's
# figures are appended to results/fuzz.ndjson. A crash is kept in
# fuzz/artifacts/<target>/ and makes the script exit 1: turn it into a regression test.
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 3600       # an hour per target
#   FUZZ_NO_RECORD=1 scripts/fuzz.sh 10    # CI: a short run, nothing recorded
#   FUZZ_TARGETS="envelope identity" scripts/fuzz.sh 3600   # only these targets
#
# SECONDS is wall time (libFuzzer's -max_total_time); the CPU seconds the run really got
# are recorded too, since a run at low priority beside other work gets less than its wall time.
set -euo pipefail
seconds=${1:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz --locked
cd "$top/fuzz"
vectors=$top/../shared/fabric-vectors
seed() { # target, files...
  local dir=corpus/$1; shift
  mkdir -p "$dir"
  for file in "$@"; do [ -f "$file" ] && cp "$file" "$dir/" || true; done
}
seed envelope "$vectors"/envelopes/*.pb
seed seek_info "$vectors"/envelopes/*.pb
seed config_block "$vectors"/genesis/*.block "$vectors"/blocks/*.block
seed identity
seed block_records
seed kafka_message
cargo fuzz build -s none -O
failed=0
for target in ${FUZZ_TARGETS:-$(cargo fuzz list)}; do
  log=$(mktemp)
  started=$(mktemp)
  cpu=$(mktemp)
  status=0
  TIMEFORMAT='%U %S'
  { time cargo fuzz run -s none -O "$target" -- -max_total_time="$seconds" -print_final_stats=1 \
    > "$log" 2>&1 || status=$?; } 2> "$cpu"
  cpu_seconds=$(awk '{ printf "%d", $1 + $2 }' "$cpu")
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  crashes=$(find "artifacts/$target" -type f -newer "$started" 2>/dev/null | wc -l)
  echo "$target: ${seconds}s (${cpu_seconds} s CPU), ${runs:-0} runs, coverage ${coverage:-0}, exit $status, $crashes crash files"
  if [ -z "${FUZZ_NO_RECORD:-}" ]; then
    python3 "$top/results/append_fuzz.py" "$target" "$seconds" "${runs:-0}" "${coverage:-0}" "$status" "$crashes" "$cpu_seconds"
  fi
  if [ "$status" -ne 0 ]; then failed=1; tail -30 "$log"; fi
  rm -f "$log" "$started" "$cpu"
done
exit $failed
