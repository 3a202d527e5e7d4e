#!/usr/bin/env bash
# How the orderer's figures move with the number of signers and of channels, measured as
# ratios within one run: `orderer benchmark` (in-process solo, release build, the
# canonical workload otherwise: 1 KiB envelopes signed before the clock and verified by
# the orderer, batch 500 / 2 s, closed loop, 200,000 envelopes) invoked in alternating
# rounds; the invocations of one study share a --run-id. Records go to
# results/benchmark.ndjson; results/README.md gets the "Signers" and "Channels" tables
# (medians over rounds, each point against the first of its run).
#   signers   --signers 1, then --signers N (default 1,000): N client identities of the
#             channel's org, round robin. Past the first 64 frequent signers a channel
#             verifies by ring instead of a key table (engine::access::KEY_TABLES_MAX),
#             so this shows what a network of many clients costs.
#   channels  1, 2, 4 and 8 channels with 8 Broadcast streams in all (8, 4, 2 and 1 per
#             channel) and one Deliver client per channel.
#
#   scripts/scaling.sh [--rounds R] [--study signers|channels|both] [--signers N]
#       [--total N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

rounds=3
study=both
signers=1000
total=200000
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --study) study=$2; shift 2 ;;
    --signers) signers=$2; shift 2 ;;
    --total) total=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "scaling.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $study =~ ^(signers|channels|both)$ ]] || { echo "scaling.sh: --study signers, channels or both" >&2; exit 2; }

cargo build --release --locked -p orderer
bench() { target/release/orderer benchmark --quiet --total "$total" "$@"; }
channels_of() { local n=$1; seq -s, -f "channel%g" 1 "$n"; }

if [[ $study != channels ]]; then
  run_id=$(date +%s%N | cut -c1-16)
  for round in $(seq "$rounds"); do
    for n in 1 "$signers"; do
      echo "== signers: round $round of $rounds, --signers $n (run $run_id)"
      bench --run-id "$run_id" --signers "$n"
    done
  done
fi
if [[ $study != signers ]]; then
  run_id=$(date +%s%N | cut -c1-16)
  for round in $(seq "$rounds"); do
    for n in 1 2 4 8; do
      echo "== channels: round $round of $rounds, $n channels x $((8 / n)) streams (run $run_id)"
      bench --run-id "$run_id" --channels "$(channels_of "$n")" --broadcasters $((8 / n))
    done
  done
fi
python3 results/tables.py
