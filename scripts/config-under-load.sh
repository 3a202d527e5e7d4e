#!/usr/bin/env bash
# A config update under load, as the issue asks: "a config update while loadgen runs at
# 50% of max: no envelope lost, the new BatchSize visible in the next blocks; the
# throughput dip recorded in results/". Two steps in one sitting, sharing a --run-id:
#   1. max: `orderer benchmark` (release, in-process solo, the canonical workload: closed
#      loop, 200,000 signed 1 KiB envelopes, batch 500 / 2 s). Its record
#      (results/benchmark.ndjson) gives this machine's max now: the tx/s delivered while
#      sending.
#   2. under load: `orderer benchmark --rate <fraction x max> --duration D
#      --config-update-at T --new-max-message-count N`: open loop at that rate while, T s
#      in, an admin of the channel's org broadcasts a CONFIG_UPDATE setting
#      BatchSize.MaxMessageCount from 500 to N. Its record (results/config-update.ndjson)
#      holds the answer, the config block, the most envelopes per block before and after
#      it, loadgen's missing/duplicate counts and the delivered rate in 250 ms buckets
#      with the dip around the update. The benchmark exits non-zero when an envelope is
#      lost or the update did not do what it must; the script then stops.
# Then results/README.md is regenerated ("Config update under load").
#
#   scripts/config-under-load.sh [--fraction 0.5] [--duration 30] [--at 10]
#       [--new-max-message-count 100] [--rounds 1] [--consensus solo|kafka]
#
# --consensus kafka measures the max and runs the update on Kafka (a local broker per
# invocation; `orderer benchmark --consensus kafka` runs solo first, so each step records
# solo and Kafka, and the half rate is taken from the Kafka max). The local broker slows
# down past about 100k messages, so the max is measured on 50,000 envelopes there: keep
# --duration short too (e.g. --duration 5 --at 2).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

fraction=0.5
duration=30
at=10
new_max=100
rounds=1
consensus=solo
while (($#)); do
  case $1 in
    --fraction) fraction=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --at) at=$2; shift 2 ;;
    --new-max-message-count) new_max=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --consensus) consensus=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "config-under-load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $consensus =~ ^(solo|kafka)$ ]] || { echo "config-under-load.sh: --consensus solo or kafka" >&2; exit 2; }

cargo build --release --locked -p orderer
bench() { target/release/orderer benchmark --quiet --consensus "$consensus" "$@"; }
max_flags=()
[[ $consensus == kafka ]] && max_flags=(--total 50000)

# The max of run $1 and $consensus: its closed-loop record's delivered-while-sending tx/s.
max_of_run() {
  python3 - "$1" "$consensus" <<'EOF'
import json, sys
run_id, consensus = int(sys.argv[1]), sys.argv[2]
best = None
with open("results/benchmark.ndjson") as f:
    for line in f:
        r = json.loads(line)
        o = r["params"].get("orderer", {})
        if r.get("kind") == "benchmark" and o.get("run_id") == run_id and o.get("consensus") == consensus:
            best = r["figures"]["throughput_steady_tps"]
if best is None:
    sys.exit(f"no {consensus} benchmark record of run {run_id} in results/benchmark.ndjson")
print(f"{best:.0f}")
EOF
}

for round in $(seq "$rounds"); do
  run_id=$(date +%s%N | cut -c1-16)
  echo "== round $round of $rounds (run $run_id): max, closed loop"
  bench --run-id "$run_id" "${max_flags[@]}"
  max=$(max_of_run "$run_id")
  rate=$(python3 -c "print(round($max * $fraction))")
  echo "== round $round of $rounds (run $run_id): max $max tx/s; $rate tx/s for $duration s," \
    "MaxMessageCount 500 -> $new_max at $at s"
  bench --run-id "$run_id" --rate "$rate" --duration "$duration" \
    --config-update-at "$at" --new-max-message-count "$new_max"
done
python3 results/tables.py
