#!/usr/bin/env bash
# Runs the fault tests — 20 SIGKILLs of a loaded orderer in each acknowledgement mode, a
# full disk under a running orderer, envelope by envelope and under the load of four
# streams (mounts a tmpfs: needs root), a paused Kafka broker, alone and under load
# (starts the local tansu) — and appends each one's figures (acknowledged, missing, how
# long ordering stopped) to results/faults.ndjson. The tests assert what they claim
# either way; CI runs them without recording.
#
#   scripts/faults.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test -p orderer --locked --test crash_soak --test storage_faults --test kafka_consensus -- \
  --nocapture --test-threads=1 durable_acks enqueue_acks a_full_disk a_disk_filling a_paused_broker a_broker_paused 2>&1 | tee "$log"
python3 results/append_faults.py < "$log"
python3 results/tables.py
